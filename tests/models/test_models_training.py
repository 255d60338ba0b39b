"""Sequential's Keras API end to end: building, summary, fit / evaluate / predict, data sources,
progress output, weights files and bad input."""

from __future__ import annotations


import numpy as np
import pytest

import tinydl
from tinydl import layers
from tinydl.datasets import digits
from tinydl.layers import Dense, Dropout, Flatten
from tinydl.models import Sequential
from tinydl.utils import set_random_seed, to_categorical

def load_digits():
    """(x_train, y_train), (x_test, y_test) of the UCI 8x8 digits, x scaled to [0, 1].

    The 360 held-out samples are drawn at random (seeded) from all 1,797. The loader's fixed split
    puts other writers in its test set; a small MLP reaches only ~91% there, ~98% here.
    """
    (x_train, y_train), (x_test, y_test) = digits.load_data()
    x, y = np.concatenate([x_train, x_test]) / 16.0, np.concatenate([y_train, y_test])
    order = np.random.default_rng(0).permutation(len(x))
    x, y = x[order], y[order]
    return (x[:1437], y[:1437]), (x[1437:], y[1437:])


def small_model(seed=0, **compile_kwargs):
    set_random_seed(seed)
    model = Sequential([Dense(16, activation="relu", input_shape=(4,)), Dense(3, activation="softmax")])
    model.compile(**{"optimizer": "adam", "loss": "sparse_categorical_crossentropy",
                     "metrics": ["accuracy"], **compile_kwargs})
    return model


def toy_data(n=96, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 4)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64) + (x[:, 1] > 1)
    return x, y


# ---------------------------------------------------------------- building and summary
def test_build_count_params_and_summary(capsys):
    model = Sequential(name="mlp")
    model.add(layers.Dense(64, activation="relu", input_shape=(64,)))
    model.add(layers.Dense(10, activation="softmax"))
    assert model.built and model.output_shape == (None, 10)
    assert model.count_params() == 64 * 64 + 64 + 64 * 10 + 10
    model.summary()
    text = capsys.readouterr().out
    for piece in ('Model: "mlp"', "Layer (type)", "Output Shape", "Param #", "MACs/sample",
                  "dense", "(None, 64)", "4,160", "650", "Total params: 4,810",
                  "Trainable params: 4,810", "Non-trainable params: 0", "Total MACs per sample: 4,736"):
        assert piece in text, piece


def test_shape_from_input_layer_build_or_first_data():
    if hasattr(layers, "Input"):
        model = Sequential([layers.Input(shape=(8, 8)), Flatten(), Dense(3)])
        assert model.built and model.output_shape == (None, 3) and len(model.layers) == 2
    model = Sequential([Flatten(), Dense(3)])
    assert not model.built
    model.build((None, 2, 5))
    assert model.layers[1].kernel.shape == (10, 3)
    lazy = Sequential([Dense(3)])
    assert lazy(np.zeros((2, 7))).shape == (2, 3) and lazy.count_params() == 24
    lazy.pop()
    assert lazy.layers == []


def test_weights_order_and_set_weights_round_trip():
    model = small_model()
    names = [w.name for w in model.weights]
    assert names == ["kernel", "bias", "kernel", "bias"]
    values = [np.full(w.shape, i, np.float32) for i, w in enumerate(model.weights)]
    model.set_weights(values)
    for got, expected in zip(model.get_weights(), values):
        np.testing.assert_array_equal(got, expected)


# ---------------------------------------------------------------- training
def test_dense_model_learns_digits():
    (x_train, y_train), (x_test, y_test) = load_digits()
    set_random_seed(0)
    model = Sequential([Flatten(input_shape=(8, 8)), Dense(64, activation="relu"),
                        Dense(10, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x_train, y_train, epochs=25, batch_size=32, verbose=0)
    assert history.history["accuracy"][-1] > history.history["accuracy"][0]
    loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
    assert accuracy >= 0.95, f"held-out accuracy {accuracy:.3f}"


def test_small_cnn_learns_digits():
    (x_train, y_train), (x_test, y_test) = load_digits()
    set_random_seed(0)
    model = Sequential([layers.Conv2D(16, 3, activation="relu", input_shape=(8, 8, 1)),
                        layers.MaxPooling2D(2), Flatten(), Dense(10, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x_train[..., None], y_train, epochs=15, batch_size=32, verbose=0)
    # Measured over seeds 0-23: held-out accuracy 0.939-0.978, median 0.955 (a quarter of the
    # seeds fall below 0.95), whether weights are drawn in float32 or, as before, in float64.
    assert model.evaluate(x_test[..., None], y_test, verbose=0)[1] >= 0.93


def test_history_keys_epochs_and_params():
    x, y = toy_data()
    history = small_model().fit(x, y, epochs=3, batch_size=16, validation_split=0.25, verbose=0)
    assert set(history.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert all(len(v) == 3 for v in history.history.values())
    assert history.epoch == [0, 1, 2]
    assert history.params["epochs"] == 3 and history.params["steps"] == 5  # 72 samples / 16


def test_validation_split_holds_out_the_last_fraction():
    x, y = toy_data()
    model = small_model()
    history = model.fit(x, y, epochs=1, validation_split=0.25, verbose=0)
    val_loss, val_acc = model.evaluate(x[72:], y[72:], verbose=0)
    assert history.history["val_loss"][0] == pytest.approx(val_loss, rel=1e-6)
    assert history.history["val_accuracy"][0] == pytest.approx(val_acc)


def test_same_seed_same_training():
    x, y = toy_data()
    runs = []
    for _ in range(2):
        set_random_seed(7)
        m = Sequential([Dense(8, activation="relu", input_shape=(4,)), Dropout(0.3),
                        Dense(3, activation="softmax")])
        m.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
        runs.append(m.fit(x, y, epochs=2, batch_size=8, verbose=0).history["loss"])
    assert runs[0] == runs[1]


def test_evaluate_predict_and_batch_methods_shapes_and_types():
    x, y = toy_data()
    model = small_model()
    result = model.evaluate(x, y, verbose=0)
    assert isinstance(result, list) and len(result) == 2
    assert set(model.evaluate(x, y, verbose=0, return_dict=True)) == {"loss", "accuracy"}
    probabilities = model.predict(x, verbose=0)
    assert probabilities.shape == (96, 3) and probabilities.dtype == np.float32
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)
    assert isinstance(model.train_on_batch(x[:8], y[:8]), list)
    assert model.optimizer.iterations == 1
    assert model.predict_on_batch(x[:5]).shape == (5, 3)
    plain = small_model(metrics=None)
    assert isinstance(plain.evaluate(x, y, verbose=0), float)
    assert isinstance(plain.test_on_batch(x, y), float)


def test_default_optimizer_is_rmsprop_and_accuracy_resolves_like_keras():
    x, y = toy_data()
    model = Sequential([Dense(3, activation="softmax", input_shape=(4,))])
    model.compile(loss="categorical_crossentropy", metrics=["acc"])
    assert type(model.optimizer).__name__ == "RMSprop"
    history = model.fit(x, to_categorical(y, 3), epochs=1, verbose=0)
    assert type(model._metrics[0]).__name__ == "CategoricalAccuracy" and "acc" in history.history
    binary = Sequential([Dense(1, activation="sigmoid", input_shape=(4,))])
    binary.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    binary.fit(x, (y > 0).astype(np.float32), epochs=1, verbose=0)
    assert type(binary._metrics[0]).__name__ == "BinaryAccuracy"
    regression = Sequential([Dense(3, input_shape=(4,))])
    regression.compile(optimizer="sgd", loss="mse", metrics=["accuracy", "mae"])
    history = regression.fit(x, to_categorical(y, 3), epochs=1, verbose=0)
    assert set(history.history) == {"loss", "accuracy", "mae"}
    assert type(regression._metrics[0]).__name__ == "CategoricalAccuracy"


def test_uint8_and_float64_inputs_are_accepted():
    x, y = toy_data()
    model = small_model()
    model.fit((np.abs(x) * 50).astype(np.uint8), y, epochs=1, verbose=0)
    model.fit(x.astype(np.float64), y.astype(np.float64), epochs=1, verbose=0)
    assert model.predict(x.astype(np.float64), verbose=0).dtype == np.float32


class Batches:
    """A PyDataset-like object: __len__, __getitem__, on_epoch_end."""

    def __init__(self, x, y, batch_size):
        self.x, self.y, self.batch_size, self.epochs_ended = x, y, batch_size, 0

    def __len__(self):
        return len(self.x) // self.batch_size

    def __getitem__(self, i):
        part = slice(i * self.batch_size, (i + 1) * self.batch_size)
        return self.x[part], self.y[part]

    def on_epoch_end(self):
        self.epochs_ended += 1


def test_generator_and_pydataset_inputs():
    x, y = toy_data()

    def forever():
        while True:
            for i in range(0, 96, 16):
                yield x[i:i + 16], y[i:i + 16]

    model = small_model()
    history = model.fit(forever(), steps_per_epoch=4, epochs=2, verbose=0,
                        validation_data=Batches(x, y, 32))
    assert history.params["steps"] == 4 and model.optimizer.iterations == 8
    assert len(history.history["val_loss"]) == 2
    dataset = Batches(x, y, 24)
    model.fit(dataset, epochs=3, verbose=0)
    # as Keras: on_epoch_end once before training (the iterator's reset) and after each epoch
    assert dataset.epochs_ended == 4 and model.optimizer.iterations == 8 + 12
    assert model.predict(Batches(x, y, 32), verbose=0).shape == (96, 3)
    assert len(model.evaluate(forever(), steps=3, verbose=0)) == 2


def test_a_generator_that_runs_out_warns_and_replays_its_first_two_batches_as_keras():
    x, y = toy_data()
    model = small_model()
    batches = ((x[i:i + 32], y[i:i + 32]) for i in range(0, 96, 32))
    with pytest.warns(UserWarning, match="ran out of data"):
        history = model.fit(batches, epochs=5, verbose=0)
    # Keras keeps a generator's first 2 batches (to check the data) and starts every later
    # pass with them: epoch 1 trains on the 3 batches, each later epoch on the first 2
    assert history.epoch == [0, 1, 2, 3, 4] and model.optimizer.iterations == 3 + 4 * 2


def test_a_loss_that_does_not_reach_the_weights_raises_instead_of_reporting_it():
    set_random_seed(0)
    x, y = toy_data()
    detached = Sequential([Dense(3, input_shape=(4,)), layers.Lambda(lambda t: t.detach()),
                           layers.Activation("softmax")])
    detached.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    with pytest.raises(RuntimeError, match="does not depend on any trainable weight"):
        detached.fit(x, y, epochs=1, verbose=0)
    with pytest.raises(RuntimeError, match="does not depend on any trainable weight"):
        detached.train_on_batch(x, y)


class ScaleBy(layers.Layer):
    """inputs * factor, where factor is any tensor; its own weight 'spare' is never used."""

    def __init__(self, factor, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor

    def build(self, input_shape):
        self.spare = self.add_weight("spare", (input_shape[-1],), initializer="ones")

    def call(self, inputs, training=None):
        return inputs * self.factor


def test_a_loss_that_reaches_other_tensors_but_no_weight_raises():
    x, y = toy_data()
    outside = tinydl.Tensor(np.ones(4, np.float32), requires_grad=True)  # not a weight
    model = Sequential([ScaleBy(outside, input_shape=(4,))])
    model.compile(optimizer="sgd", loss="mse")
    with pytest.raises(RuntimeError, match="no trainable weight .* got a gradient"):
        model.fit(x, np.ones((len(x), 4), np.float32), epochs=1, verbose=0)


def test_weights_no_gradient_reaches_are_named_in_a_warning():
    set_random_seed(0)
    x, y = toy_data()
    model = Sequential([Dense(4, input_shape=(4,)), ScaleBy(2.0), Dense(3, activation="softmax")])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    before = model.get_weights()
    with pytest.warns(UserWarning, match=r"no gradient reached the weights \['spare'\]"):
        model.fit(x, y, epochs=1, verbose=0)
    changed = [not np.array_equal(a, b) for a, b in zip(model.get_weights(), before)]
    assert changed == [True, True, False, True, True]  # the others still train


def test_a_model_with_every_layer_frozen_warns_that_training_changes_nothing():
    model, (x, y) = small_model(), toy_data()
    model.trainable = False
    before = model.get_weights()
    with pytest.warns(UserWarning, match="has no trainable weights"):
        model.fit(x, y, epochs=1, verbose=0)
    for got, want in zip(model.get_weights(), before):
        np.testing.assert_array_equal(got, want)


# ---------------------------------------------------------------- progress output
def test_verbose_1_to_a_file_writes_one_line_per_epoch(capsys):
    x, y = toy_data()
    small_model().fit(x, y, epochs=3, batch_size=8, validation_split=0.25, verbose=1)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3
    assert lines[0].startswith("Epoch 1/3 - 9/9 [==============================] - ")
    assert "ms/step" in lines[0] or "us/step" in lines[0]
    for piece in (" - loss: ", " - accuracy: ", " - val_loss: ", " - val_accuracy: "):
        assert piece in lines[2]
    assert "\r" not in lines[0]


def test_verbose_2_and_0(capsys):
    x, y = toy_data()
    small_model().fit(x, y, epochs=2, verbose=2)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2 and lines[1].startswith("Epoch 2/2 - 3/3 - ") and "[" not in lines[1]
    model = small_model()
    model.fit(x, y, epochs=2, verbose=0)
    model.evaluate(x, y, verbose=0)
    model.predict(x, verbose=0)
    assert capsys.readouterr().out == ""


def test_progbar_on_a_terminal_redraws_in_place():
    from tinydl.progbar import Progbar

    class Terminal:
        def __init__(self):
            self.text = ""

        def isatty(self):
            return True

        def write(self, s):
            self.text += s

        def flush(self):
            pass

    stream = Terminal()
    bar = Progbar(4, stream=stream, interval=0.0)
    for step in range(1, 5):
        bar.update(step, {"loss": 0.5})
    assert stream.text.count("\r") == 4 and stream.text.endswith("\n")
    assert "\r1/4 [======>.......................] - ETA: 0s - loss: 0.5000" in stream.text
    assert "4/4 [==============================] - 0s " in stream.text


# ---------------------------------------------------------------- weights files
def test_save_and_load_weights(tmp_path):
    model, other = small_model(seed=1), small_model(seed=2)
    path = tmp_path / "model.weights.tinydl"
    model.save_weights(path)
    other.load_weights(path)
    for a, b in zip(model.get_weights(), other.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert [p.name for p in tmp_path.iterdir()] == ["model.weights.tinydl"]   # no temp file left
    wider = Sequential([Dense(17, input_shape=(4,)), Dense(3)])
    with pytest.raises(ValueError, match=r"\(4, 16\) in the file, but \(4, 17\) in the model"):
        wider.load_weights(path)
    with pytest.raises(ValueError, match="holds 4 weight arrays"):
        Sequential([Dense(3, input_shape=(4,))]).load_weights(path)


# ---------------------------------------------------------------- bad input
def test_bad_input_raises_before_any_work():
    x, y = toy_data()
    model = small_model()
    before = [w.copy() for w in model.get_weights()]
    with pytest.raises(ValueError, match=r"expected input of shape \(None, 4\), got \(96, 5\)"):
        model.fit(np.zeros((96, 5)), y, verbose=0)
    with pytest.raises(ValueError, match="x with 96 .* y with 95"):
        model.fit(x, y[:95], verbose=0)
    with pytest.raises(ValueError, match=r"labels must be integers in \[0, 3\).*from 0 to 7"):
        model.fit(x, np.where(y == 2, 7, y), verbose=0)
    with pytest.raises(TypeError, match="integer class labels"):
        model.evaluate(x, y + 0.5, verbose=0)
    with pytest.raises(TypeError, match="dtype <U"):
        model.predict(np.array([["a"] * 4]), verbose=0)
    with pytest.raises(ValueError, match="batch_size=0"):
        model.fit(x, y, batch_size=0, verbose=0)
    with pytest.raises(ValueError, match="validation_split"):
        model.fit(x, y, validation_split=1.5, verbose=0)
    assert model.optimizer.iterations == 0
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_ragged_lists_are_named_as_the_argument_they_were_given_as():
    model = small_model()
    rows = [[0.0, 1.0, 2.0, 3.0]] * 3
    with pytest.raises(ValueError, match=r"x is a ragged list \(item 0 has shape \(4,\), item 2 "
                                         r"has shape \(3,\)\).*Received: x = a list of 3 items"):
        model.fit(rows[:2] + [[1.0, 2.0, 3.0]], [0, 1, 2], verbose=0)
    with pytest.raises(ValueError, match=r"item 0 has shape \(3, 4\), item 1 has shape \(2, 4\)"):
        model.predict([rows, rows[:2]], verbose=0)
    with pytest.raises(ValueError, match=r"y is a ragged list"):
        model.evaluate(np.zeros((2, 4)), [[0], [1, 2]], verbose=0)
    with pytest.raises(ValueError, match=r"x is a ragged list"):
        model.train_on_batch([[1.0] * 4, [1.0]], [0, 1])


def test_bad_image_shape_message():
    model = Sequential([Flatten(input_shape=(32, 32, 3)), Dense(2)])
    model.compile(optimizer="sgd", loss="mse")
    with pytest.raises(ValueError, match=r"expected input of shape \(None, 32, 32, 3\), got \(10, 3, 32, 32\)"):
        model.evaluate(np.zeros((10, 3, 32, 32)), np.zeros((10, 2)), verbose=0)


def test_bad_onehot_width_and_names():
    x, y = toy_data()
    model = small_model(loss="categorical_crossentropy")
    with pytest.raises(ValueError, match=r"one-hot targets of shape \(N, 3\).*got y of shape \(96, 5\)"):
        model.fit(x, np.eye(5)[y], verbose=0)
    with pytest.raises(ValueError, match="sparse_categorical_crossentropy"):
        model.fit(x, y, verbose=0)
    with pytest.raises(ValueError, match=r"unknown optimizer 'adamx'; valid names: \["):
        model.compile(optimizer="adamx", loss="mse")
    with pytest.raises(ValueError, match="unknown loss 'crossentropy'; valid names"):
        model.compile(loss="crossentropy")
    with pytest.raises(ValueError, match="unknown metric 'f1'; valid names: .*accuracy"):
        model.compile(loss="mse", metrics=["f1"])


def test_fit_before_compile():
    model = Sequential([Dense(2, input_shape=(4,))])
    for call in (lambda: model.fit(np.zeros((4, 4)), np.zeros((4, 2)), verbose=0),
                 lambda: model.evaluate(np.zeros((4, 4)), np.zeros((4, 2)), verbose=0)):
        with pytest.raises(RuntimeError, match="compile"):
            call()


def test_add_rejects_non_layers():
    model = Sequential()
    with pytest.raises(TypeError, match="write Dense"):
        model.add(Dense)
    with pytest.raises(TypeError, match="tinydl Layer"):
        model.add("dense")
    assert isinstance(tinydl.models.Sequential(), Sequential)


def test_predict_on_batch_keeps_the_metrics_test_on_batch_resets_them_as_keras():
    """After evaluate, Keras' predict_on_batch leaves the metrics' state alone (test_on_batch
    and train_on_batch reset it first): the same model and weights give the same results."""
    from keras_oracle import import_keras
    keras = import_keras()
    rng = np.random.default_rng(4)
    x = rng.standard_normal((40, 5)).astype(np.float32)
    y = rng.integers(0, 3, 40)
    theirs = keras.Sequential([keras.Input((5,)), keras.layers.Dense(3, activation="softmax")])
    ours = Sequential([layers.Input((5,)), Dense(3, activation="softmax")])
    ours.set_weights([np.asarray(w) for w in theirs.weights])
    results = {}
    for name, model in (("keras", theirs), ("tinydl", ours)):
        model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy",
                      metrics=["accuracy"])
        model.evaluate(x, y, verbose=0)
        model.predict_on_batch(x[:7])
        kept = {k: float(v) for k, v in model.get_metrics_result().items()}
        model.test_on_batch(x[:10], y[:10])
        results[name] = kept, {k: float(v) for k, v in model.get_metrics_result().items()}
    for ours_, theirs_ in zip(results["tinydl"], results["keras"]):
        assert set(ours_) == set(theirs_) == {"loss", "accuracy"}
        for key in ours_:
            assert ours_[key] == pytest.approx(theirs_[key], rel=1e-5, abs=1e-6), key
    assert results["tinydl"][0]["loss"] > 0  # evaluate's loss is still there after predict
