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

from tinydl.distributed import comm, results
from tinydl.distributed import data as shards

MEET_TIMEOUT = 300.0  # seconds evaluate / predict wait for the other ranks before raising
_local = threading.local()
abandoned: list = []  # the meetings that timed out, kept alive (MPI may still complete them)


@contextlib.contextmanager
def local():
    """Inside the block, evaluate and predict run on this rank alone, on all of their data."""
    depth = getattr(_local, "depth", 0)
    _local.depth = depth + 1
    try:
        yield
    finally:
        _local.depth = depth


def active() -> bool:
    """Whether evaluate and predict run over several ranks here."""
    return comm.is_initialized() and comm.size() > 1 and not getattr(_local, "depth", 0)


def shard_test(source, verbose: int, where: str):
    """(this rank's part of source, verbose): see the module."""
    if not active():
        return source, verbose
    _meet(where)
    return shards.shard_validation(source, where), verbose if comm.is_main() else 0


def global_logs(model, logs: dict, source, where: str) -> dict:
    """The logs of every rank's part of source together, when source is a rank's part."""
    if not isinstance(source, shards.Shard) or not comm.is_initialized():
        return logs
    return results.global_results(model, logs, source.samples, where)


def all_predictions(model, outputs: list, source, first) -> list:
    """Every rank's predicted batches in order (see the module), when source is a rank's part."""
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
