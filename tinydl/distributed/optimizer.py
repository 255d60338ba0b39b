"""DistributedOptimizer: average every step's gradients over the ranks with ONE fused allreduce.

Horovod's design: each rank computes the gradients of its own batch; before the optimizer
uses them, all of them are packed into one contiguous float32 buffer (tensor fusion: one
message instead of one per weight), summed over the ranks with a single MPI_Allreduce and
divided by the number of ranks. Every rank then applies the same mean gradient to the same
weights, so the weights stay identical on all ranks, and the step equals one step on the
concatenated (global) batch:

    buffer = [g_0.ravel(), g_1.ravel(), ..., g_{V-1}.ravel(), has_0, ..., has_{V-1}]   (P + V,)
    MPI_Allreduce(buffer, SUM);  g_i = buffer[o_i : o_i + n_i] / size   (None when no rank had one)
"""

from __future__ import annotations

import time

import numpy as np

from tinydl.distributed import comm
from tinydl.optimizers import Optimizer


class Compression:
    """Horovod's gradient compression choices; only none (full float32) is supported.

    Example:
        >>> print(Compression.none)
        None
    """

    none = None


class FusedAllreduce:
    """The gradient aggregator of a DistributedOptimizer (Optimizer.gradient_aggregator).

    Each step it packs every gradient into one float32 buffer, allreduces it once, and
    unpacks the averages (a collective call: every rank calls it each step).

    Args:
        op: 'mean' (Horovod's Average) or 'sum'.

    Attributes:
        op: 'mean' or 'sum'.
        calls: allreduces done so far.
        seconds: time spent in them.
        elements: the buffer's size.

    Raises:
        ValueError: another op.

    Example:
        >>> aggregator = FusedAllreduce()
        >>> aggregator.op, aggregator.calls, aggregator.elements
        ('mean', 0, 0)
        >>> FusedAllreduce("max")
        Traceback (most recent call last):
        ...
        ValueError: DistributedOptimizer: op must be 'mean' (hvd.Average) or 'sum' (hvd.Sum). Received: op='max'
    """

    def __init__(self, op: str = comm.Average):
        if op not in (comm.Average, comm.Sum):
            raise ValueError(f"DistributedOptimizer: op must be 'mean' (hvd.Average) or 'sum' "
                             f"(hvd.Sum). Received: op={op!r}")
        self.op, self.calls, self.seconds = op, 0, 0.0
        self._layout, self._buffer = None, None

    @property
    def elements(self) -> int:
        return 0 if self._buffer is None else int(self._buffer.size)

    def _buffer_for(self, variables) -> np.ndarray:
        layout = [list(v.shape) for v in variables]
        if layout != self._layout:  # first step, or the trainable weights changed
            comm.same_everywhere(layout, "trainable weight shapes", "DistributedOptimizer")
            total = sum(int(np.prod(shape, dtype=np.int64)) for shape in layout)
            self._layout, self._buffer = layout, np.empty(total + len(layout), dtype=np.float32)
        return self._buffer

    def __call__(self, grads: list, variables: list) -> list:
        """The gradients averaged over all ranks (collective: every rank calls it each step)."""
        buffer = self._buffer_for(variables)
        offset, sizes = 0, []
        for g, v in zip(grads, variables):
            n = v.data.size
            if g is None:
                buffer[offset:offset + n] = 0.0
            else:
                g = np.asarray(getattr(g, "data", g), dtype=np.float32)
                if g.shape != v.shape:
                    raise ValueError(f"DistributedOptimizer: gradient of shape {g.shape} for "
                                     f"variable '{v.name}' of shape {v.shape}")
                buffer[offset:offset + n] = g.reshape(-1)
            sizes.append(n)
            offset += n
        buffer[offset:] = [g is not None for g in grads]
        start = time.perf_counter()
        comm.world().Allreduce(comm.mpi().IN_PLACE, buffer, op=comm.mpi().SUM)
        self.seconds += time.perf_counter() - start
        self.calls += 1
        if self.op == comm.Average:
            buffer[:offset] /= np.float32(comm.size())
        return self._unpack(buffer, variables, sizes, offset)

    @staticmethod
    def _unpack(buffer, variables, sizes, total) -> list:
        out, offset = [], 0
        for v, n, had in zip(variables, sizes, buffer[total:]):
            out.append(buffer[offset:offset + n].reshape(v.shape) if had > 0 else None)
            offset += n
        return out


def DistributedOptimizer(optimizer, name: str | None = None, op: str = comm.Average,  # noqa: N802
                         backward_passes_per_step: int = 1,
                         average_aggregated_gradients: bool = False, compression=None,
                         device_dense: str = "", device_sparse: str = "", sparse_as_dense=False):
    """Make optimizer average the gradients of all ranks before each step (Horovod's name).

    Unlike Horovod, which returns a wrapper class, this marks the optimizer itself (it gets a
    FusedAllreduce as its gradient_aggregator) and returns it: it stays the Adam (SGD, ...) it
    was, so model.save and load_model treat it as one, and its state is kept.

    Args:
        optimizer: a tinydl.optimizers.Optimizer (or a name, 'adam').
        name: accepted for Horovod scripts; unused.
        op: 'mean' (hvd.Average, the default) or 'sum' (hvd.Sum).
        backward_passes_per_step: only 1 (a gradient allreduce every step).
        average_aggregated_gradients: accepted (no effect with one backward pass per step).
        compression: only None / Compression.none.
        device_dense, device_sparse, sparse_as_dense: accepted for Horovod scripts ('' / False).

    Returns:
        optimizer, now averaging over the ranks of tinydl.distributed.init().

    Raises:
        RuntimeError: init() was not called. TypeError / ValueError: bad arguments.

    Example:
        >>> import tinydl.distributed as hvd
        >>> hvd.DistributedOptimizer(tinydl.optimizers.SGD(0.01))
        Traceback (most recent call last):
        ...
        RuntimeError: tinydl.distributed is not initialized: call tinydl.distributed.init() first, ...

        After hvd.init(), under mpirun (see tinydl.distributed.comm.init):

        >>> opt = hvd.DistributedOptimizer(tinydl.optimizers.SGD(0.01 * hvd.size()))   # doctest: +SKIP
        >>> opt is model.optimizer or model.compile(optimizer=opt, loss="mse")          # doctest: +SKIP
        >>> hvd.is_distributed(opt)                                                     # doctest: +SKIP
        True
    """
    comm.world()
    if isinstance(optimizer, str):
        from tinydl import optimizers
        optimizer = optimizers.get(optimizer)
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"DistributedOptimizer: optimizer must be a tinydl.optimizers.Optimizer, "
                        f"e.g. tinydl.optimizers.Adam(). Received: {type(optimizer).__name__} "
                        f"{optimizer!r}")
    if backward_passes_per_step != 1:
        raise ValueError("DistributedOptimizer: only backward_passes_per_step=1 is supported (an "
                         f"allreduce every step). Received: {backward_passes_per_step!r}")
    if compression is not Compression.none:
        raise ValueError(f"DistributedOptimizer: only compression=None (Compression.none) is "
                         f"supported. Received: compression={compression!r}")
    if device_dense or device_sparse or sparse_as_dense:
        raise ValueError("DistributedOptimizer: tinydl runs on CPUs only; device_dense, "
                         "device_sparse and sparse_as_dense must keep their defaults")
    if not is_distributed(optimizer):
        optimizer.gradient_aggregator = FusedAllreduce(op)
    return optimizer


def is_distributed(optimizer) -> bool:
    """Whether optimizer averages its gradients over the ranks (went through DistributedOptimizer).

    Args:
        optimizer: an optimizer (or anything).

    Returns:
        True when its gradient_aggregator is a FusedAllreduce.

    Example:
        >>> optimizer = tinydl.optimizers.SGD(0.1)
        >>> is_distributed(optimizer)
        False
        >>> optimizer.gradient_aggregator = FusedAllreduce()   # what DistributedOptimizer does
        >>> is_distributed(optimizer)
        True
    """
    return isinstance(getattr(optimizer, "gradient_aggregator", None), FusedAllreduce)


def load_model(filepath):
    """tinydl.models.load_model, with the optimizer made distributed (Horovod's hvd.load_model).

    Args:
        filepath: a file written by model.save.

    Returns:
        The model; its optimizer (when compiled) is a DistributedOptimizer.

    Raises:
        RuntimeError: the model is compiled and init() was not called.
        FileNotFoundError, ModelFileError: as tinydl.models.load_model.

    Example:
        >>> import os, tempfile
        >>> path = os.path.join(tempfile.mkdtemp(), "m.tinydl")
        >>> model = tinydl.Sequential([tinydl.Input((3,)), tinydl.layers.Dense(2)])
        >>> model.save(path)                                    # not compiled
        >>> load_model(path).optimizer is None
        True
        >>> model = load_model("checkpoint.tinydl")            # doctest: +SKIP
        >>> is_distributed(model.optimizer)                     # doctest: +SKIP
        True
    """
    from tinydl.models import load_model as load
    model = load(filepath)
    if getattr(model, "compiled", False) and model.optimizer is not None:
        DistributedOptimizer(model.optimizer)
    return model
