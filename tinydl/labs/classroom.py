"""Grading set-ups for hosted autograders: GitHub Classroom's files and Gradescope's autograder scripts.

GitHub Classroom reads `.github/classroom/autograding.json` (one test per task: a command
that passes or fails, and its points) and runs `.github/workflows/classroom.yml`; `start`
writes both into the student's folder, so a teacher can push it as the template repository.
Gradescope runs `setup.sh` once and `run_autograder` per submission; `autograder N DIR`
writes them, and run_autograder writes /autograder/results/results.json with the grader.

Example:
    >>> from tinydl.labs import get_lab
    >>> config = autograding_config(get_lab(1))
    >>> config["tests"][0]["run"]
    'python -m tinydl.labs check 1 . --task 1.1'
    >>> sum(test["points"] for test in config["tests"]) == get_lab(1).max_points
    True
"""

from __future__ import annotations

import json
import os
from pathlib import Path

# What the hosted runners pip-install. Replace it with where your course's tinydl comes from,
# e.g. "git+https://github.com/<you>/tinydl" (see docs/teachers.md).
DEFAULT_INSTALL = "tinydl"
TASK_TIMEOUT_MINUTES = 10


def _run(lab, task) -> str:
    return f"python -m tinydl.labs check {lab.number} . --task {task.label}"


def autograding_config(lab, install: str = DEFAULT_INSTALL) -> dict:
    """GitHub Classroom's autograding.json: one test per task, run by `check --task`.

    Each test passes when the grader exits 0 (comparison "included" of an empty expected
    output), for that task's points; the first test's setup installs tinydl.

    Example:
        >>> from tinydl.labs import get_lab
        >>> autograding_config(get_lab(2))["tests"][0]["setup"]
        'python -m pip install --quiet tinydl'
    """
    tests = []
    for i, task in enumerate(lab.tasks):
        tests.append({"name": f"Task {task.label}: {task.title}",
                      "setup": f"python -m pip install --quiet {install}" if i == 0 else "",
                      "run": _run(lab, task), "input": "", "output": "", "comparison": "included",
                      "timeout": TASK_TIMEOUT_MINUTES, "points": task.points})
    return {"tests": tests}


def _step_id(task) -> str:
    return f"task{task.lab}-{task.number}"


def classroom_workflow(lab, install: str = DEFAULT_INSTALL) -> str:
    """GitHub Classroom's workflow (.github/workflows/classroom.yml): one graded step per task.

    Example:
        >>> from tinydl.labs import get_lab
        >>> "command: python -m tinydl.labs check 1 . --task 1.2" in classroom_workflow(get_lab(1))
        True
    """
    steps = []
    for task in lab.tasks:
        steps.append(f"""    - name: "Task {task.label}"
      id: {_step_id(task)}
      uses: classroom-resources/autograding-command-grader@v1
      with:
        test-name: {json.dumps(f"Task {task.label}: {task.title}")}
        command: {_run(lab, task)}
        timeout: {TASK_TIMEOUT_MINUTES}
        max-score: {task.points}""")
    results = "\n".join(f"        {_step_id(t).upper()}_RESULTS: \"${{{{steps.{_step_id(t)}.outputs.result}}}}\""
                        for t in lab.tasks)
    runners = ",".join(_step_id(t) for t in lab.tasks)
    return f"""# GitHub Classroom autograding for tinydl lab {lab.number} (written by `python -m tinydl.labs start`)
name: Autograding Tests
'on':
- push
- repository_dispatch
permissions:
  checks: write
  actions: read
  contents: read
jobs:
  run-autograding-tests:
    runs-on: ubuntu-latest
    if: github.actor != 'github-classroom[bot]'
    steps:
    - name: Checkout code
      uses: actions/checkout@v4
    - name: Set up Python
      uses: actions/setup-python@v5
      with:
        python-version: '3.11'
    - name: Install tinydl
      run: python -m pip install --quiet {install}
{chr(10).join(steps)}
    - name: Autograding Reporter
      uses: classroom-resources/autograding-grading-reporter@v1
      env:
{results}
      with:
        runners: {runners}
"""


def write_config(lab, directory, install: str = DEFAULT_INSTALL) -> Path:
    """Write autograding.json and classroom.yml under directory/.github; return that folder.

    Example:
        >>> import tempfile
        >>> from tinydl.labs import get_lab
        >>> folder = write_config(get_lab(3), tempfile.mkdtemp())
        >>> sorted(p.name for p in folder.rglob("*") if p.is_file())
        ['autograding.json', 'classroom.yml']
    """
    github = Path(directory) / ".github"
    (github / "classroom").mkdir(parents=True, exist_ok=True)
    (github / "workflows").mkdir(parents=True, exist_ok=True)
    (github / "classroom" / "autograding.json").write_text(
        json.dumps(autograding_config(lab, install), indent=2) + "\n", encoding="utf-8")
    (github / "workflows" / "classroom.yml").write_text(classroom_workflow(lab, install), encoding="utf-8")
    return github


def write_gradescope_autograder(lab, directory, install: str = DEFAULT_INSTALL) -> Path:
    """Write Gradescope's setup.sh and run_autograder into directory; zip its files to upload.

    Example:
        >>> import tempfile
        >>> from tinydl.labs import get_lab
        >>> folder = write_gradescope_autograder(get_lab(1), tempfile.mkdtemp())
        >>> sorted(p.name for p in folder.iterdir())
        ['run_autograder', 'setup.sh']
    """
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "setup.sh").write_text(f"""#!/usr/bin/env bash
# Gradescope runs this once, when it builds the autograder image (Ubuntu).
set -euo pipefail
apt-get install -y python3 python3-pip python3-venv build-essential
python3 -m venv /opt/tinydl
/opt/tinydl/bin/python -m pip install --quiet {install}
""", encoding="utf-8")
    (folder / "run_autograder").write_text(f"""#!/usr/bin/env bash
# Gradescope runs this for every submission: grade /autograder/submission with tinydl's own
# (shipped) tests and write /autograder/results/results.json.
cd /autograder/submission
/opt/tinydl/bin/python -m tinydl.labs check {lab.number} /autograder/submission \\
    --format gradescope --output /autograder/results/results.json || true
""", encoding="utf-8")
    for name in ("setup.sh", "run_autograder"):
        os.chmod(folder / name, 0o755)
    return folder


__all__ = ["autograding_config", "classroom_workflow", "write_config", "write_gradescope_autograder",
           "DEFAULT_INSTALL"]
