"""What compile() decides: the loss, Keras' meaning of 'accuracy', the fused softmax path, target checks.

The fused path: a classifier usually ends in softmax and is trained with cross-entropy. Computing
softmax, then its log, is wasteful and loses precision (log of a probability that rounded to 0).
So when the last layer's activation is softmax and the loss is a (sparse) categorical
cross-entropy on probabilities, training runs the model *without* that last softmax and applies
F.softmax_cross_entropy (sparse) or -sum(onehot * log_softmax(logits)) / N (one-hot) to the
logits: the same value and gradient, computed stably. Sigmoid + binary cross-entropy likewise
uses the stable from-logits form. predict() and the metrics still see probabilities.
"""

from __future__ import annotations

import numpy as np

from tinydl import activations, functional as F, losses, metrics, ops

SOFTMAX, SIGMOID = "softmax", "sigmoid"


def final_activation(layer) -> tuple:
    """(kind, how) for the last layer.

    Args:
        layer: the model's last layer.

    Returns:
        kind: 'softmax', 'sigmoid' or None. how: 'skip' when the whole layer is the activation
        (Softmax, Activation), 'swap' when it is the layer's `activation` attribute
        (Dense(..., activation='softmax')); None with kind None.

    Example:
        >>> final_activation(tinydl.layers.Dense(3, activation="softmax"))
        ('softmax', 'swap')
        >>> final_activation(tinydl.layers.Activation("sigmoid")), final_activation(tinydl.layers.Dense(3))
        (('sigmoid', 'skip'), (None, None))
    """
    name = type(layer).__name__
    if name == "Softmax" and getattr(layer, "axis", -1) == -1:
        return SOFTMAX, "skip"
    function = getattr(layer, "activation", None)
    kind = SOFTMAX if function is activations.softmax else SIGMOID if function is ops.sigmoid else None
    if kind is None:
        return None, None
    return kind, "skip" if name == "Activation" else "swap"


def fused_kind(layer, loss) -> str | None:
    """The fused loss to use for this last layer and loss, or None for the plain path.

    Args:
        layer: the model's last layer.
        loss: the compiled Loss object.

    Returns:
        'softmax' (softmax + (sparse) categorical cross-entropy on probabilities), 'sigmoid'
        (sigmoid + binary cross-entropy), or None.

    Example:
        >>> softmax = tinydl.layers.Dense(3, activation="softmax")
        >>> fused_kind(softmax, losses.SparseCategoricalCrossentropy())
        'softmax'
        >>> print(fused_kind(softmax, losses.SparseCategoricalCrossentropy(from_logits=True)))
        None
    """
    kind, _ = final_activation(layer)
    if kind is None or getattr(loss, "from_logits", True) or loss.reduction != "sum_over_batch_size":
        return None
    if kind == SOFTMAX and isinstance(loss, (losses.SparseCategoricalCrossentropy,
                                             losses.CategoricalCrossentropy)):
        return SOFTMAX
    if kind == SIGMOID and isinstance(loss, losses.BinaryCrossentropy):
        return SIGMOID
    return None


def fused_loss(kind: str, loss, y: np.ndarray, logits):
    """The loss of the logits of a softmax/sigmoid layer, as one stable expression (a scalar).

    Args:
        kind: 'softmax' or 'sigmoid', from fused_kind.
        loss: the compiled Loss object.
        y: the targets: labels (N,) / (N, 1) for the sparse loss, else the shape of logits.
        logits: the last layer's output before its activation, a Tensor (N, ..., K).

    Returns:
        A scalar Tensor: the mean loss, equal to loss(y, activation(logits)).

    Example:
        >>> logits = tinydl.Tensor(np.array([[2.0, -1.0, 0.5], [0.0, 3.0, -2.0]], np.float32))
        >>> y = np.array([0, 2])
        >>> loss = losses.SparseCategoricalCrossentropy()
        >>> fused = fused_loss("softmax", loss, y, logits).item()
        >>> plain = loss(y, apply_activation("softmax", logits)).item()
        >>> bool(np.isclose(fused, plain, rtol=1e-5))
        True
    """
    if kind == SIGMOID:
        return losses.binary_crossentropy(y, logits, from_logits=True).mean()
    n = max(int(np.prod(logits.shape[:-1])), 1)
    if isinstance(loss, losses.SparseCategoricalCrossentropy):
        labels = y[..., 0] if y.ndim == logits.ndim else y
        if logits.ndim == 2:
            return F.softmax_cross_entropy(logits, labels.astype(np.int64))
        y = np.eye(logits.shape[-1], dtype=logits.dtype)[labels.astype(np.int64)]
    return -(F.log_softmax(logits, axis=-1) * np.asarray(y, dtype=logits.dtype)).sum() / n


def apply_activation(kind: str, logits):
    """The activation fused away: softmax over the last axis, or the sigmoid.

    Args:
        kind: 'softmax' or 'sigmoid'.
        logits: a Tensor (N, ..., K).

    Returns:
        The probabilities, a Tensor of the same shape.

    Example:
        >>> p = apply_activation("softmax", tinydl.Tensor(np.array([[0.0, np.log(3.0)]], np.float32)))
        >>> np.round(p.numpy(), 4)
        array([[0.25, 0.75]], dtype=float32)
        >>> apply_activation("sigmoid", tinydl.Tensor(np.zeros((1, 2), np.float32))).numpy()
        array([[0.5, 0.5]], dtype=float32)
    """
    return F.softmax(logits, axis=-1) if kind == SOFTMAX else ops.sigmoid(logits)


def resolve_metric(identifier, loss, y: np.ndarray, output_shape: tuple):
    """A Metric object; 'accuracy' / 'acc' become the accuracy that fits the loss and targets.

    As Keras decides: binary for binary cross-entropy or one output, sparse for sparse
    cross-entropy or integer labels (N,) / (N, 1), categorical otherwise.

    Args:
        identifier: a metric name, Metric or function (see metrics.get).
        loss: the compiled Loss object.
        y: the targets, for their shape.
        output_shape: the model's output shape, e.g. (None, 10).

    Returns:
        A Metric.

    Example:
        >>> sparse = losses.SparseCategoricalCrossentropy()
        >>> resolve_metric("accuracy", sparse, np.zeros(4), (None, 10))
        <SparseCategoricalAccuracy name=accuracy>
        >>> resolve_metric("acc", losses.MeanSquaredError(), np.zeros((4, 10)), (None, 10))
        <CategoricalAccuracy name=acc>
        >>> resolve_metric("accuracy", losses.MeanSquaredError(), np.zeros((4, 1)), (None, 1))
        <BinaryAccuracy name=accuracy>
    """
    if not (isinstance(identifier, str) and identifier.lower() in ("accuracy", "acc")):
        return metrics.get(identifier)
    if isinstance(loss, losses.BinaryCrossentropy) or output_shape[-1] == 1:
        return metrics.BinaryAccuracy(name=identifier)
    sparse_shape = y.ndim == len(output_shape) - 1 or (y.ndim == len(output_shape) and y.shape[-1] == 1)
    if isinstance(loss, losses.SparseCategoricalCrossentropy) or sparse_shape:
        return metrics.SparseCategoricalAccuracy(name=identifier)
    return metrics.CategoricalAccuracy(name=identifier)


def check_targets(loss, y: np.ndarray, output_shape: tuple, where: str) -> None:
    """Raise when the targets y cannot go with the model's output shape under this loss.

    Args:
        loss: the compiled Loss object.
        y: the targets.
        output_shape: the model's output shape, e.g. (None, 10).
        where: the caller's name, for the message ('fit', 'evaluate', ...).

    Raises:
        ValueError: targets of the wrong shape (with a hint when they look like integer
            labels given to categorical_crossentropy), or labels out of [0, K).
        TypeError: non-integer labels for sparse_categorical_crossentropy.

    Example:
        >>> check_targets(losses.SparseCategoricalCrossentropy(), np.array([0, 9]), (None, 10), "fit")
        >>> check_targets(losses.CategoricalCrossentropy(), np.array([0, 9]), (None, 10), "fit")
        Traceback (most recent call last):
        ...
        ValueError: fit: categorical_crossentropy expects one-hot targets of shape (N, 10) for a model ...
        >>> check_targets(losses.SparseCategoricalCrossentropy(), np.array([0, 10]), (None, 10), "fit")
        Traceback (most recent call last):
        ...
        ValueError: fit: labels must be integers in [0, 10) for a model with 10 outputs, got values from 0 to 10
    """
    units = output_shape[-1]
    if isinstance(loss, losses.SparseCategoricalCrossentropy):
        _check_sparse(y, output_shape, where)
    elif isinstance(loss, losses.CategoricalCrossentropy):
        if y.ndim != len(output_shape) or y.shape[-1] != units:
            hint = ""
            if y.dtype.kind in "iu" or y.ndim == len(output_shape) - 1:
                hint = (f"; these look like integer labels: use loss='sparse_categorical_crossentropy'"
                        f" or tinydl.utils.to_categorical(y, {units})")
            raise ValueError(f"{where}: categorical_crossentropy expects one-hot targets of shape "
                             f"(N, {units}) for a model with {units} outputs, got y of shape "
                             f"{y.shape}{hint}")
    else:
        expected = tuple(output_shape[1:])
        got = tuple(y.shape[1:])
        if got != expected and not (got == () and expected == (1,)) and not (
                got == expected + (1,)) and not (got + (1,) == expected):
            raise ValueError(f"{where}: targets of shape {y.shape} do not match the model's output "
                             f"shape {output_shape} for loss '{loss.name}'")


def _check_sparse(y: np.ndarray, output_shape: tuple, where: str) -> None:
    units = output_shape[-1]
    lead = tuple(output_shape[1:-1])
    if tuple(y.shape[1:]) not in (lead, lead + (1,)):
        raise ValueError(f"{where}: sparse_categorical_crossentropy expects integer labels of "
                         f"shape (N,{''.join(f' {d},' for d in lead)}) (class indices), got y of "
                         f"shape {y.shape}; for one-hot targets use loss='categorical_crossentropy'")
    if y.dtype.kind == "f" and not np.all(np.floor(y) == y):
        raise TypeError(f"{where}: sparse_categorical_crossentropy expects integer class labels, "
                        f"got non-integer values of dtype {y.dtype}")
    if y.size and (y.min() < 0 or y.max() >= units):
        raise ValueError(f"{where}: labels must be integers in [0, {units}) for a model with "
                         f"{units} outputs, got values from {y.min():g} to {y.max():g}")
