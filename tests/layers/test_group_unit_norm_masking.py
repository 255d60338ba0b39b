"""GroupNormalization, UnitNormalization and Masking against Keras 3 on the same weights: outputs,
gradients and one SGD step; Masking followed by an LSTM skips the padded steps as Keras' does."""

from __future__ import annotations

import numpy as np
import pytest

import tinydl
from tinydl import layers
from keras_oracle import compare_with_keras, import_keras

CASES = [
    ("GroupNormalization", {"groups": 2}, (4, 4, 6)), ("GroupNormalization", {"groups": 3, "epsilon": 1e-5}, (5, 6)),
    ("GroupNormalization", {"groups": -1, "center": False}, (3, 4)),
    ("GroupNormalization", {"groups": 2, "axis": 1}, (4, 3, 2)),
    ("UnitNormalization", {}, (5,)), ("UnitNormalization", {"axis": [1, 2]}, (3, 4)),
]


@pytest.mark.parametrize("name,kwargs,shape", CASES, ids=[f"{n}-{k}" for n, k, _ in CASES])
def test_matches_keras(name, kwargs, shape):
    compare_with_keras(import_keras(), name, kwargs, shape, atol=1e-5)


def test_masking_then_lstm_matches_keras():
    keras = import_keras()
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 6, 4)).astype(np.float32)
    x[0, 4:] = 0.0
    x[1, :2] = 0.0
    x[2, 3] = 0.0
    models = []
    for lib in (keras, tinydl):
        inputs = lib.Input((6, 4))
        hidden = lib.layers.LSTM(5, return_sequences=True)(lib.layers.Masking(0.0)(inputs))
        models.append(lib.Model(inputs, lib.layers.LSTM(3)(hidden)))
    models[1].set_weights([np.asarray(w) for w in models[0].weights])
    np.testing.assert_allclose(models[1].predict(x, verbose=0), np.asarray(models[0].predict(x, verbose=0)),
                               rtol=1e-5, atol=1e-6)


def test_masking_zeroes_and_masks_padded_steps():
    x = np.array([[[1.0, 2.0], [-1.0, -1.0], [0.0, 3.0]]], np.float32)
    y = layers.Masking(-1.0)(x)
    np.testing.assert_array_equal(y.data, [[[1.0, 2.0], [0.0, 0.0], [0.0, 3.0]]])
    np.testing.assert_array_equal(layers.masking.get_mask(y), [[True, False, True]])


@pytest.mark.parametrize("make,match", [
    (lambda: layers.GroupNormalization(groups=0), "groups"),
    (lambda: layers.GroupNormalization(epsilon=float("nan")), "epsilon"),
    (lambda: layers.GroupNormalization(groups=4).build_for((None, 6)), "divide"),
    (lambda: layers.UnitNormalization(axis="x"), "axis"),
    (lambda: layers.Masking(float("nan")), "mask_value"),
])
def test_bad_arguments_raise(make, match):
    with pytest.raises((ValueError, TypeError), match=match):
        make()
