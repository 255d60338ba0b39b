"""Programs in the manner of the Keras guides (the Sequential model, the functional API, making new
layers and models via subclassing), each written once as `program(keras)` and run with Keras 3
and with `import tinydl as keras`, on the same data and weights.

The tinydl runs always happen; the comparison with Keras is skipped when Keras is absent.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

import tinydl

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


@pytest.fixture(scope="module")
def oracle():
    keras = pytest.importorskip("keras", reason="Keras 3 (TensorFlow) is the oracle")
    pytest.importorskip("tensorflow", reason="the Keras oracle runs on TensorFlow")
    return keras


def _data(seed=0):
    rng = np.random.default_rng(seed)
    return rng.random((96, 64)).astype("float32"), rng.integers(0, 10, 96)


# ----------------------------------------------------------------------------- the Sequential model

def sequential_guide(keras, weights=None):
    layers = keras.layers
    model = keras.Sequential(name="my_sequential")
    model.add(keras.Input(shape=(64,)))
    model.add(layers.Dense(32, activation="relu", name="layer1"))
    model.add(layers.Dense(16, activation="relu", name="layer2"))
    model.add(layers.Dense(8, name="scrap"))
    model.pop()                                             # layers can be removed
    model.add(layers.Dense(10, name="layer3"))
    if weights is not None:
        model.set_weights(weights)
    summary = []
    model.summary(print_fn=lambda line, *args, **kwargs: summary.append(line))
    extractor = keras.Model(inputs=model.inputs,
                            outputs=[layer.output for layer in model.layers])
    middle = keras.Model(inputs=model.inputs, outputs=model.get_layer(name="layer2").output)
    x, y = _data()
    features = extractor(x)
    for layer in model.layers[:-1]:                         # transfer learning: freeze the body
        layer.trainable = False
    model.compile(optimizer=keras.optimizers.SGD(0.1),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    history = model.fit(x, y, batch_size=32, epochs=2, shuffle=False, verbose=0).history
    return {"model": model, "names": [layer.name for layer in model.layers],
            "weights": len(model.weights), "trainable": len(model.trainable_weights),
            "features": [np.asarray(f) for f in features],
            "middle": np.asarray(middle.predict(x, verbose=0)), "history": history,
            "summary": "\n".join(summary)}


def test_sequential_guide_runs_on_tinydl():
    result = sequential_guide(tinydl)
    assert result["names"] == ["layer1", "layer2", "layer3"]
    assert result["weights"] == 6 and result["trainable"] == 2
    assert [f.shape for f in result["features"]] == [(96, 32), (96, 16), (96, 10)]
    np.testing.assert_array_equal(result["middle"], result["features"][1])
    assert "Total params: 2,778" in result["summary"]


def test_sequential_guide_matches_keras(oracle):
    weights = [np.asarray(w) for w in sequential_guide(oracle)["model"].get_weights()]
    theirs = sequential_guide(oracle, weights)        # both start from the same weights
    ours = sequential_guide(tinydl, weights)
    assert ours["names"] == theirs["names"] and ours["weights"] == theirs["weights"]
    assert ours["trainable"] == theirs["trainable"]
    np.testing.assert_allclose(ours["middle"], theirs["middle"], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(ours["history"]["loss"], theirs["history"]["loss"], rtol=1e-4)
    # float32 near-ties of the logits may flip a sample's argmax: at most one of 96 here
    np.testing.assert_allclose(ours["history"]["accuracy"], theirs["history"]["accuracy"],
                               atol=1.01 / 96)


# ----------------------------------------------------------------------------- the functional API

def mnist_style(keras):
    layers = keras.layers
    inputs = keras.Input(shape=(64,))
    x = layers.Dense(64, activation="relu")(inputs)
    x = layers.Dense(64, activation="relu")(x)
    outputs = layers.Dense(10)(x)
    return keras.Model(inputs=inputs, outputs=outputs, name="mnist_model")


def toy_resnet(keras):
    layers = keras.layers
    inputs = keras.Input(shape=(12, 12, 3), name="img")
    x = layers.Conv2D(8, 3, activation="relu")(inputs)
    x = layers.Conv2D(16, 3, activation="relu")(x)
    block_1_output = layers.MaxPooling2D(2)(x)
    x = layers.Conv2D(16, 3, activation="relu", padding="same")(block_1_output)
    x = layers.Conv2D(16, 3, activation="relu", padding="same")(x)
    block_2_output = layers.add([x, block_1_output])
    x = layers.Conv2D(16, 3, activation="relu")(block_2_output)
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dense(32, activation="relu")(x)
    x = layers.Dropout(0.5)(x)
    outputs = layers.Dense(10)(x)
    return keras.Model(inputs, outputs, name="toy_resnet")


def ensemble(keras):
    def get_model():
        inputs = keras.Input(shape=(16,))
        return keras.Model(inputs, keras.layers.Dense(1)(inputs))

    models = [get_model() for _ in range(3)]
    inputs = keras.Input(shape=(16,))
    return keras.Model(inputs=inputs, outputs=keras.layers.average([m(inputs) for m in models]))


def ticket_router(keras):
    """The guide's multi-input, multi-output ticket model, with dense features for the text."""
    layers = keras.layers
    title = keras.Input(shape=(20,), name="title")
    body = keras.Input(shape=(40,), name="body")
    tags = keras.Input(shape=(12,), name="tags")
    x = layers.concatenate([layers.Dense(16, activation="relu")(title),
                            layers.Dense(8, activation="relu")(body), tags])
    priority = layers.Dense(1, name="priority")(x)
    department = layers.Dense(4, name="department")(x)
    return keras.Model(inputs=[title, body, tags], outputs=[priority, department])


def train_functional(keras, build, weights=None):
    model = build(keras)
    if weights is not None:
        model.set_weights(weights)
    rng = np.random.default_rng(1)
    if build is ticket_router:
        x = {"title": rng.random((64, 20)), "body": rng.random((64, 40)),
             "tags": rng.integers(0, 2, (64, 12)).astype("float32")}
        y = {"priority": rng.random((64, 1)),
             "department": np.eye(4)[rng.integers(0, 4, 64)]}
        model.compile(optimizer=keras.optimizers.RMSprop(1e-3),
                      loss={"priority": keras.losses.BinaryCrossentropy(from_logits=True),
                            "department": keras.losses.CategoricalCrossentropy(from_logits=True)},
                      loss_weights={"priority": 1.0, "department": 0.2})
    elif build is toy_resnet:
        x = rng.random((40, 12, 12, 3)).astype("float32")
        y = keras.utils.to_categorical(rng.integers(0, 10, 40), 10)
        model.compile(optimizer=keras.optimizers.RMSprop(1e-3),
                      loss=keras.losses.CategoricalCrossentropy(from_logits=True), metrics=["acc"])
    elif build is ensemble:
        x, y = rng.random((64, 16)), rng.random((64, 1))
        model.compile(optimizer="adam", loss="mse")
    else:
        x, y = _data(1)
        model.compile(loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                      optimizer=keras.optimizers.RMSprop(), metrics=["accuracy"])
    before = model.evaluate(x, y, verbose=0, return_dict=True)
    history = model.fit(x, y, batch_size=16, epochs=2, validation_split=0.25, shuffle=False,
                        verbose=0).history
    return {"model": model, "before": before, "history": history,
            "params": model.count_params(), "layers": [type(layer).__name__ for layer in model.layers]}


FUNCTIONAL = [mnist_style, toy_resnet, ensemble, ticket_router]


@pytest.mark.parametrize("build", FUNCTIONAL, ids=lambda f: f.__name__)
def test_functional_guide_models_train_on_tinydl(build):
    tinydl.utils.set_random_seed(0)  # the initial weights must not depend on the tests before
    result = train_functional(tinydl, build)
    history = result["history"]
    assert all(np.isfinite(v).all() for v in history.values())
    assert history["loss"][-1] < result["before"]["loss"] or build is toy_resnet


@pytest.mark.parametrize("build", FUNCTIONAL, ids=lambda f: f.__name__)
def test_functional_guide_models_match_keras(oracle, build):
    theirs = train_functional(oracle, build)
    weights = [np.asarray(w) for w in theirs["model"].get_weights()]
    theirs = train_functional(oracle, build, weights)
    ours = train_functional(tinydl, build, weights)
    assert ours["params"] == theirs["params"] and ours["layers"] == theirs["layers"]
    assert ours["before"] == pytest.approx(theirs["before"], rel=1e-4)
    assert set(ours["history"]) == set(theirs["history"])
    if build is not toy_resnet:                         # Dropout draws differ between the two
        for name in theirs["history"]:
            np.testing.assert_allclose(ours["history"][name], theirs["history"][name],
                                       rtol=2e-3, err_msg=name)


# ----------------------------------------------------------------------------- subclassing

def subclassing_guide(keras):
    layers, ops = keras.layers, keras.ops

    class Linear(layers.Layer):
        def __init__(self, units=32):
            super().__init__()
            self.units = units

        def build(self, input_shape):
            self.w = self.add_weight(shape=(input_shape[-1], self.units),
                                     initializer="random_normal", trainable=True)
            self.b = self.add_weight(shape=(self.units,), initializer="zeros", trainable=True)

        def call(self, inputs):
            return ops.matmul(inputs, self.w) + self.b

    class ComputeSum(layers.Layer):
        def __init__(self, input_dim):
            super().__init__()
            self.total = self.add_weight(initializer="zeros", shape=(input_dim,),
                                         trainable=False)

        def call(self, inputs):
            self.total.assign_add(ops.sum(inputs, axis=0))
            return self.total

    class MLPBlock(layers.Layer):
        def __init__(self):
            super().__init__()
            self.linear_1 = Linear(32)
            self.linear_2 = Linear(32)
            self.linear_3 = Linear(1)

        def call(self, inputs):
            x = ops.relu(self.linear_1(inputs))
            x = ops.relu(self.linear_2(x))
            return self.linear_3(x)

    class ActivityRegularizationLayer(layers.Layer):
        def __init__(self, rate=1e-2):
            super().__init__()
            self.rate = rate

        def call(self, inputs):
            self.add_loss(self.rate * ops.mean(inputs))
            return inputs

    class OuterLayer(layers.Layer):
        def __init__(self):
            super().__init__()
            self.activity_reg = ActivityRegularizationLayer(1e-2)
            self.dense = layers.Dense(32, kernel_regularizer=keras.regularizers.l2(1e-3))

        def call(self, inputs):
            return self.dense(self.activity_reg(inputs))

    summer = ComputeSum(2)
    summer(np.ones((2, 2), "float32"))
    totals = np.asarray(summer(np.ones((2, 2), "float32")))
    mlp = MLPBlock()
    mlp(np.ones((3, 64), "float32"))
    outer = OuterLayer()
    outer(np.ones((1, 4), "float32"))
    outer(np.ones((1, 4), "float32"))                    # the add_loss losses do not pile up
    return {"totals": totals, "sum_weights": (len(summer.weights), len(summer.trainable_weights)),
            "mlp_weights": (len(mlp.weights), len(mlp.trainable_weights)),
            "outer_losses": len(outer.losses)}


def test_subclassing_guide_runs_on_tinydl():
    result = subclassing_guide(tinydl)
    np.testing.assert_array_equal(result["totals"], [4.0, 4.0])
    assert result["sum_weights"] == (1, 0) and result["mlp_weights"] == (6, 6)
    assert result["outer_losses"] == 2


def test_subclassing_guide_matches_keras(oracle):
    theirs, ours = subclassing_guide(oracle), subclassing_guide(tinydl)
    np.testing.assert_array_equal(ours["totals"], theirs["totals"])
    for key in ("sum_weights", "mlp_weights", "outer_losses"):
        assert ours[key] == theirs[key], key
