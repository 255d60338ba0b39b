"""Layer and Variable: Keras-style custom layers, the registry, trainable, weights, names."""

from __future__ import annotations

import sys
import threading

import numpy as np
import pytest

from tinydl import Tensor
from tinydl.layers import (LAYER_CLASSES, BatchNormalization, Conv2D, Dense, Flatten,
                           GlobalAveragePooling2D, Input, Layer, MaxPooling2D, ReLU, Variable)
from tinydl.models import Sequential


class Linear(Layer):
    """The custom layer of Keras' guide 'Making new layers and models via subclassing'."""

    def __init__(self, units=32, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1], self.units), initializer="random_normal",
                                 trainable=True)
        self.b = self.add_weight(shape=(self.units,), initializer="zeros", trainable=True)

    def call(self, inputs):                      # no training argument: allowed, as in Keras
        return inputs @ self.w + self.b

    def get_config(self):
        return {**super().get_config(), "units": self.units}


class Scale(Layer):
    def build(self, input_shape):
        self.alpha = self.add_weight("alpha", (input_shape[-1],), initializer="ones")
        self.count = self.add_weight("count", (), initializer="zeros", trainable=False)

    def call(self, inputs, training=None):
        return inputs * self.alpha


def test_custom_layer_works_and_is_registered():
    class RegisteredByDefiningIt(Layer):  # defining a Layer subclass registers it (the last definition wins)
        pass
    assert LAYER_CLASSES["RegisteredByDefiningIt"] is RegisteredByDefiningIt
    layer = Linear(4)
    x = Tensor(np.ones((2, 3), np.float32), requires_grad=True)
    y = layer(x)
    assert y.shape == (2, 4) and layer.built
    assert [w.name for w in layer.weights] == ["variable", "variable_1"]
    assert layer.count_params() == 16
    assert layer.compute_output_shape((None, 3)) == (None, 4)   # found by running call
    y.sum().backward()
    np.testing.assert_allclose(layer.w.grad, np.full((3, 4), 2.0))
    clone = Linear.from_config(layer.get_config())
    assert clone.units == 4 and clone.name == layer.name


def test_a_programs_class_named_like_a_built_in_layer_does_not_replace_it(tmp_path):
    """Keras' guides define `class ActivityRegularization(Layer)`: tinydl's own layer of that
    name stays the one the registry (from_config, load_model) resolves, and a model holding
    the program's class refuses to save, naming the clash, instead of writing a file that
    would load as the other class."""
    import tinydl
    from tinydl.layers import ActivityRegularization as BuiltIn

    class ActivityRegularization(Layer):
        def call(self, inputs):
            return inputs * 2

    assert LAYER_CLASSES["ActivityRegularization"] is BuiltIn
    clone = LAYER_CLASSES["ActivityRegularization"].from_config(
        BuiltIn(l1=0.1, name="reg").get_config())
    assert type(clone) is BuiltIn and clone.l1 == 0.1
    model = Sequential([tinydl.Input((3,)), ActivityRegularization()])
    with pytest.raises(ValueError, match="not the class registered as 'ActivityRegularization'"):
        model.save(tmp_path / "clash.keras")
    assert not (tmp_path / "clash.keras").exists()


def test_trainable_false_freezes():
    layer = Scale()
    layer.build_for((None, 3))
    assert [w.name for w in layer.trainable_weights] == ["alpha"]
    assert [w.name for w in layer.non_trainable_weights] == ["count"]
    layer.trainable = False
    assert layer.trainable_weights == [] and not layer.alpha.requires_grad
    assert [w.name for w in layer.weights] == ["alpha", "count"]
    x = Tensor(np.ones((1, 3), np.float32), requires_grad=True)
    layer(x).sum().backward()
    assert layer.alpha.grad is None and x.grad is not None
    layer.trainable = True
    assert layer.alpha.requires_grad and not layer.count.requires_grad


def test_declared_input_shape_is_used_to_build():
    layer = Dense(2, input_shape=(3,))
    with pytest.raises(ValueError, match=r"in=3, got \(4, 5\)"):
        layer(np.ones((4, 5), np.float32))
    assert Dense(2, input_dim=3).input_shape_arg == (3,)
    assert Dense(2, batch_input_shape=(None, 7)).input_shape_arg == (7,)


def test_weights_round_trip_and_errors():
    layer = Dense(2)
    layer.build_for((None, 3))
    values = [np.arange(6, dtype=np.float32).reshape(3, 2), np.array([1, 2], np.float32)]
    layer.set_weights(values)
    for got, want in zip(layer.get_weights(), values):
        np.testing.assert_array_equal(got, want)
    with pytest.raises(ValueError, match=r"2 weight arrays \(\['kernel', 'bias'\]\), got 1"):
        layer.set_weights(values[:1])
    with pytest.raises(ValueError, match=r"shape \(2,\) to weight 'kernel' of shape \(3, 2\)"):
        layer.kernel.assign(np.zeros(2))
    with pytest.raises(TypeError, match="needs a shape"):
        Layer().add_weight("w")
    with pytest.raises(TypeError, match="unexpected keyword arguments: \\['units2'\\]"):
        Dense(2, units2=3)


def test_variable_and_names():
    v = Variable(np.ones(3), "gamma", trainable=False)
    assert v.dtype == np.float32 and not v.requires_grad and "gamma" in repr(v)
    a, b = Dense(1), Dense(1)
    assert a.name != b.name and a.name.startswith("dense")


@pytest.mark.parametrize("layer, keras_name", [
    (lambda: Dense(1), "dense"), (lambda: Conv2D(1, 1), "conv2d"),
    (lambda: MaxPooling2D(), "max_pooling2d"), (lambda: BatchNormalization(), "batch_normalization"),
    (lambda: GlobalAveragePooling2D(), "global_average_pooling2d"), (lambda: ReLU(), "re_lu")])
def test_default_names_follow_keras_snake_case(layer, keras_name):
    name = layer().name
    assert name == keras_name or name.startswith(keras_name + "_")


def test_layers_made_in_several_threads_get_distinct_names():
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads often, inside the name counter's update
    names = []

    def make():
        names.extend(Flatten().name for _ in range(2000))
    try:
        threads = [threading.Thread(target=make) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    finally:
        sys.setswitchinterval(previous)
    assert len(names) == 8000 and len(set(names)) == 8000


@pytest.mark.parametrize("make, message", [
    (lambda: Dense(4, input_shape=(-1, 8, 1)), r"Dense: input_shape must hold positive ints.*"
                                               r"-1 is not. Received: input_shape=\(-1, 8, 1\)"),
    (lambda: Conv2D(4, 3, input_shape=(0, 8, 1)), r"Conv2D: input_shape .* 0 is not"),
    (lambda: Dense(4, input_shape=(8.0,)), r"8.0 is not. Received: input_shape=\(8.0,\)"),
    (lambda: Dense(4, input_shape=("8",)), r"'8' is not"),
    (lambda: Dense(4, input_shape=8), r"input_shape must be a tuple of sizes.*Received: input_shape=8"),
    (lambda: Dense(4, batch_input_shape=(None, -2)), r"batch_input_shape .* -2 is not"),
    (lambda: Dense(4, input_dim=0), r"input_dim must be a positive int. Received: input_dim=0"),
    (lambda: Input(shape=(28, -28)), r"InputLayer: shape .* -28 is not"),
    (lambda: Input(batch_shape=(0, 3)), r"InputLayer: batch_shape .* 0 is not"),
    (lambda: Input(shape=(3,), batch_size=-1), r"batch_size must be a positive int"),
    (lambda: Sequential([Dense(2)]).build((None, -4)), r"build: input_shape .* -4 is not"),
])
def test_shapes_with_sizes_below_one_or_not_ints_are_refused(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_shapes_may_leave_sizes_unknown_with_none():
    assert Dense(4, input_shape=(None, 8)).build_for((None, None, 8)) == (None, None, 4)
    assert Input(shape=[5]).shape == (None, 5)          # a KerasTensor (Keras 3)
    assert Input(batch_shape=(4, 3)).shape == (4, 3)
    assert Sequential([Dense(2, input_shape=(np.int64(3),))]).output_shape == (None, 2)
