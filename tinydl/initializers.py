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


def _finite(value, name: str, where: str, positive: bool = False) -> float:
    """value as a float, refusing NaN, infinities and (when positive) values <= 0."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{where}: {name} must be a number. Received: {name}={value!r}") from None
    if not math.isfinite(number) or (positive and number <= 0):
        kind = "a positive finite number" if positive else "a finite number"
        raise ValueError(f"{where}: {name} must be {kind}. Received: {name}={value!r}")
    return number


def _rng(seed):
    return get_rng() if seed is None else np.random.default_rng(seed)


class Initializer:
    """Base class of initializers (keras.initializers.Initializer): a callable
    (shape, dtype) -> array, with get_config / from_config.

    A subclass defines __call__(self, shape, dtype=None) and, when its __init__ takes
    arguments, get_config() returning them.

    Example:
        >>> class Twos(Initializer):
        ...     def __call__(self, shape, dtype=None):
        ...         return np.full(shape, 2.0, dtype=dtype or np.float32)
        >>> Twos()((2,)), Twos.from_config(Twos().get_config())((1,))
        (array([2., 2.], dtype=float32), array([2.], dtype=float32))
    """

    def __call__(self, shape, dtype=None):
        raise NotImplementedError(f"{type(self).__name__} must define __call__(shape, dtype=None)")

    def get_config(self) -> dict:
        return {}

    @classmethod
    def from_config(cls, config: dict):
        return cls(**config)


class VarianceScaling(Initializer):
    """Draw with variance scale / n, n being fan_in, fan_out or their mean (Keras' rule).

    Args:
        scale: the variance numerator (1 for Glorot/LeCun, 2 for He).
        mode: 'fan_in', 'fan_out' or 'fan_avg'.
        distribution: 'truncated_normal', 'untruncated_normal' or 'uniform'.
        seed: an int for a reproducible draw; None draws from tinydl's global generator.

    Example:
        >>> w = VarianceScaling(scale=2.0, mode="fan_in", seed=0)((256, 128))
        >>> w.shape, w.dtype, round(float(w.std()), 2)
        ((256, 128), dtype('float32'), 0.09)
    """

    def __init__(self, scale=1.0, mode="fan_in", distribution="truncated_normal", seed=None):
        where = type(self).__name__
        self.scale = _finite(scale, "scale", where, positive=True)
        if mode not in ("fan_in", "fan_out", "fan_avg"):
            raise ValueError(f"{where}: mode must be 'fan_in', 'fan_out' or 'fan_avg'. Received: mode={mode!r}")
        if distribution not in ("truncated_normal", "untruncated_normal", "uniform", "normal"):
            raise ValueError(f"{where}: distribution must be 'truncated_normal', 'untruncated_normal' or "
                             f"'uniform'. Received: distribution={distribution!r}")
        self.mode, self.seed = mode, seed
        self.distribution = "truncated_normal" if distribution == "normal" else distribution

    def __call__(self, shape, dtype=np.float32):
        dtype = np.float32 if dtype is None else dtype
        check_size(shape, dtype, type(self).__name__)
        fan_in, fan_out = compute_fans(shape)
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[self.mode]
        variance = self.scale / max(1.0, n)
        rng = _rng(self.seed)
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

    def get_config(self) -> dict:
        return {"scale": self.scale, "mode": self.mode, "distribution": self.distribution,
                "seed": self.seed}


def _variance_scaling(name: str, scale: float, mode: str, distribution: str, doc: str):
    """A Keras named VarianceScaling (GlorotUniform, HeNormal, ...) taking only seed=."""
    def __init__(self, seed=None, input_axes=None, output_axes=None):
        if input_axes is not None or output_axes is not None:
            raise NotImplementedError(f"{name}: input_axes/output_axes are not implemented in tinydl. "
                                      f"Received: input_axes={input_axes!r}, output_axes={output_axes!r}")
        VarianceScaling.__init__(self, scale, mode, distribution, seed)

    def get_config(self) -> dict:
        return {"seed": self.seed}

    return type(name, (VarianceScaling,), {"__init__": __init__, "get_config": get_config,
                                           "__doc__": doc, "__module__": __name__})


GlorotUniform = _variance_scaling(
    "GlorotUniform", 1.0, "fan_avg", "uniform",
    """Uniform in [-limit, limit], limit = sqrt(6 / (fan_in + fan_out)) (Glorot and Bengio, 2010).

    Example:
        >>> w = GlorotUniform(seed=0)((200, 300))
        >>> bool(abs(w).max() <= (6 / 500) ** 0.5)
        True
    """)
GlorotNormal = _variance_scaling(
    "GlorotNormal", 1.0, "fan_avg", "truncated_normal",
    """Truncated normal with stddev sqrt(2 / (fan_in + fan_out)) (Glorot and Bengio, 2010).

    Example:
        >>> round(float(GlorotNormal(seed=0)((200, 300)).std() ** 2 * 250), 1)
        1.0
    """)
HeUniform = _variance_scaling(
    "HeUniform", 2.0, "fan_in", "uniform",
    """Uniform in [-limit, limit], limit = sqrt(6 / fan_in) (He et al., 2015).

    Example:
        >>> bool(abs(HeUniform(seed=0)((150, 10))).max() <= (6 / 150) ** 0.5)
        True
    """)
HeNormal = _variance_scaling(
    "HeNormal", 2.0, "fan_in", "truncated_normal",
    """Truncated normal with stddev sqrt(2 / fan_in) (He et al., 2015).

    Example:
        >>> round(float(HeNormal(seed=0)((400, 300)).std() ** 2 * 400), 1)
        2.0
    """)
LecunUniform = _variance_scaling(
    "LecunUniform", 1.0, "fan_in", "uniform",
    """Uniform in [-limit, limit], limit = sqrt(3 / fan_in) (LeCun et al., 1998).

    Example:
        >>> bool(abs(LecunUniform(seed=0)((300, 10))).max() <= 0.1)
        True
    """)
LecunNormal = _variance_scaling(
    "LecunNormal", 1.0, "fan_in", "truncated_normal",
    """Truncated normal with stddev sqrt(1 / fan_in) (LeCun et al., 1998).

    Example:
        >>> round(float(LecunNormal(seed=0)((400, 300)).std() ** 2 * 400), 1)
        1.0
    """)


class Constant(Initializer):
    """A tensor filled with one value.

    Example:
        >>> Constant(0.5)((2, 2))
        array([[0.5, 0.5],
               [0.5, 0.5]], dtype=float32)
    """
    def __init__(self, value=0.0):
        self.value = _finite(value, "value", type(self).__name__)

    def __call__(self, shape, dtype=np.float32):
        dtype = np.float32 if dtype is None else dtype
        check_size(shape, dtype, type(self).__name__)
        return np.full(shape, self.value, dtype=dtype)

    def get_config(self) -> dict:
        return {"value": self.value}


class Zeros(Constant):
    """All zeros.

    Example:
        >>> Zeros()((2,))
        array([0., 0.], dtype=float32)
    """
    def __init__(self):
        super().__init__(0.0)

    def get_config(self) -> dict:
        return {}


class Ones(Constant):
    """All ones.

    Example:
        >>> Ones()((2,))
        array([1., 1.], dtype=float32)
    """
    def __init__(self):
        super().__init__(1.0)

    def get_config(self) -> dict:
        return {}


class RandomNormal(Initializer):
    """Samples of N(mean, stddev^2) (seeded when seed is given).

    Example:
        >>> w = RandomNormal(stddev=0.1, seed=0)((500, 100))
        >>> w.shape, round(float(w.std()), 2)
        ((500, 100), 0.1)
    """
    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        where = type(self).__name__
        self.mean = _finite(mean, "mean", where)
        self.stddev = _finite(stddev, "stddev", where)
        if self.stddev < 0:
            raise ValueError(f"{where}: stddev must be >= 0. Received: stddev={stddev!r}")
        self.seed = seed

    def _standard(self, shape, rng, dtype):
        return rng.standard_normal(shape, dtype=dtype)

    def __call__(self, shape, dtype=np.float32):
        dtype = np.float32 if dtype is None else dtype
        check_size(shape, dtype, type(self).__name__)
        drawn = _drawn_dtype(dtype)
        values = self._standard(shape, _rng(self.seed), drawn)
        values *= drawn.type(self.stddev)
        values += drawn.type(self.mean)
        return values.astype(dtype, copy=False)

    def get_config(self) -> dict:
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


class TruncatedNormal(RandomNormal):
    """Samples of N(mean, stddev^2) redrawn until within two stddev of the mean (Keras' rule).

    Example:
        >>> w = TruncatedNormal(stddev=0.1, seed=0)((1000,))
        >>> bool(abs(w).max() <= 0.2)
        True
    """
    def _standard(self, shape, rng, dtype):
        return _truncated_normal(shape, 1.0, rng, dtype)


class RandomUniform(Initializer):
    """Samples uniform in [minval, maxval) (seeded when seed is given).

    Example:
        >>> w = RandomUniform(-1.0, 1.0, seed=0)((100,))
        >>> bool((w >= -1).all() and (w < 1).all())
        True
    """
    def __init__(self, minval=-0.05, maxval=0.05, seed=None):
        where = type(self).__name__
        self.minval, self.maxval = _finite(minval, "minval", where), _finite(maxval, "maxval", where)
        if self.maxval < self.minval:
            raise ValueError(f"{where}: maxval must be >= minval. Received: minval={minval!r}, maxval={maxval!r}")
        self.seed = seed

    def __call__(self, shape, dtype=np.float32):
        dtype = np.float32 if dtype is None else dtype
        check_size(shape, dtype, type(self).__name__)
        values = _uniform(shape, self.minval, self.maxval, _rng(self.seed), _drawn_dtype(dtype))
        return values.astype(dtype, copy=False)

    def get_config(self) -> dict:
        return {"minval": self.minval, "maxval": self.maxval, "seed": self.seed}


class Orthogonal(Initializer):
    """A random orthogonal matrix (QR of a normal draw, signs fixed by R's diagonal) times gain.

    The shape is seen as (prod(shape[:-1]), shape[-1]); the rows (or columns, whichever are
    fewer) are orthonormal. Keras' default for recurrent kernels (Saxe et al., 2014).

    Example:
        >>> w = Orthogonal(seed=0)((4, 4))
        >>> np.allclose(w.T @ w, np.eye(4), atol=1e-6)
        True
    """

    def __init__(self, gain=1.0, seed=None):
        self.gain, self.seed = _finite(gain, "gain", type(self).__name__), seed

    def __call__(self, shape, dtype=np.float32):
        dtype = np.float32 if dtype is None else dtype
        if len(shape) < 2:
            raise ValueError(f"orthogonal: the weight must be at least 2-D. Received: shape={shape}")
        check_size(shape, dtype, type(self).__name__)
        rows, cols = int(np.prod(shape[:-1])), int(shape[-1])
        q, r = np.linalg.qr(_rng(self.seed).standard_normal((max(rows, cols), min(rows, cols))))
        q *= np.sign(np.diag(r))
        if rows < cols:
            q = q.T
        return np.ascontiguousarray((self.gain * q).reshape(shape), dtype=dtype)

    def get_config(self) -> dict:
        return {"gain": self.gain, "seed": self.seed}


class Identity(Initializer):
    """gain times the identity matrix (2-D shapes only; rectangular ones get ones on the diagonal).

    Example:
        >>> Identity(gain=2.0)((2, 3))
        array([[2., 0., 0.],
               [0., 2., 0.]], dtype=float32)
    """

    def __init__(self, gain=1.0):
        self.gain = _finite(gain, "gain", type(self).__name__)

    def __call__(self, shape, dtype=np.float32):
        dtype = np.float32 if dtype is None else dtype
        if len(shape) != 2:
            raise ValueError(f"Identity: the weight must be 2-D. Received: shape={tuple(shape)}")
        check_size(shape, dtype, type(self).__name__)
        return (self.gain * np.eye(*shape)).astype(dtype)

    def get_config(self) -> dict:
        return {"gain": self.gain}


OrthogonalInitializer, IdentityInitializer = Orthogonal, Identity


_BY_NAME = {
    "zeros": Zeros, "ones": Ones, "constant": Constant,
    "glorot_uniform": GlorotUniform, "glorot_normal": GlorotNormal,
    "he_uniform": HeUniform, "he_normal": HeNormal,
    "lecun_uniform": LecunUniform, "lecun_normal": LecunNormal,
    "random_normal": RandomNormal, "random_uniform": RandomUniform, "uniform": RandomUniform,
    "truncated_normal": TruncatedNormal, "variance_scaling": VarianceScaling,
    "orthogonal": Orthogonal, "identity": Identity,
}
# Keras' lowercase aliases of the classes (keras.initializers.he_normal is HeNormal)
zeros, ones, constant = Zeros, Ones, Constant
glorot_uniform, glorot_normal, he_uniform, he_normal = GlorotUniform, GlorotNormal, HeUniform, HeNormal
lecun_uniform, lecun_normal = LecunUniform, LecunNormal
random_normal, random_uniform, truncated_normal = RandomNormal, RandomUniform, TruncatedNormal
variance_scaling, orthogonal, identity = VarianceScaling, Orthogonal, Identity


def get(identifier):
    """An initializer from a name ('glorot_uniform', 'he_normal', 'zeros', ...), a class, a
    Keras config dict ({'class_name': 'HeNormal', 'config': {...}}) or a callable.

    Example:
        >>> get("zeros")((2,))
        array([0., 0.], dtype=float32)
        >>> type(get("glorot_uniform")).__name__, type(get(HeNormal)).__name__
        ('GlorotUniform', 'HeNormal')
        >>> get({"class_name": "RandomNormal", "config": {"stddev": 0.5, "seed": 1}}).stddev
        0.5
    """
    if isinstance(identifier, type):
        return identifier()
    if callable(identifier):
        return identifier
    if isinstance(identifier, dict) and isinstance(identifier.get("class_name"), str):
        cls = _class_named(identifier["class_name"])
        if cls is not None:
            return cls.from_config(dict(identifier.get("config") or {}))
    if isinstance(identifier, str) and _class_named(identifier) is not None:
        return _class_named(identifier)()
    raise ValueError(f"unknown initializer {identifier!r}; valid names: {sorted(_BY_NAME)}, their "
                     "class names, a Keras config dict or a callable")


def _class_named(name: str):
    by_class = {cls.__name__: cls for cls in _BY_NAME.values()}
    return _BY_NAME.get(name.lower()) or by_class.get(name)


def name_of(initializer) -> str | None:
    """The registered name of an initializer given by name, or made by a named class with its
    default arguments (for get_config); else None.

    Example:
        >>> name_of("he_normal"), name_of(HeNormal()), name_of(HeNormal(seed=3)), name_of(Constant(1.0))
        ('he_normal', 'he_normal', None, None)
    """
    if isinstance(initializer, str):
        return initializer
    for name, cls in _BY_NAME.items():
        if type(initializer) is cls and name != "uniform":
            if initializer.get_config() == cls().get_config():
                return name
    return None


from tinydl import keras_names  # noqa: E402

__getattr__ = keras_names.missing(__name__, "initializers")  # a Keras name tinydl lacks: a clear error
