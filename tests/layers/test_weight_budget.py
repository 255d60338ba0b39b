"""WeightBudget: inside it add_weight runs no initializer and charges every weight's bytes
first, so loading can learn an architecture's weight shapes without allocating them."""

from __future__ import annotations

import tracemalloc

import pytest

from tinydl import layers
from tinydl.layers.base import Layer, WeightBudget, WeightBudgetError
from tinydl.rng import get_rng


def test_planning_a_4_gib_kernel_allocates_nothing_and_draws_nothing():
    state = get_rng().bit_generator.state
    tracemalloc.start()
    try:
        with WeightBudget(None, allocate=False) as budget:
            dense = layers.Dense(2**20)
            dense.build_for((None, 2**10))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 2**20
    assert dense.kernel.shape == (2**10, 2**20) and dense.bias.shape == (2**20,)
    assert budget.nbytes == (2**30 + 2**20) * 4
    assert not dense.kernel.data.flags.writeable
    assert get_rng().bit_generator.state == state


def test_a_weight_over_the_limit_is_refused_before_it_is_allocated():
    with WeightBudget(1000, allocate=True):
        with pytest.raises(WeightBudgetError, match=r"weight 'big/kernel' of shape \(10, 100\) "
                                                   r"would take the weights to 4000 bytes"):
            layers.Dense(100, name="big").build_for((None, 10))


def test_allocated_weights_are_zeros_and_draw_nothing():
    state = get_rng().bit_generator.state
    with WeightBudget(10**6, allocate=True) as budget:
        conv = layers.Conv2D(4, 3)
        conv.build_for((None, 8, 8, 2))
    assert budget.nbytes == (3 * 3 * 2 * 4 + 4) * 4
    assert conv.kernel.data.flags.writeable and not conv.kernel.data.any()
    assert get_rng().bit_generator.state == state


def test_without_a_budget_the_initializers_run():
    dense = layers.Dense(4)
    dense.build_for((None, 3))
    assert dense.kernel.data.any()


class _ShapeByProbe(Layer):
    """No compute_output_shape: the base runs call on a zero sample of the input's size."""

    def call(self, inputs, training=None):
        return inputs


def test_the_shape_probe_of_a_layer_is_checked_against_the_budget_too():
    with WeightBudget(10**6, allocate=False):
        with pytest.raises(WeightBudgetError, match="the shape probe of layer"):
            _ShapeByProbe().build_for((None, 10**5, 10**5))
        assert _ShapeByProbe().build_for((None, 10, 10)) == (None, 10, 10)


def test_a_negative_dimension_is_refused():
    with WeightBudget(None, allocate=False):
        with pytest.raises(ValueError, match="shape must hold ints >= 0"):
            layers.Dense(3).build_for((None, -2))
