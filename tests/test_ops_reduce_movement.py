"""Reductions (sum, mean, max), movement (reshape, transpose, flatten, indexing, concatenate,
stack) and matmul: forward values against NumPy and gradient checks on hypothesis shapes."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinydl import Tensor, ops
from tinydl.utils import gradcheck

seeds = st.integers(0, 2**16)


def normal(seed, shape):
    return np.random.default_rng(seed).standard_normal(shape)


def distinct(seed, shape):
    """Values at least 0.1 apart (a shuffled grid), so max has no ties to break."""
    size = int(np.prod(shape, dtype=np.int64))
    rng = np.random.default_rng(seed)
    return (rng.permutation(size) * 0.1 - size * 0.05).reshape(shape)


@st.composite
def shape_and_axes(draw):
    """A shape of 1-4 axes and an `axis` argument: None, one axis (maybe negative) or several."""
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=1, max_size=4)))
    kind = draw(st.sampled_from(["none", "one", "many"]))
    if kind == "none":
        return shape, None
    if kind == "one":
        return shape, draw(st.integers(-len(shape), len(shape) - 1))
    axes = draw(st.lists(st.integers(0, len(shape) - 1), min_size=1, max_size=len(shape), unique=True))
    return shape, tuple(axes)


# ----------------------------------------------------------------------------- reductions

@pytest.mark.parametrize("name", ["sum", "mean", "max"])
@given(case=shape_and_axes(), keepdims=st.booleans(), seed=seeds)
def test_reduction_forward_and_gradcheck(backend, name, case, keepdims, seed):
    shape, axis = case
    a = distinct(seed, shape)
    out = getattr(Tensor(a), name)(axis=axis, keepdims=keepdims)
    np.testing.assert_allclose(out.data, getattr(np, name)(a, axis=axis, keepdims=keepdims),
                               rtol=1e-12, atol=1e-12)
    assert gradcheck(lambda t: getattr(t, name)(axis=axis, keepdims=keepdims), Tensor(a))


def test_max_gradient_goes_to_the_winner_and_ties_share():
    x = Tensor(np.array([[1.0, 5.0, 2.0], [3.0, 3.0, 0.0]]), requires_grad=True)
    x.max(axis=1).sum().backward()
    np.testing.assert_allclose(x.grad, [[0, 1, 0], [0.5, 0.5, 0]])


def test_mean_gradient_known_values():
    x = Tensor(np.ones((2, 5)), requires_grad=True)
    x.mean().backward()
    np.testing.assert_allclose(x.grad, np.full((2, 5), 0.1))


def test_reduction_axis_out_of_range():
    with pytest.raises(ValueError, match="axis 2 is out of range .* 2 dimensions"):
        Tensor(np.ones((2, 3))).sum(axis=2)


# ----------------------------------------------------------------------------- movement

@st.composite
def reshapes(draw):
    """A shape and a different shape of the same size (maybe written with -1)."""
    dims = draw(st.lists(st.integers(1, 4), min_size=1, max_size=4))
    size = int(np.prod(dims))
    factors = [d for d in range(1, size + 1) if size % d == 0]
    first = draw(st.sampled_from(factors))
    target = (first, size // first)
    if draw(st.booleans()):
        target = (first, -1)
    return tuple(dims), target


@given(case=reshapes(), seed=seeds)
def test_reshape_forward_and_gradcheck(backend, case, seed):
    shape, target = case
    a = normal(seed, shape)
    np.testing.assert_array_equal(Tensor(a).reshape(target).data, a.reshape(target))
    np.testing.assert_array_equal(Tensor(a).reshape(*target).data, a.reshape(target))
    assert gradcheck(lambda t: t.reshape(target), Tensor(a))


@st.composite
def permutations(draw):
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=1, max_size=4)))
    axes = tuple(draw(st.permutations(range(len(shape)))))
    if draw(st.booleans()):  # negative axes are allowed too
        axes = tuple(a - len(shape) for a in axes)
    return shape, axes


@given(case=permutations(), seed=seeds)
def test_transpose_and_permute_forward_and_gradcheck(backend, case, seed):
    shape, axes = case
    a = normal(seed, shape)
    np.testing.assert_array_equal(Tensor(a).transpose(*axes).data, a.transpose(axes))
    np.testing.assert_array_equal(Tensor(a).permute(axes).data, a.transpose(axes))
    np.testing.assert_array_equal(Tensor(a).T.data, a.T)
    assert gradcheck(lambda t: t.permute(*axes), Tensor(a))
    assert gradcheck(lambda t: t.transpose(), Tensor(a))


def test_transpose_rejects_a_non_permutation():
    with pytest.raises(ValueError, match="permutation of 0..2, got"):
        Tensor(np.ones((2, 3, 4))).transpose(0, 0, 1)


@given(shape=st.lists(st.integers(1, 4), min_size=1, max_size=4).map(tuple), data=st.data(), seed=seeds)
def test_flatten_forward_and_gradcheck(backend, shape, data, seed):
    start = data.draw(st.integers(0, len(shape) - 1))
    a = normal(seed, shape)
    expected = a.reshape(shape[:start] + (-1,))
    np.testing.assert_array_equal(Tensor(a).flatten(start).data, expected)
    assert gradcheck(lambda t: t.flatten(start), Tensor(a))


@st.composite
def indexings(draw):
    """A shape (first axis >= 2) and an index: slices (with steps, negative), ints, integer
    arrays with repeated entries, or a mix of them."""
    shape = tuple(draw(st.lists(st.integers(2, 5), min_size=1, max_size=3)))
    n = shape[0]
    kind = draw(st.sampled_from(["slice", "int", "array", "repeated", "mixed", "negative"]))
    if kind == "slice":
        start = draw(st.integers(0, n - 1))
        return shape, (slice(start, None, draw(st.integers(1, 2))),)
    if kind == "int":
        return shape, draw(st.integers(-n, n - 1))
    if kind == "negative":
        return shape, slice(None, None, -1)
    idx = np.array(draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=6)))
    if kind == "repeated":
        idx = np.concatenate([idx, idx[:1], idx[:1]])
    if kind == "mixed" and len(shape) > 1:
        return shape, (idx, slice(1, None))
    return shape, idx


@given(case=indexings(), seed=seeds)
def test_getitem_forward_and_gradcheck(backend, case, seed):
    shape, index = case
    a = normal(seed, shape)
    np.testing.assert_array_equal(Tensor(a)[index].data, a[index])
    assert gradcheck(lambda t: t[index], Tensor(a))


def test_getitem_repeated_indices_add_up():
    x = Tensor(np.zeros(4), requires_grad=True)
    x[np.array([1, 1, 3, 1])].sum().backward()
    np.testing.assert_array_equal(x.grad, [0, 3, 0, 1])


def test_getitem_with_tensor_index_and_boolean_mask():
    x = Tensor(np.arange(5.0), requires_grad=True)
    np.testing.assert_array_equal(x[Tensor([4, 0])].data, [4.0, 0.0])
    x[np.array([True, False, True, False, True])].sum().backward()
    np.testing.assert_array_equal(x.grad, [1, 0, 1, 0, 1])


@given(n_parts=st.integers(1, 4), rank=st.integers(1, 3), data=st.data(), seed=seeds)
def test_concatenate_forward_and_gradcheck(backend, n_parts, rank, data, seed):
    base = data.draw(st.lists(st.integers(1, 3), min_size=rank, max_size=rank))
    axis = data.draw(st.integers(-rank, rank - 1))
    arrays = []
    for i in range(n_parts):
        shape = list(base)
        shape[axis] = data.draw(st.integers(1, 3))
        arrays.append(normal(seed + i, tuple(shape)))
    out = ops.concatenate([Tensor(a) for a in arrays], axis=axis)
    np.testing.assert_array_equal(out.data, np.concatenate(arrays, axis=axis))
    assert gradcheck(lambda *ts: ops.concatenate(list(ts), axis=axis), *map(Tensor, arrays))


@given(n_parts=st.integers(1, 4), shape=st.lists(st.integers(1, 3), min_size=0, max_size=3).map(tuple),
       data=st.data(), seed=seeds)
def test_stack_forward_and_gradcheck(backend, n_parts, shape, data, seed):
    axis = data.draw(st.integers(-len(shape) - 1, len(shape)))
    arrays = [normal(seed + i, shape) for i in range(n_parts)]
    out = ops.stack([Tensor(a) for a in arrays], axis=axis)
    np.testing.assert_array_equal(out.data, np.stack(arrays, axis=axis))
    assert gradcheck(lambda *ts: ops.stack(list(ts), axis=axis), *map(Tensor, arrays))


def test_concatenate_and_stack_reject_mismatched_shapes():
    with pytest.raises(ValueError, match=r"concatenate: shapes must match except along axis 0, "
                                         r"got \[\(2, 3\), \(2, 4\)\]"):
        ops.concatenate([Tensor(np.ones((2, 3))), Tensor(np.ones((2, 4)))], axis=0)
    with pytest.raises(ValueError, match=r"stack: all tensors must have one shape, got \[\(2,\), \(3,\)\]"):
        ops.stack([Tensor(np.ones(2)), Tensor(np.ones(3))])


def test_reshape_rejects_a_wrong_size():
    with pytest.raises(ValueError, match=r"cannot reshape a tensor of shape \(2, 3\) \(6 elements\) "
                                         r"into shape \(4, 2\)"):
        Tensor(np.ones((2, 3))).reshape(4, 2)


# ----------------------------------------------------------------------------- matmul

@st.composite
def matmul_shapes(draw):
    """(a shape, b shape) for 2-D, batched (with broadcasting batch axes) and 1-D operands."""
    m, k, n = (draw(st.integers(1, 5)) for _ in range(3))
    kind = draw(st.sampled_from(["2d", "batched", "broadcast-batch", "vec-mat", "mat-vec",
                                 "vec-batched", "batched-vec"]))
    b_ = draw(st.integers(1, 3))
    return {
        "2d": ((m, k), (k, n)),
        "batched": ((b_, m, k), (b_, k, n)),
        "broadcast-batch": ((b_, 1, m, k), (2, k, n)),
        "vec-mat": ((k,), (k, n)),
        "mat-vec": ((m, k), (k,)),
        "vec-batched": ((k,), (b_, k, n)),
        "batched-vec": ((b_, m, k), (k,)),
    }[kind]


@given(shapes=matmul_shapes(), seed=seeds)
def test_matmul_forward_and_gradcheck(backend, shapes, seed):
    a, b = normal(seed, shapes[0]), normal(seed + 1, shapes[1])
    np.testing.assert_allclose((Tensor(a) @ Tensor(b)).data, a @ b, rtol=1e-12, atol=1e-12)
    assert gradcheck(lambda x, y: x @ y, Tensor(a), Tensor(b))
    assert gradcheck(lambda x: x.matmul(Tensor(b)), Tensor(a))  # only one side needs grad


def test_matmul_2d_float32_gradients_known_values(backend):
    a = Tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    b = Tensor([[1.0], [-1.0]], requires_grad=True)
    (a @ b).sum().backward()
    np.testing.assert_array_equal(a.grad, [[1, -1], [1, -1]])
    np.testing.assert_array_equal(b.grad, [[4], [6]])
    assert a.grad.dtype == np.float32


def test_matmul_with_numpy_operand_on_either_side():
    a = np.arange(6.0).reshape(2, 3)
    t = Tensor(np.ones((3, 2)))
    np.testing.assert_array_equal((a @ Tensor(np.ones((3, 2)))).data, a @ np.ones((3, 2)))
    np.testing.assert_array_equal((t @ a).data, np.ones((3, 2)) @ a)


def test_matmul_vector_dot_vector_gradient():
    a = Tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    b = Tensor(np.array([4.0, 5.0, 6.0]), requires_grad=True)
    out = a @ b
    assert out.shape == () and out.item() == 32.0
    out.backward()
    np.testing.assert_array_equal(a.grad, [4, 5, 6])
    np.testing.assert_array_equal(b.grad, [1, 2, 3])
