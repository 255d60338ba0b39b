"""Activation functions by Keras' names: 'relu', 'sigmoid', 'tanh', 'softmax', 'linear'."""

from __future__ import annotations

from tinydl import functional as F
from tinydl import ops


def linear(x):
    """The identity.

    Example:
        >>> linear(tinydl.Tensor([1.0, -2.0])).data
        array([ 1., -2.], dtype=float32)
    """
    return x


def softmax(x):
    """Softmax over the last axis.

    Example:
        >>> softmax(tinydl.Tensor([[0.0, 0.0]])).data
        array([[0.5, 0.5]], dtype=float32)
    """
    return F.softmax(x, axis=-1)


_BY_NAME = {"relu": ops.relu, "sigmoid": ops.sigmoid, "tanh": ops.tanh, "softmax": softmax,
            "linear": linear}


def get(identifier):
    """An activation from None, a name or a callable (Tensor -> Tensor).

    Example:
        >>> get("relu")(tinydl.Tensor([-1.0, 2.0])).data
        array([0., 2.], dtype=float32)
        >>> get(None) is linear
        True
    """
    if identifier is None:
        return linear
    if callable(identifier):
        return identifier
    if isinstance(identifier, str) and identifier.lower() in _BY_NAME:
        return _BY_NAME[identifier.lower()]
    raise ValueError(f"unknown activation {identifier!r}; valid names: {sorted(_BY_NAME)}, "
                     "None or a callable")


def name_of(activation) -> str | None:
    """The Keras name of a built-in activation function, else None.

    Example:
        >>> name_of(get("softmax")), name_of(print)
        ('softmax', None)
    """
    for name, fn in _BY_NAME.items():
        if fn is activation:
            return name
    return None

from tinydl import keras_names  # noqa: E402

__getattr__ = keras_names.missing(__name__, "activations")  # a Keras name tinydl lacks: a clear error
