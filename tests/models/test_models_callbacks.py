"""Callbacks: the hooks fit calls, EarlyStopping, ModelCheckpoint, LearningRateScheduler,
TerminateOnNaN, CSVLogger and ReduceLROnPlateau, with Keras' semantics."""

from __future__ import annotations

import csv

import numpy as np
import pytest

import tinydl
from tinydl import callbacks
from tinydl.layers import Dense, Lambda
from tinydl.models import Sequential
from tinydl.utils import set_random_seed


def model_and_data(optimizer="sgd", n=64):
    set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, 3)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64)
    model = Sequential([Dense(2, activation="softmax", input_shape=(3,))])
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model, x, y


class Scripted(callbacks.Callback):
    """Replaces the monitored value at each epoch end with the next scripted one (runs first)."""

    def __init__(self, values, key="val_loss"):
        super().__init__()
        self.values, self.key, self.calls = list(values), key, []

    def on_epoch_end(self, epoch, logs=None):
        logs[self.key] = self.values[epoch]
        self.model.layers[0].bias.assign(np.full(2, epoch, np.float32))  # tag the weights with the epoch

    def on_train_begin(self, logs=None):
        self.calls.append("train_begin")

    def on_train_batch_end(self, batch, logs=None):
        self.calls.append(("batch", batch, sorted(logs)))


def test_hooks_are_called_with_running_logs():
    model, x, y = model_and_data()
    script = Scripted([0.0] * 2)
    model.fit(x, y, epochs=2, batch_size=32, callbacks=[script], verbose=0)
    assert script.calls[0] == "train_begin"
    assert script.calls[1:] == [("batch", b, ["accuracy", "loss"]) for b in (0, 1)] * 2
    assert script.params["epochs"] == 2 and script.model is model


def test_early_stopping_patience_and_restore_best_weights():
    model, x, y = model_and_data()
    #            epoch: 0    1    2    3    4    5    6    7
    script = Scripted([1.0, 0.5, 0.6, 0.4, 0.45, 0.41, 0.5, 0.3])
    stop = callbacks.EarlyStopping(monitor="val_loss", patience=3, restore_best_weights=True)
    history = model.fit(x, y, epochs=8, callbacks=[script, stop], verbose=0)
    # best 0.4 at epoch 3; epochs 4, 5, 6 do not improve -> stop at the end of epoch 6
    assert history.epoch == [0, 1, 2, 3, 4, 5, 6]
    assert stop.stopped_epoch == 6 and stop.best_epoch == 3
    np.testing.assert_array_equal(model.layers[0].bias.data, [3.0, 3.0])


def test_early_stopping_min_delta_mode_and_baseline():
    model, x, y = model_and_data()
    script = Scripted([0.5, 0.55, 0.58, 0.9], key="val_accuracy")
    stop = callbacks.EarlyStopping(monitor="val_accuracy", patience=1, min_delta=0.1)
    assert stop.mode == "max"
    history = model.fit(x, y, epochs=4, callbacks=[script, stop], verbose=0)
    assert history.epoch == [0, 1]       # +0.05 is below min_delta
    model, x, y = model_and_data()
    stop = callbacks.EarlyStopping(monitor="val_loss", patience=2, baseline=0.1)
    history = model.fit(x, y, epochs=5, callbacks=[Scripted([0.5, 0.6, 0.3, 0.2, 0.05]), stop],
                        verbose=0)
    # epoch 0 is the best so far but misses the baseline, so `wait` is not reset (Keras 3):
    # after epoch 1 it is 2 = patience
    assert history.epoch == [0, 1]


def test_model_checkpoint_save_best_only(tmp_path):
    model, x, y = model_and_data()
    path = str(tmp_path / "ckpt-{epoch:02d}-{val_loss:.2f}.weights.tinydl")
    checkpoint = callbacks.ModelCheckpoint(path, monitor="val_loss", save_best_only=True,
                                           save_weights_only=True)
    model.fit(x, y, epochs=4, callbacks=[Scripted([0.9, 0.5, 0.7, 0.3]), checkpoint], verbose=0)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "ckpt-01-0.90.weights.tinydl", "ckpt-02-0.50.weights.tinydl", "ckpt-04-0.30.weights.tinydl"]
    model.load_weights(tmp_path / "ckpt-02-0.50.weights.tinydl")
    np.testing.assert_array_equal(model.layers[0].bias.data, [1.0, 1.0])


def test_model_checkpoint_every_epoch(tmp_path):
    model, x, y = model_and_data()
    model.fit(x, y, epochs=2, verbose=0,
              callbacks=[callbacks.ModelCheckpoint(str(tmp_path / "w{epoch}.tinydl"))])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["w1.tinydl", "w2.tinydl"]


def test_learning_rate_scheduler_changes_the_rate():
    model, x, y = model_and_data()
    seen = []
    scheduler = callbacks.LearningRateScheduler(lambda epoch, lr: 0.1 / (epoch + 1))

    class Record(callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            seen.append(self.model.optimizer.learning_rate)

    history = model.fit(x, y, epochs=3, callbacks=[scheduler, Record()], verbose=0)
    assert seen == pytest.approx([0.1, 0.05, 0.1 / 3])
    assert history.history["learning_rate"] == pytest.approx(seen)


def test_terminate_on_nan_stops_after_the_bad_batch(capsys):
    model, x, y = model_and_data()
    x[40:] = np.nan                                    # the second batch of 32 is NaN
    batches = []

    class Count(callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            batches.append(batch)

    history = model.fit(x, y, epochs=3, batch_size=32, shuffle=False, verbose=0,
                        callbacks=[callbacks.TerminateOnNaN(), Count()])
    assert batches == [0, 1] and history.epoch == [0]
    assert "Invalid loss, terminating training" in capsys.readouterr().out


def test_terminate_on_nan_raise_error_raises_at_the_bad_batch():
    model, x, y = model_and_data()
    x[40:] = np.nan
    with pytest.raises(RuntimeError, match="NaN or Inf loss encountered at batch 1"):
        model.fit(x, y, epochs=3, batch_size=32, shuffle=False, verbose=0,
                  callbacks=[callbacks.TerminateOnNaN(raise_error=True)])


def log_model_and_data():
    """Dense (all-ones kernel) -> log -> softmax Dense; the second batch of 16 goes negative
    before the log, so its loss is NaN."""
    set_random_seed(0)
    with np.errstate(divide="ignore"):  # building probes the Lambda with zeros: log(0)
        model = Sequential([Dense(4, kernel_initializer="ones", input_shape=(3,)),
                            Lambda(lambda t: t.log(), name="log"), Dense(2, activation="softmax")])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    x = np.random.default_rng(0).uniform(0.5, 1.0, (48, 3)).astype(np.float32)
    x[16:32] *= -1
    return model, x, (x[:, 0] > 0.75).astype(np.int64)


def test_terminate_on_nan_stops_at_the_batch_detect_anomaly_names(capsys):
    model, x, y = log_model_and_data()
    with np.errstate(divide="ignore", invalid="ignore"):
        history = model.fit(x, y, epochs=2, batch_size=16, shuffle=False, verbose=0,
                            callbacks=[callbacks.TerminateOnNaN()])
    assert history.epoch == [0] and np.isnan(history.history["loss"][0])
    assert "Batch 1: Invalid loss, terminating training" in capsys.readouterr().out

    model, x, y = log_model_and_data()
    seen = []

    class Batches(callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            seen.append((batch, self.model.get_weights()))
    with np.errstate(divide="ignore", invalid="ignore"), tinydl.detect_anomaly(), \
            pytest.raises(tinydl.AnomalyError) as caught:
        model.fit(x, y, epochs=2, batch_size=16, shuffle=False, verbose=0,
                  callbacks=[callbacks.TerminateOnNaN(), Batches()])
    error = caught.value
    assert (error.op, error.layer, error.phase) == ("Log", "log", "forward")
    assert "produced 64 NaN of 64 values in its output (shape (16, 4))" in str(error)
    assert [batch for batch, _ in seen] == [0]  # it stopped inside batch 1, before its step
    for got, want in zip(model.get_weights(), seen[0][1]):
        np.testing.assert_array_equal(got, want)


def test_callbacks_may_be_one_callback_or_nested_lists_as_in_keras():
    model, x, y = model_and_data()
    history = callbacks.History()
    assert model.fit(x, y, epochs=2, verbose=0, callbacks=history) is history
    assert history.epoch == [0, 1] and model.history is history
    counted = []

    class Count(callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            counted.append(epoch)
    model.fit(x, y, epochs=1, verbose=0, callbacks=[[Count()], (Count(),)])
    assert counted == [0, 0]


def test_callbacks_that_are_not_callbacks_are_named_in_the_error():
    model, x, y = model_and_data()
    with pytest.raises(TypeError, match=r"callbacks must be tinydl.callbacks.Callback instances"
                                        r".* Received: builtin_function_or_method"):
        model.fit(x, y, epochs=1, verbose=0, callbacks=print)
    with pytest.raises(TypeError, match="Received: str 'stop'"):
        model.evaluate(x, y, verbose=0, callbacks=[callbacks.History(), "stop"])


def test_on_batch_end_keras_older_name_is_called_for_each_training_batch():
    model, x, y = model_and_data()
    calls = []

    class Old(callbacks.Callback):
        def on_batch_begin(self, batch, logs=None):
            calls.append(("begin", batch))

        def on_batch_end(self, batch, logs=None):
            calls.append(("end", batch, "loss" in logs))
    model.fit(x, y, epochs=1, batch_size=32, verbose=0, callbacks=[Old()])
    assert calls == [("begin", 0), ("end", 0, True), ("begin", 1), ("end", 1, True)]


def test_csv_logger_writes_one_row_per_epoch(tmp_path):
    model, x, y = model_and_data()
    path = tmp_path / "log.csv"
    model.fit(x, y, epochs=3, validation_split=0.25, verbose=0,
              callbacks=[callbacks.CSVLogger(path)])
    model.fit(x, y, epochs=2, verbose=0, callbacks=[callbacks.CSVLogger(path, append=True)])
    rows = list(csv.reader(path.open()))
    assert rows[0] == ["epoch", "accuracy", "loss", "val_accuracy", "val_loss"]
    assert [r[0] for r in rows[1:]] == ["0", "1", "2", "0", "1"]
    assert float(rows[1][2]) > 0


def test_reduce_lr_on_plateau():
    model, x, y = model_and_data(optimizer="adam")
    reduce = callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=1)
    history = model.fit(x, y, epochs=4, verbose=0,
                        callbacks=[Scripted([1.0, 1.0, 1.0, 0.5]), reduce])
    # the rate is logged before this epoch's reduction, as Keras does
    assert history.history["learning_rate"] == pytest.approx([0.001, 0.001, 0.0005, 0.00025])
    assert model.optimizer.learning_rate == pytest.approx(0.00025)


def test_bad_callbacks():
    model, x, y = model_and_data()
    with pytest.raises(TypeError, match="Callback instances"):
        model.fit(x, y, callbacks=[print], verbose=0)
    with pytest.raises(ValueError, match="mode='up'"):
        callbacks.EarlyStopping(mode="up")
