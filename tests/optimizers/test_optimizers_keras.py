"""Adagrad, Adadelta, Adamax, Nadam and Lion (and the older four, for comparison) against Keras 3's
optimizers: the same gradients applied to the same variables give the same values after every one
of six steps, with and without weight decay and clipping; names, defaults and configs as Keras'."""

from __future__ import annotations

import numpy as np
import pytest

from tinydl import optimizers
from tinydl.layers import Variable
from keras_oracle import import_keras

CASES = [
    ("Adagrad", {}), ("Adagrad", {"learning_rate": 0.1, "initial_accumulator_value": 0.0, "epsilon": 1e-3}),
    ("Adadelta", {}), ("Adadelta", {"learning_rate": 1.0, "rho": 0.9}),
    ("Adamax", {}), ("Adamax", {"learning_rate": 0.02, "beta_1": 0.8, "beta_2": 0.99}),
    ("Nadam", {}), ("Nadam", {"learning_rate": 0.01, "beta_1": 0.85}),
    ("Lion", {}), ("Lion", {"learning_rate": 0.01, "beta_1": 0.95, "beta_2": 0.98}),
    ("Adagrad", {"learning_rate": 0.05, "weight_decay": 0.1, "clipnorm": 0.5}),
    ("Nadam", {"learning_rate": 0.01, "global_clipnorm": 1.0}),
    ("Lion", {"learning_rate": 0.01, "weight_decay": 0.2}),
    ("Adamax", {"clipvalue": 0.3}),
    ("SGD", {"learning_rate": 0.1, "momentum": 0.9, "nesterov": True}), ("Adam", {"amsgrad": True}),
    ("RMSprop", {"centered": True, "momentum": 0.5}), ("AdamW", {"learning_rate": 0.01}),
]


@pytest.mark.parametrize("name,kwargs", CASES, ids=[f"{n}-{sorted(k)}" for n, k in CASES])
def test_six_steps_match_keras(name, kwargs):
    keras = import_keras()
    rng = np.random.default_rng(0)
    shapes = [(3, 4), (4,), (2, 2, 3)]
    start = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    theirs = [keras.Variable(v.copy()) for v in start]
    ours = [Variable(v.copy(), name=f"w{i}") for i, v in enumerate(start)]
    their_opt = getattr(keras.optimizers, name)(**kwargs)
    our_opt = getattr(optimizers, name)(**kwargs)
    for step in range(6):
        grads = [rng.standard_normal(s).astype(np.float32) * (1 + step) for s in shapes]
        their_opt.apply([g.copy() for g in grads], theirs)
        our_opt.apply([g.copy() for g in grads], ours)
        for o, t in zip(ours, theirs):
            np.testing.assert_allclose(o.data, np.asarray(t), rtol=2e-6, atol=2e-7,
                                       err_msg=f"{name} after step {step + 1}")
    assert our_opt.iterations == int(their_opt.iterations.numpy())


@pytest.mark.parametrize("name", ["Adagrad", "Adadelta", "Adamax", "Nadam", "Lion"])
def test_defaults_and_config_keys_are_keras(name):
    keras = import_keras()
    theirs = getattr(keras.optimizers, name)().get_config()
    ours = getattr(optimizers, name)().get_config()
    for key, value in ours.items():
        if key != "name":
            assert key in theirs, key
            assert value == pytest.approx(theirs[key]) if isinstance(value, float) else value == theirs[key], key
    assert isinstance(optimizers.get(name.lower()), getattr(optimizers, name))
    clone = getattr(optimizers, name).from_config(ours)
    assert clone.get_config() == ours


@pytest.mark.parametrize("make,match", [
    (lambda: optimizers.Adagrad(initial_accumulator_value=-1.0), "initial_accumulator_value"),
    (lambda: optimizers.Adadelta(rho=1.0), "rho"),
    (lambda: optimizers.Adamax(beta_2=float("nan")), "beta_2"),
    (lambda: optimizers.Nadam(epsilon=0.0), "epsilon"),
    (lambda: optimizers.Lion(beta_1=0.0), "beta_1"),
    (lambda: optimizers.Lion(beta_2=1.5), "beta_2"),
])
def test_bad_arguments_raise_naming_them(make, match):
    with pytest.raises(ValueError, match=match):
        make()


@pytest.mark.parametrize("name", ["Adagrad", "Adadelta", "Adamax", "Nadam", "Lion"])
def test_state_round_trip_resumes_the_same_trajectory(name):
    """get_state/set_state mid-run: the resumed optimizer takes the steps the original would."""
    rng = np.random.default_rng(1)
    grads = [rng.standard_normal((3, 2)).astype(np.float32) for _ in range(6)]
    w0 = rng.standard_normal((3, 2)).astype(np.float32)
    straight, resumed = Variable(w0.copy(), name="w"), Variable(w0.copy(), name="w")
    first = getattr(optimizers, name)(learning_rate=0.05)
    for g in grads:
        first.apply([g], [straight])
    head = getattr(optimizers, name)(learning_rate=0.05)
    for g in grads[:3]:
        head.apply([g], [resumed])
    tail = getattr(optimizers, name)(learning_rate=0.05)
    tail.build([resumed])
    tail.set_state(head.get_state())
    for g in grads[3:]:
        tail.apply([g], [resumed])
    np.testing.assert_array_equal(resumed.data, straight.data)
