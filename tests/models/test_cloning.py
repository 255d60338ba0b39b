"""clone_model: the same architecture with new layers and new weights (Keras' semantics), for
Sequential, functional graphs (shared layers, merges, nested models) and clone_function."""

from __future__ import annotations

import numpy as np
import pytest

import tinydl
from tinydl import layers
from tinydl.models import clone_model


def _functional():
    inputs = tinydl.Input((4,))
    shared = layers.Dense(3, activation="relu", name="shared")
    a, b = shared(inputs), shared(layers.Dense(4, name="pre")(inputs))
    inner = tinydl.Sequential([tinydl.Input((3,)), layers.Dense(2, name="inner_dense")], name="inner")
    outputs = inner(layers.add([a, b]))
    return tinydl.Model(inputs, outputs, name="net")


@pytest.mark.parametrize("make", [
    lambda: tinydl.Sequential([tinydl.Input((4,)), layers.Dense(3, activation="tanh"), layers.Dense(2)]),
    lambda: tinydl.Sequential([layers.Dense(3, input_shape=(4,)), layers.Dropout(0.5), layers.Dense(2)]),
    _functional,
], ids=["sequential", "sequential-no-input", "functional"])
def test_a_clone_has_new_weights_and_computes_the_same_once_they_are_copied(make):
    tinydl.utils.set_random_seed(0)
    model = make()
    clone = clone_model(model)
    assert type(clone) is type(model) and clone.name == model.name
    assert [type(layer) for layer in clone.layers] == [type(layer) for layer in model.layers]
    assert [layer.name for layer in clone.layers] == [layer.name for layer in model.layers]
    assert not any(c is m for c, m in zip(clone.layers, model.layers))
    assert clone.count_params() == model.count_params()
    assert any(not np.array_equal(c, m) for c, m in zip(clone.get_weights(), model.get_weights()))
    clone.set_weights(model.get_weights())
    x = np.random.default_rng(1).standard_normal((5, 4)).astype(np.float32)
    np.testing.assert_array_equal(clone.predict(x, verbose=0), model.predict(x, verbose=0))
    model.compile(optimizer="sgd", loss="mse")
    model.fit(x, np.zeros((5, 2), np.float32), epochs=1, verbose=0)
    assert any(not np.array_equal(c, m) for c, m in zip(clone.get_weights(), model.get_weights()))


def test_shared_layers_stay_shared_in_the_clone():
    clone = clone_model(_functional())
    shared = clone.get_layer("shared")
    assert len(shared._inbound_nodes) == 2
    assert clone.count_params() == _functional().count_params()


def test_clone_function_can_share_or_replace_layers():
    model = _functional()
    shared = clone_model(model, clone_function=lambda layer: layer)
    assert all(c is m for c, m in zip(shared.layers[1:], model.layers[1:]))
    x = np.ones((2, 4), np.float32)
    np.testing.assert_array_equal(shared.predict(x, verbose=0), model.predict(x, verbose=0))

    def no_relu(layer):
        config = layer.get_config()
        if isinstance(layer, layers.Dense):
            config["activation"] = "linear"
        return type(layer).from_config(config)

    linear = clone_model(model, clone_function=no_relu)
    assert linear.get_layer("shared").get_config()["activation"] == "linear"


def test_recursive_clones_inside_nested_models():
    model = _functional()
    seen = []
    clone_model(model, clone_function=lambda layer: seen.append(layer.name) or type(layer).from_config(
        layer.get_config()), recursive=True)
    assert "inner_dense" in seen and "inner" not in seen
    seen.clear()
    clone_model(model, clone_function=lambda layer: seen.append(layer.name) or type(layer).from_config(
        layer.get_config()))
    assert "inner" in seen and "inner_dense" not in seen


def test_unsupported_arguments_raise():
    model = _functional()
    with pytest.raises(NotImplementedError, match="input_tensors"):
        clone_model(model, input_tensors=[tinydl.Input((4,))])
    with pytest.raises(TypeError, match="clone_function must return a Layer"):
        clone_model(model, clone_function=lambda layer: None)
    with pytest.raises(TypeError, match="expects a tinydl Model"):
        clone_model(layers.Dense(2))
