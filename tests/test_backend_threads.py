"""use_backend is per thread: two threads in blocks of different backends, interleaved step by
step, each run their own kernels, and neither changes the process-wide backend."""

from __future__ import annotations

import dataclasses
import threading

import numpy as np
import pytest

import tinydl
from tinydl import backend
from tinydl.kernels import _dispatch, _registry


def test_interleaved_use_backend_blocks_keep_their_own_backend(monkeypatch):
    if backend._native is None:
        pytest.skip("needs the native extension, to have two backends")
    ran = []  # (thread name, kernel backend) for every gemm
    gemm = _registry.kernels()["gemm"]  # the dispatcher runs the registry's reference
    monkeypatch.setitem(_registry.kernels(), "gemm", dataclasses.replace(gemm, reference=lambda *a, **k: (
        ran.append((threading.current_thread().name, "reference")), gemm.reference(*a, **k))[1]))
    before = tinydl.get_backend()
    barrier, seen, errors = threading.Barrier(2), {}, []
    a = np.random.default_rng(0).standard_normal((8, 8)).astype(np.float32)

    def worker(name):
        try:
            with tinydl.use_backend(name):
                for _ in range(3):  # the other thread is inside its block at each step
                    barrier.wait(timeout=10)
                    seen.setdefault(name, []).append(tinydl.get_backend())
                    np.testing.assert_allclose(_dispatch.run("gemm", a, a), a @ a, rtol=1e-5,
                                               atol=1e-5)
                    barrier.wait(timeout=10)
            seen[name].append(tinydl.get_backend())
        except Exception as exc:  # noqa: BLE001 (reported below)
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,), name=n) for n in backend.BACKENDS]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert seen == {n: [n, n, n, before] for n in backend.BACKENDS}
    assert ran == [("reference", "reference")] * 3  # the native thread never ran the reference
    assert tinydl.get_backend() == before


def test_use_backend_rejects_an_unknown_name_and_restores_after_an_error():
    before = tinydl.get_backend()
    with pytest.raises(ValueError, match="backend must be one of"):
        with tinydl.use_backend("cuda"):
            pass
    with pytest.raises(RuntimeError):
        with tinydl.use_backend("reference"):
            assert tinydl.get_backend() == "reference"
            raise RuntimeError("inside")
    assert tinydl.get_backend() == before
