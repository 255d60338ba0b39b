"""Rescaling, Normalization.adapt, and the random augmentation layers."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, strategies as st

from tinydl import Tensor
from tinydl.layers import Normalization, RandomCrop, RandomFlip, RandomTranslation, Rescaling
from tinydl.rng import set_random_seed
from tinydl.utils import gradcheck


def test_rescaling_values():
    x = np.array([[0.0, 127.5, 255.0]], np.float32)
    np.testing.assert_allclose(Rescaling(1 / 255)(x).data, [[0, 0.5, 1]], rtol=1e-6)
    np.testing.assert_allclose(Rescaling(1 / 127.5, offset=-1)(x).data, [[-1, 0, 1]], atol=1e-6)
    np.testing.assert_allclose(Rescaling([1, 2, 3])(x).data, [[0, 255, 765]])
    with pytest.raises(ValueError, match="Received: scale='a'"):
        Rescaling("a")


def test_normalization_adapt_matches_numpy(images):
    x = images(20, 4, 5, 3) * 4 + 7
    layer = Normalization()
    layer.adapt(x)
    np.testing.assert_allclose(layer.mean.data, x.mean(axis=(0, 1, 2)), rtol=1e-5)
    np.testing.assert_allclose(layer.variance.data, x.var(axis=(0, 1, 2)), rtol=1e-5)
    assert [w.name for w in layer.weights] == ["mean", "variance", "count"]
    assert layer.trainable_weights == []
    y = layer(x).data
    np.testing.assert_allclose(y.mean(axis=(0, 1, 2)), 0, atol=1e-4)
    np.testing.assert_allclose(y.std(axis=(0, 1, 2)), 1, rtol=1e-4)


def test_normalization_adapt_on_batches_equals_whole(images):
    x = images(30, 2, 2, 4) * 3 - 1
    whole, parts = Normalization(), Normalization()
    whole.adapt(x)
    parts.adapt([x[:7], Tensor(x[7:19]), x[19:]])
    np.testing.assert_allclose(parts.mean.data, whole.mean.data, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(parts.variance.data, whole.variance.data, rtol=1e-5)


def test_normalization_axes_fixed_statistics_invert_and_zero_variance():
    x = np.random.default_rng(0).standard_normal((10, 3, 2)).astype(np.float32)
    layer = Normalization(axis=(1, 2))
    layer.adapt(x)
    np.testing.assert_allclose(layer(x).data, (x - x.mean(0)) / x.std(0), rtol=1e-4, atol=1e-5)
    everything = Normalization(axis=None)
    everything.adapt(x)
    assert everything.mean.shape == () and np.isclose(everything.mean.data, x.mean(), atol=1e-6)
    fixed = Normalization(mean=[1.0, 2.0], variance=[4.0, 0.0])
    np.testing.assert_allclose(fixed(np.array([[3.0, 2.0]], np.float32)).data, [[1.0, 0.0]])
    inverse = Normalization(mean=1.0, variance=4.0, invert=True)
    np.testing.assert_allclose(inverse(np.array([[1.0]], np.float32)).data, [[3.0]])
    with pytest.raises(ValueError, match="both mean and variance"):
        Normalization(mean=1.0)


def _moved(layer, x):
    return not np.array_equal(layer(x, training=True).data, x)


@pytest.mark.parametrize("layer", [RandomFlip(seed=1), RandomTranslation(0.3, 0.3, seed=1),
                                   RandomTranslation((-0.2, 0.2), 0.0, fill_mode="constant",
                                                     seed=1)])
def test_augmentation_is_identity_in_inference_and_moves_in_training(images, layer):
    x = images(8, 6, 6, 2)
    np.testing.assert_array_equal(layer(x).data, x)
    np.testing.assert_array_equal(layer(x, training=False).data, x)
    assert _moved(layer, x) and layer(x, training=True).shape == x.shape


@pytest.mark.parametrize("make", [lambda seed: RandomFlip(seed=seed),
                                  lambda seed: RandomCrop(4, 3, seed=seed),
                                  lambda seed: RandomTranslation(0.4, 0.4, seed=seed)])
def test_seeded_repeatability(images, make):
    x = images(6, 8, 8, 2)
    np.testing.assert_array_equal(make(5)(x, training=True).data, make(5)(x, training=True).data)
    set_random_seed(11)
    first = make(None)(x, training=True).data
    set_random_seed(11)
    np.testing.assert_array_equal(make(None)(x, training=True).data, first)


def test_random_flip_each_image_is_itself_or_a_flip(images):
    x = images(16, 4, 5, 1)
    for mode, flips in [("horizontal", [lambda a: a[:, ::-1]]), ("vertical", [lambda a: a[::-1]]),
                        ("horizontal_and_vertical",
                         [lambda a: a[:, ::-1], lambda a: a[::-1], lambda a: a[::-1, ::-1]])]:
        y = RandomFlip(mode, seed=0)(x, training=True).data
        seen = set()
        for image, out in zip(x, y):
            options = [image] + [f(image) for f in flips]
            match = [k for k, o in enumerate(options) if np.array_equal(o, out)]
            assert match, mode
            seen.add(match[0])
        assert len(seen) == len(flips) + 1, mode   # 16 images show every outcome
    with pytest.raises(ValueError, match=r"mode must be one of .* Received: mode='diagonal'"):
        RandomFlip("diagonal")


def test_random_crop_training_is_a_window_of_the_batch(images):
    x = images(3, 8, 7, 2)
    y = RandomCrop(5, 4, seed=2)(x, training=True).data
    assert y.shape == (3, 5, 4, 2)
    windows = [(t, left) for t in range(4) for left in range(4)
               if np.array_equal(x[:, t:t + 5, left:left + 4], y)]
    assert len(windows) == 1


def test_random_crop_inference_is_keras_resize_crop():
    x = np.arange(2 * 8 * 6, dtype=np.float32).reshape(2, 8, 6, 1)
    # target 4x6 has the aspect ratio 2:3 -> the largest centred 4x6 window of 8x6: rows 2..5
    np.testing.assert_array_equal(RandomCrop(4, 6)(x).data, x[:, 2:6])
    # target 4x3 (4:3): window 8x6, halved by bilinear resize = mean of each 2x2 block
    y = RandomCrop(4, 3)(x).data
    np.testing.assert_allclose(y, x.reshape(2, 4, 2, 3, 2, 1).mean(axis=(2, 4)), rtol=1e-6)
    # smaller than the target, in training too: resized up, never an error
    assert RandomCrop(10, 9, seed=0)(x, training=True).shape == (2, 10, 9, 1)


def test_random_translation_integer_shift_and_fill_modes():
    x = np.arange(1, 6, dtype=np.float32).reshape(1, 1, 5, 1)   # one row: 1 2 3 4 5
    expected = {"constant": [0, 0, 1, 2, 3], "nearest": [1, 1, 1, 2, 3],
                "wrap": [4, 5, 1, 2, 3], "reflect": [2, 1, 1, 2, 3]}
    for mode, row in expected.items():
        layer = RandomTranslation(0.0, (0.4, 0.4), fill_mode=mode, interpolation="nearest")
        np.testing.assert_allclose(layer(x, training=True).data[0, 0, :, 0], row, err_msg=mode)
    shifted = RandomTranslation(0.0, (0.1, 0.1), fill_mode="constant", fill_value=-1.0)
    np.testing.assert_allclose(shifted(x, training=True).data[0, 0, :, 0],   # 0.5 pixel right
                               [0.5 * -1 + 0.5 * 1, 1.5, 2.5, 3.5, 4.5])
    with pytest.raises(ValueError, match=r"Received: height_factor=1.5"):
        RandomTranslation(1.5, 0.1)
    with pytest.raises(ValueError, match="fill_mode must be one of"):
        RandomTranslation(0.1, 0.1, fill_mode="mirror")


@given(h=st.integers(1, 9), w=st.integers(1, 9), th=st.integers(1, 9), tw=st.integers(1, 9),
       training=st.booleans())
def test_random_crop_output_shape_always_matches(h, w, th, tw, training):
    layer = RandomCrop(th, tw, seed=0)
    x = np.random.default_rng(0).random((2, h, w, 1)).astype(np.float32)
    assert layer(x, training=training).shape == (2, th, tw, 1)
    assert layer.compute_output_shape((None, h, w, 1)) == (None, th, tw, 1)


@pytest.mark.parametrize("make", [
    lambda: RandomFlip(seed=0), lambda: RandomCrop(3, 3, seed=0), lambda: RandomCrop(4, 3),
    lambda: RandomTranslation(0.3, 0.3, seed=0),
    lambda: RandomTranslation(0.3, 0.3, fill_mode="constant", fill_value=2.0, seed=0)])
@pytest.mark.parametrize("training", [False, True])
def test_augmentation_lets_gradients_through(images, make, training):
    """The pixels move through gathers, so gradients reach the input. Each call of a seeded
    layer draws anew, so the generator is reset before every call to fix the draw."""
    layer, x = make(), images(2, 5, 4, 1)

    def fn(inputs):
        layer._generator = np.random.default_rng(0)
        return layer(inputs, training=training)
    assert gradcheck(fn, x.astype(np.float64))
