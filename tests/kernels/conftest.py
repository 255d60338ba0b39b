"""Fixtures for the native-vs-reference kernel tests: micro-kernel forcing and threads."""

from __future__ import annotations

import pytest

native = pytest.importorskip("tinydl.kernels.native", reason="the native extension is not built")

MICROKERNELS = ("avx512", "avx2", "generic")


@pytest.fixture(params=MICROKERNELS)
def microkernel(request):
    """Run the test once per GEMM micro-kernel this CPU can run (others are skipped)."""
    name = request.param
    if name not in native.available_microkernels():
        pytest.skip(f"this CPU cannot run the {name} micro-kernel")
    native.force_microkernel(name)
    yield name
    native.force_microkernel("auto")


@pytest.fixture
def two_threads():
    """Run the test with 2 native threads, then restore the previous count."""
    previous = native.get_num_threads()
    native.set_num_threads(2)
    yield 2
    native.set_num_threads(previous)


@pytest.fixture(params=("im2col", "winograd", "implicit"))
def conv_algorithm(request):
    """Run the test once per convolution algorithm (forward and weight gradient; Winograd and
    the implicit GEMM where they apply, im2col elsewhere), then restore the previous choice."""
    previous = native.get_conv_algorithm()
    native.force_conv_algorithm(request.param)
    yield request.param
    native.force_conv_algorithm(previous)
