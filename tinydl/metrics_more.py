"""The rest of Keras' metrics: Accuracy, Sum, RootMeanSquaredError, R2Score, the metric forms of
the losses (cross-entropies, KL divergence, Poisson, hinges, cosine similarity, log-cosh, MAPE,
MSLE) and F1Score / FBetaScore; tinydl.metrics re-exports them.

Each metric of a loss is the (weighted) mean over all samples seen of that loss' per-sample
values, computed by the same function as the loss (tinydl/losses.py, tinydl/loss_functions.py),
so a metric and its loss never disagree.
"""

from __future__ import annotations

import numpy as np

from tinydl import loss_functions, losses
from tinydl.autograd import no_grad
from tinydl.metrics import Mean, MeanMetricWrapper, Metric, _array, _matched


def accuracy(y_true, y_pred) -> np.ndarray:
    """1.0 where y_pred equals y_true, per element (Keras' plain accuracy: exact equality).

    Example:
        >>> accuracy(np.array([1, 2, 3]), np.array([1, 2, 4]))
        array([1., 1., 0.], dtype=float32)
    """
    y_true, y_pred = _matched(y_true, y_pred)
    return (y_true == y_pred).astype(np.float32)


class Accuracy(MeanMetricWrapper):
    """How often predictions equal labels exactly (use 'accuracy' in compile for argmax rules).

    Example:
        >>> Accuracy()(np.array([[1], [2], [3], [4]]), np.array([[0], [2], [3], [4]]))
        0.75
    """

    def __init__(self, name: str = "accuracy", dtype=None):
        super().__init__(accuracy, name=name, dtype=dtype)


class Sum(Metric):
    """The (weighted) sum of all values seen since the last reset.

    Example:
        >>> Sum()([1.0, 3.0, 5.0, 7.0])
        16.0
    """

    def reset_state(self) -> None:
        self.total = 0.0

    def update_state(self, values, sample_weight=None) -> None:
        values = _array(values, np.float64)
        if sample_weight is not None:
            values = values * np.broadcast_to(_array(sample_weight, np.float64), values.shape)
        self.total += float(values.sum())

    def result(self) -> float:
        return self.total


class RootMeanSquaredError(Mean):
    """sqrt of the (weighted) mean of (y_pred - y_true)^2 over all elements seen.

    Example:
        >>> RootMeanSquaredError()(np.array([[0.0, 1.0], [0.0, 0.0]]), np.array([[1.0, 1.0], [1.0, 1.0]]))
        0.8660254037844386
    """

    def __init__(self, name: str = "root_mean_squared_error", dtype=None):
        super().__init__(name=name, dtype=dtype)

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        y_true, y_pred = _matched(y_true, y_pred)
        if sample_weight is not None:
            weight = _array(sample_weight, np.float64)
            sample_weight = weight.reshape(weight.shape + (1,) * (y_true.ndim - weight.ndim))
        super().update_state((y_pred - y_true) ** 2, sample_weight)

    def result(self) -> float:
        return float(np.sqrt(super().result()))


class R2Score(Metric):
    """The coefficient of determination 1 - SS_res / SS_tot per output, then aggregated.

    Args:
        class_aggregation: 'uniform_average' (the mean over outputs), 'variance_weighted_average'
            or None (one score per output, an array).
        num_regressors: p > 0 gives the adjusted score 1 - (1 - R2) (n - 1) / (n - p - 1).

    Example:
        >>> R2Score()(np.array([[1.0], [2.0], [3.0]]), np.array([[1.0], [2.0], [2.0]]))
        0.5
    """

    AGGREGATIONS = (None, "uniform_average", "variance_weighted_average")

    def __init__(self, class_aggregation="uniform_average", num_regressors: int = 0, name: str = "r2_score",
                 dtype=None):
        if class_aggregation not in self.AGGREGATIONS:
            raise ValueError(f"R2Score: class_aggregation must be one of {self.AGGREGATIONS}. "
                             f"Received: class_aggregation={class_aggregation!r}")
        if isinstance(num_regressors, bool) or not isinstance(num_regressors, int) or num_regressors < 0:
            raise ValueError("R2Score: num_regressors must be an int >= 0. "
                             f"Received: num_regressors={num_regressors!r}")
        self.class_aggregation, self.num_regressors = class_aggregation, num_regressors
        super().__init__(name=name, dtype=dtype)

    def reset_state(self) -> None:
        self.sums = None  # per output: sum(w y), sum(w y^2), sum(w (y - p)^2), sum(w)
        self.num_samples = 0

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        y_true, y_pred = _matched(y_true, y_pred)
        if y_true.ndim != 2:
            raise ValueError("R2Score expects 2-D inputs of shape (batch_size, output_dim). "
                             f"Received: y_true.shape={y_true.shape}, y_pred.shape={y_pred.shape}")
        y_true, y_pred = y_true.astype(np.float64), y_pred.astype(np.float64)
        weight = np.ones(1) if sample_weight is None else _array(sample_weight, np.float64)
        weight = np.broadcast_to(weight.reshape(-1, 1) if weight.ndim == 1 else weight, y_true.shape)
        stats = np.stack([(weight * y_true).sum(0), (weight * y_true * y_true).sum(0),
                          (weight * (y_true - y_pred) ** 2).sum(0), weight.sum(0)])
        self.sums = stats if self.sums is None else self.sums + stats
        self.num_samples += y_true.size

    def result(self):
        if self.sums is None:
            return 0.0
        total_y, total_y2, residual, count = self.sums
        with np.errstate(divide="ignore", invalid="ignore"):
            total = total_y2 - total_y * (total_y / count)
            raw = 1.0 - residual / total
        raw = np.where(np.isinf(raw), 0.0, raw)
        if self.class_aggregation == "uniform_average":
            score = raw.mean()
        elif self.class_aggregation == "variance_weighted_average":
            score = (total * raw).sum() / total.sum()
        else:
            score = raw
        n, p = self.num_samples, self.num_regressors
        if p and p < n - 1:
            score = 1.0 - (1.0 - score) * (n - 1.0) / (n - p - 1.0)
        return float(score) if np.ndim(score) == 0 else score.astype(np.float32)

    def get_config(self) -> dict:
        return {**super().get_config(), "class_aggregation": self.class_aggregation,
                "num_regressors": self.num_regressors}


def _of_loss(fn):
    """fn(y_true, y_pred, **options) -> per-sample values of a loss, as a NumPy metric function."""
    def values(y_true, y_pred, **options):
        with no_grad():
            return np.asarray(fn(y_true, np.asarray(_array(y_pred), np.float32), **options).data)
    values.__name__ = fn.__name__
    return values


def _loss_metric(name: str, fn, default_name: str, summary: str, example: str, **defaults):
    """A MeanMetricWrapper class for a loss function and its keyword arguments."""
    values = _of_loss(fn)

    def __init__(self, name=default_name, dtype=None, **options):
        unknown = sorted(set(options) - set(defaults))
        if unknown:
            raise TypeError(f"{type(self).__name__} got unexpected keyword arguments: {unknown}")
        MeanMetricWrapper.__init__(self, values, name=name, dtype=dtype, **{**defaults, **options})

    def get_config(self) -> dict:
        return {"name": self.name, **self.fn_kwargs}

    doc = f"{summary}\n\n    Example:\n        >>> {example}\n    "
    return type(name, (MeanMetricWrapper,), {"__init__": __init__, "get_config": get_config, "__doc__": doc,
                                             "__module__": "tinydl.metrics"})


_P, _Q = "np.array([[0.0, 1.0]])", "np.array([[0.4, 0.6]])"
BinaryCrossentropy = _loss_metric(
    "BinaryCrossentropy", losses.binary_crossentropy, "binary_crossentropy",
    "Mean binary cross-entropy (from_logits, label_smoothing as the loss).",
    f"round(BinaryCrossentropy()({_P}, {_Q}), 4)\n        0.5108", from_logits=False, label_smoothing=0.0)
CategoricalCrossentropy = _loss_metric(
    "CategoricalCrossentropy", losses.categorical_crossentropy, "categorical_crossentropy",
    "Mean categorical cross-entropy of one-hot targets.",
    f"round(CategoricalCrossentropy()({_P}, {_Q}), 4)\n        0.5108", from_logits=False, label_smoothing=0.0,
    axis=-1)
SparseCategoricalCrossentropy = _loss_metric(
    "SparseCategoricalCrossentropy", losses.sparse_categorical_crossentropy, "sparse_categorical_crossentropy",
    "Mean cross-entropy of integer labels.",
    f"round(SparseCategoricalCrossentropy()(np.array([1]), {_Q}), 4)\n        0.5108", from_logits=False,
    axis=-1)
KLDivergence = _loss_metric("KLDivergence", loss_functions.kl_divergence, "kl_divergence",
                            "Mean KL divergence.", f"round(KLDivergence()({_Q}, {_Q}), 4)\n        0.0")
Poisson = _loss_metric("Poisson", loss_functions.poisson, "poisson", "Mean Poisson loss.",
                       "round(Poisson()(np.ones((1, 1)), np.ones((1, 1))), 4)\n        1.0")
Hinge = _loss_metric("Hinge", loss_functions.hinge, "hinge", "Mean hinge loss.",
                     f"round(Hinge()({_P}, {_Q}), 4)\n        0.9")
SquaredHinge = _loss_metric("SquaredHinge", loss_functions.squared_hinge, "squared_hinge",
                            "Mean squared hinge loss.", f"round(SquaredHinge()({_P}, {_Q}), 4)\n        1.06")
CategoricalHinge = _loss_metric("CategoricalHinge", loss_functions.categorical_hinge, "categorical_hinge",
                                "Mean categorical hinge loss.",
                                f"round(CategoricalHinge()({_P}, {_Q}), 4)\n        0.8")
LogCoshError = _loss_metric("LogCoshError", loss_functions.log_cosh, "logcosh", "Mean log(cosh(error)).",
                            "round(LogCoshError()(np.zeros((1, 1)), np.ones((1, 1))), 4)\n        0.4338")
MeanAbsolutePercentageError = _loss_metric(
    "MeanAbsolutePercentageError", loss_functions.mean_absolute_percentage_error,
    "mean_absolute_percentage_error", "Mean absolute percentage error.",
    "MeanAbsolutePercentageError()(np.array([[2.0]]), np.array([[1.0]]))\n        50.0")
MeanSquaredLogarithmicError = _loss_metric(
    "MeanSquaredLogarithmicError", loss_functions.mean_squared_logarithmic_error,
    "mean_squared_logarithmic_error", "Mean squared logarithmic error.",
    "round(MeanSquaredLogarithmicError()(np.zeros((1, 1)), np.array([[np.e - 1]])), 4)\n        1.0")


def _cosine(y_true, y_pred, axis=-1):
    return -loss_functions.cosine_similarity(y_true, y_pred, axis=axis)


_cosine.__name__ = "cosine_similarity"
CosineSimilarity = _loss_metric("CosineSimilarity", _cosine, "cosine_similarity",
                                "Mean cosine of the angle between y_true and y_pred (1: same direction).",
                                f"round(CosineSimilarity()({_P}, np.array([[0.0, 2.0]])), 4)\n        1.0", axis=-1)

CLASSES = (Accuracy, Sum, RootMeanSquaredError, R2Score, BinaryCrossentropy, CategoricalCrossentropy,
           SparseCategoricalCrossentropy, KLDivergence, Poisson, Hinge, SquaredHinge, CategoricalHinge,
           LogCoshError, MeanAbsolutePercentageError, MeanSquaredLogarithmicError, CosineSimilarity)
NAMES = {"binary_crossentropy": BinaryCrossentropy, "categorical_crossentropy": CategoricalCrossentropy,
         "sparse_categorical_crossentropy": SparseCategoricalCrossentropy, "kl_divergence": KLDivergence,
         "kld": KLDivergence, "poisson": Poisson, "hinge": Hinge, "squared_hinge": SquaredHinge,
         "categorical_hinge": CategoricalHinge, "logcosh": LogCoshError, "log_cosh": LogCoshError,
         "mape": MeanAbsolutePercentageError, "mean_absolute_percentage_error": MeanAbsolutePercentageError,
         "msle": MeanSquaredLogarithmicError, "mean_squared_logarithmic_error": MeanSquaredLogarithmicError,
         "cosine_similarity": CosineSimilarity, "root_mean_squared_error": RootMeanSquaredError,
         "r2_score": R2Score}


class FBetaScore(Metric):
    """The F-beta score (1 + b^2) P R / (b^2 P + R) from true/false positives and false
    negatives accumulated per class of (N, C) one-hot or multi-label targets.

    Args:
        average: None (one score per class, an array), 'micro' (counts pooled over classes),
            'macro' (the mean of the per-class scores) or 'weighted' (weighted by each class'
            share of the true labels).
        beta: a float > 0 (1.0 is F1).
        threshold: None takes each row's largest prediction as its (one) predicted class; a
            float in (0, 1] predicts every class above it.

    Example:
        >>> y_true = np.array([[1, 0, 0], [0, 1, 0], [0, 1, 0]])
        >>> y_pred = np.array([[0.9, 0.1, 0.0], [0.2, 0.7, 0.1], [0.6, 0.3, 0.1]])
        >>> np.round(FBetaScore(average=None, beta=1.0)(y_true, y_pred), 4)
        array([0.6667, 0.6667, 0.    ], dtype=float32)
    """

    AVERAGES = (None, "micro", "macro", "weighted")

    def __init__(self, average=None, beta: float = 1.0, threshold=None, name: str = "fbeta_score", dtype=None):
        if average not in self.AVERAGES:
            raise ValueError(f"{type(self).__name__}: average must be one of {self.AVERAGES}. "
                             f"Received: average={average!r}")
        if not isinstance(beta, float) or not beta > 0:
            raise ValueError(f"{type(self).__name__}: beta must be a float > 0. Received: beta={beta!r}")
        if threshold is not None and (not isinstance(threshold, float) or not 0 < threshold <= 1):
            raise ValueError(f"{type(self).__name__}: threshold must be None or a float in (0, 1]. "
                             f"Received: threshold={threshold!r}")
        self.average, self.beta, self.threshold = average, beta, threshold
        super().__init__(name=name, dtype=dtype)

    def reset_state(self) -> None:
        self.counts = None  # true positives, false positives, false negatives, true labels

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        y_true, y_pred = _array(y_true, np.float64), _array(y_pred, np.float64)
        if y_true.ndim != 2 or y_pred.ndim != 2 or y_true.shape != y_pred.shape:
            raise ValueError(f"{type(self).__name__} expects 2-D inputs of shape (batch_size, classes). "
                             f"Received: y_true.shape={y_true.shape}, y_pred.shape={y_pred.shape}")
        if self.threshold is None:
            predicted = (y_pred >= y_pred.max(axis=-1, keepdims=True)) & (np.abs(y_pred) > 1e-9)
        else:
            predicted = y_pred > self.threshold
        predicted = predicted.astype(np.float64)
        weight = 1.0 if sample_weight is None else _array(sample_weight, np.float64).reshape(-1, 1)
        axis = None if self.average == "micro" else 0
        counts = np.stack([np.sum(v * weight, axis=axis) for v in (
            predicted * y_true, predicted * (1 - y_true), (1 - predicted) * y_true, y_true)])
        self.counts = counts if self.counts is None else self.counts + counts

    def result(self):
        if self.counts is None:
            return 0.0
        eps = 1e-7
        tp, fp, fn, labels = self.counts
        precision, recall = tp / (tp + fp + eps), tp / (tp + fn + eps)
        score = precision * recall / (self.beta ** 2 * precision + recall + eps) * (1 + self.beta ** 2)
        if self.average == "weighted":
            score = np.sum(score * labels / (np.sum(labels) + eps))
        elif self.average is not None:
            score = np.mean(score)
        return float(score) if np.ndim(score) == 0 else score.astype(np.float32)

    def get_config(self) -> dict:
        return {**super().get_config(), "average": self.average, "beta": self.beta, "threshold": self.threshold}


class F1Score(FBetaScore):
    """The F1 score: FBetaScore with beta = 1 (see FBetaScore for average and threshold).

    Example:
        >>> y_true = np.array([[1, 0], [0, 1], [0, 1]])
        >>> round(F1Score(average="micro")(y_true, np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]])), 4)
        0.6667
    """

    def __init__(self, average=None, threshold=None, name: str = "f1_score", dtype=None):
        super().__init__(average=average, beta=1.0, threshold=threshold, name=name, dtype=dtype)

    def get_config(self) -> dict:
        config = super().get_config()
        config.pop("beta")
        return config


CLASSES += (FBetaScore, F1Score)
NAMES.update(f1_score=F1Score, fbeta_score=FBetaScore)
