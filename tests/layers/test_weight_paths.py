"""Variable.path as Keras 3 gives it: the name scopes of the layers a weight was made in
('sequential/dense/kernel', 'bidirectional/forward_lstm/lstm_cell/kernel', 'my_model/dense/
kernel'), for Sequential, functional and subclassed models built in each way, vs Keras."""

from __future__ import annotations

import numpy as np
import pytest

import tinydl
from keras_oracle import import_keras


def path_programs(keras) -> dict:
    layers, out = keras.layers, {}
    model = keras.Sequential([keras.Input((5, 3)), layers.Dense(4),
                              layers.Bidirectional(layers.LSTM(2)), layers.Dense(1)])
    out["sequential with Input"] = model
    model = keras.Sequential([layers.Dense(4), layers.Dense(1)])
    model.build((None, 3))
    out["sequential built"] = model
    model = keras.Sequential([layers.Dense(4), layers.TimeDistributed(layers.Dense(2))])
    model(np.ones((2, 5, 3), np.float32))
    out["sequential called"] = model
    inputs = keras.Input((5, 3))
    hidden = layers.GRU(2, return_sequences=True)(inputs)
    out["functional"] = keras.Model(inputs, layers.TimeDistributed(layers.SimpleRNN(1))(
        layers.Reshape((5, 2, 1))(hidden)))

    class Block(layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.first, self.second = layers.Dense(3), layers.Dense(2)

        def build(self, shape):
            self.scale = self.add_weight(shape=(shape[-1],), name="scale")

        def call(self, x):
            return self.second(self.first(x * self.scale))

    class Net(keras.Model):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.block, self.head = Block(), layers.Dense(1)

        def call(self, x):
            return self.head(self.block(x))

    net = Net()
    net(np.ones((2, 4), np.float32))
    out["subclassed, called"] = net
    net = Net()
    inputs = keras.Input((4,))
    keras.Model(inputs, net(inputs))
    out["subclassed, in a functional model"] = net
    return {case: [w.path for w in model.weights] for case, model in out.items()}


def _without_counts(path: str) -> list:
    """['dense', 'kernel'] for 'dense_3/kernel': each framework counts unique names itself."""
    return [part.rsplit("_", 1)[0] if part.rsplit("_", 1)[-1].isdigit() else part
            for part in path.split("/")]


def test_weight_paths_match_keras():
    keras = import_keras()
    theirs, ours = path_programs(keras), path_programs(tinydl)
    for case, paths in theirs.items():
        assert [_without_counts(p) for p in ours[case]] == [_without_counts(p) for p in paths], \
            case


@pytest.mark.parametrize("first", [True, False])
def test_a_path_is_fixed_where_the_layer_was_first_built(first):
    dense = tinydl.layers.Dense(2, name="shared")
    if first:
        dense(np.ones((1, 3), np.float32))
    model = tinydl.Sequential([dense], name="outer")
    model(np.ones((1, 3), np.float32))
    assert [w.path for w in dense.weights] == (
        ["shared/kernel", "shared/bias"] if first else ["outer/shared/kernel", "outer/shared/bias"])
