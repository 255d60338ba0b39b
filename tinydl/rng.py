"""The one random generator tinydl draws from (initializers, shuffling, dropout, augmentation)."""

from __future__ import annotations

import random

import numpy as np

_generator = [np.random.default_rng()]


def get_rng() -> np.random.Generator:
    """The generator every random choice in tinydl uses.

    Example:
        >>> set_random_seed(1)
        >>> first = get_rng().random()
        >>> set_random_seed(1)
        >>> get_rng().random() == first
        True
    """
    return _generator[0]


def set_random_seed(seed: int) -> None:
    """Make initialization, shuffling and dropout repeatable (also seeds Python's and NumPy's
    global generators, as Keras' set_random_seed does).

    Example:
        >>> set_random_seed(0)
        >>> a = tinydl.initializers.get("glorot_uniform")((2, 2))
        >>> set_random_seed(0)
        >>> bool((tinydl.initializers.get("glorot_uniform")((2, 2)) == a).all())
        True
    """
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    _generator[0] = np.random.default_rng(int(seed))
    random.seed(int(seed))
    np.random.seed(int(seed) % 2**32)  # noqa: NPY002 (seeds NumPy's global RNG, as Keras does)
