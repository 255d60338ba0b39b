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
    """(kind, how) for the last layer: kind 'softmax' / 'sigmoid' / None; how 'skip' when the
    whole layer is the activation (Softmax, Activation), 'swap' when it is the layer's
    `activation` attribute (Dense(..., activation='softmax'))."""
    name = type(layer).__name__
    if name == "Softmax" and getattr(layer, "axis", -1) == -1:
        return SOFTMAX, "skip"
    function = getattr(layer, "activation", None)
    kind = SOFTMAX if function is activations.softmax else SIGMOID if function is ops.sigmoid else None
    if kind is None:
        return None, None
    return kind, "skip" if name == "Activation" else "swap"


def fused_kind(layer, loss) -> str | None:
    """The fused loss to use for this last layer and loss, or None for the plain path."""
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
    """The loss of the logits of a softmax/sigmoid layer, as one stable expression (a scalar)."""
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
    return F.softmax(logits, axis=-1) if kind == SOFTMAX else ops.sigmoid(logits)


def resolve_metric(identifier, loss, y: np.ndarray, output_shape: tuple):
    """A Metric object; 'accuracy' / 'acc' become the accuracy that fits the loss and targets,
    as Keras decides: binary for binary cross-entropy or one output, sparse for sparse
    cross-entropy or integer labels (N,) / (N, 1), categorical otherwise."""
    if not (isinstance(identifier, str) and identifier.lower() in ("accuracy", "acc")):
        return metrics.get(identifier)
    if isinstance(loss, losses.BinaryCrossentropy) or output_shape[-1] == 1:
        return metrics.BinaryAccuracy(name=identifier)
    sparse_shape = y.ndim == len(output_shape) - 1 or (y.ndim == len(output_shape) and y.shape[-1] == 1)
    if isinstance(loss, losses.SparseCategoricalCrossentropy) or sparse_shape:
        return metrics.SparseCategoricalAccuracy(name=identifier)
    return metrics.CategoricalAccuracy(name=identifier)


def check_targets(loss, y: np.ndarray, output_shape: tuple, where: str) -> None:
    """Raise when the targets y cannot go with the model's output shape under this loss."""
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
