"""Conv2D: forward equals F.conv2d, fused ReLU, gradients through the layer, input checks."""

from __future__ import annotations

import numpy as np
import pytest

from tinydl import Tensor, functional as F
from tinydl.layers import Conv2D


def test_forward_equals_functional_conv2d(images):
    x = images(2, 7, 6, 3)
    layer = Conv2D(5, (3, 2), strides=(2, 1), padding="same", bias_initializer="random_normal")
    y = layer(x)
    expected = F.conv2d(Tensor(x), layer.kernel, layer.bias, strides=(2, 1), padding="same")
    np.testing.assert_allclose(y.data, expected.data, rtol=1e-5, atol=1e-6)


def test_forward_against_numpy_loops(images):
    """The definition: y[n, i, j, f] = sum_{a,b,c} x[n, i+a, j+b, c] * k[a, b, c, f] + bias[f]."""
    x = images(1, 5, 4, 2)
    layer = Conv2D(3, (2, 3), bias_initializer="ones")
    y = layer(x).data
    k, b = layer.kernel.data, layer.bias.data
    for i in range(4):
        for j in range(2):
            window = x[0, i:i + 2, j:j + 3, :]
            np.testing.assert_allclose(y[0, i, j], np.tensordot(window, k, 3) + b, rtol=1e-5)


def test_relu_activation_is_fused_and_equals_relu_after(images):
    x = images(2, 6, 6, 3)
    fused = Conv2D(4, 3, activation="relu")
    plain = Conv2D(4, 3)
    plain.build_for((None, 6, 6, 3))
    fused.build_for((None, 6, 6, 3))
    plain.set_weights(fused.get_weights())
    np.testing.assert_allclose(fused(x).data, np.maximum(plain(x).data, 0), rtol=1e-6)
    assert (fused(x).data >= 0).all()


@pytest.mark.parametrize("activation, padding, strides", [
    (None, "valid", (1, 1)), ("relu", "same", (2, 1)), ("tanh", "same", (1, 2))])
def test_gradcheck_through_layer(images, layer_gradcheck, activation, padding, strides):
    layer = Conv2D(3, (2, 3), strides=strides, padding=padding, activation=activation,
                   bias_initializer="random_normal")
    x = images(2, 5, 4, 2, seed=1)
    layer.build_for((None, 5, 4, 2))
    assert layer_gradcheck(layer, x, ["kernel", "bias"])


def test_float32_weight_gradients_reach_the_variables(images):
    x = images(2, 5, 5, 2)
    layer = Conv2D(3, 3)
    layer(x).sum().backward()
    assert layer.kernel.grad.shape == (3, 3, 2, 3) and layer.kernel.grad.dtype == np.float32
    # d(sum y)/d bias[f] = number of output positions of the batch
    np.testing.assert_allclose(layer.bias.grad, np.full(3, 2 * 3 * 3), rtol=1e-6)
    # d(sum y)/d kernel[a, b, c, f] = sum of the input values the entry touches
    expected = np.array([[x[:, a:a + 3, b:b + 3, :].sum(axis=(0, 1, 2)) for b in range(3)]
                         for a in range(3)])
    np.testing.assert_allclose(layer.kernel.grad, np.repeat(expected[..., None], 3, -1), rtol=1e-4)


def test_wrong_channel_input_names_expected_c_and_received_shape():
    layer = Conv2D(16, 3, input_shape=(32, 32, 3))
    with pytest.raises(ValueError) as info:
        layer(np.zeros((32, 3, 32, 32), np.float32))
    assert str(info.value) == ("Conv2D expects input of shape (batch, H, W, C) with C=3, "
                               "got (32, 3, 32, 32)")
    built = Conv2D(16, 3)
    built(np.zeros((1, 8, 8, 3), np.float32))
    with pytest.raises(ValueError, match=r"with C=3, got \(1, 8, 8, 5\)"):
        built(np.zeros((1, 8, 8, 5), np.float32))
    with pytest.raises(ValueError, match=r"\(batch, H, W, C\), got \(None, 8, 3\)"):
        Conv2D(4, 3)(np.zeros((8, 8, 3), np.float32))


def test_valid_window_larger_than_input():
    with pytest.raises(ValueError, match="Conv2D.*larger than the input.*padding='same'"):
        Conv2D(4, 5).build_for((None, 3, 3, 1))


@pytest.mark.parametrize("kwargs, match", [
    (dict(filters=0, kernel_size=3), "filters must be a positive int. Received: filters=0"),
    (dict(filters=4, kernel_size=(3,)), r"kernel_size must be .* Received: kernel_size=\(3,\)"),
    (dict(filters=4, kernel_size=3, strides=0), "Received: strides=0"),
    (dict(filters=4, kernel_size=3, strides=(1, 1.5)), r"Received: strides=\(1, 1.5\)"),
    (dict(filters=4, kernel_size=3, padding="full"),
     r"padding must be one of \('valid', 'same'\). Received: padding='full'"),
    (dict(filters=4, kernel_size=3, activation="relux"), r"unknown activation 'relux'.*'relu'"),
    (dict(filters=4, kernel_size=3, kernel_initializer="glorot"),
     r"kernel_initializer: unknown initializer 'glorot'.*'glorot_uniform'"),
    (dict(filters=4, kernel_size=3, bias_regularizer="l3"), r"unknown regularizer 'l3'.*'l2'"),
])
def test_bad_config_raises_with_clear_message(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Conv2D(**kwargs)


def test_unexpected_keyword_is_a_type_error():
    with pytest.raises(TypeError, match="dilation_rate"):
        Conv2D(4, 3, dilation_rate=2)
