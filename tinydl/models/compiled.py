"""What compile(loss=, loss_weights=, metrics=) becomes for a model with one or several outputs.

    model.compile(loss={"class": "sparse_categorical_crossentropy", "box": "mse"},
                  loss_weights={"class": 1.0, "box": 0.5},
                  metrics={"class": ["accuracy"]})

CompileLoss gives the training loss: sum over outputs of weight * loss(y_true, y_pred), and
tracks each output's (unweighted) loss as '<output>_loss' when there are several. CompileMetrics
holds one list of metrics per output, named '<output>_<metric>' when there are several (Keras'
log names, e.g. 'dense_1_accuracy'). Output names are the dict keys of a dict-output model,
else the names of the layers that make the outputs. A single loss or metric list given to a
model with several outputs applies to each of them, as in Keras.
"""

from __future__ import annotations

import numpy as np

from tinydl import losses as losses_module, metrics as metrics_module, tree
from tinydl.models import compile_utils


def _per_output(spec, names: list, what: str, broadcast: bool) -> list:
    """spec (one value, a list in output order, or a dict by output name) as a list per output."""
    if isinstance(spec, dict):
        unknown = sorted(set(spec) - set(names))
        if unknown:
            raise ValueError(f"compile: {what} names outputs {unknown} that the model does not "
                             f"have; its outputs are {names}. Received: {what}={spec!r}")
        return [spec.get(name) for name in names]
    if isinstance(spec, (list, tuple)) and len(names) > 1:
        if len(spec) != len(names):
            raise ValueError(f"compile: {what} must have one entry per output ({len(names)}: "
                             f"{names}), or be a dict by output name. Received: {what}={spec!r}")
        return list(spec)
    if broadcast or len(names) == 1:
        return [spec] * len(names)
    raise ValueError(f"compile: {what} must be a list with one entry per output or a dict by "
                     f"output name {names}. Received: {what}={spec!r}")


def targets_for(y, names: list) -> list:
    """The targets y as a list in output order (y may be an array, a list or a dict).

    Args:
        y: one array (one output), a list in output order, or a dict by output name.
        names: the model's output names.

    Returns:
        One target per output, in the order of names.

    Raises:
        ValueError: a dict missing an output, or a list of the wrong length.

    Example:
        >>> a, b = np.zeros(2), np.ones(2)
        >>> targets_for({"b": b, "a": a}, ["a", "b"])
        [array([0., 0.]), array([1., 1.])]
        >>> targets_for(a, ["out"])[0] is a
        True
        >>> targets_for([a], ["a", "b"])
        Traceback (most recent call last):
        ...
        ValueError: the model has 2 outputs ['a', 'b'], but received 1 target arrays; ...
    """
    if len(names) == 1:
        if isinstance(y, (list, tuple)) and len(y) == 1:
            return [y[0]]
        if isinstance(y, dict) and len(y) == 1:
            return list(y.values())
        return [y]
    if isinstance(y, dict):
        missing = [n for n in names if n not in y]
        if missing:
            raise ValueError(f"the targets for outputs {missing} are missing; expected a dict with "
                             f"keys {names}, received keys {sorted(y)}")
        return [y[n] for n in names]
    flat = tree.flatten(y)
    if len(flat) != len(names):
        raise ValueError(f"the model has {len(names)} outputs {names}, but received {len(flat)} "
                         "target arrays; give one per output (a list, or a dict by output name)")
    return flat


def weights_for(sample_weight, names: list) -> list:
    """sample_weight as a list in output order: one array (or None) for all outputs, a list in
    output order, or a dict by output name (missing outputs: None, i.e. unweighted).

    Example:
        >>> weights_for({"b": np.ones(2)}, ["a", "b"]), weights_for(None, ["a"])
        ([None, array([1., 1.])], [None])
    """
    if sample_weight is None:
        return [None] * len(names)
    if isinstance(sample_weight, dict):
        if len(names) == 1 and len(sample_weight) == 1:
            return list(sample_weight.values())
        return [sample_weight.get(name) for name in names]
    if isinstance(sample_weight, (list, tuple)) and not np.isscalar(sample_weight[0]):
        if len(sample_weight) == len(names):
            return list(sample_weight)
        if len(sample_weight) == 1:
            return list(sample_weight) * len(names)
        raise ValueError(f"the model has {len(names)} outputs {names}, but received "
                         f"{len(sample_weight)} sample_weight arrays; give one per output, or "
                         "one for all of them")
    return [sample_weight] * len(names)


def _array(value) -> np.ndarray:
    return np.asarray(getattr(value, "data", value))


class CompileLoss:
    """The compiled loss over the outputs (None for an output means: no loss there).

    Args:
        loss: one loss for every output, a list in output order, or a dict by output name.
        loss_weights: None (all 1), a list, or a dict by output name.
        names: the model's output names.

    Raises:
        ValueError: a list of the wrong length, or a dict naming an unknown output.

    Example:
        >>> compiled = CompileLoss({"a": "mse", "b": "mae"}, {"b": 2.0}, ["a", "b"])
        >>> y_true = [np.zeros((2, 1), np.float32), np.zeros((2, 1), np.float32)]
        >>> y_pred = [tinydl.Tensor(np.full((2, 1), 3.0, np.float32)),
        ...           tinydl.Tensor(np.full((2, 1), -1.0, np.float32))]
        >>> compiled(y_true, y_pred).item(), 3.0 ** 2 + 2.0 * 1.0
        (11.0, 11.0)
        >>> [t.name for t in compiled.trackers], compiled.trackers[1].result()
        (['a_loss', 'b_loss'], 1.0)
    """

    def __init__(self, loss, loss_weights, names: list):
        self.names = names
        self.losses = [None if spec is None else losses_module.get(spec)
                       for spec in _per_output(loss, names, "loss", broadcast=True)]
        weights = [1.0] * len(names) if loss_weights is None else \
            _per_output(loss_weights, names, "loss_weights", broadcast=False)
        self.weights = [1.0 if w is None else float(w) for w in weights]
        several = len(names) > 1
        self.trackers = [metrics_module.Mean(name=f"{name}_loss") if several and loss is not None
                         else None for name, loss in zip(names, self.losses)]

    def __call__(self, y_true: list, y_pred: list, sample_weight=None):
        """The weighted sum of the outputs' losses (a scalar Tensor), or None if none has one."""
        total = None
        weights = weights_for(sample_weight, self.names)
        for i, loss in enumerate(self.losses):
            if loss is None:
                continue
            y = targets_dtype(loss, _array(y_true[i]))
            weight = weights[i]
            value = loss(y, y_pred[i], sample_weight=None if weight is None else _array(weight))
            if self.trackers[i] is not None:
                self.trackers[i].update_state(value.item(), sample_weight=len(y))
            value = value * self.weights[i] if self.weights[i] != 1.0 else value
            total = value if total is None else total + value
        return total

    def check_targets(self, y_true: list, output_shapes: list, where: str) -> None:
        for loss, y, shape in zip(self.losses, y_true, output_shapes):
            if loss is not None and shape is not None:
                compile_utils.check_targets(loss, _array(y), shape, where)


def targets_dtype(loss, y: np.ndarray) -> np.ndarray:
    """The targets as the loss takes them: int64 labels for the sparse loss, float32 otherwise.

    Args:
        loss: a Loss object.
        y: the targets.

    Returns:
        y, cast (not copied when it already has that dtype).

    Example:
        >>> targets_dtype(losses_module.SparseCategoricalCrossentropy(), np.array([1.0, 2.0])).dtype
        dtype('int64')
        >>> targets_dtype(losses_module.MeanSquaredError(), np.array([1, 2])).dtype
        dtype('float32')
    """
    if isinstance(loss, losses_module.SparseCategoricalCrossentropy):
        return y.astype(np.int64, copy=False)
    return y.astype(np.float32, copy=False)


class CompileMetrics:
    """One list of Metric objects per output, resolved once the targets are seen: `metrics`
    (never weighted), then `weighted_metrics` (weighted by the sample weights, if any).

    Args:
        metrics: None, a metric, a list (one output, or every output), a list of lists in
            output order, or a dict by output name.
        names: the model's output names.
        weighted_metrics: the same forms, for metrics weighted by the sample weights.

    Raises:
        ValueError: an unknown metric name (at once), or a list or dict that does not fit
            the outputs.

    Example:
        >>> compiled = CompileMetrics({"b": ["accuracy"]}, ["a", "b"])
        >>> sparse = losses_module.SparseCategoricalCrossentropy()
        >>> y_true = [np.zeros((2, 1)), np.array([1, 0])]
        >>> compiled.build([losses_module.MeanSquaredError(), sparse], y_true, [(None, 1), (None, 3)])
        >>> compiled.update_state(y_true, [np.zeros((2, 1)), np.array([[0, 1, 0], [0, 0, 1]])])
        >>> [(m.name, m.result()) for m in compiled.flat()]
        [('b_accuracy', 0.5)]
    """

    def __init__(self, metrics, names: list, weighted_metrics=None):
        self.names = names
        self.specs = _metric_specs(metrics, names, "metrics")
        self.weighted_specs = _metric_specs(weighted_metrics, names, "weighted_metrics")
        self.metrics = self.weighted = None

    def build(self, losses: list, y_true: list, output_shapes: list) -> None:
        """Resolve 'accuracy' for each output's loss and targets; prefix names by output; a
        weighted metric whose name is taken is named 'weighted_<name>' (Keras)."""
        taken = set()
        self.metrics = self._resolve(self.specs, losses, y_true, output_shapes, taken, "")
        self.weighted = self._resolve(self.weighted_specs, losses, y_true, output_shapes, taken,
                                      "weighted_")

    def _resolve(self, all_specs, losses, y_true, output_shapes, taken: set, prefix: str):
        several, resolved = len(self.names) > 1, []
        for name, specs, loss, y, shape in zip(self.names, all_specs, losses, y_true,
                                               output_shapes):
            metrics = [compile_utils.resolve_metric(m, loss, _array(y), shape) for m in specs]
            for metric in metrics:
                label = f"{name}_{metric.name}" if several else metric.name
                if label in taken:
                    label = f"{name}_{prefix}{metric.name}" if several else prefix + metric.name
                metric.name = label
                taken.add(label)
            resolved.append(metrics)
        return resolved

    def update_state(self, y_true: list, y_pred: list, sample_weight=None) -> None:
        for metrics, y, p in zip(self.metrics or [], y_true, y_pred):
            for metric in metrics:
                metric.update_state(_array(y), _array(p))
        weights = weights_for(sample_weight, self.names)
        for metrics, y, p, w in zip(self.weighted or [], y_true, y_pred, weights):
            for metric in metrics:
                metric.update_state(_array(y), _array(p),
                                    sample_weight=None if w is None else _array(w))

    def flat(self) -> list:
        return [m for group in (self.metrics, self.weighted) for metrics in group or []
                for m in metrics]


def _metric_specs(metrics, names: list, what: str) -> list:
    """metrics= (or weighted_metrics=) as one list of specs per output; unknown names fail now."""
    if metrics is None or (isinstance(metrics, (list, tuple, dict)) and not metrics):
        metrics = [[] for _ in names] if len(names) > 1 else []
    if isinstance(metrics, (str, metrics_module.Metric)) or callable(metrics):
        metrics = [metrics]
    specs = _per_output(metrics, names, what, broadcast=False) if len(names) > 1 else [metrics]
    specs = [[] if s is None else list(s) if isinstance(s, (list, tuple)) else [s] for s in specs]
    for output_specs in specs:
        for m in output_specs:
            if not (isinstance(m, str) and m.lower() in ("accuracy", "acc")):
                metrics_module.get(m)
    return specs
