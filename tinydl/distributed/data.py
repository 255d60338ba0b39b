"""Each rank's part of fit's data: the same number of steps on every rank, disjoint samples.

fit's sources (tinydl.models.data) are wrapped, rank by rank:

    arrays (training)    global batch k is order[k*B*size : (k+1)*B*size] of one permutation
                         that rank 0 draws and sends to all; rank r takes its r-th B samples.
                         So `size` ranks at batch B take exactly the steps that one process
                         takes at batch B*size. A last, short global batch is split evenly;
                         the fewer than `size` samples left over are not used that epoch.
    arrays (validation)  rank r evaluates the r-th contiguous slice (sizes may differ by one)
    a dataset object     rank r takes the batches r, r + size, r + 2*size, ... (training: the
                         same count on every rank, len // size)
    a generator          not split (each rank's generator yields that rank's data); it must
                         give steps_per_epoch batches every epoch, or this rank raises

Every wrapper counts the samples it yielded this epoch (samples), for weighting the metrics.
"""

from __future__ import annotations

import warnings

import numpy as np

from tinydl.distributed import comm
from tinydl.models import data
from tinydl.rng import get_rng


class Shard:
    """A source as fit sees it (first, epoch, num_batches), counting the samples it yields.

    The base wrapper yields the source's batches unchanged; subclasses pick this rank's part.

    Args:
        source: a tinydl.models.data source.

    Attributes:
        samples: the samples yielded so far this epoch (for weighting the global metrics).

    Example:
        >>> from tinydl.models.data import ArraySource
        >>> shard = Shard(ArraySource(np.arange(5)[:, None], None, batch_size=2))
        >>> [len(xb) for xb, _ in shard.epoch()], shard.samples, shard.num_batches
        ([2, 2, 1], 5, 3)
    """

    def __init__(self, source):
        self.source, self.samples = source, 0

    @property
    def num_batches(self):
        return self.source.num_batches

    @property
    def checks_each_batch(self) -> bool:
        return getattr(self.source, "checks_each_batch", False)

    @property
    def exhausted(self) -> bool:
        return getattr(self.source, "exhausted", False)

    def first(self):
        return self.source.first()

    def epoch(self):
        self.samples = 0
        for xb, yb in self._batches():
            self.samples += len(xb)
            yield xb, yb

    def _batches(self):
        return self.source.epoch()


class ArrayShard(Shard):
    """Rank r's part of every global batch of an ArraySource (see the module docstring).

    Args:
        source: the ArraySource of fit's training arrays.
        rank: this rank, 0 .. size - 1.
        size: the number of ranks.
        where: the caller, for messages.

    Raises:
        ValueError: fewer samples than ranks.

    Example:
        Two ranks at batch 2 take the steps one process takes at batch 4: global batch k is
        samples 4k .. 4k+3, rank 0 the first two. The short last global batch (8, 9) is split.

        >>> from tinydl.models.data import ArraySource
        >>> source = ArraySource(np.arange(10)[:, None], np.arange(10), batch_size=2)
        >>> shards = [ArrayShard(source, rank, 2) for rank in range(2)]
        >>> [[yb.tolist() for _, yb in shard.epoch()] for shard in shards]
        [[[0, 1], [4, 5], [8]], [[2, 3], [6, 7], [9]]]
        >>> [shard.num_batches for shard in shards], shards[1].samples
        ([3, 3], 5)
    """

    def __init__(self, source, rank: int, size: int, where: str = "fit"):
        super().__init__(source)
        self.rank, self.size = rank, size
        n, b = source.size, source.batch_size
        full, tail = divmod(n, b * size)
        sizes = [b] * full + ([tail // size] if tail >= size else [])
        if source.steps is not None:
            sizes = sizes[:source.steps]
        if not sizes:
            raise ValueError(f"{where}: {n} samples cannot be shared by {size} ranks (each needs "
                             f"at least one). Received: x with {n} samples")
        self.batch_sizes = sizes
        unused = n - size * sum(sizes)
        if unused and source.steps is None and not source.shuffle:
            warnings.warn(f"{where}: {unused} of the {n} samples are never used: {size} ranks at "
                          f"batch_size {b} share each global batch evenly, and without shuffling "
                          "the same ones are left over every epoch", stacklevel=4)

    @property
    def num_batches(self) -> int:
        return len(self.batch_sizes)

    def _order(self):
        if not self.source.shuffle:
            return None
        if self.rank == 0:
            order = get_rng().permutation(self.source.size).astype(np.int64)
        else:
            order = np.empty(self.source.size, dtype=np.int64)
        comm.world().Bcast(order, root=0)
        return order

    def _batches(self):
        x, y, order, start = self.source.x, self.source.y, self._order(), 0
        for b in self.batch_sizes:
            low = start + self.rank * b
            part = slice(low, low + b) if order is None else order[low:low + b]
            start += self.size * b
            yield data.to_float32(x[part]), None if y is None else y[part]


class ArraySlice(Shard):
    """Validation: rank r's contiguous slice of an ArraySource, in batches (possibly none).

    Args:
        source: the ArraySource of the validation arrays.
        rank: this rank.
        size: the number of ranks.

    Example:
        >>> from tinydl.models.data import ArraySource
        >>> source = ArraySource(np.arange(5)[:, None], np.arange(5), batch_size=2)
        >>> [[yb.tolist() for _, yb in ArraySlice(source, rank, 2).epoch()] for rank in range(2)]
        [[[0, 1]], [[2, 3], [4]]]
    """

    def __init__(self, source, rank: int, size: int):
        super().__init__(source)
        n = source.size
        self.low, self.high = n * rank // size, n * (rank + 1) // size
        count = -(-(self.high - self.low) // source.batch_size)
        self._count = count if source.steps is None else min(count, source.steps)

    @property
    def num_batches(self) -> int:
        return self._count

    def _batches(self):
        b = self.source.batch_size
        for i in range(self._count):
            part = slice(self.low + i * b, min(self.low + (i + 1) * b, self.high))
            yield data.to_float32(self.source.x[part]), \
                None if self.source.y is None else self.source.y[part]


class _DatasetView:
    """Some of a PyDataset's batches: view[j] is dataset[indices[j]]; on_epoch_end passes on."""

    def __init__(self, dataset, indices):
        self.dataset, self.indices = dataset, list(indices)

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, j):
        return self.dataset[self.indices[j]]

    def on_epoch_end(self) -> None:
        if hasattr(self.dataset, "on_epoch_end"):
            self.dataset.on_epoch_end()


def _dataset_shard(source, rank: int, size: int, equal: bool, where: str) -> Shard:
    """A SequenceSource that reads batches rank, rank + size, ... of its dataset."""
    count = source.steps // size if equal else len(range(rank, source.steps, size))
    if equal and count == 0:
        raise ValueError(f"{where}: the dataset has {source.steps} batches, fewer than the "
                         f"{size} ranks that must share them")
    source.dataset = _DatasetView(source.dataset, range(rank, rank + count * size, size))
    source.steps = count
    return Shard(source)


class EqualSteps(Shard):
    """A source that is not split (a generator): it must yield num_batches every epoch.

    Args:
        source: an IteratorSource.
        where: the caller, for messages.

    Raises:
        ValueError: the generator has no steps_per_epoch (ranks could not agree on an epoch).
        RuntimeError: (in epoch) the generator ran out early.

    Example:
        >>> from tinydl.models.data import IteratorSource
        >>> batches = iter([(np.zeros((1, 1)), np.zeros(1))] * 4)
        >>> EqualSteps(IteratorSource(batches, 2, True, "fit: the generator"), "fit").num_batches
        2
        >>> EqualSteps(IteratorSource(batches, None, True, "fit: the generator"), "fit")
        Traceback (most recent call last):
        ...
        ValueError: fit: with a generator, every rank must know how many steps an epoch has, ...
    """

    def __init__(self, source, where: str):
        super().__init__(source)
        if source.num_batches is None:
            raise ValueError(f"{where}: with a generator, every rank must know how many steps an "
                             "epoch has, or one would wait for the others forever: pass "
                             "steps_per_epoch (the same on every rank)")
        self.where = where

    def _batches(self):
        done = 0
        for batch in self.source.epoch():
            done += 1
            yield batch
        if done < self.source.num_batches:
            raise RuntimeError(f"{self.where}: rank {comm.rank()}'s generator ran out after {done} "
                               f"of {self.source.num_batches} batches of this epoch, so this rank "
                               "cannot take the steps the other ranks take: give a generator "
                               "that loops forever")


def shard_training(source, where: str = "fit") -> Shard:
    """This rank's part of fit's training source.

    Args:
        source: fit's training source.
        where: the caller, for messages.

    Returns:
        An ArrayShard (arrays), a Shard over every size-th batch (a dataset object), or an
        EqualSteps (a generator, or init(shard_data=False)).

    Raises:
        RuntimeError: init() was not called.

    Example:
        >>> from tinydl.models.data import ArraySource
        >>> source = ArraySource(np.arange(8)[:, None], np.arange(8), batch_size=2)
        >>> shard_training(source)
        Traceback (most recent call last):
        ...
        RuntimeError: tinydl.distributed is not initialized: ...
        >>> type(shard_training(source)).__name__              # doctest: +SKIP
        'ArrayShard'
    """
    rank, size = comm.rank(), comm.size()
    if comm.shard_data() and isinstance(source, data.ArraySource):
        return ArrayShard(source, rank, size, where)
    if comm.shard_data() and isinstance(source, data.SequenceSource):
        return _dataset_shard(source, rank, size, True, where)
    return EqualSteps(source, where)


def shard_validation(source, where: str = "fit (validation_data)") -> Shard | None:
    """This rank's part of fit's validation source (parts may differ in size).

    Args:
        source: fit's validation source, or None.
        where: the caller, for messages.

    Returns:
        An ArraySlice, a Shard over some of a dataset's batches, the source unsplit in a
        Shard, or None for None.

    Raises:
        RuntimeError: init() was not called (and source is not None).

    Example:
        >>> print(shard_validation(None))
        None
        >>> from tinydl.models.data import ArraySource
        >>> type(shard_validation(ArraySource(np.arange(8)[:, None], None, 2))).__name__  # doctest: +SKIP
        'ArraySlice'
    """
    if source is None:
        return None
    rank, size = comm.rank(), comm.size()
    if comm.shard_data() and isinstance(source, data.ArraySource):
        return ArraySlice(source, rank, size)
    if comm.shard_data() and isinstance(source, data.SequenceSource):
        return _dataset_shard(source, rank, size, False, where)
    return Shard(source)
