"""Native adam_update against reference.adam_update: the same bits, over sizes, steps and
special values; against a float64 Adam; bad input raised in Python; check_backends."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinydl
from tinydl import backend
from tinydl.kernels import _registry, native, reference

SPECIALS = np.array([0.0, -0.0, np.nan, -np.nan, np.inf, -np.inf, 1e-45, -1e-45, 1e-38,
                     3e38, -3e38, 1e20, 1e-20], dtype=np.float32)


def assert_same_bits(ours, oracle, what=""):
    """Equal bit for bit, except that a NaN only has to be a NaN where the oracle has one:
    IEEE 754 leaves a NaN result's sign and payload open, and they depend on operand order."""
    assert ours.dtype == oracle.dtype and ours.shape == oracle.shape, what
    nan = np.isnan(oracle)
    assert np.array_equal(np.isnan(ours), nan), f"{what}: NaN in different places"
    as_int = {4: np.uint32, 8: np.uint64}[ours.dtype.itemsize]
    same = ours.view(as_int) == oracle.view(as_int)
    bad = np.flatnonzero(~(same | nan))
    assert bad.size == 0, f"{what}: {bad.size} elements differ, first at {bad[0]}: " \
                          f"{ours.flat[bad[0]]!r} vs {oracle.flat[bad[0]]!r}"


def adam_state(rng, shape, amsgrad, w_dtype=np.float32):
    """w random, slots as after a few steps (m any sign, v and v_hat >= 0, some exact zeros)."""
    w = np.array(rng.standard_normal(shape), dtype=w_dtype)          # 0-d too: np.array
    m = np.array(rng.standard_normal(shape) * 0.1, dtype=np.float32)
    v = np.array(rng.standard_normal(shape) ** 2 * 0.01, dtype=np.float32)
    v[rng.random(shape) < 0.1] = 0.0
    v_hat = np.array(np.maximum(v, rng.random(shape) * 0.01), dtype=np.float32) if amsgrad else None
    return [w, m, v, v_hat]


def gradients(rng, shape, steps, scale=1.0, specials=0.0):
    """One float32 gradient per step: normal * scale, a fraction replaced by SPECIALS."""
    grads = []
    for _ in range(steps):
        g = np.array(rng.standard_normal(shape) * scale, dtype=np.float32)
        g[rng.random(shape) < 0.1] = 0.0
        chosen = rng.random(shape) < specials
        g[chosen] = rng.choice(SPECIALS, int(chosen.sum()))
        grads.append(g)
    return grads


def scalars(lr=1e-3, beta_1=0.9, beta_2=0.999, epsilon=1e-7, t=1):
    alpha = lr * np.sqrt(1 - beta_2 ** t) / (1 - beta_1 ** t)
    return tuple(np.float32(s) for s in (alpha, 1 - beta_1, 1 - beta_2, epsilon))


def run_both(state, grads, step_scalars):
    """Apply every gradient with the native and the reference kernel to copies of state."""
    ours = [None if a is None else a.copy() for a in state]
    oracle = [None if a is None else a.copy() for a in state]
    with np.errstate(all="ignore"):
        for t, g in enumerate(grads, start=1):
            native.adam_update(ours[0], g, *ours[1:], *step_scalars(t))
            reference.adam_update(oracle[0], g, *oracle[1:], *step_scalars(t))
    return ours, oracle


def check_same(state, grads, step_scalars, what=""):
    ours, oracle = run_both(state, grads, step_scalars)
    for name, a, b in zip(("w", "m", "v", "v_hat"), ours, oracle):
        if a is not None:
            assert_same_bits(a, b, f"{what} {name}")


@pytest.mark.parametrize("amsgrad", [False, True])
def test_every_size_1_to_70(amsgrad):
    """The SSE2 body does 4 elements at a time and plain C the rest: every remainder."""
    rng = np.random.default_rng(70)
    for n in range(1, 71):
        state = adam_state(rng, (n,), amsgrad)
        check_same(state, gradients(rng, (n,), 3), lambda t: scalars(t=t), f"n={n}")


@settings(deadline=None, max_examples=60)
@given(n=st.integers(1, 5000), steps=st.integers(1, 4), amsgrad=st.booleans(),
       scale=st.sampled_from((1e-30, 1e-6, 1.0, 1e6, 1e19)), specials=st.sampled_from((0.0, 0.05)),
       lr=st.floats(1e-5, 1.0), beta_1=st.floats(0.0, 0.999), beta_2=st.floats(0.0, 0.9999),
       epsilon=st.sampled_from((0.0, 1e-12, 1e-7, 0.1)), seed=st.integers(0, 2**16))
def test_hypothesis_same_bits_as_reference(n, steps, amsgrad, scale, specials, lr, beta_1,
                                           beta_2, epsilon, seed):
    """Sizes 1..5000, several steps, tiny to huge gradients with zeros, NaN, +-inf, subnormals."""
    rng = np.random.default_rng(seed)
    shape = (n,) if n % 3 else (3, n // 3)
    state = adam_state(rng, shape, amsgrad)
    check_same(state, gradients(rng, shape, steps, scale, specials),
               lambda t: scalars(lr, beta_1, beta_2, epsilon, t))


@pytest.mark.parametrize("amsgrad", [False, True])
@pytest.mark.parametrize("threads", [1, 2])
def test_each_loop_and_thread_count_gives_the_references_bits(microkernel, amsgrad, threads):
    """The AVX-512 loop runs under the AVX-512 micro-kernel, SSE2 and the plain loop under the
    others; a variable above 65,536 elements is cut into ranges across threads. Each gives
    the reference's bits, special values included, at sizes that leave every loop a tail."""
    rng = np.random.default_rng(17)
    previous = native.get_num_threads()
    native.set_num_threads(threads)
    try:
        for n in (70_001, 200_003):
            state = adam_state(rng, n, amsgrad)
            grads = gradients(rng, n, 2, specials=0.01)
            check_same(state, grads, lambda t: scalars(t=t), f"n={n}")
    finally:
        native.set_num_threads(previous)


def test_special_values_propagate_as_in_numpy():
    """Each special gradient value against each special slot value, with and without AMSGrad."""
    g = np.repeat(SPECIALS, SPECIALS.size)           # every (g, slot) pair once
    slot = np.tile(SPECIALS, SPECIALS.size)
    for amsgrad in (False, True):
        v_hat = np.abs(slot[::-1]) if amsgrad else None
        state = [np.ones_like(g), slot.copy(), np.abs(slot), v_hat]
        check_same(state, [g, g[::-1].copy()], lambda t: scalars(t=t), f"amsgrad={amsgrad}")
        ours, _ = run_both(state, [g], lambda t: scalars(t=t))
        assert np.isnan(ours[0][np.isnan(g)]).all(), "a NaN gradient must reach w"


def test_float64_weights_and_empty_arrays_run_the_reference_formula():
    rng = np.random.default_rng(5)
    check_same(adam_state(rng, (37,), True, np.float64), gradients(rng, (37,), 3),
               lambda t: scalars(t=t), "float64 w")
    check_same(adam_state(rng, (0, 4), False), gradients(rng, (0, 4), 2), lambda t: scalars(t=t))
    check_same(adam_state(rng, (), True), gradients(rng, (), 2), lambda t: scalars(t=t), "0-d")


@pytest.mark.parametrize("amsgrad", [False, True])
def test_close_to_adam_in_float64(amsgrad):
    """An independent float64 Adam (the paper's form, bias correction folded into alpha)."""
    rng = np.random.default_rng(64)
    w, m, v, v_hat = adam_state(rng, (999,), amsgrad)
    w64, m64, v64 = w.astype(np.float64), m.astype(np.float64), v.astype(np.float64)
    v_hat64 = None if v_hat is None else v_hat.astype(np.float64)
    lr, b1, b2, eps = 0.01, 0.9, 0.999, 1e-7
    for t, g in enumerate(gradients(rng, (999,), 5), start=1):
        backend.adam_update(w, g, m, v, v_hat, *scalars(lr, b1, b2, eps, t))
        m64 = b1 * m64 + (1 - b1) * g
        v64 = b2 * v64 + (1 - b2) * g.astype(np.float64) ** 2
        if amsgrad:
            v_hat64 = np.maximum(v_hat64, v64)
        alpha = lr * np.sqrt(1 - b2 ** t) / (1 - b1 ** t)
        w64 = w64 - alpha * m64 / (np.sqrt(v_hat64 if amsgrad else v64) + eps)
    for name, ours, exact in (("m", m, m64), ("v", v, v64), ("w", w, w64)):
        # float32 rounding, relative to the array's scale (m's cancellations lose more)
        np.testing.assert_allclose(ours, exact, rtol=1e-5, atol=1e-6 * np.abs(exact).max(),
                                   err_msg=name)


# ----------------------------------------------------------------------------- through the backend

def arrays(n=6, amsgrad=True):
    rng = np.random.default_rng(0)
    w, m, v, v_hat = adam_state(rng, (2, n), amsgrad)
    return {"w": w, "g": gradients(rng, (2, n), 1)[0], "m": m, "v": v, "v_hat": v_hat}


def call(**changes):
    args = {**arrays(), **changes}
    step = dict(zip(("alpha", "one_minus_beta_1", "one_minus_beta_2", "epsilon"), scalars()))
    step.update({k: args.pop(k) for k in list(args) if k in step})
    backend.adam_update(args["w"], args["g"], args["m"], args["v"], args["v_hat"], **step)


def read_only(a):
    a = a.copy()
    a.flags.writeable = False
    return a


BASE = arrays()
SHARED = np.ones((2, 6), np.float32)
BAD_INPUTS = [
    ({"w": BASE["w"].tolist()}, TypeError, "w must be a NumPy array"),
    ({"w": BASE["w"].astype(np.float16)}, TypeError, "w must be float32 or float64, got float16"),
    ({"g": BASE["g"].astype(np.float64)}, TypeError, "g must be float32, got float64"),
    ({"m": BASE["m"].astype(np.float64)}, TypeError, "m must be float32, got float64"),
    ({"v_hat": BASE["v_hat"].astype(np.int32)}, TypeError, "v_hat must be float32, got int32"),
    ({"g": BASE["g"][:, :5]}, ValueError, r"g must have shape \(2, 6\), got \(2, 5\)"),
    ({"v": BASE["v"].ravel()}, ValueError, r"v must have w's shape \(2, 6\), got \(12,\)"),
    ({"m": np.ones((6, 2), np.float32).T}, ValueError, "m must be C-contiguous"),
    ({"w": np.ones((2, 12), np.float32)[:, ::2]}, ValueError, "w must be C-contiguous"),
    ({"v": read_only(BASE["v"])}, ValueError, "v must be writeable"),
    ({"w": read_only(BASE["w"])}, ValueError, "w must be writeable"),
    ({"m": SHARED, "v": SHARED}, ValueError, "m and v must be separate arrays"),
    ({"w": SHARED, "g": SHARED[::-1]}, ValueError, "w and g must be separate arrays"),
    ({"alpha": -1e-3}, ValueError, "alpha must be a finite number >= 0, got -0.001"),
    ({"alpha": float("nan")}, ValueError, "alpha must be a finite number >= 0, got nan"),
    ({"epsilon": float("inf")}, ValueError, "epsilon must be a finite number >= 0, got inf"),
    ({"one_minus_beta_1": 1.5}, ValueError, r"one_minus_beta_1 must be in \[0, 1\], got 1.5"),
    ({"one_minus_beta_2": "0.1"}, ValueError, r"one_minus_beta_2 must be in \[0, 1\], got '0.1'"),
    ({"one_minus_beta_2": True}, ValueError, "one_minus_beta_2 must be in"),
]


@pytest.mark.parametrize("changes, error, match", BAD_INPUTS)
@pytest.mark.parametrize("name", ["native", "reference"])
def test_bad_input_raises_in_python_before_any_update(name, changes, error, match):
    args = {**arrays(), **changes}
    before = {k: np.array(a, copy=True) for k, a in args.items() if isinstance(a, np.ndarray)}
    with backend.use_backend(name), pytest.raises(error, match=match):
        call(**args)
    for k, a in before.items():  # nothing was updated (the kernel never ran)
        np.testing.assert_array_equal(args[k], a, err_msg=k)


def test_backend_takes_a_non_contiguous_gradient_and_python_scalars():
    state, g = arrays(), np.asfortranarray(np.ones((2, 6), np.float32))
    expected = {k: None if a is None else a.copy() for k, a in state.items()}
    reference.adam_update(expected["w"], g, expected["m"], expected["v"], expected["v_hat"],
                          *scalars())
    with backend.use_backend("native"):
        backend.adam_update(state["w"], g, state["m"], state["v"], state["v_hat"],
                            *(float(s) for s in scalars()))
    for k in ("w", "m", "v", "v_hat"):
        assert_same_bits(state[k], expected[k], k)


@pytest.mark.parametrize("amsgrad", [False, True])
def test_check_backends_updates_once_and_records_a_zero_gap(amsgrad):
    state, once = arrays(amsgrad=amsgrad), arrays(amsgrad=amsgrad)
    reference.adam_update(once["w"], once["g"], once["m"], once["v"], once["v_hat"], *scalars())
    with tinydl.use_backend("native"), tinydl.check_backends() as gaps:
        backend.adam_update(state["w"], state["g"], state["m"], state["v"], state["v_hat"],
                            *scalars())
    assert gaps == {"adam_update": 0.0}
    for k in ("w", "m", "v", "v_hat"):
        if once[k] is not None:
            assert_same_bits(state[k], once[k], k)   # updated once, not twice


def test_check_backends_sees_a_native_adam_that_disagrees(monkeypatch):
    kernel = _registry.kernels()["adam_update"]
    honest = kernel.native

    def one_percent_off(w, *args):
        honest(w, *args)
        w *= np.float32(1.01)

    monkeypatch.setitem(_registry.kernels(), "adam_update",
                        dataclasses.replace(kernel, native=one_percent_off))
    state = arrays()
    with tinydl.use_backend("native"), tinydl.check_backends() as gaps:
        backend.adam_update(state["w"], state["g"], state["m"], state["v"], state["v_hat"],
                            *scalars())
    assert gaps["adam_update"] == pytest.approx(0.01, rel=0.05)
