"""docs/distributed.md's training script runs as written on 2 ranks."""

import re
from pathlib import Path

DOC = Path(__file__).parents[2] / "docs" / "distributed.md"


def _example() -> str:
    text = DOC.read_text()
    after = text[text.index("<!-- docs-example: train.py"):]
    return re.search(r"```python\n(.*?)```", after, re.S).group(1)


def test_the_docs_training_script_runs_on_two_ranks(run_ranks, tmp_path):
    (tmp_path / "train.py").write_text(_example())
    done = run_ranks([str(tmp_path / "train.py")], timeout=300)
    accuracies = re.findall(r"validation accuracy ([0-9.]+)", done.stdout)
    assert len(accuracies) == 1 and float(accuracies[0]) > 0.5  # rank 0 prints; far above 0.1
    assert sorted(p.name for p in tmp_path.glob("digits-*.tinydl")) == [
        f"digits-{e}.tinydl" for e in (1, 2, 3)]
