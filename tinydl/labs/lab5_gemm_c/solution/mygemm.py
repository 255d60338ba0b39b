"""Lab 5: call your C GEMMs from Python (given), and measure their GFLOP/s (task 5.5).

    import mygemm
    c = mygemm.simd(a, b)        # a (M, K), b (K, N) float32 -> (M, N), computed by gemm.c
"""

from __future__ import annotations

import ctypes
import statistics
import time

import numpy as np

import build

STAGES = {"naive": 1, "blocked": 2, "packed": 3, "simd": 4}   # gemm_<stage> in gemm.c -> its task
INT_MAX = 2 ** 31 - 1
_library = None


def library() -> ctypes.CDLL:
    """gemm.c, compiled (by build.py) and loaded; rebuilt when the source changed."""
    global _library
    path = build.build()
    if _library is None or _library[0] != path:
        lib = ctypes.CDLL(str(path))
        pointer = ctypes.POINTER(ctypes.c_float)
        for stage in STAGES:
            function = getattr(lib, f"gemm_{stage}")
            function.argtypes = [ctypes.c_int] * 3 + [pointer] * 3
            function.restype = ctypes.c_int
        lib.gemm_has_vectors.restype = ctypes.c_int
        _library = (path, lib)
    return _library[1]


def _checked(a, b) -> tuple:
    """a and b as C-ordered float32 matrices that C may trust (shapes agree, sizes fit an int)."""
    for name, x in (("a", a), ("b", b)):
        if not isinstance(x, np.ndarray) or x.ndim != 2 or x.dtype != np.float32:
            raise TypeError(f"{name} must be a 2-D float32 NumPy array. Received: "
                            f"{type(x).__name__} {getattr(x, 'dtype', '')} {getattr(x, 'shape', '')}")
    if a.shape[1] != b.shape[0]:
        raise ValueError(f"a is {a.shape} and b is {b.shape}: a's columns must equal b's rows")
    (m, k), n = a.shape, b.shape[1]
    if max(m, n, k) > INT_MAX or max(m * k, k * n, m * n) > INT_MAX:
        raise ValueError(f"({m}, {k}) @ ({k}, {n}) is too large for gemm.c's int sizes")
    return np.ascontiguousarray(a), np.ascontiguousarray(b), m, n, k


def run(stage: str, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a @ b computed by gemm_<stage> in gemm.c.

    Raises:
        NotImplementedError: that stage's task is not written yet.
        MemoryError: the C code could not allocate its packing buffers.
    """
    a, b, m, n, k = _checked(a, b)
    c = np.empty((m, n), np.float32)
    pointer = ctypes.POINTER(ctypes.c_float)
    status = getattr(library(), f"gemm_{stage}")(m, n, k, a.ctypes.data_as(pointer),
                                                 b.ctypes.data_as(pointer), c.ctypes.data_as(pointer))
    if status <= -100:
        raise NotImplementedError(f"Lab 5, task {-status - 100}: gemm_{stage} reached a part of gemm.c "
                                  f"that is not written yet (see the comment at TDL_NOT_IMPLEMENTED({-status - 100}))")
    if status == -2:
        raise MemoryError(f"gemm_{stage} could not allocate its packing buffers")
    if status != 0:
        raise RuntimeError(f"gemm_{stage} returned {status}")
    return c


def naive(a, b): return run("naive", a, b)
def blocked(a, b): return run("blocked", a, b)
def packed(a, b): return run("packed", a, b)
def simd(a, b): return run("simd", a, b)


def has_vectors() -> bool:
    """Whether gemm.c's SIMD kernel was compiled with vector extensions (else it is plain C)."""
    return bool(library().gemm_has_vectors())


# ----------------------------------------------------------------------------- task 5.5

def gflops(fn, m: int, n: int, k: int, repeats: int = 3) -> float:
    """GFLOP/s of fn(a, b) on random float32 a (m, k) and b (k, n): 2 m n k flops / median time / 1e9.

    One warm-up call first, then `repeats` timed calls (time.perf_counter); the median counts.
    """
    rng = np.random.default_rng(0)
    a = rng.standard_normal((m, k)).astype(np.float32)
    b = rng.standard_normal((k, n)).astype(np.float32)
    # BEGIN SOLUTION 5.5 write gflops: warm up, time `repeats` calls, 2 m n k / median seconds / 1e9
    fn(a, b)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn(a, b)
        times.append(time.perf_counter() - start)
    return 2.0 * m * n * k / statistics.median(times) / 1e9
    # END SOLUTION


def stage_table(n: int = 512, repeats: int = 3) -> dict:
    """GFLOP/s of every stage, tinydl's GEMM and NumPy's on n x n matrices, by name.

    Keys: 'naive', 'blocked', 'packed', 'simd', 'tinydl' (tinydl.backend.gemm: the native
    kernel when the extension is built), 'numpy' (a @ b: OpenBLAS or whatever NumPy uses).
    """
    # BEGIN SOLUTION 5.5 write stage_table: gflops of each stage, tinydl.backend.gemm and numpy's @
    import tinydl.backend

    table = {stage: gflops(globals()[stage], n, n, n, repeats) for stage in STAGES}
    table["tinydl"] = gflops(tinydl.backend.gemm, n, n, n, repeats)
    table["numpy"] = gflops(np.matmul, n, n, n, repeats)
    return table
    # END SOLUTION


if __name__ == "__main__":
    print(f"vector extensions: {has_vectors()}")
    for name, rate in stage_table().items():
        print(f"{name:>8}: {rate:7.2f} GFLOP/s")
