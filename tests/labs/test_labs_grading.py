"""CI's proof for every lab: the untouched starter fails each task, the reference solution passes them all."""

from __future__ import annotations

import shutil

import pytest

from tinydl import labs

LAB_NUMBERS = [lab.number for lab in labs.all_labs()]


def needs_compiler(number):
    if number == 5 and not any(shutil.which(name) for name in ("cc", "gcc", "clang")):
        pytest.skip("lab 5 builds C: no C compiler on this machine")


def test_there_are_six_labs_with_numbered_tasks_worth_100_points():
    assert LAB_NUMBERS == [1, 2, 3, 4, 5, 6]
    for lab in labs.all_labs():
        assert lab.max_points == 100, lab.title
        assert len(lab.tasks) >= 5 and all(t.points > 0 for t in lab.tasks)


@pytest.mark.parametrize("number", LAB_NUMBERS)
def test_the_reference_solution_passes_every_task(graded, number):
    needs_compiler(number)
    grade = graded[(number, "solution")]
    failing = {r.task.label: r.explanation() for r in grade.results if not r.ok}
    assert grade.passed and not failing, failing
    assert grade.score == 100
    assert all(r.tests >= 1 and r.skipped == 0 for r in grade.results)


@pytest.mark.parametrize("number", LAB_NUMBERS)
def test_the_untouched_starter_fails_every_task_with_its_own_stub(graded, number):
    needs_compiler(number)
    grade = graded[(number, "starter")]
    assert grade.score == 0 and not grade.passed
    for result in grade.results:
        assert not result.ok and result.passed == 0, f"task {result.task.label} passes on the starter"
        assert "NotImplementedError: Lab " in result.message, result.explanation()


@pytest.mark.parametrize("number", LAB_NUMBERS)
def test_each_task_fails_first_on_a_stub_of_its_own_lab(graded, number):
    needs_compiler(number)
    for result in graded[(number, "starter")].results:
        assert f"Lab {number}, task " in result.message, result.explanation()


@pytest.mark.parametrize("number", LAB_NUMBERS)
def test_every_collected_test_belongs_to_exactly_one_task(graded, number):
    needs_compiler(number)
    assert graded[(number, "solution")].unmarked == []
