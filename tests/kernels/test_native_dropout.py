"""Native dropout (csrc/dropout.c) against the NumPy reference, its mask's statistics, the op's
gradient, and bad input."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinydl
from tinydl import functional as F
from tinydl.kernels import dropout as D
from tinydl.kernels import native


@settings(deadline=None, max_examples=80)
@given(shape=st.lists(st.integers(0, 9), min_size=0, max_size=4),
       dtype=st.sampled_from((np.float32, np.float64)),
       rate=st.one_of(st.sampled_from((0.0, 0.5, 1 - 2**-40)), st.floats(0.0, 0.999)),
       key=st.one_of(st.sampled_from((0, 1, 2**63, 2**64 - 1)), st.integers(0, 2**64 - 1)),
       transposed=st.booleans())
def test_native_gives_the_references_bits(shape, dtype, rate, key, transposed):
    x = np.asarray(np.random.default_rng(len(shape)).standard_normal(shape), dtype=dtype)
    if transposed:  # a non-contiguous view: the entry copies it first
        x = x.T
    want = D.dropout_reference(np.array(x, order="C"), rate, key)
    with tinydl.use_backend("native"):
        got = D.dropout(x, rate, key)
    assert got.dtype == x.dtype and got.shape == x.shape
    assert np.array_equal(got, want)


@pytest.mark.parametrize("dtype", (np.float32, np.float64))
def test_each_instruction_sets_copy_gives_the_references_bits(microkernel, dtype):
    """The element loop is compiled per ISA and follows the forced micro-kernel."""
    x = np.random.default_rng(9).standard_normal(70_001).astype(dtype)
    for rate, key in ((0.3, 12), (0.77, 2**64 - 5)):
        assert np.array_equal(D.dropout_native(x, rate, key), D.dropout_reference(x, rate, key))


@pytest.mark.parametrize("threads", [1, 2, 3])
def test_the_mask_does_not_depend_on_the_thread_count(threads):
    x = np.random.default_rng(0).standard_normal(300_001).astype(np.float32)
    previous = native.get_num_threads()
    try:
        native.set_num_threads(threads)
        got = D.dropout_native(x, 0.3, 99)
    finally:
        native.set_num_threads(previous)
    assert np.array_equal(got, D.dropout_reference(x, 0.3, 99))


@pytest.mark.parametrize("rate", [0.1, 0.5, 0.9])
def test_the_mask_drops_rate_of_the_elements_independently(rate):
    """The fraction dropped, pairs of neighbours and two keys' masks agree with independent
    draws to within 5 standard deviations; the kept values are x * (1 / (1 - rate))."""
    n = 1_000_000
    keep = D.keep_mask(n, rate, 2024)
    p = 1 - rate
    assert abs(keep.mean() - p) < 5 * np.sqrt(p * (1 - p) / n)
    both = (keep[:-1] & keep[1:]).mean()
    assert abs(both - p * p) < 5 * np.sqrt(p * p * (1 - p * p) / n)
    other = D.keep_mask(n, rate, 2025)
    assert abs((keep & other).mean() - p * p) < 5 * np.sqrt(p * p * (1 - p * p) / n)
    x = np.random.default_rng(1).standard_normal(n).astype(np.float32)
    y = D.dropout_native(x, rate, 2024)
    scale = np.float32(1 / (1 - rate))  # in double, then float32: as Keras and PyTorch
    assert np.array_equal(y[keep], x[keep] * scale)
    assert not y[~keep].any()


def test_a_dropped_nan_or_infinity_is_nan_as_in_keras():
    """x * 0: a dropped NaN or infinity gives NaN (tf.nn.dropout multiplies by the mask)."""
    x = np.array([np.nan, np.inf, -np.inf, 1.0] * 50, np.float32)
    keep = D.keep_mask(x.size, 0.5, 5)
    for y in (D.dropout_native(x, 0.5, 5), D.dropout_reference(x, 0.5, 5)):
        dropped_nonfinite = ~keep & ~np.isfinite(x)
        assert dropped_nonfinite.any() and np.isnan(y[dropped_nonfinite]).all()
        assert np.array_equal(y[keep], x[keep] * 2, equal_nan=True)


def test_the_backward_applies_the_forwards_mask():
    """The gradient of sum(c * dropout(x)) is c times the forward's mask: the key drawn from
    the generator in the forward, applied again to the gradient."""
    x = tinydl.Tensor(np.random.default_rng(2).standard_normal((4, 50)).astype(np.float32),
                      requires_grad=True)
    c = np.random.default_rng(3).standard_normal((4, 50)).astype(np.float32)
    y = F.dropout(x, 0.4, training=True, rng=np.random.default_rng(7))
    (y * c).sum().backward()
    key = int(np.random.default_rng(7).integers(0, 2**64, dtype=np.uint64))
    mask = D.dropout_reference(np.ones((4, 50), np.float32), 0.4, key)
    assert np.array_equal(y.data, x.data * mask)
    assert np.array_equal(x.grad, c * mask)


def test_a_seeded_layer_repeats_its_masks_and_an_unseeded_one_follows_set_random_seed():
    x = np.ones((3, 40), np.float32)
    a = tinydl.layers.Dropout(0.5, seed=11)(x, training=True).data
    b = tinydl.layers.Dropout(0.5, seed=11)(x, training=True).data
    assert np.array_equal(a, b) and 0 < (a == 0).sum() < a.size
    tinydl.utils.set_random_seed(4)
    c = tinydl.layers.Dropout(0.5)(x, training=True).data
    tinydl.utils.set_random_seed(4)
    assert np.array_equal(c, tinydl.layers.Dropout(0.5)(x, training=True).data)


@pytest.mark.parametrize("rate, key, error, message", [
    (1.0, 0, ValueError, "dropout: rate must be in [0, 1), got 1.0"),
    (-0.1, 0, ValueError, "dropout: rate must be in [0, 1), got -0.1"),
    (True, 0, TypeError, "dropout: rate must be a float, got bool"),
    ("0.5", 0, TypeError, "dropout: rate must be a float, got str"),
    (0.5, -1, ValueError, "dropout: key must be in [0, 2**64), got -1"),
    (0.5, 2**64, ValueError, "dropout: key must be in [0, 2**64), got 18446744073709551616"),
    (0.5, 1.5, TypeError, "dropout: key must be an int, got float"),
])
def test_bad_arguments_raise_before_any_kernel(rate, key, error, message):
    with pytest.raises(error) as info:
        D.dropout(np.ones(3, np.float32), rate, key)
    assert str(info.value) == message


def test_an_integer_array_raises():
    with pytest.raises(TypeError, match="dropout"):
        D.dropout(np.ones(3, np.int64), 0.5, 1)


@pytest.mark.parametrize("backend", ["reference", "native"])
def test_zero_dimensional_arrays_keep_their_shape(backend):
    """A 0-d array stays 0-d through the elementwise kernels (the dispatcher once made it
    contiguous with np.ascontiguousarray, which returns at least 1-d: a scalar's ReLU came
    back as shape (1,))."""
    x = np.asarray(-1.5, np.float32)
    with tinydl.use_backend(backend):
        assert tinydl.backend.relu_forward(x).shape == ()
        assert tinydl.backend.relu_backward(x, x).shape == ()
        assert tinydl.backend.add_relu(x, x).shape == ()
        assert tinydl.backend.dropout(x, 0.5, 3).shape == ()
        assert tinydl.Tensor(np.asarray(-2.0)).relu().shape == ()
