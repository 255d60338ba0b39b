"""Weight initializers by Keras' names and formulas: fans, scales and distributions.

For a dense kernel (in, out): fan_in = in, fan_out = out. For a conv kernel
(KH, KW, C, F): fan_in = KH*KW*C, fan_out = KH*KW*F.
"""

from __future__ import annotations

import numpy as np

from tinydl.rng import get_rng

# stddev of a unit normal truncated to [-2, 2]; dividing by it keeps the variance intended
_TRUNCATED_STD = 0.87962566103423978


def compute_fans(shape: tuple) -> tuple[float, float]:
    """(fan_in, fan_out) of a weight shape, as Keras computes them."""
    if len(shape) == 0:
        return 1.0, 1.0
    if len(shape) == 1:
        return float(shape[0]), float(shape[0])
    receptive = float(np.prod(shape[:-2])) if len(shape) > 2 else 1.0
    return shape[-2] * receptive, shape[-1] * receptive


def _truncated_normal(shape, stddev, rng):
    values = rng.standard_normal(shape)
    bad = np.abs(values) > 2
    while bad.any():
        values[bad] = rng.standard_normal(int(bad.sum()))
        bad = np.abs(values) > 2
    return values * stddev


class VarianceScaling:
    """Draw with variance scale / n, n being fan_in, fan_out or their mean (Keras' rule).

    Args:
        scale: the variance numerator (1 for Glorot/LeCun, 2 for He).
        mode: 'fan_in', 'fan_out' or 'fan_avg'.
        distribution: 'truncated_normal', 'untruncated_normal' or 'uniform'.
    """

    def __init__(self, scale=1.0, mode="fan_in", distribution="truncated_normal", seed=None):
        self.scale, self.mode, self.distribution, self.seed = scale, mode, distribution, seed

    def __call__(self, shape, dtype=np.float32):
        fan_in, fan_out = compute_fans(shape)
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[self.mode]
        variance = self.scale / max(1.0, n)
        rng = get_rng() if self.seed is None else np.random.default_rng(self.seed)
        if self.distribution == "uniform":
            limit = np.sqrt(3.0 * variance)
            values = rng.uniform(-limit, limit, shape)
        elif self.distribution == "truncated_normal":
            values = _truncated_normal(shape, np.sqrt(variance) / _TRUNCATED_STD, rng)
        else:
            values = rng.standard_normal(shape) * np.sqrt(variance)
        return values.astype(dtype)


class Constant:
    def __init__(self, value=0.0):
        self.value = value

    def __call__(self, shape, dtype=np.float32):
        return np.full(shape, self.value, dtype=dtype)


class RandomNormal:
    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        self.mean, self.stddev, self.seed = mean, stddev, seed

    def __call__(self, shape, dtype=np.float32):
        rng = get_rng() if self.seed is None else np.random.default_rng(self.seed)
        return (self.mean + self.stddev * rng.standard_normal(shape)).astype(dtype)


class RandomUniform:
    def __init__(self, minval=-0.05, maxval=0.05, seed=None):
        self.minval, self.maxval, self.seed = minval, maxval, seed

    def __call__(self, shape, dtype=np.float32):
        rng = get_rng() if self.seed is None else np.random.default_rng(self.seed)
        return rng.uniform(self.minval, self.maxval, shape).astype(dtype)


_BY_NAME = {
    "zeros": lambda: Constant(0.0),
    "ones": lambda: Constant(1.0),
    "glorot_uniform": lambda: VarianceScaling(1.0, "fan_avg", "uniform"),
    "glorot_normal": lambda: VarianceScaling(1.0, "fan_avg", "truncated_normal"),
    "he_uniform": lambda: VarianceScaling(2.0, "fan_in", "uniform"),
    "he_normal": lambda: VarianceScaling(2.0, "fan_in", "truncated_normal"),
    "lecun_uniform": lambda: VarianceScaling(1.0, "fan_in", "uniform"),
    "lecun_normal": lambda: VarianceScaling(1.0, "fan_in", "truncated_normal"),
    "random_normal": RandomNormal,
    "random_uniform": RandomUniform,
}


def get(identifier):
    """An initializer from a name ('glorot_uniform', 'he_normal', 'zeros', ...) or a callable."""
    if callable(identifier):
        return identifier
    if isinstance(identifier, str) and identifier.lower() in _BY_NAME:
        return _BY_NAME[identifier.lower()]()
    raise ValueError(f"unknown initializer {identifier!r}; valid names: {sorted(_BY_NAME)}")


def name_of(initializer) -> str | None:
    """The registered name an initializer was made from, when it is one (for get_config)."""
    return initializer if isinstance(initializer, str) else None
