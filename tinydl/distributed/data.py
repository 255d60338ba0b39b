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
    a generator          the same: every rank reads all of its own generator's batches and
                         keeps batches i with i % size == rank. In training the batches are
                         taken in groups of size, and before each step the ranks agree that
                         each of them has its batch, so an epoch ends on the same step on
                         every rank (steps_per_epoch counts the generator's batches, which the
                         ranks share: each takes steps_per_epoch // size steps)
    init(shard_data=False)  nothing is split (each rank's data is its own already); a
                         generator must then give steps_per_epoch batches every epoch, or this
                         rank raises

Every wrapper counts the samples it yielded this epoch (samples), for weighting the metrics,
and knows each batch's place in the whole epoch (positions), for putting predictions in order.
"""

from __future__ import annotations

import itertools
import warnings

import numpy as np

from tinydl.distributed import comm
from tinydl.models import data, sources
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
        >>> [len(xb) for xb, *_ in shard.epoch()], shard.samples, shard.num_batches
        ([2, 2, 1], 5, 3)
    """

    def __init__(self, source):
        self.source, self.samples = source, 0
        self.positions: list = []  # this epoch: each batch's place in the order of all batches

    @property
    def num_batches(self):
        return self.source.num_batches

    @property
    def steps_per_epoch(self):
        """What the ranks must agree on before training: the steps each rank takes."""
        return self.num_batches

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
        self.samples, self.positions = 0, []
        for position, batch in self._batches():
            self.samples += data.num_samples(batch[0])
            self.positions.append(position)
            yield batch

    def epoch_steps(self, steps):
        """The steps per epoch of this rank when its caller asked for `steps` (None: all)."""
        return steps

    def _batches(self):
        """(position, (x, y)) of each batch of this rank, this epoch."""
        return enumerate(self.source.epoch())


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
        >>> [[yb.tolist() for _, yb, _ in shard.epoch()] for shard in shards]
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
        order, start = self._order(), 0
        for b in self.batch_sizes:
            low = start + self.rank * b
            part = slice(low, low + b) if order is None else order[low:low + b]
            start += self.size * b
            yield low, self.source.batch(part)


class ArraySlice(Shard):
    """Validation: rank r's contiguous slice of an ArraySource, in batches (possibly none).

    Args:
        source: the ArraySource of the validation arrays.
        rank: this rank.
        size: the number of ranks.

    Example:
        >>> from tinydl.models.data import ArraySource
        >>> source = ArraySource(np.arange(5)[:, None], np.arange(5), batch_size=2)
        >>> [[yb.tolist() for _, yb, _ in ArraySlice(source, rank, 2).epoch()] for rank in range(2)]
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
            yield part.start, self.source.batch(part)


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


class DatasetShard(Shard):
    """A PyDatasetSource reading batches rank, rank + size, ... of its dataset (of a known
    length; the first `steps` of them when the caller asked for steps).

    Args:
        source: a PyDatasetSource (its dataset is replaced by a view of this rank's batches).
        rank: this rank.
        size: the number of ranks.
        equal: the same number of batches on every rank (training).
        where: the caller, for messages.

    Raises:
        ValueError: with equal, fewer batches than ranks.

    Example:
        >>> from tinydl.models.data import make_source
        >>> class Batches:
        ...     def __len__(self):
        ...         return 5
        ...     def __getitem__(self, i):
        ...         return np.full((1, 1), i), np.full(1, i)
        >>> source = make_source(Batches(), None, 32, False, None, True, "fit")
        >>> [int(yb[0]) for _, yb, _ in DatasetShard(source, 1, 2, equal=True, where="fit").epoch()]
        [1, 3]
    """

    def __init__(self, source, rank: int, size: int, equal: bool, where: str):
        super().__init__(source)
        total = source.num_batches if source.steps is None else min(source.steps, source.num_batches)
        count = total // size if equal else len(range(rank, total, size))
        if equal and count == 0:
            raise ValueError(f"{where}: the dataset has {total} batches, fewer than the "
                             f"{size} ranks that must share them")
        self.rank, self.size, self.count = rank, size, count
        source.dataset = _DatasetView(source.dataset, range(rank, rank + count * size, size))

    def epoch_steps(self, steps):
        return None if steps is None else self.count or None

    def _batches(self):
        for j, batch in enumerate(self.source.epoch()):
            yield self.rank + j * self.size, batch


class IteratorShard(Shard):
    """A generator's batches i with i % size == rank (see the module docstring). lockstep
    (training): in groups of size, the ranks agreeing before each step that all have theirs.

    Args:
        source: a GeneratorSource (its steps, when given, count the batches all ranks share).
        rank: this rank.
        size: the number of ranks.
        lockstep: training: agree with the other ranks before each step.

    Example:
        >>> from tinydl.models.data import make_source
        >>> batches = ((np.full((1, 1), i), np.full(1, i)) for i in range(5))
        >>> source = make_source(batches, None, 32, False, None, True, "predict")
        >>> shard = IteratorShard(source, 1, 2, lockstep=False)
        >>> [int(yb[0]) for _, yb, _ in shard.epoch()]
        [1, 3]
    """

    def __init__(self, source, rank: int, size: int, lockstep: bool):
        super().__init__(source)
        self.rank, self.size, self.lockstep = rank, size, lockstep
        self._ran_out = False

    def _share(self, steps):
        if steps is None:
            return None
        return steps // self.size if self.lockstep else len(range(self.rank, steps, self.size))

    @property
    def num_batches(self):
        # training: the pass of a generator goes on over epochs (its length is unknown)
        return None if self.lockstep else self._share(self.source.steps)

    def epoch_steps(self, steps):
        return self._share(steps) or None

    @property
    def exhausted(self) -> bool:
        return self._ran_out

    @property
    def steps_per_epoch(self):
        """The generator's batches per epoch that the ranks share (fit's steps_per_epoch)."""
        return self.source.steps

    def _batches(self):
        batches, steps = self.source.epoch(), self.source.steps
        if not self.lockstep:
            if steps is not None:
                batches = itertools.islice(batches, steps)
            yield from ((i, batch) for i, batch in enumerate(batches) if i % self.size == self.rank)
            return
        while True:  # one epoch of `steps` batches (all of them when None) after another
            chunk = batches if steps is None else itertools.islice(batches, steps)
            groups = itertools.count(0, self.size) if steps is None else \
                range(0, steps // self.size * self.size, self.size)
            for first in groups:
                group = list(itertools.islice(chunk, self.size))
                if not _everyone(len(group) == self.size):
                    self._ran_out = True
                    return
                yield first + self.rank, group[self.rank]
            for _ in chunk:  # the steps % size batches of the epoch no rank takes
                pass


def _everyone(ok: bool) -> bool:
    """Whether ok holds on every rank (one small allreduce; all ranks must call it)."""
    flag = np.array([1 if ok else 0], dtype=np.int64)
    comm.world().Allreduce(comm.mpi().IN_PLACE, flag, op=comm.mpi().MIN)
    return bool(flag[0])


class EqualSteps(Shard):
    """A source that is not split (a generator): it must yield num_batches every epoch.

    Args:
        source: a source that is not split (a generator under init(shard_data=False)).
        where: the caller, for messages.

    Raises:
        ValueError: the generator has no steps_per_epoch (ranks could not agree on an epoch).
        RuntimeError: (in epoch) the generator ran out early.

    Example:
        >>> from tinydl.models.data import make_source
        >>> batches = iter([(np.zeros((1, 1)), np.zeros(1))] * 4)
        >>> EqualSteps(make_source(batches, None, 32, False, 2, True, "fit"), "fit").steps
        2
        >>> EqualSteps(make_source(batches, None, 32, False, None, True, "fit"), "fit")
        Traceback (most recent call last):
        ...
        ValueError: fit: with a generator, every rank must know how many steps an epoch has, ...
    """

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
            yield done, batch
            done += 1
        # fit asks for a batch only when a step needs one: running out means this rank would
        # take fewer steps than the others
        raise RuntimeError(f"{self.where}: rank {comm.rank()}'s generator ran out after {done} "
                           f"batches, before the end of an epoch of "
                           f"{self.source.steps or self.source.num_batches} steps, so this rank "
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
    if comm.shard_data() and isinstance(source, sources.PyDatasetSource) and \
            source.num_batches is not None:
        return DatasetShard(source, rank, size, True, where)
    if comm.shard_data() and isinstance(source, sources.GeneratorSource):
        return IteratorShard(source, rank, size, lockstep=True)
    return EqualSteps(source, where)


def shard_validation(source, where: str = "fit (validation_data)") -> Shard | None:
    """This rank's part of a source that is only evaluated or predicted.

    That is fit's validation, evaluate and predict: parts may differ in size, and may be
    empty.

    Args:
        source: the source to evaluate or predict from, or None.
        where: the caller, for messages.

    Returns:
        An ArraySlice, a DatasetShard or an IteratorShard (this rank's batches), the source
        unsplit in a Shard, or None for None.

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
    if comm.shard_data() and isinstance(source, sources.PyDatasetSource) and \
            source.num_batches is not None:
        return DatasetShard(source, rank, size, False, where)
    if comm.shard_data() and isinstance(source, sources.GeneratorSource):
        return IteratorShard(source, rank, size, lockstep=False)
    return Shard(source)
