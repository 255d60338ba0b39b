"""Shared set-up of the labs' tests: every lab's starter and solution graded once per session."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from tinydl import labs
from tinydl.labs import grader


@pytest.fixture(scope="session")
def graded() -> dict:
    """{(lab number, 'starter' | 'solution'): Grade}, graded two at a time (one per core)."""
    jobs = [(lab, kind) for lab in labs.all_labs() for kind in ("starter", "solution")]
    with ThreadPoolExecutor(max_workers=2) as pool:
        grades = pool.map(lambda job: grader.grade(job[0], getattr(job[0], job[1]), timeout=300), jobs)
        return {(lab.number, kind): grade for (lab, kind), grade in zip(jobs, grades)}
