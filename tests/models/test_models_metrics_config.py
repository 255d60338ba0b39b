"""Metric configs rebuild the same metric (what a saved model's compile settings rely on)."""

import numpy as np

from tinydl import metrics


def test_binary_accuracy_keeps_its_threshold_through_its_config():
    original = metrics.BinaryAccuracy(threshold=0.3)
    rebuilt = metrics.BinaryAccuracy(**original.get_config())
    y_true, y_pred = np.array([[1.0], [0.0]]), np.array([[0.4], [0.2]])
    assert rebuilt.threshold == 0.3
    assert rebuilt(y_true, y_pred) == original(y_true, y_pred) == 1.0
