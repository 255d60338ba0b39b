"""Text classifiers built from sequence layers train with Sequential: the loss falls."""

from __future__ import annotations

import numpy as np
import pytest

import tinydl
from tinydl import layers
from tinydl.models import Sequential

VOCAB, STEPS = 60, 24


def _texts(n=256, seed=0):
    """Padded token sequences; label 1 when token 7 (a 'keyword') occurs in the real part."""
    rng = np.random.default_rng(seed)
    x = rng.integers(8, VOCAB, (n, STEPS))
    lengths = rng.integers(6, STEPS + 1, n)
    y = rng.integers(0, 2, n)
    for i in range(n):
        x[i, :STEPS - lengths[i]] = 0                          # pre-padding, as pad_sequences
        if y[i]:
            x[i, rng.integers(STEPS - lengths[i], STEPS)] = 7
    return x.astype(np.float32), y


@pytest.mark.parametrize("model_layers", [
    lambda: [layers.Embedding(VOCAB, 16, mask_zero=True), layers.LSTM(64),
             layers.Dense(2, activation="softmax")],
    lambda: [layers.Embedding(VOCAB, 16), layers.Conv1D(32, 3, activation="relu"),
             layers.GlobalMaxPooling1D(), layers.Dense(2, activation="softmax")],
    lambda: [layers.Embedding(VOCAB, 8, mask_zero=True),
             layers.Bidirectional(layers.GRU(8, return_sequences=True)),
             layers.GlobalAveragePooling1D(), layers.Dense(2, activation="softmax")],
], ids=["embedding-lstm-dense", "embedding-conv1d-globalmaxpool", "bidirectional-gru"])
def test_sequence_classifier_loss_falls(model_layers, backend):
    tinydl.utils.set_random_seed(0)
    x, y = _texts()
    model = Sequential(model_layers())
    model.compile(optimizer=tinydl.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, epochs=6, batch_size=32, verbose=0)
    losses = history.history["loss"]
    assert losses[-1] < 0.6 * losses[0], losses
    assert history.history["accuracy"][-1] > 0.8
