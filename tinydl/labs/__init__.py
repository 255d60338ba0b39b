"""Course labs: six self-contained assignments, their reference solutions and their autograder.

Each lab is a folder of this package (`lab1_autograd/`, ...) holding `lab.json` (title, hours,
the student's files, the tasks and their points), `handout.md`, `starter/` (stubs that raise
NotImplementedError("Lab N, task K: ...")), `solution/` (the reference solution) and `tests/`
(pytest files, each test marked with its task, e.g. `@pytest.mark.task1_2`).

    python -m tinydl.labs list                 # the labs
    python -m tinydl.labs start 1 my_lab1      # copy the handout, starter and tests into my_lab1
    python -m tinydl.labs check 1 my_lab1      # grade it: a table of tasks, points, first failure

Example:
    >>> from tinydl import labs
    >>> [lab.number for lab in labs.all_labs()]
    [1, 2, 3, 4, 5, 6]
    >>> labs.get_lab(1).tasks[0].marker
    'task1_1'
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

LABS_DIR = Path(__file__).resolve().parent
# What `start` copies beside the student's files (never the solution).
STUDENT_EXTRAS = ("handout.md", "lab.json")


@dataclass(frozen=True)
class Task:
    """One numbered task of a lab: its pytest marker, title and points.

    Example:
        >>> task = Task(lab=1, number=2, title="Elementwise backward rules", points=15)
        >>> task.marker, task.label
        ('task1_2', '1.2')
    """

    lab: int
    number: int
    title: str
    points: int

    @property
    def marker(self) -> str:
        """The pytest marker of this task's tests, e.g. 'task1_2'."""
        return f"task{self.lab}_{self.number}"

    @property
    def label(self) -> str:
        """The task's number as the handout writes it, e.g. '1.2'."""
        return f"{self.lab}.{self.number}"


@dataclass(frozen=True)
class Lab:
    """A lab as `lab.json` describes it, with the folders it lives in.

    Attributes:
        number: 1..6.
        title: one line.
        hours: the time a student needs, as the handout estimates it.
        files: the files the student edits (they are in starter/ and solution/).
        tasks: the numbered tasks, in order.
        path: the lab's folder inside the package.

    Example:
        >>> lab = get_lab(2)
        >>> lab.files
        ('mylayers.py',)
        >>> lab.max_points == sum(task.points for task in lab.tasks)
        True
    """

    number: int
    title: str
    hours: float
    files: tuple
    tasks: tuple
    path: Path

    @property
    def max_points(self) -> int:
        """The points of all tasks together."""
        return sum(task.points for task in self.tasks)

    @property
    def starter(self) -> Path:
        return self.path / "starter"

    @property
    def solution(self) -> Path:
        return self.path / "solution"

    @property
    def tests(self) -> Path:
        return self.path / "tests"

    def task(self, key: str) -> Task:
        """A task by marker ('task1_2') or label ('1.2').

        Raises:
            ValueError: no such task (the message lists this lab's tasks).
        """
        for task in self.tasks:
            if key in (task.marker, task.label):
                return task
        raise ValueError(f"lab {self.number} has no task {key!r}; its tasks are "
                         f"{[t.label for t in self.tasks]}. Received: {key!r}")


def _load(path: Path) -> Lab:
    meta = json.loads((path / "lab.json").read_text(encoding="utf-8"))
    number = int(meta["number"])
    tasks = tuple(Task(number, i, t["title"], int(t["points"]))
                  for i, t in enumerate(meta["tasks"], start=1))
    return Lab(number, meta["title"], float(meta["hours"]), tuple(meta["files"]), tasks, path)


def all_labs() -> list[Lab]:
    """Every lab shipped with tinydl, in order.

    Example:
        >>> len(all_labs())
        6
    """
    labs = [_load(p) for p in sorted(LABS_DIR.iterdir()) if (p / "lab.json").is_file()]
    return sorted(labs, key=lambda lab: lab.number)


def get_lab(number) -> Lab:
    """The lab of this number.

    Raises:
        ValueError: there is no such lab (the message lists the labs).

    Example:
        >>> get_lab(5).title
        'Performance in C: a GEMM from three loops to a SIMD micro-kernel'
    """
    labs = all_labs()
    for lab in labs:
        if str(lab.number) == str(number):
            return lab
    raise ValueError(f"there is no lab {number!r}; the labs are {[lab.number for lab in labs]}. "
                     f"Received: {number!r}")


def start(number, directory, install: str | None = None) -> Path:
    """Copy lab `number`'s handout, starter files and tests into `directory` (created).

    Also writes the GitHub Classroom autograding set-up (.github/classroom/autograding.json
    and .github/workflows/classroom.yml), so the folder can be a template repository as is;
    `install` is what the Classroom runner pip-installs (default: classroom.DEFAULT_INSTALL).

    Raises:
        FileExistsError: `directory` already holds one of the student's files (nothing is
            overwritten: a student's work is never lost).

    Example:
        >>> import tempfile, pathlib
        >>> folder = start(1, pathlib.Path(tempfile.mkdtemp()) / "lab1")
        >>> sorted(p.name for p in folder.iterdir())[:4]
        ['.github', 'engine.py', 'handout.md', 'lab.json']
    """
    from tinydl.labs import classroom

    lab = get_lab(number)
    directory = Path(directory)
    taken = [name for name in lab.files + STUDENT_EXTRAS + ("tests",) if (directory / name).exists()]
    if taken:
        raise FileExistsError(f"{directory} already has {taken}; start lab {lab.number} in a new "
                              f"folder (nothing was copied, nothing was overwritten)")
    directory.mkdir(parents=True, exist_ok=True)
    for name in lab.files:
        shutil.copy2(lab.starter / name, directory / name)
    for name in STUDENT_EXTRAS:
        shutil.copy2(lab.path / name, directory / name)
    shutil.copytree(lab.tests, directory / "tests",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    classroom.write_config(lab, directory, install=install or classroom.DEFAULT_INSTALL)
    return directory


__all__ = ["Lab", "Task", "all_labs", "get_lab", "start"]
