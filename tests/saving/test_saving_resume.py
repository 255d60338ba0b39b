"""Resumed training equals uninterrupted training: save after 2 epochs, load, train 1 more,
and the weights are bit-equal to 3 epochs in one go (same seed, shuffling, Dropout)."""

from __future__ import annotations

import numpy as np
import pytest

import tinydl
from tinydl import layers, optimizers
from tinydl.datasets import digits
from tinydl.models import Sequential, load_model


@pytest.fixture(scope="module")
def digits_data():
    (x, y), _ = digits.load_data()
    return x[:600].reshape(-1, 64).astype(np.float32) / 16.0, y[:600].astype(np.int64)


def _fresh_model(optimizer) -> Sequential:
    model = Sequential([layers.Dense(32, activation="relu", input_shape=(64,)),
                        layers.Dropout(0.3), layers.BatchNormalization(), layers.Dense(10)])
    model.compile(optimizer=optimizer,
                  loss=tinydl.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    return model


@pytest.mark.parametrize("optimizer", ["adam", "sgd-momentum"])
@pytest.mark.parametrize("suffix", [".tinydl", ".keras"])
def test_save_load_and_continue_equals_training_without_a_break(
        digits_data, tmp_path, optimizer, suffix):
    def make_optimizer():
        return "adam" if optimizer == "adam" else optimizers.SGD(0.05, momentum=0.9)

    x, y = digits_data
    fit = dict(batch_size=32, shuffle=True, verbose=0)

    tinydl.utils.set_random_seed(123)
    straight = _fresh_model(make_optimizer())
    straight.fit(x, y, epochs=3, **fit)

    tinydl.utils.set_random_seed(123)
    first = _fresh_model(make_optimizer())
    first.fit(x, y, epochs=2, **fit)
    path = tmp_path / f"checkpoint{suffix}"
    first.save(path)
    resumed = load_model(path)
    resumed.fit(x, y, epochs=1, **fit)

    assert resumed.optimizer.iterations == straight.optimizer.iterations == 3 * 19
    assert [w.name for w in resumed.weights] == [w.name for w in straight.weights]
    for a, b in zip(straight.weights, resumed.weights):
        np.testing.assert_array_equal(b.data, a.data, err_msg=a.name)
    # and the run did depend on the random state (so the equality above means something)
    tinydl.utils.set_random_seed(124)
    other = _fresh_model(make_optimizer())
    other.fit(x, y, epochs=3, **fit)
    assert not np.array_equal(other.weights[0].data, straight.weights[0].data)


def test_loading_draws_nothing_from_the_global_generator(saved):
    tinydl.utils.set_random_seed(5)
    before = tinydl.rng.get_rng().bit_generator.state
    load_model(saved)
    assert tinydl.rng.get_rng().bit_generator.state == before
