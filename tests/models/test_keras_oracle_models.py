"""Functional and subclassed models against Keras 3 (TensorFlow backend): the same program, run
with `import keras` and with `import tinydl as keras`, weights copied across, gives the same
outputs, losses, weights after optimizer steps, logs, weight counts and parameter counts.

Optional: skipped when keras / tensorflow are not installed (CI installs tensorflow-cpu).
"""

from __future__ import annotations

import os

import numpy as np
import pytest

import tinydl

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

RNG = np.random.default_rng(0)


@pytest.fixture(scope="module")
def keras():
    keras = pytest.importorskip("keras", reason="Keras 3 is the oracle for these tests")
    pytest.importorskip("tensorflow", reason="the Keras oracle runs on TensorFlow")
    if not keras.__version__.startswith("3"):
        pytest.skip(f"these tests compare with Keras 3, found {keras.__version__}")
    return keras


# ----------------------------------------------------------------------------- architectures
# Each takes the keras module (Keras' or tinydl) and returns (model, input arrays, targets).
# Layers are named so that weights can be copied by name.

def residual(k):
    inputs = k.Input(shape=(6,), name="x")
    h = k.layers.Dense(8, activation="relu", name="d1")(inputs)
    h2 = k.layers.Dense(8, activation="tanh", name="d2")(h)
    h = k.layers.add([h, h2], name="res")
    outputs = k.layers.Dense(3, activation="softmax", name="out")(h)
    return k.Model(inputs, outputs, name="residual")


def multi_input(k):
    a, b = k.Input(shape=(5,), name="a"), k.Input(shape=(4,), name="b")
    ha = k.layers.Dense(6, activation="relu", name="da")(a)
    hb = k.layers.Dense(6, activation="relu", name="db")(b)
    h = k.layers.concatenate([ha, hb, b], name="cat")
    h = k.layers.Multiply(name="mul")([k.layers.Dense(6, name="g")(h), ha])
    outputs = k.layers.Dense(1, name="out")(h)
    return k.Model([a, b], outputs, name="multi_input")


def multi_output(k):
    inputs = k.Input(shape=(5,), name="x")
    h = k.layers.Dense(8, activation="relu", name="trunk")(inputs)
    cls = k.layers.Dense(3, activation="softmax", name="cls")(h)
    h2 = k.layers.Dense(8, name="trunk2")(inputs)
    reg = k.layers.Dense(2, name="reg")(k.layers.Subtract(name="sub")([h, h2]))
    return k.Model(inputs, [cls, reg], name="multi_output")


def shared_and_nested(k):
    inner = k.Sequential([k.layers.Dense(4, activation="relu", name="i1"),
                          k.layers.Dense(4, name="i2")], name="inner")
    a, b = k.Input(shape=(4,), name="a"), k.Input(shape=(4,), name="b")
    shared = k.layers.Dense(4, activation="tanh", name="shared")
    left, right = shared(a), shared(b)                       # one layer, two calls
    h = k.layers.Average(name="avg")([inner(left), right, k.layers.Maximum(name="max")([left, b])])
    sub = k.Model(a, k.layers.Dense(4, name="sd")(a), name="sub")   # a model as a layer
    h = k.layers.Minimum(name="min")([h, sub(b)])
    outputs = k.layers.Dense(2, name="out")(h)
    return k.Model([a, b], outputs, name="shared_nested")


def _inputs(model):
    shapes = [tuple(t.shape[1:]) for t in model.inputs]
    xs = [RNG.standard_normal((16,) + s).astype(np.float32) for s in shapes]
    return xs if len(xs) > 1 else xs[0]


def _copy_weights(ours, theirs) -> None:
    """Keras' weights into ours, layer by layer, matched by name (nested models too)."""
    for layer in theirs.layers:
        if layer.weights:
            ours.get_layer(layer.name).set_weights(layer.get_weights())


def _assert_same_weights(ours, theirs, rtol=1e-5, atol=1e-6) -> None:
    for layer in theirs.layers:
        for a, b in zip(ours.get_layer(layer.name).get_weights(), layer.get_weights()):
            np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, err_msg=layer.name)


ARCHITECTURES = [residual, multi_input, shared_and_nested]


@pytest.mark.parametrize("build", ARCHITECTURES, ids=lambda f: f.__name__)
def test_same_layers_weights_and_outputs_as_keras(keras, build):
    theirs, ours = build(keras), build(tinydl)
    assert [layer.name for layer in ours.layers] == [layer.name for layer in theirs.layers]
    assert [w.shape for w in ours.weights] == [tuple(w.shape) for w in theirs.weights]
    assert ours.count_params() == theirs.count_params()
    _copy_weights(ours, theirs)
    x = _inputs(theirs)
    np.testing.assert_allclose(ours.predict(x, verbose=0), theirs.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-6)
    # the weight lists agree in order too, so get_weights / set_weights cross over
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
@pytest.mark.parametrize("build", ARCHITECTURES, ids=lambda f: f.__name__)
def test_one_step_then_several_match_keras(keras, build, optimizer):
    theirs, ours = build(keras), build(tinydl)
    _copy_weights(ours, theirs)
    x = _inputs(theirs)
    units = theirs.outputs[0].shape[-1]
    loss = "sparse_categorical_crossentropy" if build is residual else "mse"
    y = (RNG.integers(0, units, 16) if build is residual
         else RNG.standard_normal((16, units)).astype(np.float32))
    make = {"sgd": lambda m: m.optimizers.SGD(learning_rate=0.1),
            "adam": lambda m: m.optimizers.Adam(learning_rate=0.01)}[optimizer]
    theirs.compile(optimizer=make(keras), loss=loss)
    ours.compile(optimizer=make(tinydl), loss=loss)
    their_loss = float(theirs.train_on_batch(x, y))
    our_loss = ours.train_on_batch(x, y)
    assert our_loss == pytest.approx(their_loss, rel=1e-5)
    _assert_same_weights(ours, theirs)
    their_losses = theirs.fit(x, y, batch_size=4, epochs=3, shuffle=False, verbose=0).history
    our_losses = ours.fit(x, y, batch_size=4, epochs=3, shuffle=False, verbose=0).history
    np.testing.assert_allclose(our_losses["loss"], their_losses["loss"], rtol=1e-3)


def test_multi_output_losses_weights_and_metric_logs_match_keras(keras):
    theirs, ours = multi_output(keras), multi_output(tinydl)
    _copy_weights(ours, theirs)
    x = _inputs(theirs)
    y = [RNG.integers(0, 3, 16), RNG.standard_normal((16, 2)).astype(np.float32)]
    for model, k in ((theirs, keras), (ours, tinydl)):
        model.compile(optimizer=k.optimizers.SGD(learning_rate=0.05),
                      loss={"cls": "sparse_categorical_crossentropy", "reg": "mse"},
                      loss_weights={"cls": 1.0, "reg": 0.25},
                      metrics={"cls": ["accuracy"], "reg": ["mae"]})
    their_history = theirs.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0).history
    our_history = ours.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0).history
    assert set(our_history) == set(their_history) == {
        "loss", "cls_loss", "reg_loss", "cls_accuracy", "reg_mae"}
    for name in their_history:
        np.testing.assert_allclose(our_history[name], their_history[name], rtol=1e-4, err_msg=name)
    _assert_same_weights(ours, theirs, rtol=1e-4, atol=1e-6)
    their_eval = theirs.evaluate(x, y, verbose=0, return_dict=True)
    our_eval = ours.evaluate(x, y, verbose=0, return_dict=True)
    assert our_eval == pytest.approx(their_eval, rel=1e-4)
    ours_pred, their_pred = ours.predict(x, verbose=0), theirs.predict(x, verbose=0)
    for a, b in zip(ours_pred, their_pred):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)


# ----------------------------------------------------------------------------- subclassing

def subclassed(k):
    """The guides' patterns: sublayers as attributes, in a list, in a dict, a Variable."""

    class Block(k.layers.Layer):
        def __init__(self, units, **kwargs):
            super().__init__(**kwargs)
            self.dense = k.layers.Dense(units, activation="relu")
            self.stack = [k.layers.Dense(units), k.layers.Dense(units, activation="tanh")]
            self.heads = {"b": k.layers.Dense(units), "a": k.layers.Dense(units)}

        def call(self, x):
            x = self.dense(x)
            for layer in self.stack:
                x = layer(x)
            return self.heads["a"](x) + self.heads["b"](x)

    class Net(k.Model):
        def __init__(self):
            super().__init__(name="net")
            self.blocks = (Block(6), Block(6))
            self.scale = self.add_weight(shape=(6,), initializer="ones", name="scale")
            self.out = k.layers.Dense(2)

        def call(self, x, training=None):
            for block in self.blocks:
                x = block(x)
            return self.out(x * self.scale)

    return Net()


def test_subclassed_model_tracks_weights_like_keras_and_trains_the_same(keras):
    theirs, ours = subclassed(keras), subclassed(tinydl)
    x = RNG.standard_normal((16, 5)).astype(np.float32)
    y = RNG.standard_normal((16, 2)).astype(np.float32)
    theirs(x), ours(x)
    assert len(ours.weights) == len(theirs.weights) == 1 + 2 * 5 * 2 + 2
    assert [w.shape for w in ours.weights] == [tuple(w.shape) for w in theirs.weights]
    ours.set_weights(theirs.get_weights())
    np.testing.assert_allclose(ours(x).data, np.asarray(theirs(x)), rtol=1e-5, atol=1e-6)
    for model, k in ((theirs, keras), (ours, tinydl)):
        model.compile(optimizer=k.optimizers.Adam(learning_rate=0.01), loss="mse")
    assert ours.train_on_batch(x, y) == pytest.approx(float(theirs.train_on_batch(x, y)), rel=1e-5)
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    our_history = ours.fit(x, y, batch_size=4, epochs=3, shuffle=False, verbose=0).history
    their_history = theirs.fit(x, y, batch_size=4, epochs=3, shuffle=False, verbose=0).history
    np.testing.assert_allclose(our_history["loss"], their_history["loss"], rtol=1e-3)
    theirs.trainable = False
    ours.trainable = False
    assert len(ours.trainable_weights) == len(theirs.trainable_weights) == 0
    assert len(ours.non_trainable_weights) == len(theirs.non_trainable_weights)


def test_summary_parameter_counts_match_keras(keras):
    for build in ARCHITECTURES + [multi_output]:
        theirs, ours = build(keras), build(tinydl)
        lines = []
        ours.summary(print_fn=lines.append)
        assert f"Total params: {theirs.count_params():,}" in "\n".join(lines)
        for layer in theirs.layers:
            assert ours.get_layer(layer.name).count_params() == layer.count_params()


def test_add_loss_activity_regularization_matches_keras(keras):
    def build(k):
        class ActivityReg(k.layers.Layer):
            def call(self, inputs):
                self.add_loss(0.1 * k.ops.sum(inputs * inputs) if k is keras
                              else 0.1 * (inputs * inputs).sum())
                return inputs

        inputs = k.Input(shape=(3,), name="x")
        outputs = k.layers.Dense(2, name="out")(ActivityReg(name="reg")(
            k.layers.Dense(4, name="h")(inputs)))
        return k.Model(inputs, outputs)

    theirs, ours = build(keras), build(tinydl)
    _copy_weights(ours, theirs)
    x = RNG.standard_normal((8, 3)).astype(np.float32)
    y = RNG.standard_normal((8, 2)).astype(np.float32)
    for model, k in ((theirs, keras), (ours, tinydl)):
        model.compile(optimizer=k.optimizers.SGD(learning_rate=0.01), loss="mse")
    assert ours.train_on_batch(x, y) == pytest.approx(float(theirs.train_on_batch(x, y)), rel=1e-5)
    _assert_same_weights(ours, theirs)
    assert len(ours.losses) == len(theirs.losses) == 1
