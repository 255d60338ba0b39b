"""Autograd semantics: no_grad, accumulation, broadcasting in backward, graph release, deep
graphs, explicit gradients, detach, user-defined Functions; and Tensor basics (dtypes, repr)."""

from __future__ import annotations

import gc
import threading
import weakref

import numpy as np
import pytest

import tinydl
from tinydl import Function, Tensor
from tinydl.utils import gradcheck


# ----------------------------------------------------------------------------- no_grad

def test_no_grad_records_no_graph():
    x = Tensor([1.0, 2.0], requires_grad=True)
    with tinydl.no_grad():
        y = (x * x).sum()
    assert y.requires_grad is False
    assert y._node is None
    with pytest.raises(RuntimeError, match="does not require grad"):
        y.backward()
    # recording resumes after the block
    z = (x * x).sum()
    assert z.requires_grad
    z.backward()
    np.testing.assert_array_equal(x.grad, [2.0, 4.0])


def test_no_grad_restores_the_previous_state_after_an_exception():
    from tinydl.autograd import is_grad_enabled
    with pytest.raises(KeyError):
        with tinydl.no_grad():
            raise KeyError("boom")
    assert is_grad_enabled()


def _records_graph() -> bool:
    x = Tensor([1.0], requires_grad=True)
    return (x * x).requires_grad


def _in_thread(fn):
    """fn() run in a new thread; returns its result (or raises what it raised)."""
    result = {}

    def run():
        try:
            result["value"] = fn()
        except BaseException as error:  # noqa: BLE001  (handed back to the test)
            result["error"] = error
    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=30)
    if "error" in result:
        raise result["error"]
    return result["value"]


def test_no_grad_in_another_thread_leaves_this_thread_recording():
    inside, release = threading.Event(), threading.Event()

    def other():
        with tinydl.no_grad():
            inside.set()
            release.wait(timeout=30)
            return _records_graph()
    thread_result = []
    thread = threading.Thread(target=lambda: thread_result.append(other()))
    thread.start()
    try:
        assert inside.wait(timeout=30)
        assert tinydl.is_grad_enabled() and _records_graph()
    finally:
        release.set()
        thread.join(timeout=30)
    assert thread_result == [False]


def test_interleaved_no_grad_blocks_in_two_threads_leave_grad_on_everywhere():
    """A enters, B enters, A leaves, B leaves: with one shared flag B restored A's 'off'."""
    a_in, b_in, a_out = threading.Event(), threading.Event(), threading.Event()

    def a():
        with tinydl.no_grad():
            a_in.set()
            b_in.wait(timeout=30)
        a_out.set()

    def b():
        a_in.wait(timeout=30)
        with tinydl.no_grad():
            b_in.set()
            a_out.wait(timeout=30)
        return tinydl.is_grad_enabled()
    thread = threading.Thread(target=a)
    thread.start()
    assert _in_thread(b) is True
    thread.join(timeout=30)
    assert tinydl.is_grad_enabled() and _records_graph()


def test_a_new_thread_starts_with_grad_on_even_when_started_inside_no_grad():
    with tinydl.no_grad():
        assert _in_thread(tinydl.is_grad_enabled) is True
        assert not tinydl.is_grad_enabled()


def test_no_grad_as_a_decorator_with_and_without_parentheses():
    @tinydl.no_grad
    def bare():
        return _records_graph()

    @tinydl.no_grad()
    def called():
        return _records_graph()
    assert bare() is False and called() is False
    assert bare.__name__ == "bare"
    assert _records_graph()


def test_no_grad_refuses_to_decorate_a_generator_function():
    def batches():
        yield 1
    with pytest.raises(TypeError, match="generator function 'batches'"):
        tinydl.no_grad(batches)


def test_one_no_grad_instance_nests_and_restores():
    switch = tinydl.no_grad()
    with switch:
        with switch:
            assert not tinydl.is_grad_enabled()
        assert not tinydl.is_grad_enabled()
    assert tinydl.is_grad_enabled()


def test_enable_grad_records_inside_no_grad():
    with tinydl.no_grad():
        with tinydl.enable_grad():
            assert _records_graph()
        assert not _records_graph()

        @tinydl.enable_grad
        def records():
            return _records_graph()
        assert records() and not tinydl.is_grad_enabled()


def test_set_grad_enabled_as_a_call_a_block_and_a_decorator():
    tinydl.set_grad_enabled(False)
    try:
        assert not _records_graph()
    finally:
        tinydl.set_grad_enabled(True)
    with tinydl.set_grad_enabled(False):
        assert not _records_graph()
    assert _records_graph()

    @tinydl.set_grad_enabled(False)
    def inference():
        return _records_graph()
    assert tinydl.is_grad_enabled()  # decorating does not switch
    assert inference() is False and tinydl.is_grad_enabled()
    with pytest.raises(TypeError, match="Received: mode='no'"):
        tinydl.set_grad_enabled("no")


def test_ops_on_tensors_without_requires_grad_record_nothing():
    y = Tensor([1.0]) * 2 + 1
    assert y.requires_grad is False and y._node is None


# ----------------------------------------------------------------------------- accumulation

def test_tensor_used_twice_accumulates_x_times_x_plus_x():
    x = Tensor(np.array([0.5, -1.0, 3.0]), requires_grad=True)
    (x * x + x).sum().backward()
    np.testing.assert_allclose(x.grad, 2 * x.data + 1)


def test_tensor_used_twice_in_either_order():
    """x + x*x and x + exp(x): the direct use of x comes first among the inputs."""
    x = Tensor(np.array([0.5, -1.0, 3.0]), requires_grad=True)
    (x + x * x).sum().backward()
    np.testing.assert_allclose(x.grad, 2 * x.data + 1)
    x.zero_grad()
    (x + x.exp()).sum().backward()
    np.testing.assert_allclose(x.grad, 1 + np.exp(x.data))


def test_diamond_graph_with_a_shared_intermediate():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    h = x * 3
    y = h + h.tanh() * h   # h feeds the add directly and through tanh
    y.sum().backward()
    t = np.tanh(3 * x.data)
    np.testing.assert_allclose(x.grad, 3 * (1 + t + (1 - t * t) * 3 * x.data))


def test_gradients_accumulate_across_backward_calls_until_zero_grad():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    (x * 3).sum().backward()
    (x * 3).sum().backward()
    np.testing.assert_array_equal(x.grad, [6.0, 6.0])
    x.zero_grad()
    assert x.grad is None
    (x * 3).sum().backward()
    np.testing.assert_array_equal(x.grad, [3.0, 3.0])


def test_retain_graph_allows_a_second_backward():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_array_equal(x.grad, [4.0, 8.0])


# ----------------------------------------------------------------------------- broadcasting

@pytest.mark.parametrize("a_shape, b_shape", [
    ((3, 1), (4,)), ((4,), (3, 1)), ((2, 3, 4), (3, 1)), ((1, 3), (2, 1)), ((), (2, 3)), ((2, 3), ()),
])
def test_broadcasting_is_undone_in_backward(a_shape, b_shape):
    a = Tensor(np.ones(a_shape), requires_grad=True)
    b = Tensor(np.full(b_shape, 2.0), requires_grad=True)
    out = a * b
    out.sum().backward()
    assert a.grad.shape == a_shape and b.grad.shape == b_shape
    out_size = out.size
    # each element of a is used out_size / a.size times, each time with slope b = 2
    np.testing.assert_allclose(a.grad, np.full(a_shape, 2.0 * out_size / max(a.size, 1)))
    np.testing.assert_allclose(b.grad, np.full(b_shape, 1.0 * out_size / max(b.size, 1)))


# ----------------------------------------------------------------------------- graph lifetime

def test_graph_is_released_after_backward():
    x = Tensor(np.ones(3), requires_grad=True)
    hidden = x * 2
    ref = weakref.ref(hidden)
    loss = (hidden * 3).sum()
    loss.backward()
    del hidden
    gc.collect()
    assert ref() is None, "the loss still holds the intermediate tensor after backward"
    np.testing.assert_array_equal(x.grad, [6.0, 6.0, 6.0])


def test_graph_is_kept_before_backward_and_with_retain_graph():
    x = Tensor(np.ones(3), requires_grad=True)
    hidden = x * 2
    ref = weakref.ref(hidden)
    loss = (hidden * 3).sum()
    loss.backward(retain_graph=True)
    del hidden
    gc.collect()
    assert ref() is not None


def test_deep_graph_backward_has_no_recursion_error():
    x = Tensor(np.array(2.0), requires_grad=True)
    y = x
    for _ in range(5000):
        y = y + 1.0
    (y * x).backward()                     # d/dx (x + 5000) * x = 2x + 5000
    assert x.grad.item() == pytest.approx(5004.0)
    w = Tensor(np.array(1.0), requires_grad=True)
    z = w
    for _ in range(5000):
        z = z + w                          # 5001 * w
    z.backward()
    assert w.grad.item() == pytest.approx(5001.0)


# ----------------------------------------------------------------------------- backward arguments

def test_backward_on_non_scalar_without_grad_raises():
    y = Tensor(np.ones((2, 3)), requires_grad=True) * 2
    with pytest.raises(RuntimeError, match=r"needs a scalar.*shape \(2, 3\).*pass grad="):
        y.backward()


def test_backward_with_explicit_grad():
    x = Tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    y = x * x
    y.backward(np.array([1.0, 0.0, -1.0]))
    np.testing.assert_array_equal(x.grad, [2.0, 0.0, -6.0])


def test_backward_with_grad_of_the_wrong_shape_raises():
    y = Tensor(np.ones(3), requires_grad=True) * 2
    with pytest.raises(ValueError, match=r"grad must have this tensor's shape \(3,\), got \(2,\)"):
        y.backward(np.ones(2))


def test_detach_cuts_the_graph():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    d = (x * 2).detach()
    assert d.requires_grad is False and d._node is None
    np.testing.assert_array_equal(d.data, [2.0, 4.0])
    y = (x * d).sum()   # d is a constant now: dy/dx = d
    y.backward()
    np.testing.assert_array_equal(x.grad, [2.0, 4.0])


# ----------------------------------------------------------------------------- user-defined Function

class Cube(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x ** 3

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved
        return 3 * x * x * grad


class ScaledAdd(Function):
    """a + scale * b, with a non-tensor argument."""

    @staticmethod
    def forward(ctx, a, b, scale):
        ctx.scale = scale
        return a + scale * b

    @staticmethod
    def backward(ctx, grad):
        return grad, ctx.scale * grad, None


def test_user_function_apply_and_backward():
    x = Tensor(np.array([1.0, -2.0]), requires_grad=True)
    y = Cube.apply(x)
    assert isinstance(y, Tensor) and y.requires_grad
    np.testing.assert_array_equal(y.data, [1.0, -8.0])
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, [3.0, 12.0])


def test_user_function_gradcheck():
    rng = np.random.default_rng(0)
    assert gradcheck(lambda t: Cube.apply(t), Tensor(rng.standard_normal((3, 4))))
    assert gradcheck(lambda a, b: ScaledAdd.apply(a, b, 2.5),
                     Tensor(rng.standard_normal((2, 3))), Tensor(rng.standard_normal((3,))))


def test_user_function_without_backward_raises_not_implemented():
    class NoBackward(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1

    y = NoBackward.apply(Tensor([1.0], requires_grad=True))
    with pytest.raises(NotImplementedError, match="backward"):
        y.sum().backward()


# ----------------------------------------------------------------------------- Tensor basics

def test_dtypes_float32_default_float64_kept_ints_converted():
    assert Tensor([1.0, 2.0]).dtype == np.float32
    assert Tensor(np.array([1.0, 2.0], dtype=np.float64)).dtype == np.float64
    assert Tensor(np.array([1.0], dtype=np.float32)).dtype == np.float32
    assert Tensor([1, 2]).dtype == np.float32
    assert Tensor(np.arange(3)).dtype == np.float32
    assert Tensor(np.array([1, 2], dtype=np.int64), dtype=np.float64).dtype == np.float64
    assert Tensor(Tensor(np.ones(2))).dtype == np.float64
    # ops keep float64 end to end, and gradients share the leaf's dtype
    x = Tensor(np.ones(3), requires_grad=True)
    (x.exp() * 2).sum().backward()
    assert x.grad.dtype == np.float64
    x32 = Tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    (x32.exp() * 2).sum().backward()
    assert x32.grad.dtype == np.float32


def test_tensor_rejects_non_float_dtype_request():
    with pytest.raises(TypeError, match="float32 or float64, got int32"):
        Tensor([1, 2], dtype=np.int32)


def test_repr_is_readable():
    assert repr(Tensor([[1.0, 2.0]], requires_grad=True)) == "Tensor([[1., 2.]], requires_grad=True)"
    assert repr(Tensor(np.array([0.5]))) == "Tensor([0.5], dtype=float64)"
    assert repr(Tensor([1.0 / 3])) == "Tensor([0.3333])"


def test_array_facts_and_numpy_interop():
    t = Tensor(np.arange(6.0).reshape(2, 3))
    assert (t.shape, t.ndim, t.size, len(t)) == ((2, 3), 2, 6, 2)
    assert t.numpy() is t.data
    assert Tensor([[4.0]]).item() == 4.0
    out = np.ones((2, 3)) + t   # ndarray on the left still gives a Tensor
    assert isinstance(out, Tensor)
    np.testing.assert_array_equal(out.data, np.arange(6.0).reshape(2, 3) + 1)


@pytest.mark.parametrize("backend_name", ["native", "reference"])
def test_a_batched_input_times_a_matrix_is_one_gemm_with_the_right_gradients(backend_name):
    """(..., K) @ (K, N), as a Dense or an RNN's input projection over a sequence makes it:
    one GEMM over the flattened rows (not NumPy's BLAS), also for a non-contiguous input."""
    if backend_name == "native" and tinydl.backend._native is None:
        pytest.skip("native extension is not built")
    rng = np.random.default_rng(0)
    with tinydl.use_backend(backend_name):
        for a in (rng.standard_normal((2, 3, 4, 5)), rng.standard_normal((5, 4, 3)).transpose(2, 1, 0)):
            b = rng.standard_normal((5, 6))
            out = Tensor(a) @ Tensor(b)
            np.testing.assert_allclose(out.numpy(), np.matmul(a, b), rtol=1e-12, atol=1e-12)
            assert tinydl.utils.gradcheck(lambda x, w: x @ w, Tensor(a), Tensor(b))
            a32, b32 = a.astype(np.float32), b.astype(np.float32)
            np.testing.assert_allclose((Tensor(a32) @ Tensor(b32)).numpy(), np.matmul(a32, b32),
                                       rtol=1e-5, atol=1e-5)


def test_a_leaf_keeps_a_fresh_gradient_as_it_is():
    """A gradient array that only the engine holds (an op's fresh result) becomes the leaf's
    .grad without a copy (a 5 MB embedding table's gradient, or a Dense kernel's, each step);
    the same array given to two leaves, or kept by the op, is copied (see the test below)."""
    x = Tensor(np.ones((4, 3), np.float32), requires_grad=True)
    ids = []

    class Recorded(tinydl.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x.copy()

        @staticmethod
        def backward(ctx, grad):
            out = np.full(grad.shape, 5.0, np.float32)
            ids.append(id(out))
            return out

    Recorded.apply(x).sum().backward()
    assert id(x.grad) == ids[0] and x.grad.tolist() == [[5.0] * 3] * 4
    kept = []

    class Keeps(Recorded):
        @staticmethod
        def backward(ctx, grad):
            kept.append(np.full(grad.shape, 7.0, np.float32))
            return kept[-1]

    y = Tensor(np.ones(3, np.float32), requires_grad=True)
    Keeps.apply(y).sum().backward()
    assert not np.shares_memory(y.grad, kept[0])
    y.grad *= 2
    assert kept[0].tolist() == [7.0] * 3


def test_a_second_gradient_is_added_into_the_first_only_when_nothing_else_holds_it():
    """A tensor used twice (a residual block's input) gets two gradients: the second is added
    into the first in place when only the engine holds it, and into a new array when an op
    kept it (or hands it to another input too): the sums are right and no kept array moves."""
    kept = []

    class Keeps(tinydl.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1

        @staticmethod
        def backward(ctx, grad):
            kept.append(np.full(grad.shape, 3.0, np.float32))
            return kept[-1]

    class Fresh(Keeps):
        @staticmethod
        def backward(ctx, grad):
            return np.full(grad.shape, 5.0, np.float32)

    for first, second in ((Fresh, Fresh), (Keeps, Fresh), (Fresh, Keeps), (Keeps, Keeps)):
        kept.clear()
        x = Tensor(np.ones(4, np.float32), requires_grad=True)
        h = x * 1  # an intermediate that both ops read: its two gradients meet in pending
        (first.apply(h) + second.apply(h)).sum().backward()
        expected = sum(3.0 if op is Keeps else 5.0 for op in (first, second))
        assert x.grad.tolist() == [expected] * 4, (first, second)
        assert all(k.tolist() == [3.0] * 4 for k in kept), (first, second)
    # Add hands one gradient array to both of its inputs, here the same tensor twice
    y = Tensor(np.ones(3, np.float32), requires_grad=True)
    h = y * 1
    (h + h).sum().backward()
    assert y.grad.tolist() == [2.0] * 3


def test_leaf_gradients_never_share_memory_with_each_other_or_the_callers_arrays():
    # Leaves keep a fresh gradient without a copy; one that anything else holds is copied,
    # so changing a .grad in place (clipping, say) changes nothing else.
    a, b = Tensor(np.ones(3, np.float32), requires_grad=True), \
        Tensor(np.ones(3, np.float32), requires_grad=True)
    seed = np.full(3, 3.0, np.float32)
    (a + b).backward(seed)  # Add hands its one gradient array to both inputs
    assert not np.shares_memory(a.grad, b.grad) and not np.shares_memory(a.grad, seed)
    a.grad *= 10
    assert b.grad.tolist() == [3.0, 3.0, 3.0] and seed.tolist() == [3.0, 3.0, 3.0]
    # a leaf that is the root gets a copy of the caller's array
    c = Tensor(np.ones(2, np.float32), requires_grad=True)
    root_grad = np.ones(2, np.float32)
    c.backward(root_grad)
    assert not np.shares_memory(c.grad, root_grad)
    # a gradient that is a view of a bigger array is copied
    d = Tensor(np.ones((2, 3), np.float32), requires_grad=True)
    (d * 2.0).sum().backward()
    assert d.grad.base is None and d.grad.tolist() == [[2.0] * 3] * 2
