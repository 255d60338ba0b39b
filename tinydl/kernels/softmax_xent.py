"""Softmax with cross-entropy on integer labels, forward and backward: checks, reference, native.
"""

from __future__ import annotations

import numpy as np

from tinydl.kernels import _dispatch
from tinydl.kernels._checks import float_arrays, check_ndim, check_labels
from tinydl.kernels._extension import ext as _ext
from tinydl.kernels._registry import Kernel


# -------------------------------------------------------------- checked entries

def softmax_xent_forward(logits, labels):
    """Per-sample cross-entropy and softmax: (losses (N,), probs (N, K)).

    Args:
        As tinydl.kernels.softmax_xent.softmax_xent_forward_reference,
        the NumPy twin that defines the result; here every argument is checked
        (dtype, ndim, shapes, windows, ranges) before any kernel runs.

    Returns:
        As tinydl.kernels.softmax_xent.softmax_xent_forward_reference,
        computed by the backend in use (get_backend()).

    Raises:
        ValueError: shapes, windows, strides, pads or indices that do not fit (the
            message names the argument and what it received).
        TypeError: arrays that are not float32 or float64, or of different dtypes.

    Example:
        >>> logits = np.array([[2.0, 1.0, 0.1], [0.5, 2.5, -1.0]])
        >>> labels = np.array([0, 2])
        >>> losses, probs = softmax_xent_forward(logits, labels)
        >>> expected = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
        >>> bool(np.allclose(probs, expected)), bool(np.allclose(losses, -np.log(expected[[0, 1], labels])))
        (True, True)
        >>> softmax_xent_forward(logits, np.array([0, 3]))
        Traceback (most recent call last):
        ...
        ValueError: softmax_cross_entropy: labels must be in [0, 3)...
    """
    (logits,) = float_arrays("softmax_cross_entropy", logits=logits)
    check_ndim("softmax_cross_entropy", "logits", logits, 2, "(N, K)")
    labels = check_labels("softmax_cross_entropy", labels, *logits.shape)
    return _dispatch.run("softmax_xent_forward", logits, labels)


def softmax_xent_backward(probs, labels, scale):
    """(probs - onehot(labels)) * scale: (N, K).

    Args:
        As tinydl.kernels.softmax_xent.softmax_xent_backward_reference,
        the NumPy twin that defines the result; here every argument is checked
        (dtype, ndim, shapes, windows, ranges) before any kernel runs.

    Returns:
        As tinydl.kernels.softmax_xent.softmax_xent_backward_reference,
        computed by the backend in use (get_backend()).

    Raises:
        ValueError: shapes, windows, strides, pads or indices that do not fit (the
            message names the argument and what it received).
        TypeError: arrays that are not float32 or float64, or of different dtypes.

    Example:
        >>> probs = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]])
        >>> labels = np.array([0, 1])
        >>> grad = softmax_xent_backward(probs, labels, 0.5)                 # the mean over N = 2
        >>> grad, bool(np.allclose(grad, (probs - np.eye(3)[labels]) * 0.5))
        (array([[-0.15,  0.1 ,  0.05], [ 0.05, -0.45,  0.4 ]]), True)
    """
    (probs,) = float_arrays("softmax_cross_entropy_backward", probs=probs)
    check_ndim("softmax_cross_entropy_backward", "probs", probs, 2, "(N, K)")
    labels = check_labels("softmax_cross_entropy_backward", labels, *probs.shape)
    return _dispatch.run("softmax_xent_backward", probs, labels, float(scale))


# ------------------------------------------------------------ reference (NumPy)

def softmax_xent_forward_reference(logits, labels):
    """Softmax and cross-entropy in one stable pass (log-sum-exp with the row max subtracted).

    Args:
        logits: (N, K). labels: int64 (N,), each in [0, K).
    Returns:
        (losses, probs): losses (N,) = logsumexp(row) - row[label]; probs (N, K) = softmax(row).

    Example:
        >>> logits = np.array([[2.0, 1.0, 0.1], [0.5, 2.5, -1.0]])
        >>> labels = np.array([0, 2])
        >>> losses, probs = softmax_xent_forward_reference(logits, labels)
        >>> expected = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
        >>> bool(np.allclose(probs, expected)), bool(np.allclose(losses, -np.log(expected[[0, 1], labels])))
        (True, True)
    """
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_norm = np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    log_probs = shifted - log_norm
    losses = -log_probs[np.arange(len(labels)), labels]
    return losses, np.exp(log_probs)


def softmax_xent_backward_reference(probs, labels, scale):
    """Gradient of scale * sum(losses) with respect to the logits: (probs - onehot) * scale.

    For the mean loss over a batch of N, scale = upstream_gradient / N.

    Args:
        probs: (N, K) from softmax_xent_forward. labels: int64 (N,). scale: a float.
    Returns:
        (N, K).

    Example:
        >>> probs = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]])
        >>> labels = np.array([0, 1])
        >>> grad = softmax_xent_backward_reference(probs, labels, 0.5)                 # the mean over N = 2
        >>> grad, bool(np.allclose(grad, (probs - np.eye(3)[labels]) * 0.5))
        (array([[-0.15,  0.1 ,  0.05], [ 0.05, -0.45,  0.4 ]]), True)
    """
    grad = probs.copy()
    grad[np.arange(len(labels)), labels] -= 1.0
    grad *= scale
    return grad


# ------------------------------------------- native (C, through tinydl._native)

def softmax_xent_forward_native(logits, labels):
    """logits (N, K), labels int64 (N,) -> (losses (N,), probs (N, K)).

    Args:
        As tinydl.kernels.softmax_xent.softmax_xent_forward_reference,
        already checked and made C-contiguous by tinydl.backend.softmax_xent_forward;
        float32 or float64 (one C kernel per dtype).

    Returns:
        As tinydl.kernels.softmax_xent.softmax_xent_forward_reference
        (its result, to rounding).

    Example:
        >>> logits = np.array([[2.0, 1.0, 0.1], [0.5, 2.5, -1.0]])
        >>> labels = np.array([0, 2])
        >>> losses, probs = softmax_xent_forward_native(logits, labels)
        >>> expected = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
        >>> bool(np.allclose(probs, expected)), bool(np.allclose(losses, -np.log(expected[[0, 1], labels])))
        (True, True)
    """
    if logits.size == 0:
        return softmax_xent_forward_reference(logits, labels)
    losses = np.empty(logits.shape[0], dtype=logits.dtype)
    probs = np.empty_like(logits)
    _ext.softmax_xent_forward(logits, labels, losses, probs)
    return losses, probs


def softmax_xent_backward_native(probs, labels, scale):
    """(probs - onehot(labels)) * scale: (N, K).

    Args:
        As tinydl.kernels.softmax_xent.softmax_xent_backward_reference,
        already checked and made C-contiguous by tinydl.backend.softmax_xent_backward;
        float32 or float64 (one C kernel per dtype).

    Returns:
        As tinydl.kernels.softmax_xent.softmax_xent_backward_reference
        (its result, to rounding).

    Example:
        >>> probs = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]])
        >>> labels = np.array([0, 1])
        >>> grad = softmax_xent_backward_native(probs, labels, 0.5)                 # the mean over N = 2
        >>> grad, bool(np.allclose(grad, (probs - np.eye(3)[labels]) * 0.5))
        (array([[-0.15,  0.1 ,  0.05], [ 0.05, -0.45,  0.4 ]]), True)
    """
    if probs.size == 0:
        return softmax_xent_backward_reference(probs, labels, scale)
    grad = np.empty_like(probs)
    _ext.softmax_xent_backward(probs, labels, scale, grad)
    return grad


# --------------------------------------------------------- the family's kernels

KERNELS = (
    Kernel("softmax_xent_forward", entry=softmax_xent_forward,
           reference=softmax_xent_forward_reference,
           native=softmax_xent_forward_native),
    Kernel("softmax_xent_backward", entry=softmax_xent_backward,
           reference=softmax_xent_backward_reference,
           native=softmax_xent_backward_native),
)
