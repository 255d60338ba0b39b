"""Precision, Recall, AUC, the confusion counts and top-k accuracies against Keras 3 on random
data, over a grid of their arguments, batch by batch (update_state / result / reset_state)."""

from __future__ import annotations

import re

import numpy as np
import pytest
from keras_oracle import import_keras

from tinydl import metrics
from tinydl.layers import Dense
from tinydl.models import Sequential
from tinydl.utils import set_random_seed

RNG = np.random.default_rng(3)


@pytest.fixture(scope="module")
def keras():
    return import_keras()


def binary_batches(shape=(30, 3), n=3, weighted=False):
    out = []
    for _ in range(n):
        y = (RNG.random(shape) > 0.6).astype(np.float32)
        p = RNG.random(shape).astype(np.float32)
        w = RNG.uniform(0.0, 2.0, shape[0]).astype(np.float32) if weighted else None
        out.append((y, p, w))
    return out


def assert_same_metric(ours, theirs, data, atol=1e-5):
    for y, p, w in data:
        ours.update_state(y, p, sample_weight=w)
        theirs.update_state(y, p, sample_weight=w)
        np.testing.assert_allclose(ours.result(), np.asarray(theirs.result()), atol=atol, rtol=1e-5)
    ours.reset_state()
    theirs.reset_state()
    y, p, w = data[0]
    ours.update_state(y, p, sample_weight=w)
    theirs.update_state(y, p, sample_weight=w)
    np.testing.assert_allclose(ours.result(), np.asarray(theirs.result()), atol=atol, rtol=1e-5)
    assert ours.name == re.sub(r"_\d+$", "", theirs.name)  # Keras numbers repeated names


@pytest.mark.parametrize("name", ["Precision", "Recall"])
@pytest.mark.parametrize("kwargs", [{}, {"thresholds": 0.3}, {"thresholds": [0.2, 0.5, 0.9]},
                                    {"top_k": 2}, {"class_id": 1}, {"top_k": 1, "class_id": 2}])
@pytest.mark.parametrize("weighted", [False, True])
def test_precision_and_recall_match_keras(keras, name, kwargs, weighted):
    assert_same_metric(getattr(metrics, name)(**kwargs), getattr(keras.metrics, name)(**kwargs),
                       binary_batches(weighted=weighted))


@pytest.mark.parametrize("name", ["TruePositives", "FalsePositives", "TrueNegatives",
                                  "FalseNegatives"])
@pytest.mark.parametrize("thresholds", [None, 0.7, [0.1, 0.5, 0.8]])
@pytest.mark.parametrize("weighted", [False, True])
def test_confusion_counts_match_keras(keras, name, thresholds, weighted):
    assert_same_metric(getattr(metrics, name)(thresholds=thresholds),
                       getattr(keras.metrics, name)(thresholds=thresholds),
                       binary_batches(weighted=weighted), atol=1e-4)


@pytest.mark.parametrize("kwargs", [{}, {"curve": "PR"}, {"num_thresholds": 7},
                                    {"curve": "PR", "num_thresholds": 13},
                                    {"summation_method": "minoring"},
                                    {"curve": "PR", "summation_method": "majoring"},
                                    {"thresholds": [0.1, 0.4, 0.6]}, {"from_logits": True},
                                    {"label_weights": [0.5, 1.0, 2.0]}])
@pytest.mark.parametrize("weighted", [False, True])
def test_auc_matches_keras(keras, kwargs, weighted):
    data = binary_batches(weighted=weighted)
    if kwargs.get("from_logits"):
        data = [(y, (p - 0.5) * 8, w) for y, p, w in data]
    assert_same_metric(metrics.AUC(**kwargs), keras.metrics.AUC(**kwargs), data)


@pytest.mark.parametrize("k", [1, 2, 5])
def test_top_k_accuracies_match_keras(keras, k):
    sparse_data, onehot_data = [], []
    for _ in range(3):
        p = RNG.random((25, 6)).astype(np.float32)
        labels = RNG.integers(0, 6, 25)
        sparse_data.append((labels, p, None))
        onehot_data.append((np.eye(6, dtype=np.float32)[labels], p, None))
    assert_same_metric(metrics.SparseTopKCategoricalAccuracy(k=k),
                       keras.metrics.SparseTopKCategoricalAccuracy(k=k), sparse_data)
    assert_same_metric(metrics.TopKCategoricalAccuracy(k=k),
                       keras.metrics.TopKCategoricalAccuracy(k=k), onehot_data)


def test_top_k_from_sorted_ids():
    ids = np.array([[3, 1, 0], [2, 0, 1]])
    m = metrics.SparseTopKCategoricalAccuracy(k=2, from_sorted_ids=True)
    m.update_state([1, 1], ids)
    assert m.result() == 0.5


def test_metrics_by_name_in_compile_are_reported_in_fit():
    set_random_seed(0)
    model = Sequential([Dense(1, activation="sigmoid", input_shape=(3,))])
    model.compile("sgd", "binary_crossentropy",
                  metrics=["precision", "recall", metrics.AUC(curve="PR"), "true_positives"])
    x = RNG.standard_normal((64, 3)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.float32)
    history = model.fit(x, y, epochs=2, verbose=0)
    assert {"precision", "recall", "auc", "true_positives"} <= set(history.history)
    out = model.predict(x, verbose=0)
    auc = metrics.AUC(curve="PR")
    auc.update_state(y, out)
    assert model.evaluate(x, y, verbose=0, return_dict=True)["auc"] == pytest.approx(auc.result())


def test_bad_metric_arguments_raise():
    with pytest.raises(ValueError, match="curve must be 'ROC' or 'PR'"):
        metrics.AUC(curve="XY")
    with pytest.raises(ValueError, match="thresholds must be values in"):
        metrics.Precision(thresholds=1.5)
    with pytest.raises(ValueError, match="top_k must be a positive int"):
        metrics.Recall(top_k=0)
    with pytest.raises(NotImplementedError, match="not implemented in tinydl"):
        metrics.AUC(multi_label=True)
