"""Losses and metrics against NumPy (Keras' formulas), model gradients against finite differences,
and the fused softmax cross-entropy path against the plain one."""

from __future__ import annotations

import numpy as np
import pytest

from tinydl import losses, metrics
from tinydl.layers import Dense
from tinydl.models import Sequential
from tinydl.tensor import Tensor
from tinydl.utils import gradcheck, set_random_seed

EPS = 1e-7
RNG = np.random.default_rng(0)
PROBS = RNG.dirichlet(np.ones(4), size=5).astype(np.float32)         # (5, 4) rows sum to 1
LABELS = np.array([0, 3, 1, 1, 2])
ONEHOT = np.eye(4, dtype=np.float32)[LABELS]


def test_crossentropies_match_numpy():
    expected = -np.log(np.clip(PROBS[np.arange(5), LABELS], EPS, 1 - EPS)).mean()
    assert losses.SparseCategoricalCrossentropy()(LABELS, Tensor(PROBS)).item() == pytest.approx(expected, rel=1e-5)
    assert losses.CategoricalCrossentropy()(ONEHOT, Tensor(PROBS)).item() == pytest.approx(expected, rel=1e-5)
    logits = RNG.standard_normal((5, 4)).astype(np.float32)
    log_p = logits - np.log(np.exp(logits).sum(1, keepdims=True))
    got = losses.get("sparse_categorical_crossentropy")
    assert losses.SparseCategoricalCrossentropy(from_logits=True)(LABELS, Tensor(logits)).item() == \
        pytest.approx(-log_p[np.arange(5), LABELS].mean(), rel=1e-5)
    assert got.from_logits is False and got.reduction == "sum_over_batch_size"


def test_binary_crossentropy_clips_like_keras():
    p = np.array([[0.0], [0.3], [1.0]], dtype=np.float32)
    y = np.array([1.0, 0.0, 1.0], dtype=np.float32)       # (N,) targets for (N, 1) outputs
    pc = np.clip(p[:, 0].astype(np.float64), EPS, 1 - EPS)
    expected = -(y * np.log(pc) + (1 - y) * np.log(1 - pc)).mean()
    assert losses.BinaryCrossentropy()(y, Tensor(p)).item() == pytest.approx(expected, rel=1e-4)
    logits = np.array([[-30.0], [0.5], [40.0]], dtype=np.float32)
    stable = losses.BinaryCrossentropy(from_logits=True)(y, Tensor(logits)).item()
    # per sample max(x, 0) - x * y + log(1 + exp(-|x|)): 30, 0.5 + log(1 + e^-0.5), 0
    assert stable == pytest.approx((30.0 + 0.5 + np.log1p(np.exp(-0.5))) / 3, rel=1e-5)


def test_regression_losses():
    y, p = RNG.standard_normal((6, 3)), RNG.standard_normal((6, 3)).astype(np.float32)
    assert losses.get("mse")(y, Tensor(p)).item() == pytest.approx(((y - p) ** 2).mean(), rel=1e-5)
    assert losses.get("mae")(y, Tensor(p)).item() == pytest.approx(np.abs(y - p).mean(), rel=1e-5)
    with pytest.raises(ValueError, match=r"targets of shape \(6,\) do not match predictions of shape \(6, 3\)"):
        losses.MeanSquaredError()(y[:, 0], Tensor(p))


def test_unknown_loss_lists_valid_names():
    with pytest.raises(ValueError, match="valid names: .*sparse_categorical_crossentropy"):
        losses.get("hingee")


def test_metrics_accumulate_and_reset():
    m = metrics.SparseCategoricalAccuracy()
    m.update_state([1, 2], [[0.1, 0.9, 0.0], [0.8, 0.1, 0.1]])
    m.update_state([0], [[0.9, 0.1, 0.0]])
    assert m.result() == pytest.approx(2 / 3)
    m.reset_state()
    assert m.result() == 0.0
    assert metrics.CategoricalAccuracy()(ONEHOT, PROBS) == pytest.approx(
        (PROBS.argmax(1) == LABELS).mean())
    assert metrics.BinaryAccuracy()([1, 0, 1], [[0.6], [0.4], [0.2]]) == pytest.approx(2 / 3)
    assert metrics.MeanSquaredError()([[1.0, 2.0]], [[0.0, 0.0]]) == pytest.approx(2.5)
    assert metrics.MeanAbsoluteError()([[1.0, 2.0]], [[0.0, 0.0]]) == pytest.approx(1.5)
    mean = metrics.Mean()
    mean.update_state([1.0, 3.0])
    assert mean.result() == 2.0


# ---------------------------------------------------------------- whole-model gradients
def _model(units_out, activation, seed=1):
    set_random_seed(seed)
    model = Sequential([Dense(5, activation="tanh", input_shape=(3,)),
                        Dense(units_out, activation=activation)])
    return model


def _check_model_gradients(model, loss, y):
    """gradcheck over all weights: the function installs its inputs as the layers' weights."""
    model.compile(optimizer="sgd", loss=loss)
    x = RNG.standard_normal((4, 3))
    dense = model.layers

    def total_loss(k1, b1, k2, b2):
        dense[0].kernel, dense[0].bias, dense[1].kernel, dense[1].bias = k1, b1, k2, b2
        _, loss_value = model._forward_and_loss(x, y, None, training=True)
        return loss_value

    weights = [np.asarray(w.data, np.float64) for w in model.weights]
    saved = [layer.__dict__.copy() for layer in dense]
    try:
        assert gradcheck(total_loss, *weights, atol=1e-6, rtol=1e-4)
    finally:
        for layer, state in zip(dense, saved):
            layer.__dict__.update(state)


@pytest.mark.parametrize("loss,activation,y", [
    ("sparse_categorical_crossentropy", "softmax", np.array([0, 2, 1, 2])),        # fused path
    ("categorical_crossentropy", "softmax", np.eye(3)[[0, 2, 1, 2]]),              # fused path
    ("sparse_categorical_crossentropy", None, np.array([0, 2, 1, 2])),
    ("binary_crossentropy", "sigmoid", np.array([[1, 0, 1], [0, 0, 1], [1, 1, 0], [0, 1, 0]])),
    ("mse", None, RNG.standard_normal((4, 3))),
    ("mae", "tanh", RNG.standard_normal((4, 3))),
])
def test_model_gradients_match_finite_differences(loss, activation, y):
    _check_model_gradients(_model(3, activation), loss, y)


def test_regularization_penalty_is_added_and_differentiated():
    set_random_seed(2)
    model = Sequential([Dense(4, input_shape=(3,), kernel_regularizer="l2"), Dense(2)])
    model.compile(optimizer="sgd", loss="mse")
    x, y = RNG.standard_normal((8, 3)), RNG.standard_normal((8, 2))
    with_penalty = model.test_on_batch(x, y)
    plain = losses.get("mse")(y, model(x)).item()
    penalty = 0.01 * float((model.layers[0].kernel.data.astype(np.float64) ** 2).sum())
    assert with_penalty == pytest.approx(plain + penalty, rel=1e-5)


# ---------------------------------------------------------------- fused == unfused
@pytest.mark.parametrize("loss,y", [
    ("sparse_categorical_crossentropy", np.array([0, 2, 1, 2, 0, 1])),
    ("categorical_crossentropy", np.eye(3, dtype=np.float32)[[0, 2, 1, 2, 0, 1]]),
])
def test_fused_softmax_path_equals_plain_path(loss, y):
    model = _model(3, "softmax")
    model.compile(optimizer="sgd", loss=loss)
    assert model._fused_kind() == "softmax"
    x = (RNG.standard_normal((6, 3)) * 3).astype(np.float32)

    def loss_and_grads(fused):
        for w in model.trainable_weights:
            w.grad = None
        model._fused = "softmax" if fused else None
        out, value = model._forward_and_loss(x, y, None, training=True)
        out = out.data
        value.backward()
        return value.item(), [w.grad.copy() for w in model.trainable_weights], out

    fused_loss, fused_grads, fused_out = loss_and_grads(True)
    plain_loss, plain_grads, plain_out = loss_and_grads(False)
    assert fused_loss == pytest.approx(plain_loss, rel=1e-5)
    for a, b in zip(fused_grads, plain_grads):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(fused_out, plain_out, rtol=1e-5, atol=1e-7)
    assert model.layers[-1].activation.__name__ == "softmax"   # restored after the logits pass


def test_fused_path_is_stable_where_the_plain_one_saturates():
    model = Sequential([Dense(2, activation="softmax", input_shape=(1,), kernel_initializer="ones")])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    model.layers[0].kernel.assign(np.array([[100.0, -100.0]]))
    # softmax rounds p[1] to 0 in float32: Keras' clipped plain loss would be -log(1e-7) ~ 16.1
    loss = model.test_on_batch(np.ones((1, 1)), np.array([1]))
    assert loss == pytest.approx(200.0, rel=1e-5)


def test_fused_path_detection():
    from tinydl import layers
    cases = [([Dense(3, activation="softmax")], "sparse_categorical_crossentropy", "softmax"),
             ([Dense(3), layers.Activation("softmax")], "categorical_crossentropy", "softmax"),
             ([Dense(1, activation="sigmoid")], "binary_crossentropy", "sigmoid"),
             ([Dense(3, activation="softmax")], "mse", None),
             ([Dense(3)], "sparse_categorical_crossentropy", None)]
    if hasattr(layers, "Softmax"):
        cases.append(([Dense(3), layers.Softmax()], "sparse_categorical_crossentropy", "softmax"))
    for stack, loss, kind in cases:
        model = Sequential([Dense(4, input_shape=(3,))] + stack)
        model.compile(loss=loss)
        assert model._fused_kind() == kind, (stack, loss)
    logits_loss = losses.SparseCategoricalCrossentropy(from_logits=True)
    model = Sequential([Dense(3, activation="softmax", input_shape=(3,))])
    model.compile(loss=logits_loss)
    assert model._fused_kind() is None


def test_summary_counts_non_trainable_weights(capsys):
    from tinydl import layers
    model = Sequential([Dense(4, input_shape=(3,)), layers.BatchNormalization(name="bn"), Dense(2)])
    model.summary()
    text = capsys.readouterr().out
    assert "bn (BatchNormalization)" in text
    assert "Total params: 42" in text and "Trainable params: 34" in text
    assert "Non-trainable params: 8" in text
    assert model.count_params() == 42
