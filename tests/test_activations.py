"""keras.activations: every function against Keras 3's on the same inputs (values and
gradients), gradient checks against finite differences, and get()/name_of()/serialize."""

from __future__ import annotations

import numpy as np
import pytest

import tinydl
from tinydl import activations
from tinydl.utils import gradcheck
from keras_oracle import import_keras

# (name, extra keyword arguments); inputs avoid the kinks of piecewise functions by > 1e-3
CASES = [
    ("relu", {}), ("relu", {"negative_slope": 0.1}), ("relu", {"max_value": 1.0}),
    ("relu", {"threshold": 0.5}), ("relu", {"negative_slope": 0.2, "max_value": 1.5, "threshold": 0.3}),
    ("relu", {"max_value": 6.0}),
    ("leaky_relu", {}), ("relu6", {}), ("softmax", {}), ("softmax", {"axis": 0}), ("log_softmax", {}),
    ("elu", {}), ("elu", {"alpha": 0.5}), ("celu", {"alpha": 2.0}), ("selu", {}), ("softplus", {}),
    ("softsign", {}), ("squareplus", {}), ("squareplus", {"b": 1.0}), ("sparse_plus", {}),
    ("silu", {}), ("swish", {}), ("gelu", {}), ("gelu", {"approximate": True}), ("glu", {}),
    ("tanh", {}), ("tanh_shrink", {}), ("hard_tanh", {}), ("hard_shrink", {}),
    ("soft_shrink", {"threshold": 0.3}), ("sigmoid", {}), ("sparse_sigmoid", {}),
    ("hard_sigmoid", {}), ("hard_silu", {}), ("hard_swish", {}), ("log_sigmoid", {}),
    ("exponential", {}), ("mish", {}), ("linear", {}), ("threshold", {"threshold": 0.2, "default_value": -1.0}),
]
KINKS = (-3.0, -1.0, -0.5, -0.3, 0.0, 0.2, 0.3, 0.5, 1.0, 1.5, 3.0, 6.0)


def _inputs(shape=(4, 6), seed=0):
    x = np.random.default_rng(seed).uniform(-4, 4, shape)
    for kink in KINKS:  # push values off the kinks so finite differences and ties are clean
        near = np.abs(x - kink) < 1e-2
        x[near] += 2e-2
    return x


@pytest.mark.parametrize("name,kwargs", CASES, ids=[f"{n}-{sorted(k)}" for n, k in CASES])
def test_matches_keras_values_and_gradients(name, kwargs):
    keras = import_keras()
    import tensorflow as tf
    x = _inputs().astype(np.float32)
    xt = tf.Variable(x)
    with tf.GradientTape() as tape:
        theirs = getattr(keras.activations, name)(xt, **kwargs)
        r = np.random.default_rng(1).standard_normal(tuple(theirs.shape)).astype(np.float32)
        loss = tf.reduce_sum(theirs * r)
    their_grad = tape.gradient(loss, xt)
    xs = tinydl.Tensor(x, requires_grad=True)
    ours = getattr(activations, name)(xs, **kwargs)
    assert ours.shape == tuple(theirs.shape)
    np.testing.assert_allclose(ours.data, theirs.numpy(), rtol=1e-5, atol=1e-6)
    (ours * tinydl.Tensor(r)).sum().backward()
    expected = np.zeros_like(x) if their_grad is None else their_grad.numpy()
    np.testing.assert_allclose(xs.grad, expected, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name,kwargs", [c for c in CASES if c[0] != "linear"],
                         ids=[f"{n}-{sorted(k)}" for n, k in CASES if n != "linear"])
def test_gradients_match_finite_differences(name, kwargs):
    x = tinydl.Tensor(_inputs((3, 4), seed=2))
    assert gradcheck(lambda t: getattr(activations, name)(t, **kwargs), x)


def test_get_returns_the_fused_ops_for_keras_functions():
    from tinydl import ops
    assert activations.get("relu") is ops.relu and activations.get(activations.relu) is ops.relu
    assert activations.get(activations.tanh) is ops.tanh
    assert activations.get("SIGMOID") is ops.sigmoid
    assert activations.name_of(activations.get("gelu")) == "gelu"
    assert activations.name_of(activations.swish) == "silu"


def test_a_dense_layer_takes_keras_functions_and_names():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 5)).astype(np.float32)
    by_name = tinydl.layers.Dense(4, activation="gelu")
    by_fn = tinydl.layers.Dense(4, activation=activations.gelu)
    by_name.build_for((None, 5))
    by_fn.build_for((None, 5))
    by_fn.set_weights(by_name.get_weights())
    linear = x @ by_name.get_weights()[0] + by_name.get_weights()[1]
    expected = activations.gelu(linear).data
    np.testing.assert_allclose(by_name(x).data, expected, rtol=1e-6)
    np.testing.assert_allclose(by_fn(x).data, expected, rtol=1e-6)
    assert by_fn.get_config()["activation"] == "gelu"


def test_unknown_names_and_objects_raise():
    with pytest.raises(ValueError, match="unknown activation 'gelux'"):
        activations.get("gelux")
    with pytest.raises(ValueError, match="Received: 3"):
        activations.get(3)
    with pytest.raises(ValueError, match="not one of keras.activations"):
        activations.serialize(lambda t: t)
    with pytest.raises(ValueError, match="must be even"):
        activations.glu(np.ones((2, 3), np.float32))
    with pytest.raises(AttributeError, match="not implemented in tinydl"):
        activations.sparsemax  # noqa: B018


def test_serialize_round_trip():
    for name in ("relu", "gelu", "softmax", "mish"):
        fn = activations.get(name)
        assert activations.deserialize(activations.serialize(fn)) is fn
    assert activations.deserialize({"class_name": "function", "config": "elu"}) is activations.elu
