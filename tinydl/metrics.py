"""Metrics with Keras' names and stateful API: update_state, result, reset_state.

A metric accumulates over many batches (an epoch) and reports the running value:

    m = metrics.SparseCategoricalAccuracy()
    m.update_state([1, 2], [[0.1, 0.9, 0.0], [0.8, 0.1, 0.1]])
    m.result()                     # 0.5
    m.reset_state()

Metrics work on NumPy arrays (they are never differentiated); Tensors are accepted too.
"""

from __future__ import annotations

import numpy as np


def _array(x, dtype=None) -> np.ndarray:
    return np.asarray(getattr(x, "data", x), dtype=dtype)


def sparse_categorical_accuracy(y_true, y_pred) -> np.ndarray:
    """1.0 where argmax(y_pred) equals the integer label, per sample. y_true (N,) or (N, 1)."""
    y_pred, y_true = _array(y_pred), _array(y_true)
    if y_true.ndim == y_pred.ndim and y_true.shape[-1] == 1:
        y_true = y_true[..., 0]
    return (np.argmax(y_pred, axis=-1) == y_true.astype(np.int64)).astype(np.float32)


def categorical_accuracy(y_true, y_pred) -> np.ndarray:
    """1.0 where argmax(y_pred) equals argmax(y_true) (one-hot targets), per sample."""
    return (np.argmax(_array(y_pred), -1) == np.argmax(_array(y_true), -1)).astype(np.float32)


def binary_accuracy(y_true, y_pred, threshold: float = 0.5) -> np.ndarray:
    """Mean over the last axis of ((y_pred > threshold) == y_true)."""
    y_pred, y_true = _array(y_pred), _array(y_true, np.float32)
    if y_true.ndim == y_pred.ndim - 1:
        y_true = y_true[..., None]
    hits = ((y_pred > threshold).astype(np.float32) == y_true).astype(np.float32)
    return hits.mean(axis=-1) if hits.ndim > 1 else hits


def _matched(y_true, y_pred):
    y_pred, y_true = _array(y_pred, np.float32), _array(y_true, np.float32)
    if y_true.ndim == y_pred.ndim - 1:
        y_true = y_true[..., None]
    return y_true, y_pred


def mean_squared_error(y_true, y_pred) -> np.ndarray:
    """mean((y_true - y_pred)^2) over the last axis, per sample."""
    y_true, y_pred = _matched(y_true, y_pred)
    return ((y_true - y_pred) ** 2).mean(axis=-1)


def mean_absolute_error(y_true, y_pred) -> np.ndarray:
    """mean(|y_true - y_pred|) over the last axis, per sample."""
    y_true, y_pred = _matched(y_true, y_pred)
    return np.abs(y_true - y_pred).mean(axis=-1)


class Metric:
    """Base class: subclass it with update_state, result and reset_state."""

    def __init__(self, name: str | None = None, dtype=None):
        self.name = name or "".join("_" + c.lower() if c.isupper() else c
                                    for c in type(self).__name__).lstrip("_")
        self.reset_state()

    def update_state(self, *args, **kwargs) -> None:
        raise NotImplementedError(f"{type(self).__name__} must define update_state")

    def result(self) -> float:
        raise NotImplementedError(f"{type(self).__name__} must define result")

    def reset_state(self) -> None:
        pass

    def __call__(self, *args, **kwargs) -> float:
        self.update_state(*args, **kwargs)
        return self.result()

    def get_config(self) -> dict:
        return {"name": self.name}

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}>"


class Mean(Metric):
    """The (weighted) mean of all values seen since the last reset."""

    def reset_state(self) -> None:
        self.total, self.count = 0.0, 0.0

    def update_state(self, values, sample_weight=None) -> None:
        values = _array(values, np.float64)
        if sample_weight is None:
            self.total += float(values.sum())
            self.count += float(values.size)
        else:
            weight = np.broadcast_to(_array(sample_weight, np.float64), values.shape)
            self.total += float((values * weight).sum())
            self.count += float(weight.sum())

    def result(self) -> float:
        return self.total / self.count if self.count else 0.0


class MeanMetricWrapper(Mean):
    """The mean over all samples seen of fn(y_true, y_pred) (one value per sample)."""

    def __init__(self, fn, name: str | None = None, dtype=None, **fn_kwargs):
        self.fn, self.fn_kwargs = fn, fn_kwargs
        super().__init__(name=name or getattr(fn, "__name__", "metric"), dtype=dtype)

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        super().update_state(self.fn(y_true, y_pred, **self.fn_kwargs), sample_weight)


class SparseCategoricalAccuracy(MeanMetricWrapper):
    """Fraction of samples whose argmax prediction equals the integer label."""

    def __init__(self, name: str = "sparse_categorical_accuracy", dtype=None):
        super().__init__(sparse_categorical_accuracy, name=name, dtype=dtype)


class CategoricalAccuracy(MeanMetricWrapper):
    """Fraction of samples whose argmax prediction equals the argmax of the one-hot target."""

    def __init__(self, name: str = "categorical_accuracy", dtype=None):
        super().__init__(categorical_accuracy, name=name, dtype=dtype)


class BinaryAccuracy(MeanMetricWrapper):
    """Fraction of outputs on the right side of threshold (0.5, as Keras)."""

    def __init__(self, name: str = "binary_accuracy", dtype=None, threshold: float = 0.5):
        super().__init__(binary_accuracy, name=name, dtype=dtype, threshold=threshold)
        self.threshold = threshold

    def get_config(self) -> dict:
        return {**super().get_config(), "threshold": self.threshold}


class MeanSquaredError(MeanMetricWrapper):
    """Mean over samples of mean((y_true - y_pred)^2)."""

    def __init__(self, name: str = "mean_squared_error", dtype=None):
        super().__init__(mean_squared_error, name=name, dtype=dtype)


class MeanAbsoluteError(MeanMetricWrapper):
    """Mean over samples of mean(|y_true - y_pred|)."""

    def __init__(self, name: str = "mean_absolute_error", dtype=None):
        super().__init__(mean_absolute_error, name=name, dtype=dtype)


_BY_NAME = {
    "sparse_categorical_accuracy": SparseCategoricalAccuracy,
    "categorical_accuracy": CategoricalAccuracy, "binary_accuracy": BinaryAccuracy,
    "mse": MeanSquaredError, "mean_squared_error": MeanSquaredError,
    "mae": MeanAbsoluteError, "mean_absolute_error": MeanAbsoluteError,
}
NAMES = sorted(_BY_NAME) + ["accuracy", "acc"]


def get(identifier) -> Metric:
    """A Metric from a name, a Metric, or a function fn(y_true, y_pred) -> per-sample values.

    'accuracy' / 'acc' depend on the loss and are resolved by Model.compile, not here.

    Raises:
        ValueError: an unknown name (the message lists the valid ones).
    """
    if isinstance(identifier, Metric):
        return identifier
    if isinstance(identifier, str):
        cls = _BY_NAME.get(identifier.lower())
        if cls is None:
            raise ValueError(f"unknown metric {identifier!r}; valid names: {NAMES}, "
                             "or a tinydl.metrics.Metric, or a function (y_true, y_pred)")
        return cls(name=identifier)
    if callable(identifier):
        return MeanMetricWrapper(identifier)
    raise TypeError(f"metric must be a name, a Metric or a function, got {identifier!r}")


__all__ = ["Metric", "Mean", "MeanMetricWrapper", "SparseCategoricalAccuracy",
           "CategoricalAccuracy", "BinaryAccuracy", "MeanSquaredError", "MeanAbsoluteError",
           "sparse_categorical_accuracy", "categorical_accuracy", "binary_accuracy",
           "mean_squared_error", "mean_absolute_error", "get"]

from tinydl import keras_names  # noqa: E402

__getattr__ = keras_names.missing(__name__, "metrics")  # a Keras name tinydl lacks: a clear error
