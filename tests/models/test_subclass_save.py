"""model.save / load_model for subclassed models, as Keras 3: the file holds the class name and
get_config() (the __init__ arguments, automatically when they are plain values); load_model
finds the class in custom_objects or among the registered classes, never in the file."""

from __future__ import annotations

import numpy as np
import pytest

import tinydl
from tinydl.saving import ModelFileError

layers = tinydl.layers


class GuideMLP(tinydl.Model):
    def __init__(self, units=8, outputs=2, **kwargs):
        super().__init__(**kwargs)
        self.hidden = layers.Dense(units, activation="relu")
        self.out = layers.Dense(outputs)

    def call(self, x):
        return self.out(self.hidden(x))


class WithConfig(tinydl.Model):
    def __init__(self, block, **kwargs):  # block: a layer, so get_config/from_config are needed
        super().__init__(**kwargs)
        self.block, self.head = block, layers.Dense(1)

    def call(self, x):
        return self.head(self.block(x))

    def get_config(self):
        return {**super().get_config(), "units": self.block.units}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        return cls(layers.Dense(config.pop("units")), **config)


class Unsaveable(tinydl.Model):
    def __init__(self, block):
        super().__init__()
        self.block = block

    def call(self, x):
        return self.block(x)


def _data():
    rng = np.random.default_rng(0)
    return rng.standard_normal((12, 3)).astype(np.float32), rng.standard_normal((12, 2))


# tinydl's own file finds a defined class by its name; Keras' .keras needs it in custom_objects
# (or registered), as Keras does, and stores the optimizer's scalars in float32 as Keras does
@pytest.mark.parametrize("custom,suffix", [(True, "keras"), (True, "tinydl"), (False, "tinydl")])
def test_subclassed_model_round_trips_with_its_optimizer(tmp_path, custom, suffix):
    x, y = _data()
    model = GuideMLP(units=5, name="guide_mlp")
    model.compile(optimizer="adam", loss="mse")
    model.fit(x, y, epochs=2, batch_size=4, verbose=0)
    assert model.get_config() == {"name": "guide_mlp", "trainable": True, "units": 5,
                                  "outputs": 2}
    model.save(tmp_path / f"mlp.{suffix}")
    loaded = tinydl.models.load_model(tmp_path / f"mlp.{suffix}",
                                      custom_objects={"GuideMLP": GuideMLP} if custom else None)
    assert type(loaded) is GuideMLP and loaded.name == "guide_mlp"
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    assert int(loaded.optimizer.iterations) == int(model.optimizer.iterations) == 6
    for a, b in zip(loaded.optimizer.get_state().values(), model.optimizer.get_state().values()):
        np.testing.assert_allclose(a, b, rtol=1e-7 if suffix == "keras" else 0)
    # training goes on from the same state in both
    np.testing.assert_allclose(loaded.train_on_batch(x, y), model.train_on_batch(x, y), rtol=1e-6)


def test_a_custom_get_config_and_from_config_are_used(tmp_path):
    x, _ = _data()
    model = WithConfig(layers.Dense(4))
    model(x)
    model.save(tmp_path / "custom.keras")
    loaded = tinydl.saving.load_model(tmp_path / "custom.keras",
                                      custom_objects={"WithConfig": WithConfig})
    assert loaded.block.units == 4
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


def test_a_model_whose_config_cannot_rebuild_it_is_refused_before_writing(tmp_path):
    model = Unsaveable(layers.Dense(2))
    model(np.ones((1, 3), np.float32))
    with pytest.raises(ValueError, match="implement get_config"):
        model.save(tmp_path / "no.keras")
    assert not (tmp_path / "no.keras").exists()


def test_the_class_comes_only_from_custom_objects_or_registration(tmp_path):
    model = GuideMLP()
    model(np.ones((1, 3), np.float32))
    model.save(tmp_path / "mlp.tinydl")
    with pytest.raises(ModelFileError, match="neither Sequential, Functional nor a Model"):
        tinydl.models.load_model(tmp_path / "mlp.tinydl",
                                 custom_objects={"GuideMLP": tinydl.layers.Dense})
    with pytest.raises(TypeError, match="custom_objects must be a dict"):
        tinydl.models.load_model(tmp_path / "mlp.tinydl", custom_objects=[GuideMLP])
    model.save(tmp_path / "mlp.keras")
    with pytest.raises(ModelFileError, match="custom_objects"):  # Keras' file: never found by name alone
        tinydl.models.load_model(tmp_path / "mlp.keras")


def test_custom_objects_reach_the_layers_of_a_functional_model(tmp_path):
    class Doubler(layers.Layer):
        def call(self, x):
            return x * 2.0

    inputs = tinydl.Input(shape=(3,))
    model = tinydl.Model(inputs, layers.Dense(2)(Doubler(name="doubler")(inputs)))
    model.save(tmp_path / "f.keras")
    loaded = tinydl.models.load_model(tmp_path / "f.keras", custom_objects={"Doubler": Doubler})
    assert type(loaded.get_layer("doubler")) is Doubler
    x = np.ones((2, 3), np.float32)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
