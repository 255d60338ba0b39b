"""Running scripts as MPI ranks: `run_ranks(script, *args)` starts them under mpirun, 1 thread each.

Each launch has a timeout and is killed with its whole process group when it expires, so a
test that would hang fails instead. Tests skip with the reason when mpirun or mpi4py is
missing; CI installs both (see .ci/run), and there a missing one fails the test.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

from tinydl.distributed import launch

from mpi_launching import RANK_OUTPUT, SCRIPTS, TIMEOUT, _missing, run  # noqa: E402,F401


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
        outputs = Path(tempfile.mkdtemp(prefix="rank-output-"))
        command = launch.mpirun_command(ranks, mpi_available) + [
            sys.executable, str(RANK_OUTPUT), str(outputs), *program, *map(str, args)]
        try:
            done = run(command, env, cwd, timeout, outputs)
        finally:
            shutil.rmtree(outputs, ignore_errors=True)
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

