"""Where a step's time goes: `with tinydl.profile() as prof:` records every op and every kernel.

While a profile is active, every op's forward (Function.apply) and backward (in autograd's
backward pass) and every kernel call (tinydl.kernels._dispatch.run) is timed and kept as an Event with the
layer it ran in, and for kernels the FLOPs they did, the bytes of their arguments and
results, the backend and the thread count. When no profile is active the cost is one check
of a module attribute per op and per kernel.

    >>> import numpy as np, tinydl
    >>> from tinydl.layers import Dense
    >>> model = tinydl.models.Sequential([Dense(4, input_shape=(3,))])
    >>> model.compile(optimizer="sgd", loss="mse")
    >>> with tinydl.profile() as prof:
    ...     _ = model.train_on_batch(np.ones((8, 3), np.float32), np.zeros((8, 4), np.float32))
    >>> "gemm" in prof.table()
    True

Ops contain the kernels they call, so an op's *self* time is its time minus its kernels';
`prof.table()` shows both, and `prof.coverage()` says how much of the profiled wall time the
ops' and kernels' self times account for (the rest is Python between them).
"""

from __future__ import annotations

import contextlib
import json
import math
import threading
import time
from dataclasses import dataclass, field

current = None  # the active Profile, or None (checked by autograd, layers and the backend)


@dataclass
class Event:
    """One timed call. kind: 'forward' or 'backward' (an op), 'kernel', or 'step' (a phase
    of the framework's own Python: autograd's engine, an optimizer's apply, a batch's checks).

    Attributes:
        name: the op's Function class name ('MatMul') or the kernel's name ('gemm').
        kind: 'forward', 'backward', 'kernel' or 'step'.
        layer: the layer whose call ran it ('outer/inner' when nested), or None.
        start: time.perf_counter() when it started.
        seconds: how long it took, its kernels included.
        thread: the id of the thread that ran it.
        flops: the kernel's floating-point operations (2 per multiply-add), 0 for ops.
        bytes: the bytes of the kernel's arguments and results.
        backend: 'native' or 'reference' (kernels).
        threads: the kernel's thread count.
        children: seconds of kernels called inside this op.
        outer: not inside another op (what Profile.coverage adds up).

    Example:
        >>> op = Event("MatMul", "forward", "dense", start=0.0, seconds=3e-3, thread=1, children=2e-3)
        >>> round(op.self_seconds, 6)          # its time minus its kernels'
        0.001
    """

    name: str
    kind: str
    layer: str | None
    start: float
    seconds: float
    thread: int
    flops: int = 0
    bytes: int = 0
    backend: str = ""
    threads: int = 0
    children: float = 0.0  # seconds of the kernels (and ops) called inside this op
    outer: bool = False  # not inside another op (what coverage() adds up)
    phase: str = ""  # 'forward' or 'backward': an op's kind, or that of the op a kernel ran in

    @property
    def self_seconds(self) -> float:
        return self.seconds - self.children


@dataclass
class Profile:
    """The events of one `with tinydl.profile():` block, and views of them.

    Attributes:
        events: the Events, in the order they finished.
        start: time.perf_counter() when the block began.
        stop: time.perf_counter() when it ended (0.0 while it runs).

    Example:
        >>> import json, os, tempfile
        >>> a = tinydl.Tensor(np.ones((4, 3), np.float32), requires_grad=True)
        >>> with tinydl.profile() as prof:
        ...     (a @ a.T).sum().backward()
        >>> rows = {(r["kind"], r["name"]): r for r in prof.key_averages()}
        >>> rows["kernel", "gemm"]["calls"], rows["kernel", "gemm"]["flops"]   # forward + 2 backward
        (3, 288)
        >>> print(prof.table(sort_by="calls", row_limit=2).splitlines()[0])
        name                         kind      calls  total ms   self ms   mean us  GFLOP/s  MB moved ...
        >>> 0.0 < prof.coverage() <= 1.0, prof.layer_seconds()   # nothing ran inside a layer
        (True, {})
        >>> path = os.path.join(tempfile.mkdtemp(), "trace.json")
        >>> prof.export_chrome_trace(path)
        >>> len(json.load(open(path))["traceEvents"]) == len(prof.events)
        True
    """

    events: list = field(default_factory=list)
    start: float = 0.0
    stop: float = 0.0

    @property
    def wall_seconds(self) -> float:
        return (self.stop or time.perf_counter()) - self.start

    def key_averages(self) -> list:
        """One row per (kind, name): calls, total, self and mean seconds, FLOPs, GFLOP/s, bytes,
        backend, threads and the layers it ran in; sorted by total time."""
        rows: dict = {}
        for e in self.events:
            row = rows.setdefault((e.kind, e.name), {
                "name": e.name, "kind": e.kind, "calls": 0, "seconds": 0.0, "self_seconds": 0.0,
                "flops": 0, "bytes": 0, "backend": e.backend, "threads": e.threads, "layers": set()})
            row["calls"] += 1
            row["seconds"] += e.seconds
            row["self_seconds"] += e.self_seconds
            row["flops"] += e.flops
            row["bytes"] += e.bytes
            if e.layer:
                row["layers"].add(e.layer)
        for row in rows.values():
            row["mean_seconds"] = row["seconds"] / row["calls"]
            row["gflops"] = row["flops"] / row["seconds"] / 1e9 if row["flops"] and row["seconds"] \
                else 0.0
            row["layers"] = sorted(row["layers"])
        return sorted(rows.values(), key=lambda r: -r["seconds"])

    def table(self, sort_by: str = "time", row_limit: int = 20) -> str:
        """A text table of key_averages(). sort_by: 'time', 'self_time', 'calls' or 'flops'."""
        keys = {"time": "seconds", "self_time": "self_seconds", "calls": "calls", "flops": "flops"}
        if sort_by not in keys:
            raise ValueError(f"sort_by must be one of {tuple(keys)}, got {sort_by!r}")
        rows = sorted(self.key_averages(), key=lambda r: -r[keys[sort_by]])[:row_limit]
        head = (f"{'name':28s} {'kind':8s} {'calls':>6s} {'total ms':>9s} {'self ms':>9s} "
                f"{'mean us':>9s} {'GFLOP/s':>8s} {'MB moved':>9s} {'backend':>9s} {'thr':>3s}  layers")
        lines = [head, "-" * len(head)]
        for r in rows:
            layers = ", ".join(r["layers"][:3]) + (" ..." if len(r["layers"]) > 3 else "")
            lines.append(f"{r['name'][:28]:28s} {r['kind']:8s} {r['calls']:6d} "
                         f"{r['seconds'] * 1e3:9.2f} {r['self_seconds'] * 1e3:9.2f} "
                         f"{r['mean_seconds'] * 1e6:9.1f} {r['gflops']:8.1f} "
                         f"{r['bytes'] / 1e6:9.1f} {r['backend']:>9s} {r['threads'] or '':>3}  {layers}")
        lines.append(f"profiled {self.wall_seconds * 1e3:.2f} ms of wall time; ops and kernels "
                     f"account for {100 * self.coverage():.0f}% of it")
        return "\n".join(lines)

    def coverage(self) -> float:
        """Fraction of the wall time inside the outermost events (ops, and kernels called
        outside any op, such as the optimizer's); the rest is Python between them."""
        wall = self.wall_seconds
        inside = sum(e.seconds for e in self.events if e.outer)
        return min(inside / wall, 1.0) if wall > 0 else 0.0

    def layer_seconds(self) -> dict:
        """{layer name: seconds of self time of the ops and kernels that ran in it}."""
        out: dict = {}
        for e in self.events:
            if e.layer:
                top = e.layer.split("/")[0]
                out[top] = out.get(top, 0.0) + e.self_seconds
        return out

    def layer_times(self) -> dict:
        """{layer name or None: {'forward': seconds, 'backward': seconds}} of self time.

        The name is the outermost layer an event ran in ('conv2d+max_pooling2d' for a fused
        pair); None gathers what ran outside every layer (the loss, metrics, the optimizer).
        A kernel counts in the phase of the op it ran in (forward outside any op). The
        values add up to the time inside the outermost events, as coverage() counts it.
        """
        out: dict = {}
        for e in self.events:
            top = e.layer.split("/")[0] if e.layer else None
            times = out.setdefault(top, {"forward": 0.0, "backward": 0.0})
            times["backward" if e.phase == "backward" else "forward"] += e.self_seconds
        return out

    def export_chrome_trace(self, path) -> None:
        """Write the events in Chrome's trace-event JSON (open in Perfetto or chrome://tracing)."""
        trace = [{"name": e.name, "cat": e.kind, "ph": "X", "pid": 1, "tid": e.thread,
                  "ts": (e.start - self.start) * 1e6, "dur": e.seconds * 1e6,
                  "args": {"layer": e.layer, "flops": e.flops, "bytes": e.bytes,
                           "backend": e.backend, "threads": e.threads}}
                 for e in self.events]
        with open(path, "w") as f:
            json.dump({"traceEvents": trace, "displayTimeUnit": "ms"}, f)


_stack = threading.local()  # per thread: the op events open now (their kernels add to them)


@contextlib.contextmanager
def profile():
    """Record every op and kernel run inside the block, from every thread; yields the Profile.

    Yields:
        The Profile, whose events fill in as the block runs.

    Raises:
        RuntimeError: a profile is already active (profiles do not nest).

    Example:
        >>> import numpy as np, tinydl
        >>> a = tinydl.Tensor(np.ones((4, 3), np.float32), requires_grad=True)
        >>> with tinydl.profile() as prof:
        ...     (a @ a.T).sum().backward()
        >>> [e.flops for e in prof.events if e.name == "gemm"][0]     # 2 * 4 * 3 * 4
        96
        >>> sorted({(e.kind, e.name) for e in prof.events if e.kind != "kernel"})
        [('backward', 'MatMul'), ..., ('forward', 'MatMul'), ...]
    """
    global current
    if current is not None:
        raise RuntimeError("a tinydl.profile() is already active; profiles do not nest")
    prof = Profile(start=time.perf_counter())
    current = prof
    try:
        yield prof
    finally:
        prof.stop = time.perf_counter()
        current = None


def _open_ops() -> list:
    if not hasattr(_stack, "ops"):
        _stack.ops = []
    return _stack.ops


def record_op(name: str, kind: str, layer, run, *run_args):
    """Time run(*run_args) as op `name` (kind 'forward' or 'backward'); return its result.

    Outside a profile the event is still pushed on this thread's stack, so that kernels run
    inside it count as its children, but it is not kept.

    Args:
        name: the op's name.
        kind: 'forward' or 'backward'.
        layer: the layer's name, or None.
        run: the function to time.
        *run_args: its arguments.

    Returns:
        run(*run_args).

    Example:
        >>> with tinydl.profile() as prof:
        ...     total = record_op("Sum", "forward", None, np.sum, np.arange(4))
        >>> int(total), [(e.name, e.kind, e.outer) for e in prof.events]
        (6, [('Sum', 'forward', True)])
    """
    return _record(name, kind, kind, layer, run, run_args)


def record_step(name: str, phase: str, run, *run_args):
    """Time run(*run_args) as a phase of the framework (kind 'step') while a profile is on;
    the ops and kernels it runs are its children, so its self time is the Python around them
    (the autograd engine's walk, an optimizer's bookkeeping, a batch's checks). Off, it is one
    check.

    Args:
        name: what the phase is, e.g. 'autograd.backward'.
        phase: 'forward' or 'backward', where Profile.layer_times counts its self time.
        run: the function to time.
        *run_args: its arguments.

    Returns:
        run(*run_args).

    Example:
        >>> with tinydl.profile() as prof:
        ...     total = record_step("tally", "forward", lambda: record_op("Sum", "forward", None,
        ...                                                                np.sum, np.arange(4)))
        >>> int(total), [(e.name, e.kind, e.outer) for e in prof.events]
        (6, [('Sum', 'forward', False), ('tally', 'step', True)])
        >>> int(record_step("tally", "forward", np.sum, np.arange(3)))   # no profile: just runs
        3
    """
    if current is None:
        return run(*run_args)
    return _record(name, "step", phase, None, run, run_args)


def _record(name: str, kind: str, phase: str, layer, run, run_args):
    prof = current
    ops = _open_ops()
    event = Event(name, kind, layer, time.perf_counter(), 0.0, threading.get_ident(),
                  outer=not ops, phase=phase)
    ops.append(event)
    try:
        return run(*run_args)
    finally:
        ops.pop()
        event.seconds = time.perf_counter() - event.start
        if ops:  # an op run inside another op: not the outer one's self time
            ops[-1].children += event.seconds
        if prof is not None:
            prof.events.append(event)


def record_kernel(name: str, args: tuple, backend: str, threads: int, layer, run, *run_args):
    """Time run(*run_args) as kernel `name`, with FLOPs and bytes from args and the result.

    Args:
        name: the kernel's name (kernel_flops knows gemm and the convolutions).
        args: the kernel's arguments, for kernel_flops and the byte count.
        backend: 'native' or 'reference'.
        threads: the thread count it ran with.
        layer: the layer's name, or None.
        run: the function to time.
        *run_args: its arguments.

    Returns:
        run(*run_args).

    Example:
        >>> a, b = np.ones((2, 3), np.float32), np.ones((3, 5), np.float32)
        >>> gemm_args = (a, b, False, False)
        >>> with tinydl.profile() as prof:
        ...     out = record_kernel("gemm", gemm_args, "reference", 1, None, np.matmul, a, b)
        >>> event = prof.events[0]
        >>> out.shape, event.flops, event.bytes, event.backend     # 2*2*3*5; (6 + 15 + 10) * 4
        ((2, 5), 60, 124, 'reference')
    """
    prof = current
    start = time.perf_counter()
    result = run(*run_args)
    seconds = time.perf_counter() - start
    if prof is None:
        return result
    ops = _open_ops()
    parent = ops[-1] if ops else None
    if layer is None and parent is not None:  # a backward kernel: the layer of its op
        layer = parent.layer
    event = Event(name, "kernel", layer, start, seconds, threading.get_ident(),
                  flops=kernel_flops(name, args, result), bytes=_nbytes(args) + _nbytes(result),
                  backend=backend, threads=threads, outer=parent is None,
                  phase=parent.kind if parent is not None else "")
    if parent is not None:
        parent.children += seconds
    prof.events.append(event)
    return result


def _nbytes(value) -> int:
    if isinstance(value, (tuple, list)):
        return sum(_nbytes(v) for v in value)
    return int(getattr(value, "nbytes", 0) or 0)


def kernel_flops(name: str, args: tuple, result) -> int:
    """Multiply-adds x 2 of the compute kernels (GEMM, convolutions, and the LSTM loops whose
    GEMMs take the input projection); 0 for the others.

    Args:
        name: the kernel's name: 'gemm', 'conv2d_forward', 'conv2d_max_pool_forward',
            'conv2d_backward_input', 'conv2d_backward_kernel', 'lstm_forward_x',
            'lstm_backward_x', or another (0).
        args: the kernel's arguments, as the backend passes them.
        result: its result (for gemm, the (M, N) output).

    Returns:
        The floating-point operation count.

    Example:
        >>> a, out = np.ones((4, 3)), np.ones((4, 5))
        >>> kernel_flops("gemm", (a, None, False, False), out), 2 * 4 * 3 * 5
        (120, 120)
        >>> x, w = np.ones((1, 5, 5, 2)), np.ones((3, 3, 2, 4))     # (N, H, W, C), (KH, KW, C, F)
        >>> kernel_flops("conv2d_forward", (x, w, None, (1, 1), (0, 0, 0, 0)), None), 2 * 9 * 72
        (1296, 1296)
        >>> xs, kernel, rk = np.ones((7, 2, 3)), np.ones((3, 16)), np.ones((4, 16))  # T, N, D; U = 4
        >>> kernel_flops("lstm_forward_x", (xs, kernel, rk), None), 2 * 7 * 2 * 16 * (3 + 4)
        (3136, 3136)
        >>> kernel_flops("relu_forward", (x,), x)
        0
    """
    first = result[0] if isinstance(result, tuple) else result
    if name == "gemm":
        a, trans_a = args[0], args[2]
        m, k = a.shape[::-1] if trans_a else a.shape
        return 2 * m * k * (first.shape[1] if first is not None else 0)
    if name in ("conv2d_forward", "conv2d_max_pool_forward"):
        x, w, strides, pads = args[0], args[1], args[3], args[4]
        oh = (x.shape[1] + pads[0] + pads[1] - w.shape[0]) // strides[0] + 1
        ow = (x.shape[2] + pads[2] + pads[3] - w.shape[1]) // strides[1] + 1
        return 2 * x.shape[0] * oh * ow * math.prod(w.shape)
    if name == "conv2d_backward_input":  # dy (N, OH, OW, F) [pooled: fewer, counted as given]
        dy, w = args[0], args[1]
        return 2 * math.prod(dy.shape[:3]) * math.prod(w.shape)
    if name == "conv2d_backward_kernel":
        dy, x, kernel_hw = args[0], args[1], args[2]
        return 2 * math.prod(dy.shape) * kernel_hw[0] * kernel_hw[1] * x.shape[3]
    if name == "lstm_forward_x":  # per step [x_t | h_{t-1}] (N, D + U) @ (D + U, 4U)
        x, kernel, rk = args[0], args[1], args[2]
        return 2 * x.shape[0] * x.shape[1] * kernel.shape[1] * (kernel.shape[0] + rk.shape[0])
    if name == "lstm_backward_x":  # per step dz_t (N, 4U) @ (4U, D + U)
        kernel, rk, gates = args[1], args[2], args[6]
        return 2 * math.prod(gates.shape) * (kernel.shape[0] + rk.shape[0])
    return 0
