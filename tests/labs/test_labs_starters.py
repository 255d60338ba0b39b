"""The shipped starters are exactly what their solutions make, and each stub names its lab and task."""

from __future__ import annotations

import ast
import json
import re

import pytest

from tinydl import labs
from tinydl.labs._starters import make_starter, starter_files

LABS = labs.all_labs()
IDS = [f"lab{lab.number}" for lab in LABS]


@pytest.mark.parametrize("lab", LABS, ids=IDS)
def test_shipped_starters_are_generated_from_the_solutions(lab):
    # After editing a solution: python -m tinydl.labs._starters
    for name, text in starter_files(lab).items():
        assert (lab.starter / name).read_text() == text, f"{lab.starter / name} is stale"
    assert sorted(p.name for p in lab.starter.iterdir() if p.is_file()) == sorted(lab.files)
    assert sorted(p.name for p in lab.solution.iterdir() if p.is_file()) == sorted(lab.files)


@pytest.mark.parametrize("lab", LABS, ids=IDS)
def test_every_stub_names_its_own_lab_and_an_existing_task(lab):
    stubs = 0
    for name in lab.files:
        for number, task in re.findall(r"Lab (\d+), task (\d+):", (lab.starter / name).read_text()):
            stubs += 1
            assert int(number) == lab.number and 1 <= int(task) <= len(lab.tasks), (name, task)
    tasks_with_stubs = {int(t) for name in lab.files
                        for t in re.findall(r"Lab \d+, task (\d+):", (lab.starter / name).read_text())}
    assert tasks_with_stubs == set(range(1, len(lab.tasks) + 1)), "every task has something to write"
    assert stubs >= len(lab.tasks)


@pytest.mark.parametrize("lab", LABS, ids=IDS)
def test_python_starters_parse_and_their_tests_mark_each_test_with_one_task(lab):
    for name in lab.files:
        if name.endswith(".py"):
            ast.parse((lab.starter / name).read_text(), name)
    markers = {t.marker for t in lab.tasks}
    for path in lab.tests.glob("test_*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
                found = [d.attr for d in node.decorator_list
                         if isinstance(d, ast.Attribute) and d.attr.startswith("task")]
                assert len(found) == 1 and found[0] in markers, f"{path.name}::{node.name}: {found}"


@pytest.mark.parametrize("lab", LABS, ids=IDS)
def test_lab_json_agrees_with_the_folder(lab):
    meta = json.loads((lab.path / "lab.json").read_text())
    assert meta["number"] == lab.number and lab.path.name.startswith(f"lab{lab.number}_")
    assert (lab.path / "handout.md").read_text().startswith(f"# Lab {lab.number}: {lab.title}")
    for task in lab.tasks:
        assert f"Task {task.label}" in (lab.path / "handout.md").read_text(), task.label


def test_make_starter_replaces_marked_blocks_in_python_and_c():
    python = "def f():\n    # BEGIN SOLUTION 2.3 add one\n    return 1\n    # END SOLUTION\n"
    starter = make_starter(python)
    assert starter.startswith("def f():\n    raise NotImplementedError('Lab 2, task 3: add one')\n")
    assert starter.endswith("# ruff: noqa: F401, F841\n")
    long = make_starter("def g():\n    # BEGIN SOLUTION 1.1 " + "word " * 40 + "\n    # END SOLUTION\n")
    assert max(len(line) for line in long.splitlines()) <= 120           # split over lines
    namespace = {}
    exec(long, namespace)
    with pytest.raises(NotImplementedError, match="^Lab 1, task 1: " + "word " * 39 + "word$"):
        namespace["g"]()
    c = "int f(void)\n{\n    // BEGIN SOLUTION 5.1 the loops\n    return 0;\n    // END SOLUTION\n}\n"
    stub = "    return TDL_NOT_IMPLEMENTED(1);  /* Lab 5, task 1: the loops */\n"
    assert make_starter(c, ".c") == "int f(void)\n{\n" + stub + "}\n"


@pytest.mark.parametrize("text, message", [("# BEGIN SOLUTION 1.1 a\n", "has no END"),
                                           ("# END SOLUTION\n", "without a BEGIN"),
                                           ("# BEGIN SOLUTION 1.1 a\n# BEGIN SOLUTION 1.2 b\n", "inside")])
def test_make_starter_rejects_unbalanced_markers(text, message):
    with pytest.raises(ValueError, match=message):
        make_starter(text)
