"""The metrics of tinydl/metrics_more.py against Keras 3's: three batches accumulated with and
without sample weights give Keras' result, reset_state starts over, and compile(metrics=names)
logs the values Keras logs."""

from __future__ import annotations

import numpy as np
import pytest

import tinydl
from tinydl import metrics
from keras_oracle import import_keras


def _batches(kind: str, seed: int = 0):
    rng = np.random.default_rng(seed)
    for _ in range(3):
        if kind == "probabilities":
            y_pred = rng.dirichlet(np.ones(4), 5).astype(np.float32)
            y_true = np.eye(4, dtype=np.float32)[rng.integers(0, 4, 5)]
        elif kind == "labels":
            y_pred = rng.dirichlet(np.ones(4), 5).astype(np.float32)
            y_true = rng.integers(0, 4, 5)
        elif kind == "binary":
            y_pred = rng.uniform(0.05, 0.95, (5, 3)).astype(np.float32)
            y_true = rng.integers(0, 2, (5, 3)).astype(np.float32)
        elif kind == "positive":
            y_pred = rng.uniform(0.1, 3, (5, 3)).astype(np.float32)
            y_true = rng.uniform(0.1, 3, (5, 3)).astype(np.float32)
        elif kind == "integers":
            y_pred = rng.integers(0, 3, (5, 1)).astype(np.float32)
            y_true = rng.integers(0, 3, (5, 1)).astype(np.float32)
        else:
            y_pred = rng.standard_normal((5, 3)).astype(np.float32)
            y_true = (y_pred + rng.standard_normal((5, 3)) * 0.5).astype(np.float32)
        yield y_true, y_pred, rng.uniform(0, 2, 5).astype(np.float32)


CASES = [
    ("Accuracy", {}, "integers"), ("RootMeanSquaredError", {}, "real"), ("R2Score", {}, "real"),
    ("R2Score", {"class_aggregation": "variance_weighted_average"}, "real"),
    ("R2Score", {"class_aggregation": None}, "real"), ("R2Score", {"num_regressors": 2}, "real"),
    ("BinaryCrossentropy", {}, "binary"), ("BinaryCrossentropy", {"label_smoothing": 0.2}, "binary"),
    ("CategoricalCrossentropy", {}, "probabilities"), ("SparseCategoricalCrossentropy", {}, "labels"),
    ("KLDivergence", {}, "probabilities"), ("Poisson", {}, "positive"), ("Hinge", {}, "binary"),
    ("SquaredHinge", {}, "binary"), ("CategoricalHinge", {}, "probabilities"), ("LogCoshError", {}, "real"),
    ("MeanAbsolutePercentageError", {}, "positive"), ("MeanSquaredLogarithmicError", {}, "positive"),
    ("CosineSimilarity", {}, "real"), ("CosineSimilarity", {"axis": 0}, "real"),
]


# weights per sample do not apply to CosineSimilarity(axis=0)'s values per column
WEIGHTED = [(n, k, d, w) for n, k, d in CASES for w in (False, True) if not (w and k.get("axis") == 0)]


@pytest.mark.parametrize("name,kwargs,kind,weighted", WEIGHTED,
                         ids=[f"{n}-{k}-{'weighted' if w else 'unweighted'}" for n, k, _, w in WEIGHTED])
def test_accumulated_result_matches_keras(name, kwargs, kind, weighted):
    keras = import_keras()
    theirs, ours = getattr(keras.metrics, name)(**kwargs), getattr(metrics, name)(**kwargs)
    assert ours.name == theirs.name
    for y_true, y_pred, w in _batches(kind):
        theirs.update_state(y_true, y_pred, sample_weight=w if weighted else None)
        ours.update_state(y_true, y_pred, sample_weight=w if weighted else None)
    np.testing.assert_allclose(ours.result(), np.asarray(theirs.result()), rtol=2e-5, atol=1e-6)
    ours.reset_state()
    y_true, y_pred, _ = next(_batches(kind, seed=9))
    theirs.reset_state()
    theirs.update_state(y_true, y_pred)
    ours.update_state(y_true, y_pred)
    np.testing.assert_allclose(ours.result(), np.asarray(theirs.result()), rtol=2e-5, atol=1e-6)


def test_sum_matches_keras():
    keras = import_keras()
    theirs, ours = keras.metrics.Sum(), metrics.Sum()
    for values, weight in (([1.0, 2.0], [1.0, 0.5]), ([3.0, -1.0], None)):
        theirs.update_state(values, sample_weight=weight)
        ours.update_state(values, sample_weight=weight)
    assert ours.result() == pytest.approx(float(theirs.result()))


def test_compile_metric_names_log_what_keras_logs():
    keras = import_keras()
    rng = np.random.default_rng(0)
    x = rng.standard_normal((16, 3)).astype(np.float32)
    y = rng.uniform(0.1, 0.9, (16, 2)).astype(np.float32)
    names = ["mape", "msle", "poisson", "cosine_similarity", "binary_crossentropy",
             "hinge", "squared_hinge"]
    histories = []
    for lib in (keras, tinydl):
        lib.utils.set_random_seed(0)
        model = lib.Sequential([lib.Input((3,)), lib.layers.Dense(2, activation="sigmoid")])
        model.compile(optimizer=lib.optimizers.SGD(0.1), loss="mse", metrics=names + [lib.metrics.R2Score()])
        histories.append(model)
    histories[1].set_weights([np.asarray(w) for w in histories[0].weights])
    logs = [m.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0).history for m in histories]
    assert set(logs[0]) == set(logs[1])
    for key in logs[0]:
        np.testing.assert_allclose(logs[1][key], logs[0][key], rtol=2e-5, atol=1e-6, err_msg=key)


def test_bad_metric_arguments_raise():
    with pytest.raises(ValueError, match="class_aggregation"):
        metrics.R2Score(class_aggregation="median")
    with pytest.raises(TypeError, match=r"unexpected keyword arguments: \['delta'\]"):
        metrics.Poisson(delta=1.0)
    with pytest.raises(ValueError, match="2-D inputs"):
        metrics.R2Score().update_state(np.ones(3), np.ones(3))


F_CASES = [("F1Score", {}, "probabilities"), ("F1Score", {"average": "macro"}, "probabilities"),
           ("F1Score", {"average": "micro"}, "probabilities"), ("F1Score", {"average": "weighted"}, "probabilities"),
           ("F1Score", {"average": "macro", "threshold": 0.5}, "binary"),
           ("FBetaScore", {"beta": 2.0}, "probabilities"),
           ("FBetaScore", {"beta": 0.5, "average": "weighted", "threshold": 0.3}, "binary")]


@pytest.mark.parametrize("name,kwargs,kind", F_CASES, ids=[f"{n}-{k}" for n, k, _ in F_CASES])
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_f_scores_match_keras(name, kwargs, kind, weighted):
    keras = import_keras()
    theirs, ours = getattr(keras.metrics, name)(**kwargs), getattr(metrics, name)(**kwargs)
    for y_true, y_pred, w in _batches(kind, seed=4):
        theirs.update_state(y_true, y_pred, sample_weight=w if weighted else None)
        ours.update_state(y_true, y_pred, sample_weight=w if weighted else None)
    np.testing.assert_allclose(ours.result(), np.asarray(theirs.result()), rtol=1e-5, atol=1e-6)
    assert ours.get_config() == {k: v for k, v in theirs.get_config().items() if k != "dtype"}


def test_f_score_arguments_are_checked_as_keras():
    with pytest.raises(ValueError, match="average"):
        metrics.F1Score(average="mean")
    with pytest.raises(ValueError, match="beta"):
        metrics.FBetaScore(beta=1)
    with pytest.raises(ValueError, match="threshold"):
        metrics.F1Score(threshold=1.5)


def test_per_class_scores_reach_the_history_as_arrays_as_in_keras():
    """F1Score(average=None) gives one score per class; fit's history holds those arrays (not a
    memoryview or 0.0), equal to Keras' on the same weights."""
    keras = import_keras()
    rng = np.random.default_rng(2)
    x = rng.standard_normal((24, 3)).astype(np.float32)
    y = np.eye(3, dtype=np.float32)[rng.integers(0, 3, 24)]
    models = []
    for lib in (keras, tinydl):
        model = lib.Sequential([lib.Input((3,)), lib.layers.Dense(3, activation="softmax")])
        model.compile(optimizer=lib.optimizers.SGD(0.5), loss="categorical_crossentropy",
                      metrics=[lib.metrics.F1Score()])
        models.append(model)
    models[1].set_weights([np.asarray(w) for w in models[0].weights])
    theirs, ours = (m.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0).history for m in models)
    for t, o in zip(theirs["f1_score"], ours["f1_score"]):
        assert isinstance(o, np.ndarray) and o.shape == (3,)
        np.testing.assert_allclose(o, np.asarray(t), rtol=1e-5, atol=1e-6)
