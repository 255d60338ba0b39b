"""Same inputs, seed and thread count: bit-identical kernel outputs and training results,
within one process and across fresh processes, on 1 and on 2 threads.

A fresh process catches what a repeat in one process can hide: a result that depends on
uninitialised scratch memory, on addresses (alignment of a buffer) or on state left behind
by an earlier call. The work is large enough to run the threaded paths of the kernels
(GEMM and convolutions above 2**20 multiply-adds, pooling above 65,536 reads).
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys

import numpy as np
import pytest

import tinydl
from tinydl import backend
from tinydl.layers import Conv2D, Dense, Flatten, MaxPooling2D

THREADS = (1, 2)


def kernel_outputs() -> list:
    """Every kernel once, from a fixed seed, on threaded-size problems."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((8, 20, 18, 6)).astype(np.float32)
    w = rng.standard_normal((3, 3, 6, 24)).astype(np.float32)
    bias = rng.standard_normal(24).astype(np.float32)
    y = backend.conv2d_forward(x, w, bias, (1, 1), (1, 1, 1, 1), relu=True)
    dy = rng.standard_normal(y.shape).astype(np.float32)
    p, argmax = backend.conv2d_max_pool_forward(x, w, bias, (1, 1), (1, 1, 1, 1), True, (2, 2))
    dp = rng.standard_normal(p.shape).astype(np.float32)
    route = dict(pool_argmax=argmax, pool_geometry=((2, 2), (0, 0, 0, 0)))
    outputs = [y, p, argmax,
               backend.conv2d_backward_input(dy, w, x.shape, (1, 1), (1, 1, 1, 1), relu_out=y),
               *backend.conv2d_backward_kernel(dy, x, (3, 3), (1, 1), (1, 1, 1, 1), True),
               backend.conv2d_backward_input(dp, w, x.shape, (1, 1), (1, 1, 1, 1), **route),
               *backend.conv2d_backward_kernel(dp, x, (3, 3), (1, 1), (1, 1, 1, 1), True,
                                               **route)]
    m, marg = backend.max_pool2d_forward(y, (3, 3), (2, 2), (1, 1, 1, 1))
    outputs += [m, marg, backend.max_pool2d_backward(m, marg, y.shape),
                backend.avg_pool2d_forward(y, (2, 3), (2, 2), (0, 1, 1, 1)),
                backend.gemm(rng.standard_normal((64, 8192)).astype(np.float32),  # split-K
                             rng.standard_normal((8192, 64)).astype(np.float32)),
                backend.gemm(rng.standard_normal((300, 200)).astype(np.float32),
                             rng.standard_normal((300, 500)).astype(np.float32), trans_a=True),
                *backend.softmax_xent_forward(rng.standard_normal((700, 100)).astype(np.float32),
                                              rng.integers(0, 100, 700)),
                backend.relu_forward(dy), backend.relu_backward(y, dy)]
    return outputs


def training_results() -> list:
    """A small CNN trained 2 epochs by Adam with shuffling: its losses and final weights."""
    tinydl.utils.set_random_seed(7)
    rng = np.random.default_rng(7)
    x = rng.standard_normal((96, 16, 16, 3)).astype(np.float32)
    y = rng.integers(0, 5, 96)
    model = tinydl.models.Sequential([
        Conv2D(16, 3, padding="same", activation="relu", input_shape=(16, 16, 3)),
        MaxPooling2D(2), Conv2D(16, 3, activation="relu"), Flatten(), Dense(5)])
    model.compile(optimizer="adam",
                  loss=tinydl.losses.SparseCategoricalCrossentropy(from_logits=True))
    history = model.fit(x, y, batch_size=32, epochs=2, verbose=0)
    return [np.array(history.history["loss"])] + model.get_weights()


def digests(arrays: list) -> list:
    """SHA-256 of each array's dtype, shape and bytes."""
    return [hashlib.sha256(f"{a.dtype}{a.shape}".encode() + np.ascontiguousarray(a).tobytes())
            .hexdigest() for a in (np.asarray(a) for a in arrays)]


def run(threads: int) -> dict:
    """Both workloads on `threads` threads: {'kernels': digests, 'training': digests}."""
    previous = tinydl.get_num_threads()
    tinydl.set_num_threads(threads)
    try:
        return {"kernels": digests(kernel_outputs()), "training": digests(training_results())}
    finally:
        tinydl.set_num_threads(previous)


def run_in_fresh_process(threads: int) -> dict:
    """run(threads) in a new Python process (this file run as a script)."""
    out = subprocess.run([sys.executable, __file__, str(threads)], capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, f"the fresh process failed:\n{out.stderr[-4000:]}"
    return json.loads(out.stdout.splitlines()[-1])


@pytest.mark.parametrize("threads", THREADS)
def test_repeated_runs_in_one_process_are_bit_identical(threads):
    first = run(threads)
    assert run(threads) == first


@pytest.mark.parametrize("threads", THREADS)
def test_fresh_processes_give_the_bits_of_this_one(threads):
    here = run(threads)
    assert run_in_fresh_process(threads) == here
    assert run_in_fresh_process(threads) == here


def test_the_training_run_uses_the_thread_count():
    """The workloads are big enough for the thread count to matter: split-K and the weight
    gradient sum per-thread partials, so their last bits differ between 1 and 2 threads
    (what makes the two parametrized runs above two different checks)."""
    if not tinydl.backend_info().get("openmp") or backend.get_backend() != "native":
        pytest.skip("needs the native backend with OpenMP")
    one, two = run(1), run(2)
    assert one["kernels"] != two["kernels"] and one["training"] != two["training"]


if __name__ == "__main__":  # the fresh process of run_in_fresh_process
    print(json.dumps(run(int(sys.argv[1]))))
