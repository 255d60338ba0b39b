"""SGEMM throughput: tinydl's native GEMM against NumPy (OpenBLAS) and PyTorch, 1 and 2 threads.

Run from the repository root, without OpenBLAS tuning variables that would skew the comparison:

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_gemm.py [--reps 7]

Each library runs in its own subprocess per thread count (OMP_NUM_THREADS,
OPENBLAS_NUM_THREADS and torch.set_num_threads set there), so idle BLAS threads of one
library never spin on the cores another is timing. Every shape is warmed up, then timed
--reps times; the table gives the median GFLOP/s and ours / OpenBLAS. Shapes: squares
256..2048 and the GEMMs of the reference CNN at batch 64 (forward, input gradient and
weight gradient of conv1..conv3, as op(A) (M, K) @ op(B) (K, N)).
"""

from __future__ import annotations

import json
import os

import numpy as np

import _child  # benchmarks/_child.py (this folder is on sys.path when run as a script)

# name, M, N, K, trans_a, trans_b
SHAPES = [(f"square {s}", s, s, s, False, False) for s in (256, 512, 1024, 2048)] + [
    ("conv1 fwd", 64 * 30 * 30, 32, 27, False, False),
    ("conv2 fwd", 64 * 13 * 13, 64, 288, False, False),
    ("conv3 fwd", 64 * 4 * 4, 128, 576, False, False),
    ("conv2 dx", 64 * 13 * 13, 288, 64, False, True),
    ("conv3 dx", 64 * 4 * 4, 576, 128, False, True),
    ("conv1 dw", 27, 32, 64 * 30 * 30, True, False),
    ("conv2 dw", 288, 64, 64 * 13 * 13, True, False),
    ("conv3 dw", 576, 128, 64 * 4 * 4, True, False),
]
LIBRARIES = ("tinydl", "numpy", "torch")


def operands(m, n, k, trans_a, trans_b):
    rng = np.random.default_rng(0)
    a = rng.standard_normal((k, m) if trans_a else (m, k)).astype(np.float32)
    b = rng.standard_normal((n, k) if trans_b else (k, n)).astype(np.float32)
    return a, b


def gemm_function(library: str, threads: int, a, b, trans_a: bool, trans_b: bool):
    """A zero-argument callable computing op(a) @ op(b) with `library` on `threads` threads."""
    if library == "tinydl":
        from tinydl.kernels import native
        native.set_num_threads(threads)
        return lambda: native.gemm(a, b, trans_a, trans_b)
    if library == "numpy":
        op_a, op_b = (a.T if trans_a else a), (b.T if trans_b else b)
        return lambda: op_a @ op_b
    import torch
    torch.set_num_threads(threads)
    ta, tb = torch.from_numpy(a), torch.from_numpy(b)
    op_a, op_b = (ta.T if trans_a else ta), (tb.T if trans_b else tb)
    return lambda: op_a @ op_b


def child(library: str, threads: int, reps: int) -> None:
    """Time every shape with one library and print {shape name: GFLOP/s} as JSON."""
    results = {}
    for name, m, n, k, trans_a, trans_b in SHAPES:
        a, b = operands(m, n, k, trans_a, trans_b)
        fn = gemm_function(library, threads, a, b, trans_a, trans_b)
        seconds = _child.median_seconds(fn, reps)
        results[name] = 2.0 * m * n * k / seconds / 1e9
    print(json.dumps(results))


def main() -> None:
    args = _child.kernel_bench_args(__doc__, LIBRARIES)
    if args.child:
        child(args.child, args.threads[0], args.reps)
        return
    for var in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
        if var in os.environ:
            print(f"warning: {var} is set; run with `env -u {var}` for a fair comparison")
    from tinydl.kernels import native
    print(f"tinydl native: {native.info()}")
    for threads in args.threads:
        print(f"\n== {threads} thread(s), median of {args.reps} reps, GFLOP/s ==")
        res = {lib: _child.run_kernel_child(__file__, lib, threads, args.reps)
               for lib in LIBRARIES}
        header = f"{'shape':<12} {'M x N x K':>20} {'tinydl':>8} {'numpy':>8} {'torch':>8} " \
                 f"{'ours/np':>8} {'ours/torch':>10}"
        print(header)
        for name, m, n, k, trans_a, trans_b in SHAPES:
            ours, blas, torch = (res[lib][name] if res[lib] else float("nan") for lib in LIBRARIES)
            dims = f"{m}x{n}x{k}" + (" tA" if trans_a else "") + (" tB" if trans_b else "")
            print(f"{name:<12} {dims:>20} {ours:8.1f} {blas:8.1f} {torch:8.1f} "
                  f"{ours / blas:7.2f}x {ours / torch:9.2f}x")


if __name__ == "__main__":
    main()
