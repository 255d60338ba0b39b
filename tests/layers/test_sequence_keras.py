"""Sequence layers against Keras 3 on TensorFlow: same weights give the same outputs, the same
weights after one SGD step, the same shapes and parameter counts, and masks honoured alike."""

from __future__ import annotations

import os

import numpy as np
import pytest

import tinydl
from tinydl import Tensor, layers
from tinydl.optimizers import SGD


@pytest.fixture(scope="module")
def keras():
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    pytest.importorskip("tensorflow", reason="could not import TensorFlow: the Keras oracle needs it")
    module = pytest.importorskip("keras", reason="could not import keras: it is the oracle here")
    if module.config.backend() != "tensorflow":
        pytest.skip("the Keras oracle tests run Keras on TensorFlow (KERAS_BACKEND=tensorflow)")
    return module


RNG = np.random.default_rng(0)
X = RNG.standard_normal((3, 7, 4)).astype(np.float32)
MASK = np.ones((3, 7), bool)
MASK[0, 4:] = False      # right padding
MASK[1, :3] = False      # left padding (pad_sequences' default)

# (name, constructor arguments): each is built with tinydl.layers.<name> and keras.layers.<name>
RECURRENT = [
    ("SimpleRNN", dict(units=5)),
    ("SimpleRNN", dict(units=5, return_sequences=True, go_backwards=True)),
    ("LSTM", dict(units=5)),
    ("LSTM", dict(units=5, return_sequences=True, return_state=True)),
    ("LSTM", dict(units=5, go_backwards=True, unit_forget_bias=False)),
    ("LSTM", dict(units=5, recurrent_activation="tanh", use_bias=False)),
    ("GRU", dict(units=5)),
    ("GRU", dict(units=5, return_sequences=True, return_state=True, go_backwards=True)),
    ("GRU", dict(units=5, reset_after=False)),
    ("GRU", dict(units=5, activation="relu")),
]
OTHERS = [
    ("Conv1D", dict(filters=6, kernel_size=3)),
    ("Conv1D", dict(filters=6, kernel_size=3, strides=2, padding="same", activation="relu")),
    ("Conv1D", dict(filters=6, kernel_size=2, dilation_rate=3, padding="causal")),
    ("Conv1D", dict(filters=6, kernel_size=3, dilation_rate=2, padding="same", use_bias=False)),
    ("Conv1D", dict(filters=6, kernel_size=3, groups=2)),
    ("Conv1D", dict(filters=8, kernel_size=2, groups=4, dilation_rate=2, padding="causal",
                    activation="relu")),
    ("MaxPooling1D", dict(pool_size=3, strides=2, padding="same")),
    ("AveragePooling1D", dict(pool_size=2)),
    ("GlobalMaxPooling1D", dict()),
    ("GlobalAveragePooling1D", dict(keepdims=True)),
    ("LayerNormalization", dict(epsilon=1e-6)),
    ("LayerNormalization", dict(axis=[1, 2], center=False)),
    ("Dense", dict(units=3)),
]


def _pair(keras, name, kwargs):
    return getattr(layers, name)(**kwargs), getattr(keras.layers, name)(**kwargs)


def _as_list(outputs):
    return list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]


def _same_forward(ours, theirs, *inputs, **call):
    """Build both, copy our weights to Keras, return both outputs as lists of arrays."""
    got = _as_list(ours(*[Tensor(x) for x in inputs], **call))
    theirs(*inputs, **call)
    theirs.set_weights(ours.get_weights())
    expected = _as_list(theirs(*inputs, **call))
    return [g.data for g in got], [np.asarray(e) for e in expected]


@pytest.mark.parametrize("name, kwargs", RECURRENT + OTHERS, ids=lambda v: str(v))
def test_same_weights_give_keras_outputs_shapes_and_parameter_counts(keras, name, kwargs):
    ours, theirs = _pair(keras, name, kwargs)
    got, expected = _same_forward(ours, theirs, X)
    assert [g.shape for g in got] == [e.shape for e in expected]
    for g, e in zip(got, expected):
        np.testing.assert_allclose(g, e, rtol=1e-5, atol=2e-6)
    assert ours.count_params() == theirs.count_params()
    assert [w.shape for w in ours.get_weights()] == [tuple(w.shape) for w in theirs.get_weights()]
    declared = ours.compute_output_shape((None,) + X.shape[1:])
    keras_declared = theirs.compute_output_shape((None,) + X.shape[1:])
    assert _shapes(declared) == _shapes(keras_declared)


def _shapes(shape):
    if shape and isinstance(shape[0], (tuple, list)):
        return [tuple(s) for s in shape]
    return [tuple(shape)]


@pytest.mark.parametrize("name, kwargs", RECURRENT, ids=lambda v: str(v))
def test_masked_steps_are_handled_as_keras_does(keras, name, kwargs):
    ours, theirs = _pair(keras, name, kwargs)
    got, expected = _same_forward(ours, theirs, X, mask=MASK)
    for g, e in zip(got, expected):
        np.testing.assert_allclose(g, e, rtol=1e-5, atol=2e-6)


def _floats(inputs):
    return [x.dtype.kind == "f" for x in inputs]


def _keras_sgd_step(keras, layer, inputs, projection, lr, call):
    """Keras' weights after one SGD step on sum(output * projection), and the inputs' gradients."""
    import tensorflow as tf
    tensors = [tf.constant(x) for x in inputs]
    with tf.GradientTape(persistent=True) as tape:
        for t, is_float in zip(tensors, _floats(inputs)):
            if is_float:
                tape.watch(t)
        out = _as_list(layer(*tensors, **call))[0]
        loss = tf.reduce_sum(out * projection)
    input_grads = [np.asarray(tape.gradient(loss, t)) for t, f in zip(tensors, _floats(inputs)) if f]
    if layer.trainable_weights:
        grads = tape.gradient(loss, layer.trainable_weights)
        keras.optimizers.SGD(learning_rate=lr).apply(grads, layer.trainable_weights)
    return [np.asarray(w) for w in layer.trainable_weights], input_grads


def _our_sgd_step(layer, inputs, projection, lr, call):
    tensors = [Tensor(x, requires_grad=f) for x, f in zip(inputs, _floats(inputs))]
    out = _as_list(layer(*tensors, **call))[0]
    (out * projection).sum().backward()
    weights = layer.trainable_weights
    if weights:
        SGD(learning_rate=lr).apply([w.grad for w in weights], weights)
    return [w.data.copy() for w in weights], [t.grad for t, f in zip(tensors, _floats(inputs)) if f]


def _same_step(keras, ours, theirs, inputs, **call):
    _same_forward(ours, theirs, *inputs, **call)
    out_shape = _as_list(ours(*[Tensor(x) for x in inputs], **call))[0].shape
    projection = np.random.default_rng(1).standard_normal(out_shape).astype(np.float32)
    got, got_dx = _our_sgd_step(ours, inputs, projection, 0.1, call)
    expected, expected_dx = _keras_sgd_step(keras, theirs, inputs, projection, 0.1, call)
    assert len(got) == len(expected)
    for g, e in zip(got + got_dx, expected + expected_dx):
        np.testing.assert_allclose(g, e, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name, kwargs", RECURRENT + OTHERS, ids=lambda v: str(v))
def test_one_sgd_step_gives_keras_weights(keras, name, kwargs, backend):
    ours, theirs = _pair(keras, name, kwargs)
    _same_step(keras, ours, theirs, [X])


@pytest.mark.parametrize("name", ["LSTM", "GRU", "SimpleRNN"])
def test_one_sgd_step_with_a_mask_gives_keras_weights(keras, name, backend):
    ours, theirs = _pair(keras, name, dict(units=4, return_sequences=True))
    _same_step(keras, ours, theirs, [X], mask=MASK)


@pytest.mark.parametrize("merge_mode", ["concat", "sum", "mul", "ave", None])
def test_bidirectional_matches_keras_with_masks(keras, merge_mode):
    ours = layers.Bidirectional(layers.LSTM(4, return_sequences=True), merge_mode=merge_mode)
    theirs = keras.layers.Bidirectional(keras.layers.LSTM(4, return_sequences=True),
                                        merge_mode=merge_mode)
    got, expected = _same_forward(ours, theirs, X, mask=MASK)
    for g, e in zip(got, expected):
        np.testing.assert_allclose(g, e, rtol=1e-5, atol=2e-6)
    assert ours.count_params() == theirs.count_params()


def test_bidirectional_gru_with_states_and_one_sgd_step_match_keras(keras):
    ours = layers.Bidirectional(layers.GRU(4, return_state=True))
    theirs = keras.layers.Bidirectional(keras.layers.GRU(4, return_state=True))
    got, expected = _same_forward(ours, theirs, X)
    assert len(got) == len(expected) == 3
    for g, e in zip(got, expected):
        np.testing.assert_allclose(g, e, rtol=1e-5, atol=2e-6)
    ours = layers.Bidirectional(layers.GRU(4))
    _same_step(keras, ours, keras.layers.Bidirectional(keras.layers.GRU(4)), [X])


def test_time_distributed_and_repeat_vector_match_keras(keras):
    got, expected = _same_forward(layers.TimeDistributed(layers.Dense(3)),
                                  keras.layers.TimeDistributed(keras.layers.Dense(3)), X)
    np.testing.assert_allclose(got[0], expected[0], rtol=1e-5, atol=1e-6)
    got, expected = _same_forward(layers.RepeatVector(3), keras.layers.RepeatVector(3), X[:, 0])
    np.testing.assert_array_equal(got[0], expected[0])


def test_embedding_matches_keras_and_its_mask_reaches_the_lstm(keras, backend):
    ids = np.array([[3, 1, 4, 0, 0], [0, 0, 5, 9, 2], [7, 7, 7, 7, 7]])
    ours = tinydl.models.Sequential([layers.Embedding(10, 4, mask_zero=True), layers.LSTM(3)])
    theirs = keras.Sequential([keras.layers.Embedding(10, 4, mask_zero=True),
                               keras.layers.LSTM(3)])
    ours.build((None, 5))
    theirs.build((None, 5))
    theirs.set_weights(ours.get_weights())
    np.testing.assert_allclose(ours(ids).data, np.asarray(theirs(ids)), rtol=1e-5, atol=2e-6)
    emb = layers.Embedding(10, 4, mask_zero=True)
    out = emb(ids)
    np.testing.assert_array_equal(out._keras_mask, ids != 0)
    k_emb = keras.layers.Embedding(10, 4)
    k_emb(ids)
    k_emb.set_weights(emb.get_weights())
    np.testing.assert_array_equal(out.data, np.asarray(k_emb(ids)))


def test_embedding_sgd_step_matches_keras(keras, backend):
    ids = np.array([[3, 1, 4, 1], [5, 9, 2, 6], [5, 3, 5, 8]])  # repeated ids add up
    ours, theirs = layers.Embedding(10, 4), keras.layers.Embedding(10, 4)
    _same_step(keras, ours, theirs, [ids])


def test_multi_head_attention_matches_keras(keras, backend):
    query = RNG.standard_normal((3, 5, 8)).astype(np.float32)
    ours = layers.MultiHeadAttention(num_heads=2, key_dim=3, value_dim=4, output_shape=6)
    theirs = keras.layers.MultiHeadAttention(num_heads=2, key_dim=3, value_dim=4, output_shape=6)
    attention_mask = RNG.random((3, 5, 7)) > 0.3
    got, expected = _same_forward(ours, theirs, query, X, attention_mask=attention_mask)
    np.testing.assert_allclose(got[0], expected[0], rtol=1e-5, atol=2e-6)
    assert [w.shape for w in ours.get_weights()] == [tuple(w.shape) for w in theirs.get_weights()]
    assert ours.count_params() == theirs.count_params()
    scores = ours(Tensor(query), Tensor(X), return_attention_scores=True)[1].data
    np.testing.assert_allclose(scores, np.asarray(theirs(query, X, return_attention_scores=True)[1]),
                               rtol=1e-5, atol=1e-6)
    _same_step(keras, ours, theirs, [query, X], attention_mask=attention_mask)


def test_self_attention_with_a_causal_mask_and_an_embedding_mask_matches_keras(keras):
    ids = np.array([[3, 1, 4, 0, 0], [2, 6, 5, 3, 5]])
    emb = layers.Embedding(10, 8, mask_zero=True)
    k_emb = keras.layers.Embedding(10, 8, mask_zero=True)
    x = emb(ids)
    k_emb(ids)
    k_emb.set_weights(emb.get_weights())
    ours, theirs = layers.MultiHeadAttention(2, 4), keras.layers.MultiHeadAttention(2, 4)
    got = ours(x, x, use_causal_mask=True)
    kx = k_emb(ids)
    theirs(kx, kx, use_causal_mask=True)
    theirs.set_weights(ours.get_weights())
    kx = k_emb(ids)  # Keras' attention clears its inputs' masks: embed again
    expected = theirs(kx, kx, use_causal_mask=True)
    np.testing.assert_allclose(got.data, np.asarray(expected), rtol=1e-5, atol=2e-6)
    np.testing.assert_array_equal(got._keras_mask, ids != 0)  # the query's mask passes on
