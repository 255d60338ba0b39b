"""Keras' neural-network ops by Keras' names: activations, one_hot, cross-entropies, moments.

Activations take any tensor (integers become float32) and keep its shape; each is
differentiable. The cross-entropies are Keras' ops-level ones: one value per element
(binary) or per sample (categorical), with no mean over the batch (that is the Loss classes'
job, in tinydl/losses.py).
"""

from __future__ import annotations

import math

import numpy as np

from tinydl.ops import operators
from tinydl.ops.elementwise import Elu, Erf, Sigmoid, Softplus
from tinydl.ops.keras_core import float_tensor, standardize_dtype, tensor_of
from tinydl.ops.keras_numpy import (add, clip, divide, log, maximum, mean, multiply, negative,
                                    subtract, sum, tanh, var, where)
from tinydl.ops.loss import LogSoftmax, Softmax

__all__ = [
    "relu", "relu6", "sigmoid", "softmax", "log_softmax", "softplus", "softsign", "silu", "swish",
    "gelu", "elu", "selu", "leaky_relu", "log_sigmoid", "hard_sigmoid", "erf",
    "one_hot", "binary_crossentropy", "categorical_crossentropy",
    "sparse_categorical_crossentropy", "moments",
]

EPSILON = 1e-7  # Keras' backend.epsilon(): probabilities are clipped to [EPSILON, 1 - EPSILON]


def relu(x):
    """max(x, 0); integers stay integers.

    Example:
        >>> relu([-1.0, 2.0]), relu([-3, 3])
        (Tensor([0., 2.]), Tensor([0, 3], dtype=int32))
    """
    x = tensor_of(x)
    return operators.relu(x) if x.dtype.kind == "f" else maximum(x, 0)


def relu6(x):
    """min(max(x, 0), 6).

    Example:
        >>> relu6([-1.0, 3.0, 8.0])
        Tensor([0., 3., 6.])
    """
    return clip(x, 0, 6)


def sigmoid(x):
    """1 / (1 + exp(-x)), computed stably (integers give float32).

    Example:
        >>> sigmoid([0.0, 100.0])
        Tensor([0.5, 1. ])
    """
    return Sigmoid.apply(float_tensor(x))


def softplus(x):
    """log(1 + exp(x)), computed stably.

    Example:
        >>> softplus([0.0, 100.0])
        Tensor([  0.6931, 100.    ])
    """
    return Softplus.apply(float_tensor(x))


def erf(x):
    """The Gauss error function per element.

    Example:
        >>> erf([0.0, 10.0])
        Tensor([0., 1.])
    """
    return Erf.apply(float_tensor(x))


def log_sigmoid(x):
    """log(sigmoid(x)) = -softplus(-x), computed stably.

    Example:
        >>> log_sigmoid([0.0, -100.0])
        Tensor([  -0.6931, -100.    ])
    """
    return negative(softplus(negative(float_tensor(x))))


def softsign(x):
    """x / (1 + |x|).

    Example:
        >>> softsign([-1.0, 3.0])
        Tensor([-0.5 ,  0.75])
    """
    x = float_tensor(x)
    return divide(x, add(operators.abs(x), 1.0))


def silu(x):
    """x * sigmoid(x) (also called swish).

    Example:
        >>> silu([0.0, 100.0])
        Tensor([  0., 100.])
    """
    x = float_tensor(x)
    return multiply(x, Sigmoid.apply(x))


swish = silu


def hard_sigmoid(x):
    """relu6(x + 3) / 6: 0 below -3, 1 above 3, linear between.

    Example:
        >>> hard_sigmoid([-4.0, 0.0, 1.5, 4.0])
        Tensor([0.  , 0.5 , 0.75, 1.  ])
    """
    return divide(relu6(add(float_tensor(x), 3.0)), 6.0)


def gelu(x, approximate: bool = True):
    """x * P(X <= x) for a standard normal X: the tanh approximation by default (as keras.ops),
    the exact x / 2 * (1 + erf(x / sqrt 2)) with approximate=False.

    Example:
        >>> gelu([0.0, 10.0])
        Tensor([ 0., 10.])
    """
    x = float_tensor(x)
    if approximate:
        inner = multiply(add(x, multiply(0.044715, multiply(x, multiply(x, x)))),
                         math.sqrt(2 / math.pi))
        return multiply(multiply(x, 0.5), add(tanh(inner), 1.0))
    return multiply(multiply(x, 0.5), add(erf(divide(x, math.sqrt(2.0))), 1.0))


def elu(x, alpha: float = 1.0):
    """x for x > 0, alpha * (exp(x) - 1) otherwise.

    Example:
        >>> elu([-100.0, 2.0]), elu([-100.0], alpha=0.5)
        (Tensor([-1.,  2.]), Tensor([-0.5]))
    """
    return Elu.apply(float_tensor(x), float(alpha))


def selu(x):
    """scale * elu(x, alpha) with the self-normalizing constants of Klambauer et al. (2017).

    Example:
        >>> selu([0.0, 1.0])
        Tensor([0.    , 1.0507])
    """
    alpha, scale = 1.6732632423543772, 1.0507009873554805
    return multiply(elu(x, alpha), scale)


def leaky_relu(x, negative_slope: float = 0.2):
    """x for x > 0, negative_slope * x otherwise.

    Example:
        >>> leaky_relu([-1.0, 2.0])
        Tensor([-0.2,  2. ])
    """
    x = float_tensor(x)
    return where(x.data > 0, x, multiply(x, float(negative_slope)))


def _axis_of(x, axis, name):
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    if not all(isinstance(a, (int, np.integer)) and -x.ndim <= a < x.ndim for a in axes):
        raise ValueError(f"{name}: axis must be in [-{x.ndim}, {x.ndim}) for x of shape {x.shape}. "
                         f"Received: axis={axis!r}")
    return axes[0] if isinstance(axis, (int, np.integer)) else tuple(a % x.ndim for a in axes)


def softmax(x, axis=-1):
    """exp(x) / sum(exp(x)) along axis (an int or a tuple), computed stably.

    Example:
        >>> softmax([[1.0, 1.0, 1.0, 1.0]])
        Tensor([[0.25, 0.25, 0.25, 0.25]])
    """
    x = float_tensor(x)
    return Softmax.apply(x, _axis_of(x, axis, "softmax"))


def log_softmax(x, axis=-1):
    """x - logsumexp(x) along axis, without forming softmax.

    Example:
        >>> log_softmax([[0.0, 0.0]])
        Tensor([[-0.6931, -0.6931]])
    """
    x = float_tensor(x)
    return LogSoftmax.apply(x, _axis_of(x, axis, "log_softmax"))


def one_hot(x, num_classes, axis=-1, dtype=None, sparse=False):
    """Integer labels (any shape) to one-hot vectors along a new axis (float32 by default).

    Raises:
        ValueError: a label outside [0, num_classes) (Keras gives a row of zeros; tinydl
            refuses, so a wrong label cannot pass silently).

    Example:
        >>> one_hot([0, 2], 3)
        Tensor([[1., 0., 0.],
                [0., 0., 1.]])
    """
    if sparse:
        raise NotImplementedError("one_hot: tinydl has no sparse tensors. Received: sparse=True")
    if not isinstance(num_classes, (int, np.integer)) or num_classes <= 0:
        raise ValueError(f"one_hot: num_classes must be a positive int. "
                         f"Received: num_classes={num_classes!r}")
    labels = tensor_of(x).data
    if labels.dtype.kind not in "iu":
        raise TypeError(f"one_hot: x must hold integer labels. Received: x.dtype={labels.dtype}")
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(f"one_hot: labels must be in [0, {num_classes}). Received: labels from "
                         f"{labels.min()} to {labels.max()}")
    out_axis = axis if axis >= 0 else labels.ndim + 1 + axis
    if not 0 <= out_axis <= labels.ndim:
        raise ValueError(f"one_hot: axis must be in [-{labels.ndim + 1}, {labels.ndim}]. "
                         f"Received: axis={axis}")
    out = np.eye(num_classes, dtype=standardize_dtype(dtype))[labels]
    from tinydl.tensor import Tensor
    return Tensor._wrap(np.moveaxis(out, -1, out_axis))


def _matching(target, output, name):
    output = float_tensor(output)
    target = tensor_of(target, output.dtype)
    if target.shape != output.shape:
        raise ValueError(f"{name}: target and output must have one shape. Received: "
                         f"target.shape={target.shape}, output.shape={output.shape}")
    return target, output


def binary_crossentropy(target, output, from_logits: bool = False):
    """-(t log p + (1 - t) log(1 - p)) per element; p = clip(output) or sigmoid(output).

    Example:
        >>> binary_crossentropy([1.0, 0.0], [0.5, 0.5])
        Tensor([0.6931, 0.6931])
    """
    target, output = _matching(target, output, "binary_crossentropy")
    if from_logits:  # max(x, 0) - x t + log(1 + exp(-|x|)), stable for any x
        return add(subtract(relu(output), multiply(output, target)),
                   softplus(negative(operators.abs(output))))
    p = clip(output, EPSILON, 1.0 - EPSILON)
    return negative(add(multiply(target, log(p)),
                        multiply(subtract(1.0, target), log(subtract(1.0, p)))))


def categorical_crossentropy(target, output, from_logits: bool = False, axis=-1):
    """-sum(t log p) along axis; p = output / sum(output), clipped, or softmax(output).

    Example:
        >>> categorical_crossentropy([[0.0, 1.0]], [[0.5, 0.5]])
        Tensor([0.6931])
    """
    target, output = _matching(target, output, "categorical_crossentropy")
    axis = _axis_of(output, axis, "categorical_crossentropy")
    if from_logits:
        log_p = LogSoftmax.apply(output, axis)
    else:
        p = divide(output, sum(output, axis, keepdims=True))
        log_p = log(clip(p, EPSILON, 1.0 - EPSILON))
    return negative(sum(multiply(target, log_p), axis))


def sparse_categorical_crossentropy(target, output, from_logits: bool = False, axis=-1):
    """categorical_crossentropy with integer labels: target has output's shape without axis
    (a trailing axis of size 1 is dropped).

    Example:
        >>> sparse_categorical_crossentropy([1], [[0.0, 0.0]], from_logits=True)
        Tensor([0.6931])
    """
    output = float_tensor(output)
    if not isinstance(axis, (int, np.integer)):
        raise ValueError(f"sparse_categorical_crossentropy: axis must be an int. "
                         f"Received: axis={axis!r}")
    axis = _axis_of(output, axis, "sparse_categorical_crossentropy") % output.ndim
    labels = tensor_of(target).data
    if labels.ndim == output.ndim and labels.shape[-1] == 1:
        labels = labels[..., 0]
    expected = output.shape[:axis] + output.shape[axis + 1:]
    if labels.shape != expected:
        raise ValueError(f"sparse_categorical_crossentropy: target must have shape {expected} "
                         f"for output of shape {output.shape}. Received: target.shape="
                         f"{labels.shape}")
    onehot = one_hot(labels, output.shape[axis], axis=axis, dtype=output.dtype)
    return categorical_crossentropy(onehot, output, from_logits=from_logits, axis=axis)


def moments(x, axes, keepdims: bool = False, synchronized: bool = False):
    """(mean, variance) of x over axes; both differentiable.

    Example:
        >>> moments([[1.0, 2.0], [3.0, 6.0]], axes=[0])
        (Tensor([2., 4.]), Tensor([1., 4.]))
    """
    if synchronized:
        raise NotImplementedError("moments: tinydl runs on one device; synchronized=True is not "
                                  "supported. Received: synchronized=True")
    x = float_tensor(x)
    return mean(x, axes, keepdims), var(x, axes, keepdims)

