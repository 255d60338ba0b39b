"""Elementwise ops (+ - * / ** neg exp log sqrt tanh sigmoid relu abs clip): values and gradient checks."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinydl
from tinydl import Tensor
from tinydl.utils import gradcheck

seeds = st.integers(0, 2**16)
shapes = st.lists(st.integers(1, 5), min_size=0, max_size=3).map(tuple)


@st.composite
def broadcast_pairs(draw):
    """Two shapes that broadcast together; either side may have size-1 or missing axes."""
    full = draw(st.lists(st.integers(1, 4), min_size=1, max_size=3))

    def one_side():
        kept = [n if draw(st.booleans()) else 1 for n in full]
        return tuple(kept[draw(st.integers(0, len(kept))):])

    return one_side(), one_side()


def normal(seed, shape):
    return np.random.default_rng(seed).standard_normal(shape)


def away_from(seed, shape, kinks=(0.0,), margin=0.1, low=-2.0, high=2.0):
    """Uniform values in [low, high] at least `margin` away from every kink (for relu, abs, clip)."""
    x = np.random.default_rng(seed).uniform(low, high, shape)
    for k in kinks:
        close = np.abs(x - k) < margin
        x = np.where(close, k + np.where(x >= k, margin, -margin) * 2, x)
    return x


def positive(seed, shape, low=0.3, high=2.0):
    return np.random.default_rng(seed).uniform(low, high, shape)


# ----------------------------------------------------------------------------- forward values

UNARY = {
    "neg": (lambda t: -t, lambda a: -a, normal),
    "exp": (lambda t: t.exp(), np.exp, normal),
    "log": (lambda t: t.log(), np.log, positive),
    "sqrt": (lambda t: t.sqrt(), np.sqrt, positive),
    "tanh": (lambda t: t.tanh(), np.tanh, normal),
    "sigmoid": (lambda t: t.sigmoid(), lambda a: 1 / (1 + np.exp(-a)), normal),
    "relu": (lambda t: t.relu(), lambda a: np.where(a > 0, a, 0.0), away_from),
    "abs": (lambda t: t.abs(), np.abs, away_from),
    "clip": (lambda t: t.clip(-0.5, 0.5), lambda a: np.minimum(np.maximum(a, -0.5), 0.5),
             lambda s, sh: away_from(s, sh, kinks=(-0.5, 0.5))),
}


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_forward_matches_numpy(backend, name):
    op, expected, make = UNARY[name]
    a = make(1, (3, 4))
    for dtype in (np.float32, np.float64):
        out = op(Tensor(a.astype(dtype)))
        assert out.dtype == dtype
        np.testing.assert_allclose(out.data, expected(a), rtol=1e-6 if dtype == np.float64 else 1e-5,
                                   atol=1e-7)


@pytest.mark.parametrize("name", sorted(UNARY))
@given(shape=shapes, seed=seeds)
def test_unary_gradcheck(backend, name, shape, seed):
    op, _, make = UNARY[name]
    assert gradcheck(op, Tensor(make(seed, shape)))


def test_sigmoid_is_stable_for_large_inputs():
    out = Tensor(np.array([-1000.0, -40.0, 0.0, 40.0, 1000.0])).sigmoid().data
    assert np.all(np.isfinite(out))
    np.testing.assert_allclose(out, [0.0, 4.248354e-18, 0.5, 1.0, 1.0], rtol=1e-5, atol=0)


BINARY = {
    "add": (lambda a, b: a + b, np.add),
    "sub": (lambda a, b: a - b, np.subtract),
    "mul": (lambda a, b: a * b, np.multiply),
    "div": (lambda a, b: a / b, np.divide),
    "pow": (lambda a, b: a ** b, np.power),
}


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_forward_matches_numpy(backend, name):
    op, expected = BINARY[name]
    a, b = positive(2, (3, 1)), positive(3, (4,))
    out = op(Tensor(a), Tensor(b))
    assert out.shape == (3, 4) and out.dtype == np.float64
    np.testing.assert_allclose(out.data, expected(a, b), rtol=1e-12)


@pytest.mark.parametrize("name", sorted(BINARY))
@given(pair=broadcast_pairs(), seed=seeds)
def test_binary_gradcheck_with_broadcasting(backend, name, pair, seed):
    """Both operands require grad; either may be broadcast. pow uses positive bases."""
    op, _ = BINARY[name]
    a = positive(seed, pair[0]) if name in ("pow",) else normal(seed, pair[0])
    b = positive(seed + 1, pair[1]) if name in ("div", "pow") else normal(seed + 1, pair[1])
    assert gradcheck(op, Tensor(a), Tensor(b))


SCALAR_FORMS = {
    "x + 2.5": (lambda x: x + 2.5, lambda a: a + 2.5),
    "2.5 + x": (lambda x: 2.5 + x, lambda a: 2.5 + a),
    "x - 1.5": (lambda x: x - 1.5, lambda a: a - 1.5),
    "1.5 - x": (lambda x: 1.5 - x, lambda a: 1.5 - a),
    "x * 3": (lambda x: x * 3, lambda a: a * 3),
    "3 * x": (lambda x: 3 * x, lambda a: 3 * a),
    "x / 4": (lambda x: x / 4, lambda a: a / 4),
    "4 / x": (lambda x: 4 / x, lambda a: 4 / a),
    "x ** 3": (lambda x: x ** 3, lambda a: a ** 3),
    "x ** 0.5": (lambda x: x ** 0.5, np.sqrt),
    "x ** -1": (lambda x: x ** -1, lambda a: 1 / a),
    "2 ** x": (lambda x: 2 ** x, lambda a: 2.0 ** a),
    "array + x": (lambda x: np.full(x.shape, 0.5) + x, lambda a: 0.5 + a),
    "x * array": (lambda x: x * np.full(x.shape, 2.0), lambda a: a * 2.0),
}


@pytest.mark.parametrize("form", sorted(SCALAR_FORMS))
@given(shape=shapes, seed=seeds)
def test_scalar_operands_both_sides(backend, form, shape, seed):
    op, expected = SCALAR_FORMS[form]
    a = positive(seed, shape)  # positive: fine for every form (4 / x, x ** 0.5)
    out = op(Tensor(a))
    assert isinstance(out, Tensor) and out.shape == np.shape(a)
    np.testing.assert_allclose(out.data, expected(a), rtol=1e-12)
    assert gradcheck(op, Tensor(a))


def test_scalar_keeps_tensor_dtype():
    x32 = Tensor(np.ones(3, dtype=np.float32))
    assert (x32 * 2.0).dtype == np.float32
    assert (2.0 - x32).dtype == np.float32
    assert (x32 ** 2).dtype == np.float32
    assert (Tensor(np.ones(3)) + 1).dtype == np.float64


def test_pow_tensor_exponent_gradients_known_values():
    a = Tensor(np.array([2.0, 3.0]), requires_grad=True)
    b = Tensor(np.array([3.0, 2.0]), requires_grad=True)
    (a ** b).sum().backward()
    np.testing.assert_allclose(a.grad, [3 * 2.0 ** 2, 2 * 3.0])
    np.testing.assert_allclose(b.grad, [8 * np.log(2.0), 9 * np.log(3.0)])


def test_relu_abs_clip_gradients_known_values(backend):
    x = Tensor(np.array([-2.0, -0.3, 0.4, 3.0]), requires_grad=True)
    (x.relu() + x.abs() + x.clip(-1.0, 1.0)).sum().backward()
    np.testing.assert_array_equal(x.grad, [0 - 1 + 0, 0 - 1 + 1, 1 + 1 + 1, 1 + 1 + 0])


def test_ops_module_functions_match_operators():
    a = Tensor(np.array([1.0, 2.0]))
    np.testing.assert_array_equal(tinydl.ops.add(a, 1.0).data, (a + 1.0).data)
    np.testing.assert_array_equal(tinydl.ops.neg(a).data, [-1.0, -2.0])
