"""Adam's fused update (backend.adam_update): the same bits on the native and the reference
backend, and the same bits as the NumPy update_step it replaced."""

from __future__ import annotations

import math

import numpy as np
import pytest

import tinydl
from tinydl import Tensor
from tinydl.layers import Dense, Variable
from tinydl.models import Sequential
from tinydl.optimizers import Adam, AdamW

NATIVE = tinydl.backend_info()["native_available"]
OPTIMIZERS = {
    "adam": lambda: Adam(learning_rate=0.01),
    "amsgrad": lambda: Adam(learning_rate=0.01, amsgrad=True, epsilon=1e-3),
    "adamw_clipnorm": lambda: AdamW(learning_rate=0.01, weight_decay=0.1, clipnorm=0.5),
}


def legacy_update_step(optimizer, gradient, variable, learning_rate):
    """Adam.update_step as it was before the fused kernel: NumPy, one temporary per operation."""
    t = optimizer.iterations + 1
    alpha = np.float32(float(learning_rate) * math.sqrt(1 - optimizer.beta_2 ** t)
                       / (1 - optimizer.beta_1 ** t))
    m, v = optimizer.slot(variable, "momentum"), optimizer.slot(variable, "velocity")
    m += (gradient - m) * np.float32(1 - optimizer.beta_1)
    v += (gradient * gradient - v) * np.float32(1 - optimizer.beta_2)
    if optimizer.amsgrad:
        v_hat = optimizer.slot(variable, "velocity_hat")
        np.maximum(v_hat, v, out=v_hat)
        v = v_hat
    variable.data -= (m * alpha) / (np.sqrt(v) + np.float32(optimizer.epsilon))


def small_model_weights():
    tinydl.utils.set_random_seed(3)
    model = Sequential([Dense(7, activation="relu", input_shape=(5,)), Dense(3)])
    model.build((None, 5))
    return [w.data.copy() for w in model.trainable_weights]


def gradient_steps(shapes, steps=6):
    rng = np.random.default_rng(8)
    return [[(rng.standard_normal(s) * 10.0 ** rng.integers(-3, 2)).astype(np.float32)
             for s in shapes] for _ in range(steps)]


def train(optimizer, initial, steps, make_variable=Variable):
    """The variables and optimizer state after applying each step's gradients."""
    variables = [make_variable(w.copy(), f"w{i}") for i, w in enumerate(initial)]
    for grads in steps:
        optimizer.apply(grads, variables)
    return [v.data for v in variables], optimizer.get_state()


def assert_same_bits(ours, oracle):
    assert len(ours) == len(oracle)
    for a, b in zip(ours, oracle):
        assert a.dtype == b.dtype and a.shape == b.shape
        assert a.tobytes() == b.tobytes()


@pytest.mark.skipif(not NATIVE, reason="the native extension tinydl._native is not built")
@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_native_and_reference_give_the_same_weights_bit_for_bit(name):
    initial = small_model_weights()
    steps = gradient_steps([w.shape for w in initial])
    results = {}
    for backend in ("native", "reference"):
        with tinydl.use_backend(backend):
            results[backend] = train(OPTIMIZERS[name](), initial, steps)
    (w_nat, state_nat), (w_ref, state_ref) = results["native"], results["reference"]
    assert_same_bits(w_nat, w_ref)
    assert_same_bits(list(state_nat.values()), list(state_ref.values()))
    assert not np.array_equal(w_nat[0], initial[0])


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_same_bits_as_the_numpy_update_step_it_replaced(backend, name, monkeypatch):
    initial = small_model_weights()
    steps = gradient_steps([w.shape for w in initial])
    fused = train(OPTIMIZERS[name](), initial, steps)
    monkeypatch.setattr(Adam, "update_step", legacy_update_step)
    legacy = train(OPTIMIZERS[name](), initial, steps)
    assert_same_bits(fused[0], legacy[0])
    assert_same_bits(list(fused[1].values()), list(legacy[1].values()))


def test_a_variable_that_is_not_c_contiguous_is_updated_in_place(backend):
    """A Variable made from a transposed array holds an F-ordered array: Adam updates a
    C-contiguous copy and writes it back, into the same array."""
    initial = small_model_weights()
    steps = gradient_steps([w.shape for w in initial])
    variable = Variable(np.asfortranarray(initial[0]), "kernel")
    data = variable.data
    assert not data.flags.c_contiguous
    optimizer = Adam(learning_rate=0.01)
    for grads in steps:
        optimizer.apply([grads[0]], [variable])
    assert variable.data is data
    expected, _ = train(Adam(learning_rate=0.01), initial[:1], [g[:1] for g in steps])
    assert_same_bits([np.ascontiguousarray(data)], expected)


def test_a_float64_tensor_keeps_numpy_arithmetic(backend, monkeypatch):
    """Slots are float32 but a plain float64 Tensor can be optimized: its last subtraction
    is float64, exactly as before (the native backend sends it to the reference formula)."""
    initial = [w.astype(np.float64) for w in small_model_weights()]
    steps = gradient_steps([w.shape for w in initial])
    fused = train(Adam(learning_rate=0.01), initial, steps, lambda w, name: Tensor(w))
    monkeypatch.setattr(Adam, "update_step", legacy_update_step)
    legacy = train(Adam(learning_rate=0.01), initial, steps, lambda w, name: Tensor(w))
    assert fused[0][0].dtype == np.float64
    assert_same_bits(fused[0], legacy[0])
