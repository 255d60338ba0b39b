"""model.save + tinydl.models.load_model round-trip the architecture, the compile settings,
every weight and the optimizer state, for every layer type, optimizer, loss and metric."""

from __future__ import annotations

import numpy as np
import pytest

import tinydl
from tinydl import layers, losses, metrics, optimizers
from tinydl.models import Sequential, load_model
from tinydl.schedules import ExponentialDecay

IMAGES = (8, 8, 2)  # H, W, C of the image-layer cases


def _normalization():
    layer = layers.Normalization()
    layer.adapt(np.random.default_rng(5).normal(3.0, 2.0, size=(20,) + IMAGES))
    return layer


# name -> a function giving the layers under test (each case trains one epoch before saving).
LAYER_CASES = {
    "Dense": lambda: [layers.Dense(5, activation="tanh", use_bias=True)],
    "Conv2D": lambda: [layers.Conv2D(3, (3, 2), strides=(1, 2), padding="same", activation="relu")],
    "MaxPooling2D": lambda: [layers.MaxPooling2D(pool_size=(2, 3), strides=1)],
    "AveragePooling2D": lambda: [layers.AveragePooling2D(pool_size=2, padding="same")],
    "GlobalAveragePooling2D": lambda: [layers.GlobalAveragePooling2D(keepdims=True)],
    "Flatten": lambda: [layers.Flatten()],
    "Dropout": lambda: [layers.Dropout(0.4, seed=3)],
    "BatchNormalization": lambda: [layers.BatchNormalization(momentum=0.5)],
    "Activation": lambda: [layers.Activation("sigmoid")],
    "ReLU": lambda: [layers.ReLU(max_value=1.5, negative_slope=0.1)],
    "Softmax": lambda: [layers.Softmax(axis=-1)],
    "Rescaling": lambda: [layers.Rescaling([0.5, 2.0], offset=-1.0)],
    "Normalization": lambda: [_normalization()],
    "Normalization-fixed": lambda: [layers.Normalization(mean=[1.0, 2.0], variance=[4.0, 9.0])],
    "RandomFlip": lambda: [layers.RandomFlip("horizontal", seed=1)],
    "RandomCrop": lambda: [layers.RandomCrop(6, 5, seed=2)],
    "RandomTranslation": lambda: [layers.RandomTranslation(0.2, (-0.1, 0.3), seed=4)],
}


def _model_with(case: str, first: str = "Input") -> Sequential:
    """Input (or InputLayer) -> the case's layers -> Flatten -> Dense(3), compiled with Adam."""
    head = (layers.Input(shape=IMAGES) if first == "Input"
            else layers.InputLayer(input_shape=IMAGES, name="entry"))
    model = Sequential([head, *LAYER_CASES[case](), layers.Flatten(), layers.Dense(3)])
    model.compile(optimizer=optimizers.Adam(0.01), loss="mse", metrics=["mae"])
    return model


def _images(n: int = 12, seed: int = 0):
    rng = np.random.default_rng(seed)
    return (rng.normal(size=(n,) + IMAGES).astype(np.float32),
            rng.normal(size=(n, 3)).astype(np.float32))


def assert_same_model(original, loaded, x) -> None:
    """Same classes, configs, weights (bit for bit), optimizer state and predictions."""
    assert type(loaded) is Sequential
    assert [type(layer) for layer in loaded._layers] == [type(layer) for layer in original._layers]
    assert loaded.get_config() == original.get_config()
    assert loaded.input_shape == original.input_shape
    assert loaded.output_shape == original.output_shape
    assert [w.name for w in loaded.weights] == [w.name for w in original.weights]
    for a, b in zip(original.weights, loaded.weights):
        assert a.trainable == b.trainable
        np.testing.assert_array_equal(b.data, a.data)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), original.predict(x, verbose=0))
    if original.compiled:
        assert_same_optimizer(original.optimizer, loaded.optimizer)


def assert_same_optimizer(original, loaded) -> None:
    assert type(loaded) is type(original)
    assert loaded.get_config() == original.get_config()
    assert loaded.iterations == original.iterations > 0
    state, restored = original.get_state(), loaded.get_state()
    assert list(restored) == list(state)
    for key in state:
        np.testing.assert_array_equal(restored[key], state[key], err_msg=key)


@pytest.mark.parametrize("case", sorted(LAYER_CASES))
def test_every_layer_type_round_trips(case, tmp_path):
    tinydl.utils.set_random_seed(0)
    model = _model_with(case)
    x, y = _images()
    model.fit(x, y, epochs=1, batch_size=4, verbose=0)
    path = tmp_path / "m.tinydl"
    model.save(path)
    assert_same_model(model, load_model(path), x)


def test_batch_normalization_moving_statistics_are_saved(tmp_path):
    tinydl.utils.set_random_seed(0)
    model = _model_with("BatchNormalization")
    x, y = _images()
    model.fit(x * 3 + 2, y, epochs=2, batch_size=4, verbose=0)
    bn = model.layers[0]
    moving = {w.name: w.data.copy() for w in bn.non_trainable_weights}
    assert set(moving) == {"moving_mean", "moving_variance"}
    assert not np.allclose(moving["moving_mean"], 0)
    assert not np.allclose(moving["moving_variance"], 1)
    model.save(tmp_path / "bn.tinydl")
    loaded = load_model(tmp_path / "bn.tinydl").layers[0]
    for w in loaded.non_trainable_weights:
        np.testing.assert_array_equal(w.data, moving[w.name])


def test_adapted_normalization_statistics_are_saved(tmp_path):
    model = _model_with("Normalization")
    model.build((None,) + IMAGES)
    model.save(tmp_path / "n.keras")
    layer = load_model(tmp_path / "n.keras").layers[0]
    original = model.layers[0]
    assert float(layer.count.data) == 20 * 8 * 8
    np.testing.assert_array_equal(layer.mean.data, original.mean.data)
    np.testing.assert_array_equal(layer.variance.data, original.variance.data)


@pytest.mark.parametrize("first", ["Input", "InputLayer"])
def test_input_layer_is_kept(first, tmp_path):
    model = _model_with("Flatten", first=first)
    model.build((None,) + IMAGES)
    model.save(tmp_path / "i.tinydl")
    loaded = load_model(tmp_path / "i.tinydl")
    assert type(loaded._layers[0]).__name__ == "InputLayer"
    assert loaded._layers[0].get_config() == model._layers[0].get_config()
    assert loaded.get_config() == model.get_config()


def test_uncompiled_model_round_trips(tmp_path):
    model = Sequential([layers.Dense(4, input_shape=(3,)), layers.Dense(2)])
    model.save(tmp_path / "u.tinydl")
    loaded = load_model(tmp_path / "u.tinydl")
    assert not loaded.compiled
    assert_same_model(model, loaded, np.ones((2, 3), np.float32))


def test_random_layers_keep_drawing_from_their_seeded_generators(tmp_path):
    """Training=True output of a seeded augmentation layer is reproducible after loading."""
    model = Sequential([layers.Input(shape=IMAGES), layers.RandomFlip(seed=7),
                        layers.RandomTranslation(0.3, 0.3, seed=8)])
    model.save(tmp_path / "r.tinydl")
    loaded = load_model(tmp_path / "r.tinydl")
    x, _ = _images()
    fresh = Sequential([layers.Input(shape=IMAGES), layers.RandomFlip(seed=7),
                        layers.RandomTranslation(0.3, 0.3, seed=8)])
    np.testing.assert_array_equal(loaded(x, training=True).data, fresh(x, training=True).data)


# ----------------------------------------------------------------------------- custom layers

class SavingTestScale(layers.Layer):
    """A user's layer, Keras style: config in __init__, weights in build, get_config."""

    def __init__(self, factor: float = 1.0, **kwargs):
        super().__init__(**kwargs)
        self.factor = float(factor)

    def build(self, input_shape):
        self.alpha = self.add_weight("alpha", (input_shape[-1],), initializer="ones")
        self.shift = self.add_weight("shift", (input_shape[-1],), initializer="zeros",
                                     trainable=False)

    def call(self, inputs, training=None):
        return inputs * self.alpha * self.factor + self.shift

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


def test_custom_layer_is_registered_and_round_trips(tmp_path):
    assert layers.LAYER_CLASSES["SavingTestScale"] is SavingTestScale
    tinydl.utils.set_random_seed(0)
    model = Sequential([layers.Dense(4, input_shape=(3,)), SavingTestScale(2.5, name="scale"),
                        layers.Dense(2)])
    model.compile(optimizer="sgd", loss="mse")
    x = np.random.default_rng(0).normal(size=(8, 3)).astype(np.float32)
    model.fit(x, np.ones((8, 2), np.float32), epochs=1, batch_size=4, verbose=0)
    model.layers[1].shift.assign(np.array([0.5, -1, 2, 3], np.float32))
    model.save(tmp_path / "c.tinydl")
    loaded = load_model(tmp_path / "c.tinydl")
    assert isinstance(loaded.layers[1], SavingTestScale) and loaded.layers[1].factor == 2.5
    assert_same_model(model, loaded, x)


def test_a_layer_class_that_is_not_registered_is_refused_at_save(tmp_path):
    class _Private(SavingTestScale):  # a leading underscore is not registered
        pass

    model = Sequential([layers.Dense(3, input_shape=(3,)), _Private()])
    model.build((None, 3))
    with pytest.raises(ValueError, match="_Private.*LAYER_CLASSES"):
        model.save(tmp_path / "p.tinydl")
    assert not (tmp_path / "p.tinydl").exists()


# ----------------------------------------------------------------------------- Lambda

def _double(x):
    return x * 2


def test_lambda_layer_is_refused_at_save_with_a_clear_error(tmp_path):
    model = Sequential([layers.Dense(3, input_shape=(3,)), layers.Lambda(_double)])
    model.build((None, 3))
    with pytest.raises(ValueError, match=r"Lambda layer 'lambda.*'.*code.*save_weights"):
        model.save(tmp_path / "l.tinydl")
    assert list(tmp_path.iterdir()) == []
    model.save_weights(tmp_path / "l.tinydl")  # the weights alone are fine
    twin = Sequential([layers.Dense(3, input_shape=(3,)), layers.Lambda(_double)])
    twin.build((None, 3))
    twin.load_weights(tmp_path / "l.tinydl")
    np.testing.assert_array_equal(twin.predict(np.eye(3), verbose=0),
                                  model.predict(np.eye(3), verbose=0))


# ----------------------------------------------------------------------------- optimizers

def _sgd_with_schedule():
    return optimizers.SGD(learning_rate=ExponentialDecay(0.1, decay_steps=3, decay_rate=0.5),
                          momentum=0.5)


OPTIMIZERS = {
    "SGD-momentum": lambda: optimizers.SGD(0.05, momentum=0.9, nesterov=True),
    "Adam": lambda: optimizers.Adam(0.01, beta_1=0.8, amsgrad=True),
    "AdamW": lambda: optimizers.AdamW(0.01, weight_decay=0.1),
    "RMSprop": lambda: optimizers.RMSprop(0.01, rho=0.8, momentum=0.5, centered=True),
    "SGD-ExponentialDecay": _sgd_with_schedule,
    "name-adam": lambda: "adam",
    "name-rmsprop": lambda: "rmsprop",
    "clipnorm": lambda: optimizers.Adam(0.01, clipnorm=0.5),
}


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_every_optimizer_resumes_exactly(name, data, tmp_path):
    """Config, step count and slots are restored, and the next step is identical."""
    x, y = data
    tinydl.utils.set_random_seed(0)
    model = Sequential([layers.Dense(8, activation="relu", input_shape=(6,)),
                        layers.BatchNormalization(), layers.Dense(3)])
    model.compile(optimizer=OPTIMIZERS[name](), loss="sparse_categorical_crossentropy")
    model.fit(x, y, epochs=2, batch_size=8, verbose=0, shuffle=False)
    model.save(tmp_path / "o.tinydl")
    loaded = load_model(tmp_path / "o.tinydl")
    assert_same_model(model, loaded, x)
    assert loaded.optimizer.learning_rate == model.optimizer.learning_rate
    model.train_on_batch(x, y)
    loaded.train_on_batch(x, y)
    for a, b in zip(model.weights, loaded.weights):
        np.testing.assert_array_equal(b.data, a.data)
    assert loaded.optimizer.iterations == model.optimizer.iterations == 9


def test_a_learning_rate_changed_during_training_is_restored(data, tmp_path):
    model = Sequential([layers.Dense(3, input_shape=(6,))])
    model.compile(optimizer=optimizers.SGD(0.1), loss="sparse_categorical_crossentropy")
    model.fit(*data, epochs=1, verbose=0)
    model.optimizer.learning_rate = 0.0125  # as a ReduceLROnPlateau callback would
    model.save(tmp_path / "lr.tinydl")
    assert load_model(tmp_path / "lr.tinydl").optimizer.learning_rate == 0.0125


def test_optimizer_state_is_restored_before_any_training(saved, trained):
    loaded = load_model(saved)
    assert loaded.optimizer.built
    assert loaded.optimizer.iterations == trained.optimizer.iterations == 4


def test_a_plain_function_as_learning_rate_is_refused_at_save(tmp_path):
    model = Sequential([layers.Dense(3, input_shape=(6,))])
    model.compile(optimizer=optimizers.SGD(learning_rate=lambda: 0.1), loss="mse")
    with pytest.raises(ValueError, match="learning-rate schedule"):
        model.save(tmp_path / "f.tinydl")
    assert list(tmp_path.iterdir()) == []


# ----------------------------------------------------------------------------- losses, metrics

LOSS_CASES = {
    "names": ("sparse_categorical_crossentropy", ["accuracy"]),
    "objects": (losses.SparseCategoricalCrossentropy(from_logits=True, reduction="sum"),
                [metrics.SparseCategoricalAccuracy(name="acc1")]),
    "mse-names": ("mse", ["mae", "mse"]),
    "mse-objects": (losses.MeanSquaredError(), [metrics.MeanAbsoluteError(), metrics.Mean()]),
    "categorical": (losses.CategoricalCrossentropy(), ["categorical_accuracy"]),
}


def _spec(obj):
    return obj if isinstance(obj, str) else (type(obj), obj.get_config())


@pytest.mark.parametrize("case", sorted(LOSS_CASES))
def test_losses_and_metrics_by_name_or_object_round_trip(case, tmp_path):
    loss, metric_list = LOSS_CASES[case]
    model = Sequential([layers.Dense(3, input_shape=(4,)), layers.Softmax()])
    model.compile(optimizer="sgd", loss=loss, metrics=metric_list)
    model.build((None, 4))
    model.save(tmp_path / "l.tinydl")
    loaded = load_model(tmp_path / "l.tinydl")
    assert loaded.compiled
    assert _spec(loaded.loss) == _spec(loss)
    assert [_spec(m) for m in loaded._metric_specs] == [_spec(m) for m in metric_list]
    x = np.random.default_rng(0).random((6, 4)).astype(np.float32)
    y = np.eye(3, dtype=np.float32)[np.arange(6) % 3]
    if "sparse" in str(_spec(loss)) or "Sparse" in str(_spec(loss)):
        y = np.arange(6) % 3
    assert loaded.evaluate(x, y, verbose=0) == model.evaluate(x, y, verbose=0)


def _my_loss(y_true, y_pred):
    return ((y_true - y_pred) ** 2).mean(axis=-1)


@pytest.mark.parametrize("loss, metric", [
    (_my_loss, "mae"),
    (losses.LossFunctionWrapper(_my_loss), "mae"),
    ("mse", _my_loss),
    ("mse", metrics.MeanMetricWrapper(_my_loss)),
], ids=["loss-function", "loss-wrapper", "metric-function", "metric-wrapper"])
def test_a_function_loss_or_metric_is_refused_at_save(loss, metric, tmp_path):
    model = Sequential([layers.Dense(3, input_shape=(4,))])
    model.compile(optimizer="sgd", loss=loss, metrics=[metric])
    model.build((None, 4))
    with pytest.raises(ValueError, match="cannot save the (loss|metric).*function"):
        model.save(tmp_path / "f.tinydl")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("loss, metric", [
    (losses.categorical_crossentropy, "accuracy"),
    ("categorical_crossentropy", metrics.categorical_accuracy),
], ids=["loss", "metric"])
def test_tinydls_own_loss_and_metric_functions_are_saved_by_name(loss, metric, tmp_path):
    tinydl.utils.set_random_seed(0)
    model = Sequential([layers.Dense(3, activation="softmax", input_shape=(4,))])
    model.compile(optimizer="sgd", loss=loss, metrics=[metric])
    x = np.random.default_rng(0).normal(size=(8, 4)).astype(np.float32)
    y = np.eye(3, dtype=np.float32)[np.arange(8) % 3]
    model.fit(x, y, epochs=1, verbose=0)
    model.save(tmp_path / "m.tinydl")
    loaded = load_model(tmp_path / "m.tinydl")
    assert loaded.evaluate(x, y, verbose=0) == model.evaluate(x, y, verbose=0)
