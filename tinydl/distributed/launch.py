"""Starting ranks on this machine: the mpirun command line that works here, and relaunching.

Open MPI needs a few flags on a single machine, chosen here so that the demo, the tests and
the benchmark start the same way everywhere (docs/distributed.md explains each):

    mpirun -n N --oversubscribe --bind-to none --mca mpi_yield_when_idle 1
           --mca btl self,vader [--allow-run-as-root] ...

--oversubscribe: more ranks than cores is allowed (a laptop, CI). --bind-to none: a rank's
threads may use every core (tinydl gives each rank cores / local ranks threads); then
mpi_yield_when_idle 1, or a rank spinning in a collective can keep the rank it waits for off
a shared core (measured on a busy 2-core machine: a 640 KB allreduce took 30 ms instead of
0.1 ms, one run in two). --mca btl self,vader (self,sm on Open MPI 5): ranks on one machine
talk through shared memory, never through TCP, which loopback-only machines and containers do
not always route. --allow-run-as-root: only when running as root (containers).
MPICH's mpiexec needs none of them.
Extra arguments can be added with the environment variable TINYDL_MPIRUN_ARGS.
"""

from __future__ import annotations

import functools
import os
import re
import shlex
import shutil
import subprocess
import sys

# Set by the launchers for each rank: Open MPI, MPICH / Intel MPI (Hydra, PMI), Slurm's srun.
RANK_COUNT_VARIABLES = ("OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "SLURM_STEP_NUM_TASKS")
RELAUNCHED = "TINYDL_DISTRIBUTED_RELAUNCHED"
MISSING = ("mpirun was not found on PATH: install an MPI library from your system's packages, "
           "e.g. Open MPI: sudo apt-get install openmpi-bin libopenmpi-dev (Debian, Ubuntu), "
           "brew install open-mpi (macOS); and pip install \"tinydl[mpi]\". See docs/distributed.md")


def launched_ranks() -> int:
    """How many ranks the MPI launcher that started this process started (1 when none did).

    Returns:
        The first of OMPI_COMM_WORLD_SIZE, PMI_SIZE, SLURM_STEP_NUM_TASKS that is a number,
        else 1.

    Example:
        >>> import os
        >>> saved = {name: os.environ.pop(name, None) for name in RANK_COUNT_VARIABLES}
        >>> launched_ranks()
        1
        >>> os.environ["PMI_SIZE"] = "4"                       # as MPICH's launcher sets it
        >>> launched_ranks(), launched_by_mpi()
        (4, True)
        >>> for name, value in saved.items():
        ...     _ = os.environ.pop(name, None) if value is None else os.environ.update({name: value})
    """
    for name in RANK_COUNT_VARIABLES:
        value = os.environ.get(name, "")
        if value.isdigit():
            return int(value)
    return 1


def launched_by_mpi() -> bool:
    """Whether an MPI launcher (mpirun, mpiexec, srun) started this process.

    Returns:
        True when a launcher's rank-count variable is set, or tinydl relaunched itself.

    Example:
        >>> import os
        >>> saved = {name: os.environ.pop(name, None) for name in RANK_COUNT_VARIABLES + (RELAUNCHED,)}
        >>> launched_by_mpi()
        False
        >>> os.environ[RELAUNCHED] = "1"
        >>> launched_by_mpi()
        True
        >>> for name, value in saved.items():
        ...     _ = os.environ.pop(name, None) if value is None else os.environ.update({name: value})
    """
    return any(os.environ.get(name, "").isdigit() for name in RANK_COUNT_VARIABLES) \
        or bool(os.environ.get(RELAUNCHED))


def find_mpirun() -> str | None:
    """The path of mpirun (or mpiexec), or None.

    Returns:
        The first of mpirun, mpiexec found on PATH, or None.

    Example:
        >>> import os
        >>> found = find_mpirun()
        >>> found is None or os.path.basename(found) in ("mpirun", "mpiexec")
        True
    """
    return shutil.which("mpirun") or shutil.which("mpiexec")


@functools.lru_cache(maxsize=4)
def open_mpi_version(mpirun: str) -> tuple | None:
    """(major, minor) when mpirun is Open MPI's, else None."""
    try:
        text = subprocess.run([mpirun, "--version"], capture_output=True, text=True,
                              timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    found = re.search(r"Open MPI\)?\s+(\d+)\.(\d+)", text)
    return (int(found.group(1)), int(found.group(2))) if found else None


def mpirun_command(ranks: int, mpirun: str | None = None) -> list:
    r"""The command that starts `ranks` processes on this machine: append the program to it.

    Raises:
        FileNotFoundError: no mpirun (the message says what to install).
        ValueError: ranks is not a positive int.

    Args:
        ranks: how many processes to start.
        mpirun: the launcher's path; find_mpirun() when None.

    Returns:
        The command as a list: [mpirun, '-n', ranks, Open MPI's options..., TINYDL_MPIRUN_ARGS].

    Example:
        >>> import os, tempfile
        >>> fake = os.path.join(tempfile.mkdtemp(), "mpirun")      # not Open MPI: no extra options
        >>> _ = open(fake, "w").write("#!/bin/sh\necho 'HYDRA build details'\n")
        >>> os.chmod(fake, 0o755)
        >>> saved = os.environ.pop("TINYDL_MPIRUN_ARGS", None)
        >>> mpirun_command(3, fake)[1:]
        ['-n', '3']
        >>> mpirun_command(0, fake)
        Traceback (most recent call last):
        ...
        ValueError: ranks must be a positive int. Received: ranks=0
        >>> _ = saved is None or os.environ.update(TINYDL_MPIRUN_ARGS=saved)
    """
    if isinstance(ranks, bool) or not isinstance(ranks, int) or ranks < 1:
        raise ValueError(f"ranks must be a positive int. Received: ranks={ranks!r}")
    mpirun = mpirun or find_mpirun()
    if mpirun is None:
        raise FileNotFoundError(MISSING)
    command = [mpirun, "-n", str(ranks)]
    version = open_mpi_version(mpirun)
    if version is not None:
        command += ["--oversubscribe", "--bind-to", "none"]
        if version >= (5, 0):
            command += ["--mca", "btl", "self,sm"]
        else:
            command += ["--mca", "mpi_yield_when_idle", "1", "--mca", "btl", "self,vader"]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            command.append("--allow-run-as-root")
    return command + shlex.split(os.environ.get("TINYDL_MPIRUN_ARGS", ""))


def relaunch(argv: list, ranks: int) -> int:
    """Run `python <argv>` as `ranks` MPI ranks on this machine; the launcher's exit code.

    It prints the command first, and marks the ranks with TINYDL_DISTRIBUTED_RELAUNCHED so
    that they do not relaunch themselves.

    Args:
        argv: the arguments after `python`, e.g. ['-m', 'tinydl', '--distributed'].
        ranks: how many ranks.

    Returns:
        mpirun's exit code, or 1 (with a message on stderr) when there is no mpirun.

    Example:
        It starts processes, so it is not run here (tests/distributed/test_demo.py runs it):

        >>> relaunch(["-m", "tinydl", "--distributed"], 2)     # doctest: +SKIP
        tinydl: running mpirun -n 2 ... -m tinydl --distributed
        0
    """
    try:
        command = mpirun_command(ranks) + [sys.executable, *argv]
    except FileNotFoundError as error:
        print(f"tinydl: {error}", file=sys.stderr)
        return 1
    print("tinydl: running " + " ".join(shlex.quote(part) for part in command), flush=True)
    env = {**os.environ, RELAUNCHED: "1"}
    return subprocess.run(command, env=env).returncode
