"""stateful=True recurrent layers against Keras 3: states carried from batch to batch, reset."""

from __future__ import annotations

import os

import numpy as np
import pytest

import tinydl
from tinydl import layers

RECURRENT = ("SimpleRNN", "LSTM", "GRU")


@pytest.fixture(scope="module")
def keras():
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    return pytest.importorskip("keras", reason="Keras 3 (on TensorFlow) is the oracle here")


def _models(keras, name, batch=2):
    theirs = keras.Sequential([keras.Input(shape=(5, 3), batch_size=batch),
                               getattr(keras.layers, name)(4, stateful=True)])
    ours = tinydl.Sequential([layers.Input(shape=(5, 3), batch_size=batch),
                              getattr(layers, name)(4, stateful=True)])
    ours.set_weights(theirs.get_weights())
    return ours, theirs


@pytest.mark.parametrize("name", RECURRENT)
def test_stateful_predictions_carry_states_and_reset_like_keras(keras, name):
    rng = np.random.default_rng(0)
    batches = [rng.standard_normal((2, 5, 3)).astype(np.float32) for _ in range(3)]
    ours, theirs = _models(keras, name)
    for x in batches:  # each call starts from the previous call's final states
        np.testing.assert_allclose(ours.predict_on_batch(x), theirs.predict_on_batch(x),
                                   rtol=1e-5, atol=1e-6)
    carried = ours.predict_on_batch(batches[0])
    ours.layers[-1].reset_states()
    theirs.layers[-1].reset_state()
    fresh = ours.predict_on_batch(batches[0])
    np.testing.assert_allclose(fresh, theirs.predict_on_batch(batches[0]), rtol=1e-5, atol=1e-6)
    assert not np.allclose(carried, fresh)  # the carried states did change the output


@pytest.mark.parametrize("name", RECURRENT)
def test_stateful_training_steps_match_keras(keras, name):
    """Two SGD steps: the second starts from the first one's final states, in both."""
    rng = np.random.default_rng(1)
    ours, theirs = _models(keras, name)
    ours.compile(optimizer=tinydl.optimizers.SGD(0.1), loss="mse")
    theirs.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    for _ in range(2):
        x = rng.standard_normal((2, 5, 3)).astype(np.float32)
        y = rng.standard_normal((2, 4)).astype(np.float32)
        ours.train_on_batch(x, y)
        theirs.train_on_batch(x, y)
    for got, want in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-6)
    for got, want in zip(ours.layers[-1].states, theirs.layers[-1].states):
        np.testing.assert_allclose(got, np.asarray(want), rtol=1e-4, atol=1e-6)


def test_stateful_needs_a_static_batch_size():
    with pytest.raises(ValueError, match="batch size must be static"):
        tinydl.Sequential([layers.Input(shape=(5, 3)), layers.LSTM(4, stateful=True)])


def test_stateful_refuses_another_batch_size():
    layer = layers.GRU(4, stateful=True)
    layer(np.zeros((2, 5, 3), np.float32))
    with pytest.raises(ValueError, match="Expected batch size: 2. Received batch size: 3"):
        layer(np.zeros((3, 5, 3), np.float32))


def test_an_explicit_initial_state_wins_and_is_carried_on():
    rng = np.random.default_rng(2)
    layer = layers.SimpleRNN(4, stateful=True)
    x = rng.standard_normal((2, 5, 3)).astype(np.float32)
    layer(x)
    h0 = rng.standard_normal((2, 4)).astype(np.float32)
    plain = layers.SimpleRNN(4)
    plain(x)
    plain.set_weights(layer.get_weights())
    np.testing.assert_allclose(layer(x, initial_state=h0).data,
                               plain(x, initial_state=h0).data)
    np.testing.assert_allclose(layer.states[0], plain(x, initial_state=h0).data)
