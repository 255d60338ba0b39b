"""The image layers against Keras 3 on TensorFlow: same weights -> same outputs, shapes,
parameter counts, gradients and SGD step, over a grid of arguments."""

from __future__ import annotations

import numpy as np
import pytest

from keras_oracle import compare_with_keras, import_keras


@pytest.fixture(scope="module")
def keras():
    return import_keras()


CASES = [
    ("GlobalMaxPooling2D", {}, (5, 4, 3)),
    ("GlobalMaxPooling2D", {"keepdims": True}, (3, 6, 2)),
    ("Conv2DTranspose", {"filters": 4, "kernel_size": 3}, (5, 4, 3)),
    ("Conv2DTranspose", {"filters": 2, "kernel_size": (3, 2), "strides": 2, "padding": "same",
                         "activation": "tanh"}, (4, 5, 3)),
    ("Conv2DTranspose", {"filters": 3, "kernel_size": 3, "strides": (2, 3), "padding": "valid",
                         "output_padding": (1, 2)}, (3, 4, 2)),
    ("Conv2DTranspose", {"filters": 3, "kernel_size": 3, "strides": 2, "padding": "same",
                         "output_padding": 1, "use_bias": False}, (4, 4, 2)),
    ("Conv2DTranspose", {"filters": 5, "kernel_size": 1, "strides": 3}, (2, 3, 4)),
    ("Conv2DTranspose", {"filters": 2, "kernel_size": 2, "strides": 3}, (3, 3, 1)),
    ("DepthwiseConv2D", {"kernel_size": 3}, (6, 5, 3)),
    ("DepthwiseConv2D", {"kernel_size": (3, 2), "strides": 2, "padding": "same",
                         "depth_multiplier": 3, "activation": "tanh"}, (7, 6, 2)),
    ("DepthwiseConv2D", {"kernel_size": 2, "depth_multiplier": 2, "use_bias": False}, (4, 4, 3)),
    ("SeparableConv2D", {"filters": 4, "kernel_size": 3}, (6, 6, 3)),
    ("SeparableConv2D", {"filters": 5, "kernel_size": (2, 3), "strides": (2, 1),
                         "padding": "same", "depth_multiplier": 2}, (7, 5, 2)),
    ("UpSampling2D", {}, (3, 4, 2)),
    ("UpSampling2D", {"size": (3, 2)}, (2, 3, 2)),
    ("UpSampling2D", {"size": (2, 3), "interpolation": "bilinear"}, (3, 4, 2)),
    ("UpSampling2D", {"size": 3, "interpolation": "bilinear"}, (1, 2, 1)),
    ("ZeroPadding2D", {}, (3, 4, 2)),
    ("ZeroPadding2D", {"padding": (2, 0)}, (3, 4, 2)),
    ("ZeroPadding2D", {"padding": ((1, 2), (3, 0))}, (3, 4, 2)),
    ("Cropping2D", {"cropping": 1}, (5, 4, 2)),
    ("Cropping2D", {"cropping": ((0, 2), (1, 1))}, (5, 4, 2)),
    ("Reshape", {"target_shape": (6, 4)}, (4, 3, 2)),
    ("Reshape", {"target_shape": (-1, 3)}, (4, 3, 2)),
    ("Reshape", {"target_shape": (2, -1, 2)}, (24,)),
    ("Permute", {"dims": (2, 1)}, (3, 5)),
    ("Permute", {"dims": (3, 1, 2)}, (2, 3, 4)),
    ("LeakyReLU", {}, (4, 3)),
    ("LeakyReLU", {"negative_slope": 0.05}, (2, 3, 4)),
    ("ELU", {}, (4, 3)),
    ("ELU", {"alpha": 0.5}, (2, 3, 4)),
    ("PReLU", {}, (4, 3)),
    ("PReLU", {"shared_axes": [1, 2]}, (3, 4, 2)),
    ("PReLU", {"shared_axes": 2}, (3, 4, 2)),
]


@pytest.mark.parametrize("name, kwargs, sample_shape", CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_layer_matches_keras(keras, name, kwargs, sample_shape):
    compare_with_keras(keras, name, kwargs, sample_shape)


AUGMENTATIONS = [  # factors with a single value, so the random draw is the same in both
    ("RandomRotation", {"factor": (0.1, 0.1)}),
    ("RandomRotation", {"factor": (-0.3, -0.3), "fill_mode": "constant", "fill_value": 7.0}),
    ("RandomRotation", {"factor": (0.2, 0.2), "fill_mode": "wrap", "interpolation": "nearest"}),
    ("RandomRotation", {"factor": (0.05, 0.05), "fill_mode": "nearest"}),
    ("RandomZoom", {"height_factor": (0.3, 0.3)}),
    ("RandomZoom", {"height_factor": (-0.4, -0.4), "width_factor": (0.2, 0.2),
                    "fill_mode": "constant"}),
    ("RandomZoom", {"height_factor": (0.5, 0.5), "fill_mode": "wrap", "interpolation": "nearest"}),
    ("RandomBrightness", {"factor": (0.2, 0.2)}),
    ("RandomBrightness", {"factor": (-0.1, -0.1), "value_range": (0, 1)}),
    ("RandomContrast", {"factor": (-0.5, 0.5)}),  # Keras draws from [1 - lower, 1 + upper]: 1.5
    ("RandomContrast", {"factor": (-0.2, 0.2), "value_range": (0, 1)}),  # 1.2
]


@pytest.mark.parametrize("name, kwargs", AUGMENTATIONS,
                         ids=[f"{a[0]}-{i}" for i, a in enumerate(AUGMENTATIONS)])
def test_augmentation_in_training_matches_keras(keras, name, kwargs):
    high = kwargs.get("value_range", (0, 255))[1]
    x = np.random.default_rng(3).uniform(0, high, (2, 7, 6, 3)).astype(np.float32)
    compare_with_keras(keras, name, {**kwargs, "seed": 1}, (7, 6, 3), training=True, x=x,
                       atol=1e-4 * high, input_gradient=name in ("RandomBrightness", "RandomContrast"))


def test_default_leaky_relu_slope_is_keras_3s(keras):
    assert keras.layers.LeakyReLU().negative_slope == pytest.approx(0.3)
    from tinydl.layers import LeakyReLU
    assert LeakyReLU().negative_slope == pytest.approx(0.3)
