"""What the labs' tests share: finding the student's folder, importing its files, task markers.

A lab's tests run in one of two places: in the student's folder (`pytest -m task1_2` inside
the folder `start` made, where the tests sit in `tests/`), or from the package, launched by the
grader with the environment variable TINYDL_LAB_DIR naming the folder to grade. Either way a
test gets the student's module from a fixture, so a file that does not import yet fails that
test (with the error) instead of stopping the whole run.

Example:
    >>> import pathlib, tinydl.labs
    >>> folder = lab_directory(tinydl.labs.get_lab(1).tests)
    >>> folder == tinydl.labs.get_lab(1).path
    True
"""

from __future__ import annotations

import importlib
import json
import os
import sys
from pathlib import Path

LAB_DIR_VARIABLE = "TINYDL_LAB_DIR"


def lab_directory(tests_dir) -> Path:
    """The folder whose files are graded: $TINYDL_LAB_DIR, else the folder above tests/.

    Example:
        >>> folder = lab_directory("/somewhere/my_lab1/tests")   # with TINYDL_LAB_DIR unset
        >>> folder.name
        'my_lab1'
    """
    chosen = os.environ.get(LAB_DIR_VARIABLE)
    return Path(chosen).resolve() if chosen else Path(tests_dir).resolve().parent


def student_module(name: str, tests_dir):
    """Import the student's `name`.py from the graded folder (put first on sys.path).

    Raises:
        FileNotFoundError: the folder has no `name`.py (the message says which folder).

    Example:
        >>> import tinydl.labs
        >>> tests = tinydl.labs.get_lab(1).tests
        >>> os.environ["TINYDL_LAB_DIR"] = str(tinydl.labs.get_lab(1).solution)
        >>> student_module("rules", tests).unbroadcast.__name__
        'unbroadcast'
        >>> del os.environ["TINYDL_LAB_DIR"]
    """
    folder = lab_directory(tests_dir)
    if not (folder / f"{name}.py").is_file():
        raise FileNotFoundError(f"the lab folder {folder} has no {name}.py; grade the folder that "
                                f"`python -m tinydl.labs start` made")
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))
    module = sys.modules.get(name)
    if module is not None and Path(getattr(module, "__file__", "")).resolve().parent != folder:
        del sys.modules[name]      # a file of the same name from another folder
    return importlib.import_module(name)


def register_task_markers(config, tests_dir) -> None:
    """Declare each task's marker (from the lab.json beside tests/ or in the package).

    Example:
        >>> class Config:
        ...     lines = []
        ...     def addinivalue_line(self, name, line): self.lines.append(line)
        >>> import tinydl.labs
        >>> config = Config()
        >>> register_task_markers(config, tinydl.labs.get_lab(1).tests)
        >>> config.lines[0].startswith("task1_1: ")
        True
    """
    meta = json.loads((Path(tests_dir).resolve().parent / "lab.json").read_text(encoding="utf-8"))
    for i, task in enumerate(meta["tasks"], start=1):
        config.addinivalue_line("markers", f"task{meta['number']}_{i}: {task['title']}")


__all__ = ["lab_directory", "student_module", "register_task_markers", "LAB_DIR_VARIABLE"]
