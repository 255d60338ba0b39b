"""keras.ops and Python operators on KerasTensors build graph nodes (OpLayers), as in Keras 3:
the same program runs under Keras and tinydl on the same weights, and shapes, dtypes, outputs,
one training step, model.layers and saving agree."""

from __future__ import annotations

import numpy as np
import pytest

import tinydl
from keras_oracle import import_keras


def op_model(keras):
    ops, layers = keras.ops, keras.layers
    inputs = keras.Input(shape=(6,), name="features")
    h = layers.Dense(4, name="hidden")(inputs)
    a = h * 2.0 + 1
    b = -h[:, :2]
    c = ops.expand_dims(ops.mean(h, axis=-1), -1)
    d = 1.0 - ops.square(h[:, -1:]) / 3.0
    e = ops.concatenate([a, b, c, d, abs(h) ** 2], axis=-1)
    f = ops.reshape(e, (-1, 3, 4))
    g = ops.sum(f * ops.softmax(f, axis=1), axis=1) @ np.ones((4, 2), np.float32)
    return keras.Model(inputs, layers.Dense(3, name="head")(g + h[:, 1:3]))


def _weights(seed=0):
    rng = np.random.default_rng(seed)
    return [rng.uniform(-0.5, 0.5, s).astype(np.float32) for s in [(6, 4), (4,), (2, 3), (3,)]]


def _data(seed=1):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((16, 6)).astype(np.float32), rng.standard_normal((16, 3))


def test_ops_on_keras_tensors_make_nodes_with_shapes_and_dtypes():
    x = tinydl.Input(shape=(5, 3))
    assert (x + 1).shape == (None, 5, 3) and (x + 1).dtype == "float32"
    assert x[:, 0].shape == (None, 3) and x[..., 1].shape == (None, 5)
    assert tinydl.ops.reshape(x, (-1,)).shape == (None,)
    assert tinydl.ops.argmax(x, axis=-1).dtype == "int32"
    assert (x > 0).dtype == "bool"
    ints = tinydl.Input(shape=(4,), dtype="int32")
    assert (ints * 2).dtype == "int32" and (ints * 2.5).dtype == "float32"
    top, rest = tinydl.ops.split(x, [1], axis=1)
    assert top.shape == (None, 1, 3) and rest.shape == (None, 4, 3)


def test_op_errors_name_the_op_and_the_shapes():
    x = tinydl.Input(shape=(5, 3))
    with pytest.raises(ValueError, match=r"ops.matmul .*\(None, 5, 3\)"):
        tinydl.ops.matmul(x, np.ones((4, 2), np.float32))


def test_op_model_trains_saves_and_loads(tmp_path):
    model = op_model(tinydl)
    model.set_weights(_weights())
    assert [layer.name for layer in model.layers] == ["features", "hidden", "head"]
    x, y = _data()
    model.compile(optimizer=tinydl.optimizers.SGD(0.05), loss="mse")
    history = model.fit(x, y, batch_size=8, epochs=3, shuffle=False, verbose=0).history
    assert history["loss"][-1] < history["loss"][0]
    path = tmp_path / "ops.keras"
    model.save(path)
    loaded = tinydl.models.load_model(path)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


def test_op_model_matches_keras():
    keras = import_keras()
    theirs, ours = op_model(keras), op_model(tinydl)
    theirs.set_weights(_weights())
    ours.set_weights(_weights())
    assert [layer.name for layer in ours.layers] == [layer.name for layer in theirs.layers]
    assert ours.output.shape == tuple(theirs.output.shape)
    x, y = _data()
    np.testing.assert_allclose(ours.predict(x, verbose=0), theirs.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-6)
    for model, k in ((theirs, keras), (ours, tinydl)):
        model.compile(optimizer=k.optimizers.SGD(0.05), loss="mse")
    loss_theirs = theirs.train_on_batch(x, y)
    loss_ours = ours.train_on_batch(x, y)
    np.testing.assert_allclose(loss_ours, loss_theirs, rtol=1e-5)
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(a, np.asarray(b), rtol=1e-5, atol=1e-6)


def test_summary_lists_the_ops_as_keras_does():
    keras = import_keras()
    rows = {}
    for k in (keras, tinydl):
        inputs = k.Input(shape=(4,))
        h = k.layers.Dense(3)(inputs)
        model = k.Model(inputs, k.ops.expand_dims(h[:, 0] * 2.0, -1))
        lines: list = []
        model.summary(print_fn=lambda line, *args, out=lines, **kwargs: out.append(line))
        text = "\n".join(lines)
        rows[k] = [kind for kind in ("(GetItem)", "(Multiply)", "(ExpandDims)") if kind in text]
    assert rows[tinydl] == rows[keras] == ["(GetItem)", "(Multiply)", "(ExpandDims)"]
