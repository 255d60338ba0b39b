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
from tinydl.models import data, sources
from tinydl.rng import get_rng


class Shard:
    """A source as fit sees it (first, epoch, num_batches), counting the samples it yields."""

    def __init__(self, source):
        self.source, self.samples = source, 0

    @property
    def num_batches(self):
        return self.source.num_batches

    @property
    def checks_each_batch(self) -> bool:
        return getattr(self.source, "checks_each_batch", False)

    @property
    def steps(self):
        return self.source.steps

    def first(self):
        return self.source.first()

    def on_epoch_begin(self) -> None:
        self.source.on_epoch_begin()

    def on_epoch_end(self) -> None:
        self.source.on_epoch_end()

    def epoch(self):
        self.samples = 0
        for batch in self._batches():
            self.samples += data.num_samples(batch[0])
            yield batch

    def _batches(self):
        return self.source.epoch()


class ArrayShard(Shard):
    """Rank r's part of every global batch of an ArraySource (see the module docstring)."""

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
        order, start = self._order(), 0
        for b in self.batch_sizes:
            low = start + self.rank * b
            part = slice(low, low + b) if order is None else order[low:low + b]
            start += self.size * b
            yield self.source.batch(part)


class ArraySlice(Shard):
    """Validation: rank r's contiguous slice of an ArraySource, in batches (possibly none)."""

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
            yield self.source.batch(slice(self.low + i * b, min(self.low + (i + 1) * b, self.high)))


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
    """A PyDatasetSource that reads batches rank, rank + size, ... of its dataset."""
    total = source.num_batches if source.steps is None else min(source.steps, source.num_batches)
    count = total // size if equal else len(range(rank, total, size))
    if equal and count == 0:
        raise ValueError(f"{where}: the dataset has {source.steps} batches, fewer than the "
                         f"{size} ranks that must share them")
    source.dataset = _DatasetView(source.dataset, range(rank, rank + count * size, size))
    return Shard(source)


class EqualSteps(Shard):
    """A source that is not split (a generator): it must yield num_batches every epoch."""

    def __init__(self, source, where: str):
        super().__init__(source)
        if (source.steps or source.num_batches) is None:
            raise ValueError(f"{where}: with a generator, every rank must know how many steps an "
                             "epoch has, or one would wait for the others forever: pass "
                             "steps_per_epoch (the same on every rank)")
        self.where = where

    def _batches(self):
        done = 0
        for batch in self.source.epoch():
            done += 1
            yield batch
        # fit asks for a batch only when a step needs one: running out means this rank would
        # take fewer steps than the others
        raise RuntimeError(f"{self.where}: rank {comm.rank()}'s generator ran out after {done} "
                           f"batches, before the end of an epoch of "
                           f"{self.source.steps or self.source.num_batches} steps, so this rank "
                           "cannot take the steps the other ranks take: give a generator "
                           "that loops forever")


def shard_training(source, where: str = "fit") -> Shard:
    """This rank's part of fit's training source."""
    rank, size = comm.rank(), comm.size()
    if comm.shard_data() and isinstance(source, data.ArraySource):
        return ArrayShard(source, rank, size, where)
    if comm.shard_data() and isinstance(source, sources.PyDatasetSource) and \
            source.num_batches is not None:
        return _dataset_shard(source, rank, size, True, where)
    return EqualSteps(source, where)


def shard_validation(source, where: str = "fit (validation_data)") -> Shard | None:
    """This rank's part of fit's validation source (parts may differ in size)."""
    if source is None:
        return None
    rank, size = comm.rank(), comm.size()
    if comm.shard_data() and isinstance(source, data.ArraySource):
        return ArraySlice(source, rank, size)
    if comm.shard_data() and isinstance(source, sources.PyDatasetSource) and \
            source.num_batches is not None:
        return _dataset_shard(source, rank, size, False, where)
    return Shard(source)
