"""Optimizer state: state_spec describes get_state without copying it, and set_state checks
every value as the constructor checks its arguments, changing nothing when one is wrong."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tinydl.layers import Variable
from tinydl.optimizers import SGD, Adam, AdamW, RMSprop, schedules

OPTIMIZERS = {
    "sgd": lambda: SGD(0.1),
    "sgd-momentum": lambda: SGD(0.1, momentum=0.9),
    "adam": lambda: Adam(0.01),
    "adam-amsgrad": lambda: Adam(0.01, amsgrad=True),
    "adamw": lambda: AdamW(0.01),
    "rmsprop-centered-momentum": lambda: RMSprop(0.01, momentum=0.5, centered=True),
    "adam-schedule": lambda: Adam(schedules.ExponentialDecay(0.1, 10, 0.5)),
}


def _trained(make):
    """An optimizer after two steps over two variables of shapes (2, 3) and (3,)."""
    rng = np.random.default_rng(0)
    variables = [Variable(rng.normal(size=(2, 3)), "w"), Variable(rng.normal(size=3), "b")]
    optimizer = make()
    for _ in range(2):
        optimizer.apply([rng.normal(size=v.shape).astype(np.float32) for v in variables],
                        variables)
    return optimizer


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_state_spec_describes_get_state(name):
    optimizer = _trained(OPTIMIZERS[name])
    state = optimizer.get_state()
    spec = optimizer.state_spec()
    assert list(spec) == list(state)
    assert spec == {key: (value.dtype.name, value.shape) for key, value in state.items()}
    assert optimizer.state_spec([(2, 3), (3,)]) == spec


@pytest.mark.parametrize("key, value, match", [
    ("learning_rate", -0.01, "learning_rate must be a positive finite"),
    ("learning_rate", math.nan, "learning_rate must be a positive finite"),
    ("learning_rate", math.inf, "learning_rate must be a positive finite"),
    ("iterations", -1, "iterations must be a non-negative integer"),
    ("iterations", 2.5, "iterations must be a non-negative integer"),
    ("slot.momentum.0", np.full((2, 3), np.nan, np.float32), "must hold finite values"),
    ("slot.velocity.1", np.full((3,), -1.0, np.float32), "running average of squared"),
    ("slot.velocity.1", np.zeros((3,), np.int64), "must hold floats"),
])
def test_set_state_refuses_what_no_training_could_produce_and_changes_nothing(key, value, match):
    optimizer = _trained(OPTIMIZERS["adam"])
    before = optimizer.get_state()
    with pytest.raises(ValueError, match=match):
        optimizer.set_state({**before, key: np.asarray(value)})
    after = optimizer.get_state()
    for name in before:
        np.testing.assert_array_equal(after[name], before[name])


@pytest.mark.parametrize("make, match", [
    (lambda: SGD(0.1, weight_decay=-0.1), "weight_decay must be a finite number >= 0"),
    (lambda: SGD(0.1, weight_decay=math.inf), "weight_decay must be a finite number >= 0"),
    (lambda: Adam(epsilon=0.0), "epsilon must be a positive finite"),
    (lambda: RMSprop(epsilon=-1.0), "epsilon must be a positive finite"),
    (lambda: SGD(math.inf), "learning_rate must be a positive finite"),
    (lambda: schedules.PiecewiseConstantDecay([5], [0.1, -0.1]), "values must be a positive"),
    (lambda: schedules.PiecewiseConstantDecay([math.nan], [0.1, 0.1]), "boundaries must be"),
    (lambda: schedules.InverseTimeDecay(0.1, 10, -1.0), "decay_rate must be a number in"),
    (lambda: schedules.CosineDecay(0.1, 10, alpha=-0.5), "alpha must be a number in"),
], ids=["weight-decay-negative", "weight-decay-inf", "adam-epsilon", "rmsprop-epsilon",
        "lr-inf", "piecewise-values", "piecewise-boundaries", "inverse-time", "cosine-alpha"])
def test_constructors_refuse_values_that_would_train_uphill_or_divide_by_zero(make, match):
    with pytest.raises(ValueError, match=match):
        make()
