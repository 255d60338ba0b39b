"""A pytest plugin for the grader: one JSON line per test (its task, outcome, first error line).

The grader runs `python -m pytest -p tinydl.labs._report` with TINYDL_LAB_REPORT naming the
file to append to. A line is written when each test starts and when it ends, so the grader
still knows which test was running if the process crashes (a segfault in a student's C code)
or runs out of time.
"""

from __future__ import annotations

import json
import os
import re

import pytest

REPORT_VARIABLE = "TINYDL_LAB_REPORT"
MESSAGE_LIMIT = 600
_TASK = re.compile(r"^task\d+_\d+$")


def _write(record: dict) -> None:
    path = os.environ.get(REPORT_VARIABLE)
    if path:
        with open(path, "a", encoding="utf-8") as f:
            f.write(json.dumps(record) + "\n")
            f.flush()


def _first_line(report) -> str:
    """The exception's own line ('AssertionError: ...'), or the skip reason."""
    if report.skipped and isinstance(report.longrepr, tuple):
        return str(report.longrepr[2])
    crash = getattr(report.longrepr, "reprcrash", None)
    text = crash.message if crash is not None else str(report.longrepr)
    text = " ".join(text.split())
    return text if len(text) <= MESSAGE_LIMIT else text[:MESSAGE_LIMIT] + " ..."


@pytest.hookimpl(tryfirst=True)         # before -m deselects: every collected test is recorded
def pytest_collection_modifyitems(items):
    for item in items:
        tasks = sorted(m.name for m in item.iter_markers() if _TASK.match(m.name))
        _write({"event": "collected", "test": item.nodeid, "name": item.name, "tasks": tasks})


def pytest_collectreport(report):
    if report.failed:
        _write({"event": "collect_error", "test": report.nodeid, "message": _first_line(report)})


def pytest_runtest_logstart(nodeid, location):
    _write({"event": "start", "test": nodeid})


def pytest_runtest_logreport(report):
    if report.when == "call" or report.outcome != "passed":
        if report.when == "teardown" and report.outcome == "passed":
            return
        _write({"event": "result", "test": report.nodeid, "when": report.when,
                "outcome": report.outcome, "message": "" if report.passed else _first_line(report),
                "seconds": round(report.duration, 3)})
