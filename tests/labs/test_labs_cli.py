"""The labs' command line: list, start (a student's folder, GitHub Classroom files), check, autograder."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from tinydl import labs
from tinydl.labs.__main__ import main


def run_cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "tinydl.labs", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=300)


def test_list_names_every_lab_and_task(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    for lab in labs.all_labs():
        assert f"Lab {lab.number}: {lab.title}" in out
        assert all(f"{task.label:<5}{task.title}" in out for task in lab.tasks)


def test_start_copies_handout_starter_tests_and_classroom_files(tmp_path):
    folder = labs.start(2, tmp_path / "lab2")
    lab = labs.get_lab(2)
    for name in lab.files:
        assert (folder / name).read_text() == (lab.starter / name).read_text()
    assert (folder / "handout.md").read_text() == (lab.path / "handout.md").read_text()
    assert sorted(p.name for p in (folder / "tests").iterdir()) == sorted(
        p.name for p in lab.tests.iterdir() if p.name != "__pycache__")
    assert (folder / ".github" / "classroom" / "autograding.json").is_file()
    assert (folder / ".github" / "workflows" / "classroom.yml").is_file()


def test_start_never_overwrites_a_students_work(tmp_path):
    folder = labs.start(1, tmp_path / "lab1")
    (folder / "rules.py").write_text("# my work\n")
    with pytest.raises(FileExistsError, match="nothing was overwritten"):
        labs.start(1, folder)
    assert (folder / "rules.py").read_text() == "# my work\n"


def test_a_fresh_folder_fails_check_and_the_solution_passes(tmp_path):
    folder = tmp_path / "my lab1"                      # a space in the path, as on many laptops
    assert run_cli("start", 1, folder).returncode == 0
    made = sorted(p.relative_to(folder) for p in folder.rglob("*"))
    fresh = run_cli("check", 1, folder, "--task", "1.1")
    assert fresh.returncode == 1 and "0/10" in fresh.stdout and "NotImplementedError" in fresh.stdout
    assert sorted(p.relative_to(folder) for p in folder.rglob("*")) == made, "grading left files behind"
    shutil.copy(labs.get_lab(1).solution / "rules.py", folder / "rules.py")
    done = run_cli("check", 1, folder, "--task", "1.1", "--task", "1.2")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "total 25/25" in done.stdout and "every task passes" in done.stdout


def test_students_run_one_task_with_pytest_inside_their_folder(tmp_path):
    folder = labs.start(1, tmp_path / "lab1")
    env = {k: v for k, v in os.environ.items() if k != "TINYDL_LAB_DIR"}
    command = [sys.executable, "-m", "pytest", "tests", "-m", "task1_1", "-q"]
    before = subprocess.run(command, cwd=folder, env=env, capture_output=True, text=True, timeout=300)
    assert before.returncode == 1 and "Lab 1, task 1" in before.stdout
    shutil.copy(labs.get_lab(1).solution / "rules.py", folder / "rules.py")
    after = subprocess.run(command, cwd=folder, env=env, capture_output=True, text=True, timeout=300)
    assert after.returncode == 0 and "6 passed" in after.stdout and "warning" not in after.stdout.lower()


def test_check_gives_usage_errors_for_bad_calls(tmp_path):
    assert run_cli("check", 1).returncode == 2                                   # no folder
    assert run_cli("check", 1, tmp_path, "--solution").returncode == 2           # both
    missing = run_cli("check", 1, tmp_path / "nowhere")
    assert missing.returncode == 2 and "start 1" in missing.stderr
    unknown = run_cli("check", 9, "--solution")
    assert unknown.returncode == 2 and "there is no lab" in unknown.stderr
    bad_task = run_cli("check", 1, "--solution", "--task", "1.9")
    assert bad_task.returncode == 2 and "1.6" in bad_task.stderr


def test_check_of_the_solution_writes_no_file_into_the_package(tmp_path):
    lab = labs.get_lab(4)
    before = sorted(p.name for p in lab.solution.iterdir())
    done = run_cli("check", 4, "--solution", "--task", "4.1", "--format", "gradescope", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert (tmp_path / "results.json").is_file()
    assert sorted(p.name for p in lab.solution.iterdir()) == before


def test_autograder_writes_gradescopes_executable_scripts(tmp_path, capsys):
    assert main(["autograder", "3", str(tmp_path / "gs"), "--install", "git+https://example.org/tinydl"]) == 0
    run = (tmp_path / "gs" / "run_autograder").read_text()
    setup = (tmp_path / "gs" / "setup.sh").read_text()
    assert run.startswith("#!/usr/bin/env bash") and os.access(tmp_path / "gs" / "run_autograder", os.X_OK)
    assert "check 3 /autograder/submission" in run and "/autograder/results/results.json" in run
    assert "pip install --quiet git+https://example.org/tinydl" in setup


def test_classroom_config_has_one_test_per_task_in_classrooms_format(tmp_path):
    for lab in labs.all_labs():
        folder = labs.start(lab.number, tmp_path / str(lab.number), install="git+https://example.org/t")
        config = json.loads((folder / ".github" / "classroom" / "autograding.json").read_text())
        tests = config["tests"]
        assert len(tests) == len(lab.tasks)
        for test, task in zip(tests, lab.tasks):
            assert set(test) == {"name", "setup", "run", "input", "output", "comparison", "timeout", "points"}
            assert test["comparison"] in ("included", "exact", "regex")
            assert isinstance(test["timeout"], int) and 0 < test["timeout"] <= 360     # minutes
            assert test["points"] == task.points and test["run"].endswith(f"--task {task.label}")
        assert tests[0]["setup"] == "python -m pip install --quiet git+https://example.org/t"
        workflow = (folder / ".github" / "workflows" / "classroom.yml").read_text()
        assert workflow.count("uses: classroom-resources/autograding-command-grader@v1") == len(lab.tasks)
        assert f"runners: {','.join(f'task{lab.number}-{t.number}' for t in lab.tasks)}" in workflow
        assert "\t" not in workflow
