"""tinydl.functional: softmax, log_softmax, softmax_cross_entropy, conv2d, max/avg pooling, dropout.

Forward values are checked against explicit Python loops written here (independent of the
reference kernels), output shapes against Keras' formulas, gradients by finite differences.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinydl.functional as F
from tinydl import Tensor
from tinydl.utils import gradcheck

seeds = st.integers(0, 2**16)


def normal(seed, shape):
    return np.random.default_rng(seed).standard_normal(shape)


def distinct(seed, shape):
    """Values at least 0.1 apart (a shuffled grid), so max pooling has no ties."""
    size = int(np.prod(shape))
    return (np.random.default_rng(seed).permutation(size) * 0.1 - size * 0.05).reshape(shape)


# ----------------------------------------------------------------------------- loop oracles

def keras_axis(size, window, stride, padding):
    """(out, pad_before) along one axis by the Keras/TensorFlow rule."""
    if padding == "valid":
        return (size - window) // stride + 1, 0
    out = math.ceil(size / stride)
    total = max((out - 1) * stride + window - size, 0)
    return out, total // 2


def loop_conv2d(x, w, b, strides, padding):
    """y[n, i, j, f] = b[f] + sum over (di, dj, c) inside the image of x[n, r, s, c] * w[di, dj, c, f]."""
    n, h, wd, c = x.shape
    kh, kw, _, f = w.shape
    oh, top = keras_axis(h, kh, strides[0], padding)
    ow, left = keras_axis(wd, kw, strides[1], padding)
    y = np.zeros((n, oh, ow, f))
    for b_ in range(n):
        for i in range(oh):
            for j in range(ow):
                for fo in range(f):
                    total = 0.0 if b is None else float(b[fo])
                    for di in range(kh):
                        for dj in range(kw):
                            r, s = i * strides[0] - top + di, j * strides[1] - left + dj
                            if 0 <= r < h and 0 <= s < wd:
                                for ci in range(c):
                                    total += float(x[b_, r, s, ci]) * float(w[di, dj, ci, fo])
                    y[b_, i, j, fo] = total
    return y


def loop_pool(x, pool, strides, padding, kind):
    """Max or mean over the real (unpadded) elements of each window."""
    n, h, wd, c = x.shape
    oh, top = keras_axis(h, pool[0], strides[0], padding)
    ow, left = keras_axis(wd, pool[1], strides[1], padding)
    y = np.zeros((n, oh, ow, c))
    for b_ in range(n):
        for i in range(oh):
            for j in range(ow):
                for ch in range(c):
                    values = []
                    for di in range(pool[0]):
                        for dj in range(pool[1]):
                            r, s = i * strides[0] - top + di, j * strides[1] - left + dj
                            if 0 <= r < h and 0 <= s < wd:
                                values.append(float(x[b_, r, s, ch]))
                    y[b_, i, j, ch] = max(values) if kind == "max" else sum(values) / len(values)
    return y


def loop_softmax_cross_entropy(logits, labels):
    total = 0.0
    for row, label in zip(logits.tolist(), labels.tolist()):
        top = max(row)
        log_norm = top + math.log(sum(math.exp(v - top) for v in row))
        total += log_norm - row[label]
    return total / len(labels)


# ----------------------------------------------------------------------------- geometry strategies

@st.composite
def window_cases(draw, max_window=4):
    """(input shape NHWC, window (KH, KW), strides, padding): batch 1-2, odd sizes,
    non-square windows, strides 1-3, both paddings; 'valid' windows fit the input."""
    n = draw(st.integers(1, 2))
    h, w = draw(st.integers(1, 7)), draw(st.integers(1, 7))
    c = draw(st.integers(1, 3))
    padding = draw(st.sampled_from(["valid", "same"]))
    kh, kw = draw(st.integers(1, max_window)), draw(st.integers(1, max_window))
    if padding == "valid":
        kh, kw = min(kh, h), min(kw, w)
    strides = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    return (n, h, w, c), (kh, kw), strides, padding


def keras_shape(x_shape, window, strides, padding, channels):
    oh, _ = keras_axis(x_shape[1], window[0], strides[0], padding)
    ow, _ = keras_axis(x_shape[2], window[1], strides[1], padding)
    return (x_shape[0], oh, ow, channels)


# ----------------------------------------------------------------------------- conv2d

CONV_FIXED = [
    # (x shape, kernel (KH, KW), strides, padding): each 'same' case with an even and an odd kernel
    ((1, 5, 5, 1), (3, 3), (1, 1), "valid"),
    ((2, 5, 4, 2), (2, 3), (1, 2), "valid"),
    ((1, 6, 7, 2), (3, 2), (2, 3), "valid"),
    ((1, 5, 5, 1), (3, 3), (1, 1), "same"),
    ((1, 5, 5, 1), (2, 2), (1, 1), "same"),
    ((2, 5, 6, 2), (4, 3), (2, 2), "same"),
    ((1, 7, 4, 3), (2, 5), (3, 2), "same"),
    ((1, 1, 1, 2), (3, 3), (1, 1), "same"),
]


@pytest.mark.parametrize("x_shape, window, strides, padding", CONV_FIXED)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_conv2d_forward_matches_loops(backend, x_shape, window, strides, padding, dtype):
    f = 3
    x = normal(0, x_shape).astype(dtype)
    w = normal(1, window + (x_shape[3], f)).astype(dtype)
    b = normal(2, (f,)).astype(dtype)
    y = F.conv2d(Tensor(x), Tensor(w), Tensor(b), strides=strides, padding=padding)
    assert y.dtype == dtype
    assert y.shape == keras_shape(x_shape, window, strides, padding, f)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(y.data, loop_conv2d(x, w, b, strides, padding), rtol=tol, atol=tol)
    fused = F.conv2d(Tensor(x), Tensor(w), Tensor(b), strides=strides, padding=padding, fused_relu=True)
    np.testing.assert_allclose(fused.data, np.maximum(loop_conv2d(x, w, b, strides, padding), 0),
                               rtol=tol, atol=tol)
    unbiased = F.conv2d(Tensor(x), Tensor(w), None, strides=strides, padding=padding)
    np.testing.assert_allclose(unbiased.data, loop_conv2d(x, w, None, strides, padding), rtol=tol, atol=tol)


def test_conv2d_known_value():
    """A 3x3 all-ones kernel over a 3x3 image of 1..9 with 'same' padding: neighbourhood sums."""
    x = np.arange(1.0, 10.0).reshape(1, 3, 3, 1)
    y = F.conv2d(Tensor(x), Tensor(np.ones((3, 3, 1, 1))), padding="same")
    np.testing.assert_array_equal(y.data[0, :, :, 0], [[12, 21, 16], [27, 45, 33], [24, 39, 28]])


@given(case=window_cases(), f=st.integers(1, 3), bias=st.booleans(), fused=st.booleans(), seed=seeds)
def test_conv2d_gradcheck(backend, case, f, bias, fused, seed):
    x_shape, window, strides, padding = case
    x = normal(seed, x_shape)
    w = normal(seed + 1, window + (x_shape[3], f))
    args = [Tensor(x), Tensor(w)] + ([Tensor(normal(seed + 2, (f,)))] if bias else [])

    def fn(x_, w_, b_=None):
        return F.conv2d(x_, w_, b_, strides=strides, padding=padding, fused_relu=fused)

    assert fn(*args).shape == keras_shape(x_shape, window, strides, padding, f)
    assert gradcheck(fn, *args)


@given(case=window_cases(max_window=5), f=st.integers(1, 2))
def test_conv2d_output_shape_follows_keras(backend, case, f):
    x_shape, window, strides, padding = case
    y = F.conv2d(np.zeros(x_shape, np.float32), np.zeros(window + (x_shape[3], f), np.float32),
                 strides=strides, padding=padding)
    assert y.shape == keras_shape(x_shape, window, strides, padding, f)


def test_conv2d_accepts_int_strides_and_upper_case_padding():
    y = F.conv2d(np.ones((1, 6, 6, 1)), np.ones((3, 3, 1, 1)), strides=2, padding="SAME")
    assert y.shape == (1, 3, 3, 1)


# ----------------------------------------------------------------------------- pooling

POOL_FIXED = [
    ((1, 4, 4, 1), (2, 2), None, "valid"),
    ((2, 5, 5, 2), (2, 2), None, "valid"),
    ((1, 5, 7, 2), (3, 2), (1, 2), "valid"),
    ((1, 5, 5, 1), (3, 3), (2, 2), "same"),
    ((1, 5, 5, 1), (2, 2), (2, 2), "same"),
    ((2, 5, 6, 3), (2, 3), (1, 1), "same"),
    ((1, 7, 4, 1), (4, 2), (3, 3), "same"),
]


@pytest.mark.parametrize("x_shape, pool, strides, padding", POOL_FIXED)
@pytest.mark.parametrize("kind", ["max", "avg"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_pool_forward_matches_loops(backend, x_shape, pool, strides, padding, kind, dtype):
    x = normal(3, x_shape).astype(dtype)
    fn = F.max_pool2d if kind == "max" else F.avg_pool2d
    y = fn(Tensor(x), pool_size=pool, strides=strides, padding=padding)
    effective = pool if strides is None else strides
    assert y.dtype == dtype
    assert y.shape == keras_shape(x_shape, pool, effective, padding, x_shape[3])
    tol = 1e-6 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(y.data, loop_pool(x, pool, effective, padding, kind), rtol=tol, atol=tol)


def test_pool_padding_is_ignored_known_values():
    """'same' 2x2 pooling with stride 2 of a 3x3 image pads one row and column at the end;
    the max ignores them (all inputs negative) and the mean divides by the real count."""
    x = -np.arange(1.0, 10.0).reshape(1, 3, 3, 1)
    mx = F.max_pool2d(Tensor(x), 2, padding="same").data[0, :, :, 0]
    av = F.avg_pool2d(Tensor(x), 2, padding="same").data[0, :, :, 0]
    np.testing.assert_array_equal(mx, [[-1, -3], [-7, -9]])
    np.testing.assert_array_equal(av, [[-3, -4.5], [-7.5, -9]])


@pytest.mark.parametrize("kind", ["max", "avg"])
@given(case=window_cases(), default_strides=st.booleans(), seed=seeds)
def test_pool_gradcheck(backend, kind, case, default_strides, seed):
    x_shape, pool, strides, padding = case
    fn = F.max_pool2d if kind == "max" else F.avg_pool2d
    strides_arg = None if default_strides else strides
    x = distinct(seed, x_shape) if kind == "max" else normal(seed, x_shape)
    y = fn(Tensor(x), pool, strides_arg, padding)
    assert y.shape == keras_shape(x_shape, pool, pool if default_strides else strides, padding, x_shape[3])
    assert gradcheck(lambda t: fn(t, pool, strides_arg, padding), Tensor(x))


def test_max_pool_gradient_goes_to_the_winner():
    x = Tensor(np.array([[1.0, 4.0], [3.0, 2.0]]).reshape(1, 2, 2, 1), requires_grad=True)
    F.max_pool2d(x, 2).sum().backward()
    np.testing.assert_array_equal(x.grad[0, :, :, 0], [[0, 1], [0, 0]])


# ----------------------------------------------------------------------------- softmax family

@st.composite
def logits_and_axis(draw):
    shape = tuple(draw(st.lists(st.integers(1, 5), min_size=1, max_size=3)))
    return shape, draw(st.integers(-len(shape), len(shape) - 1))


@given(case=logits_and_axis(), seed=seeds)
def test_softmax_and_log_softmax_forward_and_gradcheck(backend, case, seed):
    shape, axis = case
    x = normal(seed, shape) * 3
    e = np.exp(x)
    expected = e / e.sum(axis=axis, keepdims=True)
    np.testing.assert_allclose(F.softmax(Tensor(x), axis=axis).data, expected, rtol=1e-10)
    np.testing.assert_allclose(F.log_softmax(Tensor(x), axis=axis).data, np.log(expected), rtol=1e-9,
                               atol=1e-12)
    assert gradcheck(lambda t: F.softmax(t, axis=axis), Tensor(x))
    assert gradcheck(lambda t: F.log_softmax(t, axis=axis), Tensor(x))


def test_softmax_is_stable_for_large_logits():
    x = np.array([[1000.0, 1000.0, -1000.0]], dtype=np.float32)
    np.testing.assert_allclose(F.softmax(x).data, [[0.5, 0.5, 0.0]])
    np.testing.assert_allclose(F.log_softmax(x).data, [[-math.log(2), -math.log(2), -2000 - math.log(2)]], rtol=1e-6)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n, k", [(1, 1), (1, 3), (4, 5), (3, 2)])
def test_softmax_cross_entropy_forward_matches_loops(backend, dtype, n, k):
    rng = np.random.default_rng(n * 10 + k)
    logits = (rng.standard_normal((n, k)) * 4).astype(dtype)
    labels = rng.integers(0, k, n)
    loss = F.softmax_cross_entropy(Tensor(logits), labels)
    assert loss.shape == () and loss.dtype == dtype
    expected = loop_softmax_cross_entropy(logits.astype(np.float64), labels)
    np.testing.assert_allclose(loss.item(), expected, rtol=1e-5 if dtype == np.float32 else 1e-12)


def test_softmax_cross_entropy_known_values(backend):
    # uniform logits over 4 classes: loss log(4); huge logits stay finite
    assert F.softmax_cross_entropy(np.zeros((2, 4)), np.array([0, 3])).item() == pytest.approx(math.log(4))
    loss = F.softmax_cross_entropy(np.array([[1000.0, 0.0], [0.0, 1000.0]]), np.array([1, 1]))
    assert loss.item() == pytest.approx(500.0)
    # labels may be a list, a (N, 1) column, or any integer dtype
    for labels in ([0, 3], np.array([[0], [3]]), np.array([0, 3], dtype=np.uint8)):
        assert F.softmax_cross_entropy(np.zeros((2, 4)), labels).item() == pytest.approx(math.log(4))


@given(n=st.integers(1, 5), k=st.integers(1, 6), seed=seeds)
def test_softmax_cross_entropy_gradcheck(backend, n, k, seed):
    rng = np.random.default_rng(seed)
    logits = rng.standard_normal((n, k)) * 2
    labels = rng.integers(0, k, n)
    assert gradcheck(F.softmax_cross_entropy, Tensor(logits), labels)
    # and the gradient is (softmax - onehot) / N
    t = Tensor(logits, requires_grad=True)
    F.softmax_cross_entropy(t, labels).backward()
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    expected = e / e.sum(axis=1, keepdims=True)
    expected[np.arange(n), labels] -= 1
    np.testing.assert_allclose(t.grad, expected / n, rtol=1e-10, atol=1e-14)


# ----------------------------------------------------------------------------- dropout

@given(shape=st.lists(st.integers(1, 5), min_size=1, max_size=3).map(tuple), seed=seeds)
def test_dropout_gradcheck_with_a_fixed_mask(backend, shape, seed):
    x = normal(seed, shape)
    assert gradcheck(lambda t: F.dropout(t, 0.3, training=True, rng=np.random.default_rng(0)), Tensor(x))


def test_dropout_forward_zeroes_and_rescales():
    x = np.ones((200, 50))
    y = F.dropout(Tensor(x), 0.3, training=True, rng=np.random.default_rng(1)).data
    kept = y != 0
    np.testing.assert_allclose(y[kept], 1 / 0.7)
    assert abs(kept.mean() - 0.7) < 0.02
    # the same seed gives the same mask
    again = F.dropout(Tensor(x), 0.3, training=True, rng=np.random.default_rng(1)).data
    np.testing.assert_array_equal(y, again)


def test_dropout_off_at_inference_and_rate_zero():
    x = Tensor(np.arange(4.0))
    assert F.dropout(x, 0.5, training=False) is x
    assert F.dropout(x, 0.0, training=True) is x
    with pytest.raises(ValueError, match=r"dropout rate must be in \[0, 1\), got 1.0"):
        F.dropout(x, 1.0, training=True)
