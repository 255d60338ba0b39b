"""tinydl.random is keras.random: random tensors, dropout and shuffling, seeded as in Keras.

    from tinydl import random
    random.normal((2, 3), seed=1)          # the same numbers on every call with seed=1
    gen = random.SeedGenerator(1)
    random.normal((2, 3), seed=gen)        # new numbers on every call, the same sequence per run
    random.normal((2, 3))                  # tinydl's global generator (utils.set_random_seed)

The numbers are NumPy's (PCG64) and differ from those of Keras' backends; their distributions,
shapes, dtypes and seeding rules are Keras'.
"""

from __future__ import annotations

import numpy as np

from tinydl.ops.keras_core import float_tensor, standardize_dtype, tensor_of
from tinydl.ops.keras_numpy import multiply
from tinydl.ops.movement import GetItem
from tinydl.rng import get_rng
from tinydl.tensor import Tensor

__all__ = ["SeedGenerator", "normal", "uniform", "truncated_normal", "randint", "dropout",
           "shuffle", "categorical"]


class SeedGenerator:
    """A seed that advances: each draw that takes it gets new numbers, reproducibly.

    Args:
        seed: a non-negative int, or None to draw one from tinydl's global generator (so
            utils.set_random_seed makes it repeatable).

    Example:
        >>> gen = SeedGenerator(42)
        >>> bool((normal((3,), seed=gen).data != normal((3,), seed=gen).data).all())
        True
    """

    def __init__(self, seed=None, name=None, **kwargs):
        if kwargs:
            raise TypeError(f"SeedGenerator got unexpected arguments: {sorted(kwargs)}")
        if seed is None:
            seed = int(get_rng().integers(1, 2**31))
        _check_int_seed(seed)
        self.seed, self.name, self._count = int(seed), name or "seed_generator", 0

    def next(self) -> np.random.Generator:
        """A generator for the next draw (the count of draws so far is part of its seed)."""
        rng = np.random.default_rng([self.seed, self._count])
        self._count += 1
        return rng

    def get_config(self) -> dict:
        return {"seed": self.seed, "name": self.name}

    def __repr__(self):
        return f"SeedGenerator(seed={self.seed}, draws={self._count})"


def _check_int_seed(seed) -> None:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError("seed must be None, a non-negative int or a SeedGenerator. "
                         f"Received: seed={seed!r}")


def _generator(seed) -> np.random.Generator:
    """The generator for a draw: the global one for None, a fresh one for an int, the next one
    of a SeedGenerator."""
    if seed is None:
        return get_rng()
    if isinstance(seed, SeedGenerator):
        return seed.next()
    _check_int_seed(seed)
    return np.random.default_rng(int(seed))


def _shape(shape) -> tuple:
    dims = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
    if not all(isinstance(d, (int, np.integer)) and d >= 0 for d in dims):
        raise ValueError(f"shape must be a tuple of non-negative ints. Received: shape={shape!r}")
    return tuple(int(d) for d in dims)


def _float_dtype(dtype, where: str) -> str:
    name = standardize_dtype(dtype)
    if np.dtype(name).kind != "f":
        raise ValueError(f"keras.random.{where} requires a floating point dtype. "
                         f"Received: dtype={dtype!r}")
    return name


def normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None) -> Tensor:
    """Samples of a normal distribution N(mean, stddev^2) (float32 unless dtype says otherwise).

    Example:
        >>> normal((2, 3), seed=0).shape
        (2, 3)
        >>> normal((2,), mean=5.0, stddev=0.0, seed=0).data
        array([5., 5.], dtype=float32)
    """
    dtype = _float_dtype(dtype, "normal")
    values = _generator(seed).normal(mean, stddev, _shape(shape))
    return Tensor._wrap(values.astype(dtype))


def uniform(shape, minval=0.0, maxval=1.0, dtype=None, seed=None) -> Tensor:
    """Samples uniform in [minval, maxval).

    Example:
        >>> x = uniform((1000,), minval=-1.0, maxval=1.0, seed=0)
        >>> bool((x.data >= -1).all() and (x.data < 1).all()), x.dtype
        (True, dtype('float32'))
    """
    dtype = _float_dtype(dtype, "uniform")
    if not minval < maxval:
        raise ValueError(f"uniform: minval must be below maxval. Received: minval={minval}, "
                         f"maxval={maxval}")
    values = _generator(seed).uniform(minval, maxval, _shape(shape))
    return Tensor._wrap(values.astype(dtype))


def truncated_normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None) -> Tensor:
    """Normal samples redrawn until within two standard deviations of the mean (as Keras).

    Example:
        >>> x = truncated_normal((1000,), stddev=1.0, seed=0)
        >>> bool((abs(x.data) <= 2).all())
        True
    """
    dtype = _float_dtype(dtype, "truncated_normal")
    rng, shape = _generator(seed), _shape(shape)
    values = rng.standard_normal(shape)
    outside = np.abs(values) > 2
    while outside.any():
        values[outside] = rng.standard_normal(int(outside.sum()))
        outside = np.abs(values) > 2
    return Tensor._wrap((mean + stddev * values).astype(dtype))


def randint(shape, minval, maxval, dtype="int32", seed=None) -> Tensor:
    """Integers uniform in [minval, maxval).

    Example:
        >>> x = randint((100,), minval=0, maxval=3, seed=0)
        >>> sorted(set(x.data.tolist())), x.dtype
        ([0, 1, 2], dtype('int32'))
    """
    name = standardize_dtype(dtype)
    if np.dtype(name).kind not in "iu":
        raise ValueError(f"randint requires an integer dtype. Received: dtype={dtype!r}")
    if not minval < maxval:
        raise ValueError(f"randint: minval must be below maxval. Received: minval={minval}, "
                         f"maxval={maxval}")
    values = _generator(seed).integers(minval, maxval, _shape(shape))
    return Tensor._wrap(values.astype(name))


def dropout(inputs, rate, noise_shape=None, seed=None) -> Tensor:
    """Zero each element with probability rate and scale the rest by 1 / (1 - rate).

    Args:
        inputs: a tensor (the gradient flows through the kept elements, scaled).
        rate: the probability of dropping, in [0, 1).
        noise_shape: the shape of the mask, broadcast against inputs (None entries take the
            input's size): (N, 1, C) drops whole channels of an (N, W, C) input.
        seed: None, an int or a SeedGenerator.

    Example:
        >>> y = dropout(tinydl.Tensor(np.ones(8)), rate=0.5, seed=0)
        >>> sorted(set(y.data.tolist()))
        [0.0, 2.0]
    """
    inputs = float_tensor(inputs)
    if not 0 <= rate < 1:
        raise ValueError(f"dropout: rate must be in [0, 1). Received: rate={rate}")
    if noise_shape is None:
        noise_shape = inputs.shape
    else:
        noise_shape = tuple(n if d is None else d for d, n in
                            zip(noise_shape, inputs.shape[-len(noise_shape):]))
        try:
            np.broadcast_shapes(noise_shape, inputs.shape)
        except ValueError:
            raise ValueError(f"dropout: noise_shape {noise_shape} does not broadcast to the "
                             f"inputs' shape {inputs.shape}") from None
    keep = _generator(seed).random(_shape(noise_shape)) >= rate
    mask = keep.astype(inputs.dtype) / inputs.dtype.type(1.0 - rate)
    return multiply(inputs, mask)


def shuffle(x, axis=0, seed=None) -> Tensor:
    """x with its slices along axis in a random order (differentiable).

    Example:
        >>> sorted(shuffle(tinydl.Tensor([1.0, 2.0, 3.0]), seed=0).data.tolist())
        [1.0, 2.0, 3.0]
    """
    x = tensor_of(x)
    if not -x.ndim <= axis < x.ndim:
        raise ValueError(f"shuffle: axis must be in [-{x.ndim}, {x.ndim}). Received: axis={axis}")
    axis %= x.ndim
    order = _generator(seed).permutation(x.shape[axis])
    return GetItem.apply(x, (slice(None),) * axis + (order,))


def categorical(logits, num_samples, dtype="int32", seed=None) -> Tensor:
    """Class indices drawn from softmax(logits) per row: (N, K) logits -> (N, num_samples).

    Example:
        >>> categorical(tinydl.Tensor([[0.0, 100.0]]), num_samples=3, seed=0).data
        array([[1, 1, 1]], dtype=int32)
    """
    logits = float_tensor(logits).data.astype(np.float64)
    if logits.ndim != 2:
        raise ValueError(f"categorical: logits must have shape (batch, classes). "
                         f"Received: logits.shape={logits.shape}")
    probs = np.exp(logits - logits.max(axis=1, keepdims=True))
    cumulative = np.cumsum(probs / probs.sum(axis=1, keepdims=True), axis=1)
    draws = _generator(seed).random((logits.shape[0], int(num_samples)))
    picks = (draws[:, :, None] >= cumulative[:, None, :-1]).sum(axis=2)
    return Tensor._wrap(picks.astype(standardize_dtype(dtype)))
