"""The epoch and batch loops of fit, evaluate and predict (methods of the model, via TrainingMixin).

fit:  for each epoch: reset the metrics; for each batch: train one step and report the
      running means to the callbacks (progress bar, ...); then evaluate on the validation data
      and hand the epoch's logs ('loss', 'accuracy', 'val_loss', ...) to on_epoch_end.
"""

from __future__ import annotations

import numpy as np

from tinydl import backend
from tinydl.autograd import no_grad
from tinydl.callbacks import CallbackList
from tinydl import tree
from tinydl.models import data
from tinydl.tensor import Tensor
from tinydl.distributed import training as distributed  # noqa: E402 (after models.data)
from tinydl.distributed import evaluation as distributed_eval  # noqa: E402


def _verbosity(verbose) -> int:
    if verbose == "auto":
        return 1
    if verbose not in (0, 1, 2) or isinstance(verbose, bool):
        raise ValueError(f"verbose must be 'auto', 0, 1 or 2. Received: verbose={verbose!r}")
    return int(verbose)


def _count(value, name: str, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise ValueError(f"{name} must be an int >= {low}. Received: {name}={value!r}")
    return int(value)


def _validation_source(self, validation_data, batch_size, steps):
    if validation_data is None:
        return None
    if isinstance(validation_data, (tuple, list)):
        if len(validation_data) != 2:
            raise ValueError(f"validation_data must be (x_val, y_val), got a sequence of "
                             f"{len(validation_data)} items")
        x_val, y_val = validation_data
        return data.make_source(x_val, y_val, batch_size, False, steps, True, "fit (validation_data)")
    return data.make_source(validation_data, None, batch_size, False, steps, True,
                            "fit (validation_data)")


def fit(self, x=None, y=None, batch_size=None, epochs: int = 1, verbose="auto", callbacks=None,
        validation_split: float = 0.0, validation_data=None, shuffle: bool = True,
        class_weight=None, sample_weight=None, initial_epoch: int = 0, steps_per_epoch=None,
        validation_steps=None, validation_batch_size=None, validation_freq: int = 1):
    """Train the model for a number of epochs.

    Args:
        x: inputs (N, ...) as an array (uint8 / int / float64 are converted to float32), or a
            generator / iterator of (x, y) batches, or a PyDataset-like object (__len__,
            __getitem__(i) -> (x, y), optional on_epoch_end()).
        y: targets (N, ...) when x is an array; None otherwise.
        batch_size: samples per step for arrays; None means 32.
        epochs: index of the last epoch (training runs epochs initial_epoch .. epochs - 1).
        verbose: 'auto' or 1 = progress bar, 2 = one line per epoch, 0 = silent.
        callbacks: a list of tinydl.callbacks.Callback.
        validation_split: the LAST fraction of x and y (taken before shuffling) is held out
            and evaluated at the end of each epoch.
        validation_data: (x_val, y_val), or a generator / dataset object.
        shuffle: reshuffle array inputs before each epoch (tinydl.rng.get_rng()).
        class_weight: {class: weight} for the loss of each sample by its label.
        sample_weight: (N,) weights of the samples' losses.
        initial_epoch: epoch to start at (to resume a run).
        steps_per_epoch: batches per epoch; needed for endless generators.
        validation_steps: batches of validation data per evaluation.
        validation_batch_size: the batch size of validation arrays (batch_size by default).
        validation_freq: evaluate every this many epochs.

    Returns:
        A tinydl.callbacks.History: .history {'loss': [...], 'accuracy': [...],
        'val_loss': [...], ...}, .epoch, .params.

    Raises:
        RuntimeError: the model is not compiled; fit was called inside no_grad(); a step
            found that the loss gives the trainable weights no gradient (no loss is ever
            reported for a step that was not taken).
        ValueError: inputs of the wrong shape, x and y of different lengths, labels that do
            not fit the loss, bad arguments — all before training.
        TypeError: inputs of the wrong type (strings, objects), before training.

    Example:
        A linear model learns y = 2 x from 64 samples:

        >>> tinydl.utils.set_random_seed(0)
        >>> x = np.random.default_rng(0).normal(size=(64, 1)).astype(np.float32)
        >>> model = tinydl.Sequential([tinydl.Input((1,)), tinydl.layers.Dense(1)])
        >>> model.compile(tinydl.optimizers.SGD(0.1), "mse")
        >>> history = model.fit(x, 2 * x, epochs=20, batch_size=16, validation_split=0.25, verbose=0)
        >>> sorted(history.history), len(history.epoch)
        (['loss', 'val_loss'], 20)
        >>> history.history["loss"][-1] < 1e-3 < history.history["loss"][0]
        True
        >>> np.round(model.layers[0].kernel.numpy(), 2)
        array([[2.]], dtype=float32)
    """
    self._check_compiled("fit")
    self._check_recording("fit")
    backend.warn_if_fallback(stacklevel=3)
    if class_weight is not None or sample_weight is not None:
        raise ValueError("fit: class_weight and sample_weight are not supported yet")
    verbose = _verbosity(verbose)
    batch_size = data.check_batch_size(batch_size)
    epochs, initial_epoch = _count(epochs, "epochs", 0), _count(initial_epoch, "initial_epoch", 0)
    validation_freq = _count(validation_freq, "validation_freq", 1)
    if steps_per_epoch is not None:
        steps_per_epoch = _count(steps_per_epoch, "steps_per_epoch", 1)
    if validation_split and validation_data is None:
        (x, y), validation_data = data.split_validation(x, y, validation_split)
    source = data.make_source(x, y, batch_size, bool(shuffle), steps_per_epoch,
                              not self._overrides("train_step"), "fit")
    val_source = _validation_source(
        self, validation_data, data.check_batch_size(validation_batch_size or batch_size,
                                                     "validation_batch_size"), validation_steps)
    self._prepare(source, "fit")
    if val_source is not None:
        self._prepare(val_source, "fit (validation_data)")

    source, val_source = distributed.shard_sources(self, source, val_source)  # tinydl.distributed
    cbs = CallbackList(callbacks, model=self, add_history=True, add_progbar=verbose != 0,
                       verbose=verbose, epochs=epochs, steps=source.num_batches)
    distributed.join_fit(self, cbs, source, val_source)  # no-op unless tinydl.distributed.init()
    self.stop_training = False
    cbs.on_train_begin()
    logs = {}
    for epoch in range(initial_epoch, epochs):
        self._reset_metrics()
        cbs.on_epoch_begin(epoch)
        steps = 0
        for steps, (xb, yb) in enumerate(source.epoch(), start=1):
            self._check_batch(source, xb, yb, "fit")
            cbs.on_train_batch_begin(steps - 1)
            logs = self._run_train_step((xb,) if yb is None else (xb, yb))
            cbs.on_train_batch_end(steps - 1, logs)
            if self.stop_training:
                break
        if steps == 0:
            break  # the generator ran out of data (data.py warned)
        epoch_logs = dict(logs)
        if val_source is not None and (epoch + 1) % validation_freq == 0:
            val_logs = _run_test(self, val_source, CallbackList(), "fit (validation_data)")
            epoch_logs.update({"val_" + name: value for name, value in val_logs.items()})
        cbs.on_epoch_end(epoch, epoch_logs)
        logs = epoch_logs
        if self.stop_training or getattr(source, "exhausted", False):
            break
    cbs.on_train_end(logs)
    return cbs.history


def _run_test(self, source, cbs, where: str) -> dict:
    self._reset_metrics()
    logs = {m.name: 0.0 for m in self.metrics}
    cbs.on_test_begin()
    for step, (xb, yb) in enumerate(source.epoch()):
        self._check_batch(source, xb, yb, where)
        cbs.on_test_batch_begin(step)
        logs = self._run_test_step((xb,) if yb is None else (xb, yb))
        cbs.on_test_batch_end(step, logs)
    logs = distributed_eval.global_logs(self, logs, source, where)  # all ranks' parts together
    cbs.on_test_end(logs)
    return logs


def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None,
             steps=None, callbacks=None, return_dict: bool = False):
    """The loss and metrics of the model on data, in inference mode (training=False).

    Args:
        x: as in fit (arrays, or a generator / dataset object).
        y: the targets when x is arrays.
        batch_size: None means 32.
        verbose: 'auto' / 1 progress bar, 0 silent.
        sample_weight: not supported (must be None).
        steps: batches to use (all when None).
        callbacks: their on_test_* hooks are called.
        return_dict: return {'loss': ..., 'accuracy': ...} instead of a list.

    Returns:
        [loss, *metrics] in compile order, or the loss alone (a float) when there are no
        metrics, or a dict.

    Raises:
        RuntimeError: the model is not compiled.
        ValueError: sample_weight given, or data that does not fit the model.

    Example:
        >>> model = tinydl.Sequential([tinydl.Input((2,)), tinydl.layers.Dense(1, kernel_initializer="ones")])
        >>> model.compile("sgd", "mse", metrics=["mae"])
        >>> x, y = np.array([[1.0, 2.0], [0.0, 1.0]], np.float32), np.array([[0.0], [0.0]], np.float32)
        >>> model.evaluate(x, y, verbose=0)                    # outputs 3 and 1: mse 5, mae 2
        [5.0, 2.0]
        >>> model.evaluate(x, y, verbose=0, return_dict=True)
        {'loss': 5.0, 'mae': 2.0}
    """
    self._check_compiled("evaluate")
    if sample_weight is not None:
        raise ValueError("evaluate: sample_weight is not supported yet")
    verbose = _verbosity(verbose)
    source = data.make_source(x, y, data.check_batch_size(batch_size), False, steps,
                              not self._overrides("test_step"), "evaluate")
    self._prepare(source, "evaluate")
    source, verbose = distributed_eval.shard_test(source, verbose, "evaluate")  # this rank's part
    cbs = CallbackList(callbacks, model=self, add_progbar=verbose != 0, verbose=verbose,
                       steps=source.num_batches)
    return self._results(_run_test(self, source, cbs, "evaluate"), return_dict)


def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None) -> np.ndarray:
    """The model's outputs for x (probabilities when the model ends in softmax), in inference mode.

    Args:
        x: an array (N, ...), or a generator / dataset object yielding x or (x, y) batches.
        batch_size: None means 32.
        verbose: 'auto' / 1 progress bar, 0 silent.
        steps: batches to use (all when None).
        callbacks: their on_predict_* hooks are called.

    Returns:
        An ndarray (N, ...) of float32 (a structure of them for several outputs).

    Example:
        >>> model = tinydl.Sequential([tinydl.Input((3,)), tinydl.layers.Dense(4, activation="softmax")])
        >>> p = model.predict(np.random.default_rng(0).normal(size=(5, 3)), batch_size=2, verbose=0)
        >>> p.shape, p.dtype, bool(np.allclose(p.sum(axis=1), 1.0))
        ((5, 4), dtype('float32'), True)
    """
    verbose = _verbosity(verbose)
    source = data.make_source(x, None, data.check_batch_size(batch_size), False, steps, False,
                              "predict")
    first, _ = source.first()
    self._check_input(first, "predict")
    source, verbose = distributed_eval.shard_test(source, verbose, "predict")  # this rank's part
    cbs = CallbackList(callbacks, model=self, add_progbar=verbose != 0, verbose=verbose,
                       steps=source.num_batches)
    outputs = []
    cbs.on_predict_begin()
    with no_grad():
        for step, (xb, _) in enumerate(source.epoch()):
            if getattr(source, "checks_each_batch", False):
                self._check_input(xb, "predict")
            cbs.on_predict_batch_begin(step)
            batch = tree.map_structure(lambda t: t.data if isinstance(t, Tensor) else np.asarray(t),
                                       self.predict_step((xb,)))
            outputs.append(batch)
            cbs.on_predict_batch_end(step, {"outputs": batch})
    cbs.on_predict_end()
    outputs = distributed_eval.all_predictions(self, outputs, source, first)  # every rank's, in order
    if not outputs:
        raise ValueError("predict: the input yielded no batches")
    leaves = [tree.flatten(batch) for batch in outputs]
    return tree.pack_sequence_as(outputs[0], [np.concatenate(parts, axis=0)
                                              for parts in zip(*leaves)])
