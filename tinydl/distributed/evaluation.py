"""What evaluate and predict do differently under tinydl.distributed: their hooks.

evaluate and predict (tinydl/models/loops.py) call these; all do nothing unless init() was
called and there is more than one rank (and not inside `with local():`). Then:

    shard_test          this rank's part of the data (tinydl.distributed.data: a contiguous
                        slice of arrays, batches i % size == rank of a dataset or generator),
                        after meeting the other ranks; the progress bar on rank 0 only
    global_logs         at the end of evaluate (and of fit's validation): the metrics over all
                        ranks' parts together, on every rank (tinydl.distributed.results)
    all_predictions     predict: every rank's batches, in the order of the whole data, on every
                        rank (with init(shard_data=False) each rank keeps its own predictions)

So evaluate and predict are collective, like fit: every rank calls them with the same data.
To run one on a single rank, on all of the data it is given, wrap it in local():

    if hvd.rank() == 0:
        with hvd.local():
            model.evaluate(x_test, y_test)
"""

from __future__ import annotations

import contextlib
import threading
import time

import numpy as np

from tinydl.distributed import comm, results
from tinydl.distributed import data as shards

MEET_TIMEOUT = 300.0  # seconds evaluate / predict wait for the other ranks before raising
_local = threading.local()
abandoned: list = []  # the meetings that timed out, kept alive (MPI may still complete them)


@contextlib.contextmanager
def local():
    """Inside the block, evaluate and predict run on this rank alone, on all of their data.

    Blocks nest; the setting is per thread.

    Example:
        >>> with local():
        ...     print(active())
        False
        >>> model = tinydl.Sequential([tinydl.Input((2,)), tinydl.layers.Dense(1)])
        >>> with local():                                       # doctest: +SKIP
        ...     predictions = model.predict(x_test)             # every rank, all of x_test
    """
    depth = getattr(_local, "depth", 0)
    _local.depth = depth + 1
    try:
        yield
    finally:
        _local.depth = depth


def active() -> bool:
    """Whether evaluate and predict run over several ranks here.

    Returns:
        True after init() on more than one rank, outside a local() block.

    Example:
        >>> active()
        False
    """
    return comm.is_initialized() and comm.size() > 1 and not getattr(_local, "depth", 0)


def shard_test(source, verbose: int, where: str):
    """(this rank's part of source, verbose): see the module.

    Args:
        source: the source evaluate or predict reads.
        verbose: the caller's verbosity (kept on rank 0 only).
        where: the caller, for messages.

    Returns:
        (source, verbose) unchanged when not active(); else this rank's part and its verbosity.

    Example:
        >>> from tinydl.models.data import ArraySource
        >>> source = ArraySource(np.zeros((4, 2)), None, 2)
        >>> shard_test(source, 1, "evaluate") == (source, 1)     # not distributed
        True
    """
    if not active():
        return source, verbose
    _meet(where)
    return shards.shard_validation(source, where), verbose if comm.is_main() else 0


def global_logs(model, logs: dict, source, where: str) -> dict:
    """The logs of every rank's part of source together, when source is a rank's part.

    Args:
        model: the model evaluated.
        logs: this rank's logs (None when this rank had no batch).
        source: what evaluate read (a Shard when it was split).
        where: the caller, for messages.

    Returns:
        The global logs, or logs itself when source was not split; None when no rank had
        a batch.

    Example:
        >>> from tinydl.models.data import ArraySource
        >>> logs = {"loss": 0.5}
        >>> global_logs(None, logs, ArraySource(np.zeros((4, 2)), None, 2), "evaluate") is logs
        True
    """
    if not isinstance(source, shards.Shard) or not comm.is_initialized():
        return logs
    total = np.array([source.samples], dtype=np.float64)
    comm.world().Allreduce(comm.mpi().IN_PLACE, total, op=comm.mpi().SUM)
    if total[0] == 0:
        return None  # no rank had a batch: the caller raises, never a loss of 0.0
    if logs is None:  # this rank had no batch: its (reset) metrics, weighted 0
        logs = {k: float(np.asarray(getattr(v, "data", v))) if np.ndim(v) == 0 else v
                for k, v in model.get_metrics_result().items()}
    return results.global_results(model, logs, source.samples, where)


def all_predictions(model, outputs: list, source, first) -> list:
    """Every rank's predicted batches in order (see the module), when source is a rank's part.

    Args:
        model: the model that predicted.
        outputs: this rank's predicted batches.
        source: what predict read (a Shard when it was split).
        first: the x of the data's first batch.

    Returns:
        All ranks' batches in order, or outputs itself when source was not split.

    Example:
        >>> from tinydl.models.data import ArraySource
        >>> outputs = [np.zeros((2, 1))]
        >>> all_predictions(None, outputs, ArraySource(np.zeros((2, 2)), None, 2), None) is outputs
        True
    """
    if not isinstance(source, shards.Shard) or not comm.is_initialized() or not comm.shard_data():
        return outputs
    return results.gather_predictions(model, outputs, source.positions, first)


def _meet(where: str) -> None:
    """Wait for every rank to reach this call; raise after MEET_TIMEOUT seconds alone."""
    request = comm.world().Ibarrier()
    deadline = time.monotonic() + MEET_TIMEOUT
    while not request.Test():
        if time.monotonic() > deadline:
            abandoned.append(request)
            raise RuntimeError(
                f"{where} on rank {comm.rank()} waited {MEET_TIMEOUT:.0f} s for the other "
                f"{comm.size() - 1} rank(s): under tinydl.distributed, {where} is collective "
                "(each rank takes its part of the data), so every rank must call it; to run "
                f"it on one rank alone, wrap it in `with tinydl.distributed.local():`")
        time.sleep(0.0005)
