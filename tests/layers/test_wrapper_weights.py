"""Bidirectional and TimeDistributed hold their layers as tracked sublayers: each weight once,
in Keras' order (forward half, then backward), so counts, training and saving are right."""

from __future__ import annotations

import numpy as np

import tinydl
from keras_oracle import import_keras


def _model(keras):
    layers = keras.layers
    return keras.Sequential([keras.Input((5, 3)),
                             layers.TimeDistributed(layers.Dense(4)),
                             layers.Bidirectional(layers.GRU(3, return_sequences=True)),
                             layers.Bidirectional(layers.LSTM(2), merge_mode="sum"),
                             layers.Dense(1)])


def test_wrapped_weights_are_counted_once_and_round_trip(tmp_path):
    model = _model(tinydl)
    weights = model.weights
    assert len({id(w) for w in weights}) == len(weights) == 2 + 6 + 6 + 2
    x = np.random.default_rng(0).standard_normal((4, 5, 3)).astype(np.float32)
    model.compile(optimizer="sgd", loss="mse")
    model.fit(x, np.ones((4, 1)), epochs=1, verbose=0)
    model.save(tmp_path / "wrapped.keras")
    loaded = tinydl.models.load_model(tmp_path / "wrapped.keras")
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


def test_wrapped_weights_match_keras():
    keras = import_keras()
    theirs, ours = _model(keras), _model(tinydl)
    assert ours.count_params() == theirs.count_params()
    assert [w.shape for w in ours.weights] == [tuple(w.shape) for w in theirs.weights]
    assert len(ours.trainable_weights) == len(theirs.trainable_weights)
    ours.set_weights([np.asarray(w) for w in theirs.weights])
    x = np.random.default_rng(1).standard_normal((4, 5, 3)).astype(np.float32)
    np.testing.assert_allclose(ours.predict(x, verbose=0), theirs.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-5)
