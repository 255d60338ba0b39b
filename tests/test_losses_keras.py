"""Every loss of tinydl.losses against Keras 3's on the same targets and predictions: per-sample
values, the reduced value with and without sample weights, the gradient with respect to the
predictions, and the names compile() accepts."""

from __future__ import annotations

import numpy as np
import pytest

import tinydl
from tinydl import losses
from keras_oracle import import_keras


def _data(kind: str, seed: int = 0):
    rng = np.random.default_rng(seed)
    if kind == "probabilities":
        y_pred = rng.dirichlet(np.ones(4), 6).astype(np.float32)
        y_true = np.eye(4, dtype=np.float32)[rng.integers(0, 4, 6)]
    elif kind == "binary":
        y_pred = rng.uniform(0.05, 0.95, (6, 3)).astype(np.float32)
        y_true = rng.integers(0, 2, (6, 3)).astype(np.float32)
    elif kind == "logits":
        y_pred = rng.standard_normal((6, 4)).astype(np.float32) * 2
        y_true = np.eye(4, dtype=np.float32)[rng.integers(0, 4, 6)]
    elif kind == "positive":
        y_pred = rng.uniform(0.1, 3.0, (6, 3)).astype(np.float32)
        y_true = rng.uniform(0.1, 3.0, (6, 3)).astype(np.float32)
    elif kind == "signed":
        y_pred = rng.standard_normal((6, 3)).astype(np.float32)
        y_true = np.where(rng.random((6, 3)) < 0.5, -1.0, 1.0).astype(np.float32)
    else:
        y_pred = rng.standard_normal((6, 3)).astype(np.float32) * 2
        y_true = rng.standard_normal((6, 3)).astype(np.float32)
    return y_true, y_pred


CASES = [  # (class name, constructor kwargs, data kind)
    ("MeanSquaredError", {}, "real"), ("MeanAbsoluteError", {}, "real"),
    ("MeanSquaredLogarithmicError", {}, "positive"), ("MeanAbsolutePercentageError", {}, "positive"),
    ("Huber", {}, "real"), ("Huber", {"delta": 0.5}, "real"), ("LogCosh", {}, "real"),
    ("Poisson", {}, "positive"), ("KLDivergence", {}, "probabilities"),
    ("CosineSimilarity", {}, "real"), ("CosineSimilarity", {"axis": 0}, "real"),
    ("Hinge", {}, "binary"), ("Hinge", {}, "signed"), ("SquaredHinge", {}, "binary"),
    ("CategoricalHinge", {}, "probabilities"),
    ("CategoricalCrossentropy", {}, "probabilities"),
    ("CategoricalCrossentropy", {"label_smoothing": 0.2}, "probabilities"),
    ("CategoricalCrossentropy", {"from_logits": True, "label_smoothing": 0.1}, "logits"),
    ("BinaryCrossentropy", {}, "binary"), ("BinaryCrossentropy", {"label_smoothing": 0.3}, "binary"),
    ("BinaryCrossentropy", {"from_logits": True, "label_smoothing": 0.1}, "real"),
    ("BinaryFocalCrossentropy", {}, "binary"),
    ("BinaryFocalCrossentropy", {"apply_class_balancing": True, "alpha": 0.4, "gamma": 1.5}, "binary"),
    ("BinaryFocalCrossentropy", {"from_logits": True, "label_smoothing": 0.2}, "real"),
    ("CategoricalFocalCrossentropy", {}, "probabilities"),
    ("CategoricalFocalCrossentropy", {"from_logits": True, "gamma": 3.0, "label_smoothing": 0.1}, "logits"),
]


@pytest.mark.parametrize("name,kwargs,kind", CASES, ids=[f"{n}-{k}-{d}" for n, k, d in CASES])
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "sample_weight"])
def test_loss_matches_keras(name, kwargs, kind, weighted):
    keras = import_keras()
    import tensorflow as tf
    y_true, y_pred = _data(kind)
    weight = np.random.default_rng(3).uniform(0, 2, len(y_true)).astype(np.float32) if weighted else None
    theirs_loss = getattr(keras.losses, name)(**kwargs)
    ours_loss = getattr(losses, name)(**kwargs)
    assert ours_loss.name == theirs_loss.name
    variable = tf.Variable(y_pred)
    if weighted and kwargs.get("axis") == 0:  # one value per column, six weights: both refuse
        with pytest.raises(tf.errors.InvalidArgumentError):
            theirs_loss(y_true, variable, sample_weight=weight)
        with pytest.raises(ValueError):
            ours_loss(y_true, tinydl.Tensor(y_pred), sample_weight=weight)
        return
    with tf.GradientTape() as tape:
        theirs = theirs_loss(y_true, variable, sample_weight=weight)
    their_grad = tape.gradient(theirs, variable).numpy()
    prediction = tinydl.Tensor(y_pred, requires_grad=True)
    ours = ours_loss(y_true, prediction, sample_weight=weight)
    assert ours.item() == pytest.approx(float(theirs), rel=2e-5, abs=1e-6)
    ours.backward()
    np.testing.assert_allclose(prediction.grad, their_grad, rtol=1e-4, atol=1e-6)


FUNCTIONS = ["mean_squared_logarithmic_error", "mean_absolute_percentage_error", "huber", "log_cosh", "poisson",
             "kl_divergence", "cosine_similarity", "hinge", "squared_hinge", "categorical_hinge",
             "binary_focal_crossentropy", "categorical_focal_crossentropy"]


@pytest.mark.parametrize("name", FUNCTIONS)
def test_functions_give_keras_per_sample_values(name):
    keras = import_keras()
    kind = {"poisson": "positive", "mean_squared_logarithmic_error": "positive", "kl_divergence": "probabilities",
            "categorical_hinge": "probabilities", "categorical_focal_crossentropy": "probabilities",
            "binary_focal_crossentropy": "binary", "hinge": "binary", "squared_hinge": "binary"}.get(name, "real")
    y_true, y_pred = _data(kind, seed=5)
    theirs = np.asarray(getattr(keras.losses, name)(y_true, y_pred))
    ours = getattr(losses, name)(y_true, tinydl.Tensor(y_pred)).data
    assert ours.shape == theirs.shape
    np.testing.assert_allclose(ours, theirs, rtol=2e-5, atol=1e-6)


@pytest.mark.parametrize("identifier", ["huber", "Huber", "msle", "mape", "kld",
                                        "log_cosh", "poisson", "hinge", "squared_hinge", "categorical_hinge",
                                        "cosine_similarity", "binary_focal_crossentropy", "bce",
                                        "MeanSquaredError", "kl_divergence"])
def test_compile_accepts_keras_names_and_trains_like_keras(identifier):
    """compile(loss=name) and one SGD step: the same loss value and weights as Keras."""
    keras = import_keras()
    rng = np.random.default_rng(0)
    x = rng.standard_normal((8, 3)).astype(np.float32)
    y = rng.uniform(0.1, 0.9, (8, 2)).astype(np.float32)
    activation = "softmax" if identifier in ("kld", "kl_divergence", "categorical_hinge") else "sigmoid"
    models = []
    for lib in (keras, tinydl):
        model = lib.Sequential([lib.Input((3,)), lib.layers.Dense(2, activation=activation)])
        model.compile(optimizer=lib.optimizers.SGD(0.5), loss=identifier)
        models.append(model)
    models[1].set_weights([np.asarray(w) for w in models[0].weights])
    losses_seen = [float(m.train_on_batch(x, y)) for m in models]
    assert losses_seen[1] == pytest.approx(losses_seen[0], rel=1e-5)
    for ours, theirs in zip(models[1].get_weights(), models[0].get_weights()):
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6)


def test_bad_loss_arguments_raise():
    with pytest.raises(ValueError, match="label_smoothing"):
        losses.CategoricalCrossentropy(label_smoothing=1.5)
    with pytest.raises(TypeError, match="unexpected keyword arguments: \\['delt'\\]"):
        losses.Huber(delt=2.0)
    with pytest.raises(NotImplementedError, match="ignore_class"):
        losses.SparseCategoricalCrossentropy(ignore_class=0)
    with pytest.raises(ValueError, match="unknown loss 'hubber'"):
        losses.get("hubber")
