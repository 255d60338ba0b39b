"""The grader when a student's code misbehaves: a crash, an endless loop, a syntax error, a missing file."""

from __future__ import annotations

import shutil

import pytest

from tinydl import labs
from tinydl.labs import grader


def folder_with(tmp_path, number, **files):
    folder = labs.start(number, tmp_path / f"lab{number}")
    for name, text in files.items():
        (folder / name.replace("_py", ".py").replace("_c", ".c")).write_text(text)
    return folder


def test_a_segfault_costs_the_running_task_and_names_the_test(tmp_path):
    lab = labs.get_lab(1)
    crash = "import ctypes\n\ndef unbroadcast(grad, shape):\n    ctypes.string_at(0)\n"
    folder = folder_with(tmp_path, 1, rules_py=(lab.solution / "rules.py").read_text() + crash)
    shutil.copy(lab.solution / "engine.py", folder / "engine.py")
    grade = grader.grade(lab, folder, tasks=["1.1", "1.2"], timeout=120)
    first, second = grade.results
    assert not first.ok and "crashed with signal" in first.message
    assert "test_unbroadcast_sums_back_to_the_input_shape" in first.message
    assert not second.ok and ("not run" in second.message or second.passed < second.tests)


def test_an_endless_loop_is_stopped_by_the_timeout(tmp_path):
    lab = labs.get_lab(6)
    loop = "\n\ndef fit_slope(xs, ys):\n    while True:\n        pass\n"
    folder = folder_with(tmp_path, 6, myscale_py=(lab.solution / "myscale.py").read_text() + loop)
    grade = grader.grade(lab, folder, tasks=["6.4"], timeout=20)
    (result,) = grade.results
    assert not result.ok and "timed out after 20 s" in result.message
    assert "test_fit_slope_recovers_an_exact_power_law" in result.message


def test_a_syntax_error_fails_each_task_with_the_error(tmp_path):
    folder = folder_with(tmp_path, 4, myoptim_py="def broken(:\n")
    grade = grader.grade(labs.get_lab(4), folder, timeout=120)
    assert grade.score == 0
    assert all("SyntaxError" in r.message for r in grade.results), [r.message for r in grade.results]


def test_a_missing_file_is_named(tmp_path):
    folder = labs.start(2, tmp_path / "lab2")
    (folder / "mylayers.py").unlink()
    grade = grader.grade(labs.get_lab(2), folder, tasks=["2.1"], timeout=120)
    assert "has no mylayers.py" in grade.results[0].message


def test_a_c_file_that_does_not_compile_shows_the_compilers_error(tmp_path):
    if not any(shutil.which(cc) for cc in ("cc", "gcc", "clang")):
        pytest.skip("no C compiler on this machine")
    folder = folder_with(tmp_path, 5, gemm_c="int gemm_naive(int M) { return M +; }\n")
    grade = grader.grade(labs.get_lab(5), folder, tasks=["5.1"], timeout=120)
    assert "does not compile" in grade.results[0].message and "gemm.c" in grade.results[0].message


def test_a_folder_that_does_not_exist_is_refused():
    with pytest.raises(FileNotFoundError, match="start 3"):
        grader.grade(labs.get_lab(3), "/nonexistent/lab3")
