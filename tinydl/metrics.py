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
    """1.0 where argmax(y_pred) equals the integer label, per sample.

    Args:
        y_true: integer labels, shape (N,) or (N, 1).
        y_pred: scores or probabilities, shape (N, K).

    Returns:
        float32 array of shape (N,): 1.0 for a hit, 0.0 for a miss.

    Example:
        >>> sparse_categorical_accuracy([2, 0], [[0.1, 0.2, 0.7], [0.3, 0.6, 0.1]])
        array([1., 0.], dtype=float32)
    """
    y_pred, y_true = _array(y_pred), _array(y_true)
    if y_true.ndim == y_pred.ndim and y_true.shape[-1] == 1:
        y_true = y_true[..., 0]
    return (np.argmax(y_pred, axis=-1) == y_true.astype(np.int64)).astype(np.float32)


def categorical_accuracy(y_true, y_pred) -> np.ndarray:
    """1.0 where argmax(y_pred) equals argmax(y_true) (one-hot targets), per sample.

    Args:
        y_true: one-hot targets, shape (N, K).
        y_pred: scores or probabilities, shape (N, K).

    Returns:
        float32 array of shape (N,).

    Example:
        >>> categorical_accuracy([[0, 0, 1], [1, 0, 0]], [[0.1, 0.2, 0.7], [0.3, 0.6, 0.1]])
        array([1., 0.], dtype=float32)
    """
    return (np.argmax(_array(y_pred), -1) == np.argmax(_array(y_true), -1)).astype(np.float32)


def binary_accuracy(y_true, y_pred, threshold: float = 0.5) -> np.ndarray:
    """Mean over the last axis of ((y_pred > threshold) == y_true).

    Args:
        y_true: 0/1 targets, shape (N, D) (or (N,), taken as (N, 1)).
        y_pred: probabilities, the shape of y_true.
        threshold: predictions above it count as 1.

    Returns:
        float32 array of shape (N,).

    Example:
        >>> binary_accuracy([[1, 0], [0, 0]], [[0.9, 0.6], [0.2, 0.4]])
        array([0.5, 1. ], dtype=float32)
    """
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
    """mean((y_true - y_pred)^2) over the last axis, per sample.

    Args:
        y_true: targets, shape (N, D).
        y_pred: predictions, the shape of y_true.

    Returns:
        Array of shape (N,).

    Example:
        >>> y_true, y_pred = np.array([[0., 1.], [2., 2.]]), np.array([[1., 1.], [0., 2.]])
        >>> mean_squared_error(y_true, y_pred), ((y_true - y_pred) ** 2).mean(-1)
        (array([0.5, 2. ]...), array([0.5, 2. ]))
    """
    y_true, y_pred = _matched(y_true, y_pred)
    return ((y_true - y_pred) ** 2).mean(axis=-1)


def mean_absolute_error(y_true, y_pred) -> np.ndarray:
    """mean(|y_true - y_pred|) over the last axis, per sample.

    Args:
        y_true: targets, shape (N, D).
        y_pred: predictions, the shape of y_true.

    Returns:
        Array of shape (N,).

    Example:
        >>> mean_absolute_error([[0., 1.], [2., 2.]], [[1., 1.], [0., 2.]])
        array([0.5, 1. ]...)
    """
    y_true, y_pred = _matched(y_true, y_pred)
    return np.abs(y_true - y_pred).mean(axis=-1)


class Metric:
    """Base class: subclass it with update_state, result and reset_state.

    Example:
        >>> class Count(Metric):
        ...     def reset_state(self):
        ...         self.n = 0
        ...     def update_state(self, y_true, y_pred, sample_weight=None):
        ...         self.n += len(y_true)
        ...     def result(self):
        ...         return float(self.n)
        >>> Count()([1, 0, 1], [1, 1, 1])
        3.0
    """

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
    """The (weighted) mean of all values seen since the last reset.

    update_state(values, sample_weight=None) adds values (any shape) with their weights
    (broadcast to the values' shape); result() is sum(w * v) / sum(w), 0.0 before any update.

    Example:
        >>> m = Mean()
        >>> m.update_state([1.0, 2.0, 3.0])
        >>> m.update_state([10.0], sample_weight=[3.0])
        >>> m.result(), (1 + 2 + 3 + 3 * 10) / 6
        (6.0, 6.0)
        >>> m.reset_state(); m.result()
        0.0
    """

    def reset_state(self) -> None:
        self.total, self.count = 0.0, 0.0

    def update_state(self, values, sample_weight=None) -> None:
        values = _array(values, np.float64)
        if sample_weight is None:
            self.total += float(values.sum())
            self.count += float(values.size)
        else:
            weight = _array(sample_weight, np.float64)
            if 0 < weight.ndim < values.ndim:  # Keras: values are first meaned to one per weight
                values = values.mean(axis=tuple(range(weight.ndim, values.ndim)))
            weight = np.broadcast_to(weight, values.shape)
            self.total += float((values * weight).sum())
            self.count += float(weight.sum())

    def result(self) -> float:
        return self.total / self.count if self.count else 0.0


class MeanMetricWrapper(Mean):
    """The mean over all samples seen of fn(y_true, y_pred) (one value per sample).

    Args:
        fn: a function (y_true, y_pred, **fn_kwargs) -> per-sample values, shape (N,).
        name: the metric's name; fn's __name__ by default.
        dtype: accepted for Keras' signature (results are float).
        **fn_kwargs: passed to fn on every call.

    Example:
        >>> m = MeanMetricWrapper(binary_accuracy, threshold=0.7)
        >>> m.name, m([[1], [1], [0]], [[0.8], [0.6], [0.1]])
        ('binary_accuracy', 0.666...)
    """

    def __init__(self, fn, name: str | None = None, dtype=None, **fn_kwargs):
        self.fn, self.fn_kwargs = fn, fn_kwargs
        super().__init__(name=name or getattr(fn, "__name__", "metric"), dtype=dtype)

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        super().update_state(self.fn(y_true, y_pred, **self.fn_kwargs), sample_weight)


class SparseCategoricalAccuracy(MeanMetricWrapper):
    """Fraction of samples whose argmax prediction equals the integer label.

    Args:
        name: the metric's name.
        dtype: accepted for Keras' signature.

    Example:
        >>> m = SparseCategoricalAccuracy()
        >>> m.update_state([2, 0], [[0.1, 0.2, 0.7], [0.3, 0.6, 0.1]])
        >>> m.update_state([1], [[0.2, 0.5, 0.3]])
        >>> m.result()
        0.666...
    """

    def __init__(self, name: str = "sparse_categorical_accuracy", dtype=None):
        super().__init__(sparse_categorical_accuracy, name=name, dtype=dtype)


class CategoricalAccuracy(MeanMetricWrapper):
    """Fraction of samples whose argmax prediction equals the argmax of the one-hot target.

    Args:
        name: the metric's name.
        dtype: accepted for Keras' signature.

    Example:
        >>> CategoricalAccuracy()([[0, 1], [1, 0]], [[0.4, 0.6], [0.3, 0.7]])
        0.5
    """

    def __init__(self, name: str = "categorical_accuracy", dtype=None):
        super().__init__(categorical_accuracy, name=name, dtype=dtype)


class BinaryAccuracy(MeanMetricWrapper):
    """Fraction of outputs on the right side of threshold (0.5, as Keras).

    Args:
        name: the metric's name.
        dtype: accepted for Keras' signature.
        threshold: predictions above it count as 1.

    Example:
        >>> m = BinaryAccuracy(threshold=0.3)
        >>> m([[1], [0], [0], [1]], [[0.4], [0.2], [0.35], [0.1]]), m.get_config()["threshold"]
        (0.5, 0.3)
    """

    def __init__(self, name: str = "binary_accuracy", dtype=None, threshold: float = 0.5):
        super().__init__(binary_accuracy, name=name, dtype=dtype, threshold=threshold)
        self.threshold = threshold

    def get_config(self) -> dict:
        return {**super().get_config(), "threshold": self.threshold}


class MeanSquaredError(MeanMetricWrapper):
    """Mean over samples of mean((y_true - y_pred)^2).

    Args:
        name: the metric's name.
        dtype: accepted for Keras' signature.

    Example:
        >>> y_true, y_pred = np.array([[0., 1.], [2., 2.]]), np.array([[1., 1.], [0., 2.]])
        >>> MeanSquaredError()(y_true, y_pred), float(((y_true - y_pred) ** 2).mean())
        (1.25, 1.25)
    """

    def __init__(self, name: str = "mean_squared_error", dtype=None):
        super().__init__(mean_squared_error, name=name, dtype=dtype)


class MeanAbsoluteError(MeanMetricWrapper):
    """Mean over samples of mean(|y_true - y_pred|).

    Args:
        name: the metric's name.
        dtype: accepted for Keras' signature.

    Example:
        >>> MeanAbsoluteError()([[0., 1.], [2., 2.]], [[1., 1.], [0., 2.]])
        0.75
    """

    def __init__(self, name: str = "mean_absolute_error", dtype=None):
        super().__init__(mean_absolute_error, name=name, dtype=dtype)


def _divide(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a / b, with 0 where b is 0 (Keras' divide_no_nan)."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return np.divide(a, b, out=np.zeros(np.broadcast(a, b).shape), where=b != 0)


def _threshold_list(thresholds, default: float, owner: str) -> list:
    if thresholds is None:
        return [default]
    values = [thresholds] if np.isscalar(thresholds) else list(thresholds)
    if not values or any(not 0.0 <= float(t) <= 1.0 for t in values if np.isfinite(t)):
        raise ValueError(f"{owner}: thresholds must be values in [0, 1]. Received: "
                         f"thresholds={thresholds!r}")
    return [float(t) for t in values]


def confusion_counts(y_true, y_pred, thresholds, sample_weight=None, top_k=None,
                     class_id=None, label_weights=None) -> np.ndarray:
    """The weighted true positives, false positives, true negatives and false negatives.

    Counts the predictions y_pred > thresholds[t] against the 0/1 labels y_true, as Keras
    counts them: top_k keeps the k largest predictions of each row (the others count as
    negative), class_id looks at one column only.

    Args:
        y_true: 0/1 labels, shape (N, K) (or (N,) with y_pred (N, 1)).
        y_pred: probabilities, shape (N, K).
        thresholds: T thresholds.
        sample_weight: optional weights, shape (N,) or (N, K).
        top_k: keep only the k largest predictions of each row.
        class_id: count one column only.
        label_weights: optional weights per column, shape (K,).

    Returns:
        float64 array of shape (4, T): rows TP, FP, TN, FN.

    Example:
        >>> y_true, y_pred = np.array([1, 0, 1, 0]), np.array([0.9, 0.8, 0.3, 0.1])
        >>> confusion_counts(y_true, y_pred, [0.5, 0.2])
        array([[1., 2.],
               [1., 1.],
               [1., 1.],
               [1., 0.]])
        >>> [int(((y_pred > 0.2) & (y_true == 1)).sum()), int(((y_pred > 0.2) & (y_true == 0)).sum())]
        [2, 1]
    """
    y_true, y_pred = _array(y_true, np.float64), _array(y_pred, np.float64)
    if y_true.ndim == y_pred.ndim - 1 and y_pred.shape[-1:] == (1,):
        y_true = y_true[..., None]
    weight = np.ones(y_pred.shape) if sample_weight is None else _array(sample_weight, np.float64)
    weight = weight.reshape(weight.shape + (1,) * (y_pred.ndim - weight.ndim))
    weight = np.broadcast_to(weight, y_pred.shape)
    if label_weights is not None:
        weight = weight * _array(label_weights, np.float64)
    if top_k is not None:
        kth = -np.sort(-y_pred, axis=-1)[..., top_k - 1:top_k]
        y_pred = np.where(y_pred >= kth, y_pred, -np.inf)
    if class_id is not None:
        y_true, y_pred, weight = y_true[..., class_id], y_pred[..., class_id], weight[..., class_id]
    positive = y_true.reshape(-1) > 0.5
    predicted = y_pred.reshape(1, -1) > np.asarray(thresholds, np.float64).reshape(-1, 1)
    weight = weight.reshape(1, -1)
    return np.stack([(weight * (predicted & positive)).sum(1), (weight * (predicted & ~positive)).sum(1),
                     (weight * (~predicted & ~positive)).sum(1), (weight * (~predicted & positive)).sum(1)])


class _ConfusionMetric(Metric):
    """Counts of (TP, FP, TN, FN) per threshold, summed over every batch since the last reset."""

    def __init__(self, thresholds=None, top_k=None, class_id=None, name=None, dtype=None,
                 default: float = 0.5):
        if top_k is not None and (isinstance(top_k, bool) or not isinstance(top_k, int) or top_k < 1):
            raise ValueError(f"{type(self).__name__}: top_k must be a positive int or None. "
                             f"Received: top_k={top_k!r}")
        self.init_thresholds, self.top_k, self.class_id = thresholds, top_k, class_id
        self.thresholds = _threshold_list(thresholds, default, type(self).__name__)
        super().__init__(name=name, dtype=dtype)

    def reset_state(self) -> None:
        self.counts = np.zeros((4, len(self.thresholds)))

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        self.counts += confusion_counts(y_true, y_pred, self.thresholds, sample_weight,
                                        self.top_k, self.class_id)

    @staticmethod
    def _value(values: np.ndarray):
        return float(values[0]) if values.size == 1 else values.astype(np.float32)

    @property
    def true_positives(self):
        return self.counts[0]

    @property
    def false_positives(self):
        return self.counts[1]

    @property
    def true_negatives(self):
        return self.counts[2]

    @property
    def false_negatives(self):
        return self.counts[3]

    def get_config(self) -> dict:
        return {**super().get_config(), "thresholds": self.init_thresholds}


def _count_metric(index: int, doc: str):
    class Count(_ConfusionMetric):
        __doc__ = doc

        def __init__(self, thresholds=None, name=None, dtype=None):
            super().__init__(thresholds, name=name, dtype=dtype)

        def result(self):
            return self._value(self.counts[index])
    return Count


class TruePositives(_count_metric(0, "The (weighted) number of positives predicted positive "
                                    "(y_pred > threshold, 0.5 by default), per threshold.")):
    """The (weighted) number of positives predicted positive (y_pred > threshold, 0.5 by default).

    Args:
        thresholds: a float or a list; with a list, result() is an array, one count per threshold.
        name: the metric's name.
        dtype: accepted for Keras' signature.

    Example:
        >>> TruePositives()([1, 1, 0, 1], [0.9, 0.4, 0.8, 0.7])
        2.0
        >>> TruePositives(thresholds=[0.3, 0.8])([1, 1, 0, 1], [0.9, 0.4, 0.8, 0.7])
        array([3., 1.], dtype=float32)
    """
    pass


class FalsePositives(_count_metric(1, "The (weighted) number of negatives predicted positive.")):
    """The (weighted) number of negatives predicted positive (y_pred > threshold, 0.5 by default).

    Args:
        thresholds: a float or a list (one count per threshold).
        name: the metric's name.
        dtype: accepted for Keras' signature.

    Example:
        >>> FalsePositives()([1, 0, 0, 0], [0.9, 0.6, 0.8, 0.2], sample_weight=[1, 2, 0.5, 1])
        2.5
    """
    pass


class TrueNegatives(_count_metric(2, "The (weighted) number of negatives predicted negative.")):
    """The (weighted) number of negatives predicted negative (y_pred <= threshold, 0.5 by default).

    Args:
        thresholds: a float or a list (one count per threshold).
        name: the metric's name.
        dtype: accepted for Keras' signature.

    Example:
        >>> TrueNegatives()([1, 0, 0, 0], [0.9, 0.6, 0.3, 0.2])
        2.0
    """
    pass


class FalseNegatives(_count_metric(3, "The (weighted) number of positives predicted negative.")):
    """The (weighted) number of positives predicted negative (y_pred <= threshold, 0.5 by default).

    Args:
        thresholds: a float or a list (one count per threshold).
        name: the metric's name.
        dtype: accepted for Keras' signature.

    Example:
        >>> FalseNegatives()([1, 1, 1, 0], [0.9, 0.4, 0.1, 0.2])
        2.0
    """
    pass


class Precision(_ConfusionMetric):
    """TP / (TP + FP): the fraction of predicted positives that are positive.

    Args:
        thresholds: a float or a list (one precision per threshold); 0.5 by default, or
            none (every top-k prediction counts) with top_k.
        top_k: count only the k largest predictions of each row.
        class_id: look at one column only.
        name: the metric's name.
        dtype: accepted for Keras' signature.

    Example:
        >>> y_true, y_pred = [1, 0, 1, 0], [0.9, 0.8, 0.3, 0.6]
        >>> Precision()(y_true, y_pred)          # predicted positive: 0.9 (right), 0.8, 0.6
        0.333...
        >>> Precision(top_k=1)([[0, 1, 0], [1, 0, 0]], [[0.1, 0.7, 0.2], [0.2, 0.5, 0.3]])
        0.5
    """

    def __init__(self, thresholds=None, top_k=None, class_id=None, name=None, dtype=None):
        super().__init__(thresholds, top_k, class_id, name, dtype,
                         default=0.5 if top_k is None else -np.inf)

    def result(self):
        return self._value(_divide(self.true_positives, self.true_positives + self.false_positives))

    def get_config(self) -> dict:
        return {**super().get_config(), "top_k": self.top_k, "class_id": self.class_id}


class Recall(Precision):
    """TP / (TP + FN): the fraction of positives predicted positive (args as Precision).

    Example:
        >>> Recall()([1, 0, 1, 1], [0.9, 0.8, 0.3, 0.6])
        0.666...
        >>> Recall(thresholds=[0.2, 0.7])([1, 0, 1, 1], [0.9, 0.8, 0.3, 0.6])
        array([1. , 0.33...], dtype=float32)
    """

    def result(self):
        return self._value(_divide(self.true_positives, self.true_positives + self.false_negatives))


class AUC(_ConfusionMetric):
    """Area under the ROC or precision-recall curve.

    Computed from the confusion counts at num_thresholds thresholds evenly spread over [0, 1]
    (plus one just below 0 and one just above 1), summed as Keras does: trapezoids for ROC,
    Davis & Goadrich's interpolation (2006) for PR; 'minoring' / 'majoring' take the lower /
    upper rectangles.

    Args:
        num_thresholds: the number of thresholds (> 1), when `thresholds` is not given.
        curve: 'ROC' or 'PR'.
        summation_method: 'interpolation', 'minoring' or 'majoring'.
        name: the metric's name ('auc').
        dtype: accepted for Keras' signature.
        thresholds: explicit thresholds in [0, 1] instead of evenly spread ones.
        multi_label: False only.
        num_labels: accepted for Keras' signature.
        label_weights: optional weights per column, shape (K,).
        from_logits: apply a sigmoid to y_pred first.

    Raises:
        ValueError: an unknown curve or summation_method, or num_thresholds <= 1.
        NotImplementedError: multi_label=True (one AUC per label, averaged).

    Example:
        The ROC AUC is the chance that a random positive scores above a random negative
        (here 3 of the 4 pairs):

        >>> y_true, y_pred = [0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]
        >>> round(AUC()(y_true, y_pred), 4)
        0.75
        >>> AUC(curve="PR", summation_method="majoring")(y_true, y_pred) > 0.75
        True
    """

    def __init__(self, num_thresholds: int = 200, curve: str = "ROC",
                 summation_method: str = "interpolation", name=None, dtype=None,
                 thresholds=None, multi_label: bool = False, num_labels=None,
                 label_weights=None, from_logits: bool = False):
        if curve.upper() not in ("ROC", "PR"):
            raise ValueError(f"AUC: curve must be 'ROC' or 'PR'. Received: curve={curve!r}")
        if summation_method not in ("interpolation", "minoring", "majoring"):
            raise ValueError("AUC: summation_method must be 'interpolation', 'minoring' or "
                             f"'majoring'. Received: summation_method={summation_method!r}")
        if multi_label:
            raise NotImplementedError("AUC(multi_label=True) is not implemented in tinydl; "
                                      "use multi_label=False (one curve over all labels)")
        if thresholds is None and (isinstance(num_thresholds, bool) or num_thresholds <= 1):
            raise ValueError("AUC: num_thresholds must be an int > 1. Received: "
                             f"num_thresholds={num_thresholds!r}")
        if thresholds is None:
            inner = [(i + 1) / (num_thresholds - 1) for i in range(num_thresholds - 2)]
        else:
            inner = sorted(_threshold_list(thresholds, 0.5, "AUC"))
        self.curve, self.summation_method = curve.upper(), summation_method
        self.num_thresholds, self.from_logits = len(inner) + 2, from_logits
        self.multi_label, self.num_labels, self.label_weights = False, num_labels, label_weights
        super().__init__(name=name or "auc", dtype=dtype)
        self.thresholds = [0.0 - 1e-7] + inner + [1.0 + 1e-7]
        self.reset_state()

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        y_pred = _array(y_pred, np.float64)
        if self.from_logits:
            y_pred = 1.0 / (1.0 + np.exp(-y_pred))
        self.counts += confusion_counts(y_true, y_pred, self.thresholds, sample_weight,
                                        label_weights=self.label_weights)

    def result(self) -> float:
        tp, fp, tn, fn = self.counts
        if self.curve == "PR" and self.summation_method == "interpolation":
            return self._interpolated_pr()
        recall = _divide(tp, tp + fn)
        x, y = (_divide(fp, fp + tn), recall) if self.curve == "ROC" else (
            recall, _divide(tp, tp + fp))
        pairs = np.stack([y[:-1], y[1:]])
        heights = {"interpolation": pairs.mean(0), "minoring": pairs.min(0),
                   "majoring": pairs.max(0)}[self.summation_method]
        return float(((x[:-1] - x[1:]) * heights).sum())

    def _interpolated_pr(self) -> float:
        """Davis & Goadrich: precision interpolated between thresholds, in closed form."""
        tp, fp, _, fn = self.counts
        dtp = tp[:-1] - tp[1:]
        p = tp + fp
        dp = p[:-1] - p[1:]
        slope = _divide(dtp, np.maximum(dp, 0))
        intercept = tp[1:] - slope * p[1:]
        both = (p[:-1] > 0) & (p[1:] > 0)
        ratio = np.where(both, _divide(p[:-1], np.maximum(p[1:], 0)), 1.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            logs = np.log(np.where(ratio > 0, ratio, 1.0))
        return float(_divide(slope * (dtp + intercept * logs), np.maximum(tp[1:] + fn[1:], 0)).sum())

    def get_config(self) -> dict:
        return {"name": self.name, "num_thresholds": self.num_thresholds, "curve": self.curve,
                "summation_method": self.summation_method, "thresholds": self.thresholds[1:-1],
                "multi_label": False, "label_weights": self.label_weights,
                "from_logits": self.from_logits}


def top_k_categorical_accuracy(y_true, y_pred, k: int = 5) -> np.ndarray:
    """1.0 where the one-hot target's class is among the k largest predictions, per sample.

    Args:
        y_true: one-hot targets, shape (N, K).
        y_pred: scores, shape (N, K).
        k: how many of the best predictions count.

    Returns:
        float32 array of shape (N,).

    Example:
        >>> top_k_categorical_accuracy([[0, 0, 1], [1, 0, 0]], [[0.5, 0.3, 0.2], [0.1, 0.7, 0.2]], k=2)
        array([0., 0.], dtype=float32)
        >>> top_k_categorical_accuracy([[0, 1, 0], [1, 0, 0]], [[0.5, 0.3, 0.2], [0.1, 0.7, 0.2]], k=2)
        array([1., 0.], dtype=float32)
    """
    return sparse_top_k_categorical_accuracy(np.argmax(_array(y_true), -1), y_pred, k)


def sparse_top_k_categorical_accuracy(y_true, y_pred, k: int = 5,
                                      from_sorted_ids: bool = False) -> np.ndarray:
    """1.0 where the integer label is among the k largest predictions, per sample.

    A label is a hit when fewer than k predictions are strictly above its own (ties count as
    hits, as in Keras).

    Args:
        y_true: integer labels, shape (N,) or (N, 1).
        y_pred: scores, shape (N, K); with from_sorted_ids, class ids best first, shape (N, M).
        k: how many of the best predictions count.
        from_sorted_ids: y_pred holds class ids instead of scores.

    Returns:
        float32 array of shape (N,).

    Example:
        >>> sparse_top_k_categorical_accuracy([1, 2], [[0.5, 0.3, 0.2], [0.1, 0.7, 0.2]], k=2)
        array([1., 1.], dtype=float32)
        >>> sparse_top_k_categorical_accuracy([1, 2], [[0, 1], [1, 0]], k=1, from_sorted_ids=True)
        array([0., 0.], dtype=float32)
    """
    y_pred, y_true = _array(y_pred), _array(y_true).astype(np.int64)
    y_true = y_true.reshape(len(y_pred))
    if from_sorted_ids:
        return (y_pred[:, :k] == y_true[:, None]).any(-1).astype(np.float32)
    target = np.take_along_axis(y_pred, y_true[:, None], axis=-1)
    return ((y_pred > target).sum(-1) < k).astype(np.float32)


class TopKCategoricalAccuracy(MeanMetricWrapper):
    """Fraction of samples whose one-hot target is among the k (5) best predictions.

    Args:
        k: how many of the best predictions count.
        name: the metric's name.
        dtype: accepted for Keras' signature.

    Example:
        >>> TopKCategoricalAccuracy(k=2)([[0, 1, 0], [1, 0, 0]], [[0.5, 0.3, 0.2], [0.1, 0.7, 0.2]])
        0.5
    """

    def __init__(self, k: int = 5, name: str = "top_k_categorical_accuracy", dtype=None):
        super().__init__(top_k_categorical_accuracy, name=name, dtype=dtype, k=k)
        self.k = k

    def get_config(self) -> dict:
        return {**super().get_config(), "k": self.k}


class SparseTopKCategoricalAccuracy(MeanMetricWrapper):
    """Fraction of samples whose integer label is among the k (5) best predictions.

    Args:
        k: how many of the best predictions count.
        name: the metric's name.
        dtype: accepted for Keras' signature.
        from_sorted_ids: y_pred holds class ids, best first, instead of scores.

    Example:
        >>> m = SparseTopKCategoricalAccuracy(k=1)
        >>> m([0, 1, 1], [[0.6, 0.4], [0.2, 0.8], [0.9, 0.1]]), m.get_config()["k"]
        (0.666..., 1)
    """

    def __init__(self, k: int = 5, name: str = "sparse_top_k_categorical_accuracy", dtype=None,
                 from_sorted_ids: bool = False):
        super().__init__(sparse_top_k_categorical_accuracy, name=name, dtype=dtype, k=k,
                         from_sorted_ids=from_sorted_ids)
        self.k, self.from_sorted_ids = k, from_sorted_ids

    def get_config(self) -> dict:
        return {**super().get_config(), "k": self.k, "from_sorted_ids": self.from_sorted_ids}


_BY_NAME = {
    "sparse_categorical_accuracy": SparseCategoricalAccuracy,
    "categorical_accuracy": CategoricalAccuracy, "binary_accuracy": BinaryAccuracy,
    "mse": MeanSquaredError, "mean_squared_error": MeanSquaredError,
    "mae": MeanAbsoluteError, "mean_absolute_error": MeanAbsoluteError,
    "precision": Precision, "recall": Recall, "auc": AUC, "true_positives": TruePositives,
    "false_positives": FalsePositives, "true_negatives": TrueNegatives,
    "false_negatives": FalseNegatives, "top_k_categorical_accuracy": TopKCategoricalAccuracy,
    "sparse_top_k_categorical_accuracy": SparseTopKCategoricalAccuracy,
}
NAMES = sorted(_BY_NAME) + ["accuracy", "acc"]


def get(identifier) -> Metric:
    """A Metric from a name, a Metric, or a function fn(y_true, y_pred) -> per-sample values.

    'accuracy' / 'acc' depend on the loss and are resolved by Model.compile, not here.

    Args:
        identifier: a metric name ('mse', 'auc', ...), a Metric (returned as is), or a function.

    Returns:
        A Metric.

    Raises:
        ValueError: an unknown name (the message lists the valid ones).
        TypeError: anything else.

    Example:
        >>> get("mae"), get("precision").name
        (<MeanAbsoluteError name=mae>, 'precision')
        >>> get(mean_squared_error)([[1.0]], [[3.0]])
        4.0
        >>> get("f1")
        Traceback (most recent call last):
        ...
        ValueError: unknown metric 'f1'; valid names: [...], or a tinydl.metrics.Metric, or a function (y_true, y_pred)
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


from tinydl import metrics_more  # noqa: E402  (it builds on the above)
from tinydl.metrics_more import (Accuracy, BinaryCrossentropy, CategoricalCrossentropy,  # noqa: E402,F401
                                 CategoricalHinge, CosineSimilarity, F1Score, FBetaScore, Hinge, KLDivergence,
                                 LogCoshError,
                                 MeanAbsolutePercentageError, MeanSquaredLogarithmicError, Poisson, R2Score,
                                 RootMeanSquaredError, SparseCategoricalCrossentropy, SquaredHinge, Sum)

_BY_NAME.update(metrics_more.NAMES)
NAMES[:] = sorted(_BY_NAME) + ["accuracy", "acc"]

__all__ = ["Metric", "Mean", "MeanMetricWrapper", "SparseCategoricalAccuracy",
           "CategoricalAccuracy", "BinaryAccuracy", "MeanSquaredError", "MeanAbsoluteError",
           "sparse_categorical_accuracy", "categorical_accuracy", "binary_accuracy",
           "mean_squared_error", "mean_absolute_error", "Precision", "Recall", "AUC",
           "TruePositives", "FalsePositives", "TrueNegatives", "FalseNegatives",
           "TopKCategoricalAccuracy", "SparseTopKCategoricalAccuracy", "confusion_counts",
           "top_k_categorical_accuracy", "sparse_top_k_categorical_accuracy", "get",
           "Accuracy", "Sum", "RootMeanSquaredError", "R2Score", "BinaryCrossentropy", "CategoricalCrossentropy",
           "SparseCategoricalCrossentropy", "KLDivergence", "Poisson", "Hinge", "SquaredHinge", "CategoricalHinge",
           "LogCoshError", "MeanAbsolutePercentageError", "MeanSquaredLogarithmicError", "CosineSimilarity",
           "F1Score", "FBetaScore"]

from tinydl import keras_names  # noqa: E402

__getattr__ = keras_names.missing(__name__, "metrics")  # a Keras name tinydl lacks: a clear error
