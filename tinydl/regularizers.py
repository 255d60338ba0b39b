"""Weight penalties added to the training loss: L1, L2 and both (Keras' formulas)."""

from __future__ import annotations

import math

from tinydl import ops


class Regularizer:
    """Base class of penalties (keras.regularizers.Regularizer): a callable weight -> scalar
    Tensor, with get_config / from_config.

    Example:
        >>> class SumSquares(Regularizer):
        ...     def __call__(self, x):
        ...         return (x * x).sum()
        >>> SumSquares()(tinydl.Tensor([1.0, 2.0])).item()
        5.0
    """

    def __call__(self, x):
        raise NotImplementedError(f"{type(self).__name__} must define __call__(x)")

    def get_config(self) -> dict:
        return {}

    @classmethod
    def from_config(cls, config: dict):
        return cls(**config)


def _factor(value, name: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"L1L2: {name} must be a number. Received: {name}={value!r}") from None
    if not math.isfinite(number) or number < 0:
        raise ValueError(f"L1L2: {name} must be a finite float >= 0. Received: {name}={value!r}")
    return number


class L1L2(Regularizer):
    """penalty(w) = l1 * sum(|w|) + l2 * sum(w^2).

    Example:
        >>> L1L2(l1=0.5, l2=1.0)(tinydl.Tensor([1.0, -2.0])).item()
        6.5
    """

    def __init__(self, l1: float = 0.0, l2: float = 0.0):
        self.l1, self.l2 = _factor(l1, "l1"), _factor(l2, "l2")

    def __call__(self, weight):
        penalty = 0.0
        if self.l1:
            penalty = ops.abs(weight).sum() * self.l1
        if self.l2:
            penalty = (weight * weight).sum() * self.l2 + penalty
        return penalty

    def get_config(self) -> dict:
        return {"l1": self.l1, "l2": self.l2}

    def __eq__(self, other):
        return isinstance(other, L1L2) and (self.l1, self.l2) == (other.l1, other.l2)

    def __hash__(self):
        return hash((self.l1, self.l2))

    def __repr__(self):
        return f"L1L2(l1={self.l1}, l2={self.l2})"


def l1(l1: float = 0.01) -> L1L2:  # noqa: E741
    """L1 penalty l1 * sum(|w|); Keras' default factor 0.01.

    Example:
        >>> round(l1(0.1)(tinydl.Tensor([1.0, -2.0])).item(), 4)
        0.3
    """
    return L1L2(l1=l1)


def l2(l2: float = 0.01) -> L1L2:
    """L2 penalty l2 * sum(w^2); Keras' default factor 0.01.

    Example:
        >>> l2()
        L1L2(l1=0.0, l2=0.01)
    """
    return L1L2(l2=l2)


def l1_l2(l1: float = 0.01, l2: float = 0.01) -> L1L2:  # noqa: E741
    """Both penalties; Keras' default factors 0.01 and 0.01.

    Example:
        >>> l1_l2(l1=0.1, l2=0.2)
        L1L2(l1=0.1, l2=0.2)
    """
    return L1L2(l1=l1, l2=l2)


L1, L2 = l1, l2


def serialize(regularizer) -> dict | None:
    """A JSON-ready config of a regularizer: {'class': 'L1L2', 'l1': ..., 'l2': ...}.

    None stays None. A custom callable that is not an L1L2 has no config and gives None:
    it cannot be saved with a model (recreate it in code after loading).

    Example:
        >>> serialize(l2(0.5))
        {'class': 'L1L2', 'l1': 0.0, 'l2': 0.5}
    """
    if isinstance(regularizer, L1L2):
        return {"class": "L1L2", **regularizer.get_config()}
    return None


def deserialize(config) -> L1L2 | None:
    """The inverse of serialize: None or {'class': 'L1L2', 'l1': ..., 'l2': ...} -> L1L2.

    Example:
        >>> deserialize({"class": "L1L2", "l1": 0.0, "l2": 0.5})
        L1L2(l1=0.0, l2=0.5)
    """
    if config is None:
        return None
    if not isinstance(config, dict) or config.get("class") != "L1L2":
        raise ValueError("a regularizer config must be None or {'class': 'L1L2', 'l1': float, "
                         f"'l2': float}}. Received: {config!r}")
    return L1L2(l1=config.get("l1", 0.0), l2=config.get("l2", 0.0))


_BY_NAME = {"l1": l1, "l2": l2, "l1_l2": l1_l2}


def get(identifier):
    """None, a callable, one of 'l1', 'l2', 'l1_l2' (default factors), or a serialize() dict.

    Example:
        >>> get("l1")
        L1L2(l1=0.01, l2=0.0)
        >>> get(None) is None
        True
    """
    if identifier is None or callable(identifier):
        return identifier
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str) and identifier.lower() in _BY_NAME:
        return _BY_NAME[identifier.lower()]()
    raise ValueError(f"unknown regularizer {identifier!r}; valid: None, a callable, a config "
                     f"dict from serialize(), or one of {sorted(_BY_NAME)}")

from tinydl import keras_names  # noqa: E402

__getattr__ = keras_names.missing(__name__, "regularizers")  # a Keras name tinydl lacks: a clear error
