"""The labs' command line: list the labs, start one in a folder, grade a folder (or the solution).

    python -m tinydl.labs list
    python -m tinydl.labs start 1 my_lab1
    python -m tinydl.labs check 1 my_lab1                       # table; exit 1 until all pass
    python -m tinydl.labs check 1 my_lab1 --task 1.2            # one task
    python -m tinydl.labs check 1 my_lab1 --format gradescope   # also my_lab1/results.json
    python -m tinydl.labs check 1 --solution                    # the reference solution
    python -m tinydl.labs autograder 1 gradescope_lab1          # Gradescope's setup.sh, run_autograder
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tinydl import labs
from tinydl.labs import classroom, grader


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m tinydl.labs", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("list", help="the labs, their tasks and points")
    start = commands.add_parser("start", help="copy a lab's handout, starter files and tests into DIR")
    start.add_argument("lab", type=int)
    start.add_argument("directory", type=Path)
    start.add_argument("--install", default=classroom.DEFAULT_INSTALL,
                       help="what GitHub Classroom's runner pip-installs (default: %(default)s)")
    check = commands.add_parser("check", help="grade DIR (or the reference solution)")
    check.add_argument("lab", type=int)
    check.add_argument("directory", type=Path, nargs="?")
    check.add_argument("--solution", action="store_true", help="grade the shipped reference solution")
    check.add_argument("--task", action="append", default=None,
                       help="grade only this task, e.g. 1.2 (repeatable)")
    check.add_argument("--format", choices=("table", "gradescope"), default="table",
                       help="gradescope: also write Gradescope's results.json")
    check.add_argument("--output", type=Path, default=None,
                       help="where results.json goes (default: DIR/results.json; with --solution "
                            "./results.json)")
    check.add_argument("--timeout", type=float, default=grader.DEFAULT_TIMEOUT,
                       help="seconds for the whole run (default: %(default)s)")
    auto = commands.add_parser("autograder", help="write Gradescope's autograder files into DIR")
    auto.add_argument("lab", type=int)
    auto.add_argument("directory", type=Path)
    auto.add_argument("--install", default=classroom.DEFAULT_INSTALL,
                      help="what Gradescope's image pip-installs (default: %(default)s)")
    return parser


def _list() -> int:
    for lab in labs.all_labs():
        print(f"Lab {lab.number}: {lab.title}  ({lab.hours:g} h, {lab.max_points} points)")
        for task in lab.tasks:
            print(f"    {task.label:<5}{task.title}  [{task.points}]")
    return 0


def _start(args) -> int:
    folder = labs.start(args.lab, args.directory, install=args.install)
    lab = labs.get_lab(args.lab)
    print(f"Lab {lab.number} is in {folder}: read handout.md, then edit {', '.join(lab.files)}.")
    print(f"Grade it: python -m tinydl.labs check {lab.number} {folder}")
    return 0


def _check(args, parser) -> int:
    lab = labs.get_lab(args.lab)
    if args.solution == (args.directory is not None):
        parser.error("check needs a folder to grade, or --solution (not both)")
    directory = lab.solution if args.solution else args.directory
    grade = grader.grade(lab, directory, tasks=args.task, timeout=args.timeout)
    print(grader.format_table(grade))
    if args.format == "gradescope":
        target = args.output or (Path("results.json") if args.solution else Path(directory) / "results.json")
        print(f"Gradescope results: {grader.write_gradescope(grade, target)}")
    return 0 if grade.passed else 1


def main(argv=None) -> int:
    """Run the labs' command line; return the exit status (0 when every graded task passes).

    Example:
        >>> main(["list"])                                     # doctest: +ELLIPSIS
        Lab 1: ...
        0
    """
    parser = _parser()
    args, extra = parser.parse_known_args(argv)
    # argparse gives an optional positional (check's DIR) its empty value when options come
    # between it and the lab number (`check 1 --task 1.2 DIR`): take DIR from what is left.
    if args.command == "check" and args.directory is None and len(extra) == 1 \
            and not extra[0].startswith("-"):
        args.directory, extra = Path(extra[0]), []
    if extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    try:
        if args.command == "list":
            return _list()
        if args.command == "start":
            return _start(args)
        if args.command == "autograder":
            folder = classroom.write_gradescope_autograder(labs.get_lab(args.lab), args.directory,
                                                           install=args.install)
            print(f"Gradescope autograder files in {folder}: zip the files in it (not the folder)")
            return 0
        return _check(args, parser)
    except (ValueError, FileNotFoundError, FileExistsError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
