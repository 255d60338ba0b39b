"""Running scripts as MPI ranks: `run_ranks(script, *args)` starts them under mpirun, 1 thread each.

Each launch has a timeout and is killed with its whole process group when it expires, so a
test that would hang fails instead. Tests skip with the reason when mpirun or mpi4py is
missing; CI installs both (see .ci/run), and there a missing one fails the test.
"""

from __future__ import annotations

import importlib.util
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tinydl.distributed import launch

SCRIPTS = Path(__file__).parent / "scripts"
TIMEOUT = 180  # seconds for one launch: a start-up is ~2 s, the longest script ~20 s here


def _strict() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes") \
        or os.environ.get("TINYDL_STRICT_SKIPS") == "1"


def _missing(reason: str) -> None:
    if _strict():
        pytest.fail(f"{reason}; CI installs Open MPI and mpi4py, so this must not be missing there")
    pytest.skip(reason)


def run(command: list, env: dict, cwd, timeout: float) -> subprocess.CompletedProcess:
    """command's result; on timeout the launcher and all its ranks are killed and the test fails."""
    process = subprocess.Popen(command, env=env, cwd=cwd, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        out, err = process.communicate()
        pytest.fail(f"{' '.join(command)} did not finish in {timeout} s (a hang?)\n"
                    f"stdout:\n{out[-3000:]}\nstderr:\n{err[-3000:]}")
    return subprocess.CompletedProcess(command, process.returncode, out, err)


@pytest.fixture(scope="session")
def mpi_available() -> str:
    """The mpirun path; skips (fails in CI) without mpirun or mpi4py."""
    mpirun = launch.find_mpirun()
    if mpirun is None:
        _missing("mpirun is not installed (Debian/Ubuntu: apt-get install openmpi-bin "
                 "libopenmpi-dev)")
    if importlib.util.find_spec("mpi4py") is None:
        _missing('mpi4py is not installed (pip install "tinydl[mpi]")')
    return mpirun


@pytest.fixture(scope="session")
def launcher(mpi_available):
    """launcher(script, *args, cwd, ranks=2, threads='1', expect_ok=True) -> CompletedProcess.

    script is a file name in tests/distributed/scripts, or a list (the arguments after
    `python`); each rank gets OMP_NUM_THREADS=threads (None: unset) and runs in cwd.
    """
    def start(script, *args, cwd, ranks: int = 2, threads: str | None = "1",
              expect_ok: bool = True, timeout: float = TIMEOUT):
        program = script if isinstance(script, list) else [str(SCRIPTS / script)]
        env = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}
        if threads is not None:
            env["OMP_NUM_THREADS"] = threads
        env["PYTHONUNBUFFERED"] = "1"
        command = launch.mpirun_command(ranks, mpi_available) + [sys.executable, *program,
                                                                 *map(str, args)]
        done = run(command, env, cwd, timeout)
        if expect_ok and done.returncode != 0:
            pytest.fail(f"{' '.join(command)} exited with {done.returncode}\nstdout:\n"
                        f"{done.stdout[-4000:]}\nstderr:\n{done.stderr[-4000:]}")
        return done
    return start


@pytest.fixture
def run_ranks(launcher, tmp_path):
    """launcher, run in tmp_path."""
    def start(script, *args, **kwargs):
        return launcher(script, *args, cwd=tmp_path, **kwargs)
    return start

