"""The native thread pool: results depend on the thread count only, never on which thread ran
what, how late a helper started, or whether another Python thread's kernel held the pool."""

from __future__ import annotations

import multiprocessing
import os
import threading

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from native_helpers import assert_close

import tinydl
from tinydl import _native
from tinydl.kernels import native, reference
from tinydl.kernels.shapes import window_geometry

pytestmark = pytest.mark.skipif(not _native.have_openmp(),
                                reason="built without threads: every kernel runs serially")

# More threads than this machine's cores: helpers are descheduled mid-kernel, start late or
# not at all before the caller has claimed every task (the contended case).
OVERSUBSCRIBED = 2 * (os.cpu_count() or 1) + 1


@pytest.fixture(autouse=True)
def restore_threads():
    previous = tinydl.get_num_threads()
    yield
    tinydl.set_num_threads(previous)
    native.force_microkernel("auto")
    native.force_conv_algorithm("auto")


def conv_case(rng, window, strides, padding, shape=(3, 11, 9, 20), f=24):
    """(x, w, bias, strides, pads, dy) of one convolution, float32."""
    (oh, ow), pads = window_geometry(shape[1:3], window, strides, padding)
    x = rng.standard_normal(shape).astype(np.float32)
    w = rng.standard_normal((*window, shape[3], f)).astype(np.float32)
    bias = rng.standard_normal(f).astype(np.float32)
    dy = rng.standard_normal((shape[0], oh, ow, f)).astype(np.float32)
    return x, w, bias, strides, pads, dy


def conv_all(x, w, bias, strides, pads, dy):
    """Every conv kernel of one geometry: forward, input and weight gradients."""
    window = w.shape[:2]
    dw, db = native.conv2d_backward_kernel(dy, x, window, strides, pads, True)
    return [native.conv2d_forward(x, w, bias, strides, pads, True),
            native.conv2d_backward_input(dy, w, x.shape, strides, pads), dw, db]


def kernel_outputs():
    """The outputs of one call of each threaded kernel family (fixed inputs)."""
    rng = np.random.default_rng(7)
    a = rng.standard_normal((300, 200)).astype(np.float32)
    b = rng.standard_normal((200, 500)).astype(np.float32)
    wide = rng.standard_normal((9, 400)).astype(np.float32)
    wide_b = rng.standard_normal((400, 3000)).astype(np.float32)
    long_a = rng.standard_normal((64, 8192)).astype(np.float32)
    long_b = rng.standard_normal((8192, 64)).astype(np.float32)
    out = [native.gemm(a, b, bias=b[0, :500], relu=True),  # chunks of rows
           native.gemm(wide, wide_b),                      # chunks of columns
           native.gemm(long_a, long_b)]                    # split K
    out += conv_all(*conv_case(rng, (5, 3), (1, 1), "same"))  # im2col
    out += conv_all(*conv_case(rng, (3, 3), (2, 1), "valid"))  # strided
    out += conv_all(*conv_case(rng, (3, 3), (1, 1), "same", (4, 16, 16, 32), 32))  # Winograd
    x = rng.standard_normal((8, 32, 32, 16)).astype(np.float32)
    y, argmax = native.max_pool2d_forward(x, (2, 2), (2, 2), (0, 0, 0, 0))
    out += [y, argmax, native.max_pool2d_backward(y, argmax, x.shape),
            native.relu_forward(x - 0.5), native.relu_backward(x - 0.5, x)]
    xw = rng.standard_normal((3, 64, 4 * 96)).astype(np.float32)
    rk = rng.standard_normal((96, 4 * 96)).astype(np.float32) * 0.1
    h0 = np.zeros((64, 96), np.float32)
    out += list(native.lstm_forward(xw, rk, h0, h0, None))
    return out


def assert_all_equal(runs, what):
    for run in runs[1:]:
        for i, (got, first) in enumerate(zip(run, runs[0])):
            assert np.array_equal(got, first), f"{what}: output {i} differs between runs"


@pytest.mark.parametrize("threads", [1, 2, OVERSUBSCRIBED])
def test_repeats_are_bit_identical_for_a_thread_count(threads):
    tinydl.set_num_threads(threads)
    assert_all_equal([kernel_outputs() for _ in range(3)], f"{threads} threads")


def test_an_oversubscribed_pool_gives_the_results_of_a_quiet_one():
    """Helpers that start late (more threads than cores) change who runs a task, not its
    numbers: the same thread count gives the same bits, whether or not a second caller keeps
    the machine busy meanwhile."""
    tinydl.set_num_threads(OVERSUBSCRIBED)
    quiet = kernel_outputs()
    busy = threading.Event()

    def load():
        while not busy.is_set():
            native.gemm(np.ones((256, 256), np.float32), np.ones((256, 256), np.float32))

    spinner = threading.Thread(target=load)
    spinner.start()
    try:
        assert_all_equal([quiet, kernel_outputs(), kernel_outputs()], "beside a busy caller")
    finally:
        busy.set()
        spinner.join()


def test_concurrent_callers_get_the_results_of_one_caller():
    """While one Python thread's kernel holds the pool, another's runs its tasks itself, cut
    the same way: the results are those of a lone caller with the same thread count."""
    tinydl.set_num_threads(2)
    alone = kernel_outputs()
    results, errors = [], []

    def call():
        try:
            results.append(kernel_outputs())
        except BaseException as exc:  # noqa: BLE001 - re-raised in the test thread
            errors.append(exc)

    callers = [threading.Thread(target=call) for _ in range(4)]
    for caller in callers:
        caller.start()
    for caller in callers:
        caller.join()
    assert not errors, errors
    assert_all_equal([alone, *results], "concurrent callers")


def _gemm_in_child(queue):
    rng = np.random.default_rng(3)
    a = rng.standard_normal((300, 300)).astype(np.float32)
    queue.put(native.gemm(a, a))


def test_a_forked_child_runs_threaded_kernels():
    """The pool's helpers do not survive fork(): the child starts its own."""
    if "fork" not in multiprocessing.get_all_start_methods():
        pytest.skip("no fork() on this platform")
    tinydl.set_num_threads(2)
    rng = np.random.default_rng(3)
    a = rng.standard_normal((300, 300)).astype(np.float32)
    parent = native.gemm(a, a)  # the pool's helpers exist now
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_gemm_in_child, args=(queue,))
    child.start()
    got = queue.get(timeout=60)
    child.join(timeout=60)
    assert child.exitcode == 0
    assert np.array_equal(got, parent)


@settings(max_examples=60, deadline=None)
@given(m=st.integers(1, 200), n=st.integers(1, 200), k=st.integers(1, 300),
       trans_a=st.booleans(), trans_b=st.booleans(), threads=st.sampled_from([1, 2, 3, 8]),
       microkernel=st.sampled_from(native.available_microkernels()),
       dtype=st.sampled_from([np.float32, np.float64]), seed=st.integers(0, 2**16))
def test_gemm_on_the_pool_matches_the_reference(m, n, k, trans_a, trans_b, threads, microkernel,
                                                dtype, seed):
    tinydl.set_num_threads(threads)
    native.force_microkernel(microkernel)
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((k, m) if trans_a else (m, k)).astype(dtype)
    b = rng.standard_normal((n, k) if trans_b else (k, n)).astype(dtype)
    bias = rng.standard_normal(n).astype(dtype)
    ours = native.gemm(a, b, trans_a, trans_b, bias=bias, relu=True)
    assert_close(ours, reference.gemm(a, b, trans_a, trans_b, bias=bias, relu=True), k,
                 f"gemm {m}x{n}x{k} {microkernel} {threads} threads")
    assert np.array_equal(ours, native.gemm(a, b, trans_a, trans_b, bias=bias, relu=True))


@settings(max_examples=30, deadline=None)
@given(window=st.tuples(st.integers(1, 4), st.integers(1, 4)),
       strides=st.tuples(st.integers(1, 3), st.integers(1, 3)),
       padding=st.sampled_from(["valid", "same"]), threads=st.sampled_from([1, 2, 5]),
       microkernel=st.sampled_from(native.available_microkernels()),
       algorithm=st.sampled_from(["im2col", "winograd", "implicit"]), seed=st.integers(0, 2**16))
def test_conv_on_the_pool_matches_the_reference(window, strides, padding, threads, microkernel,
                                                algorithm, seed):
    tinydl.set_num_threads(threads)
    native.force_microkernel(microkernel)
    native.force_conv_algorithm(algorithm)
    x, w, bias, strides, pads, dy = conv_case(np.random.default_rng(seed), window, strides,
                                              padding, (5, 13, 12, 17), 19)
    dw, db = reference.conv2d_backward_kernel(dy, x, window, strides, pads, True)
    oracle = [reference.conv2d_forward(x, w, bias, strides, pads, True),
              reference.conv2d_backward_input(dy, w, x.shape, strides, pads), dw, db]
    ours = conv_all(x, w, bias, strides, pads, dy)
    reductions = [window[0] * window[1] * 17, window[0] * window[1] * 19, 5 * 13 * 12,
                  5 * 13 * 12]
    for got, want, reduction, name in zip(ours, oracle, reductions, ["y", "dx", "dw", "db"]):
        assert_close(got, want, reduction, f"{name} {window} {strides} {padding} {threads}")
    assert_all_equal([ours, conv_all(x, w, bias, strides, pads, dy)], "conv repeat")
