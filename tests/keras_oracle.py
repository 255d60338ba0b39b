"""Keras 3 on TensorFlow as an oracle for layer tests: the same layer, the same weights, the
same input, compared for outputs, shapes, parameter counts, gradients and one SGD step.

Keras and TensorFlow are imported only when a test asks for the `keras` fixture (importing
TensorFlow costs seconds); without them those tests skip, and CI, which installs them, fails
such a skip (tests/conftest.py).
"""

from __future__ import annotations

import os

import numpy as np
import pytest

import tinydl.layers
from tinydl import Tensor
from tinydl.optimizers import SGD


def import_keras():
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    keras = pytest.importorskip("keras", reason="could not import keras (the Keras 3 oracle)")
    if keras.backend.backend() != "tensorflow":
        pytest.skip(f"the Keras oracle runs on TensorFlow, found backend {keras.backend.backend()}")
    return keras


def both_layers(keras, name: str, kwargs: dict, sample_shape: tuple, seed: int = 0):
    """(keras layer, tinydl layer), built for (None,) + sample_shape, with the same random
    weights (drawn into Keras' weights, then copied across in Keras' order)."""
    rng = np.random.default_rng(seed)
    theirs = getattr(keras.layers, name)(**kwargs)
    theirs.build((None,) + tuple(sample_shape))
    for w in theirs.weights:
        w.assign(rng.uniform(-0.5, 0.5, tuple(w.shape)).astype(np.float32))
    ours = getattr(tinydl.layers, name)(**kwargs)
    ours.build_for((None,) + tuple(sample_shape))
    ours.set_weights([np.asarray(w) for w in theirs.weights])
    return theirs, ours


def compare_with_keras(keras, name: str, kwargs: dict, sample_shape: tuple, atol=1e-5,
                       training=None, x=None, input_gradient=True):
    """Assert that tinydl's layer `name` matches Keras' on one random batch of 2 samples:
    output shape (static and actual), parameter count, output, input and weight gradients of
    sum(output * R), and the weights after one SGD step on that loss.

    input_gradient=False skips the input gradient, for ops whose TensorFlow gradient is not
    the exact one (ImageProjectiveTransformV3's resamples the gradient through the inverse
    transform); tinydl's is checked against finite differences instead."""
    import tensorflow as tf

    theirs, ours = both_layers(keras, name, kwargs, sample_shape)
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2,) + tuple(sample_shape)).astype(np.float32) if x is None else x
    shape = (None,) + tuple(sample_shape)
    assert tuple(ours.compute_output_shape(shape)) == tuple(theirs.compute_output_shape(shape))
    assert ours.count_params() == theirs.count_params()
    assert [w.name for w in ours.weights] == [w.name for w in theirs.weights]

    xv = tf.Variable(x)
    with tf.GradientTape() as tape:
        inputs = tf.identity(xv)  # a tensor: some Keras layers update their input in place
        expected = theirs(inputs, training=training) if training is not None else theirs(inputs)
        projection = rng.standard_normal(tuple(expected.shape)).astype(np.float32)
        loss = tf.reduce_sum(expected * projection)
    their_grads = tape.gradient(loss, [xv] + list(theirs.trainable_weights))

    xt = Tensor(x, requires_grad=True)
    out = ours(xt, training=training)
    np.testing.assert_allclose(out.data, np.asarray(expected), atol=atol, rtol=1e-4)
    (out * projection).sum().backward()
    if input_gradient:
        np.testing.assert_allclose(xt.grad, np.asarray(their_grads[0]), atol=atol, rtol=1e-4)
    for w, g in zip(ours.trainable_weights, their_grads[1:]):
        np.testing.assert_allclose(w.grad, np.asarray(g), atol=atol * 10, rtol=1e-4,
                                   err_msg=f"gradient of weight {w.name}")

    if ours.trainable_weights:
        keras.optimizers.SGD(0.1).apply(their_grads[1:], theirs.trainable_weights)
        SGD(0.1).apply([w.grad for w in ours.trainable_weights], ours.trainable_weights)
        for w, v in zip(ours.trainable_weights, theirs.trainable_weights):
            np.testing.assert_allclose(w.data, np.asarray(v), atol=atol * 10, rtol=1e-4)
    return ours, theirs
