"""Helpers for layer tests: random NHWC batches and a gradient check through a layer's call."""

from __future__ import annotations

import numpy as np
import pytest

from tinydl import Tensor
from tinydl.utils import gradcheck


@pytest.fixture
def images():
    """A function (n, h, w, c, seed) -> a float32 array of that NHWC shape."""
    def make(n=2, h=6, w=6, c=3, seed=0):
        return np.random.default_rng(seed).standard_normal((n, h, w, c)).astype(np.float32)
    return make


@pytest.fixture
def layer_gradcheck():
    """Gradient-check a built layer's real call() in float64.

    The layer's weights are float32 Variables, too coarse for finite differences, so for the
    check each weight attribute is swapped for a float64 Tensor that gradcheck perturbs;
    the layer's own call code runs unchanged. `attributes` names the weight attributes.
    """
    def check(layer, x, attributes, training=None):
        saved = {name: getattr(layer, name) for name in attributes}

        def fn(inputs, *weights):
            for name, weight in zip(attributes, weights):
                setattr(layer, name, weight)
            return layer(inputs, training=training)

        weights = [Tensor(np.array(saved[name].data, np.float64)) for name in attributes]
        try:
            return gradcheck(fn, Tensor(np.asarray(x, np.float64)), *weights, atol=1e-5, rtol=1e-4)
        finally:
            for name, weight in saved.items():
                setattr(layer, name, weight)
    return check
