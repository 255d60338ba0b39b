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
from tinydl.models.epochs import EpochIterator
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


def _validation_source(validation_data, batch_size, where="fit (validation_data)"):
    """The source of validation_data: (x_val, y_val[, val_sample_weight]) or a data source."""
    if validation_data is None:
        return None
    if isinstance(validation_data, (tuple, list)):
        if len(validation_data) not in (2, 3):
            raise ValueError(f"validation_data must be (x_val, y_val) or (x_val, y_val, "
                             f"val_sample_weight), got a sequence of {len(validation_data)} items")
        x_val, y_val, w_val = tuple(validation_data) + (None,) * (3 - len(validation_data))
        return data.make_source(x_val, y_val, batch_size, False, None, True, where, w_val)
    return data.make_source(validation_data, None, batch_size, False, None, True, where)


def _should_eval(epoch: int, validation_freq) -> bool:
    """Keras: validate after epoch (0-based) when epoch + 1 is a multiple of an int
    validation_freq, or is in a list of them."""
    if isinstance(validation_freq, (list, tuple)):
        return epoch + 1 in validation_freq
    return (epoch + 1) % validation_freq == 0


def _check_validation_freq(validation_freq):
    if isinstance(validation_freq, (list, tuple)):
        return [_count(v, "validation_freq", 1) for v in validation_freq]
    return _count(validation_freq, "validation_freq", 1)


def pack(batch) -> tuple:
    """(x, y, sample_weight) as the data a step gets: (x,), (x, y) or (x, y, sample_weight).

    Example:
        >>> len(pack((1, None, None))), len(pack((1, 2, None))), len(pack((1, 2, 3)))
        (1, 2, 3)
    """
    x, y, w = batch
    return (x,) if y is None and w is None else (x, y) if w is None else (x, y, w)


def fit(self, x=None, y=None, batch_size=None, epochs: int = 1, verbose="auto", callbacks=None,
        validation_split: float = 0.0, validation_data=None, shuffle: bool = True,
        class_weight=None, sample_weight=None, initial_epoch: int = 0, steps_per_epoch=None,
        validation_steps=None, validation_batch_size=None, validation_freq: int = 1):
    """Train the model for a number of epochs (Keras 3 semantics).

    Args:
        x: inputs (N, ...) as an array (uint8 / int / float64 are converted to float32), or a
            data source yielding x, (x, y) or (x, y, sample_weight) batches: a generator, a
            PyDataset-like object (__len__ / num_batches, __getitem__(i), optional
            on_epoch_begin / on_epoch_end), a tf.data Dataset, a torch DataLoader, or any
            object that iter() can restart.
        y: targets (N, ...) when x is an array; None otherwise.
        batch_size: samples per step for arrays; None means 32.
        epochs: index of the last epoch (training runs epochs initial_epoch .. epochs - 1).
        verbose: 'auto' or 1 = progress bar, 2 = one line per epoch, 0 = silent.
        callbacks: a list of tinydl.callbacks.Callback.
        validation_split: the LAST fraction of x, y and sample_weight (taken before shuffling)
            is held out and evaluated at the end of each epoch (arrays only).
        validation_data: (x_val, y_val), (x_val, y_val, val_sample_weight), or a data source.
        shuffle: reshuffle arrays (the batch order of a PyDataset) before each epoch
            (tinydl.rng.get_rng()).
        class_weight: {class index: weight}: each sample's loss is weighted by its class's.
        sample_weight: (N,) weights of the samples' losses (one array per output, or one for
            all of them); the loss is sum(w * loss) / N, and weighted_metrics are weighted.
        initial_epoch: epoch to start at (to resume a run).
        steps_per_epoch: batches per epoch; a pass of the data continues over epochs (see
            tinydl.models.epochs).
        validation_steps, validation_batch_size, validation_freq (an int, or a list of the
            epochs, 1-based, after which to validate): as in Keras.

    Returns:
        A tinydl.callbacks.History: .history {'loss': [...], 'accuracy': [...],
        'val_loss': [...], ...}, .epoch, .params.

    Raises:
        RuntimeError: the model is not compiled; fit was called inside no_grad(); a step
            found that the loss gives the trainable weights no gradient (no loss is ever
            reported for a step that was not taken).
        ValueError / TypeError: inputs of the wrong shape or type, x and y of different
            lengths, labels that do not fit the loss, bad arguments (all before training); a
            validation source that yields no batch (never a loss of 0.0 for no data).

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
    verbose = _verbosity(verbose)
    batch_size = data.check_batch_size(batch_size)
    epochs, initial_epoch = _count(epochs, "epochs", 0), _count(initial_epoch, "initial_epoch", 0)
    validation_freq = _check_validation_freq(validation_freq)
    steps_per_epoch = _steps(steps_per_epoch, "steps_per_epoch")
    validation_steps = _steps(validation_steps, "validation_steps")
    if validation_split and validation_data is None:
        (x, y, sample_weight), validation_data = data.split_validation(x, y, sample_weight,
                                                                       validation_split)
    source = data.make_source(x, y, batch_size, bool(shuffle), steps_per_epoch,
                              not self._overrides("train_step"), "fit", sample_weight,
                              class_weight)
    val_source = _validation_source(validation_data, data.check_batch_size(
        validation_batch_size or batch_size, "validation_batch_size"))
    self._prepare(source, "fit")
    if val_source is not None:
        self._prepare(val_source, "fit (validation_data)")

    source, val_source = distributed.shard_sources(self, source, val_source)  # tinydl.distributed
    batches = _epochs(source, steps_per_epoch)
    batches.reset()
    cbs = CallbackList(callbacks, model=self, add_history=True, add_progbar=verbose != 0,
                       verbose=verbose, epochs=epochs, steps=batches.num_batches)
    distributed.join_fit(self, cbs, source, val_source)  # no-op unless tinydl.distributed.init()
    val_batches = None if val_source is None else _epochs(val_source, validation_steps)
    self.stop_training = False
    cbs.on_train_begin()
    training_logs = None
    for epoch in range(initial_epoch, epochs):
        logs = _train_epoch(self, batches, cbs, epoch)
        if logs is None:
            break  # the data ran out before this epoch's first step (EpochIterator warned)
        epoch_logs = dict(logs)
        if val_batches is not None and _should_eval(epoch, validation_freq):
            val_logs = _run_test(self, val_batches, cbs, "fit (validation_data)")
            epoch_logs.update({"val_" + name: value for name, value in val_logs.items()})
        # the logs as the callbacks left them (tinydl.distributed's global figures, an
        # 'lr' a scheduler added): on_train_end gets those, as in Keras
        training_logs = cbs.on_epoch_end(epoch, epoch_logs)
        if self.stop_training:
            break
    cbs.on_train_end(training_logs)
    return self.history


def _epochs(source, steps) -> EpochIterator:
    """The epochs of steps batches of source; a tinydl.distributed shard gives this rank's count."""
    if hasattr(source, "epoch_steps"):
        steps = source.epoch_steps(steps)
    return EpochIterator(source, steps)


def _steps(value, name: str):
    return None if value is None else _count(value, name, 1)


def _train_epoch(self, batches, cbs, epoch: int):
    """One epoch of training steps; the last step's logs, or None when there was no step."""
    self._reset_metrics()
    cbs.on_epoch_begin(epoch)
    logs = None
    for step, batch in batches.epoch():
        self._check_batch(batches.source, batch, "fit")
        cbs.on_train_batch_begin(step)
        logs = self._run_train_step(pack(batch))
        cbs.on_train_batch_end(step, logs)
        if self.stop_training:
            break
    return logs


def _run_test(self, batches, cbs, where: str) -> dict:
    """Keras' evaluate loop over one epoch of batches (an EpochIterator); the final logs."""
    batches.reset()
    self.stop_evaluating = False
    cbs.on_test_begin()
    self._reset_metrics()
    logs = None
    for step, batch in batches.epoch():
        self._check_batch(batches.source, batch, where)
        cbs.on_test_batch_begin(step)
        logs = self._run_test_step(pack(batch))
        cbs.on_test_batch_end(step, logs)
        if self.stop_evaluating:
            break
    # under tinydl.distributed: all ranks' parts together (None when no rank had a batch)
    logs = distributed_eval.global_logs(self, logs, batches.source, where)
    if logs is None:
        raise ValueError(f"{where}: the data yielded no batches, so there is no loss or metric "
                         "to report; give data with at least one batch (a generator that is "
                         "not exhausted, or validation_steps within what it yields)")
    cbs.on_test_end(logs)
    return logs


def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None,
             steps=None, callbacks=None, return_dict: bool = False):
    """The loss and metrics of the model on data, in inference mode (training=False).

    Args:
        x: as in fit (arrays, or a data source in x).
        y: the targets when x is arrays.
        batch_size: None means 32.
        verbose: 'auto' / 1 progress bar, 0 silent.
        sample_weight: (N,) weights of the samples (arrays only): the loss is
            sum(w * loss) / N and weighted_metrics are weighted.
        steps: batches to use (all when None).
        callbacks: their on_test_* hooks are called.
        return_dict: return {'loss': ..., 'accuracy': ...} instead of a list.

    Returns:
        [loss, *metrics] in compile order, or the loss alone (a float) when there are no
        metrics, or a dict.

    Raises:
        RuntimeError: the model is not compiled.
        ValueError: data that does not fit the model, or that yielded no batch.

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
    verbose = _verbosity(verbose)
    source = data.make_source(x, y, data.check_batch_size(batch_size), False, steps,
                              not self._overrides("test_step"), "evaluate", sample_weight)
    self._prepare(source, "evaluate")
    source, verbose = distributed_eval.shard_test(source, verbose, "evaluate")  # this rank's part
    batches = _epochs(source, _steps(steps, "steps"))
    cbs = CallbackList(callbacks, model=self, add_progbar=verbose != 0, verbose=verbose,
                       epochs=1, steps=batches.num_batches)
    return self._results(_run_test(self, batches, cbs, "evaluate"), return_dict)


def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None) -> np.ndarray:
    """The model's outputs for x (probabilities when the model ends in softmax), in inference mode.

    Args:
        x: an array (N, ...), or a data source (as in fit) yielding x or (x, y) batches.
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
    first = source.first()[0]
    self._check_input(first, "predict")
    source, verbose = distributed_eval.shard_test(source, verbose, "predict")  # this rank's part
    batches = _epochs(source, _steps(steps, "steps"))
    batches.reset()
    cbs = CallbackList(callbacks, model=self, add_progbar=verbose != 0, verbose=verbose,
                       epochs=1, steps=batches.num_batches)
    outputs = []
    cbs.on_predict_begin()
    with no_grad():
        for step, batch in batches.epoch():
            if getattr(source, "checks_each_batch", False):
                self._check_input(batch[0], "predict")
            cbs.on_predict_batch_begin(step)
            result = tree.map_structure(lambda t: t.data if isinstance(t, Tensor) else np.asarray(t),
                                        self.predict_step(pack(batch)))
            outputs.append(result)
            cbs.on_predict_batch_end(step, {"outputs": result})
    outputs = distributed_eval.all_predictions(self, outputs, source, first)  # every rank's, in order
    if not outputs:
        raise ValueError("predict: the input yielded no batches")
    cbs.on_predict_end()
    leaves = [tree.flatten(batch) for batch in outputs]
    return tree.pack_sequence_as(outputs[0], [np.concatenate(parts, axis=0)
                                              for parts in zip(*leaves)])
