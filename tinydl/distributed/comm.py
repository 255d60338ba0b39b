"""The MPI side of tinydl.distributed: mpi4py loaded on demand, who is who, and the collectives.

Every function here is collective unless it says otherwise: all ranks call it, in the same
order, with arrays of the same shape and dtype (checked, so a mismatch is an error on every
rank, not a hang). Nothing here uses pickle: small structured messages travel as JSON bytes.

    init()                      MPI_Init (through mpi4py), the local communicator, the defaults
    rank() size() local_rank() local_size() is_main()          not collective
    allreduce(a, op)  allgather(a)  broadcast(a, root)  barrier()
"""

from __future__ import annotations

import json
import os
import sys

import numpy as np

from tinydl import backend
from tinydl.tensor import Tensor

INSTALL_HINT = (
    'tinydl.distributed runs on MPI through mpi4py: pip install "tinydl[mpi]" (or pip install '
    "mpi4py), with an MPI library from your system's packages, e.g. Open MPI: "
    "sudo apt-get install openmpi-bin libopenmpi-dev (Debian, Ubuntu), "
    "sudo dnf install openmpi openmpi-devel (Fedora), brew install open-mpi (macOS). "
    "See docs/distributed.md")

# Horovod's names for the reduction operations, so that op=hvd.Average reads the same.
Average, Sum, Min, Max = "mean", "sum", "min", "max"
OPS = (Average, Sum, Min, Max)
DTYPES = ("float32", "float64", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32",
          "uint64")

_state: dict = {"MPI": None, "comm": None, "local": None, "shard_data": True,
                "previous_excepthook": None}


# ----------------------------------------------------------------------------- start and stop

def load_mpi():
    """The mpi4py.MPI module (importing it initializes MPI), or an ImportError saying what to install.

    Returns:
        mpi4py.MPI.

    Raises:
        ImportError: mpi4py is missing, or cannot load an MPI library (the message says what
            to install).

    Example:
        Without mpi4py, the error says what to install:

        >>> import sys
        >>> saved = sys.modules.get("mpi4py")
        >>> sys.modules["mpi4py"] = None                       # as if it were not installed
        >>> try:
        ...     load_mpi()
        ... except ImportError as error:
        ...     print(str(error)[:72])
        tinydl.distributed runs on MPI through mpi4py: pip install "tinydl[mpi]"
        >>> _ = sys.modules.pop("mpi4py") if saved is None else sys.modules.update(mpi4py=saved)
    """
    try:
        from mpi4py import MPI
    except ImportError as error:
        raise ImportError(f"{INSTALL_HINT}. (The import failed with: {error})") from None
    except RuntimeError as error:  # mpi4py is there, the MPI library it was built for is not
        raise ImportError(f"mpi4py could not load an MPI library ({error}). {INSTALL_HINT}") from None
    return MPI


def init(comm=None, shard_data: bool = True) -> None:
    """Join the MPI job: call once, at the top of the script, on every rank (Horovod's hvd.init).

    After init(), fit trains data-parallel: each rank takes its 1/size of every epoch, the
    optimizer (wrapped in DistributedOptimizer) averages the gradients of all ranks, every
    rank reports the global loss and metrics, and only rank 0 prints and writes checkpoints.
    The native kernels use cores / local ranks threads unless OMP_NUM_THREADS is set. An
    uncaught exception on any rank aborts every rank (MPI_Abort), so no rank waits forever.

    Args:
        comm: an mpi4py communicator to train over; MPI.COMM_WORLD when None.
        shard_data: split fit's array and dataset inputs by rank (set False when the script
            already gives each rank its own part of the data).

    Raises:
        ImportError: mpi4py or the MPI library is missing (the message says what to install).
        TypeError: comm is not an mpi4py intracommunicator.

    Example:
        The lines marked +SKIP here and in the rest of tinydl.distributed need an MPI job:
        they are collective over the ranks mpirun started, and MPI cannot be started and
        stopped again inside a test process. tests/distributed/ runs them on 2 ranks. Before
        init(), the API says what to do:

        >>> import tinydl.distributed as hvd
        >>> hvd.is_initialized()
        False
        >>> hvd.rank()
        Traceback (most recent call last):
        ...
        RuntimeError: tinydl.distributed is not initialized: call tinydl.distributed.init() first, ...
        >>> hvd.init()                                          # doctest: +SKIP
        >>> print(f"rank {hvd.rank()} of {hvd.size()}")        # doctest: +SKIP
        rank 0 of 2
    """
    MPI = load_mpi()
    comm = MPI.COMM_WORLD if comm is None else comm
    if not isinstance(comm, MPI.Intracomm):
        raise TypeError(f"init: comm must be an mpi4py intracommunicator such as MPI.COMM_WORLD. "
                        f"Received: comm={comm!r}")
    if not isinstance(shard_data, bool):
        raise TypeError(f"init: shard_data must be True or False. Received: shard_data={shard_data!r}")
    if _state["local"] is not None:
        _state["local"].Free()
    local = comm.Split_type(MPI.COMM_TYPE_SHARED, key=comm.Get_rank())
    _state.update(MPI=MPI, comm=comm, local=local, shard_data=shard_data)
    _install_abort_hook()
    if not os.environ.get("OMP_NUM_THREADS"):
        backend.set_num_threads(threads_per_rank(local.Get_size()))


def shutdown() -> None:
    """Leave tinydl.distributed (MPI itself is finalized by mpi4py at exit). Not collective.

    It frees the local communicator and puts back the exception hook init() installed;
    without init() it does nothing.

    Example:
        >>> shutdown()
        >>> is_initialized()
        False
    """
    if _state["local"] is not None:
        _state["local"].Free()
    if _state["previous_excepthook"] is not None:
        sys.excepthook = _state["previous_excepthook"]
    _state.update(comm=None, local=None, previous_excepthook=None)


def is_initialized() -> bool:
    """Whether init() was called (and not shutdown()).

    Returns:
        True between init() and shutdown(). Not collective.

    Example:
        >>> is_initialized()
        False
    """
    return _state["comm"] is not None


def threads_per_rank(local_ranks: int) -> int:
    """Native threads for one of local_ranks ranks on this machine.

    That is cores // local_ranks, at least 1, and no more than the cores this process may run
    on (mpirun may bind it to one).

    Args:
        local_ranks: the ranks on this machine.

    Returns:
        The thread count, >= 1.

    Example:
        >>> import os
        >>> threads_per_rank(1) == min(len(os.sched_getaffinity(0)), os.cpu_count())
        True
        >>> threads_per_rank(10_000)                     # more ranks than cores: one thread each
        1
    """
    cores = os.cpu_count() or 1
    try:
        allowed = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # macOS has no sched_getaffinity
        allowed = cores
    return max(1, min(allowed, cores // max(1, local_ranks)))


def _install_abort_hook() -> None:
    if _state["previous_excepthook"] is None:
        _state["previous_excepthook"] = sys.excepthook
        sys.excepthook = _abort_on_uncaught_exception


def _abort_on_uncaught_exception(kind, error, traceback) -> None:
    """Print the traceback as usual; then, with other ranks waiting on this one, abort them all."""
    _state["previous_excepthook"](kind, error, traceback)
    comm = _state["comm"]
    if comm is not None and comm.Get_size() > 1:
        sys.stderr.write(f"tinydl.distributed: rank {comm.Get_rank()} of {comm.Get_size()} "
                         f"stopped on the {kind.__name__} above; aborting all "
                         f"{comm.Get_size()} ranks (MPI_Abort) so that none waits for it forever\n")
        sys.stderr.flush()
        comm.Abort(1)


# ----------------------------------------------------------------------------- who is who

def world():
    """The communicator tinydl.distributed trains over, or a RuntimeError before init().

    Returns:
        The mpi4py communicator given to init().

    Raises:
        RuntimeError: init() was not called.

    Example:
        >>> world()
        Traceback (most recent call last):
        ...
        RuntimeError: tinydl.distributed is not initialized: call tinydl.distributed.init() first, ...
    """
    comm = _state["comm"]
    if comm is None:
        raise RuntimeError("tinydl.distributed is not initialized: call tinydl.distributed.init() "
                           "first, once, at the top of the script (as Horovod's hvd.init())")
    return comm


def mpi():
    """The mpi4py.MPI module (after init()).

    Returns:
        mpi4py.MPI.

    Raises:
        RuntimeError: init() was not called.

    Example:
        >>> mpi()
        Traceback (most recent call last):
        ...
        RuntimeError: tinydl.distributed is not initialized: ...
        >>> mpi().SUM                                           # doctest: +SKIP
        <mpi4py.MPI.Op object at ...>
    """
    world()
    return _state["MPI"]


def rank() -> int:
    """This process's index among all ranks, 0 .. size() - 1. Not collective.

    Returns:
        The rank.

    Raises:
        RuntimeError: init() was not called.

    Example:
        >>> rank()
        Traceback (most recent call last):
        ...
        RuntimeError: tinydl.distributed is not initialized: ...
        >>> rank()                                              # doctest: +SKIP
        1
    """
    return world().Get_rank()


def size() -> int:
    """The number of ranks (processes) training together. Not collective.

    Returns:
        The size of the communicator.

    Raises:
        RuntimeError: init() was not called.

    Example:
        >>> size()
        Traceback (most recent call last):
        ...
        RuntimeError: tinydl.distributed is not initialized: ...
        >>> size()                                              # doctest: +SKIP
        2
    """
    return world().Get_size()


def local_rank() -> int:
    """This process's index among the ranks on the same machine. Not collective.

    Returns:
        The local rank.

    Raises:
        RuntimeError: init() was not called.

    Example:
        >>> local_rank()
        Traceback (most recent call last):
        ...
        RuntimeError: tinydl.distributed is not initialized: ...
        >>> local_rank()                                        # doctest: +SKIP
        0
    """
    world()
    return _state["local"].Get_rank()


def local_size() -> int:
    """The number of ranks on this machine. Not collective.

    Returns:
        The local communicator's size.

    Raises:
        RuntimeError: init() was not called.

    Example:
        >>> local_size()
        Traceback (most recent call last):
        ...
        RuntimeError: tinydl.distributed is not initialized: ...
        >>> local_size()                                        # doctest: +SKIP
        2
    """
    world()
    return _state["local"].Get_size()


def is_main() -> bool:
    """Whether this is rank 0, the one that prints and writes files. Not collective.

    Returns:
        rank() == 0.

    Raises:
        RuntimeError: init() was not called.

    Example:
        >>> is_main()
        Traceback (most recent call last):
        ...
        RuntimeError: tinydl.distributed is not initialized: ...
        >>> if is_main():                                       # doctest: +SKIP
        ...     model.save("model.tinydl")
    """
    return rank() == 0


def shard_data() -> bool:
    """Whether fit splits its data by rank (init's shard_data). Not collective.

    Returns:
        init's shard_data (True before init()).

    Example:
        >>> shard_data()
        True
    """
    return bool(_state["shard_data"])


# ----------------------------------------------------------------------------- collectives

def _buffer(array, where: str) -> np.ndarray:
    data = array.data if isinstance(array, Tensor) else array
    result = np.array(data, copy=True, order="C")
    if result.dtype.name not in DTYPES:
        raise TypeError(f"{where}: the array must have one of the dtypes {list(DTYPES)}. "
                        f"Received: dtype={result.dtype}")
    return result


def _check_op(op, dtype, where: str) -> str:
    if op not in OPS:
        raise ValueError(f"{where}: op must be one of {list(OPS)} (or hvd.Average, hvd.Sum, "
                         f"hvd.Min, hvd.Max). Received: op={op!r}")
    if op == Average and dtype.kind != "f":
        raise TypeError(f"{where}: op='mean' needs a floating-point array, got dtype {dtype}; "
                        "use op='sum' for integers")
    return op


def agree(ok: bool, message: str, error=ValueError) -> None:
    """Raise error on EVERY rank when the check ok failed on any of them, naming the ranks.

    Args:
        ok: this rank's verdict.
        message: what is wrong, when ok is False.
        error: the exception class to raise.

    Raises:
        error: ok was False on some rank ("rank 1: ...; rank 3: ...").
        RuntimeError: init() was not called.

    Example:
        >>> agree(True, "")
        Traceback (most recent call last):
        ...
        RuntimeError: tinydl.distributed is not initialized: ...
        >>> agree(rank() == 0, "not the root")                  # doctest: +SKIP
        Traceback (most recent call last):
        ...
        ValueError: rank 1: not the root
    """
    verdicts = allgather_json([bool(ok), "" if ok else str(message)])
    failed = [(r, text) for r, (good, text) in enumerate(verdicts) if not good]
    if failed:
        raise error("; ".join(f"rank {r}: {text}" for r, text in failed))


def same_everywhere(value, what: str, where: str) -> None:
    """Raise ValueError on every rank unless value (JSON data) is the same on all ranks.

    Args:
        value: JSON data.
        what: what it is, for the message ('shape and dtype').
        where: the caller, for the message.

    Raises:
        ValueError: the ranks' values differ (the message lists them).
        RuntimeError: init() was not called.

    Example:
        >>> same_everywhere([3], "shape", "demo")
        Traceback (most recent call last):
        ...
        RuntimeError: tinydl.distributed is not initialized: ...
        >>> same_everywhere([rank()], "shape", "demo")          # doctest: +SKIP
        Traceback (most recent call last):
        ...
        ValueError: demo: every rank must pass the same shape, but rank 0 has [0], rank 1 has [1]
    """
    values = allgather_json(value)
    differ = [r for r, v in enumerate(values) if v != values[0]]
    if differ:
        listing = ", ".join(f"rank {r} has {values[r]}" for r in [0] + differ[:3])
        raise ValueError(f"{where}: every rank must pass the same {what}, but {listing}")


def allreduce(array, op: str = Average, name: str | None = None):
    """The elementwise mean (or sum, min, max) of array over all ranks, on every rank.

    Args:
        array: an ndarray or Tensor of shape S (the same S and dtype on every rank).
        op: 'mean' (Horovod's Average), 'sum', 'min' or 'max'. 'mean' needs floats.
        name: accepted for Horovod scripts; unused.

    Returns:
        A new array of shape S and the same dtype (a Tensor when array is one).

    Raises:
        ValueError: an unknown op, or ranks passing different shapes or dtypes (on all ranks).
        TypeError: a dtype MPI cannot reduce here, or 'mean' of integers.

    Example:
        >>> import tinydl.distributed as hvd
        >>> hvd.allreduce(np.zeros(2))
        Traceback (most recent call last):
        ...
        RuntimeError: tinydl.distributed is not initialized: ...
        >>> hvd.allreduce(np.array([float(hvd.rank())]))      # doctest: +SKIP
        array([0.5])
        >>> hvd.allreduce(np.array([hvd.rank() + 1]), op=hvd.Sum)   # doctest: +SKIP
        array([3])
    """
    out = _buffer(array, "allreduce")
    op = _check_op(op, out.dtype, "allreduce")
    same_everywhere([list(out.shape), out.dtype.name], "shape and dtype", "allreduce")
    MPI = mpi()
    flat = out.reshape(-1)
    world().Allreduce(MPI.IN_PLACE, flat, op={Average: MPI.SUM, Sum: MPI.SUM, Min: MPI.MIN,
                                              Max: MPI.MAX}[op])
    if op == Average:
        flat /= flat.dtype.type(size())
    return Tensor(out) if isinstance(array, Tensor) else out


def allgather(array, name: str | None = None):
    """The arrays of all ranks concatenated along axis 0, in rank order, on every rank.

    Args:
        array: shape (N_r, ...): N_r may differ by rank, the rest of the shape and the dtype
            may not.
        name: accepted for Horovod scripts; unused.

    Returns:
        An array of shape (sum of N_r, ...) (a Tensor when array is one).

    Raises:
        ValueError: a scalar, or ranks passing different dtypes or trailing shapes.
        TypeError: a dtype MPI cannot send here.
        RuntimeError: init() was not called.

    Example:
        >>> import tinydl.distributed as hvd
        >>> hvd.allgather(np.zeros(2))
        Traceback (most recent call last):
        ...
        RuntimeError: tinydl.distributed is not initialized: ...
        >>> hvd.allgather(np.full(hvd.rank() + 1, hvd.rank()))   # doctest: +SKIP
        array([0, 1, 1])
    """
    local = _buffer(array, "allgather")
    if local.ndim == 0:
        raise ValueError("allgather: the array needs a first axis to concatenate along. "
                         "Received: a scalar")
    same_everywhere([list(local.shape[1:]), local.dtype.name], "dtype and shape after axis 0",
                    "allgather")
    rows = np.array(allgather_json(int(local.shape[0])), dtype=np.int64)
    row_size = int(np.prod(local.shape[1:], dtype=np.int64))
    out = np.empty((int(rows.sum()),) + local.shape[1:], dtype=local.dtype)
    world().Allgatherv(local.reshape(-1), [out.reshape(-1), list(rows * row_size)])
    return Tensor(out) if isinstance(array, Tensor) else out


def broadcast(array, root: int = 0, name: str | None = None):
    """Rank root's array, on every rank.

    Args:
        array: an ndarray or Tensor of shape S (the same S and dtype on every rank; only the
            root's values matter).
        root: the rank whose array is sent, 0 .. size() - 1.
        name: accepted for Horovod scripts; unused.

    Returns:
        A new array (a Tensor when array is one) holding root's values.

    Raises:
        ValueError: root is not a rank, or the ranks pass different shapes or dtypes.
        RuntimeError: init() was not called.

    Example:
        >>> import tinydl.distributed as hvd
        >>> hvd.broadcast(np.zeros(2))
        Traceback (most recent call last):
        ...
        RuntimeError: tinydl.distributed is not initialized: ...
        >>> hvd.broadcast(np.array([hvd.rank() + 10]), root=1)  # doctest: +SKIP
        array([11])
    """
    root = check_root(root, "broadcast")
    out = _buffer(array, "broadcast")
    same_everywhere([list(out.shape), out.dtype.name], "shape and dtype", "broadcast")
    world().Bcast(out.reshape(-1), root=root)
    return Tensor(out) if isinstance(array, Tensor) else out


def barrier() -> None:
    """Wait until every rank has reached this call.

    Raises:
        RuntimeError: init() was not called.

    Example:
        >>> barrier()
        Traceback (most recent call last):
        ...
        RuntimeError: tinydl.distributed is not initialized: ...
        >>> barrier()                                           # doctest: +SKIP
    """
    world().Barrier()


def check_root(root, where: str) -> int:
    """root as an int in 0 .. size() - 1, or a ValueError naming it.

    Args:
        root: the rank asked for.
        where: the caller, for the message.

    Returns:
        int(root).

    Raises:
        ValueError: not an int in 0 .. size() - 1.
        RuntimeError: init() was not called.

    Example:
        >>> check_root(0, "broadcast")
        Traceback (most recent call last):
        ...
        RuntimeError: tinydl.distributed is not initialized: ...
        >>> check_root(2, "broadcast")                          # doctest: +SKIP
        Traceback (most recent call last):
        ...
        ValueError: broadcast: root must be a rank, an int in 0..1. Received: root=2
    """
    if isinstance(root, bool) or not isinstance(root, (int, np.integer)) or not 0 <= root < size():
        raise ValueError(f"{where}: root must be a rank, an int in 0..{size() - 1}. "
                         f"Received: root={root!r}")
    return int(root)


# ----------------------------------------------------------------------------- small messages

def _encode(value) -> np.ndarray:
    return np.frombuffer(json.dumps(value).encode("utf-8"), dtype=np.uint8)


def allgather_json(value) -> list:
    """[value of rank 0, value of rank 1, ...] on every rank, for JSON data (no pickle).

    Args:
        value: JSON data.

    Returns:
        The list of every rank's value, in rank order.

    Raises:
        RuntimeError: init() was not called.

    Example:
        >>> allgather_json({"rank": 0})
        Traceback (most recent call last):
        ...
        RuntimeError: tinydl.distributed is not initialized: ...
        >>> allgather_json({"rank": rank()})                    # doctest: +SKIP
        [{'rank': 0}, {'rank': 1}]
    """
    comm = world()
    payload = _encode(value)
    lengths = np.empty(comm.Get_size(), dtype=np.int64)
    comm.Allgather(np.array([payload.size], dtype=np.int64), lengths)
    gathered = np.empty(int(lengths.sum()), dtype=np.uint8)
    comm.Allgatherv(payload, [gathered, [int(n) for n in lengths]])
    ends = np.cumsum(lengths)
    return [json.loads(gathered[end - n:end].tobytes()) for n, end in zip(lengths, ends)]


def broadcast_json(value, root: int = 0):
    """Rank root's value (JSON data; what the other ranks pass is ignored), on every rank.

    Args:
        value: JSON data (read on root only).
        root: the sending rank.

    Returns:
        Root's value.

    Raises:
        RuntimeError: init() was not called.

    Example:
        >>> broadcast_json("hello")
        Traceback (most recent call last):
        ...
        RuntimeError: tinydl.distributed is not initialized: ...
        >>> broadcast_json({"seed": 42} if rank() == 0 else None)   # doctest: +SKIP
        {'seed': 42}
    """
    comm = world()
    payload = _encode(value) if comm.Get_rank() == root else np.empty(0, dtype=np.uint8)
    length = np.array([payload.size], dtype=np.int64)
    comm.Bcast(length, root=root)
    if comm.Get_rank() != root:
        payload = np.empty(int(length[0]), dtype=np.uint8)
    comm.Bcast(payload, root=root)
    return json.loads(payload.tobytes())
