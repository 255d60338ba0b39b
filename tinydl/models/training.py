"""compile, the per-batch steps (train_step, test_step, predict_step) and compute_loss: Keras' training API.

fit calls self.train_step(data) for every batch, so a model may override it. The default is
Keras' step for an eager backend with autograd (its PyTorch flavour):

    def train_step(self, data):
        x, y, sample_weight = unpack_x_y_sample_weight(data)
        y_pred = self(x, training=True)
        self.zero_grad()                                  # forget the last step's gradients
        loss = self.compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight)
        loss.backward()                                   # fills w.grad for each trainable weight
        self.optimizer.apply([w.grad for w in self.trainable_weights], self.trainable_weights)
        return self.compute_metrics(x, y, y_pred, sample_weight)

compute_loss is the compiled loss (per output, weighted) plus self.losses (add_loss() and
weight regularization). The model class using this mixin provides __call__, layers,
trainable_weights, losses, build, output_names() and _input_shape_for_data().
"""

from __future__ import annotations

import warnings

import numpy as np

from tinydl import metrics as metrics_module, optimizers, profiler, tree
from tinydl.autograd import is_grad_enabled, no_grad
from tinydl.models import compiled, data, loops
from tinydl.tensor import Tensor


def unpack_x_y_sample_weight(data):
    """(x, y, sample_weight) from a batch given as x, (x,), (x, y) or (x, y, sample_weight).

    Args:
        data: a batch, as a train_step receives it.

    Returns:
        (x, y, sample_weight), with None for what the batch does not hold.

    Raises:
        ValueError: a tuple of more than three items.

    Example:
        >>> unpack_x_y_sample_weight((1, 2)), unpack_x_y_sample_weight([1]), unpack_x_y_sample_weight(1)
        ((1, 2, None), (1, None, None), (1, None, None))
        >>> unpack_x_y_sample_weight((1, 2, 3, 4))
        Traceback (most recent call last):
        ...
        ValueError: a batch must be x, (x,), (x, y) or (x, y, sample_weight). Received a tuple of 4 items
    """
    if isinstance(data, list):
        data = tuple(data)
    if not isinstance(data, tuple):
        return data, None, None
    if len(data) == 1:
        return data[0], None, None
    if len(data) == 2:
        return data[0], data[1], None
    if len(data) == 3:
        return data
    raise ValueError("a batch must be x, (x,), (x, y) or (x, y, sample_weight). "
                     f"Received a tuple of {len(data)} items")


def _batch_size(x) -> int:
    return data.num_samples(x)


def _as_float(value) -> float:
    """A metric's result for the logs: a float, or an array for per-class results (F1Score)."""
    value = value.data if isinstance(value, Tensor) else np.asarray(value)
    return float(value) if np.ndim(value) == 0 else value


class TrainingMixin:
    """Keras' Model training API; see compile, train_step, fit, evaluate and predict.

    Model and Sequential inherit it. A subclass may override train_step(data) (and
    test_step, predict_step) and still use fit, as in Keras.

    Example:
        >>> class Counting(tinydl.Model):
        ...     def __init__(self):
        ...         super().__init__()
        ...         self.dense, self.steps = tinydl.layers.Dense(1), 0
        ...     def call(self, x, training=None):
        ...         return self.dense(x)
        ...     def train_step(self, data):
        ...         self.steps += 1
        ...         return super().train_step(data)
        >>> model = Counting()
        >>> model.compile("sgd", "mse")
        >>> _ = model.fit(np.zeros((8, 2)), np.zeros((8, 1)), batch_size=4, epochs=2, verbose=0)
        >>> model.steps, model.metrics_names
        (4, ['loss'])
        >>> float(model.train_on_batch(np.zeros((2, 2)), np.ones((2, 1)))) > 0
        True
    """

    optimizer = None
    loss = None
    history = None
    stop_training = False
    compiled = False
    _compile_loss = None
    _compile_metrics = None

    # ------------------------------------------------------------------ compile
    def compile(self, optimizer="rmsprop", loss=None, loss_weights=None, metrics=None,
                weighted_metrics=None, run_eagerly=None, steps_per_execution=None,
                jit_compile=None, **kwargs) -> None:
        """Choose how to train: the optimizer, the loss and the metrics to report.

        Args:
            optimizer: a name ('rmsprop' — Keras' default —, 'sgd', 'adam', 'adamw') or an
                tinydl.optimizers.Optimizer.
            loss: a name ('sparse_categorical_crossentropy', 'mse', ...), a tinydl.losses.Loss
                or a function; for several outputs a list (output order) or a dict by output
                name, or one loss for all of them. None when train_step computes its own.
            metrics: a list of names ('accuracy' is chosen to fit the loss, as in Keras),
                Metric objects or functions; for several outputs a list of lists or a dict.
            loss_weights: the weight of each output's loss (a list or a dict).
            weighted_metrics: metrics (as metrics) that fit and evaluate weight by
                sample_weight / class_weight; those in metrics are not weighted. A name in
                both is logged as 'weighted_<name>' for the weighted one (Keras).
            run_eagerly, steps_per_execution, jit_compile: accepted for Keras scripts; ignored.

        Raises:
            ValueError / TypeError: an unknown optimizer, loss or metric (valid names listed),
                or a list / dict that does not match the outputs.
        """
        if kwargs:
            raise TypeError(f"compile() got unexpected keyword arguments {sorted(kwargs)}")
        self.optimizer = optimizers.get(optimizer)
        names = self.output_names()
        self.loss, self._metric_specs, self._loss_weights = loss, metrics, loss_weights
        self._compile_loss = compiled.CompileLoss(loss, loss_weights, names) if loss is not None \
            else None
        if loss is None and loss_weights is not None:
            raise ValueError("compile: loss_weights needs a loss. Received: loss=None")
        self._compile_metrics = compiled.CompileMetrics(metrics, names, weighted_metrics)
        self._loss_fn = self._compile_loss.losses[0] if self._compile_loss else None
        self._loss_tracker = metrics_module.Mean(name="loss")
        self._fused = "unknown"
        self.compiled = True

    @property
    def metrics_names(self) -> list:
        """The names of self.metrics, in order ('loss' first)."""
        return [m.name for m in self.metrics]

    @property
    def metrics(self) -> list:
        """The loss tracker, the outputs' loss trackers, the compiled metrics (once resolved),
        then Metric objects the model holds as attributes. fit resets them every epoch."""
        found = []
        if self.compiled:
            found.append(self._loss_tracker)
            if self._compile_loss is not None:
                found += [t for t in self._compile_loss.trackers if t is not None]
            found += self._compile_metrics.flat()
        for value in vars(self).values():
            if isinstance(value, metrics_module.Metric) and all(value is not m for m in found):
                found.append(value)
        return found

    @property
    def _metrics(self):
        """The compiled metrics as one list (None until the first data resolves them)."""
        if self._compile_metrics is None or self._compile_metrics.metrics is None:
            return None
        return self._compile_metrics.flat()

    def _check_compiled(self, where: str) -> None:
        if not self.compiled:
            raise RuntimeError(f"You must compile the model before calling {where}(): call "
                               "model.compile(optimizer=..., loss=..., metrics=[...]) first, e.g. "
                               "model.compile(optimizer='adam', loss='sparse_categorical_crossentropy', "
                               "metrics=['accuracy'])")

    @staticmethod
    def _check_recording(where: str) -> None:
        """RuntimeError when this thread records no graph, so no training step could be taken."""
        if not is_grad_enabled():
            raise RuntimeError(
                f"{where} was called inside no_grad() (or after set_grad_enabled(False)) in "
                "this thread: no graph can be recorded, so no training step can be taken. "
                "Call it outside that block")

    def _overrides(self, step: str) -> bool:
        return getattr(type(self), step) is not getattr(TrainingMixin, step)

    # ------------------------------------------------------------------ checking data
    def _output_shapes(self) -> list:
        shape = self.output_shape
        if isinstance(shape, dict):
            return [tuple(shape[k]) for k in sorted(shape)]
        if isinstance(shape, list):
            return [tuple(s) for s in shape]
        return [None if shape is None else tuple(shape)]

    def _prepare(self, source, where: str) -> None:
        """Check x (and y) against the model before any work; build the model and the metrics."""
        x, y, sample_weight = source.first()
        self._check_input(x, where)
        if y is None or self._overrides("train_step") and self._compile_loss is None:
            return
        names = self.output_names()
        y_list = compiled.targets_for(y, names)
        shapes = self._output_shapes()
        if self._compile_loss is not None:
            self._compile_loss.check_targets(y_list, shapes, where)
        if self._compile_metrics.metrics is None:
            losses = self._compile_loss.losses if self._compile_loss else [None] * len(names)
            self._compile_metrics.build(losses, y_list, shapes)

    def _check_input(self, x, where: str) -> None:
        graph = getattr(self, "_graph", None)
        if graph is not None:
            for tensor, array in zip(graph.flat_inputs, graph.flat_input_values(x)):
                _check_shape(tuple(tensor.shape), np.shape(array), where, tensor.name)
            return
        expected = self._input_shape_for_data()
        if expected is None:
            self.build(tree.map_structure(lambda a: (None,) + tuple(np.shape(a)[1:]), x))
            return
        if not tree.is_nested(x) and not isinstance(expected, list):
            _check_shape(tuple(expected), np.shape(x), where, None)
        if not self.built:
            self.build(tuple(expected))

    def _check_batch(self, source, batch, where) -> None:
        """Check a batch (x, y, sample_weight) of a source whose batches are not all seen before."""
        x, y, _ = batch
        if getattr(source, "checks_each_batch", False):
            self._check_input(x, where)
            if y is not None and self._compile_loss is not None:
                self._compile_loss.check_targets(compiled.targets_for(y, self.output_names()),
                                                 self._output_shapes(), where)

    # ------------------------------------------------------------------ loss and metrics
    def zero_grad(self) -> None:
        """Forget the gradients of all trainable weights (before a new backward)."""
        for w in self.trainable_weights:
            w.grad = None

    def _zero_grads(self, weights: list) -> None:
        """train_step's zero_grad, after the forward (which reads no gradient) and before the
        backward: of the weights the step trains, found once; an overridden zero_grad runs."""
        if type(self).zero_grad is not TrainingMixin.zero_grad:
            self.zero_grad()
            return
        for w in weights:
            w.grad = None

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """The compiled loss of y_pred against y, plus self.losses (add_loss, regularizers).

        Returns:
            A scalar Tensor.

        Raises:
            ValueError: there is no loss at all (compiled without one and no add_loss).
        """
        names = self.output_names()
        total = None
        if self._compile_loss is not None and y is not None:
            total = self._compile_loss(compiled.targets_for(y, names),
                                       compiled.targets_for(y_pred, names), sample_weight)
        for penalty in self.losses:
            total = penalty if total is None else total + penalty
        if total is None:
            raise ValueError("compute_loss: the model was compiled without a loss and has no "
                             "add_loss() losses; pass loss= to compile, or compute the loss in "
                             "your own train_step")
        return total

    def compute_metrics(self, x, y, y_pred, sample_weight=None) -> dict:
        """Update the compiled metrics with this batch; return every metric's result."""
        if self._compile_metrics is not None and y is not None:
            names = self.output_names()
            self._compile_metrics.update_state(compiled.targets_for(y, names),
                                               compiled.targets_for(y_pred, names), sample_weight)
        return self.get_metrics_result()

    def get_metrics_result(self) -> dict:
        """{name: result} of self.metrics."""
        logs = {}
        for m in self.metrics:
            result = m.result()
            logs.update(result if isinstance(result, dict) else {m.name: result})
        return logs

    def _forward_and_loss(self, x, y, sample_weight, training: bool):
        """(y_pred, loss) of a batch; Sequential overrides it with its fused softmax path."""
        x = tree.map_structure(lambda v: v if isinstance(v, Tensor) else Tensor(v), x)
        y_pred = self(x, training=training)
        return y_pred, self.compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight,
                                         training=training)

    # ------------------------------------------------------------------ the steps
    def train_step(self, data) -> dict:
        """One optimizer step on one batch; returns the metrics' results (the logs).

        Raises:
            RuntimeError: no step could be taken (grad recording off in this thread, a loss
                that does not depend on the weights): never a loss for a step not taken.
        """
        self._check_recording("fit / train_on_batch")
        x, y, sample_weight = unpack_x_y_sample_weight(data)
        y_pred, loss = self._forward_and_loss(x, y, sample_weight, training=True)
        weights = self.trainable_weights
        profiler.record_step("zero_grad", "forward", self._zero_grads, weights)
        if weights:
            self._step(loss, weights)
        else:
            warnings.warn(f"model '{self.name}' has no trainable weights (every layer is "
                          "frozen or has none; a Layer of your own holding layers must call "
                          "super().__init__() first): training changes nothing", stacklevel=3)
        self._loss_tracker.update_state(loss.item(), sample_weight=_batch_size(x))
        return self.compute_metrics(x, y, y_pred, sample_weight)

    def _step(self, loss: Tensor, weights: list) -> None:
        """loss.backward() and one optimizer update of weights, or a RuntimeError saying why
        the loss gave them no gradient."""
        if not loss.requires_grad:
            raise RuntimeError(
                f"the loss of model '{self.name}' does not depend on any trainable weight (no "
                "graph was recorded: a layer returned a detached tensor or a NumPy array?), so "
                "no training step can be taken")
        loss.backward()
        grads = [w.grad for w in weights]
        missing = [w.name for w, g in zip(weights, grads) if g is None]
        if len(missing) == len(weights):
            raise RuntimeError(
                f"no trainable weight of model '{self.name}' got a gradient from the loss (it "
                "depends on other tensors that require grad, not on the model's weights), so "
                "no training step can be taken")
        if missing:
            warnings.warn(f"model '{self.name}': no gradient reached the weights {missing}; "
                          "they are not trained", stacklevel=4)
        self.optimizer.apply(grads, weights)

    def test_step(self, data) -> dict:
        """The loss and metrics of one batch, in inference mode; returns the logs."""
        x, y, sample_weight = unpack_x_y_sample_weight(data)
        y_pred, loss = self._forward_and_loss(x, y, sample_weight, training=False)
        self._loss_tracker.update_state(loss.item(), sample_weight=_batch_size(x))
        return self.compute_metrics(x, y, y_pred, sample_weight)

    def predict_step(self, data):
        """The model's output for one batch (x, or a tuple starting with x)."""
        x, _, _ = unpack_x_y_sample_weight(data)
        return self(x, training=False)

    def _run_train_step(self, data) -> dict:
        return {k: _as_float(v) for k, v in dict(self.train_step(data)).items()}

    def _run_test_step(self, data) -> dict:
        with no_grad():
            return {k: _as_float(v) for k, v in dict(self.test_step(data)).items()}

    def _reset_metrics(self) -> None:
        for m in self.metrics:
            m.reset_state()

    def reset_metrics(self) -> None:
        """Reset the state of every metric in self.metrics."""
        self._reset_metrics()

    def _results(self, logs: dict, return_dict: bool):
        if return_dict:
            return dict(logs)
        names = self.metrics_names
        values = [logs[n] for n in names if n in logs] + [logs[k] for k in logs if k not in names]
        return values[0] if len(values) == 1 else values

    def _batch(self, x, y, where: str, sample_weight=None, class_weight=None,
               reset_metrics: bool = True) -> tuple:
        """The data of one step: (x,), (x, y) or (x, y, sample_weight), checked; the metrics
        reset first for a train or test step (Keras' train_on_batch and test_on_batch)."""
        source = data.make_source(x, y, _batch_size(x), False, None, y is not None, where,
                                  sample_weight, class_weight)
        self._prepare(source, where)
        if reset_metrics:
            self._reset_metrics()
        return loops.pack(next(iter(source.epoch())))

    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None,
                       return_dict: bool = False):
        """One optimizer step on one batch; returns the loss (or [loss, *metrics]) of that batch."""
        self._check_compiled("train_on_batch")
        self._check_recording("train_on_batch")
        batch = profiler.record_step("train_on_batch: checks", "forward", self._batch, x, y,
                                     "train_on_batch", sample_weight, class_weight)
        return self._results(self._run_train_step(batch), return_dict)

    def test_on_batch(self, x, y=None, sample_weight=None, return_dict: bool = False):
        """The loss (or [loss, *metrics]) of one batch, without training."""
        self._check_compiled("test_on_batch")
        batch = self._batch(x, y, "test_on_batch", sample_weight)
        return self._results(self._run_test_step(batch), return_dict)

    def predict_on_batch(self, x):
        """The model's output for one batch, as an array (or a structure of arrays); the
        metrics keep their state, as in Keras."""
        batch = self._batch(x, None, "predict_on_batch", reset_metrics=False)
        with no_grad():
            return tree.map_structure(lambda t: t.data if isinstance(t, Tensor) else np.asarray(t),
                                      self.predict_step(batch))

    # ------------------------------------------------------------------ the loops (loops.py)
    fit, evaluate, predict = loops.fit, loops.evaluate, loops.predict


def _check_shape(expected: tuple, got: tuple, where: str, name) -> None:
    if len(got) != len(expected) or any(e is not None and e != g
                                        for e, g in zip(expected[1:], got[1:])):
        what = f"input '{name}'" if name else "input"
        raise ValueError(f"{where}: expected {what} of shape {expected}, got {tuple(got)}")


__all__ = ["TrainingMixin", "unpack_x_y_sample_weight", "Tensor"]
