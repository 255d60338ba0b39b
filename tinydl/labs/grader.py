"""The autograder: run a lab's tests against a folder, score each task, report as a table or for Gradescope.

A task scores its points when every one of its tests passes, and 0 otherwise. The tests run
in a child process (`python -m pytest` on the tests shipped in the package, never on the
student's copy), so a crash or an endless loop in a student's code costs that task, not the
grader: the tests that ran keep their results, the one that was running is named.

Example:
    >>> from tinydl.labs import get_lab, grader
    >>> lab = get_lab(1)
    >>> grade = grader.grade(lab, lab.solution, tasks=["1.1"])
    >>> grade.score, grade.max_score, grade.passed
    (10, 10, True)
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from dataclasses import dataclass, field
from pathlib import Path

from tinydl.labs import Lab, Task
from tinydl.labs._report import REPORT_VARIABLE
from tinydl.labs.testing import LAB_DIR_VARIABLE

DEFAULT_TIMEOUT = 900.0  # seconds for one lab's whole run; a student's laptop may be slow


@dataclass
class TaskResult:
    """How one task did: its tests' count, how many passed, the first failure's message.

    Example:
        >>> from tinydl.labs import Task
        >>> result = TaskResult(Task(1, 1, "Unbroadcast", 10), tests=3, passed=3)
        >>> result.score, result.status
        (10, 'passed')
    """

    task: Task
    tests: int = 0
    passed: int = 0
    skipped: int = 0
    message: str = ""
    failed_test: str = ""
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """Every test that ran passed, and at least one ran."""
        return self.tests > self.skipped and self.passed == self.tests - self.skipped and not self.message

    @property
    def score(self) -> int:
        return self.task.points if self.ok else 0

    @property
    def status(self) -> str:
        return "passed" if self.ok else "failed"

    def explanation(self) -> str:
        """What a student reads: the first failure, or what passed."""
        if self.ok:
            return f"all {self.tests - self.skipped} tests passed"
        if self.message:
            where = f"{self.failed_test}: " if self.failed_test else ""
            return f"{where}{self.message}"
        if self.tests and self.skipped == self.tests:
            return "all of this task's tests were skipped, so nothing was checked"
        return "no test of this task ran"


@dataclass
class Grade:
    """The result of grading one folder: a TaskResult per task, in order.

    Example:
        >>> from tinydl.labs import get_lab
        >>> grade = Grade(get_lab(1), Path("."), [])
        >>> grade.score, grade.passed
        (0, False)
    """

    lab: Lab
    directory: Path
    results: list = field(default_factory=list)
    seconds: float = 0.0
    log: str = ""
    unmarked: list = field(default_factory=list)   # tests without exactly one task marker

    @property
    def score(self) -> int:
        return sum(r.score for r in self.results)

    @property
    def max_score(self) -> int:
        return sum(r.task.points for r in self.results)

    @property
    def passed(self) -> bool:
        return bool(self.results) and all(r.ok for r in self.results) and not self.unmarked


# ----------------------------------------------------------------------------- running the tests

def _child_env(directory: Path, report: Path) -> dict:
    env = dict(os.environ)
    env[LAB_DIR_VARIABLE] = str(directory)
    env[REPORT_VARIABLE] = str(report)
    env["PYTHONDONTWRITEBYTECODE"] = "1"          # keep the package and the folder clean
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"    # only our plugin: the same grading everywhere
    # One BLAS thread unless asked otherwise: graded runs are reproducible and a loaded
    # machine is not slowed to a crawl by oversubscribed OpenBLAS threads.
    for name in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env.setdefault(name, "1")
    return env


def _run_pytest(lab: Lab, directory: Path, tasks: list, timeout: float) -> tuple:
    """Run the tests; return (records, exit status text, captured output)."""
    with tempfile.TemporaryDirectory(prefix="tinydl-grade-") as tmp:
        report = Path(tmp) / "report.jsonl"
        report.touch()
        command = [sys.executable, "-m", "pytest", str(lab.tests), "-p", "tinydl.labs._report",
                   "-p", "no:cacheprovider", "-q", "--no-header", "-rN", "--tb=short",
                   "-m", " or ".join(t.marker for t in tasks)]
        try:
            done = subprocess.run(command, cwd=directory, env=_child_env(directory, report),
                                  capture_output=True, text=True, timeout=timeout)
            status, output = _exit_status(done.returncode), done.stdout + done.stderr
        except subprocess.TimeoutExpired as stopped:
            status = f"timed out after {timeout:.0f} s"
            output = _text(stopped.stdout) + _text(stopped.stderr)
        records = [json.loads(line) for line in report.read_text(encoding="utf-8").splitlines()
                   if line.strip()]
    return records, status, output


def _text(data) -> str:
    return data.decode(errors="replace") if isinstance(data, bytes) else (data or "")


def _exit_status(code: int) -> str:
    """'' for pytest's normal endings (0 all passed, 1 some failed), else what happened."""
    if code in (0, 1):
        return ""
    if code < 0:
        try:
            return f"crashed with signal {signal.Signals(-code).name}"
        except ValueError:
            return f"crashed with signal {-code}"
    meaning = {2: "was interrupted", 3: "hit an internal error", 4: "was called wrongly",
               5: "collected no tests"}
    return f"pytest {meaning.get(code, 'stopped')} (exit code {code})"


def _results(tasks: list, records: list, status: str, output: str) -> list:
    by_marker = {t.marker: TaskResult(t) for t in tasks}
    task_of, started, finished = {}, [], set()
    for r in records:
        if r["event"] == "collected":
            task_of[r["test"]] = [m for m in r["tasks"] if m in by_marker]
            for m in task_of[r["test"]]:
                by_marker[m].tests += 1
        elif r["event"] == "start":
            started.append(r["test"])
        elif r["event"] == "result":
            finished.add(r["test"])
            _add_outcome(r, [by_marker[m] for m in task_of.get(r["test"], [])])
    running = [t for t in started if t not in finished]
    for result in by_marker.values():
        if not result.ok and not result.message and (status or result.tests == 0):
            result.message = _stopped_message(result, running, task_of, status, output)
    return [by_marker[t.marker] for t in tasks]


def _add_outcome(record: dict, results: list) -> None:
    name = record["test"].split("::")[-1]
    for result in results:
        result.seconds += record.get("seconds", 0.0)
        if record["outcome"] == "passed":
            result.passed += 1
        elif record["outcome"] == "skipped":
            result.skipped += 1
        elif not result.message:
            result.message, result.failed_test = record["message"], name


def _stopped_message(result, running, task_of, status, output) -> str:
    crashed = [t for t in running if result.task.marker in task_of.get(t, [])]
    if crashed:
        return f"the test process {status} while running {crashed[0].split('::')[-1]}"
    if status:
        tail = " | ".join(line for line in output.strip().splitlines()[-3:])
        return f"not run: the test process {status}. Last output: {tail}"
    return "this task has no tests (the lab's tests may have failed to load)"


def grade(lab: Lab, directory, tasks=None, timeout: float = DEFAULT_TIMEOUT) -> Grade:
    """Run lab's tests (all, or the tasks named '1.2' / 'task1_2') against the files in directory.

    Raises:
        FileNotFoundError: directory does not exist.
        ValueError: a task name that the lab does not have.

    Example:
        >>> from tinydl.labs import get_lab
        >>> lab = get_lab(4)
        >>> result = grade(lab, lab.starter, tasks=["4.1"]).results[0]
        >>> result.score, result.message.startswith("NotImplementedError: Lab 4, task 1:")
        (0, True)
    """
    directory = Path(directory).resolve()
    if not directory.is_dir():
        raise FileNotFoundError(f"no folder {directory} to grade; make one with "
                                f"`python -m tinydl.labs start {lab.number} {directory}`")
    chosen = list(lab.tasks) if not tasks else [lab.task(str(t)) for t in tasks]
    began = time.perf_counter()
    records, status, output = _run_pytest(lab, directory, chosen, timeout)
    results = _results(chosen, records, status, output)
    unmarked = [r["test"] for r in records if r["event"] == "collected" and len(r["tasks"]) != 1]
    return Grade(lab, directory, results, time.perf_counter() - began, output, unmarked)


# ----------------------------------------------------------------------------- reports

def format_table(grade: Grade, width: int = 100) -> str:
    """The per-task table a student reads, with each failing task's first failure under it.

    Example:
        >>> from tinydl.labs import get_lab
        >>> lab = get_lab(1)
        >>> table = format_table(Grade(lab, Path("my_lab1"), [TaskResult(lab.tasks[0], 2, 2)]))
        >>> print(table.splitlines()[4])
        1.1   Unbroadcast a gradient to its input's shape          10/10    2/2    passed
    """
    lab = grade.lab
    lines = [f"Lab {lab.number}: {lab.title}", f"graded: {grade.directory}", "",
             f"{'task':<6}{'title':<50}{'points':>8}{'tests':>7}    status"]
    for r in grade.results:
        title = r.task.title if len(r.task.title) <= 48 else r.task.title[:45] + "..."
        ran = r.tests - r.skipped
        lines.append(f"{r.task.label:<6}{title:<50}{f'{r.score}/{r.task.points}':>8}"
                     f"{f'{r.passed}/{ran}':>7}    {r.status}")
        if not r.ok:
            lines += textwrap.wrap(r.explanation(), width, initial_indent="      ",
                                   subsequent_indent="        ")
    if grade.unmarked:
        lines += ["", f"error in the lab's tests: {len(grade.unmarked)} test(s) without exactly one task "
                      f"marker never count: {', '.join(grade.unmarked[:3])}"]
    todo = sum(not r.ok for r in grade.results)
    lines += ["", f"total {grade.score}/{grade.max_score}"
              + (f" in {grade.seconds:.1f} s" if grade.seconds else "")]
    if todo:
        first = next(r for r in grade.results if not r.ok)
        lines.append(f"{todo} of {len(grade.results)} tasks to go. One task's tests, with "
                     f"pytest's full report: cd into the lab folder and run "
                     f"`python -m pytest tests -m {first.task.marker}`")
    else:
        lines.append("every task passes")
    return "\n".join(lines)


def gradescope_results(grade: Grade) -> dict:
    """Gradescope's results.json: one test per task (name, score, max_score, status, output).

    The format is the one in Gradescope's autograder specification
    (https://gradescope-autograders.readthedocs.io/en/latest/specs/): a top-level score and
    execution_time, and a `tests` list.

    Example:
        >>> from tinydl.labs import get_lab
        >>> lab = get_lab(1)
        >>> results = gradescope_results(Grade(lab, Path("."), [TaskResult(lab.tasks[0], 1, 1)]))
        >>> results["score"], results["tests"][0]["max_score"], results["tests"][0]["status"]
        (10.0, 10.0, 'passed')
    """
    tests = [{"name": f"Task {r.task.label}: {r.task.title}", "number": r.task.label,
              "score": float(r.score), "max_score": float(r.task.points), "status": r.status,
              "output": r.explanation(), "visibility": "visible"} for r in grade.results]
    todo = sum(not r.ok for r in grade.results)
    summary = (f"Lab {grade.lab.number}: {grade.score}/{grade.max_score} points; "
               + (f"{todo} task(s) to go." if todo else "every task passes."))
    return {"score": float(grade.score), "execution_time": round(grade.seconds, 3),
            "output": summary, "visibility": "visible", "stdout_visibility": "hidden",
            "tests": tests}


def write_gradescope(grade: Grade, path) -> Path:
    """Write gradescope_results(grade) as JSON to path (atomically: a temporary file, then rename).

    Example:
        >>> import json, tempfile
        >>> from tinydl.labs import get_lab
        >>> path = write_gradescope(Grade(get_lab(1), Path(".")), Path(tempfile.mkdtemp()) / "results.json")
        >>> json.loads(path.read_text())["score"]
        0.0
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(gradescope_results(grade), indent=2) + "\n", encoding="utf-8")
    os.replace(partial, path)
    return path


__all__ = ["Grade", "TaskResult", "grade", "format_table", "gradescope_results",
           "write_gradescope", "DEFAULT_TIMEOUT"]
