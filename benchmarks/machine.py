"""What machine a benchmark ran on: CPU, features, cores, measured FMA peak and memory bandwidth,
library versions and the environment variables that change the numbers.

    python benchmarks/machine.py        # prints the description as JSON
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ENV_VARS = ("OMP_NUM_THREADS", "OMP_PROC_BIND", "OMP_WAIT_POLICY", "OPENBLAS_NUM_THREADS",
            "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "MKL_NUM_THREADS", "TINYDL_BACKEND")


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def fma_peak() -> dict:
    """GFLOP/s of float32 FMAs on one core and on all cores at once (one probe per core), by
    benchmarks/fma_probe.c compiled with the system C compiler; {} without one."""
    compiler = shutil.which(os.environ.get("CC", "cc"))
    if compiler is None:
        return {}
    with tempfile.TemporaryDirectory() as tmp:
        exe = os.path.join(tmp, "fma_probe")
        built = subprocess.run([compiler, "-O2", str(HERE / "fma_probe.c"), "-o", exe],
                               capture_output=True, text=True)
        if built.returncode != 0:
            return {"error": built.stderr.strip()[-200:]}
        one = subprocess.run([exe], capture_output=True, text=True).stdout.split()
        procs = [subprocess.Popen([exe], stdout=subprocess.PIPE, text=True)
                 for _ in range(cores())]
        every = [p.communicate()[0].split() for p in procs]
    return {"isa": one[0], "gflops_1_core": float(one[1]),
            "gflops_all_cores": round(sum(float(e[1]) for e in every), 1)}


def memory_bandwidth_gbs(mib: int = 256) -> float:
    """Copy bandwidth (read + write bytes per second) of NumPy copying a mib-MiB array."""
    import numpy as np

    a = np.ones(mib * 2**20 // 8)
    b = np.empty_like(a)
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        np.copyto(b, a)
        best = min(best, time.perf_counter() - start)
    return round(2 * a.nbytes / best / 1e9, 1)


def versions() -> dict:
    found = {"python": sys.version.split()[0]}
    for name in ("numpy", "tinydl", "torch", "tensorflow", "keras"):
        probe = subprocess.run([sys.executable, "-c", f"import {name}; print({name}.__version__)"],
                               capture_output=True, text=True, env=dict(os.environ,
                                                                        TF_CPP_MIN_LOG_LEVEL="3"))
        found[name] = probe.stdout.strip().splitlines()[-1] if probe.returncode == 0 \
            else "not installed"
    return found


def blas() -> str:
    """Which BLAS NumPy runs (threadpoolctl's view when installed)."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "unknown (pip install threadpoolctl)"
    info = [i for i in threadpool_info() if i.get("user_api") == "blas"]
    return ", ".join(f"{i.get('internal_api')} {i.get('version')} {i.get('architecture')}"
                     for i in info) or "none found"


def describe(measure: bool = True) -> dict:
    """The machine as a dict; measure=False skips the FMA and bandwidth probes (a few seconds)."""
    features = []
    try:
        import tinydl
        features = [k for k, v in tinydl.backend_info().get("cpu_features", {}).items() if v]
    except ImportError:
        pass
    out = {"cpu": cpu_model(), "machine": platform.machine(), "system": platform.system(),
           "cores": cores(), "cpu_features": features, "versions": versions(), "blas": blas(),
           "env": {k: os.environ.get(k, "unset") for k in ENV_VARS}}
    if measure:
        out["fma_peak"] = fma_peak()
        out["memory_bandwidth_gbs"] = memory_bandwidth_gbs()
    return out


if __name__ == "__main__":
    print(json.dumps(describe(), indent=1))
