"""Keras itself as the oracle for Keras' files: Keras 3 (and TF 2's Keras 2, tf_keras) write
'.keras' and '.h5' files that tinydl loads, and load the ones tinydl writes; on the same
inputs the predictions agree, and the optimizer state carries over, so one more training
step gives the same weights in both."""

from __future__ import annotations

import numpy as np
import pytest
from keras_file_models import DROPOUT, MODELS, data
from keras_oracle import import_keras

import tinydl

ATOL = 2e-5


@pytest.fixture(scope="module")
def keras():
    return import_keras()


@pytest.fixture(scope="module")
def tf_keras():
    import_keras()
    return pytest.importorskip("tf_keras", reason="TF 2's Keras 2 (pip install tf_keras)")


def _train(model, name, steps=2):
    x, y = data(name)
    model.fit(x, y, batch_size=4, epochs=steps // 2, shuffle=False, verbose=0)


def _step(model, name):
    """One more training step on a fixed batch (the resumed trajectory)."""
    x, y = data(name, 4)
    model.fit(x, y, batch_size=4, epochs=1, shuffle=False, verbose=0)


def _weights(model) -> list:
    return [np.asarray(w.data if hasattr(w, "data") and isinstance(w.data, np.ndarray)
                       else w.numpy() if hasattr(w, "numpy") else w) for w in model.weights]


def _same_predictions(theirs, ours, name):
    x, _ = data(name)
    np.testing.assert_allclose(ours.predict(x, verbose=0), np.asarray(theirs.predict(x, verbose=0)),
                               atol=ATOL, rtol=1e-5)


def _same_weights(theirs, ours):
    for mine, other in zip(_weights(ours), [np.asarray(w) for w in theirs.weights]):
        np.testing.assert_allclose(mine, other, atol=ATOL, rtol=1e-4)


def _same_resume(theirs, ours, name):
    assert int(ours.optimizer.iterations) == int(np.asarray(theirs.optimizer.iterations))
    if name in DROPOUT:
        return
    _step(theirs, name)
    _step(ours, name)
    _same_weights(theirs, ours)


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
@pytest.mark.parametrize("name", sorted(MODELS))
def test_a_file_keras_3_wrote_loads_and_resumes_in_tinydl(keras, tmp_path, name, suffix):
    keras.utils.set_random_seed(0)
    theirs = MODELS[name](keras)
    _train(theirs, name)
    path = tmp_path / f"m{suffix}"
    theirs.save(path)
    ours = tinydl.models.load_model(path)
    _same_predictions(theirs, ours, name)
    _same_weights(theirs, ours)
    _same_resume(theirs, ours, name)


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
@pytest.mark.parametrize("name", sorted(MODELS))
def test_a_file_tinydl_wrote_loads_and_resumes_in_keras_3(keras, tmp_path, name, suffix):
    tinydl.utils.set_random_seed(0)
    ours = MODELS[name](tinydl)
    _train(ours, name)
    path = tmp_path / f"m{suffix}"
    ours.save(path)
    theirs = keras.models.load_model(path)
    _same_predictions(theirs, ours, name)
    _same_weights(theirs, ours)
    if suffix == ".h5":
        # Keras 3.15 cannot train a model loaded from a legacy .h5, even one it wrote itself
        # ("Unknown variable ... This optimizer can only be called for the variables it was
        # originally built with"); its legacy reader restores only the step count and the
        # learning rate (it builds no slots), so for '.h5' those are compared.
        from tinydl.saving_keras_state import state_to_keras
        theirs_state = [np.asarray(v) for v in theirs.optimizer.variables]
        assert len(theirs_state) == 2
        for mine, other in zip(state_to_keras(ours.optimizer), theirs_state):
            np.testing.assert_allclose(mine, other, atol=ATOL, rtol=1e-5)
        return
    _same_resume(theirs, ours, name)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_keras_3_to_tinydl_to_keras_3(keras, tmp_path, name):
    keras.utils.set_random_seed(0)
    theirs = MODELS[name](keras)
    _train(theirs, name)
    theirs.save(tmp_path / "a.keras")
    tinydl.models.load_model(tmp_path / "a.keras").save(tmp_path / "b.keras")
    again = keras.models.load_model(tmp_path / "b.keras")
    _same_predictions(theirs, again, name)
    _same_resume(theirs, again, name)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_tinydl_to_keras_3_to_tinydl(keras, tmp_path, name):
    tinydl.utils.set_random_seed(0)
    ours = MODELS[name](tinydl)
    _train(ours, name)
    ours.save(tmp_path / "a.keras")
    keras.models.load_model(tmp_path / "a.keras").save(tmp_path / "b.keras")
    again = tinydl.models.load_model(tmp_path / "b.keras")
    _same_predictions(ours, again, name)
    _same_resume(ours, again, name)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_a_file_tf_keras_wrote_loads_and_resumes_in_tinydl(tf_keras, tmp_path, name):
    tf_keras.utils.set_random_seed(0)
    theirs = MODELS[name](tf_keras)
    _train(theirs, name)
    theirs.save(tmp_path / "m.h5")
    ours = tinydl.models.load_model(tmp_path / "m.h5")
    _same_predictions(theirs, ours, name)
    _same_weights(theirs, ours)
    _same_resume(theirs, ours, name)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_a_file_tinydl_wrote_loads_in_tf_keras(tf_keras, tmp_path, name):
    """TF 2's Keras reads the architecture, weights and compile settings (it starts its own
    optimizer afresh: it reads tinydl's optimizer config as one of its legacy optimizers)."""
    tinydl.utils.set_random_seed(0)
    ours = MODELS[name](tinydl)
    _train(ours, name)
    ours.save(tmp_path / "m.h5")
    theirs = tf_keras.models.load_model(tmp_path / "m.h5")
    _same_predictions(theirs, ours, name)
    assert type(theirs.optimizer).__name__ == type(ours.optimizer).__name__


def test_weights_files_trade_both_ways(keras, tmp_path):
    keras.utils.set_random_seed(0)
    theirs = MODELS["residual"](keras)
    _train(theirs, "residual")
    theirs.save_weights(tmp_path / "k.weights.h5")
    ours = MODELS["residual"](tinydl)
    ours.load_weights(tmp_path / "k.weights.h5")
    _same_predictions(theirs, ours, "residual")
    _step(ours, "residual")
    ours.save_weights(tmp_path / "t.weights.h5")
    theirs.load_weights(tmp_path / "t.weights.h5")
    _same_weights(theirs, ours)


def test_legacy_weights_by_name_skip_the_layers_that_do_not_fit(keras, tmp_path):
    """Fine-tuning: a new head of another size is skipped (with a warning), the rest loads."""
    keras.utils.set_random_seed(0)
    theirs = MODELS["residual"](keras)
    theirs.save(tmp_path / "k.h5")
    x = tinydl.Input((6,), name="features")
    h = tinydl.layers.Dense(6, activation="tanh", name="inner")(x)
    y = tinydl.layers.Dense(5, name="head")(tinydl.layers.Add(name="skip")([x, h]))
    ours = tinydl.Model(x, y)
    with pytest.raises(ValueError, match="head"):
        ours.load_weights(tmp_path / "k.h5", by_name=True)
    with pytest.warns(UserWarning, match="skipping layer 'head'"):
        ours.load_weights(tmp_path / "k.h5", by_name=True, skip_mismatch=True)
    inner = theirs.get_layer("inner")
    np.testing.assert_array_equal(ours.get_layer("inner").weights[0].data,
                                  np.asarray(inner.weights[0]))


# Every tinydl layer that Keras has, in a small Sequential: (name, kwargs, sample shape).
LAYERS = [
    ("Conv1D", {"filters": 3, "kernel_size": 2}, (6, 2)),
    ("Conv2DTranspose", {"filters": 3, "kernel_size": 2, "strides": 2}, (4, 4, 2)),
    ("DepthwiseConv2D", {"kernel_size": 3}, (5, 5, 2)),
    ("SeparableConv2D", {"filters": 3, "kernel_size": 3}, (5, 5, 2)),
    ("AveragePooling2D", {"pool_size": 2}, (4, 4, 2)),
    ("GlobalAveragePooling2D", {}, (4, 4, 2)),
    ("GlobalMaxPooling1D", {}, (5, 2)),
    ("MaxPooling1D", {"pool_size": 2}, (6, 2)),
    ("GRU", {"units": 3}, (5, 2)),
    ("GRU", {"units": 3, "return_sequences": True}, (5, 2)),
    ("SimpleRNN", {"units": 3}, (5, 2)),
    ("LayerNormalization", {}, (5,)),
    ("Embedding", {"input_dim": 7, "output_dim": 3}, (4,)),
    ("Reshape", {"target_shape": (3, 2)}, (6,)),
    ("Permute", {"dims": (2, 1)}, (3, 2)),
    ("RepeatVector", {"n": 2}, (3,)),
    ("ZeroPadding2D", {"padding": 1}, (3, 3, 1)),
    ("Cropping2D", {"cropping": 1}, (4, 4, 1)),
    ("UpSampling2D", {"size": 2}, (2, 2, 1)),
    ("PReLU", {}, (4,)),
    ("LeakyReLU", {"negative_slope": 0.2}, (4,)),
    ("ELU", {}, (4,)),
    ("ReLU", {"max_value": 1.0}, (4,)),
    ("Softmax", {}, (4,)),
    ("Rescaling", {"scale": 0.5, "offset": 1.0}, (4,)),
    ("Activation", {"activation": "tanh"}, (4,)),
    ("SpatialDropout1D", {"rate": 0.5}, (4, 3)),
]


def _layer(lib, name, kwargs):
    return getattr(lib.layers, name)(**kwargs)


def _layer_data(name, shape):
    rng = np.random.default_rng(5)
    if name == "Embedding":
        return rng.integers(0, 7, (3,) + shape).astype(np.float32)
    return rng.standard_normal((3,) + shape).astype(np.float32)


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
@pytest.mark.parametrize("name,kwargs,shape", LAYERS, ids=[f"{n}-{i}" for i, (n, _, _) in
                                                            enumerate(LAYERS)])
def test_every_shared_layer_trades_with_keras_3(keras, tmp_path, name, kwargs, shape, suffix):
    keras.utils.set_random_seed(1)
    theirs = keras.Sequential([keras.Input(shape), _layer(keras, name, kwargs)])
    rng = np.random.default_rng(2)
    for w in theirs.weights:
        w.assign(rng.uniform(-0.5, 0.5, tuple(w.shape)).astype(np.float32))
    theirs.save(tmp_path / f"k{suffix}")
    ours = tinydl.models.load_model(tmp_path / f"k{suffix}")
    x = _layer_data(name, shape)
    np.testing.assert_allclose(ours.predict(x, verbose=0), np.asarray(theirs.predict(
        x, verbose=0)), atol=ATOL, rtol=1e-5)
    ours.save(tmp_path / f"t{suffix}")
    again = keras.models.load_model(tmp_path / f"t{suffix}")
    np.testing.assert_allclose(np.asarray(again.predict(x, verbose=0)),
                               ours.predict(x, verbose=0), atol=ATOL, rtol=1e-5)


@pytest.mark.parametrize("wrapper", ["Bidirectional", "TimeDistributed"])
def test_wrapped_layers_trade_with_keras_3(keras, tmp_path, wrapper):
    def build(lib):
        inner = lib.layers.LSTM(3, return_sequences=True) if wrapper == "Bidirectional" \
            else lib.layers.Dense(2)
        return lib.Sequential([lib.Input((4, 3)), getattr(lib.layers, wrapper)(inner)])
    theirs = build(keras)
    rng = np.random.default_rng(2)
    for w in theirs.weights:
        w.assign(rng.uniform(-0.5, 0.5, tuple(w.shape)).astype(np.float32))
    x = rng.standard_normal((2, 4, 3)).astype(np.float32)
    for suffix in (".keras", ".h5"):
        theirs.save(tmp_path / f"k{suffix}")
        ours = tinydl.models.load_model(tmp_path / f"k{suffix}")
        np.testing.assert_allclose(ours.predict(x, verbose=0), np.asarray(theirs.predict(
            x, verbose=0)), atol=ATOL, rtol=1e-5)
        ours.save(tmp_path / f"t{suffix}")
        np.testing.assert_allclose(np.asarray(keras.models.load_model(tmp_path / f"t{suffix}")
                                              .predict(x, verbose=0)),
                                   ours.predict(x, verbose=0), atol=ATOL, rtol=1e-5)


def test_a_subclassed_model_trades_through_its_registered_key(keras, tmp_path):
    """Keras files a subclassed model's layers by attribute name; the class comes from each
    side's registry (or custom_objects), never from the file."""
    @keras.saving.register_keras_serializable(package="Oracle", name="Net")
    class KerasNet(keras.Model):
        def __init__(self, units=3, **kwargs):
            super().__init__(**kwargs)
            self.units, self.hidden, self.out = units, keras.layers.Dense(units, "relu"), \
                keras.layers.Dense(2)

        def call(self, x):
            return self.out(self.hidden(x))

        def get_config(self):
            return {**super().get_config(), "units": self.units}

    class Net(tinydl.Model):
        def __init__(self, units=3, **kwargs):
            super().__init__(**kwargs)
            self.units, self.hidden, self.out = units, tinydl.layers.Dense(units, "relu"), \
                tinydl.layers.Dense(2)

        def call(self, x):
            return self.out(self.hidden(x))

        def get_config(self):
            return {**super().get_config(), "units": self.units}

    keras.utils.set_random_seed(0)
    theirs = KerasNet(4)
    theirs.compile(optimizer="adam", loss="mse")
    x, y = data("residual")
    theirs.fit(x, y, batch_size=4, verbose=0)
    theirs.save(tmp_path / "k.keras")
    with pytest.raises(ValueError, match="Oracle>Net.*custom_objects"):
        tinydl.models.load_model(tmp_path / "k.keras")
    ours = tinydl.models.load_model(tmp_path / "k.keras", custom_objects={"Oracle>Net": Net})
    assert ours.units == 4
    _same_predictions(theirs, ours, "residual")
    _same_resume(theirs, ours, "residual")
    tinydl.saving.register_keras_serializable(package="Oracle", name="Net")(Net)
    ours.save(tmp_path / "t.keras")
    again = keras.models.load_model(tmp_path / "t.keras")
    assert isinstance(again, KerasNet)
    _same_predictions(again, ours, "residual")
    tinydl.saving_keras.REGISTERED.pop("Oracle>Net")


def test_a_model_inside_a_model_trades_with_keras_3(keras, tmp_path):
    def build(lib):
        inner = lib.Sequential([lib.Input((6,)), lib.layers.Dense(4, activation="relu"),
                                lib.layers.Dense(4)], name="block")
        x = lib.Input((6,))
        return lib.Model(x, lib.layers.Dense(2)(inner(x)))
    theirs = build(keras)
    rng = np.random.default_rng(2)
    for w in theirs.weights:
        w.assign(rng.uniform(-0.5, 0.5, tuple(w.shape)).astype(np.float32))
    for suffix in (".keras", ".h5"):
        theirs.save(tmp_path / f"k{suffix}")
        ours = tinydl.models.load_model(tmp_path / f"k{suffix}")
        _same_predictions(theirs, ours, "residual")
        ours.save(tmp_path / f"t{suffix}")
        _same_predictions(keras.models.load_model(tmp_path / f"t{suffix}"), ours, "residual")


OPTIMIZERS = [("SGD", {"learning_rate": 0.05, "momentum": 0.9}), ("Adam", {"amsgrad": True}),
              ("AdamW", {}), ("RMSprop", {"momentum": 0.5, "centered": True}), ("Adagrad", {}),
              ("Adadelta", {"learning_rate": 0.5}), ("Adamax", {}), ("Nadam", {}), ("Lion", {})]


@pytest.mark.parametrize("name,kwargs", OPTIMIZERS, ids=[n for n, _ in OPTIMIZERS])
def test_every_optimizer_resumes_across_keras_3_files(keras, tmp_path, name, kwargs):
    """Each optimizer's state (Nadam's momentum-schedule product too) crosses a '.keras' file
    both ways: three more steps on either side give the same weights."""
    def build(lib):
        model = lib.Sequential([lib.Input((6,)), lib.layers.Dense(4, activation="tanh"),
                                lib.layers.Dense(2)])
        model.compile(optimizer=getattr(lib.optimizers, name)(**kwargs), loss="mse")
        return model
    keras.utils.set_random_seed(0)
    theirs = build(keras)
    x, y = data("residual")
    theirs.fit(x, y, batch_size=4, epochs=1, shuffle=False, verbose=0)
    theirs.save(tmp_path / "k.keras")
    ours = tinydl.models.load_model(tmp_path / "k.keras")
    assert type(ours.optimizer).__name__ == name
    ours.save(tmp_path / "t.keras")
    again = keras.models.load_model(tmp_path / "t.keras")
    for model in (theirs, ours, again):
        model.fit(x, y, batch_size=4, epochs=1, shuffle=False, verbose=0)
    _same_weights(theirs, ours)
    _same_weights(theirs, again)


def _attention_model(lib, use_bias=True):
    # Dense, not Embedding, in front: Keras on TensorFlow squares an Embedding's sparse
    # gradient per occurrence of a token inside Adam, not per row. SGD, not Adam: the key bias
    # has a zero gradient in exact arithmetic (softmax ignores a constant per query), so its
    # float32 noise is all Adam would see and it would make lr-sized moves of it.
    tokens = lib.Input((5, 3), name="tokens")
    x = lib.layers.Dense(8)(tokens)
    h = lib.layers.MultiHeadAttention(num_heads=2, key_dim=3, value_dim=4, use_bias=use_bias)(x, x)
    x = lib.layers.LayerNormalization()(lib.layers.Add()([x, h]))
    cross = lib.layers.MultiHeadAttention(num_heads=1, key_dim=2, output_shape=6)(
        x, value=x, key=h)
    y = lib.layers.Dense(2)(lib.layers.GlobalAveragePooling1D()(cross))
    model = lib.Model(tokens, y)
    model.compile(optimizer=lib.optimizers.SGD(0.05, momentum=0.9), loss="mse")
    return model


@pytest.mark.parametrize("use_bias", [True, False])
@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_multi_head_attention_trades_with_keras_3(keras, tmp_path, suffix, use_bias):
    """A small Transformer block (self-attention and a cross attention with its own key)
    crosses Keras' files both ways, weights and optimizer state included."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((8, 5, 3)).astype(np.float32)
    y = rng.standard_normal((8, 2)).astype(np.float32)
    keras.utils.set_random_seed(0)
    theirs = _attention_model(keras, use_bias)
    theirs.fit(x, y, batch_size=4, epochs=1, shuffle=False, verbose=0)
    theirs.save(tmp_path / f"k{suffix}")
    ours = tinydl.models.load_model(tmp_path / f"k{suffix}")
    np.testing.assert_allclose(ours.predict(x, verbose=0), np.asarray(theirs.predict(x, verbose=0)),
                               atol=ATOL, rtol=1e-5)
    _same_weights(theirs, ours)
    ours.save(tmp_path / f"t{suffix}")
    again = keras.models.load_model(tmp_path / f"t{suffix}")
    np.testing.assert_allclose(np.asarray(again.predict(x, verbose=0)), ours.predict(x, verbose=0),
                               atol=ATOL, rtol=1e-5)
    if suffix == ".keras":  # (Keras cannot resume from a legacy '.h5': see above)
        for model in (theirs, ours, again):
            model.fit(x, y, batch_size=4, epochs=1, shuffle=False, verbose=0)
        _same_weights(theirs, ours)
        _same_weights(theirs, again)


def test_multi_head_attention_from_tf_keras(tf_keras, tmp_path):
    """TF 2's Keras files MultiHeadAttention()(query, value=..., key=...) in Keras 2's form,
    the other tensors inside the first entry's kwargs: tinydl looks them up."""
    rng = np.random.default_rng(4)
    x = rng.standard_normal((8, 5, 3)).astype(np.float32)
    tf_keras.utils.set_random_seed(0)
    theirs = _attention_model(tf_keras)
    theirs.save(tmp_path / "k.h5")
    ours = tinydl.models.load_model(tmp_path / "k.h5")
    np.testing.assert_allclose(ours.predict(x, verbose=0), np.asarray(theirs.predict(x, verbose=0)),
                               atol=ATOL, rtol=1e-5)
