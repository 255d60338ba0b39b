"""Make each lab's starter files from its solution: every marked block becomes a stub.

In a solution file a student's part sits between two comment lines:

    # BEGIN SOLUTION 1.2 write Exp.backward: d exp(x)/dx = exp(x)
    (out,) = ctx.saved
    return grad * out
    # END SOLUTION

and the starter has, at the same indentation,

    raise NotImplementedError('Lab 1, task 2: write Exp.backward: d exp(x)/dx = exp(x)')

(long messages are split over lines) and, at the end of the file, a `# ruff: noqa` for the
imports only the finished code uses. In C (`// BEGIN SOLUTION 5.1 ...`) the stub is
`return TDL_NOT_IMPLEMENTED(1);` with the same
words in a comment: the Python wrapper turns that return code into the NotImplementedError.
Regenerate every starter after editing a solution: `python -m tinydl.labs._starters`.
The tests check that the shipped starters are exactly what this makes.

Example:
    >>> print(make_starter('''def f(x):
    ...     # BEGIN SOLUTION 3.1 return twice x
    ...     return 2 * x
    ...     # END SOLUTION
    ... ''', suffix=".py"))
    def f(x):
        raise NotImplementedError('Lab 3, task 1: return twice x')
    <BLANKLINE>
    # A starter file: some imports are for the code you will write.
    # ruff: noqa: F401, F841
    <BLANKLINE>
"""

from __future__ import annotations

import re
import sys
import textwrap
from pathlib import Path

_BEGIN = re.compile(r"^(?P<indent>\s*)(?:#|//) BEGIN SOLUTION (?P<lab>\d+)\.(?P<task>\d+) (?P<hint>.+?)\s*$")
_END = re.compile(r"^\s*(?:#|//) END SOLUTION\s*$")


WIDTH = 110      # stubs stay inside the project's line length (120)
PYTHON_FOOTER = ("\n# A starter file: some imports are for the code you will write.\n"
                 "# ruff: noqa: F401, F841\n")


def _stub(indent: str, lab: str, task: str, hint: str, suffix: str) -> str:
    message = f"Lab {lab}, task {task}: {hint}"
    if suffix in (".c", ".h"):
        head = f"{indent}return TDL_NOT_IMPLEMENTED({task});  /* "
        parts = textwrap.wrap(message, max(40, WIDTH - len(head)))
        return head + ("\n" + " " * len(head)).join(parts) + " */"
    head = f"{indent}raise NotImplementedError("
    parts = textwrap.wrap(message, max(40, WIDTH - len(head) - 2), drop_whitespace=False)
    return head + ("\n" + " " * len(head)).join(repr(part) for part in parts) + ")"


def make_starter(text: str, suffix: str = ".py") -> str:
    """The starter version of a solution file's text.

    Raises:
        ValueError: a BEGIN without its END, or an END without a BEGIN (with the line number).
    """
    out, inside, stubs = [], None, 0
    for number, line in enumerate(text.splitlines(keepends=True), start=1):
        begin, end = _BEGIN.match(line), _END.match(line)
        if begin:
            if inside:
                raise ValueError(f"line {number}: BEGIN SOLUTION inside the block opened at line {inside}")
            inside, stubs = number, stubs + 1
            out.append(_stub(begin["indent"], begin["lab"], begin["task"], begin["hint"], suffix) + "\n")
        elif end:
            if not inside:
                raise ValueError(f"line {number}: END SOLUTION without a BEGIN SOLUTION")
            inside = None
        elif not inside:
            out.append(line)
    if inside:
        raise ValueError(f"the BEGIN SOLUTION at line {inside} has no END SOLUTION")
    if suffix == ".py" and stubs:
        out.append(PYTHON_FOOTER)
    return "".join(out)


def starter_files(lab) -> dict:
    """{file name: starter text} for every file of the lab, made from its solution."""
    return {name: make_starter((lab.solution / name).read_text(encoding="utf-8"), Path(name).suffix)
            for name in lab.files}


def write_starters(lab) -> list:
    """Write the lab's starter/ files from its solution/ files; return the names written."""
    lab.starter.mkdir(exist_ok=True)
    for name, text in starter_files(lab).items():
        (lab.starter / name).write_text(text, encoding="utf-8")
    return list(lab.files)


def main() -> int:
    from tinydl.labs import all_labs

    for lab in all_labs():
        print(f"lab {lab.number}: {', '.join(write_starters(lab))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
