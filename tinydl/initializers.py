"""Weight initializers by Keras' names and formulas: fans, scales and distributions.

For a dense kernel (in, out): fan_in = in, fan_out = out. For a conv kernel
(KH, KW, C, F): fan_in = KH*KW*C, fan_out = KH*KW*F.

Values are drawn in the weight's dtype (float32 unless asked for float64), so a float32
weight never passes through a float64 array twice its size; and a weight larger than this
machine's memory is refused before anything is allocated (check_size).
"""

from __future__ import annotations

import math
import os

import numpy as np

from tinydl.rng import get_rng

# stddev of a unit normal truncated to [-2, 2]; dividing by it keeps the variance intended
_TRUNCATED_STD = 0.87962566103423978


def compute_fans(shape: tuple) -> tuple[float, float]:
    """(fan_in, fan_out) of a weight shape, as Keras computes them.

    Example:
        >>> compute_fans((3, 3, 16, 32))
        (144.0, 288.0)
    """
    if len(shape) == 0:
        return 1.0, 1.0
    if len(shape) == 1:
        return float(shape[0]), float(shape[0])
    receptive = float(np.prod(shape[:-2])) if len(shape) > 2 else 1.0
    return shape[-2] * receptive, shape[-1] * receptive


def physical_memory() -> int | None:
    """Bytes of RAM in this machine, or None where the OS does not say.

    Example:
        >>> physical_memory() is None or physical_memory() > 0
        True
    """
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return None


def _size_text(nbytes: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if nbytes < 1024 or unit == "TiB":
            return f"{nbytes:.1f} {unit}" if unit != "B" else f"{nbytes} B"
        nbytes /= 1024
    return ""


def check_size(shape: tuple, dtype, what: str) -> None:
    """Refuse, before allocating, a weight whose shape is not sizes or that cannot fit in RAM.

    Args:
        shape: the weight's shape, e.g. (KH, KW, C, F).
        dtype: its dtype. what: who asks, for the message, e.g. "Dense 'dense' weight 'kernel'".

    Raises:
        ValueError: an entry that is not an int >= 0.
        MemoryError: more bytes than this machine's memory.

    Example:
        >>> check_size((2, 3), np.float32, "zeros")
        >>> check_size((2, -1), np.float32, "zeros")
        Traceback (most recent call last):
            ...
        ValueError: zeros: a weight's shape must hold ints >= 0. Received: shape=(2, -1)
    """
    if any(isinstance(d, bool) or not isinstance(d, (int, np.integer)) or d < 0 for d in shape):
        raise ValueError(f"{what}: a weight's shape must hold ints >= 0. Received: shape={shape}")
    nbytes = math.prod(int(d) for d in shape) * np.dtype(dtype).itemsize
    memory = physical_memory()
    if memory and nbytes > memory:
        raise MemoryError(f"{what}: a weight of shape {tuple(shape)} ({np.dtype(dtype).name}) "
                          f"needs {_size_text(nbytes)}, more than this machine's "
                          f"{_size_text(memory)} of memory; check the layer's sizes (units, "
                          "filters) and its input shape")


def _drawn_dtype(dtype) -> np.dtype:
    """The dtype NumPy's generators can draw in that is closest to dtype: float64 or float32."""
    return np.dtype(np.float64) if np.dtype(dtype) == np.float64 else np.dtype(np.float32)


def _outside_two(values):
    return (values > 2) | (values < -2)  # bool masks only: no temporary copy of values


def _truncated_normal(shape, stddev: float, rng, dtype):
    values = rng.standard_normal(shape, dtype=dtype)
    bad = _outside_two(values)
    while bad.any():
        values[bad] = rng.standard_normal(int(bad.sum()), dtype=dtype)
        bad = _outside_two(values)
    values *= dtype.type(stddev)
    return values


def _uniform(shape, low: float, high: float, rng, dtype):
    values = rng.random(shape, dtype=dtype)
    values *= dtype.type(high - low)
    values += dtype.type(low)
    return values


class VarianceScaling:
    """Draw with variance scale / n, n being fan_in, fan_out or their mean (Keras' rule).

    Args:
        scale: the variance numerator (1 for Glorot/LeCun, 2 for He).
        mode: 'fan_in', 'fan_out' or 'fan_avg'.
        distribution: 'truncated_normal', 'untruncated_normal' or 'uniform'.

    Example:
        >>> w = VarianceScaling(scale=2.0, mode="fan_in", seed=0)((256, 128))
        >>> w.shape, w.dtype, round(float(w.std()), 2)
        ((256, 128), dtype('float32'), 0.09)
    """

    def __init__(self, scale=1.0, mode="fan_in", distribution="truncated_normal", seed=None):
        self.scale, self.mode, self.distribution, self.seed = scale, mode, distribution, seed

    def __call__(self, shape, dtype=np.float32):
        check_size(shape, dtype, "VarianceScaling")
        fan_in, fan_out = compute_fans(shape)
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[self.mode]
        variance = self.scale / max(1.0, n)
        rng = get_rng() if self.seed is None else np.random.default_rng(self.seed)
        drawn = _drawn_dtype(dtype)
        if self.distribution == "uniform":
            limit = math.sqrt(3.0 * variance)
            values = _uniform(shape, -limit, limit, rng, drawn)
        elif self.distribution == "truncated_normal":
            values = _truncated_normal(shape, math.sqrt(variance) / _TRUNCATED_STD, rng, drawn)
        else:
            values = rng.standard_normal(shape, dtype=drawn)
            values *= drawn.type(math.sqrt(variance))
        return values.astype(dtype, copy=False)


class Constant:
    """A tensor filled with one value.

    Example:
        >>> Constant(0.5)((2, 2))
        array([[0.5, 0.5],
               [0.5, 0.5]], dtype=float32)
    """
    def __init__(self, value=0.0):
        self.value = value

    def __call__(self, shape, dtype=np.float32):
        check_size(shape, dtype, "Constant")
        return np.full(shape, self.value, dtype=dtype)


class RandomNormal:
    """Samples of N(mean, stddev^2) (seeded when seed is given).

    Example:
        >>> w = RandomNormal(stddev=0.1, seed=0)((500, 100))
        >>> w.shape, round(float(w.std()), 2)
        ((500, 100), 0.1)
    """
    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        self.mean, self.stddev, self.seed = mean, stddev, seed

    def __call__(self, shape, dtype=np.float32):
        check_size(shape, dtype, "RandomNormal")
        rng = get_rng() if self.seed is None else np.random.default_rng(self.seed)
        drawn = _drawn_dtype(dtype)
        values = rng.standard_normal(shape, dtype=drawn)
        values *= drawn.type(self.stddev)
        values += drawn.type(self.mean)
        return values.astype(dtype, copy=False)


class RandomUniform:
    """Samples uniform in [minval, maxval) (seeded when seed is given).

    Example:
        >>> w = RandomUniform(-1.0, 1.0, seed=0)((100,))
        >>> bool((w >= -1).all() and (w < 1).all())
        True
    """
    def __init__(self, minval=-0.05, maxval=0.05, seed=None):
        self.minval, self.maxval, self.seed = minval, maxval, seed

    def __call__(self, shape, dtype=np.float32):
        check_size(shape, dtype, "RandomUniform")
        rng = get_rng() if self.seed is None else np.random.default_rng(self.seed)
        values = _uniform(shape, self.minval, self.maxval, rng, _drawn_dtype(dtype))
        return values.astype(dtype, copy=False)


class Orthogonal:
    """A random orthogonal matrix (QR of a normal draw, signs fixed by R's diagonal) times gain.

    The shape is seen as (prod(shape[:-1]), shape[-1]); the rows (or columns, whichever are
    fewer) are orthonormal. Keras' default for recurrent kernels (Saxe et al., 2014).

    Example:
        >>> w = Orthogonal(seed=0)((4, 4))
        >>> np.allclose(w.T @ w, np.eye(4), atol=1e-6)
        True
    """

    def __init__(self, gain=1.0, seed=None):
        self.gain, self.seed = gain, seed

    def __call__(self, shape, dtype=np.float32):
        if len(shape) < 2:
            raise ValueError(f"orthogonal: the weight must be at least 2-D. Received: shape={shape}")
        rows, cols = int(np.prod(shape[:-1])), int(shape[-1])
        rng = get_rng() if self.seed is None else np.random.default_rng(self.seed)
        q, r = np.linalg.qr(rng.standard_normal((max(rows, cols), min(rows, cols))))
        q *= np.sign(np.diag(r))
        if rows < cols:
            q = q.T
        return np.ascontiguousarray((self.gain * q).reshape(shape), dtype=dtype)


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
    "uniform": RandomUniform,
    "orthogonal": Orthogonal,
}


def get(identifier):
    """An initializer from a name ('glorot_uniform', 'he_normal', 'zeros', ...) or a callable.

    Example:
        >>> get("zeros")((2,))
        array([0., 0.], dtype=float32)
        >>> type(get("glorot_uniform")).__name__
        'VarianceScaling'
    """
    if callable(identifier):
        return identifier
    if isinstance(identifier, str) and identifier.lower() in _BY_NAME:
        return _BY_NAME[identifier.lower()]()
    raise ValueError(f"unknown initializer {identifier!r}; valid names: {sorted(_BY_NAME)}")


def name_of(initializer) -> str | None:
    """The registered name an initializer was made from, when it is one (for get_config).

    Example:
        >>> name_of("he_normal"), name_of(Constant(1.0))
        ('he_normal', None)
    """
    return initializer if isinstance(initializer, str) else None

from tinydl import keras_names  # noqa: E402

__getattr__ = keras_names.missing(__name__, "initializers")  # a Keras name tinydl lacks: a clear error
