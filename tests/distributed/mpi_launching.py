"""Launching MPI ranks for the distributed tests: the scripts folder, a launch with a timeout
that kills the whole process group, and the skip (a failure in CI) when MPI is missing.

Imported by name (`from mpi_launching import run`): pyproject puts tests/ on sys.path, and the
test modules' own folder is on it too.
"""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import pytest

SCRIPTS = Path(__file__).parent / "scripts"
RANK_OUTPUT = Path(__file__).parent / "rank_output.py"  # runs a script with its stdout in a file
TIMEOUT = 180  # seconds for one launch: a start-up is ~2 s, the longest script ~20 s here


def _strict() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes") \
        or os.environ.get("TINYDL_STRICT_SKIPS") == "1"


def _missing(reason: str) -> None:
    if _strict():
        pytest.fail(f"{reason}; CI installs Open MPI and mpi4py, so this must not be missing there")
    pytest.skip(reason)


def run(command: list, env: dict, cwd, timeout: float,
        rank_outputs: Path | None = None) -> subprocess.CompletedProcess:
    """command's result; on timeout the launcher and all its ranks are killed and the test fails.

    rank_outputs: the folder that rank_output.py writes each rank's stdout to; the result's
    stdout is then mpirun's own followed by each rank's, whole, in rank order.
    """
    process = subprocess.Popen(command, env=env, cwd=cwd, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        out, err = process.communicate()
        out += _ranks_stdout(rank_outputs)
        pytest.fail(f"{' '.join(command)} did not finish in {timeout} s (a hang?)\n"
                    f"stdout:\n{out[-3000:]}\nstderr:\n{err[-3000:]}")
    return subprocess.CompletedProcess(command, process.returncode,
                                       out + _ranks_stdout(rank_outputs), err)


def _ranks_stdout(folder: Path | None) -> str:
    if folder is None:
        return ""
    files = sorted(folder.glob("rank-*.out"), key=lambda f: int(f.stem.split("-")[1]))
    return "".join(f.read_text(errors="replace") for f in files)
