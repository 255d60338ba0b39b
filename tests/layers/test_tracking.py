"""Weight tracking: sublayers and Variables held in attributes, lists, tuples and dicts are a
layer's weights, train, freeze with trainable=False, and add_loss losses are collected."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import tinydl as keras
from tinydl import Tensor
from tinydl.layers import Dense, Layer, Variable


class GuideLinear(Layer):
    def __init__(self, units=32):
        super().__init__()
        self.units = units

    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1], self.units), initializer="random_normal")
        self.b = self.add_weight(shape=(self.units,), initializer="zeros")

    def call(self, inputs):
        return inputs @ self.w + self.b


class MLPBlock(Layer):
    """The guide's MLPBlock: three GuideLinear layers held as attributes."""

    def __init__(self):
        super().__init__()
        self.linear_1 = GuideLinear(32)
        self.linear_2 = GuideLinear(32)
        self.linear_3 = GuideLinear(1)

    def call(self, inputs):
        x = keras.ops.relu(self.linear_1(inputs))
        x = keras.ops.relu(self.linear_2(x))
        return self.linear_3(x)


def test_mlp_block_tracks_its_sublayers_weights():
    mlp = MLPBlock()
    y = mlp(np.ones((3, 64), np.float32))
    assert y.shape == (3, 1)
    assert len(mlp.weights) == 6 and len(mlp.trainable_weights) == 6
    assert mlp.count_params() == 64 * 32 + 32 + 32 * 32 + 32 + 32 + 1
    assert [layer.name for layer in mlp.layers] == [mlp.linear_1.name, mlp.linear_2.name,
                                                    mlp.linear_3.name]


def test_a_model_of_mlp_blocks_trains():
    class Regressor(keras.Model):
        def __init__(self):
            super().__init__()
            self.block = MLPBlock()

        def call(self, inputs, training=None):
            return self.block(inputs)

    keras.utils.set_random_seed(0)
    x = np.random.default_rng(0).standard_normal((128, 8)).astype(np.float32)
    y = x.sum(axis=1, keepdims=True) ** 2
    model = Regressor()
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="mse")
    history = model.fit(x, y, epochs=15, batch_size=32, verbose=0).history["loss"]
    assert history[-1] < 0.2 * history[0]


def test_lists_tuples_dicts_nested_and_variables_are_tracked_in_order():
    class Holder(Layer):
        def __init__(self):
            super().__init__()
            self.scale = Variable(np.ones(3), name="scale")
            self.frozen = Variable(np.zeros(2), name="count", trainable=False)
            self.stack = [Dense(2, name="s0"), (Dense(2, name="s1"), {"z": Dense(2, name="s2")})]
            self.heads = {"b": Dense(2, name="hb"), "a": Dense(2, name="ha")}
            self.again = self.stack[0]           # the same layer twice: tracked once

        def call(self, x):
            for layer in (self.stack[0], self.stack[1][0], self.stack[1][1]["z"],
                          self.heads["b"], self.heads["a"]):
                x = layer(x)
            return x * self.scale[:2]

    holder = Holder()
    holder(np.ones((1, 2), np.float32))
    paths = [path for path, _, _ in holder._weight_entries()]
    assert paths == ["scale", "count"] + [f"{n}/{w}" for n in ("s0", "s1", "s2", "hb", "ha")
                                          for w in ("kernel", "bias")]
    assert len(holder.trainable_weights) == 11 and len(holder.non_trainable_weights) == 1
    holder.stack.append(Dense(2, name="late"))
    holder.stack[-1].build((None, 2))
    assert "late" in [layer.name for layer in holder.layers] and len(holder.weights) == 14


def test_trainable_false_propagates_to_sublayers_and_back():
    mlp = MLPBlock()
    mlp(np.ones((2, 4), np.float32))
    mlp.trainable = False
    assert mlp.trainable_weights == [] and len(mlp.non_trainable_weights) == 6
    assert not mlp.linear_2.trainable and not mlp.linear_2.w.requires_grad
    mlp.linear_2.trainable = True               # a sublayer alone: the parent still freezes it
    assert mlp.trainable_weights == []
    mlp.trainable = True
    assert len(mlp.trainable_weights) == 6 and mlp.linear_1.w.requires_grad


def test_add_loss_is_collected_from_sublayers_and_reset_each_call():
    class ActivityRegularization(Layer):
        def __init__(self, rate=1e-2):
            super().__init__()
            self.rate = rate

        def call(self, inputs):
            self.add_loss(self.rate * (inputs * inputs).sum())
            return inputs

    class Outer(Layer):
        def __init__(self):
            super().__init__()
            self.reg = ActivityRegularization()

        def call(self, inputs):
            return self.reg(self.reg(inputs))       # called twice: two losses in one call

    outer = Outer()
    x = np.full((2, 3), 2.0, np.float32)
    outer(x)
    assert len(outer.losses) == 2 and outer.losses[0].item() == pytest.approx(0.24)
    outer(x)
    assert len(outer.losses) == 2                  # cleared at the start of the outer call
    with pytest.raises(ValueError, match="add_loss.*Tensor"):
        outer.reg.add_loss(1.0)


def test_add_loss_enters_the_training_loss():
    class Penalty(Layer):
        def call(self, inputs):
            self.add_loss((inputs * inputs).mean() * 10.0)
            return inputs

    inputs = keras.Input(shape=(3,))
    outputs = Dense(1)(Penalty()(Dense(3)(inputs)))
    model = keras.Model(inputs, outputs)
    model.compile(optimizer="sgd", loss="mse")
    x, y = np.ones((4, 3), np.float32), np.zeros((4, 1), np.float32)
    with keras.no_grad():
        plain = ((model(x).data - y) ** 2).mean()
        penalty = model.losses[0].item()
    assert model.test_on_batch(x, y) == pytest.approx(plain + penalty, rel=1e-5)


def test_forgetting_super_init_is_a_clear_error():
    class Forgetful(Layer):
        def __init__(self):
            self.units = 3

        def call(self, inputs):
            return inputs

    with pytest.raises(RuntimeError, match="forgot to call super"):
        Forgetful()(np.ones((1, 2), np.float32))


def test_fit_warns_when_a_model_has_nothing_to_train():
    model = keras.Sequential([Dense(2, input_shape=(3,))])
    model.trainable = False
    model.compile(optimizer="sgd", loss="mse")
    with pytest.warns(UserWarning, match="no trainable weights"):
        model.fit(np.ones((4, 3)), np.zeros((4, 2)), verbose=0)
    model.trainable = True
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model.fit(np.ones((4, 3)), np.zeros((4, 2)), verbose=0)


def test_training_flag_reaches_nested_layers():
    class Noisy(Layer):
        def __init__(self):
            super().__init__()
            self.drop = keras.layers.Dropout(0.5, seed=0)

        def call(self, inputs):
            return self.drop(inputs)                # no training= passed: the outer call's

    layer = Noisy()
    x = Tensor(np.ones((4, 50), np.float32))
    assert np.array_equal(layer(x, training=False).data, x.data)
    assert not np.array_equal(layer(x, training=True).data, x.data)


def test_a_regularizer_given_to_a_variable_later_still_joins_the_losses():
    """Layer.losses skips the walk over every weight until some Variable gets a regularizer
    (the setter says so): one set on an existing variable, in a fresh process where none
    had one, is found, and its penalty trains (in a step's loss)."""
    import subprocess
    import sys
    code = (
        "import numpy as np, tinydl as keras\n"
        "model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])\n"
        "model.compile('sgd', 'mse')\n"
        "assert model.losses == []\n"
        "kernel = model.layers[0].kernel\n"
        "kernel.assign(np.ones((3, 2), np.float32))\n"
        "kernel.regularizer = keras.regularizers.L2(0.5)\n"
        "(penalty,) = model.losses\n"
        "assert abs(float(penalty.numpy()) - 0.5 * 6) < 1e-6, penalty\n"
        "x, y = np.zeros((4, 3), np.float32), np.zeros((4, 2), np.float32)\n"
        "loss = float(model.train_on_batch(x, y))\n"
        "assert abs(loss - 3.0) < 1e-5, loss\n"
        "print('ok')\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr[-2000:]
