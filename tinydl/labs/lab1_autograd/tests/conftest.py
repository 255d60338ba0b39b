"""Lab 1's tests get the student's rules.py and engine.py from the graded folder."""

from pathlib import Path

import pytest

from tinydl.labs.testing import register_task_markers, student_module

TESTS = Path(__file__).resolve().parent


def pytest_configure(config):
    register_task_markers(config, TESTS)


@pytest.fixture
def rules():
    return student_module("rules", TESTS)


@pytest.fixture
def engine():
    return student_module("engine", TESTS)
