"""Pooling layers: values against NumPy, defaults, gradients, bad arguments."""

from __future__ import annotations

import numpy as np
import pytest

from tinydl.layers import AveragePooling2D, GlobalAveragePooling2D, MaxPooling2D


def test_max_pool_values(images):
    x = images(2, 4, 6, 3)
    y = MaxPooling2D()(x).data
    np.testing.assert_array_equal(y, x.reshape(2, 2, 2, 3, 2, 3).max(axis=(2, 4)))


def test_average_pool_values_and_strides_default_to_pool_size(images):
    x = images(1, 6, 6, 2)
    layer = AveragePooling2D((3, 3))
    assert layer.strides == (3, 3)
    np.testing.assert_allclose(layer(x).data, x.reshape(1, 2, 3, 2, 3, 2).mean(axis=(2, 4)),
                               rtol=1e-6)


def test_global_average_pool(images):
    x = images(3, 5, 4, 6)
    np.testing.assert_allclose(GlobalAveragePooling2D()(x).data, x.mean(axis=(1, 2)), rtol=1e-6)
    assert GlobalAveragePooling2D(keepdims=True)(x).shape == (3, 1, 1, 6)


@pytest.mark.parametrize("layer", [MaxPooling2D((2, 3), strides=(1, 2), padding="same"),
                                   AveragePooling2D(2, strides=1), GlobalAveragePooling2D()])
def test_gradcheck_through_layer(images, layer_gradcheck, layer):
    x = images(2, 5, 5, 2, seed=3)
    assert layer_gradcheck(layer, x, [])


@pytest.mark.parametrize("cls", [MaxPooling2D, AveragePooling2D])
def test_bad_arguments(cls):
    with pytest.raises(ValueError, match=r"pool_size must be .* Received: pool_size=\(2, 0\)"):
        cls((2, 0))
    with pytest.raises(ValueError, match="Received: strides='2'"):
        cls(2, strides="2")
    with pytest.raises(ValueError, match="Received: padding='causal'"):
        cls(padding="causal")
    with pytest.raises(ValueError, match=r"input of shape \(batch, H, W, C\), got \(None, 8\)"):
        cls()(np.zeros((2, 8), np.float32))
