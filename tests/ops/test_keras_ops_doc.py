"""The examples of docs/keras_ops.md run as they are, and its table lists every op tinydl has."""

from __future__ import annotations

import re
from pathlib import Path

from tinydl import ops, random

DOC = Path(__file__).resolve().parents[2] / "docs" / "keras_ops.md"


def test_the_example_runs(capsys):
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.S)
    assert blocks, "docs/keras_ops.md has no python example"
    for code in blocks:
        exec(compile(code, str(DOC), "exec"), {"__name__": "keras_ops_doc"})
    assert "[ 1.  -2.   0.5]" in capsys.readouterr().out


def test_the_table_lists_every_op():
    listed = set(re.findall(r"`(\w+)", DOC.read_text()))
    missing = sorted(set(ops.KERAS_NAMES) - listed) + sorted(set(random.__all__) - listed)
    assert missing == []
