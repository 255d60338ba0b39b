"""Shared test setup: the hypothesis profile for CI and the `backend` fixture that runs a test on each backend."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

import tinydl

# TensorFlow, the Keras oracle's backend, turns its oneDNN kernels on by default only on CPUs
# with AVX-512 VNNI and the like; elsewhere (an AVX2 Zen 3, say) its Eigen DepthwiseConv2dNative
# rejects unequal strides, which oneDNN's runs. On, the oracle is the same on every x86 CPU.
# Set before any test imports TensorFlow.
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")

# No deadlines (gradient checks run fn hundreds of times, and CI machines are slow), a modest
# number of examples, and derandomized draws so that every run sees the same inputs.
settings.register_profile(
    "ci",
    deadline=None,
    max_examples=25,
    derandomize=True,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                           HealthCheck.data_too_large],
)
# A longer local run: HYPOTHESIS_PROFILE=thorough python -m pytest tests
settings.register_profile("thorough", parent=settings.get_profile("ci"), max_examples=200)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(params=["reference", "native"])
def backend(request) -> str:
    """Run the test with tinydl.set_backend(name), then restore the backend that was in use.

    'native' is skipped when the C extension is not built. The fixture is function scoped but
    only sets global state, so hypothesis' examples inside one test all see the same backend.
    """
    name = request.param
    if name == "native" and not tinydl.backend_info()["native_available"]:
        pytest.skip("the native extension tinydl._native is not built")
    previous = tinydl.get_backend()
    tinydl.set_backend(name)
    try:
        yield name
    finally:
        tinydl.set_backend(previous)


# ----------------------------------------------------------------------------- CI: no silent skips

# CI installs every optional dependency (h5py, matplotlib, torch, TensorFlow/Keras) and builds
# the extension, so there a test skipped for lack of one of them proves nothing: it fails.
# Skips a user's machine can legitimately produce (a CPU without AVX-512, no shared data set
# beside the repository) still skip, with their reason in the summary (-ra).
MISSING_IN_CI = ("could not import", "native extension", "extension is not built")


def _strict_skips() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes") \
        or os.environ.get("TINYDL_STRICT_SKIPS") == "1"


def _fail_if_missing_in_ci(report) -> None:
    if not (report.skipped and _strict_skips()):
        return
    reason = str(report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr)
    if any(text in reason for text in MISSING_IN_CI):
        report.outcome = "failed"
        report.longrepr = (f"skipped in CI, where every optional dependency is installed and the "
                           f"extension is built: {reason}")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A test (or its fixture) that skipped for a missing dependency."""
    outcome = yield
    _fail_if_missing_in_ci(outcome.get_result())


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector):
    """A whole module that skipped at import (a module-level pytest.importorskip)."""
    outcome = yield
    _fail_if_missing_in_ci(outcome.get_result())
