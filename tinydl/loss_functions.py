"""Keras' other losses: regression (Huber, LogCosh, MAPE, MSLE, Poisson), distributions
(KLDivergence, CosineSimilarity), margins (Hinge, SquaredHinge, CategoricalHinge) and the focal
cross-entropies; tinydl.losses re-exports them beside the core ones.

As in tinydl/losses.py, each comes as a function giving one value per sample (a Tensor (N,))
and a Loss class that reduces those values; formulas, epsilons and defaults are Keras 3's.
"""

from __future__ import annotations

import math

import numpy as np

from tinydl import ops
from tinydl.losses import EPSILON, Loss, _matched, _pred, binary_crossentropy_values
from tinydl.tensor import Tensor


def _pair(y_true, y_pred, where: str):
    y_pred = _pred(y_pred)
    return _matched(y_true, y_pred, where), y_pred


def mean_squared_logarithmic_error(y_true, y_pred) -> Tensor:
    """mean((log(1 + max(y_pred, eps)) - log(1 + max(y_true, eps)))^2) over the last axis.

    Example:
        >>> mean_squared_logarithmic_error(np.array([[0.0]]), tinydl.Tensor([[np.e - 1]])).data.round(4)
        array([1.], dtype=float32)
    """
    y, y_pred = _pair(y_true, y_pred, "mean_squared_logarithmic_error")
    first = ops.log(ops.add(ops.maximum(y_pred, EPSILON), 1.0))
    second = np.log(np.maximum(y, EPSILON) + 1.0)
    return ops.mean(ops.square(ops.subtract(first, second)), axis=-1)


def mean_absolute_percentage_error(y_true, y_pred) -> Tensor:
    """100 * mean(|y_true - y_pred| / max(|y_true|, eps)) over the last axis.

    Example:
        >>> mean_absolute_percentage_error(np.array([[2.0, 4.0]]), tinydl.Tensor([[1.0, 5.0]])).data
        array([37.5], dtype=float32)
    """
    y, y_pred = _pair(y_true, y_pred, "mean_absolute_percentage_error")
    scale = np.maximum(np.abs(y), EPSILON).astype(np.float32)
    return ops.multiply(ops.mean(ops.abs(ops.divide(ops.subtract(y, y_pred), scale)), axis=-1), 100.0)


def huber(y_true, y_pred, delta=1.0) -> Tensor:
    """mean of e^2 / 2 where |e| <= delta, delta * (|e| - delta / 2) elsewhere; e = y_pred - y_true.

    Example:
        >>> huber(np.array([[0.0, 0.0]]), tinydl.Tensor([[0.5, 3.0]])).data
        array([1.3125], dtype=float32)
    """
    y, y_pred = _pair(y_true, y_pred, "huber")
    error = ops.subtract(y_pred, y)
    abs_error = ops.abs(error)
    quadratic = ops.multiply(ops.square(error), 0.5)
    linear = ops.subtract(ops.multiply(abs_error, float(delta)), 0.5 * float(delta) ** 2)
    return ops.mean(ops.where(abs_error.data <= delta, quadratic, linear), axis=-1)


def log_cosh(y_true, y_pred) -> Tensor:
    """mean(log(cosh(y_pred - y_true))) over the last axis, as x + softplus(-2x) - log 2.

    Example:
        >>> log_cosh(np.array([[0.0]]), tinydl.Tensor([[1.0]])).data.round(4)
        array([0.4338], dtype=float32)
    """
    y, y_pred = _pair(y_true, y_pred, "log_cosh")
    x = ops.subtract(y_pred, y)
    return ops.mean(ops.subtract(ops.add(x, ops.softplus(ops.multiply(x, -2.0))), math.log(2.0)), axis=-1)


def poisson(y_true, y_pred) -> Tensor:
    """mean(y_pred - y_true * log(y_pred + eps)) over the last axis.

    Example:
        >>> poisson(np.array([[1.0]]), tinydl.Tensor([[1.0]])).data.round(4)
        array([1.], dtype=float32)
    """
    y, y_pred = _pair(y_true, y_pred, "poisson")
    return ops.mean(ops.subtract(y_pred, ops.multiply(ops.log(ops.add(y_pred, EPSILON)), y)), axis=-1)


def kl_divergence(y_true, y_pred) -> Tensor:
    """sum(y_true * log(y_true / y_pred)) over the last axis, both clipped to [eps, 1].

    Example:
        >>> kl_divergence(np.array([[0.5, 0.5]]), tinydl.Tensor([[0.5, 0.5]])).data
        array([0.], dtype=float32)
    """
    y, y_pred = _pair(y_true, y_pred, "kl_divergence")
    y = np.clip(y, EPSILON, 1.0)
    ratio = ops.divide(y, ops.clip(y_pred, EPSILON, 1.0))
    return ops.sum(ops.multiply(ops.log(ratio), y), axis=-1)


def _l2_normalize(x, axis):
    inverse_norm = ops.minimum(ops.divide(1.0, ops.sqrt(ops.sum(ops.square(x), axis=axis, keepdims=True))),
                               1.0 / EPSILON)
    return ops.multiply(x, inverse_norm)


def cosine_similarity(y_true, y_pred, axis=-1) -> Tensor:
    """-sum(normalize(y_true) * normalize(y_pred)) along axis: -1 for the same direction.

    Example:
        >>> cosine_similarity(np.array([[1.0, 0.0]]), tinydl.Tensor([[2.0, 0.0]])).data
        array([-1.], dtype=float32)
    """
    y, y_pred = _pair(y_true, y_pred, "cosine_similarity")
    with np.errstate(divide="ignore"):
        true_unit = y * np.minimum(1.0 / np.sqrt((y * y).sum(axis=axis, keepdims=True)), 1.0 / EPSILON)
    return ops.negative(ops.sum(ops.multiply(_l2_normalize(y_pred, axis), true_unit.astype(np.float32)),
                                axis=axis))


def _hinge_labels(y: np.ndarray) -> np.ndarray:
    """Keras' rule: labels that are all 0 or 1 become -1 / 1; others are used as they are."""
    return 2.0 * y - 1.0 if np.isin(y, (0.0, 1.0)).all() else y


def hinge(y_true, y_pred) -> Tensor:
    """mean(max(1 - y_true * y_pred, 0)) over the last axis; 0/1 labels are taken as -1/1.

    Example:
        >>> hinge(np.array([[1.0, 0.0]]), tinydl.Tensor([[0.5, 0.5]])).data
        array([1.], dtype=float32)
    """
    y, y_pred = _pair(y_true, y_pred, "hinge")
    return ops.mean(ops.relu(ops.subtract(1.0, ops.multiply(y_pred, _hinge_labels(y)))), axis=-1)


def squared_hinge(y_true, y_pred) -> Tensor:
    """mean(max(1 - y_true * y_pred, 0)^2) over the last axis; 0/1 labels are taken as -1/1.

    Example:
        >>> squared_hinge(np.array([[1.0, 0.0]]), tinydl.Tensor([[0.5, 0.5]])).data
        array([1.25], dtype=float32)
    """
    y, y_pred = _pair(y_true, y_pred, "squared_hinge")
    return ops.mean(ops.square(ops.relu(ops.subtract(1.0, ops.multiply(y_pred, _hinge_labels(y))))), axis=-1)


def categorical_hinge(y_true, y_pred) -> Tensor:
    """max(max((1 - y_true) * y_pred) - sum(y_true * y_pred) + 1, 0) per sample; one-hot y_true.

    Example:
        >>> categorical_hinge(np.array([[1.0, 0.0]]), tinydl.Tensor([[0.8, 0.3]])).data
        array([0.5], dtype=float32)
    """
    y, y_pred = _pair(y_true, y_pred, "categorical_hinge")
    positive = ops.sum(ops.multiply(y_pred, y), axis=-1)
    negative = ops.max(ops.multiply(y_pred, 1.0 - y), axis=-1)
    return ops.relu(ops.add(ops.subtract(negative, positive), 1.0))


def binary_focal_crossentropy(y_true, y_pred, apply_class_balancing=False, alpha=0.25, gamma=2.0,
                              from_logits=False, label_smoothing=0.0, axis=-1) -> Tensor:
    """Binary cross-entropy times (1 - p_t)^gamma (Lin et al., 2017), meaned along axis; with
    apply_class_balancing, also times alpha for positives and 1 - alpha for negatives.

    Example:
        >>> binary_focal_crossentropy(np.array([[1.0]]), tinydl.Tensor([[0.5]])).data.round(4)
        array([0.1733], dtype=float32)
    """
    y, y_pred = _pair(y_true, y_pred, "binary_focal_crossentropy")
    if label_smoothing:
        y = y * (1.0 - label_smoothing) + 0.5 * label_smoothing
    p = ops.sigmoid(y_pred) if from_logits else y_pred
    bce = binary_crossentropy_values(y, p)
    p_t = ops.add(ops.multiply(p, y), ops.multiply(ops.subtract(1.0, p), 1.0 - y))
    focal = ops.multiply(ops.power(ops.subtract(1.0, p_t), float(gamma)), bce)
    if apply_class_balancing:
        focal = ops.multiply(focal, (y * alpha + (1.0 - y) * (1.0 - alpha)).astype(np.float32))
    return ops.mean(focal, axis=axis)


def categorical_focal_crossentropy(y_true, y_pred, alpha=0.25, gamma=2.0, from_logits=False,
                                   label_smoothing=0.0, axis=-1) -> Tensor:
    """sum(alpha * (1 - p)^gamma * -y_true * log p) along axis, p the (renormalized, clipped)
    probabilities (Lin et al., 2017).

    Example:
        >>> categorical_focal_crossentropy(np.array([[1.0, 0.0]]), tinydl.Tensor([[0.5, 0.5]])).data.round(4)
        array([0.0433], dtype=float32)
    """
    y, y_pred = _pair(y_true, y_pred, "categorical_focal_crossentropy")
    if label_smoothing:
        y = y * (1.0 - label_smoothing) + label_smoothing / y.shape[-1]
    p = ops.softmax(y_pred, axis=axis) if from_logits else y_pred
    p = ops.clip(ops.divide(p, ops.sum(p, axis=axis, keepdims=True)), EPSILON, 1.0 - EPSILON)
    cross = ops.multiply(ops.log(p), -y)
    weight = ops.multiply(ops.power(ops.subtract(1.0, p), float(gamma)), float(alpha))
    return ops.sum(ops.multiply(weight, cross), axis=axis)


class _Wrapper(Loss):
    """A Loss around one of this module's functions and its keyword arguments."""

    _fn = None
    _default_name = ""

    def __init__(self, reduction="sum_over_batch_size", name: str | None = None, dtype=None, **options):
        super().__init__(name or self._default_name, reduction)
        self.options = options

    def call(self, y_true, y_pred):
        return type(self)._fn(y_true, y_pred, **self.options)

    def get_config(self) -> dict:
        return {**super().get_config(), **self.options}


def _loss_class(name: str, fn, default_name: str, doc: str, **defaults):
    """A Keras loss class for fn: its keyword arguments and defaults are `defaults`."""
    def __init__(self, reduction="sum_over_batch_size", name=None, dtype=None, **options):
        unknown = sorted(set(options) - set(defaults))
        if unknown:
            raise TypeError(f"{type(self).__name__} got unexpected keyword arguments: {unknown}")
        _Wrapper.__init__(self, reduction, name, dtype, **{**defaults, **options})

    return type(name, (_Wrapper,), {"__init__": __init__, "_fn": staticmethod(fn), "__doc__": doc,
                                    "_default_name": default_name, "__module__": "tinydl.losses"})


_EXAMPLE = """{summary}

    Example:
        >>> round({name}()({y_true}, tinydl.Tensor({y_pred})).item(), 4)
        {value}
    """
MeanSquaredLogarithmicError = _loss_class(
    "MeanSquaredLogarithmicError", mean_squared_logarithmic_error, "mean_squared_logarithmic_error",
    _EXAMPLE.format(summary="See mean_squared_logarithmic_error; Keras' 'msle'.", name="MeanSquaredLogarithmicError",
                    y_true="np.zeros((1, 1))", y_pred="[[np.e - 1]]", value="1.0"))
MeanAbsolutePercentageError = _loss_class(
    "MeanAbsolutePercentageError", mean_absolute_percentage_error, "mean_absolute_percentage_error",
    _EXAMPLE.format(summary="See mean_absolute_percentage_error; Keras' 'mape'.", name="MeanAbsolutePercentageError",
                    y_true="np.array([[2.0]])", y_pred="[[1.0]]", value="50.0"))
Huber = _loss_class("Huber", huber, "huber_loss", _EXAMPLE.format(
    summary="See huber; delta= the change from quadratic to linear.", name="Huber",
    y_true="np.zeros((1, 2))", y_pred="[[0.5, 3.0]]", value="1.3125"), delta=1.0)
LogCosh = _loss_class("LogCosh", log_cosh, "log_cosh", _EXAMPLE.format(
    summary="See log_cosh.", name="LogCosh", y_true="np.zeros((1, 1))", y_pred="[[1.0]]", value="0.4338"))
Poisson = _loss_class("Poisson", poisson, "poisson", _EXAMPLE.format(
    summary="See poisson.", name="Poisson", y_true="np.ones((1, 1))", y_pred="[[1.0]]", value="1.0"))
KLDivergence = _loss_class("KLDivergence", kl_divergence, "kl_divergence", _EXAMPLE.format(
    summary="See kl_divergence; Keras' 'kld'.", name="KLDivergence", y_true="np.array([[1.0, 0.0]])",
    y_pred="[[0.5, 0.5]]", value="0.6931"))
CosineSimilarity = _loss_class("CosineSimilarity", cosine_similarity, "cosine_similarity", _EXAMPLE.format(
    summary="See cosine_similarity; axis= the axis of the vectors.", name="CosineSimilarity",
    y_true="np.array([[1.0, 0.0]])", y_pred="[[0.0, 3.0]]", value="0.0"), axis=-1)
Hinge = _loss_class("Hinge", hinge, "hinge", _EXAMPLE.format(
    summary="See hinge.", name="Hinge", y_true="np.array([[1.0, 0.0]])", y_pred="[[0.5, 0.5]]", value="1.0"))
SquaredHinge = _loss_class("SquaredHinge", squared_hinge, "squared_hinge", _EXAMPLE.format(
    summary="See squared_hinge.", name="SquaredHinge", y_true="np.array([[1.0, 0.0]])", y_pred="[[0.5, 0.5]]",
    value="1.25"))
CategoricalHinge = _loss_class("CategoricalHinge", categorical_hinge, "categorical_hinge", _EXAMPLE.format(
    summary="See categorical_hinge.", name="CategoricalHinge", y_true="np.array([[1.0, 0.0]])",
    y_pred="[[0.8, 0.3]]", value="0.5"))
BinaryFocalCrossentropy = _loss_class(
    "BinaryFocalCrossentropy", binary_focal_crossentropy, "binary_focal_crossentropy", _EXAMPLE.format(
        summary="See binary_focal_crossentropy.", name="BinaryFocalCrossentropy", y_true="np.ones((1, 1))",
        y_pred="[[0.5]]", value="0.1733"),
    apply_class_balancing=False, alpha=0.25, gamma=2.0, from_logits=False, label_smoothing=0.0, axis=-1)
CategoricalFocalCrossentropy = _loss_class(
    "CategoricalFocalCrossentropy", categorical_focal_crossentropy, "categorical_focal_crossentropy",
    _EXAMPLE.format(summary="See categorical_focal_crossentropy.", name="CategoricalFocalCrossentropy",
                    y_true="np.array([[1.0, 0.0]])", y_pred="[[0.5, 0.5]]", value="0.0433"),
    alpha=0.25, gamma=2.0, from_logits=False, label_smoothing=0.0, axis=-1)

CLASSES = {fn: cls for fn, cls in [
    (mean_squared_logarithmic_error, MeanSquaredLogarithmicError),
    (mean_absolute_percentage_error, MeanAbsolutePercentageError), (huber, Huber), (log_cosh, LogCosh),
    (poisson, Poisson), (kl_divergence, KLDivergence), (cosine_similarity, CosineSimilarity), (hinge, Hinge),
    (squared_hinge, SquaredHinge), (categorical_hinge, CategoricalHinge),
    (binary_focal_crossentropy, BinaryFocalCrossentropy),
    (categorical_focal_crossentropy, CategoricalFocalCrossentropy)]}
NAMES = {**{fn.__name__: cls for fn, cls in CLASSES.items()}, **{cls.__name__.lower(): cls for cls in CLASSES.values()},
         "msle": MeanSquaredLogarithmicError, "mape": MeanAbsolutePercentageError, "kld": KLDivergence,
         "huber_loss": Huber, "logcosh": LogCosh}
