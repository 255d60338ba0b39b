"""The cell API (SimpleRNNCell, LSTMCell, GRUCell, StackedRNNCells, RNN(cell)) against Keras 3."""

from __future__ import annotations

import os

import numpy as np
import pytest

from tinydl import Tensor, layers
from tinydl.layers.base import Layer

RNG = np.random.default_rng(0)
X = RNG.standard_normal((2, 5, 3)).astype(np.float32)
MASK = np.array([[True, True, True, False, False], [True, True, True, True, True]])


@pytest.fixture(scope="module")
def keras():
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    return pytest.importorskip("keras", reason="Keras 3 (on TensorFlow) is the oracle here")


MODELS = {
    "simple": lambda m: m.RNN(m.SimpleRNNCell(4)),
    "lstm_sequences": lambda m: m.RNN(m.LSTMCell(4), return_sequences=True),
    "gru_state": lambda m: m.RNN(m.GRUCell(4), return_state=True),
    "stacked_list": lambda m: m.RNN([m.SimpleRNNCell(4), m.LSTMCell(3)], return_state=True),
    "stacked_backwards": lambda m: m.RNN(m.StackedRNNCells([m.GRUCell(2), m.GRUCell(3)]),
                                         go_backwards=True, return_sequences=True),
}


def _as_list(out):
    """The outputs and states, flattened (stacked cells nest their states per cell)."""
    if isinstance(out, (list, tuple)):
        return [leaf for part in out for leaf in _as_list(part)]
    return [out]


@pytest.mark.parametrize("name", MODELS)
@pytest.mark.parametrize("masked", [False, True])
def test_rnn_of_cells_matches_keras_outputs_and_gradients(keras, name, masked):
    import tensorflow as tf

    theirs, ours = MODELS[name](keras.layers), MODELS[name](layers)
    call = {"mask": MASK} if masked else {}
    theirs(X, **call)
    ours(X, **call)
    assert [w.shape for w in ours.weights] == [tuple(w.shape) for w in theirs.weights]
    ours.set_weights([w.numpy() for w in theirs.weights])
    with tf.GradientTape() as tape:
        expected = _as_list(theirs(X, **call))
        projections = [RNG.standard_normal(e.shape).astype(np.float32) for e in expected]
        loss = sum(tf.reduce_sum(e * p) for e, p in zip(expected, projections))
    want = tape.gradient(loss, theirs.trainable_weights)
    got = _as_list(ours(Tensor(X), **call))
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        np.testing.assert_allclose(g.data, e.numpy(), rtol=1e-5, atol=1e-6)
    sum((g * p).sum() for g, p in zip(got, projections)).backward()
    for w, e in zip(ours.trainable_weights, want):
        np.testing.assert_allclose(w.grad, e.numpy(), rtol=1e-4, atol=1e-5)


class MinimalRNNCell(Layer):
    """Keras' guide example of a user-written cell: h = x @ kernel + h_prev @ recurrent."""

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units, self.state_size = units, units

    def build(self, input_shape):
        self.kernel = self.add_weight("kernel", (input_shape[-1], self.units), "glorot_uniform")
        self.recurrent_kernel = self.add_weight("recurrent_kernel", (self.units, self.units),
                                                "glorot_uniform")

    def call(self, inputs, states):
        output = inputs @ self.kernel + states[0] @ self.recurrent_kernel
        return output, [output]


def test_a_user_written_cell_runs_in_rnn():
    cell = MinimalRNNCell(4)
    rnn = layers.RNN(cell, return_sequences=True)
    out = rnn(X)
    k, r = cell.kernel.data, cell.recurrent_kernel.data
    h, expected = np.zeros((2, 4), np.float32), []
    for t in range(X.shape[1]):
        h = X[:, t] @ k + h @ r
        expected.append(h)
    np.testing.assert_allclose(out.data, np.stack(expected, 1), rtol=1e-5, atol=1e-6)
    assert len(rnn.trainable_weights) == 2


def test_stateful_rnn_of_a_cell_carries_its_states():
    rnn = layers.RNN(layers.LSTMCell(3), stateful=True)
    first = rnn(X).data
    second = rnn(X).data
    rnn.reset_states()
    np.testing.assert_allclose(rnn(X).data, first)
    assert not np.allclose(first, second)


@pytest.mark.parametrize("make, error, words", [
    (lambda: layers.RNN(object()), ValueError, "state_size"),
    (lambda: layers.StackedRNNCells([]), ValueError, "non-empty list"),
    (lambda: layers.LSTMCell(0), ValueError, "units"),
    (lambda: layers.GRUCell(4, reset_after=False), NotImplementedError, "reset_after"),
    (lambda: layers.SimpleRNNCell(4, dropout=0.5), NotImplementedError, "dropout"),
])
def test_bad_cell_arguments_raise(make, error, words):
    with pytest.raises(error, match=words):
        make()


@pytest.mark.parametrize("cell", [layers.SimpleRNNCell(3, activation="relu"),
                                  layers.LSTMCell(3, unit_forget_bias=False),
                                  layers.GRUCell(3, use_bias=False),
                                  layers.StackedRNNCells([layers.GRUCell(2), layers.LSTMCell(3)])],
                         ids=lambda c: type(c).__name__)
def test_cells_round_trip_their_config(cell):
    import json

    config = json.loads(json.dumps(cell.get_config()))
    clone = type(cell).from_config(config)
    assert clone.get_config() == config
    ours, theirs = layers.RNN(cell), layers.RNN(clone)
    ours(X)
    theirs(X)
    theirs.set_weights(ours.get_weights())
    np.testing.assert_array_equal(theirs(X).data, ours(X).data)
