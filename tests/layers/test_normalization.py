"""BatchNormalization: training vs inference, moving statistics by hand, gradients, freezing."""

from __future__ import annotations

import numpy as np
import pytest

from tinydl import Tensor
from tinydl.layers import BatchNormalization
from tinydl.ops.normalization import batch_norm_train
from tinydl.utils import gradcheck


def test_training_uses_batch_statistics(images):
    x = images(4, 3, 3, 5) * 3 + 2
    layer = BatchNormalization()
    y = layer(x, training=True).data
    mean, var = x.mean(axis=(0, 1, 2)), x.var(axis=(0, 1, 2))
    np.testing.assert_allclose(y, (x - mean) / np.sqrt(var + 1e-3), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(y.mean(axis=(0, 1, 2)), 0, atol=1e-5)


def test_inference_uses_moving_statistics(images):
    x = images(4, 3, 3, 5) * 3 + 2
    layer = BatchNormalization()
    y = layer(x, training=False).data           # moving_mean 0, moving_variance 1
    np.testing.assert_allclose(y, x / np.sqrt(1 + 1e-3), rtol=1e-5)
    assert layer(x).data.tolist() == y.tolist()  # training=None is inference


def test_moving_statistics_after_one_step_by_hand(images):
    x = images(8, 2, 2, 3) * 2 + 1
    layer = BatchNormalization(momentum=0.9)
    layer(x, training=True)
    mean, biased_var = x.mean(axis=(0, 1, 2)), x.var(axis=(0, 1, 2))
    np.testing.assert_allclose(layer.moving_mean.data, 0 * 0.9 + mean * 0.1, rtol=1e-5)
    np.testing.assert_allclose(layer.moving_variance.data, 1 * 0.9 + biased_var * 0.1, rtol=1e-5)
    layer(x, training=True)
    np.testing.assert_allclose(layer.moving_mean.data, (mean * 0.1) * 0.9 + mean * 0.1, rtol=1e-5)


def test_gamma_beta_and_inference_formula():
    x = np.random.default_rng(0).standard_normal((10, 4)).astype(np.float32)
    layer = BatchNormalization(epsilon=0.01)
    layer.build_for((None, 4))
    gamma, beta = np.array([1, 2, 3, 4], np.float32), np.array([0, -1, 1, 0.5], np.float32)
    mm, mv = np.array([0.1, 0.2, 0.3, 0.4], np.float32), np.array([1, 2, 0.5, 4], np.float32)
    layer.set_weights([gamma, beta, mm, mv])
    np.testing.assert_allclose(layer(x).data, gamma * (x - mm) / np.sqrt(mv + 0.01) + beta,
                               rtol=1e-5)


def test_gradcheck_of_the_batch_norm_op():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((5, 2, 3)) * 2 + 1
    gamma, beta = rng.standard_normal(3), rng.standard_normal(3)
    assert gradcheck(lambda x, g, b: batch_norm_train(x, g, b, -1, 1e-3)[0], x, gamma, beta)
    assert gradcheck(lambda x: batch_norm_train(x, None, None, 1, 1e-3)[0],
                     rng.standard_normal((4, 3, 2)))


def test_gradcheck_through_layer_training_and_inference(images, layer_gradcheck):
    x = images(3, 2, 2, 4, seed=2)
    layer = BatchNormalization(beta_initializer="random_normal", gamma_initializer="random_normal")
    layer.build_for((None, 2, 2, 4))
    assert layer_gradcheck(layer, x, ["gamma", "beta"], training=True)
    assert layer_gradcheck(layer, x, ["gamma", "beta"], training=False)


def test_frozen_layer_runs_in_inference_mode_and_keeps_statistics(images):
    x = images(4, 2, 2, 3) + 5
    layer = BatchNormalization()
    layer.build_for((None, 2, 2, 3))
    layer.trainable = False
    y = layer(x, training=True)
    np.testing.assert_array_equal(layer.moving_mean.data, np.zeros(3))
    np.testing.assert_allclose(y.data, x / np.sqrt(1 + 1e-3), rtol=1e-5)
    assert layer.trainable_weights == [] and not layer.gamma.requires_grad


def test_axis_1_and_no_center_no_scale():
    x = np.random.default_rng(1).standard_normal((6, 3, 4)).astype(np.float32)
    layer = BatchNormalization(axis=1, center=False, scale=False)
    y = layer(x, training=True).data
    assert [w.name for w in layer.weights] == ["moving_mean", "moving_variance"]
    mean, var = x.mean(axis=(0, 2), keepdims=True), x.var(axis=(0, 2), keepdims=True)
    np.testing.assert_allclose(y, (x - mean) / np.sqrt(var + 1e-3), rtol=1e-4, atol=1e-5)


def test_bad_arguments_and_inputs():
    with pytest.raises(ValueError, match="Received: axis='x'"):
        BatchNormalization(axis="x")
    with pytest.raises(ValueError, match="Received: momentum=1.5"):
        BatchNormalization(momentum=1.5)
    with pytest.raises(ValueError, match="gamma_initializer: unknown initializer 'one'"):
        BatchNormalization(gamma_initializer="one")
    with pytest.raises(ValueError, match="non-batch axis"):
        BatchNormalization(axis=0).build_for((None, 3))
    layer = BatchNormalization()
    layer.build_for((None, 4))
    with pytest.raises(ValueError, match=r"expects input with 4 channels on axis -1, got \(2, 5\)"):
        layer(Tensor(np.zeros((2, 5), np.float32)))
