"""Output shapes, parameter counts and MACs against the numbers Keras' model.summary() prints."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, strategies as st

from tinydl.layers import (AveragePooling2D, BatchNormalization, Conv2D, Dense, Dropout, Flatten,
                           GlobalAveragePooling2D, Input, InputLayer, MaxPooling2D, Normalization,
                           RandomCrop, RandomFlip, RandomTranslation, ReLU, Rescaling, Softmax)


def test_conv2d_32_3x3_on_cifar():
    layer = Conv2D(32, (3, 3))
    assert layer.build_for((None, 32, 32, 3)) == (None, 30, 30, 32)
    assert layer.count_params() == 896            # Keras: 3*3*3*32 + 32
    assert [w.name for w in layer.weights] == ["kernel", "bias"]
    assert layer.kernel.shape == (3, 3, 3, 32) and layer.bias.shape == (32,)
    assert layer.macs_per_sample((None, 32, 32, 3)) == 30 * 30 * 3 * 3 * 3 * 32


def test_reference_cifar_cnn():
    layers = [Conv2D(32, (3, 3), activation="relu"), MaxPooling2D(),
              Conv2D(64, (3, 3), activation="relu"), MaxPooling2D(),
              Conv2D(128, (3, 3), activation="relu"), MaxPooling2D(),
              Flatten(), Dense(128, activation="relu"), Dense(10, activation="softmax")]
    shape, shapes, params = (None, 32, 32, 3), [], []
    for layer in layers:
        shape = layer.build_for(shape)
        shapes.append(shape)
        params.append(layer.count_params())
    assert shapes == [(None, 30, 30, 32), (None, 15, 15, 32), (None, 13, 13, 64), (None, 6, 6, 64),
                      (None, 4, 4, 128), (None, 2, 2, 128), (None, 512), (None, 128), (None, 10)]
    assert [p for p in params if p] == [896, 18496, 73856, 65664, 1290]
    assert sum(params) == 160_202
    x = np.zeros((2, 32, 32, 3), np.float32)
    for layer in layers:
        x = layer(x)
    assert x.shape == (2, 10)


def test_batch_normalization_16_channels():
    layer = BatchNormalization()
    assert layer.build_for((None, 8, 8, 16)) == (None, 8, 8, 16)
    assert layer.count_params() == 64
    assert sum(w.size for w in layer.trainable_weights) == 32
    assert [w.name for w in layer.weights] == ["gamma", "beta", "moving_mean", "moving_variance"]
    assert [w.name for w in layer.non_trainable_weights] == ["moving_mean", "moving_variance"]


def test_dense_10_on_5():
    layer = Dense(10)
    assert layer.build_for((None, 5)) == (None, 10)
    assert layer.count_params() == 60
    assert layer.macs_per_sample((None, 5)) == 50


@pytest.mark.parametrize("layer, in_shape, out_shape, params", [
    (Conv2D(8, 3, strides=2, padding="same"), (None, 7, 7, 3), (None, 4, 4, 8), 224),
    (Conv2D(4, (1, 5), strides=(1, 2), padding="same"), (None, 5, 9, 2), (None, 5, 5, 4), 44),
    (Conv2D(4, (2, 3), strides=(2, 1)), (None, 7, 9, 1), (None, 3, 7, 4), 28),
    (Conv2D(6, 3, use_bias=False), (None, 5, 5, 2), (None, 3, 3, 6), 108),
    (MaxPooling2D(), (None, 32, 32, 3), (None, 16, 16, 3), 0),
    (MaxPooling2D((3, 3), strides=2, padding="same"), (None, 5, 5, 1), (None, 3, 3, 1), 0),
    (MaxPooling2D(3), (None, 32, 32, 3), (None, 10, 10, 3), 0),
    (AveragePooling2D((2, 2), strides=(2, 1)), (None, 6, 6, 4), (None, 3, 5, 4), 0),
    (AveragePooling2D(padding="same"), (None, 7, 5, 2), (None, 4, 3, 2), 0),
    (GlobalAveragePooling2D(), (None, 7, 5, 16), (None, 16), 0),
    (GlobalAveragePooling2D(keepdims=True), (None, 7, 5, 16), (None, 1, 1, 16), 0),
    (Flatten(), (None, 4, 4, 128), (None, 2048), 0),
    (Dropout(0.5), (None, 12), (None, 12), 0),
    (ReLU(), (None, 3, 3, 2), (None, 3, 3, 2), 0),
    (Softmax(), (None, 10), (None, 10), 0),
    (Rescaling(1 / 255), (None, 8, 8, 3), (None, 8, 8, 3), 0),
    (Normalization(), (None, 3), (None, 3), 7),               # mean 3, variance 3, count 1
    (Normalization(mean=0.5, variance=0.25), (None, 3), (None, 3), 0),
    (RandomFlip(), (None, 32, 32, 3), (None, 32, 32, 3), 0),
    (RandomCrop(24, 20), (None, 32, 32, 3), (None, 24, 20, 3), 0),
    (RandomTranslation(0.1, 0.1), (None, 32, 32, 3), (None, 32, 32, 3), 0),
    (BatchNormalization(center=False), (None, 10), (None, 10), 30),
    (Dense(4), (None, 3, 7), (None, 3, 4), 32),
])
def test_output_shape_and_params(layer, in_shape, out_shape, params):
    assert layer.build_for(in_shape) == out_shape
    assert layer.count_params() == params
    sample = np.zeros((2,) + in_shape[1:], np.float32)
    assert layer(sample).shape == (2,) + out_shape[1:]


def test_input_layer():
    tensor = Input(shape=(32, 32, 3))           # Keras 3: a symbolic tensor, made by an InputLayer
    assert tensor.shape == (None, 32, 32, 3) and tensor.dtype == "float32"
    layer = tensor.node.layer
    assert isinstance(layer, InputLayer)
    assert layer.output_shape == (None, 32, 32, 3) and layer.count_params() == 0
    assert layer.name.startswith("input_layer")
    x = np.ones((4, 32, 32, 3), np.float32)
    np.testing.assert_array_equal(layer(x).data, x)
    assert InputLayer(input_shape=(5,)).output_shape == (None, 5)
    with pytest.raises(ValueError, match=r"input of shape \(None, 32, 32, 3\).*\(4, 3, 32, 32\)"):
        layer(np.ones((4, 3, 32, 32), np.float32))
    with pytest.raises(ValueError, match="shape=None"):
        InputLayer()


def test_macs_of_weightless_layers_are_small_and_documented():
    assert MaxPooling2D().macs_per_sample((None, 4, 4, 2)) == 0
    assert AveragePooling2D().macs_per_sample((None, 4, 4, 2)) == 2 * 2 * 2 * 4
    assert GlobalAveragePooling2D().macs_per_sample((None, 4, 4, 2)) == 32
    assert BatchNormalization().macs_per_sample((None, 4, 4, 2)) == 32
    assert Flatten().macs_per_sample((None, 4, 4, 2)) == 0


@given(h=st.integers(1, 12), w=st.integers(1, 12), kh=st.integers(1, 4), kw=st.integers(1, 4),
       sh=st.integers(1, 3), sw=st.integers(1, 3), padding=st.sampled_from(["valid", "same"]))
def test_conv_and_pool_shapes_match_call(h, w, kh, kw, sh, sw, padding):
    if padding == "valid" and (kh > h or kw > w):
        return
    x = np.zeros((1, h, w, 2), np.float32)
    for layer in (Conv2D(3, (kh, kw), strides=(sh, sw), padding=padding),
                  MaxPooling2D((kh, kw), strides=(sh, sw), padding=padding),
                  AveragePooling2D((kh, kw), strides=(sh, sw), padding=padding)):
        expected = layer.compute_output_shape((None, h, w, 2))
        if padding == "same":
            assert expected[1:3] == (-(-h // sh), -(-w // sw))
        assert layer(x).shape == (1,) + expected[1:]


def test_unknown_spatial_size_stays_none():
    assert Conv2D(4, 3).compute_output_shape((None, None, None, 3)) == (None, None, None, 4)
    assert Flatten().compute_output_shape((None, None, 3)) == (None, None)
