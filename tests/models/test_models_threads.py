"""Models used from several threads: predict in some while fit runs in another, each as if alone.

The oracle is the same work run serially: every training step must change the weights, and the
losses, final weights and predictions must equal those of the serial run bit for bit (both runs
use the same thread count: each runs in a fresh thread).
"""

from __future__ import annotations

import sys
import threading
import time

import numpy as np
import pytest

import tinydl
from tinydl import callbacks, layers
from tinydl.layers import BatchNormalization, Conv2D, Dense, Dropout, Flatten, MaxPooling2D
from tinydl.models import Sequential
from tinydl.utils import set_random_seed

TIMEOUT = 60


def run_in_thread(fn, *args):
    """Start fn(*args) in a new thread; returns (thread, result dict with 'value' or 'error')."""
    result = {}

    def run():
        try:
            result["value"] = fn(*args)
        except BaseException as error:  # noqa: BLE001  (re-raised by join_result)
            result["error"] = error
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, result


def join_result(thread, result):
    thread.join(timeout=TIMEOUT)
    assert not thread.is_alive(), "thread did not finish"
    if "error" in result:
        raise result["error"]
    return result.get("value")


def image_classifier():
    """Conv2D + MaxPooling2D (the fused native path), BatchNormalization and Dense: for predict."""
    set_random_seed(3)
    model = Sequential([Conv2D(8, 3, activation="relu", input_shape=(12, 12, 3)),
                        MaxPooling2D(2), BatchNormalization(), Flatten(),
                        Dense(10, activation="softmax")])
    model.build()
    for weight in (model.layers[2].moving_mean, model.layers[2].moving_variance):
        weight.assign(np.random.default_rng(4).uniform(0.5, 1.5, weight.shape))
    return model


def mlp(seed=1):
    """Dense + Dropout (drawing from the global generator) + softmax Dense: for fit."""
    set_random_seed(seed)
    model = Sequential([Dense(32, activation="relu", input_shape=(20,)), Dropout(0.2),
                        Dense(3, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


class StepRecorder(callbacks.Callback):
    """Records each batch's reported loss and whether every trainable weight changed in it."""

    def __init__(self):
        super().__init__()
        self.losses, self.unchanged = [], []

    def on_train_batch_begin(self, batch, logs=None):
        self.before = [w.data.copy() for w in self.model.trainable_weights]

    def on_train_batch_end(self, batch, logs=None):
        self.losses.append(logs["loss"])
        after = [w.data for w in self.model.trainable_weights]
        self.unchanged.append([w.name for w, b, a in zip(self.model.trainable_weights, self.before,
                                                         after) if np.array_equal(b, a)])


def fit_recorded(model, x, y):
    """fit (seeded shuffling and dropout), returning (recorder, final weights)."""
    recorder = StepRecorder()
    model.fit(x, y, batch_size=32, epochs=3, shuffle=True, verbose=0, callbacks=[recorder])
    return recorder, model.get_weights()


def mlp_data():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((256, 20)).astype(np.float32)
    return x, (x[:, 0] > 0).astype(np.int64) + (x[:, 1] > 0.5)


def predict_until(model, images, expected, done: threading.Event, min_calls: int):
    """predict repeatedly until done is set (and at least min_calls times); returns
    (calls, calls whose output differed from expected)."""
    calls = mismatches = 0
    while calls < min_calls or not done.is_set():
        out = model.predict(images, batch_size=16, verbose=0)
        calls += 1
        mismatches += not np.array_equal(out, expected)
    return calls, mismatches


@pytest.fixture
def frequent_thread_switches():
    """Switch Python threads every 0.1 ms (not 5 ms) so that their steps interleave finely."""
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-4)
    yield
    sys.setswitchinterval(previous)


def test_fit_in_one_thread_while_three_threads_predict_trains_exactly_as_alone(
        backend, frequent_thread_switches):
    images = np.random.default_rng(5).standard_normal((48, 12, 12, 3)).astype(np.float32)
    x, y = mlp_data()
    predictor = image_classifier()
    expected = join_result(*run_in_thread(predictor.predict, images, 16, 0))

    alone = mlp()
    set_random_seed(7)
    serial, serial_weights = join_result(*run_in_thread(fit_recorded, alone, x, y))

    model = mlp()
    set_random_seed(7)  # nothing else draws from the generator: predict does not
    done = threading.Event()
    predictors = [run_in_thread(predict_until, predictor, images, expected, done, 3)
                  for _ in range(3)]
    try:
        recorder, weights = join_result(*run_in_thread(fit_recorded, model, x, y))
    finally:
        done.set()
        counts = [join_result(*p) for p in predictors]
    assert len(recorder.losses) == 24 and all(not names for names in recorder.unchanged), \
        f"steps that left weights unchanged: {recorder.unchanged}"
    assert recorder.losses == serial.losses
    for got, want in zip(weights, serial_weights):
        np.testing.assert_array_equal(got, want)
    assert all(mismatches == 0 for _, mismatches in counts), counts


class PredictGate(callbacks.Callback):
    """Holds a predict at its first batch until `release` is set, after setting `entered`."""

    def __init__(self, entered: threading.Event, release: threading.Event):
        super().__init__()
        self.entered, self.release = entered, release

    def on_predict_batch_begin(self, batch, logs=None):
        if batch == 0:
            self.entered.set()
            assert self.release.wait(timeout=TIMEOUT)


def test_fit_trains_after_two_threads_predicted_with_interleaved_no_grad_blocks():
    """Thread A starts predicting, B starts, A finishes, B finishes: with one process-wide
    no_grad flag, B restored A's 'off' and every later fit step was skipped."""
    model, x, y = mlp(), *mlp_data()
    a_in, b_in, a_done, free = (threading.Event() for _ in range(4))
    free.set()
    a = run_in_thread(model.predict, x, 32, 0, None, [PredictGate(a_in, b_in)])
    assert a_in.wait(timeout=TIMEOUT)
    b = run_in_thread(model.predict, x, 32, 0, None, [PredictGate(b_in, a_done)])
    join_result(*a)
    a_done.set()
    join_result(*b)
    recorder, _ = fit_recorded(model, x, y)
    assert all(not names for names in recorder.unchanged), recorder.unchanged


class GatedDense(Dense):
    """A Dense whose training call waits, mid-step, until another thread has predicted."""

    def __init__(self, units, **kwargs):
        super().__init__(units, **kwargs)
        self.in_step, self.predicted = threading.Event(), threading.Event()

    def call(self, inputs, training=None):
        if training:
            self.in_step.set()
            assert self.predicted.wait(timeout=TIMEOUT)
        return super().call(inputs, training)


def test_predict_during_a_training_step_still_gets_probabilities():
    """The fused softmax path once set the last layer's activation to linear for the step, so
    a predict from another thread in that window returned logits."""
    set_random_seed(2)
    model = Sequential([Dense(8, activation="relu", input_shape=(20,)),
                        GatedDense(3, activation="softmax")])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    x, y = mlp_data()
    before = model.predict(x[:16], verbose=0)
    step = run_in_thread(model.train_on_batch, x[:32], y[:32])
    try:
        assert model.layers[-1].in_step.wait(timeout=TIMEOUT)
        during = model.predict(x[:16], verbose=0)
    finally:
        model.layers[-1].predicted.set()
    join_result(*step)
    np.testing.assert_array_equal(during, before)  # mid-forward: no weight has changed yet


class SlowBuild(layers.Layer):
    """Scales by a weight; its build takes a while, so two threads can be inside it at once."""

    def build(self, input_shape):
        time.sleep(0.05)
        self.scale = self.add_weight("scale", (input_shape[-1],), initializer="ones")

    def call(self, inputs, training=None):
        return inputs * self.scale


def test_two_threads_predicting_on_an_unbuilt_model_build_it_once():
    model = Sequential([SlowBuild(), Dense(2)])
    x = np.ones((4, 5), np.float32)
    start = threading.Barrier(2)

    def predict():
        start.wait(timeout=TIMEOUT)
        return model.predict(x, verbose=0)
    first, second = (run_in_thread(predict) for _ in range(2))
    outputs = [join_result(*first), join_result(*second)]
    assert [w.name for w in model.weights] == ["scale", "kernel", "bias"]
    np.testing.assert_array_equal(outputs[0], outputs[1])


def test_fit_inside_no_grad_raises_instead_of_reporting_losses(capsys):
    model, x, y = mlp(), *mlp_data()
    before = model.get_weights()
    with tinydl.no_grad():
        with pytest.raises(RuntimeError, match=r"^fit was called inside no_grad\(\)"):
            model.fit(x, y, epochs=2, verbose=1)
        with pytest.raises(RuntimeError, match=r"^train_on_batch was called inside no_grad\(\)"):
            model.train_on_batch(x[:32], y[:32])
    assert capsys.readouterr().out == ""  # refused before the progress bar printed anything
    for got, want in zip(model.get_weights(), before):
        np.testing.assert_array_equal(got, want)
    model.fit(x, y, epochs=1, verbose=0)  # and outside the block it trains
    assert not np.array_equal(model.get_weights()[0], before[0])
