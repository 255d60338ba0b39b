"""No pickle anywhere in the package: no module imports it, and every np.load refuses it."""

from __future__ import annotations

import pathlib
import re

import tinydl

PACKAGE = pathlib.Path(tinydl.__file__).parent
SOURCES = sorted(p for p in PACKAGE.rglob("*") if p.suffix in (".py", ".pyx", ".pxd"))


def _code_lines(path):
    """(line number, code) of each line that has code before any '#' comment."""
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        code = line.split("#", 1)[0]
        if code.strip():
            yield number, code


def test_the_package_sources_are_found():
    names = {p.name for p in SOURCES}
    assert {"saving.py", "model_io.py", "saving_h5.py", "sequential.py"} <= names


def test_no_module_imports_pickle():
    pattern = re.compile(r"^\s*(import\s+(c?pickle|dill|shelve|marshal)\b|"
                         r"from\s+(c?pickle|dill|shelve|marshal)\s+import)")
    hits = [f"{p.relative_to(PACKAGE)}:{n}: {code.strip()}"
            for p in SOURCES for n, code in _code_lines(p) if pattern.search(code)]
    assert hits == []


def test_nothing_allows_pickle():
    hits = [f"{p.relative_to(PACKAGE)}:{n}: {code.strip()}"
            for p in SOURCES for n, code in _code_lines(p)
            if re.search(r"allow_pickle\s*=\s*True", code)]
    assert hits == []


def _call_at(text: str, open_paren: int) -> str:
    """The text from open_paren to its matching ')'."""
    depth = 0
    for i in range(open_paren, len(text)):
        depth += {"(": 1, ")": -1}.get(text[i], 0)
        if depth == 0:
            return text[open_paren:i + 1]
    return text[open_paren:]


def test_every_np_load_says_allow_pickle_false():
    """np.load's default is allow_pickle=False today; the package says so explicitly anyway,
    so a reader (and this test) can see it."""
    hits = []
    for path in SOURCES:
        text = path.read_text(encoding="utf-8")
        for match in re.finditer(r"np\.load\(", text):
            call = _call_at(text, match.end() - 1)
            if "allow_pickle=False" not in call:
                hits.append(f"{path.relative_to(PACKAGE)}: {call}")
    assert hits == []
