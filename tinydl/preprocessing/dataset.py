"""Dataset: re-iterable batches of NumPy arrays, what the *_dataset_from_* utilities return and
what fit, evaluate and predict iterate for as many epochs as they like; and split_dataset.

A Dataset reads its samples through a source: a function from an index array (B,) to a tuple
of arrays with a batch axis, e.g. (images (B, H, W, C), labels (B,)). Samples are read only
when a batch is asked for, so a folder of images is decoded batch by batch, not all at once.
It is a Keras PyDataset (len(ds) batches, ds[i] -> (x, y)), so fit takes it as x, and it has
the tf.data methods Keras programs chain on it: batch, unbatch, map, shuffle, take, cache,
prefetch.
"""

from __future__ import annotations

import math
import random

import numpy as np

from tinydl.tensor import Tensor


def _plain(value):
    """A Tensor (from a layer in map) as its array; tuples element by element."""
    if isinstance(value, tuple):
        return tuple(_plain(v) for v in value)
    return value.data if isinstance(value, Tensor) else value


class Dataset:
    """Elements (x, y) (or x alone) read from a source in batches of batch_size.

    Args:
        source: a function (indices int64 (B,)) -> tuple of arrays, each with B rows.
        size: the number of samples.
        batch_size: samples per element; None for one sample per element (no batch axis).
        shuffle: reshuffle the samples at the start of every epoch (all of them, not within
            a buffer as tf.data does), from seed.
        seed: an int for a repeatable order, or None.

    Attributes:
        class_names: the label names, when the dataset came from a folder (else None).
        file_paths: the file each sample was read from, in sample order (else None).

    Example:
        >>> x = np.arange(10.0).reshape(5, 2)
        >>> ds = Dataset(lambda idx: (x[idx], idx % 2), size=5, batch_size=2)
        >>> [xb.shape for xb, yb in ds]
        [(2, 2), (2, 2), (1, 2)]
    """

    def __init__(self, source, size: int, batch_size=32, shuffle: bool = False, seed=None,
                 transforms: tuple = (), limit=None):
        self._source, self._size = source, int(size)
        self.batch_size = batch_size
        self._shuffle, self._seed, self._transforms, self._limit = shuffle, seed, transforms, limit
        self._rng = np.random.default_rng(seed)
        self._order = self._rng.permutation(self._size) if shuffle else np.arange(self._size)
        self.class_names = self.file_paths = None

    def _derive(self, **changes) -> "Dataset":
        """A new Dataset over the same source, with some settings changed."""
        settings = {"batch_size": self.batch_size, "shuffle": self._shuffle, "seed": self._seed,
                    "transforms": self._transforms, "limit": self._limit}
        settings.update(changes)
        derived = Dataset(self._source, self._size, **settings)
        derived.class_names, derived.file_paths = self.class_names, self.file_paths
        return derived

    # ------------------------------------------------------------------ PyDataset protocol
    def __len__(self) -> int:
        per = 1 if self.batch_size is None else self.batch_size
        count = math.ceil(self._size / per)
        return count if self._limit is None else min(count, self._limit)

    def __getitem__(self, index: int):
        if not isinstance(index, (int, np.integer)) or not -len(self) <= index < len(self):
            raise IndexError(f"Dataset index {index!r} out of range for {len(self)} elements")
        index = int(index) % len(self)
        per = 1 if self.batch_size is None else self.batch_size
        arrays = self._source(self._order[index * per:(index + 1) * per])
        if self.batch_size is None:
            arrays = tuple(a[0] for a in arrays)
        element = arrays if len(arrays) > 1 else arrays[0]
        for fn in self._transforms:
            element = _plain(fn(*element) if isinstance(element, tuple) else fn(element))
        return element

    def __iter__(self):
        """One epoch, element by element; the next epoch is reshuffled when shuffle is on."""
        for i in range(len(self)):
            yield self[i]
        self.on_epoch_end()

    def on_epoch_end(self) -> None:
        """Called by fit after each epoch: draw a new order when shuffling."""
        if self._shuffle:
            self._order = self._rng.permutation(self._size)

    @property
    def num_samples(self) -> int:
        return self._size

    def __repr__(self):
        return (f"<Dataset: {self._size} samples, batch_size={self.batch_size}, "
                f"{len(self)} elements>")

    # ------------------------------------------------------------------ tf.data-style methods
    def batch(self, batch_size: int) -> "Dataset":
        """The same samples, batch_size per element (the dataset must be unbatched)."""
        if self.batch_size is not None:
            raise ValueError(f"this dataset is already batched (batch_size={self.batch_size}); "
                             "call .unbatch() first, or pass batch_size= when creating it")
        if self._transforms:
            raise ValueError("batch() after map() is not supported: call batch() first, then "
                             "map() a function of whole batches")
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) \
                or batch_size < 1:
            raise ValueError(f"batch_size must be a positive int. Received: batch_size={batch_size!r}")
        return self._derive(batch_size=int(batch_size))

    def unbatch(self) -> "Dataset":
        """The same samples, one per element."""
        if self._transforms:
            raise ValueError("unbatch() after map() is not supported: call it before map()")
        return self._derive(batch_size=None)

    def map(self, function) -> "Dataset":
        """Apply function to each element: function(x, y) for (x, y) elements, else function(x).
        Tensors it returns (e.g. from a TextVectorization layer) become arrays."""
        if not callable(function):
            raise TypeError(f"map needs a callable. Received: {function!r}")
        return self._derive(transforms=self._transforms + (function,))

    def shuffle(self, buffer_size=None, seed=None, reshuffle_each_iteration: bool = True):
        """Reshuffle every epoch (a full shuffle: buffer_size is accepted for tf.data's
        signature and not needed)."""
        return self._derive(shuffle=True, seed=self._seed if seed is None else seed)

    def take(self, count: int) -> "Dataset":
        """The first count elements (all of them when count is -1)."""
        if count == -1:
            return self
        if isinstance(count, bool) or not isinstance(count, (int, np.integer)) or count < 0:
            raise ValueError(f"take: count must be an int >= 0 or -1. Received: count={count!r}")
        return self._derive(limit=int(count) if self._limit is None else min(self._limit, count))

    def cache(self, filename: str = "") -> "Dataset":
        """Keep every sample in memory once it has been read (files are decoded once)."""
        if filename:
            raise ValueError("cache: only the in-memory cache is supported; call cache() "
                             f"without a file name. Received: filename={filename!r}")
        return Dataset.__new__(Dataset)._cached_from(self)

    def _cached_from(self, other: "Dataset") -> "Dataset":
        store: dict = {}
        source = other._source

        def cached(indices):
            missing = [int(i) for i in indices if int(i) not in store]
            if missing:
                for i, row in zip(missing, zip(*source(np.asarray(missing, np.int64)))):
                    store[i] = row
            rows = [store[int(i)] for i in indices]
            return tuple(np.stack(column) for column in zip(*rows))

        Dataset.__init__(self, cached, other._size, other.batch_size, other._shuffle,
                         other._seed, other._transforms, other._limit)
        self.class_names, self.file_paths = other.class_names, other.file_paths
        return self

    def prefetch(self, buffer_size=None) -> "Dataset":
        """Returns the dataset itself: batches are read when fit asks for them."""
        return self


def from_arrays(arrays: tuple, batch_size=32, shuffle: bool = False, seed=None) -> Dataset:
    """A Dataset over in-memory arrays of equal length (x,) or (x, y).

    Example:
        >>> ds = from_arrays((np.zeros((5, 3)), np.arange(5)), batch_size=4)
        >>> [(xb.shape, yb.tolist()) for xb, yb in ds]
        [((4, 3), [0, 1, 2, 3]), ((1, 3), [4])]
    """
    arrays = tuple(np.asarray(a) for a in arrays)
    if len({len(a) for a in arrays}) != 1:
        raise ValueError(f"the arrays must have the same number of samples, got "
                         f"{[a.shape for a in arrays]}")
    return Dataset(lambda idx: tuple(a[idx] for a in arrays), len(arrays[0]), batch_size,
                   shuffle, seed)


# ----------------------------------------------------------------------------- split_dataset

def _split_sizes(left_size, right_size, total: int) -> tuple[int, int]:
    """Keras' rules: a float is a fraction (rounded), an int a count, None the complement."""
    if left_size is None and right_size is None:
        raise ValueError("At least one of the `left_size` or `right_size` must be specified. "
                         "Received: left_size=None and right_size=None")
    sizes = {}
    for name, size in (("left_size", left_size), ("right_size", right_size)):
        if size is None:
            continue
        if isinstance(size, bool) or not isinstance(size, (int, float)):
            raise TypeError(f"Invalid `{name}` type. Expected: int or float or None. "
                            f"Received: {name}={size!r} of type {type(size).__name__}")
        if (isinstance(size, int) and not 0 < size < total) or \
                (isinstance(size, float) and not 0 < size < 1):
            raise ValueError(f"`{name}` should be either a positive integer smaller than "
                             f"{total}, or a float within the range `[0, 1]`. "
                             f"Received: {name}={size}")
        sizes[name] = round(size * total) if isinstance(size, float) else size
    if isinstance(left_size, float) and isinstance(right_size, float) and left_size + right_size > 1:
        raise ValueError("The sum of `left_size` and `right_size` is greater than 1. It must "
                         "be less than or equal to 1.")
    left = sizes.get("left_size", total - sizes.get("right_size", 0))
    right = sizes.get("right_size", total - left)
    if left + right > total or left == 0 or right == 0:
        raise ValueError(f"split_dataset: left_size={left_size} and right_size={right_size} "
                         f"give {left} and {right} of {total} samples; both must be > 0 and "
                         f"together at most {total}")
    return left, right


def split_dataset(dataset, left_size=None, right_size=None, shuffle: bool = False, seed=None):
    """Split samples into a left and a right Dataset (e.g. train and test), as Keras.

    Args:
        dataset: an array, a tuple or list of arrays of equal length (e.g. (x, y)), or a
            Dataset (then each split keeps its batch size).
        left_size, right_size: a float in (0, 1) (a fraction, rounded), an int (a count) or
            None (the rest). At least one must be given.
        shuffle: shuffle the samples before splitting, with Python's random.Random(seed), the
            same order as Keras for the same seed.
        seed: an int; one is drawn when None.

    Returns:
        (left, right): Datasets of the first left and the last right samples. From arrays they
        are unbatched (one sample per element), as Keras' tf.data datasets: call .batch(n).

    Example:
        >>> left, right = split_dataset((np.arange(10.0), np.arange(10)), left_size=0.8)
        >>> left.num_samples, right.num_samples
        (8, 2)
    """
    if isinstance(dataset, Dataset):
        source, total, batch_size = dataset._source, dataset.num_samples, dataset.batch_size
    elif isinstance(dataset, (np.ndarray, tuple, list)):
        arrays = (dataset,) if isinstance(dataset, np.ndarray) else tuple(map(np.asarray, dataset))
        if not arrays or len({len(a) for a in arrays}) != 1:
            raise ValueError("split_dataset: the arrays must have the same number of samples. "
                             f"Received shapes {[a.shape for a in arrays]}")
        source, total, batch_size = (lambda idx: tuple(a[idx] for a in arrays)), len(arrays[0]), None
    else:
        raise TypeError("The `dataset` argument must be an array, a list/tuple of arrays or a "
                        f"tinydl Dataset. Received: dataset of type {type(dataset).__name__}")
    left, right = _split_sizes(left_size, right_size, total)
    order = list(range(total))
    if shuffle:
        random.Random(random.randint(0, int(1e6)) if seed is None else seed).shuffle(order)
    parts = []
    for part in (np.asarray(order[:left], np.int64), np.asarray(order[total - right:], np.int64)):
        split = Dataset(lambda idx, part=part: source(part[idx]), len(part), batch_size)
        if isinstance(dataset, Dataset):
            split.class_names = dataset.class_names
        parts.append(split)
    return tuple(parts)
