"""Shared test setup: the hypothesis profile for CI and the `backend` fixture that runs a test on each backend."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

import tinydl

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
