"""Loss functions with Keras' names, formulas and reduction (mean over the batch).

Each loss comes twice, as in Keras: a function giving one value per sample, and a class whose
call reduces those to the scalar that training minimizes:

    losses.mean_squared_error(y_true, y_pred)          # Tensor (N,)
    losses.MeanSquaredError()(y_true, y_pred)          # scalar Tensor, the mean of the above

y_true is a NumPy array (labels); y_pred a Tensor (the model's output), so gradients flow
into y_pred. Probabilities are clipped to [1e-7, 1 - 1e-7] before a log, as Keras does,
unless from_logits=True, where a stable log-softmax / log-sigmoid form is used instead.
"""

from __future__ import annotations

import numpy as np

from tinydl import functional as F, ops
from tinydl.tensor import Tensor

EPSILON = 1e-7  # Keras' backend.epsilon()


def _pred(y_pred) -> Tensor:
    return y_pred if isinstance(y_pred, Tensor) else Tensor(y_pred)


def _matched(y_true, y_pred: Tensor, where: str) -> np.ndarray:
    """y_true as float32 with y_pred's shape: (N,) and (N, 1) are made to agree, as in Keras."""
    y = np.asarray(y_true.data if isinstance(y_true, Tensor) else y_true, dtype=np.float32)
    if y.ndim == y_pred.ndim - 1 and y_pred.shape[-1] == 1:
        y = y[..., None]
    elif y.ndim == y_pred.ndim + 1 and y.shape[-1] == 1:
        y = y[..., 0]
    if y.shape != y_pred.shape:
        raise ValueError(f"{where}: targets of shape {y.shape} do not match predictions of shape "
                         f"{y_pred.shape}; they must have the same shape")
    return y


def _last_axis_mean(values: Tensor) -> Tensor:
    return values.mean(axis=-1) if values.ndim > 1 else values


def mean_squared_error(y_true, y_pred) -> Tensor:
    """mean((y_true - y_pred)^2) over the last axis: one value per sample.

    Example:
        >>> mean_squared_error(np.array([[0.0, 0.0]]), tinydl.Tensor([[1.0, 3.0]])).data
        array([5.], dtype=float32)
    """
    y_pred = _pred(y_pred)
    diff = y_pred - _matched(y_true, y_pred, "mean_squared_error")
    return _last_axis_mean(diff * diff)


def mean_absolute_error(y_true, y_pred) -> Tensor:
    """mean(|y_true - y_pred|) over the last axis: one value per sample.

    Example:
        >>> mean_absolute_error(np.array([[0.0, 0.0]]), tinydl.Tensor([[1.0, -3.0]])).data
        array([2.], dtype=float32)
    """
    y_pred = _pred(y_pred)
    return _last_axis_mean(ops.abs(y_pred - _matched(y_true, y_pred, "mean_absolute_error")))


def _smoothed(y: np.ndarray, label_smoothing: float, classes: int) -> np.ndarray:
    """Keras' label smoothing: y * (1 - s) + s / classes."""
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"label_smoothing must be in [0, 1]. Received: label_smoothing={label_smoothing!r}")
    return y * (1.0 - label_smoothing) + label_smoothing / classes if label_smoothing else y


def categorical_crossentropy(y_true, y_pred, from_logits: bool = False, label_smoothing: float = 0.0,
                             axis: int = -1) -> Tensor:
    """-sum(y_true * log(p)) along axis; y_true one-hot (or soft) (N, K), y_pred (N, K).

    Without from_logits, p = y_pred / sum(y_pred) clipped to [eps, 1 - eps] (Keras);
    with it, log p = log_softmax(y_pred). label_smoothing s moves y_true to y (1 - s) + s / K.

    Example:
        >>> loss = categorical_crossentropy(np.array([[0.0, 1.0]]), tinydl.Tensor([[0.5, 0.5]]))
        >>> np.round(loss.data, 4)
        array([0.6931], dtype=float32)
    """
    y_pred = _pred(y_pred)
    y = _matched(y_true, y_pred, "categorical_crossentropy")
    y = _smoothed(y, label_smoothing, y.shape[axis])
    if from_logits:
        log_p = F.log_softmax(y_pred, axis=axis)
    else:
        p = y_pred / y_pred.sum(axis=axis, keepdims=True)
        log_p = ops.clip(p, EPSILON, 1.0 - EPSILON).log()
    return -(log_p * y).sum(axis=axis)


def sparse_categorical_crossentropy(y_true, y_pred, from_logits: bool = False, ignore_class=None,
                                    axis: int = -1) -> Tensor:
    """-log(p[label]) per sample; y_true integers (N,) or (N, 1) in [0, K), y_pred (N, K).

    Example:
        >>> loss = sparse_categorical_crossentropy(np.array([1]), tinydl.Tensor([[0.0, 0.0]]), from_logits=True)
        >>> np.round(loss.data, 4)
        array([0.6931], dtype=float32)
    """
    if ignore_class is not None:
        raise NotImplementedError("sparse_categorical_crossentropy: ignore_class is not implemented in "
                                  f"tinydl. Received: ignore_class={ignore_class!r}")
    if axis not in (-1, len(getattr(y_pred, "shape", ())) - 1):
        raise NotImplementedError(f"sparse_categorical_crossentropy: only axis=-1 is implemented in tinydl. "
                                  f"Received: axis={axis!r}")
    y_pred = _pred(y_pred)
    labels = np.asarray(y_true.data if isinstance(y_true, Tensor) else y_true)
    if labels.ndim == y_pred.ndim and labels.shape[-1] == 1:
        labels = labels[..., 0]
    if labels.shape != y_pred.shape[:-1]:
        raise ValueError(f"sparse_categorical_crossentropy: labels of shape {labels.shape} do not "
                         f"match predictions of shape {y_pred.shape}; expected {y_pred.shape[:-1]}")
    onehot = np.eye(y_pred.shape[-1], dtype=y_pred.dtype)[labels.astype(np.int64)]
    return categorical_crossentropy(onehot, y_pred, from_logits=from_logits)


def binary_crossentropy_values(y: np.ndarray, p: Tensor) -> Tensor:
    """-(y log p + (1 - y) log(1 - p)) per element, p clipped to [eps, 1 - eps] (no mean).

    Args:
        y: targets in [0, 1], any shape that broadcasts with p.
        p: probabilities, a Tensor.

    Returns:
        A Tensor of the broadcast shape.

    Example:
        >>> y, p = np.array([1.0, 0.0, 1.0]), np.array([0.9, 0.2, 0.0], np.float32)
        >>> values = binary_crossentropy_values(y, tinydl.Tensor(p)).numpy()
        >>> bool(np.allclose(values[:2], [-np.log(0.9), -np.log(0.8)])), bool(np.isfinite(values[2]))
        (True, True)
    """
    p = ops.clip(p, EPSILON, 1.0 - EPSILON)
    return -(p.log() * y + (1.0 - p).log() * (1.0 - y))


def binary_crossentropy(y_true, y_pred, from_logits: bool = False, label_smoothing: float = 0.0,
                        axis: int = -1) -> Tensor:
    """-mean(y log p + (1 - y) log(1 - p)) along axis; y_true in {0, 1} (or in [0, 1]).

    Without from_logits p = clip(y_pred, eps, 1 - eps); with it the stable form of Keras/TF
    on logits x: max(x, 0) - x * y + log(1 + exp(-|x|)). label_smoothing s moves y_true to
    y (1 - s) + s / 2.

    Example:
        >>> loss = binary_crossentropy(np.array([[1.0]]), tinydl.Tensor([[0.5]]))
        >>> np.round(loss.data, 4)
        array([0.6931], dtype=float32)
    """
    y_pred = _pred(y_pred)
    y = _smoothed(_matched(y_true, y_pred, "binary_crossentropy"), label_smoothing, 2)
    if from_logits:
        values = ops.relu(y_pred) - y_pred * y + (ops.exp(-ops.abs(y_pred)) + 1.0).log()
    else:
        values = binary_crossentropy_values(y, y_pred)
    return values.mean(axis=axis) if values.ndim > 1 else values


class Loss:
    """Base class: call(y_true, y_pred) gives per-sample values, __call__ reduces them.

    Args:
        name: the loss' name.
        reduction: 'sum_over_batch_size' (Keras' default: the mean), 'sum', or None / 'none'.

    Example:
        >>> class Squared(Loss):
        ...     def call(self, y_true, y_pred):
        ...         return (y_pred - y_true) * (y_pred - y_true)
        >>> Squared()(np.zeros(2), tinydl.Tensor([1.0, 3.0])).item()
        5.0
    """

    def __init__(self, name: str | None = None, reduction: str | None = "sum_over_batch_size"):
        if reduction not in ("sum_over_batch_size", "sum", "none", None):
            raise ValueError(f"{type(self).__name__}: reduction must be 'sum_over_batch_size', "
                             f"'sum' or None. Received: reduction={reduction!r}")
        self.name, self.reduction = name or type(self).__name__.lower(), reduction

    def call(self, y_true, y_pred) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__} must define call(y_true, y_pred)")

    def __call__(self, y_true, y_pred, sample_weight=None) -> Tensor:
        values = self.call(y_true, y_pred)
        if sample_weight is not None:
            weight = np.asarray(sample_weight, dtype=values.dtype).reshape(values.shape[:1] + (1,) * (values.ndim - 1))
            values = values * weight
        if self.reduction in ("none", None):
            return values
        return values.sum() if self.reduction == "sum" else values.sum() / max(values.size, 1)

    def get_config(self) -> dict:
        return {"name": self.name, "reduction": self.reduction}


class _FunctionLoss(Loss):
    _fn = None
    _default_name = ""

    def __init__(self, reduction="sum_over_batch_size", name: str | None = None):
        super().__init__(name or self._default_name, reduction)

    def call(self, y_true, y_pred):
        return type(self)._fn(y_true, y_pred)


class MeanSquaredError(_FunctionLoss):
    """mean((y_true - y_pred)^2); Keras' 'mse'.

    Example:
        >>> MeanSquaredError()(np.zeros((2, 1)), tinydl.Tensor([[1.0], [3.0]])).item()
        5.0
    """
    _fn, _default_name = staticmethod(mean_squared_error), "mean_squared_error"


class MeanAbsoluteError(_FunctionLoss):
    """mean(|y_true - y_pred|); Keras' 'mae'.

    Example:
        >>> MeanAbsoluteError()(np.zeros((2, 1)), tinydl.Tensor([[1.0], [-3.0]])).item()
        2.0
    """
    _fn, _default_name = staticmethod(mean_absolute_error), "mean_absolute_error"


class _ProbabilisticLoss(Loss):
    _fn = None
    _default_name = ""
    _options = ("label_smoothing", "axis")  # the keyword arguments of _fn beside from_logits

    def __init__(self, from_logits: bool = False, label_smoothing: float = 0.0, axis: int = -1,
                 reduction="sum_over_batch_size", name: str | None = None, dtype=None, **kwargs):
        if kwargs.get("ignore_class") is not None:
            raise NotImplementedError(f"{type(self).__name__}: ignore_class is not implemented in tinydl. "
                                      f"Received: ignore_class={kwargs['ignore_class']!r}")
        kwargs.pop("ignore_class", None)
        if kwargs:
            raise TypeError(f"{type(self).__name__} got unexpected keyword arguments: {sorted(kwargs)}")
        super().__init__(name or self._default_name, reduction)
        self.from_logits = bool(from_logits)
        self.label_smoothing, self.axis = float(label_smoothing), axis
        _smoothed(np.zeros(1), self.label_smoothing, 1)  # validates it
        if isinstance(axis, bool) or not isinstance(axis, int):
            raise ValueError(f"{type(self).__name__}: axis must be an int. Received: axis={axis!r}")

    def call(self, y_true, y_pred):
        options = {name: getattr(self, name) for name in self._options}
        return type(self)._fn(y_true, y_pred, from_logits=self.from_logits, **options)

    def get_config(self) -> dict:
        return {**super().get_config(), "from_logits": self.from_logits,
                **{name: getattr(self, name) for name in self._options}}


class CategoricalCrossentropy(_ProbabilisticLoss):
    """Cross-entropy for one-hot targets (N, K). See categorical_crossentropy.

    Example:
        >>> loss = CategoricalCrossentropy(from_logits=True)
        >>> round(loss(np.array([[1.0, 0.0]]), tinydl.Tensor([[0.0, 0.0]])).item(), 4)
        0.6931
    """
    _fn, _default_name = staticmethod(categorical_crossentropy), "categorical_crossentropy"


class SparseCategoricalCrossentropy(_ProbabilisticLoss):
    """Cross-entropy for integer labels (N,). See sparse_categorical_crossentropy.

    Example:
        >>> loss = SparseCategoricalCrossentropy(from_logits=True)
        >>> round(loss(np.array([0, 1]), tinydl.Tensor([[0.0, 0.0], [0.0, 0.0]])).item(), 4)
        0.6931
    """
    _fn, _default_name = (staticmethod(sparse_categorical_crossentropy),
                          "sparse_categorical_crossentropy")
    _options = ("axis",)

    def __init__(self, from_logits: bool = False, ignore_class=None, reduction="sum_over_batch_size",
                 axis: int = -1, name: str | None = None, dtype=None):
        super().__init__(from_logits, 0.0, axis, reduction, name, ignore_class=ignore_class)


class BinaryCrossentropy(_ProbabilisticLoss):
    """Cross-entropy for 0/1 targets and sigmoid outputs. See binary_crossentropy.

    Example:
        >>> loss = BinaryCrossentropy()
        >>> round(loss(np.array([[1.0], [0.0]]), tinydl.Tensor([[0.5], [0.5]])).item(), 4)
        0.6931
    """
    _fn, _default_name = staticmethod(binary_crossentropy), "binary_crossentropy"


_BY_NAME = {
    "mse": MeanSquaredError, "mean_squared_error": MeanSquaredError,
    "mae": MeanAbsoluteError, "mean_absolute_error": MeanAbsoluteError,
    "categorical_crossentropy": CategoricalCrossentropy,
    "sparse_categorical_crossentropy": SparseCategoricalCrossentropy,
    "binary_crossentropy": BinaryCrossentropy,
}
_FUNCTIONS = {mean_squared_error: MeanSquaredError, mean_absolute_error: MeanAbsoluteError,
              categorical_crossentropy: CategoricalCrossentropy,
              sparse_categorical_crossentropy: SparseCategoricalCrossentropy,
              binary_crossentropy: BinaryCrossentropy}


class LossFunctionWrapper(Loss):
    """A Loss around any fn(y_true, y_pred) -> per-sample Tensor.

    Example:
        >>> loss = LossFunctionWrapper(mean_absolute_error, reduction="sum")
        >>> loss.name, loss(np.zeros((2, 1)), tinydl.Tensor([[1.0], [2.0]])).item()
        ('mean_absolute_error', 3.0)
    """

    def __init__(self, fn, name: str | None = None, reduction="sum_over_batch_size"):
        super().__init__(name or getattr(fn, "__name__", "loss"), reduction)
        self.fn = fn

    def call(self, y_true, y_pred):
        return self.fn(y_true, _pred(y_pred))


def get(identifier) -> Loss:
    """A Loss from a name ('mse', 'sparse_categorical_crossentropy', ...), a Loss, or a function.

    Raises:
        ValueError: an unknown name (the message lists the valid ones).

    Example:
        >>> type(get("mse")).__name__, get("sparse_categorical_crossentropy").name
        ('MeanSquaredError', 'sparse_categorical_crossentropy')
    """
    if isinstance(identifier, Loss):
        return identifier
    if isinstance(identifier, str):
        cls = _BY_NAME.get(identifier.lower())
        if cls is None:
            raise ValueError(f"unknown loss {identifier!r}; valid names: {sorted(_BY_NAME)}, "
                             "or a tinydl.losses.Loss, or a function (y_true, y_pred) -> Tensor")
        return cls()
    if identifier in _FUNCTIONS:
        return _FUNCTIONS[identifier]()
    if callable(identifier):
        return LossFunctionWrapper(identifier)
    raise TypeError(f"loss must be a name, a tinydl.losses.Loss or a function, got {identifier!r}")


from tinydl import loss_functions  # noqa: E402  (it builds on the above)
from tinydl.loss_functions import (BinaryFocalCrossentropy, CategoricalFocalCrossentropy,  # noqa: E402,F401
                                   CategoricalHinge, CosineSimilarity, Hinge, Huber, KLDivergence, LogCosh,
                                   MeanAbsolutePercentageError, MeanSquaredLogarithmicError, Poisson,
                                   SquaredHinge, binary_focal_crossentropy, categorical_focal_crossentropy,
                                   categorical_hinge, cosine_similarity, hinge, huber, kl_divergence, log_cosh,
                                   mean_absolute_percentage_error, mean_squared_logarithmic_error, poisson,
                                   squared_hinge)

_BY_NAME.update(loss_functions.NAMES)
_BY_NAME.update({cls.__name__.lower(): cls for cls in (MeanSquaredError, MeanAbsoluteError, CategoricalCrossentropy,
                                                        SparseCategoricalCrossentropy, BinaryCrossentropy)})
_BY_NAME["bce"] = BinaryCrossentropy
_FUNCTIONS.update(loss_functions.CLASSES)

__all__ = ["Loss", "MeanSquaredError", "MeanAbsoluteError", "CategoricalCrossentropy",
           "SparseCategoricalCrossentropy", "BinaryCrossentropy", "LossFunctionWrapper",
           "mean_squared_error", "mean_absolute_error", "categorical_crossentropy",
           "sparse_categorical_crossentropy", "binary_crossentropy", "get", "EPSILON",
           "BinaryFocalCrossentropy", "CategoricalFocalCrossentropy", "CategoricalHinge", "CosineSimilarity",
           "Hinge", "Huber", "KLDivergence", "LogCosh", "MeanAbsolutePercentageError", "MeanSquaredLogarithmicError",
           "Poisson", "SquaredHinge", "binary_focal_crossentropy", "categorical_focal_crossentropy",
           "categorical_hinge", "cosine_similarity", "hinge", "huber", "kl_divergence", "log_cosh",
           "mean_absolute_percentage_error", "mean_squared_logarithmic_error", "poisson", "squared_hinge"]

from tinydl import keras_names  # noqa: E402

__getattr__ = keras_names.missing(__name__, "losses")  # a Keras name tinydl lacks: a clear error
