"""Run one benchmark case in a fresh process with a given thread count; read its JSON result.

Each library gets its own process so that idle BLAS/OpenMP threads of one do not disturb
another, and so the thread count is set before any library starts its thread pool.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time


def run_child(script: str, args: list, threads: int, label: str):
    """Run `python script *args` with every thread-count variable set to threads.

    Returns:
        The dict printed as JSON on the child's last line, or None (with a note) if it failed.
    """
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), OPENBLAS_NUM_THREADS=str(threads),
               MKL_NUM_THREADS=str(threads))
    done = subprocess.run([sys.executable, script, *map(str, args)], env=env,
                          capture_output=True, text=True)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["failed"])[-1]
        print(f"  ({label}, {threads} thread(s): skipped: {last})")
        return None
    return json.loads(done.stdout.strip().splitlines()[-1])


def kernel_bench_args(doc: str, choices) -> argparse.Namespace:
    """The command line of bench_gemm.py and bench_conv.py: --reps, --threads, and --child
    (internal: the name of the library or backend a child process measures)."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--reps", type=int, default=7)
    parser.add_argument("--threads", type=int, nargs="*", default=[1, 2])
    parser.add_argument("--child", choices=choices)
    return parser.parse_args()


def run_kernel_child(script: str, name: str, threads: int, reps: int):
    """run_child for bench_gemm.py / bench_conv.py: measure `name` in a fresh process."""
    args = ["--child", name, "--threads", threads, "--reps", reps]
    return run_child(script, args, threads, name)


def median_seconds(fn, reps: int) -> float:
    """Median wall time of fn() over reps calls, after two untimed warm-up calls."""
    fn()
    fn()
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def peak_mib() -> float:
    """This process's peak resident memory, MiB.

    On Linux, VmHWM of /proc/self/status: getrusage's ru_maxrss survives exec, so a child
    started by a parent that imported torch (~220 MiB) would report the parent's peak.
    Elsewhere ru_maxrss (bytes on macOS, KiB on Linux and the BSDs).
    """
    import resource

    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 1024
