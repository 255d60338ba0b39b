"""The native thread count: one bounded setting for the whole process, used by every kernel."""

from __future__ import annotations

import pathlib
import re
import threading

import numpy as np
import pytest

import tinydl
from tinydl import _native, backend

CSRC = pathlib.Path(__file__).resolve().parents[2] / "csrc"


def in_thread(fn):
    """fn() run on a new Python (OS) thread; its result, or its exception re-raised here."""
    out = {}

    def target():
        try:
            out["value"] = fn()
        except BaseException as exc:  # noqa: BLE001 - handed back to the test
            out["error"] = exc

    worker = threading.Thread(target=target)
    worker.start()
    worker.join()
    if "error" in out:
        raise out["error"]
    return out["value"]


def split_k_gemm():
    """A GEMM that splits K among the threads (M*N small, K long): its last bits depend on
    the thread count, so its result tells how many threads ran it."""
    rng = np.random.default_rng(5)
    a = rng.standard_normal((64, 8192)).astype(np.float32)
    b = rng.standard_normal((8192, 64)).astype(np.float32)
    with backend.use_backend("native"):
        return backend.gemm(a, b)


@pytest.fixture
def restore_threads():
    previous = tinydl.get_num_threads()
    yield
    tinydl.set_num_threads(previous)


def test_a_kernel_started_from_another_thread_uses_the_process_setting(restore_threads):
    if not _native.have_openmp():
        pytest.skip("built without OpenMP: every kernel runs on one thread")
    tinydl.set_num_threads(2)
    on_two = split_k_gemm()
    tinydl.set_num_threads(1)
    on_one = split_k_gemm()
    assert not np.array_equal(on_one, on_two), "the probe must tell 1 thread from 2"
    assert np.array_equal(in_thread(split_k_gemm), on_one)
    tinydl.set_num_threads(2)
    assert np.array_equal(in_thread(split_k_gemm), on_two)


def test_get_num_threads_reports_the_setting_from_any_thread(restore_threads):
    if not _native.have_openmp():
        pytest.skip("built without OpenMP: the count is always 1")
    for n in (1, 3):
        tinydl.set_num_threads(n)
        assert in_thread(tinydl.get_num_threads) == n
        assert in_thread(lambda: tinydl.backend_info()["threads"]) == n
    in_thread(lambda: tinydl.set_num_threads(2))
    assert tinydl.get_num_threads() == 2


@pytest.mark.parametrize("bad", [backend.MAX_THREADS + 1, 2**31 - 1, 2**31, 2**64])
def test_a_thread_count_above_the_cap_is_refused(bad, restore_threads):
    before = tinydl.get_num_threads()
    with pytest.raises(ValueError, match=rf"at most {backend.MAX_THREADS}.*Received: {bad}"):
        tinydl.set_num_threads(bad)
    assert tinydl.get_num_threads() == before


def test_the_cap_itself_is_accepted(restore_threads):
    if not _native.have_openmp():
        pytest.skip("built without OpenMP: the count is always 1")
    tinydl.set_num_threads(backend.MAX_THREADS)
    assert tinydl.get_num_threads() == backend.MAX_THREADS


def test_python_and_c_agree_on_the_cap():
    assert _native.MAX_THREADS == backend.MAX_THREADS


def test_kernels_start_threads_only_through_the_pool():
    """Every kernel runs its parallel work through tdl_parallel_run / tdl_parallel_for
    (csrc/threads.c), which takes the process-wide count. An OpenMP region elsewhere would
    use the calling OS thread's own count (omp_set_num_threads is per thread), and would end
    in a barrier that waits for a descheduled thread on a busy machine."""
    regions, pool_calls = [], 0
    for path in sorted(CSRC.glob("*.[ch]")) + sorted(CSRC.glob("*.inc")):
        text = path.read_text()
        pool_calls += len(re.findall(r"\btdl_parallel_(run|for)\(", text))
        for number, line in enumerate(text.splitlines(), 1):
            if re.match(r'\s*(#\s*pragma\s+|_Pragma\(")omp\s+parallel\b', line):
                regions.append((path.name, number, line))
    assert pool_calls >= 20, "the scan found the kernels' parallel loops"
    outside = [r for r in regions if r[0] != "threads.c" or "num_threads(" not in r[2]]
    assert not outside, f"OpenMP regions outside the pool: {outside}"
