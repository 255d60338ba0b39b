"""The Keras-style API issue, requirement by requirement: the seed program, bad input, a CNN on
digits' fixed split, whole-CNN gradient checks, Keras' numerics and defaults, reproducibility,
data sources and progress output, custom layers, the fused softmax path, and import order.

Requirements already pinned elsewhere are named in the test that covers them:
  optimizer updates step by step ... tests/optimizers/test_optimizers_updates.py
  layer shapes / parameter counts .. tests/layers/test_shapes_and_params.py
  callbacks' behaviour ............. tests/models/test_models_callbacks.py
"""

from __future__ import annotations

import io
import itertools
import subprocess
import sys

import numpy as np
import pytest

from tinydl import callbacks, layers, losses
from tinydl.datasets import cifar10_sample, digits
from tinydl.layers import Conv2D, Dense, Dropout, Flatten, Lambda, Layer, MaxPooling2D
from tinydl.models import Sequential
from tinydl.progbar import Progbar
from tinydl.utils import gradcheck, set_random_seed

RNG = np.random.default_rng(0)


def seed_model():
    """The issue's program, layer for layer."""
    return Sequential([
        Conv2D(32, (3, 3), activation='relu', input_shape=(32, 32, 3)),
        MaxPooling2D((2, 2)),
        Conv2D(64, (3, 3), activation='relu'),
        MaxPooling2D((2, 2)),
        Conv2D(128, (3, 3), activation='relu'),
        MaxPooling2D((2, 2)),
        Flatten(),
        Dense(128, activation='relu'),
        Dense(10, activation='softmax'),
    ])


def small_cnn(units=3, activation="softmax", seed=0):
    set_random_seed(seed)
    return Sequential([Conv2D(2, (2, 3), activation="tanh", input_shape=(5, 6, 2)),
                       MaxPooling2D(2), Flatten(), Dense(units, activation=activation)])


# ---------------------------------------------------------------- 1. the seed program
def test_seed_program_runs_end_to_end_on_uint8_cifar(capsys):
    (x_train, y_train), (x_test, y_test) = cifar10_sample.load_data()
    x_train, y_train, x_test, y_test = x_train[:256], y_train[:256], x_test[:128], y_test[:128]
    assert x_train.dtype == np.uint8 and y_train.shape == (256, 1) and y_train.dtype == np.uint8
    set_random_seed(0)
    model = seed_model()
    model.compile(optimizer='adam', loss='sparse_categorical_crossentropy', metrics=['accuracy'])
    history = model.fit(x_train, y_train, epochs=1, validation_data=(x_test, y_test))
    test_loss, test_acc = model.evaluate(x_test, y_test)
    assert set(history.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert np.isfinite(test_loss) and 0.0 <= test_acc <= 1.0
    assert test_loss == pytest.approx(history.history["val_loss"][0], rel=1e-5)
    assert type(model._metrics[0]).__name__ == "SparseCategoricalAccuracy"   # (N, 1) labels
    assert model._fused_kind() == "softmax"
    capsys.readouterr()
    model.summary()
    text = capsys.readouterr().out
    # Keras 3 prints these three lines for this model (float32: 4 bytes a parameter, KB = 1024 B)
    for line in ("Total params: 160,202 (625.79 KB)", "Trainable params: 160,202 (625.79 KB)",
                 "Non-trainable params: 0 (0.00 B)"):
        assert line in text, line
    for row in ("(None, 30, 30, 32)", "(None, 15, 15, 32)", "(None, 2, 2, 128)", "(None, 512)",
                "18,496", "73,856", "65,664", "1,290"):
        assert row in text, row


# ---------------------------------------------------------------- 2. bad input
def compiled_cnn(loss="sparse_categorical_crossentropy"):
    model = small_cnn()
    model.compile(optimizer="adam", loss=loss, metrics=["accuracy"])
    return model


X = RNG.standard_normal((8, 5, 6, 2)).astype(np.float32)
Y = np.array([0, 1, 2, 0, 1, 2, 0, 1])


@pytest.mark.parametrize("call,error,match", [
    (lambda m: m.fit(X[..., :1], Y, verbose=0), ValueError,
     r"expected input of shape \(None, 5, 6, 2\), got \(8, 5, 6, 1\)"),
    (lambda m: m.evaluate(X[:, :, :5], Y, verbose=0), ValueError,
     r"expected input of shape \(None, 5, 6, 2\), got \(8, 5, 5, 2\)"),
    (lambda m: m.predict(X[..., 0], verbose=0), ValueError,
     r"expected input of shape \(None, 5, 6, 2\), got \(8, 5, 6\)"),
    (lambda m: m.fit(X, Y[:7], verbose=0), ValueError, r"x with 8 .*y with 7"),
    (lambda m: m.fit(X, (Y + 1)[:, None].astype(np.uint8), verbose=0), ValueError,
     r"labels must be integers in \[0, 3\).*from 1 to 3"),
    (lambda m: m.fit(X, Y - 1, verbose=0), ValueError, r"\[0, 3\).*from -1 to 1"),
    (lambda m: m.fit(X, Y, validation_data=(X, Y + 5), verbose=0), ValueError,
     r"\[0, 3\).*from 5 to 7"),
    (lambda m: m.fit(X, np.eye(3)[Y], verbose=0), ValueError,
     r"integer labels of shape \(N,\).*got y of shape \(8, 3\)"),
])
def test_bad_input_raises_before_any_work(call, error, match):
    model = compiled_cnn()
    before = model.get_weights()
    with pytest.raises(error, match=match):
        call(model)
    assert model.optimizer.iterations == 0
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_onehot_of_the_wrong_width():
    model = compiled_cnn("categorical_crossentropy")
    with pytest.raises(ValueError, match=r"one-hot targets of shape \(N, 3\).*got y of shape \(8, 4\)"):
        model.fit(X, np.eye(4)[Y], verbose=0)
    assert model.optimizer.iterations == 0


@pytest.mark.parametrize("make,match", [
    (lambda: compiled_cnn().compile(optimizer="adamx", loss="mse"),
     r"unknown optimizer 'adamx'; valid names: \[.*'adam', 'adamax', .*'sgd'\]"),
    (lambda: compiled_cnn().compile(optimizer="adam", loss="crossentropy"),
     r"unknown loss 'crossentropy'; valid names: \[.*'sparse_categorical_crossentropy'"),
    (lambda: compiled_cnn().compile(optimizer="adam", loss="mse", metrics=["acuracy"]),
     r"unknown metric 'acuracy'; valid names: \[.*'accuracy'"),
    (lambda: Dense(3, activation="rellu"),
     r"unknown activation 'rellu'; valid names: \[.*'linear', .*'relu', .*'sigmoid', .*'tanh'.*\]"),
    (lambda: layers.Activation("swish!"), r"unknown activation 'swish!'; valid names"),
    (lambda: Conv2D(3, 3, padding="full"), r"padding must be one of \('valid', 'same'\)\. Received: padding='full'"),
    (lambda: MaxPooling2D(2, padding="SAME!"), r"padding must be one of .*Received: padding='SAME!'"),
])
def test_unknown_names_list_the_valid_ones(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_fit_before_compile_is_a_clear_runtime_error():
    model = small_cnn()
    for call in (lambda: model.fit(X, Y, verbose=0), lambda: model.evaluate(X, Y, verbose=0),
                 lambda: model.train_on_batch(X, Y)):
        with pytest.raises(RuntimeError, match=r"You must compile the model before calling "
                                               r"(fit|evaluate|train_on_batch)\(\).*model\.compile\("):
            call()


# ---------------------------------------------------------------- 3. convergence on digits
def digits_cnn():
    """Keras' MNIST-example CNN, scaled to 8x8 inputs: two 'same' convolutions, one pooling,
    dropout after the convolutions and before the classifier (1.3 M MACs per sample)."""
    return [Conv2D(32, 3, activation="relu", padding="same", input_shape=(8, 8, 1)),
            Conv2D(64, 3, activation="relu", padding="same"), MaxPooling2D(), Dropout(0.25),
            Flatten(), Dense(128, activation="relu"), Dropout(0.5), Dense(10, activation="softmax")]


def test_small_cnn_reaches_95_percent_on_the_fixed_digits_split():
    """The bundled loader's own split: first 1,437 rows to train, last 360 to test.

    The last rows are digits of writers the first rows barely cover, so this is harder than a
    random split: a logistic regression gets ~87%, an MLP ~90%, and the issue's suggested
    Conv(16)-Pool-Conv(32)-Dense(64) CNN without dropout plateaus at 91-94% (PyTorch with the
    same recipe: 91-94% over 5 seeds; 3-NN on raw pixels: 96.7%). What lifts a CNN above 95% is
    dropout and width: this model reaches 94.4-96.1% after 20 epochs over seeds 0-5 (PyTorch:
    95-96.7% over 5), about 4 s each. One seed's run is one draw of that spread (seed 0 gave
    96.7% with the NumPy dropout masks and 94.4% with the counter-based ones, whose seeds 1-5
    give 95.3-96.1%), so the claim is the median of seeds 0-2: 95.3% now, 95.6% before.
    """
    (x_train, y_train), (x_test, y_test) = digits.load_data()
    x_train, x_test = (x_train / 16.0)[..., None], (x_test / 16.0)[..., None]
    accuracies = []
    for seed in range(3):
        set_random_seed(seed)
        model = Sequential(digits_cnn())
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                      metrics=["accuracy"])
        model.fit(x_train, y_train, epochs=20, batch_size=32, verbose=0)
        accuracies.append(model.evaluate(x_test, y_test, verbose=0)[1])
    assert np.median(accuracies) >= 0.95, f"held-out accuracies {accuracies} on digits' split"
    assert min(accuracies) >= 0.93, f"held-out accuracies {accuracies} on digits' split"


# ---------------------------------------------------------------- 4. whole-CNN gradient check
def _check_cnn_gradients(model, loss, y):
    """gradcheck over every weight of the model: the checked function installs float64 copies
    as the layers' kernel / bias attributes and runs the real training loss (fused or not)."""
    model.compile(optimizer="sgd", loss=loss)
    x = RNG.standard_normal((4, 5, 6, 2))
    slots = [(layer, name) for layer in model.layers for name in ("kernel", "bias")
             if getattr(layer, name, None) is not None]
    saved = [getattr(layer, name) for layer, name in slots]

    def total_loss(*weights):
        for (layer, name), w in zip(slots, weights):
            setattr(layer, name, w)
        _, value = model._forward_and_loss(x, y, None, training=True)
        return value

    try:
        assert gradcheck(total_loss, *[np.asarray(w.data, np.float64) for w in saved],
                         atol=1e-6, rtol=1e-4)
    finally:
        for (layer, name), w in zip(slots, saved):
            setattr(layer, name, w)


@pytest.mark.parametrize("loss,activation,y,fused", [
    ("sparse_categorical_crossentropy", "softmax", np.array([0, 2, 1, 2]), "softmax"),
    ("categorical_crossentropy", "softmax", np.eye(3)[[0, 2, 1, 1]], "softmax"),
    ("sparse_categorical_crossentropy", "softmax", np.array([[1], [0], [2], [2]]), "softmax"),
    ("binary_crossentropy", "sigmoid", np.array([[1, 0, 1], [0, 0, 1], [1, 1, 0], [0, 1, 0]]),
     "sigmoid"),
    ("mse", None, RNG.standard_normal((4, 3)), None),
    ("mae", "tanh", RNG.standard_normal((4, 3)), None),
    (losses.SparseCategoricalCrossentropy(from_logits=True), None, np.array([2, 0, 1, 1]), None),
])
def test_whole_cnn_gradients_match_finite_differences(loss, activation, y, fused):
    model = small_cnn(3, activation, seed=3)
    model.compile(optimizer="sgd", loss=loss)
    assert model._fused_kind() == fused
    _check_cnn_gradients(model, loss, y)


# ---------------------------------------------------------------- 5. Keras numerics and defaults
def test_batch_normalization_defaults_momentum_099_epsilon_1e3():
    layer = layers.BatchNormalization()
    assert layer.momentum == 0.99 and layer.epsilon == 1e-3
    x = RNG.standard_normal((16, 4)).astype(np.float32) * 3 + 1
    y = layer(x, training=True).data
    mean, var = x.mean(0), x.var(0)
    np.testing.assert_allclose(y, (x - mean) / np.sqrt(var + 1e-3), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(layer.moving_mean.data, 0.01 * mean, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(layer.moving_variance.data, 0.99 + 0.01 * var, rtol=1e-5)
    np.testing.assert_allclose(layer(x, training=False).data,
                               (x - layer.moving_mean.data) / np.sqrt(layer.moving_variance.data + 1e-3),
                               rtol=1e-4, atol=1e-5)


def test_max_pooling_strides_default_to_the_pool_size():
    layer = MaxPooling2D((2, 3))
    assert layer.strides == (2, 3)
    assert MaxPooling2D().pool_size == (2, 2) and MaxPooling2D().strides == (2, 2)
    x = np.arange(2 * 6 * 6 * 1, dtype=np.float32).reshape(2, 6, 6, 1)
    out = layer(x).data
    assert out.shape == (2, 3, 2, 1) and layer.compute_output_shape((None, 6, 6, 1)) == (None, 3, 2, 1)
    np.testing.assert_array_equal(out, x.reshape(2, 3, 2, 2, 3, 1).max(axis=(2, 4)))


def test_early_stopping_defaults_monitor_val_loss_patience_0():
    stop = callbacks.EarlyStopping()
    assert stop.monitor == "val_loss" and stop.patience == 0 and stop.min_delta == 0
    assert stop.restore_best_weights is False

    class Script(callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            logs["val_loss"] = [1.0, 0.8, 0.9, 0.5][epoch]

    set_random_seed(0)
    model = Sequential([Dense(2, activation="softmax", input_shape=(3,))])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    x, y = RNG.standard_normal((8, 3)), np.array([0, 1] * 4)
    history = model.fit(x, y, epochs=4, callbacks=[Script(), stop], verbose=0)
    assert history.epoch == [0, 1, 2] and stop.stopped_epoch == 2   # first epoch that is no better


@pytest.mark.parametrize("y_shape", [(12,), (12, 1)])
@pytest.mark.parametrize("dtype", [np.int64, np.uint8, np.float32])
def test_accuracy_is_sparse_for_integer_labels(y_shape, dtype):
    set_random_seed(0)
    model = Sequential([Dense(4, activation="softmax", input_shape=(3,))])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    y = (np.arange(12) % 4).reshape(y_shape).astype(dtype)
    x = RNG.standard_normal((12, 3))
    _, accuracy = model.evaluate(x, y, verbose=0)
    assert type(model._metrics[0]).__name__ == "SparseCategoricalAccuracy"
    expected = (model.predict(x, verbose=0).argmax(1) == y.reshape(-1)).mean()
    assert accuracy == pytest.approx(expected)


# ---------------------------------------------------------------- 6. reproducibility
def test_same_seed_gives_bit_identical_weights_and_history():
    x = RNG.standard_normal((40, 6, 6, 1)).astype(np.float32)
    y = RNG.integers(0, 3, 40)

    def run():
        set_random_seed(11)
        model = Sequential([Conv2D(4, 3, activation="relu", input_shape=(6, 6, 1)), Dropout(0.3),
                            Flatten(), Dropout(0.5), Dense(3, activation="softmax")])
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        history = model.fit(x, y, epochs=3, batch_size=8, shuffle=True, validation_split=0.2,
                            verbose=0)
        return model.get_weights(), history.history

    (w1, h1), (w2, h2) = run(), run()
    assert h1 == h2
    for a, b in zip(w1, w2):
        np.testing.assert_array_equal(a, b)
    set_random_seed(12)
    other = Sequential([Dense(3, input_shape=(4,))])
    other.build()
    assert not np.array_equal(other.get_weights()[0], w1[0][:4, :3])  # a different seed differs


# ---------------------------------------------------------------- 7. data sources and output
class Batches:
    """A Keras PyDataset-style object: __len__, __getitem__(i) -> (x, y), on_epoch_end()."""

    def __init__(self, x, y, batch_size):
        self.x, self.y, self.batch_size, self.seen, self.epochs = x, y, batch_size, [], 0

    def __len__(self):
        return -(-len(self.x) // self.batch_size)  # noqa: PLE0303 (ceil division: positive)

    def __getitem__(self, i):
        self.seen.append(i)
        part = slice(i * self.batch_size, (i + 1) * self.batch_size)
        return self.x[part], self.y[part]

    def on_epoch_end(self):
        self.epochs += 1


def test_fit_with_a_generator_and_a_pydataset_with_steps_per_epoch(capsys):
    x, y = RNG.standard_normal((64, 5, 6, 2)).astype(np.float32), RNG.integers(0, 3, 64)

    def forever():
        for i in itertools.cycle(range(0, 64, 16)):
            yield x[i:i + 16], y[i:i + 16]

    model = compiled_cnn()
    history = model.fit(forever(), steps_per_epoch=3, epochs=2, verbose=0)
    assert model.optimizer.iterations == 6 and history.params["steps"] == 3
    dataset = Batches(x, y, 16)
    history = model.fit(dataset, steps_per_epoch=2, epochs=2, verbose=1, shuffle=False,
                        validation_data=Batches(x, y, 32))
    # [0] first: checked up front; then, as Keras, the epochs of 2 steps continue one pass of
    # the 4 batches, and on_epoch_end runs once before training and after each epoch
    assert dataset.seen == [0, 0, 1, 2, 3] and dataset.epochs == 3
    assert model.optimizer.iterations == 10
    lines = capsys.readouterr().out.splitlines()       # not a terminal: one line per epoch
    assert len(lines) == 2 and lines[1].startswith("Epoch 2/2 - 2/2 [====")
    assert " - val_loss: " in lines[1] and "\r" not in "".join(lines)
    model.fit(((x[i:i + 16], y[i:i + 16]) for i in range(0, 64, 16)), epochs=1, verbose=1)
    lines = capsys.readouterr().out.splitlines()       # unknown length: still one line
    assert len(lines) == 1 and lines[0].startswith("Epoch 1/1 - ") and " - loss: " in lines[0]


class FakeTerminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_bar_on_a_terminal_is_throttled():
    stream = FakeTerminal()
    bar = Progbar(10_000, stream=stream)                  # default interval: 0.15 s
    for step in range(1, 10_001):
        bar.update(step, {"loss": 1.0 / step})
    draws = stream.getvalue().count("\r")
    assert 1 <= draws <= 10, f"{draws} redraws for 10,000 fast steps"
    assert stream.getvalue().endswith("\n") and "10000/10000 [====" in stream.getvalue()
    assert bar.interval == 0.15


# ---------------------------------------------------------------- 8. custom layers and Lambda
class ChannelScale(Layer):
    """A user's layer written the Keras way: one weight per channel, initialized to ones."""

    def __init__(self, regularize: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.regularize = regularize

    def build(self, input_shape):
        self.alpha = self.add_weight(name="alpha", shape=(input_shape[-1],), initializer="ones",
                                     trainable=True, regularizer="l2" if self.regularize else None)

    def call(self, inputs, training=None):
        return inputs * self.alpha

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "regularize": self.regularize}


def test_custom_layer_and_lambda_train_and_summarize_like_built_ins(capsys):
    from tinydl import ops
    set_random_seed(0)
    model = Sequential([Conv2D(3, 3, activation="relu", input_shape=(5, 6, 2)),
                        ChannelScale(regularize=True, name="scale"),
                        Lambda(lambda t: ops.flatten(t * 0.5, 1), name="halve"),
                        Dense(3, activation="softmax")])
    assert model.layers[2].output_shape == (None, 36)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    x, y = RNG.standard_normal((32, 5, 6, 2)).astype(np.float32), RNG.integers(0, 3, 32)
    alpha = model.layers[1].alpha.data.copy()
    history = model.fit(x, y, epochs=5, batch_size=8, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert not np.array_equal(model.layers[1].alpha.data, alpha)          # it was trained
    assert len(model.losses) == 1                                         # its regularizer counts
    assert model.count_params() == 57 + 3 + 111
    model.summary()
    text = capsys.readouterr().out
    assert "scale (ChannelScale)" in text and "(None, 3, 4, 3)" in text
    assert "halve (Lambda)" in text and "(None, 36)" in text
    assert "Total params: 171 (684.00 B)" in text
    clone = ChannelScale.from_config(model.layers[1].get_config())
    assert clone.regularize is True and clone.name == "scale"


# ---------------------------------------------------------------- 9. the fused path, seed model
def test_seed_model_trains_on_the_fused_path_and_it_matches_the_plain_one():
    (x, y), _ = cifar10_sample.load_data()
    x, y = x[:16].astype(np.float32) / 255.0, y[:16]
    set_random_seed(0)
    model = seed_model()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    assert model._fused_kind() == "softmax"

    def loss_grads_out(fused):
        for w in model.trainable_weights:
            w.grad = None
        model._fused = "softmax" if fused else None
        out, value = model._forward_and_loss(x, y, None, training=True)
        out = out.data
        value.backward()
        return value.item(), [w.grad.copy() for w in model.trainable_weights], out

    fused_loss, fused_grads, fused_out = loss_grads_out(True)
    plain_loss, plain_grads, plain_out = loss_grads_out(False)
    model._fused = "unknown"
    assert fused_loss == pytest.approx(plain_loss, rel=1e-5)
    np.testing.assert_allclose(fused_out, plain_out, rtol=1e-5, atol=1e-7)
    for fused_g, plain_g in zip(fused_grads, plain_grads):
        scale = np.abs(plain_g).max()
        np.testing.assert_allclose(fused_g, plain_g, rtol=1e-3, atol=1e-5 * scale)
    assert model.layers[-1].activation.__name__ == "softmax"


# ---------------------------------------------------------------- 10. no import cycles
MODULES = ["models", "layers", "optimizers", "losses", "metrics", "callbacks", "datasets"]


def test_every_api_module_imports_first_in_a_fresh_process():
    orders = [MODULES, MODULES[::-1]] + [[m] + [n for n in MODULES if n != m] for m in MODULES[1:-1]]
    orders.append(["tinydl.models.sequential", "tinydl.models.training", "tinydl.layers.base"])
    processes = []
    for order in orders:
        names = [m if m.startswith("tinydl.") else "tinydl." + m for m in order]
        code = "import " + ", ".join(names) + "; from tinydl.models import Sequential; " \
               "from tinydl.layers import Conv2D, MaxPooling2D, Flatten, Dense; print('ok')"
        processes.append((order, subprocess.Popen([sys.executable, "-c", code], text=True,
                                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE)))
    for order, process in processes:
        out, err = process.communicate(timeout=60)
        assert process.returncode == 0 and out == "ok\n", f"import order {order}:\n{err}"
