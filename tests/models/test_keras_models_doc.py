"""The examples of docs/keras_models.md run as written (functional, subclassing, custom steps, GAN)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

import tinydl as keras

DOC = Path(__file__).resolve().parents[2] / "docs" / "keras_models.md"
BLOCKS = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.S)
EXAMPLES = [block for block in BLOCKS if "import tinydl as keras\n" in block and len(block) > 80]


def test_the_doc_has_its_examples():
    assert len(EXAMPLES) == 7


@pytest.mark.parametrize("index", range(len(EXAMPLES)))
def test_doc_example_runs(index, capsys):
    keras.utils.set_random_seed(0)
    namespace = {"__name__": f"doc_example_{index}"}
    exec(compile(EXAMPLES[index], f"{DOC.name}[{index}]", "exec"), namespace)  # noqa: S102


def test_the_gan_example_trains_both_models():
    gan_example = next(block for block in EXAMPLES if "class GAN" in block)
    source = gan_example.split("history = gan.fit")[0]       # everything but the training
    namespace = {"__name__": "gan"}
    keras.utils.set_random_seed(0)
    exec(compile(source, "gan", "exec"), namespace)  # noqa: S102
    gan = namespace["gan"]
    before = [w.data.copy() for w in gan.weights]
    assert len(before) == 8
    history = gan.fit(namespace["points"], epochs=2, batch_size=64, verbose=0).history
    assert all(np.isfinite(v).all() for v in history.values()) and len(history["d_loss"]) == 2
    after = gan.weights
    assert all(not np.array_equal(a, b.data) for a, b in zip(before, after))


def test_a_custom_train_step_equal_to_the_default_trains_identically():
    class Explicit(keras.Model):
        def train_step(self, data):
            x, y = data
            y_pred = self(x, training=True)
            self.zero_grad()
            loss = self.compute_loss(x=x, y=y, y_pred=y_pred)
            loss.backward()
            self.optimizer.apply_gradients(zip([v.grad for v in self.trainable_weights],
                                               self.trainable_weights))
            self._loss_tracker.update_state(loss, sample_weight=len(x))
            return self.compute_metrics(x, y, y_pred)

    def build(cls):
        keras.utils.set_random_seed(3)
        inputs = keras.Input(shape=(5,))
        outputs = keras.layers.Dense(3, activation="softmax")(
            keras.layers.Dense(8, activation="relu")(inputs))
        model = cls(inputs, outputs)
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                      metrics=["accuracy"])
        return model

    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((40, 5)), rng.integers(0, 3, 40)
    custom, default = build(Explicit), build(keras.Model)
    h1 = custom.fit(x, y, epochs=2, batch_size=8, shuffle=False, verbose=0).history
    h2 = default.fit(x, y, epochs=2, batch_size=8, shuffle=False, verbose=0).history
    assert h1.keys() == h2.keys()
    for key in h1:  # (pytest.approx does not take a dict of lists)
        np.testing.assert_allclose(h1[key], h2[key], rtol=1e-6)
    for a, b in zip(custom.weights, default.weights):
        np.testing.assert_allclose(a.data, b.data, rtol=1e-6)


def test_test_step_and_predict_step_overrides_are_used():
    class Doubled(keras.Model):
        def test_step(self, data):
            x, y = data
            error = np.abs(self(x).data - y).mean()
            return {"double_mae": 2 * error}

        def predict_step(self, data):
            (x,) = data
            return self(x) * 2.0

    inputs = keras.Input(shape=(2,))
    model = Doubled(inputs, keras.layers.Dense(1)(inputs))
    model.compile(optimizer="sgd", loss="mse")
    x, y = np.ones((4, 2)), np.zeros((4, 1))
    plain = keras.Model(inputs, model.outputs[0])
    np.testing.assert_allclose(model.predict(x, verbose=0), 2 * plain.predict(x, verbose=0))
    logs = model.evaluate(x, y, verbose=0, return_dict=True)
    assert logs == {"double_mae": pytest.approx(2 * np.abs(plain.predict(x, verbose=0)).mean())}


def test_compute_loss_includes_the_model_losses():
    class Penalized(keras.Model):
        def __init__(self):
            super().__init__()
            self.dense = keras.layers.Dense(1)

        def call(self, x):
            out = self.dense(x)
            self.add_loss((out * out).mean())
            return out

    model = Penalized()
    model.compile(optimizer="sgd", loss="mae")
    x, y = np.ones((3, 2), np.float32), np.zeros((3, 1), np.float32)
    y_pred = model(x)
    expected = np.abs(y_pred.data).mean() + (y_pred.data ** 2).mean()
    assert model.compute_loss(x, y, y_pred).item() == pytest.approx(expected, rel=1e-6)
