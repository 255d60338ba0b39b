"""keras.ops nn functions (tinydl/ops/keras_nn.py): activations, one_hot, cross-entropies and
moments against Keras, NumPy formulas and finite differences."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tinydl import Tensor, ops
from tinydl.utils import gradcheck

RNG = np.random.default_rng(2)


def away_from_kinks(shape, kinks=(0.0,), margin=0.05, scale=3.0):
    x = RNG.uniform(-scale, scale, shape)
    for k in kinks:
        x = np.where(np.abs(x - k) < margin, k + np.copysign(2 * margin, x - k), x)
    return x


ACTIVATIONS = {  # name: (kwargs, kinks, NumPy formula)
    "relu": ({}, (0.0,), lambda x: np.maximum(x, 0)),
    "relu6": ({}, (0.0, 6.0), lambda x: np.clip(x, 0, 6)),
    "sigmoid": ({}, (), lambda x: 1 / (1 + np.exp(-x))),
    "softplus": ({}, (), lambda x: np.log1p(np.exp(x))),
    "softsign": ({}, (), lambda x: x / (1 + np.abs(x))),
    "silu": ({}, (), lambda x: x / (1 + np.exp(-x))),
    "swish": ({}, (), lambda x: x / (1 + np.exp(-x))),
    "log_sigmoid": ({}, (), lambda x: -np.log1p(np.exp(-x))),
    "hard_sigmoid": ({}, (-3.0, 3.0), lambda x: np.clip(x / 6 + 0.5, 0, 1)),
    "gelu": ({}, (), lambda x: 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x**3)))),
    "elu": ({"alpha": 0.7}, (0.0,), lambda x: np.where(x > 0, x, 0.7 * np.expm1(x))),
    "selu": ({}, (0.0,), lambda x: 1.0507009873554805 * np.where(
        x > 0, x, 1.6732632423543772 * np.expm1(x))),
    "leaky_relu": ({"negative_slope": 0.1}, (0.0,), lambda x: np.where(x > 0, x, 0.1 * x)),
    "erf": ({}, (), np.vectorize(math.erf)),
}


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
@pytest.mark.parametrize("shape", [(5,), (2, 3), (2, 3, 4)])
def test_activations_match_numpy_and_gradcheck(name, shape, same_values):
    kwargs, kinks, formula = ACTIVATIONS[name]
    x = away_from_kinks(shape, kinks, scale=7.0 if name == "relu6" else 3.0)
    same_values(getattr(ops, name)(x, **kwargs), formula(x), rtol=1e-7)
    assert gradcheck(lambda t: getattr(ops, name)(t, **kwargs), Tensor(x))


@pytest.mark.parametrize("name", sorted(set(ACTIVATIONS) - {"erf"}))
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_activations_match_keras(name, dtype, same_as_keras):
    kwargs = ACTIVATIONS[name][0]
    x = RNG.uniform(-8, 8, (3, 4)).astype(dtype)
    same_as_keras(name, x, **kwargs)


def test_exact_gelu_matches_keras(same_as_keras):
    x = RNG.uniform(-4, 4, (3, 5))
    same_as_keras("gelu", x, approximate=False)
    assert gradcheck(lambda t: ops.gelu(t, approximate=False), Tensor(x))


def test_integer_inputs_keep_keras_dtypes(same_as_keras):
    x = np.array([-3, 0, 2, 9])
    same_as_keras("relu", x)
    same_as_keras("relu6", x)
    same_as_keras("leaky_relu", x)
    assert ops.sigmoid(x).dtype == np.float32  # Keras on TensorFlow refuses integers here


def test_softplus_and_sigmoid_do_not_overflow():
    x = np.array([-1000.0, 0.0, 1000.0])
    np.testing.assert_allclose(ops.softplus(x).data, [0.0, math.log(2), 1000.0])
    np.testing.assert_allclose(ops.sigmoid(x).data, [0.0, 0.5, 1.0])
    assert np.isfinite(ops.elu(x).data).all()


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@pytest.mark.parametrize("axis", [-1, 0, 1, (0, 1)], ids=str)
def test_softmax_matches_keras_on_any_axis_and_gradcheck(name, axis, same_as_keras):
    x = RNG.standard_normal((2, 3, 4))
    same_as_keras(name, x, axis=axis)
    same_as_keras(name, x.astype("float32") * 30, axis=axis)
    assert gradcheck(lambda t: getattr(ops, name)(t, axis=axis), Tensor(x))


def test_softmax_rejects_an_axis_out_of_range():
    with pytest.raises(ValueError, match=r"softmax: axis must be in \[-2, 2\) for x of shape "
                                         r"\(2, 3\). Received: axis=2"):
        ops.softmax(np.ones((2, 3)), axis=2)


# ----------------------------------------------------------------------------- one_hot

@pytest.mark.parametrize("axis", [-1, 0, 1])
def test_one_hot_matches_keras(axis, same_as_keras):
    labels = np.array([[0, 2], [1, 1], [2, 0]])
    same_as_keras("one_hot", labels, 3, axis=axis)
    same_as_keras("one_hot", labels.astype("int32"), 4, axis=axis, dtype="int32")


def test_one_hot_refuses_labels_outside_the_classes():
    with pytest.raises(ValueError, match=r"one_hot: labels must be in \[0, 3\). "
                                         r"Received: labels from -1 to 5"):
        ops.one_hot(np.array([0, -1, 5]), 3)
    with pytest.raises(TypeError, match=r"one_hot: x must hold integer labels. "
                                        r"Received: x.dtype=float32"):
        ops.one_hot(np.array([0.0, 1.0], "float32"), 3)
    with pytest.raises(ValueError, match=r"num_classes must be a positive int"):
        ops.one_hot(np.array([0]), 0)


# ----------------------------------------------------------------------------- cross-entropies

def probabilities(shape):
    e = np.exp(RNG.standard_normal(shape))
    return e / e.sum(axis=-1, keepdims=True)


@pytest.mark.parametrize("from_logits", [False, True])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_crossentropies_match_keras(from_logits, dtype, same_as_keras):
    logits = RNG.standard_normal((4, 3)).astype(dtype)
    output = logits if from_logits else probabilities((4, 3)).astype(dtype)
    labels = RNG.integers(0, 3, 4)
    target = np.eye(3, dtype=dtype)[labels]
    binary_output = logits if from_logits else (1 / (1 + np.exp(-logits))).astype(dtype)
    same_as_keras("binary_crossentropy", (target > 0).astype(dtype), binary_output,
                  from_logits=from_logits)
    same_as_keras("categorical_crossentropy", target, output, from_logits=from_logits)
    same_as_keras("sparse_categorical_crossentropy", labels, output, from_logits=from_logits)
    same_as_keras("sparse_categorical_crossentropy", labels[:, None], output,
                  from_logits=from_logits)


def test_crossentropies_on_another_axis_match_keras(same_as_keras, same_values):
    logits = RNG.standard_normal((3, 4, 2))
    labels = RNG.integers(0, 4, (3, 2))
    onehot = np.eye(4)[labels].transpose(0, 2, 1)
    expected = same_as_keras("categorical_crossentropy", onehot, logits, from_logits=True, axis=1)
    # Keras on TensorFlow takes only axis=-1 for the sparse one; it must equal the one-hot one
    same_values(ops.sparse_categorical_crossentropy(labels, logits, from_logits=True, axis=1),
                expected.data)


@pytest.mark.parametrize("from_logits", [False, True])
def test_crossentropies_gradcheck(from_logits):
    logits = RNG.standard_normal((4, 3))
    output = logits if from_logits else probabilities((4, 3))
    labels = RNG.integers(0, 3, 4)
    binary_output = logits if from_logits else 1 / (1 + np.exp(-logits))
    binary_target = RNG.random((4, 3))
    assert gradcheck(lambda t: ops.binary_crossentropy(binary_target, t, from_logits),
                     Tensor(binary_output))
    assert gradcheck(lambda t: ops.categorical_crossentropy(np.eye(3)[labels], t, from_logits),
                     Tensor(output))
    assert gradcheck(lambda t: ops.sparse_categorical_crossentropy(labels, t, from_logits),
                     Tensor(output))


def test_crossentropies_reject_mismatched_shapes():
    with pytest.raises(ValueError, match=r"categorical_crossentropy: target and output must have "
                                         r"one shape. Received: target.shape=\(2, 4\), "
                                         r"output.shape=\(2, 3\)"):
        ops.categorical_crossentropy(np.ones((2, 4)), np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"sparse_categorical_crossentropy: target must have "
                                         r"shape \(2,\) .* Received: target.shape=\(3,\)"):
        ops.sparse_categorical_crossentropy(np.array([0, 1, 2]), np.ones((2, 3)))


# ----------------------------------------------------------------------------- moments

@pytest.mark.parametrize("axes", [0, [0], [0, 1], -1], ids=str)
@pytest.mark.parametrize("keepdims", [False, True])
def test_moments_match_keras_and_gradcheck(axes, keepdims, same_as_keras):
    x = RNG.standard_normal((3, 4, 2))
    same_as_keras("moments", x.astype("float32"), axes, keepdims=keepdims)
    assert gradcheck(lambda t: ops.add(*ops.moments(t, axes, keepdims)), Tensor(x))
