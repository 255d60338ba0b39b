"""Dense, Activation, ReLU, Softmax, Flatten, Dropout and Lambda."""

from __future__ import annotations

import numpy as np
import pytest

from tinydl import Tensor, ops
from tinydl.layers import Activation, Dense, Dropout, Flatten, Lambda, ReLU, Softmax
from tinydl.rng import set_random_seed


def test_dense_values_and_gradcheck(layer_gradcheck):
    x = np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32)
    layer = Dense(5, activation="tanh", bias_initializer="random_normal")
    y = layer(x).data
    np.testing.assert_allclose(y, np.tanh(x @ layer.kernel.data + layer.bias.data), rtol=1e-5)
    assert layer_gradcheck(layer, x, ["kernel", "bias"])


def test_dense_errors():
    with pytest.raises(ValueError, match="units must be a positive int. Received: units=0"):
        Dense(0)
    layer = Dense(3)
    layer(np.zeros((2, 4), np.float32))
    with pytest.raises(ValueError, match=r"in=4, got \(2, 5\)"):
        layer(np.zeros((2, 5), np.float32))


def test_activation_layers():
    x = np.array([[-2.0, -0.5, 0.0, 0.5, 3.0]], np.float32)
    np.testing.assert_allclose(Activation("relu")(x).data, np.maximum(x, 0))
    np.testing.assert_allclose(ReLU()(x).data, np.maximum(x, 0))
    np.testing.assert_allclose(ReLU(max_value=1.0)(x).data, np.clip(x, 0, 1))
    np.testing.assert_allclose(ReLU(negative_slope=0.1)(x).data, np.where(x >= 0, x, 0.1 * x),
                               rtol=1e-6)
    np.testing.assert_allclose(ReLU(threshold=0.5)(x).data, np.where(x >= 0.5, x, 0))
    e = np.exp(x - x.max())
    np.testing.assert_allclose(Softmax()(x).data, e / e.sum(), rtol=1e-6)
    np.testing.assert_allclose(Softmax(axis=0)(x).data, np.ones_like(x))
    with pytest.raises(ValueError, match=r"unknown activation 'rellu'; valid names: \[.*'relu'"):
        Activation("rellu")
    with pytest.raises(ValueError, match="Received: max_value=-1"):
        ReLU(max_value=-1)


def test_relu_options_gradcheck(layer_gradcheck):
    x = np.array([[-2.0, -0.7, 0.3, 0.9, 3.0]])
    assert layer_gradcheck(ReLU(max_value=2.0, negative_slope=0.2, threshold=0.5), x, [])


def test_flatten():
    x = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    np.testing.assert_array_equal(Flatten()(x).data, x.reshape(2, 12))


def test_dropout_inference_is_identity():
    x = np.random.default_rng(0).standard_normal((50, 40)).astype(np.float32)
    layer = Dropout(0.5)
    assert layer(x).data is not None
    np.testing.assert_array_equal(layer(x).data, x)
    np.testing.assert_array_equal(layer(x, training=False).data, x)


@pytest.mark.parametrize("rate", [0.1, 0.5, 0.8])
def test_dropout_training_rate_and_scaling(rate):
    x = np.ones((200, 250), np.float32)
    y = Dropout(rate, seed=0)(x, training=True).data
    assert abs((y == 0).mean() - rate) < 0.01
    np.testing.assert_allclose(y[y != 0], 1 / (1 - rate), rtol=1e-6)


def test_dropout_seeded_repeatability():
    x = np.ones((30, 30), np.float32)
    a, b = Dropout(0.5, seed=7), Dropout(0.5, seed=7)
    np.testing.assert_array_equal(a(x, training=True).data, b(x, training=True).data)
    set_random_seed(3)
    first = Dropout(0.5)(x, training=True).data
    set_random_seed(3)
    np.testing.assert_array_equal(Dropout(0.5)(x, training=True).data, first)
    with pytest.raises(ValueError, match="Received: rate=1.0"):
        Dropout(1.0)


def test_dropout_gradient_uses_the_same_mask():
    x = Tensor(np.ones((10, 10), np.float32), requires_grad=True)
    y = Dropout(0.3, seed=1)(x, training=True)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, y.data)


def test_lambda():
    layer = Lambda(lambda x: ops.flatten(x * 2.0, 1))
    x = np.ones((2, 3, 4), np.float32)
    np.testing.assert_array_equal(layer(x).data, np.full((2, 12), 2.0))
    assert layer.compute_output_shape((None, 3, 4)) == (None, 12)
    assert Lambda(lambda x: x, output_shape=(7,)).compute_output_shape((None, 7)) == (None, 7)
    assert Lambda(lambda x: x, output_shape=lambda s: s[:1] + (1,)).compute_output_shape(
        (None, 3)) == (None, 1)
    with pytest.raises(TypeError, match="function must be callable"):
        Lambda(3)


def test_lambda_gradient_flows():
    x = Tensor(np.array([[1.0, 2.0]], np.float32), requires_grad=True)
    Lambda(lambda t: t * t)(x).sum().backward()
    np.testing.assert_allclose(x.grad, [[2.0, 4.0]])
