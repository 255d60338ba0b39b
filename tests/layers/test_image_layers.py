"""The image layers without an oracle library: gradient checks of every new op and layer on
the reference backend, the native backend against the reference, the random layers'
training-only and seeded behaviour, and Keras-style errors for bad arguments."""

from __future__ import annotations

import numpy as np
import pytest

import tinydl
from tinydl import Tensor
from tinydl.layers import (ELU, Conv2DTranspose, Cropping2D, DepthwiseConv2D, GlobalMaxPooling2D,
                           LeakyReLU, Permute, PReLU, RandomBrightness, RandomContrast,
                           RandomRotation, RandomZoom, Reshape, SeparableConv2D, UpSampling2D,
                           ZeroPadding2D)
from tinydl.layers.augmentation_affine import affine_sample
from tinydl.ops.image import conv2d_transpose, depthwise_conv2d, upsample_nearest2d, zero_pad2d
from tinydl.utils import gradcheck


@pytest.fixture
def reference():
    with tinydl.use_backend("reference"):
        yield


def _random(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


# ----------------------------------------------------------------------------- gradient checks

@pytest.mark.parametrize("kernel, strides, padding, output_padding", [
    ((3, 3), (1, 1), "valid", None), ((3, 2), (2, 2), "same", None),
    ((2, 3), (2, 3), "valid", (1, 2)), ((3, 3), (2, 2), "same", (1, 1)), ((1, 1), (3, 2), "valid", None),
])
def test_conv2d_transpose_gradients(reference, kernel, strides, padding, output_padding):
    x, w, b = _random((2, 3, 4, 2)), _random(kernel + (3, 2), 1), _random((3,), 2)
    assert gradcheck(lambda x, w, b: conv2d_transpose(x, w, b, strides, padding, output_padding),
                     x, w, b)


@pytest.mark.parametrize("kernel, strides, padding, m", [
    ((3, 3), (1, 1), "valid", 1), ((3, 2), (2, 1), "same", 2), ((2, 2), (2, 2), "same", 3),
])
def test_depthwise_conv2d_gradients(reference, kernel, strides, padding, m):
    x, w, b = _random((2, 5, 4, 3)), _random(kernel + (3, m), 1), _random((3 * m,), 2)
    assert gradcheck(lambda x, w, b: depthwise_conv2d(x, w, b, strides, padding), x, w, b)


def test_depthwise_conv2d_equals_grouped_loops():
    x, w = _random((2, 5, 6, 3)).astype(np.float32), _random((3, 2, 3, 2), 1).astype(np.float32)
    y = depthwise_conv2d(x, w, strides=(2, 1), padding="valid").data
    expected = np.zeros((2, 2, 5, 6), np.float32)
    for oh in range(2):
        for ow in range(5):
            patch = x[:, 2 * oh:2 * oh + 3, ow:ow + 2, :]              # (N, KH, KW, C)
            expected[:, oh, ow] = np.einsum("nijc,ijcm->ncm", patch, w).reshape(2, 6)
    np.testing.assert_allclose(y, expected, rtol=1e-5, atol=1e-5)


def test_pad_and_upsample_gradients(reference):
    x = _random((2, 3, 2, 2))
    assert gradcheck(lambda x: zero_pad2d(x, (1, 0, 2, 1)), x)
    assert gradcheck(lambda x: upsample_nearest2d(x, (2, 3)), x)


@pytest.mark.parametrize("layer, shape, weights", [
    (Conv2DTranspose(3, 3, strides=2, padding="same", activation="tanh"), (3, 3, 2),
     ["kernel", "bias"]),
    (DepthwiseConv2D(3, depth_multiplier=2, padding="same"), (4, 4, 2), ["kernel", "bias"]),
    (SeparableConv2D(3, 2, strides=2), (5, 5, 2), ["depthwise_kernel", "pointwise_kernel", "bias"]),
    (GlobalMaxPooling2D(), (3, 4, 2), []),
    (UpSampling2D((2, 3), interpolation="bilinear"), (2, 3, 2), []),
    (Cropping2D(((1, 0), (0, 1))), (3, 3, 2), []),
    (Reshape((-1, 2)), (3, 2, 2), []), (Permute((3, 1, 2)), (2, 3, 2), []),
    (LeakyReLU(0.2), (3, 4), []), (ELU(0.7), (3, 4), []),
    (PReLU(alpha_initializer="ones", shared_axes=[1]), (3, 4), ["alpha"]),
])
def test_layer_gradients(reference, layer_gradcheck, layer, shape, weights):
    layer.build_for((None,) + shape)
    for name in weights:  # non-trivial values, away from the zero initializers
        getattr(layer, name).assign(_random(getattr(layer, name).shape, 5) * 0.5)
    x = _random((2,) + shape, 3) + 0.05  # keeps the activations' kinks away from the samples
    assert layer_gradcheck(layer, x, weights)


@pytest.mark.parametrize("mode", ["reflect", "wrap", "constant", "nearest"])
def test_affine_sample_gradient(reference, mode):
    matrices = np.array([[0.9, -0.3, 0.7, 0.3, 0.9, -0.4], [1.2, 0.0, -0.45, 0.0, 0.8, 0.33]])
    assert gradcheck(lambda x: affine_sample(x, matrices, "bilinear", mode, 0.5), _random((2, 4, 5, 2)))


def test_color_layers_gradient_in_training(reference):
    x = Tensor(np.random.default_rng(0).uniform(0.2, 0.8, (2, 3, 3, 2)))
    for layer in (RandomContrast(0.3, value_range=(0, 1), seed=1),
                  RandomBrightness(0.1, value_range=(0, 1), seed=1)):
        seed_state = layer._generator.bit_generator.state
        def fn(x, layer=layer, seed_state=seed_state):
            layer._generator.bit_generator.state = seed_state  # the same draw every call
            return layer(x, training=True)
        assert gradcheck(fn, x)


def test_native_transposed_and_separable_match_reference(backend):
    x = _random((2, 5, 4, 3)).astype(np.float32)
    layers = [Conv2DTranspose(4, (3, 2), strides=(2, 1), padding="same"), SeparableConv2D(4, 3)]
    for layer in layers:
        layer.build_for((None, 5, 4, 3))
    with tinydl.check_backends() as gaps:
        for layer in layers:
            t = Tensor(x, requires_grad=True)
            layer(t).sum().backward()
    assert all(gap < 1e-5 for gap in gaps.values()), gaps


# ----------------------------------------------------------------------------- random layers

RANDOM_LAYERS = [
    lambda seed: RandomRotation(0.2, seed=seed), lambda seed: RandomZoom(0.3, 0.2, seed=seed),
    lambda seed: RandomContrast(0.5, seed=seed), lambda seed: RandomBrightness(0.3, seed=seed),
]


@pytest.mark.parametrize("make", RANDOM_LAYERS, ids=["rotation", "zoom", "contrast", "brightness"])
def test_random_layers_act_only_in_training_and_repeat_with_a_seed(make):
    x = np.random.default_rng(0).uniform(0, 255, (4, 6, 5, 3)).astype(np.float32)
    layer = make(7)
    for training in (None, False):
        np.testing.assert_array_equal(layer(x, training=training).data, x)
    first, second = layer(x, training=True).data, layer(x, training=True).data
    assert not np.allclose(first, x) and not np.allclose(first, second)
    np.testing.assert_array_equal(make(7)(x, training=True).data, first)
    assert first.shape == x.shape and first.dtype == np.float32


def test_zoom_without_width_factor_keeps_aspect_ratio():
    layer = RandomZoom((0.2, 0.5), seed=0)
    matrices = layer._matrices(3, 6, 6)
    np.testing.assert_array_equal(matrices[:, 0], matrices[:, 4])
    assert np.all((matrices[:, 0] >= 1.2) & (matrices[:, 0] <= 1.5))


def test_contrast_and_brightness_stay_in_value_range():
    x = np.random.default_rng(1).uniform(0, 1, (8, 4, 4, 3)).astype(np.float32)
    for layer in (RandomContrast(1.0, value_range=(0, 1), seed=0),
                  RandomBrightness(1.0, value_range=(0, 1), seed=0)):
        y = layer(x, training=True).data
        assert y.min() >= 0 and y.max() <= 1


# ----------------------------------------------------------------------------- bad arguments

@pytest.mark.parametrize("make, message", [
    (lambda: Conv2DTranspose(0, 3), "Received: filters=0"),
    (lambda: Conv2DTranspose(4, 3, strides=2, output_padding=2), "Received: output_padding=2"),
    (lambda: Conv2DTranspose(4, 3, dilation_rate=2), "Received: dilation_rate=2"),
    (lambda: DepthwiseConv2D(3, depth_multiplier=0), "Received: depth_multiplier=0"),
    (lambda: SeparableConv2D(4, 3, data_format="channels_first"),
     "Received: data_format='channels_first'"),
    (lambda: UpSampling2D(interpolation="bicubic"), "Received: interpolation='bicubic'"),
    (lambda: ZeroPadding2D(((1, 2), 3)), r"Received: padding=\(\(1, 2\), 3\)"),
    (lambda: Cropping2D(-1), "Received: cropping=-1"),
    (lambda: Reshape((-1, -1)), r"Received: target_shape=\(-1, -1\)"),
    (lambda: Permute((1, 3)), r"Received: dims=\[1, 3\]"),
    (lambda: LeakyReLU(-0.1), "Received: negative_slope=-0.1"),
    (lambda: PReLU(shared_axes=[0]), r"Received: shared_axes=\[0\]"),
    (lambda: RandomRotation(1.5), "Received: factor=1.5"),
    (lambda: RandomZoom(-1.0), "Received: height_factor=-1.0"),
    (lambda: RandomRotation(0.1, fill_mode="mirror"), "Received: fill_mode='mirror'"),
    (lambda: RandomContrast(-0.5), "Received: factor=-0.5"),
    (lambda: RandomBrightness(0.2, value_range=255), "Received: value_range=255"),
])
def test_bad_arguments_raise_naming_the_argument(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_shape_errors_name_the_layer_and_shape():
    with pytest.raises(ValueError, match="Reshape.*cannot be reshaped"):
        Reshape((5, 5)).build_for((None, 4, 6))
    with pytest.raises(ValueError, match="Cropping2D.*removes all"):
        Cropping2D(2).build_for((None, 4, 6, 1))
    with pytest.raises(ValueError, match=r"Conv2DTranspose expects input of shape \(batch, H, W, C\)"):
        Conv2DTranspose(2, 3).build_for((None, 4, 6))
    layer = DepthwiseConv2D(3)
    layer.build_for((None, 5, 5, 2))
    with pytest.raises(ValueError, match="C=2"):
        layer(np.zeros((1, 5, 5, 3), np.float32))
