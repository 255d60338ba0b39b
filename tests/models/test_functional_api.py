"""The functional API without Keras: symbolic Inputs, graphs of layers, several inputs and
outputs, shared layers, models as layers, saving, summary, and the errors for bad graphs."""

from __future__ import annotations

import numpy as np
import pytest

import tinydl as keras
from tinydl import layers
from tinydl.layers.symbolic import KerasTensor

RNG = np.random.default_rng(1)


def test_input_is_symbolic_and_layers_record_a_graph():
    inputs = keras.Input(shape=(28, 28, 1), name="image")
    assert isinstance(inputs, KerasTensor) and inputs.shape == (None, 28, 28, 1)
    assert inputs.dtype == "float32" and keras.Input((3,), dtype="float64").dtype == "float64"
    x = layers.Conv2D(4, 3, activation="relu")(inputs)
    assert x.shape == (None, 26, 26, 4)
    x = layers.MaxPooling2D()(x)
    outputs = layers.Dense(10, activation="softmax")(layers.Flatten()(x))
    assert outputs.shape == (None, 10)
    model = keras.Model(inputs=inputs, outputs=outputs, name="mnist")
    assert type(model).__name__ == "Functional" and isinstance(model, keras.Model)
    assert model.input_shape == (None, 28, 28, 1) and model.output_shape == (None, 10)
    assert [type(layer).__name__ for layer in model.layers] == [
        "InputLayer", "Conv2D", "MaxPooling2D", "Flatten", "Dense"]
    assert model.get_layer("image") is model.layers[0] and model.get_layer(index=-1) is \
        model.layers[-1]
    images = RNG.standard_normal((5, 28, 28, 1)).astype(np.float32)
    # the graph computes what calling the layers in turn computes
    expected = images
    for layer in model.layers[1:]:
        expected = layer(expected).data
    np.testing.assert_allclose(model.predict(images, verbose=0), expected, rtol=1e-6)
    np.testing.assert_allclose(model(images).data, expected, rtol=1e-6)


def test_symbolic_values_explain_themselves():
    inputs = keras.Input(shape=(3,))
    with pytest.raises(TypeError, match="symbolic.*no values"):
        np.asarray(inputs)
    with pytest.raises(TypeError, match="no truth value"):
        bool(inputs > 0)
    with pytest.raises(NotImplementedError, match="keras.ops.floor_divide is not implemented"):
        inputs // 2  # an op tinydl lacks is named


def _two_branch():
    a, b = keras.Input(shape=(4,), name="a"), keras.Input(shape=(2,), name="b")
    shared = layers.Dense(3, name="shared")
    merged = layers.concatenate([shared(a), layers.Dense(3)(b)])
    out1 = layers.Dense(2, activation="softmax", name="cls")(merged)
    out2 = layers.Dense(1, name="reg")(layers.add([shared(a), layers.Dense(3, name="proj")(merged)]))
    return a, b, out1, out2


def test_lists_and_dicts_of_inputs_and_outputs():
    a, b, out1, out2 = _two_branch()
    xa, xb = RNG.standard_normal((6, 4)), RNG.standard_normal((6, 2))
    listed = keras.Model([a, b], [out1, out2])
    p1, p2 = listed.predict([xa, xb], verbose=0)
    assert p1.shape == (6, 2) and p2.shape == (6, 1)
    keyed = keras.Model({"a": a, "b": b}, {"cls": out1, "reg": out2})
    predicted = keyed.predict({"a": xa, "b": xb}, verbose=0)
    np.testing.assert_allclose(predicted["cls"], p1, rtol=1e-6)
    np.testing.assert_allclose(predicted["reg"], p2, rtol=1e-6)
    assert keyed.output_names() == ["cls", "reg"] and listed.output_names() == ["cls", "reg"]
    with pytest.raises(ValueError, match=r"inputs \['b'\] are missing"):
        keyed.predict({"a": xa}, verbose=0)
    with pytest.raises(ValueError, match="2 inputs.*received 1"):
        listed.predict([xa], verbose=0)


def test_per_output_losses_weights_and_metrics_give_keras_log_names():
    a, b, out1, out2 = _two_branch()
    model = keras.Model([a, b], [out1, out2])
    model.compile(optimizer="sgd", loss=["sparse_categorical_crossentropy", "mse"],
                  loss_weights=[1.0, 0.5], metrics=[["accuracy"], ["mae"]])
    xa, xb = RNG.standard_normal((8, 4)), RNG.standard_normal((8, 2))
    y1, y2 = RNG.integers(0, 2, 8), RNG.standard_normal((8, 1))
    logs = model.evaluate([xa, xb], [y1, y2], verbose=0, return_dict=True)
    assert set(logs) == {"loss", "cls_loss", "reg_loss", "cls_accuracy", "reg_mae"}
    assert logs["loss"] == pytest.approx(logs["cls_loss"] + 0.5 * logs["reg_loss"], rel=1e-5)
    p1, p2 = model.predict([xa, xb], verbose=0)
    assert logs["reg_loss"] == pytest.approx(((p2 - y2) ** 2).mean(), rel=1e-5)
    assert logs["cls_accuracy"] == pytest.approx((p1.argmax(1) == y1).mean())
    history = model.fit([xa, xb], [y1, y2], epochs=2, batch_size=4, verbose=0).history
    assert set(history) == set(logs)
    with pytest.raises(ValueError, match="outputs \\['nope'\\].*'cls', 'reg'"):
        model.compile(loss={"nope": "mse"})
    with pytest.raises(ValueError, match="one entry per output"):
        model.compile(loss="mse", metrics=["mae"])


def test_shared_layers_and_models_used_as_layers():
    encoder_input = keras.Input(shape=(4,))
    encoder = keras.Model(encoder_input, layers.Dense(2, name="code")(encoder_input),
                          name="encoder")
    head = keras.Sequential([layers.Dense(3, activation="relu"), layers.Dense(1)], name="head")
    a, b = keras.Input(shape=(4,)), keras.Input(shape=(4,))
    distance = layers.Subtract()([encoder(a), encoder(b)])     # one encoder, two calls
    model = keras.Model([a, b], head(distance))
    assert model.count_params() == (4 * 2 + 2) + (2 * 3 + 3) + (3 + 1)
    assert [layer.name for layer in model.layers if layer.weights] == ["encoder", "head"]
    xa, xb = RNG.standard_normal((5, 4)), RNG.standard_normal((5, 4))
    by_hand = head(encoder(xa).data - encoder(xb).data).data
    np.testing.assert_allclose(model.predict([xa, xb], verbose=0), by_hand, rtol=1e-5)
    lines = []
    model.summary(print_fn=lines.append)
    text = "\n".join(lines)
    assert "Connected to" in text and "encoder[0][0]," in text and "encoder[1][0]" in text


def test_a_functional_model_saves_and_loads(tmp_path):
    a, b, out1, out2 = _two_branch()
    model = keras.Model({"a": a, "b": b}, {"cls": out1, "reg": out2}, name="two")
    model.compile(optimizer="adam", loss={"cls": "sparse_categorical_crossentropy", "reg": "mse"},
                  loss_weights={"cls": 2.0, "reg": 1.0}, metrics={"cls": ["accuracy"]})
    x = {"a": RNG.standard_normal((8, 4)), "b": RNG.standard_normal((8, 2))}
    y = {"cls": RNG.integers(0, 2, 8), "reg": RNG.standard_normal((8, 1))}
    model.fit(x, y, epochs=1, verbose=0)
    model.save(tmp_path / "two.tinydl")
    loaded = keras.saving.load_model(tmp_path / "two.tinydl")
    assert loaded.name == "two" and [x.name for x in loaded.layers] == [x.name for x in model.layers]
    for key, value in model.predict(x, verbose=0).items():
        np.testing.assert_array_equal(loaded.predict(x, verbose=0)[key], value)
    assert loaded.evaluate(x, y, verbose=0, return_dict=True) == pytest.approx(
        model.evaluate(x, y, verbose=0, return_dict=True))
    model.fit(x, y, epochs=1, shuffle=False, verbose=0)        # training resumes identically
    loaded.fit(x, y, epochs=1, shuffle=False, verbose=0)
    for w1, w2 in zip(model.weights, loaded.weights):
        np.testing.assert_allclose(w1.data, w2.data, rtol=1e-6)


def test_a_nested_model_saves_and_loads(tmp_path):
    inner = keras.Sequential([layers.Dense(3, activation="relu", input_shape=(4,))], name="inner")
    inputs = keras.Input(shape=(4,))
    model = keras.Model(inputs, layers.Dense(1)(layers.add([inner(inputs), inner(inputs)])))
    keras.saving.save_model(model, tmp_path / "nested.tinydl")
    loaded = keras.models.load_model(tmp_path / "nested.tinydl")
    x = RNG.standard_normal((3, 4))
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


def test_bad_graphs_name_what_is_wrong():
    a, b = keras.Input(shape=(3,), name="first"), keras.Input(shape=(3,), name="forgotten")
    out = layers.add([layers.Dense(3)(a), b])
    with pytest.raises(ValueError, match="depend on the input 'forgotten'"):
        keras.Model(a, out)
    dense = layers.Dense(2, name="narrow")
    dense(keras.Input(shape=(3,)))
    with pytest.raises(ValueError, match=r"layer 'narrow' \(Dense\).*\(None, 5\)"):
        dense(keras.Input(shape=(5,)))
    with pytest.raises(ValueError, match="Concatenate.*must match"):
        layers.concatenate([keras.Input(shape=(2, 3)), keras.Input(shape=(4, 5))], axis=-1)
    with pytest.raises(ValueError, match="same shape"):
        layers.Add()([keras.Input(shape=(3,)), keras.Input(shape=(4,))])
    with pytest.raises(TypeError, match="must be a KerasTensor"):
        keras.Model(a, np.zeros(3))
    model = keras.Model(a, layers.Dense(1)(a))
    model.compile(optimizer="sgd", loss="mse")
    with pytest.raises(ValueError, match=r"expected input 'first' of shape \(None, 3\), got \(4, 5\)"):
        model.fit(np.ones((4, 5)), np.ones((4, 1)), verbose=0)
    with pytest.raises(ValueError, match="No such layer: missing"):
        model.get_layer("missing")


def test_merge_layers_compute_elementwise_and_concatenate():
    x1, x2, x3 = (RNG.standard_normal((4, 3)).astype(np.float32) for _ in range(3))
    assert np.allclose(layers.add([x1, x2, x3]).data, x1 + x2 + x3)
    assert np.allclose(layers.subtract([x1, x2]).data, x1 - x2)
    assert np.allclose(layers.multiply([x1, x2]).data, x1 * x2)
    assert np.allclose(layers.average([x1, x2, x3]).data, (x1 + x2 + x3) / 3)
    assert np.allclose(layers.maximum([x1, x2, x3]).data, np.maximum(np.maximum(x1, x2), x3))
    assert np.allclose(layers.minimum([x1, x2]).data, np.minimum(x1, x2))
    assert np.allclose(layers.concatenate([x1, x2], axis=1).data, np.concatenate([x1, x2], 1))
    assert np.allclose(layers.dot([x1, x2]).data, (x1 * x2).sum(1, keepdims=True))
    with pytest.raises(ValueError, match="exactly 2"):
        layers.subtract([x1, x2, x3])


def test_plot_model_draws_the_graph_not_a_chain():
    from tinydl import model_visualization

    a, b = keras.Input(shape=(4,), name="left"), keras.Input(shape=(3,), name="right")
    joined = layers.concatenate([layers.Dense(3, name="d")(a), b], name="join")
    model = keras.Model([a, b], layers.Dense(2, name="out")(joined))
    nodes = {node.name: node for node in model_visualization.layer_graph(model)}
    key = {name: node.key for name, node in nodes.items()}
    assert nodes["join"].inbound == [key["d"], key["right"]]
    assert nodes["d"].inbound == [key["left"]] and nodes["right"].inbound == []


def test_a_layer_called_on_several_tensors_builds_a_graph_node():
    """Keras' MultiHeadAttention()(query, value) and (query, value=, key=): the tensors beyond
    the first argument are probed for the output shape and fed at run time."""
    rng = np.random.default_rng(0)
    q_in, v_in = keras.Input((3, 4)), keras.Input((5, 4))
    mha = layers.MultiHeadAttention(num_heads=2, key_dim=2)
    out, scores = mha(q_in, value=v_in, key=v_in, return_attention_scores=True)
    assert out.shape == (None, 3, 4) and scores.shape == (None, 2, 3, 5)
    model = keras.Model([q_in, v_in], [out, scores])
    q, v = rng.standard_normal((2, 3, 4)).astype(np.float32), \
        rng.standard_normal((2, 5, 4)).astype(np.float32)
    got = model.predict([q, v], verbose=0)
    want = mha(q, v, return_attention_scores=True)
    np.testing.assert_allclose(got[0], want[0].numpy(), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(got[1], want[1].numpy(), rtol=1e-6, atol=1e-6)
