"""Docs that cannot rot: every ```python block of README.md, docs/*.md and the labs' handouts runs.

Each block runs on its own in a fresh Python process, in a temporary folder, with a time limit,
one BLAS thread and matplotlib's file backend. A handout's blocks run in a copy of its lab's
reference solution (they import the student's modules). A block starting with `>>>` is run as
a doctest, so its printed values are checked too.

Two comments, on the line before a block's opening fence, change that:

    <!-- no-test: the reason -->                        the block is not run (say why)
    <!-- docs-test: replace "epochs=10" "epochs=1" -->   run it on less work (small data)
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tinydl import labs

REPO = Path(__file__).resolve().parents[1]
TIME_LIMIT = 120          # seconds per block
MAX_UNTESTED = 5          # no-test is for the exceptions: keep it rare
FENCE = re.compile(r"^```python[ \t]*\n(.*?)^```[ \t]*$", re.S | re.M)
NO_TEST = re.compile(r"<!--\s*no-test:(.*?)-->")
REPLACE = re.compile(r'<!--\s*docs-test:\s*replace\s+"(.*?)"\s+"(.*?)"\s*-->')


def markdown_files() -> list:
    files = [REPO / "README.md"] + sorted((REPO / "docs").glob("*.md"))
    return files + [lab.path / "handout.md" for lab in labs.all_labs()]


def blocks() -> list:
    """(file, line, code, directives) for every python block; directives are the comment lines
    right above the fence."""
    found = []
    for path in markdown_files():
        text = path.read_text(encoding="utf-8")
        for match in FENCE.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            above = text[:match.start()].rstrip("\n").splitlines()
            directives = []
            while above and above[-1].lstrip().startswith("<!--"):
                directives.insert(0, above.pop())
            found.append((path, line, match.group(1), "\n".join(directives)))
    return found


BLOCKS = blocks()
def _shown(path: Path) -> str:
    """The path relative to the repository, or as it is (the installed package's handouts when
    the tests run against a wheel)."""
    return str(path.relative_to(REPO)) if path.is_relative_to(REPO) else str(path)


IDS = [f"{_shown(path)}:{line}" for path, line, _, _ in BLOCKS]


def lab_of(path: Path):
    return next((lab for lab in labs.all_labs() if path == lab.path / "handout.md"), None)


@pytest.mark.parametrize("path, line, code, directives", BLOCKS, ids=IDS)
def test_python_block_runs(path, line, code, directives, tmp_path):
    skip = NO_TEST.search(directives)
    if skip:
        pytest.skip(f"marked no-test: {skip.group(1).strip()}")
    for old, new in REPLACE.findall(directives):
        assert old in code, f"docs-test replace: {old!r} is not in the block at {path.name}:{line}"
        code = code.replace(old, new)
    lab = lab_of(path)
    if lab is not None:
        shutil.copytree(lab.solution, tmp_path, dirs_exist_ok=True)
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "MPLBACKEND": "Agg", "PYTHONDONTWRITEBYTECODE": "1",
           "TINYDL_LAB_BUILD_DIR": str(tmp_path / "build")}
    if code.lstrip().startswith(">>>"):
        (tmp_path / "block.txt").write_text(code, encoding="utf-8")
        command = [sys.executable, "-m", "doctest", "-o", "ELLIPSIS", "-o", "NORMALIZE_WHITESPACE", "block.txt"]
    else:
        (tmp_path / "block.py").write_text(code, encoding="utf-8")
        command = [sys.executable, "block.py"]
    try:
        done = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=TIME_LIMIT)
    except subprocess.TimeoutExpired:
        pytest.fail(f"{path.name}:{line} ran longer than {TIME_LIMIT} s: give it less work "
                    f'(<!-- docs-test: replace "..." "..." -->)')
    assert done.returncode == 0, f"{path.name}:{line} failed:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"


def test_untested_blocks_are_rare_and_say_why():
    reasons = [NO_TEST.search(d).group(1).strip() for _, _, _, d in BLOCKS if NO_TEST.search(d)]
    assert len(reasons) <= MAX_UNTESTED, f"{len(reasons)} blocks are marked no-test"
    assert all(len(reason.split()) >= 3 for reason in reasons), reasons


def test_the_block_finder_sees_fences_and_their_directives(tmp_path, monkeypatch):
    page = tmp_path / "page.md"
    page.write_text('Text\n\n<!-- no-test: shows a fragment only -->\n```python\nx = 1\n```\n\n'
                    '```python\ny = 2\n```\n\n```bash\nls\n```\n')
    monkeypatch.setattr(sys.modules[__name__], "markdown_files", lambda: [page])
    found = blocks()
    assert [(line, code) for _, line, code, _ in found] == [(4, "x = 1\n"), (8, "y = 2\n")]
    assert "no-test" in found[0][3] and found[1][3] == ""
