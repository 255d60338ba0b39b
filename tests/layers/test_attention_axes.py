"""MultiHeadAttention with attention_axes on inputs of rank > 3, against Keras 3 on TensorFlow."""

from __future__ import annotations

import os

import numpy as np
import pytest

from tinydl import Tensor, layers

CASES = [  # (query shape, value shape, attention_axes)
    ((2, 3, 4, 6), (2, 3, 5, 6), (2,)),
    ((2, 3, 4, 6), (2, 5, 2, 6), (1, 2)),
    ((2, 3, 4, 6), (2, 3, 4, 6), None),
    ((2, 2, 3, 4, 6), (2, 2, 3, 5, 6), (2, 3)),
    ((2, 4, 3, 6), (2, 5, 3, 6), 1),
    ((2, 4, 3, 6), (2, 4, 5, 6), -2),
]


@pytest.fixture(scope="module")
def tf():
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    return pytest.importorskip("tensorflow", reason="Keras 3 on TensorFlow is the oracle here")


@pytest.mark.parametrize("q_shape, v_shape, axes", CASES, ids=str)
def test_attention_axes_outputs_scores_and_gradients_match_keras(tf, q_shape, v_shape, axes):
    import keras

    rng = np.random.default_rng(0)
    q = rng.standard_normal(q_shape).astype(np.float32)
    v = rng.standard_normal(v_shape).astype(np.float32)
    theirs = keras.layers.MultiHeadAttention(num_heads=2, key_dim=3, attention_axes=axes)
    ours = layers.MultiHeadAttention(num_heads=2, key_dim=3, attention_axes=axes)
    theirs(q, v)
    ours(q, v)
    ours.set_weights([w.numpy() for w in theirs.weights])
    q_tf = tf.constant(q)
    with tf.GradientTape() as tape:
        tape.watch(q_tf)
        out_tf, scores_tf = theirs(q_tf, v, return_attention_scores=True)
        projection = rng.standard_normal(out_tf.shape).astype(np.float32)
        loss_tf = tf.reduce_sum(out_tf * projection)
    grads_tf = tape.gradient(loss_tf, [q_tf] + theirs.trainable_weights)
    q_ours = Tensor(q, requires_grad=True)
    out, scores = ours(q_ours, v, return_attention_scores=True)
    np.testing.assert_allclose(out.data, out_tf.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(scores.data, scores_tf.numpy(), rtol=1e-5, atol=1e-6)
    (out * projection).sum().backward()
    for got, want in zip([q_ours.grad] + [w.grad for w in ours.trainable_weights], grads_tf):
        np.testing.assert_allclose(got, want.numpy(), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("axes", ["time", (1.5,), ()])
def test_attention_axes_must_be_ints(axes):
    with pytest.raises(ValueError, match="attention_axes"):
        layers.MultiHeadAttention(2, 3, attention_axes=axes)


def test_attention_axes_out_of_range_raise():
    mha = layers.MultiHeadAttention(2, 3, attention_axes=(3,))
    x = np.ones((1, 2, 3, 4), np.float32)
    with pytest.raises(ValueError, match="attention_axes must name inner axes"):
        mha(x, x)


def test_masks_with_attention_axes_are_refused_loudly():
    mha = layers.MultiHeadAttention(2, 3, attention_axes=(2,))
    x = np.ones((1, 2, 3, 4), np.float32)
    with pytest.raises(NotImplementedError, match="masks"):
        mha(x, x, use_causal_mask=True)
