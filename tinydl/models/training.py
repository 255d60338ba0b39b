"""compile, fit, evaluate, predict and the per-batch steps: Keras' training API for a model.

One training step (train_on_batch, and every batch of fit) is:

    out  = model(x, training=True)              # or the logits, on the fused softmax path
    loss = loss_fn(y, out) + sum(layer.losses)   # data loss + regularization penalties
    loss.backward()                              # fills w.grad for each trainable weight
    optimizer.apply([w.grad ...], weights)       # in place, no graph

The model class using this mixin provides __call__, layers, trainable_weights, losses, build,
get_weights / set_weights, and _input_shape_for_data() (the shape it expects, or None).
"""

from __future__ import annotations

import copy
import warnings

import numpy as np

from tinydl import activations, losses as losses_module, metrics as metrics_module, optimizers
from tinydl.autograd import is_grad_enabled, no_grad
from tinydl.models import compile_utils, data, loops
from tinydl.models.stack import call_layers
from tinydl.tensor import Tensor


class TrainingMixin:
    """Keras' Model training API; see compile, fit, evaluate and predict."""

    optimizer = None
    loss = None
    history = None
    stop_training = False
    compiled = False

    # ------------------------------------------------------------------ compile
    def compile(self, optimizer="rmsprop", loss=None, metrics=None, loss_weights=None,
                run_eagerly=None, steps_per_execution=None, jit_compile=None, **kwargs) -> None:
        """Choose how to train: the optimizer, the loss and the metrics to report.

        Args:
            optimizer: a name ('rmsprop' — Keras' default —, 'sgd', 'adam', 'adamw') or an
                tinydl.optimizers.Optimizer.
            loss: a name ('sparse_categorical_crossentropy', 'categorical_crossentropy',
                'binary_crossentropy', 'mse', 'mae', ...), a tinydl.losses.Loss, or a function.
            metrics: a list of names ('accuracy' is chosen to fit the loss, as in Keras),
                tinydl.metrics.Metric objects or functions.
            run_eagerly, steps_per_execution, jit_compile: accepted for Keras scripts; ignored.

        Raises:
            ValueError / TypeError: an unknown optimizer, loss or metric (valid names listed).
        """
        if kwargs:
            raise TypeError(f"compile() got unexpected keyword arguments {sorted(kwargs)}")
        if loss_weights is not None:
            raise ValueError("compile: loss_weights is for models with several outputs, which "
                             "Sequential does not have. Received: loss_weights=" + repr(loss_weights))
        self.optimizer = optimizers.get(optimizer)
        self.loss = loss
        self._loss_fn = None if loss is None else losses_module.get(loss)
        if metrics is None:
            metrics = []
        elif isinstance(metrics, (str, metrics_module.Metric)) or callable(metrics):
            metrics = [metrics]
        elif isinstance(metrics, dict):
            raise TypeError("compile: metrics must be a list (a dict is for models with several "
                            f"outputs). Received: {metrics!r}")
        for m in metrics:  # fail now on unknown names; 'accuracy' is resolved with the data
            if not (isinstance(m, str) and m.lower() in ("accuracy", "acc")):
                metrics_module.get(m)
        self._metric_specs = list(metrics)
        self._metrics = None
        self._loss_tracker = metrics_module.Mean(name="loss")
        self._fused = "unknown"
        self.compiled = True

    @property
    def metrics_names(self) -> list:
        """'loss', then the compiled metrics' names (once they are resolved, after seeing data)."""
        return ["loss"] + [m.name for m in (self._metrics or [])]

    @property
    def metrics(self) -> list:
        """The loss tracker and the metric objects."""
        return ([self._loss_tracker] + list(self._metrics or [])) if self.compiled else []

    def _check_compiled(self, where: str) -> None:
        if not self.compiled:
            raise RuntimeError(f"You must compile the model before calling {where}(): call "
                               "model.compile(optimizer=..., loss=..., metrics=[...]) first, e.g. "
                               "model.compile(optimizer='adam', loss='sparse_categorical_crossentropy', "
                               "metrics=['accuracy'])")
        if self._loss_fn is None:
            raise ValueError(f"{where}: the model was compiled without a loss; pass loss= to compile")

    # ------------------------------------------------------------------ checking data
    def _prepare(self, source, where: str) -> None:
        """Check x (and y) against the model before any work; build the model and the metrics."""
        x, y = source.first()
        x = data.as_array(x, "x")
        self._check_input(x, where)
        if y is None:
            return
        y = data.as_array(y, "y")
        compile_utils.check_targets(self._loss_fn, y, self.output_shape, where)
        if self._metrics is None:
            self._metrics = [compile_utils.resolve_metric(m, self._loss_fn, y, self.output_shape)
                             for m in self._metric_specs]

    def _check_input(self, x: np.ndarray, where: str) -> None:
        expected = self._input_shape_for_data()
        if expected is None:
            self.build((None,) + tuple(x.shape[1:]))
            return
        if len(x.shape) != len(expected) or any(
                e is not None and e != g for e, g in zip(expected[1:], x.shape[1:])):
            raise ValueError(f"{where}: expected input of shape {tuple(expected)}, got {x.shape}")
        if not self.built:
            self.build(tuple(expected))

    @staticmethod
    def _check_recording(where: str) -> None:
        """RuntimeError when this thread records no graph, so no training step could be taken."""
        if not is_grad_enabled():
            raise RuntimeError(
                f"{where} was called inside no_grad() (or after set_grad_enabled(False)) in "
                "this thread: no graph can be recorded, so no training step can be taken. "
                "Call it outside that block")

    def _check_batch(self, source, x, y, where) -> None:
        if getattr(source, "checks_each_batch", False):
            self._check_input(x, where)
            if y is not None:
                compile_utils.check_targets(self._loss_fn, y, self.output_shape, where)

    # ------------------------------------------------------------------ one batch
    def _fused_kind(self):
        if self._fused == "unknown":
            self._fused = compile_utils.fused_kind(self.layers[-1], self._loss_fn)
        return self._fused

    def _logits(self, x: Tensor, training: bool) -> Tensor:
        """The model's output without its last softmax/sigmoid.

        For a last layer with an `activation` attribute (Dense(..., activation='softmax')) a
        shallow copy of it, sharing its weights, runs with a linear activation: the layer
        itself is never changed, so a predict on this model from another thread still gets
        probabilities.
        """
        *body, last = self.layers
        x = call_layers(body, x, training)
        _, how = compile_utils.final_activation(last)
        if how == "skip":
            return x
        linear = copy.copy(last)
        linear.activation = activations.linear
        return linear(x, training=training)

    def _targets(self, y: np.ndarray) -> np.ndarray:
        if isinstance(self._loss_fn, losses_module.SparseCategoricalCrossentropy):
            return y.astype(np.int64, copy=False)
        return y.astype(np.float32, copy=False)

    def _loss_and_output(self, x: np.ndarray, y: np.ndarray, training: bool):
        """(scalar loss Tensor including regularization, output probabilities as an array)."""
        kind = self._fused_kind()
        if kind is not None:
            logits = self._logits(Tensor(x), training)
            loss = compile_utils.fused_loss(kind, self._loss_fn, y, logits)
            with no_grad():
                out = compile_utils.apply_activation(kind, logits).data
        else:
            output = self(Tensor(x), training=training)
            loss, out = self._loss_fn(y, output), output.data
        for penalty in self.losses:
            loss = loss + penalty
        return loss, out

    def _update_metrics(self, loss: float, y, out, count: int) -> dict:
        self._loss_tracker.update_state(loss, sample_weight=count)
        for m in self._metrics or []:
            m.update_state(y, out)
        return {m.name: m.result() for m in self.metrics}

    def _reset_metrics(self) -> None:
        for m in self.metrics:
            m.reset_state()

    def _train_batch(self, x: np.ndarray, y: np.ndarray) -> dict:
        """One step: forward, backward, optimizer update; then the running metrics.

        Raises:
            RuntimeError: no step could be taken (grad recording off in this thread, a loss
                that does not depend on the weights): never a loss for a step not taken.
        """
        self._check_recording("fit / train_on_batch")
        y = self._targets(y)
        weights = self.trainable_weights
        for w in weights:
            w.grad = None
        loss, out = self._loss_and_output(x, y, training=True)
        if weights:
            self._step(loss, weights)
        else:
            warnings.warn(f"model '{self.name}' has no trainable weights (every layer is "
                          "frozen or has none): training changes nothing", stacklevel=3)
        return self._update_metrics(loss.item(), y, out, len(x))

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

    def _test_batch(self, x: np.ndarray, y: np.ndarray) -> dict:
        y = self._targets(y)
        with no_grad():
            loss, out = self._loss_and_output(x, y, training=False)
        return self._update_metrics(loss.item(), y, out, len(x))

    def _results(self, logs: dict, return_dict: bool):
        if return_dict:
            return dict(logs)
        values = [logs.get(name, 0.0) for name in self.metrics_names]
        return values[0] if len(values) == 1 else values

    def train_on_batch(self, x, y, return_dict: bool = False):
        """One optimizer step on one batch; returns the loss (or [loss, *metrics]) of that batch."""
        self._check_compiled("train_on_batch")
        self._check_recording("train_on_batch")
        source = data.make_source(x, y, len(x), False, None, True, "train_on_batch")
        self._prepare(source, "train_on_batch")
        self._reset_metrics()
        return self._results(self._train_batch(data.to_float32(source.x), source.y), return_dict)

    def test_on_batch(self, x, y, return_dict: bool = False):
        """The loss (or [loss, *metrics]) of one batch, without training."""
        self._check_compiled("test_on_batch")
        source = data.make_source(x, y, len(x), False, None, True, "test_on_batch")
        self._prepare(source, "test_on_batch")
        self._reset_metrics()
        return self._results(self._test_batch(data.to_float32(source.x), source.y), return_dict)

    def predict_on_batch(self, x) -> np.ndarray:
        """The model's output for one batch, as an array."""
        x = data.as_array(x, "x")
        self._check_input(x, "predict_on_batch")
        with no_grad():
            return self(Tensor(data.to_float32(x)), training=False).data

    # ------------------------------------------------------------------ the loops (loops.py)
    fit, evaluate, predict = loops.fit, loops.evaluate, loops.predict
