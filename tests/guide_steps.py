"""Helpers for the Keras guide tests: one training step written the guide's PyTorch way on
tinydl (zero_grad, loss.backward(), v.value.grad, no_grad) and with a GradientTape on Keras,
and the comparison of results."""

from __future__ import annotations

import numpy as np

import tinydl


def _gradients(keras, model, compute_loss, variables):
    """(loss, gradients of loss for variables): the guide's torch steps on tinydl."""
    if keras is tinydl:
        model.zero_grad()
        loss = compute_loss()
        loss.backward()
        return loss, [v.value.grad for v in variables]
    import tensorflow as tf

    with tf.GradientTape() as tape:
        loss = compute_loss()
    return loss, tape.gradient(loss, variables)


def _apply(keras, optimizer, grads, variables):
    if keras is tinydl:
        with tinydl.no_grad():
            optimizer.apply(grads, variables)
    else:
        optimizer.apply(grads, variables)


def _close(ours, theirs, rtol=1e-3, atol=1e-5):
    np.testing.assert_allclose(np.asarray(ours, np.float64), np.asarray(theirs, np.float64),
                               rtol=rtol, atol=atol)
