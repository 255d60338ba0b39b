"""Callbacks: code that fit() runs at fixed points of training, with Keras' hook names.

    fit:      on_train_begin, then per epoch on_epoch_begin(epoch), per batch
              on_train_batch_begin(batch) / on_train_batch_end(batch, logs), then
              on_epoch_end(epoch, logs) with the validation values ('val_loss', ...), on_train_end
    evaluate: on_test_begin, on_test_batch_begin / _end, on_test_end
    predict:  on_predict_begin, on_predict_batch_begin / _end, on_predict_end

logs hold the running means of the epoch so far ('loss', 'accuracy', ...). A callback sees the
model as self.model and may stop training by setting self.model.stop_training = True.
on_batch_begin / on_batch_end are Keras' older names of the train-batch hooks, and still called.
"""

from __future__ import annotations

import csv
import math
import os
import sys
import warnings

import numpy as np

from tinydl.progbar import Progbar


class Callback:
    """Base class: override the hooks you need; each gets (index, logs) or (logs).

    fit calls set_model(model) and set_params(params) first; self.model is then the model
    being trained and self.params holds fit's settings ('epochs', 'steps', 'verbose').

    Example:
        >>> class Epochs(Callback):
        ...     def on_train_begin(self, logs=None):
        ...         self.seen = []
        ...     def on_epoch_end(self, epoch, logs=None):
        ...         self.seen.append((epoch, sorted(logs)))
        >>> model = tinydl.Sequential([tinydl.Input((2,)), tinydl.layers.Dense(1)])
        >>> model.compile("sgd", "mse")
        >>> x, y = np.zeros((8, 2), "float32"), np.zeros((8, 1), "float32")
        >>> cb = Epochs()
        >>> _ = model.fit(x, y, epochs=2, batch_size=4, verbose=0, callbacks=[cb])
        >>> cb.seen, cb.params["epochs"], cb.params["steps"], cb.model is model
        ([(0, ['loss']), (1, ['loss'])], 2, 2, True)
    """

    def __init__(self):
        self.model, self.params = None, {}

    def set_model(self, model) -> None:
        self.model = model

    def set_params(self, params: dict) -> None:
        self.params = params

    def on_train_begin(self, logs=None): pass
    def on_train_end(self, logs=None): pass
    def on_epoch_begin(self, epoch, logs=None): pass
    def on_epoch_end(self, epoch, logs=None): pass
    def on_batch_begin(self, batch, logs=None): pass
    def on_batch_end(self, batch, logs=None): pass

    def on_train_batch_begin(self, batch, logs=None):
        self.on_batch_begin(batch, logs)  # Keras' older name

    def on_train_batch_end(self, batch, logs=None):
        self.on_batch_end(batch, logs)  # Keras' older name

    def on_test_begin(self, logs=None): pass
    def on_test_end(self, logs=None): pass
    def on_test_batch_begin(self, batch, logs=None): pass
    def on_test_batch_end(self, batch, logs=None): pass
    def on_predict_begin(self, logs=None): pass
    def on_predict_end(self, logs=None): pass
    def on_predict_batch_begin(self, batch, logs=None): pass
    def on_predict_batch_end(self, batch, logs=None): pass


def _flatten(callbacks) -> list:
    """callbacks as a flat list: None, one Callback, or (nested) lists / tuples of them (Keras
    flattens them the same way)."""
    if callbacks is None:
        return []
    if isinstance(callbacks, Callback):
        return [callbacks]
    if isinstance(callbacks, (list, tuple)):
        return [cb for item in callbacks for cb in _flatten(item)]
    raise TypeError("callbacks must be tinydl.callbacks.Callback instances: one, or a list of "
                    "them, e.g. callbacks=[EarlyStopping()]. Received: "
                    f"{type(callbacks).__name__} {callbacks!r}")


class CallbackList:
    """Calls a hook on every callback in order, as Keras: the user's callbacks, then History,
    then the progress bar (so the bar shows what the callbacks added to the logs).

    callbacks may be one Callback or a list (nested lists are flattened, as in Keras). A
    History or ProgbarLogger among them is used instead of adding another (Keras). Every hook
    gets a dict of logs (empty when there are none), a copy of the caller's with NumPy scalars
    made Python floats, shared by the callbacks of that call (one may add to it for the next).

    Args:
        callbacks: None, a Callback, or (nested) lists of them.
        model: given to every callback's set_model.
        add_history: append a History when there is none (fit does).
        add_progbar: append a ProgbarLogger (last, after History) when there is none.
        verbose: the 'verbose' entry of the params.
        **params: the other params every callback's set_params receives.

    Raises:
        TypeError: something other than Callbacks.

    Example:
        >>> class Say(Callback):
        ...     def __init__(self, word):
        ...         super().__init__()
        ...         self.word = word
        ...     def on_epoch_end(self, epoch, logs=None):
        ...         print(self.word, epoch, logs)
        >>> hooks = CallbackList([Say("a"), [Say("b")]], add_history=True, epochs=3)
        >>> [type(cb).__name__ for cb in hooks.callbacks], hooks.callbacks[0].params
        (['Say', 'Say', 'History'], {'verbose': 1, 'epochs': 3})
        >>> hooks.callbacks[-1].set_model(tinydl.Sequential())
        >>> hooks.on_epoch_end(0, {"loss": 0.5})          # returns the logs the hooks shared
        a 0 {'loss': 0.5}
        b 0 {'loss': 0.5}
        {'loss': 0.5}
        >>> hooks.history.history
        {'loss': [0.5]}
        >>> CallbackList("early_stopping")
        Traceback (most recent call last):
        ...
        TypeError: callbacks must be tinydl.callbacks.Callback instances: ...
    """

    def __init__(self, callbacks=None, model=None, add_history=False, add_progbar=False,
                 verbose=1, **params):
        callbacks = _flatten(callbacks)
        self.history = next((cb for cb in callbacks if isinstance(cb, History)), None)
        if add_history and self.history is None:
            self.history = History()
            callbacks.append(self.history)
        if add_progbar and not any(isinstance(cb, ProgbarLogger) for cb in callbacks):
            callbacks.append(ProgbarLogger())
        if model is not None and self.history is not None:
            model.history = self.history
        self.callbacks = callbacks
        params = {"verbose": verbose, **params}
        for cb in callbacks:
            cb.set_model(model)
            cb.set_params(params)

    def __getattr__(self, hook):
        if not hook.startswith("on_"):
            raise AttributeError(hook)

        def call(*args, logs=None):
            if args and (args[-1] is None or isinstance(args[-1], dict)):
                *args, logs = args
            logs = pythonify_logs(logs)
            for cb in self.callbacks:
                getattr(cb, hook)(*args, logs)
            return logs  # with what the callbacks added (fit ends on the epoch's, as Keras)
        return call


def pythonify_logs(logs) -> dict:
    """A copy of logs with NumPy scalars (and 0-d arrays) as Python floats; {} for None.

    Example:
        >>> pythonify_logs({"loss": np.float32(0.5), "f1": np.array([0.5, 1.0])}), pythonify_logs(None)
        ({'loss': 0.5, 'f1': array([0.5, 1. ])}, {})
    """
    out = {}
    for name, value in (logs or {}).items():
        if isinstance(value, (np.generic, np.ndarray)) and np.ndim(value) == 0:
            value = value.item()
        out[name] = value
    return out


class History(Callback):
    """Records every epoch's logs: history.history['loss'][i] is epoch i's loss.

    fit adds one to its callbacks and returns it.

    Attributes:
        history: {name: [value per epoch]}.
        epoch: the epoch indices.
        params: fit's settings.

    Example:
        >>> tinydl.utils.set_random_seed(0)
        >>> model = tinydl.Sequential([tinydl.Input((2,)), tinydl.layers.Dense(1)])
        >>> model.compile("sgd", "mse", metrics=["mae"])
        >>> x = np.random.default_rng(0).normal(size=(16, 2)).astype("float32")
        >>> history = model.fit(x, x[:, :1], epochs=3, batch_size=8, validation_split=0.25, verbose=0)
        >>> isinstance(history, History), history.epoch, sorted(history.history)
        (True, [0, 1, 2], ['loss', 'mae', 'val_loss', 'val_mae'])
        >>> len(history.history["loss"]), history.params["epochs"]
        (3, 3)
    """

    def __init__(self):
        super().__init__()
        self.history, self.epoch = {}, []

    def on_train_begin(self, logs=None):
        self.epoch = []

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for name, value in (logs or {}).items():
            self.history.setdefault(name, []).append(value)
        self.model.history = self


class ProgbarLogger(Callback):
    """Prints 'Epoch i/n' and a Progbar per epoch (verbose 1), or one line per epoch (verbose 2).

    On a terminal the bar is redrawn in place; elsewhere (log files, CI, captured output) each
    epoch prints exactly one line: 'Epoch 3/10 - 32/32 [====...] - 1s 30ms/step - loss: ...'.
    In evaluate and predict (outside fit) it draws one bar over all the batches. fit adds one
    when verbose is not 0.

    Example:
        >>> model = tinydl.Sequential([tinydl.Input((2,)), tinydl.layers.Dense(1)])
        >>> model.compile("sgd", "mse")
        >>> x, y = np.zeros((8, 2), "float32"), np.zeros((8, 1), "float32")
        >>> _ = model.fit(x, y, epochs=2, batch_size=4, verbose=2)
        Epoch 1/2 - 2/2 - ...s - loss: 0.0000
        Epoch 2/2 - 2/2 - ...s - loss: 0.0000
    """

    def __init__(self):
        super().__init__()
        self.bar, self.seen, self.in_fit = None, 0, False

    def _new_bar(self, prefix=""):
        self.bar = Progbar(self.params.get("steps"), verbose=self.params.get("verbose", 1),
                           stream=sys.stdout, prefix=prefix)
        self.seen = 0
        return self.bar

    def _step(self, batch, logs=None):
        self.seen = batch + 1
        self.bar.update(self.seen, logs, finalize=False)  # the end-of-epoch logs finalize

    def on_train_begin(self, logs=None):
        self.in_fit = True

    def on_train_end(self, logs=None):
        self.in_fit = False

    def on_epoch_begin(self, epoch, logs=None):
        header = f"Epoch {epoch + 1}/{self.params.get('epochs')}"
        bar = self._new_bar(prefix=header + " - ")
        if bar.dynamic and bar.verbose:
            sys.stdout.write(header + "\n")

    def on_train_batch_end(self, batch, logs=None):
        self._step(batch, logs)

    def on_epoch_end(self, epoch, logs=None):
        self.bar.update(self.seen, logs, finalize=True)

    def on_test_begin(self, logs=None):
        if not self.in_fit:
            self._new_bar()

    def on_test_batch_end(self, batch, logs=None):
        if not self.in_fit:
            self._step(batch, logs)

    def on_test_end(self, logs=None):
        if not self.in_fit:
            self.bar.update(self.seen, logs, finalize=True)

    def on_predict_begin(self, logs=None):
        self._new_bar()

    def on_predict_batch_end(self, batch, logs=None):
        self._step(batch)

    def on_predict_end(self, logs=None):
        self.bar.update(self.seen, None, finalize=True)


def _monitor_mode(mode: str, monitor: str, owner: str) -> str:
    if mode not in ("auto", "min", "max"):
        raise ValueError(f"{owner}: mode must be 'auto', 'min' or 'max'. Received: mode={mode!r}")
    if mode == "auto":
        return "max" if "acc" in monitor else "min"
    return mode


class EarlyStopping(Callback):
    """Stop training when `monitor` has not improved for `patience` epochs (Keras 3 semantics).

    An epoch improves when its value beats the best so far by more than min_delta ('min' mode:
    value < best - min_delta). mode 'auto' is 'max' for names containing 'acc', else 'min'.

    Args:
        monitor: a key of the epoch logs, e.g. 'val_loss', 'val_accuracy', 'loss'.
        min_delta: smallest change that counts as an improvement.
        patience: epochs without improvement after which training stops.
        verbose: 1 prints the epoch where it stopped.
        mode: 'auto', 'min' or 'max'.
        baseline: training stops unless the value beats this within `patience` epochs.
        restore_best_weights: at the end of training, put back the weights of the best epoch.
        start_from_epoch: epochs to wait before watching (a warm-up).

    Attributes:
        stopped_epoch: the epoch (0-based) at which training stopped, 0 if it did not.
        best_epoch: the epoch with the best value.

    Raises:
        ValueError: mode is not 'auto', 'min' or 'max'.

    Example:
        With zero inputs and targets the loss stays 0: epoch 0 is the best, epoch 1 does not
        improve, and with patience=1 training stops there.

        >>> model = tinydl.Sequential([tinydl.Input((2,)), tinydl.layers.Dense(1)])
        >>> model.compile("sgd", "mse")
        >>> x, y = np.zeros((8, 2), "float32"), np.zeros((8, 1), "float32")
        >>> stop = EarlyStopping(monitor="loss", patience=1, verbose=1)
        >>> history = model.fit(x, y, epochs=10, batch_size=4, verbose=0, callbacks=[stop])
        Epoch 2: early stopping
        >>> history.epoch, stop.stopped_epoch, stop.best_epoch
        ([0, 1], 1, 0)
    """

    def __init__(self, monitor: str = "val_loss", min_delta: float = 0, patience: int = 0,
                 verbose: int = 0, mode: str = "auto", baseline=None,
                 restore_best_weights: bool = False, start_from_epoch: int = 0):
        super().__init__()
        self.monitor, self.patience, self.verbose = monitor, int(patience), verbose
        self.mode = _monitor_mode(mode, monitor, "EarlyStopping")
        self.min_delta = abs(float(min_delta))
        self.baseline, self.restore_best_weights = baseline, restore_best_weights
        self.start_from_epoch = int(start_from_epoch)

    def _better(self, value, reference) -> bool:
        if reference is None:
            return True
        if self.mode == "min":
            return value + self.min_delta < reference
        return value - self.min_delta > reference

    def on_train_begin(self, logs=None):
        self.wait, self.stopped_epoch, self.best_epoch = 0, 0, 0
        self.best, self.best_weights = None, None

    def on_epoch_end(self, epoch, logs=None):
        value = (logs or {}).get(self.monitor)
        if value is None:
            warnings.warn(f"EarlyStopping: '{self.monitor}' is not in the logs (available: "
                          f"{sorted(logs or {})}); it does nothing", stacklevel=2)
            return
        if epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            self.best_weights = self.model.get_weights()
        self.wait += 1
        if self._better(value, self.best):
            self.best, self.best_epoch = value, epoch
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            if self.baseline is None or self._better(value, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.stopped_epoch > 0 and self.verbose > 0:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose > 0:
                print(f"Restoring model weights from the end of the best epoch: {self.best_epoch + 1}.")
            self.model.set_weights(self.best_weights)


class ModelCheckpoint(Callback):
    """Save the model (or its weights) after each epoch, or only when `monitor` improves.

    Args:
        filepath: may hold format fields filled from the epoch (1-based) and the logs, e.g.
            'ckpt-{epoch:02d}-{val_loss:.2f}.weights.tinydl'.
        monitor: as EarlyStopping, for save_best_only.
        verbose: 1 prints a line when a best model is saved.
        save_best_only: save only when the monitored value is the best so far.
        save_weights_only: call model.save_weights(path); otherwise model.save(path) when the
            model has it, else save_weights.
        mode: as EarlyStopping, for save_best_only.
        save_freq: 'epoch' only.

    Raises:
        ValueError: save_freq other than 'epoch', or an unknown mode.

    Example:
        >>> import os, tempfile
        >>> folder = tempfile.mkdtemp()
        >>> model = tinydl.Sequential([tinydl.Input((2,)), tinydl.layers.Dense(1)])
        >>> model.compile("sgd", "mse")
        >>> x, y = np.zeros((8, 2), "float32"), np.zeros((8, 1), "float32")
        >>> save = ModelCheckpoint(os.path.join(folder, "w-{epoch:02d}.weights.tinydl"), save_weights_only=True)
        >>> _ = model.fit(x, y, epochs=2, batch_size=4, verbose=0, callbacks=[save])
        >>> sorted(os.listdir(folder))
        ['w-01.weights.tinydl', 'w-02.weights.tinydl']
    """

    def __init__(self, filepath, monitor: str = "val_loss", verbose: int = 0,
                 save_best_only: bool = False, save_weights_only: bool = False, mode: str = "auto",
                 save_freq="epoch"):
        super().__init__()
        if save_freq != "epoch":
            raise ValueError(f"ModelCheckpoint: only save_freq='epoch' is supported. "
                             f"Received: save_freq={save_freq!r}")
        self.filepath, self.monitor, self.verbose = os.fspath(filepath), monitor, verbose
        self.save_best_only, self.save_weights_only = save_best_only, save_weights_only
        self.mode = _monitor_mode(mode, monitor, "ModelCheckpoint")
        self.best = None

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        path = self.filepath.format(epoch=epoch + 1, **logs)
        if self.save_best_only:
            value = logs.get(self.monitor)
            if value is None:
                warnings.warn(f"ModelCheckpoint: '{self.monitor}' is not in the logs (available: "
                              f"{sorted(logs)}); skipping", stacklevel=2)
                return
            better = self.best is None or (value < self.best if self.mode == "min" else value > self.best)
            if not better:
                return
            if self.verbose > 0:
                print(f"Epoch {epoch + 1}: {self.monitor} improved from {self.best} to {value}, "
                      f"saving model to {path}")
            self.best = value
        save = getattr(self.model, "save", None)
        if self.save_weights_only or save is None:
            self.model.save_weights(path)
        else:
            save(path)


class LearningRateScheduler(Callback):
    """At each epoch's start set the optimizer's learning rate to schedule(epoch, lr).

    schedule may also take only the epoch. The rate is logged as 'learning_rate'.

    Args:
        schedule: a function (epoch, lr) -> new lr, or epoch -> new lr; epoch counts from 0.
        verbose: 1 prints the rate set at each epoch.

    Raises:
        ValueError: (in fit) the schedule returns something other than a float.

    Example:
        >>> model = tinydl.Sequential([tinydl.Input((2,)), tinydl.layers.Dense(1)])
        >>> model.compile("sgd", "mse")
        >>> x, y = np.zeros((8, 2), "float32"), np.zeros((8, 1), "float32")
        >>> halve = LearningRateScheduler(lambda epoch, lr: 0.1 * 0.5 ** epoch)
        >>> history = model.fit(x, y, epochs=3, batch_size=4, verbose=0, callbacks=[halve])
        >>> history.history["learning_rate"]
        [0.1, 0.05, 0.025]
    """

    def __init__(self, schedule, verbose: int = 0):
        super().__init__()
        self.schedule, self.verbose = schedule, verbose

    def on_epoch_begin(self, epoch, logs=None):
        lr = float(self.model.optimizer.learning_rate)
        try:
            new = self.schedule(epoch, lr)
        except TypeError:
            new = self.schedule(epoch)
        if not isinstance(new, (int, float, np.floating)):
            raise ValueError(f"LearningRateScheduler: schedule must return a float, got {new!r}")
        self.model.optimizer.learning_rate = float(new)
        if self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: LearningRateScheduler setting learning rate to {new}.")

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["learning_rate"] = float(self.model.optimizer.learning_rate)


class TerminateOnNaN(Callback):
    """Stop training as soon as a batch's loss is NaN or infinite (Keras 3 semantics).

    The loss checked is the running mean of the epoch that fit reports, so once a batch's loss
    is NaN it stays NaN; training stops after that batch (its step was taken).
    To find the op and layer that made the NaN, train inside tinydl.detect_anomaly().

    Args:
        raise_error: raise a RuntimeError at once instead of stopping gracefully (then
            on_train_end of the other callbacks is not called).

    Raises:
        RuntimeError: (in fit, with raise_error=True) the loss is not finite.

    Example:
        >>> model = tinydl.Sequential([tinydl.Input((2,)), tinydl.layers.Dense(1)])
        >>> model.compile("sgd", "mse")
        >>> x, y = np.zeros((8, 2), "float32"), np.zeros((8, 1), "float32")
        >>> y[5] = np.nan                                 # in the second batch of 4
        >>> history = model.fit(x, y, epochs=3, batch_size=4, shuffle=False, verbose=0,
        ...                     callbacks=[TerminateOnNaN()])
        Batch 1: Invalid loss, terminating training
        >>> history.epoch
        [0]
    """

    def __init__(self, raise_error: bool = False):
        super().__init__()
        self.raise_error = bool(raise_error)

    def on_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is None or math.isfinite(loss):
            return
        if self.raise_error:
            raise RuntimeError(f"NaN or Inf loss encountered at batch {batch}. Loss value: "
                               f"{loss}. Terminating training immediately.")
        print(f"Batch {batch}: Invalid loss, terminating training")
        self.model.stop_training = True


class CSVLogger(Callback):
    """Write each epoch's logs as a CSV row: 'epoch', then the log names sorted.

    Args:
        filename: the CSV file.
        separator: the field separator.
        append: add to an existing file (no second header) instead of overwriting it.

    Example:
        >>> import os, tempfile
        >>> path = os.path.join(tempfile.mkdtemp(), "log.csv")
        >>> model = tinydl.Sequential([tinydl.Input((2,)), tinydl.layers.Dense(1)])
        >>> model.compile("sgd", "mse", metrics=["mae"])
        >>> x, y = np.zeros((8, 2), "float32"), np.zeros((8, 1), "float32")
        >>> _ = model.fit(x, y, epochs=2, batch_size=4, verbose=0, callbacks=[CSVLogger(path)])
        >>> print(open(path).read().strip())
        epoch,loss,mae
        0,0.0,0.0
        1,0.0,0.0
    """

    def __init__(self, filename, separator: str = ",", append: bool = False):
        super().__init__()
        self.filename, self.separator, self.append = os.fspath(filename), separator, append
        self.keys, self.file, self.writer = None, None, None

    def on_train_begin(self, logs=None):
        has_rows = self.append and os.path.exists(self.filename) and os.path.getsize(self.filename) > 0
        self.file = open(self.filename, "a" if self.append else "w", newline="")
        self.keys, self.writer, self._header = None, None, not has_rows

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.keys is None:
            self.keys = sorted(logs)
            self.writer = csv.DictWriter(self.file, fieldnames=["epoch"] + self.keys,
                                         delimiter=self.separator)
            if self._header:
                self.writer.writeheader()
        self.writer.writerow({"epoch": epoch, **{k: logs.get(k, "NA") for k in self.keys}})
        self.file.flush()

    def on_train_end(self, logs=None):
        if self.file is not None:
            self.file.close()
            self.file = None


class ReduceLROnPlateau(Callback):
    """Multiply the learning rate by `factor` when `monitor` stops improving for `patience` epochs.

    After a reduction, `cooldown` epochs pass before counting again. The rate is logged as
    'learning_rate'.

    Args:
        monitor: a key of the epoch logs.
        factor: the multiplier, < 1 (Keras' default 0.1).
        patience: epochs without improvement before a reduction (10).
        verbose: 1 prints each reduction.
        mode: 'auto', 'min' or 'max', as EarlyStopping.
        min_delta: smallest change that counts as an improvement (1e-4).
        cooldown: epochs to wait after a reduction (0).
        min_lr: the rate is never reduced below it (0).

    Raises:
        ValueError: factor >= 1, or an unknown mode.

    Example:
        A loss stuck at 0 never improves after epoch 0, so with patience=1 the rate is halved
        at the end of every later epoch (the log shows the rate the epoch trained with):

        >>> model = tinydl.Sequential([tinydl.Input((2,)), tinydl.layers.Dense(1)])
        >>> model.compile(tinydl.optimizers.SGD(0.1), "mse")
        >>> x, y = np.zeros((8, 2), "float32"), np.zeros((8, 1), "float32")
        >>> plateau = ReduceLROnPlateau(monitor="loss", factor=0.5, patience=1)
        >>> history = model.fit(x, y, epochs=3, batch_size=4, verbose=0, callbacks=[plateau])
        >>> history.history["learning_rate"], float(model.optimizer.learning_rate)
        ([0.1, 0.1, 0.05], 0.025)
    """

    def __init__(self, monitor: str = "val_loss", factor: float = 0.1, patience: int = 10,
                 verbose: int = 0, mode: str = "auto", min_delta: float = 1e-4, cooldown: int = 0,
                 min_lr: float = 0.0):
        super().__init__()
        if factor >= 1.0:
            raise ValueError(f"ReduceLROnPlateau: factor must be < 1. Received: factor={factor}")
        self.monitor, self.factor, self.patience, self.verbose = monitor, factor, patience, verbose
        self.mode = _monitor_mode(mode, monitor, "ReduceLROnPlateau")
        self.min_delta, self.cooldown, self.min_lr = abs(min_delta), cooldown, min_lr

    def on_train_begin(self, logs=None):
        self.best, self.wait, self.cooldown_counter = None, 0, 0

    def on_epoch_end(self, epoch, logs=None):
        logs = logs if logs is not None else {}
        logs["learning_rate"] = float(self.model.optimizer.learning_rate)
        value = logs.get(self.monitor)
        if value is None:
            return
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.wait = 0
        if self.best is None or (value < self.best - self.min_delta if self.mode == "min"
                                 else value > self.best + self.min_delta):
            self.best, self.wait = value, 0
        elif self.cooldown_counter <= 0:
            self.wait += 1
            if self.wait >= self.patience:
                old = float(self.model.optimizer.learning_rate)
                if old > self.min_lr:
                    new = max(old * self.factor, self.min_lr)
                    self.model.optimizer.learning_rate = new
                    if self.verbose > 0:
                        print(f"\nEpoch {epoch + 1}: ReduceLROnPlateau reducing learning rate to {new}.")
                    self.cooldown_counter, self.wait = self.cooldown, 0


class Profiler(Callback):
    """Profile a few training steps of a real fit with tinydl.profile().

    This is Keras' TensorBoard `profile_batch` idea: batches start..stop-1 of the first epoch,
    counted from 0.

    Args:
        batches: (start, stop) of the profiled training batches; the default skips the first
            batch (it builds layers and warms caches).
        path: when given, the Chrome trace is written there at the end (open in Perfetto).
        print_table: print prof.table() when profiling ends.

    Attributes:
        profile: the tinydl.profiler.Profile, once profiling ended.

    Raises:
        ValueError: batches is not (start, stop) with 0 <= start < stop.

    Example:
        >>> model = tinydl.Sequential([tinydl.Input((2,)), tinydl.layers.Dense(1, name="out")])
        >>> model.compile("sgd", "mse")
        >>> x, y = np.zeros((16, 2), "float32"), np.zeros((16, 1), "float32")
        >>> cb = tinydl.callbacks.Profiler(batches=(1, 3))
        >>> _ = model.fit(x, y, batch_size=4, verbose=0, callbacks=[cb])
        >>> dense_ops = [e for e in cb.profile.events if e.name == "Dense" and e.kind == "forward"]
        >>> len(dense_ops), dense_ops[0].layer      # one fused Dense op per profiled batch
        (2, 'out')
    """

    def __init__(self, batches=(1, 6), path=None, print_table: bool = False):
        super().__init__()
        start, stop = (int(b) for b in batches)
        if not 0 <= start < stop:
            raise ValueError(f"Profiler: batches must be (start, stop) with 0 <= start < stop, "
                             f"Received: batches={batches!r}")
        self.start, self.stop, self.path, self.print_table = start, stop, path, print_table
        self.profile, self._block, self._done = None, None, False

    def on_train_batch_begin(self, batch, logs=None):
        if not self._done and self._block is None and batch == self.start:
            from tinydl import profiler
            self._block = profiler.profile()
            self.profile = self._block.__enter__()

    def on_train_batch_end(self, batch, logs=None):
        if self._block is not None and batch + 1 >= self.stop:
            self._finish()

    def on_epoch_end(self, epoch, logs=None):
        if self._block is not None:  # the epoch had fewer batches than stop
            self._finish()

    def on_train_end(self, logs=None):
        if self._block is not None:
            self._finish()

    def _finish(self):
        self._block.__exit__(None, None, None)
        self._block, self._done = None, True
        if self.path:
            self.profile.export_chrome_trace(self.path)
        if self.print_table:
            print(self.profile.table())


from tinydl import keras_names  # noqa: E402

__getattr__ = keras_names.missing(__name__, "callbacks")  # a Keras name tinydl lacks: a clear error
