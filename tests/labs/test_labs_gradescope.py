"""`check --format gradescope` writes results.json in Gradescope's documented format, scored per task.

The format (https://gradescope-autograders.readthedocs.io/en/latest/specs/): an object with a
numeric `score` (optional when every test has one), optional `execution_time` (number),
`output` (string), `visibility` and `stdout_visibility` (one of hidden, after_due_date,
after_published, visible), `extra_data`, and `tests`: a list of objects with optional
`score`, `max_score` (numbers), `status` ("passed" or "failed"), `name`, `number`, `output`
(strings), `tags` (list), `visibility`, `extra_data`.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

from tinydl import labs

VISIBILITY = {"hidden", "after_due_date", "after_published", "visible"}
TOP_KEYS = {"score", "execution_time", "output", "output_format", "test_output_format",
            "test_name_format", "visibility", "stdout_visibility", "extra_data", "tests", "leaderboard"}
TEST_KEYS = {"score", "max_score", "status", "name", "name_format", "number", "output", "output_format",
             "tags", "visibility", "extra_data"}


def validate_gradescope(results: dict) -> None:
    """Raise AssertionError unless results follows Gradescope's results.json specification."""
    assert isinstance(results, dict) and set(results) <= TOP_KEYS, set(results) - TOP_KEYS
    tests = results.get("tests", [])
    assert isinstance(tests, list)
    if "score" not in results:
        assert tests and all("score" in t for t in tests), "score is required somewhere"
    else:
        assert isinstance(results["score"], (int, float)) and not isinstance(results["score"], bool)
    for key in ("execution_time",):
        assert key not in results or isinstance(results[key], (int, float))
    for key in ("visibility", "stdout_visibility"):
        assert key not in results or results[key] in VISIBILITY
    assert "output" not in results or isinstance(results["output"], str)
    for test in tests:
        assert isinstance(test, dict) and set(test) <= TEST_KEYS, set(test) - TEST_KEYS
        for key in ("score", "max_score"):
            assert key not in test or (isinstance(test[key], (int, float)) and not isinstance(test[key], bool))
        for key in ("name", "number", "output"):
            assert key not in test or isinstance(test[key], str)
        assert "status" not in test or test["status"] in ("passed", "failed")
        assert "visibility" not in test or test["visibility"] in VISIBILITY


def test_results_json_follows_gradescopes_format_and_scores_each_task(tmp_path):
    lab = labs.get_lab(1)
    folder = labs.start(1, tmp_path / "submission")
    shutil.copy(lab.solution / "rules.py", folder / "rules.py")   # tasks 1.1-1.4 done, 1.5-1.6 not
    out = tmp_path / "results" / "results.json"
    done = subprocess.run([sys.executable, "-m", "tinydl.labs", "check", "1", str(folder), "--format",
                           "gradescope", "--output", str(out)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 1, done.stdout + done.stderr
    results = json.loads(out.read_text())
    validate_gradescope(results)
    assert [t["name"] for t in results["tests"]] == [f"Task {t.label}: {t.title}" for t in lab.tasks]
    assert [t["score"] for t in results["tests"]] == [10.0, 15.0, 15.0, 20.0, 0.0, 0.0]
    assert [t["max_score"] for t in results["tests"]] == [float(t.points) for t in lab.tasks]
    assert [t["status"] for t in results["tests"]] == ["passed"] * 4 + ["failed"] * 2
    assert results["score"] == 60.0 == sum(t["score"] for t in results["tests"])
    assert "Lab 1, task 5" in results["tests"][4]["output"]
    assert results["tests"][0]["output"] == "all 6 tests passed"


def test_results_json_is_written_into_the_students_folder_by_default(tmp_path):
    folder = labs.start(4, tmp_path / "lab4")
    shutil.copy(labs.get_lab(4).solution / "myoptim.py", folder / "myoptim.py")
    done = subprocess.run([sys.executable, "-m", "tinydl.labs", "check", "4", str(folder), "--task", "4.1",
                           "--format", "gradescope"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    results = json.loads((folder / "results.json").read_text())
    validate_gradescope(results)
    assert results["score"] == 20.0 and results["tests"][0]["status"] == "passed"


def test_the_validator_rejects_what_gradescope_rejects():
    good = {"score": 1.0, "tests": [{"name": "a", "score": 1.0, "max_score": 1.0, "status": "passed"}]}
    validate_gradescope(good)
    for bad in ({"score": "1"}, {"tests": [{"name": "a"}]}, {"score": 1, "visibility": "public"},
                {"score": 1, "tests": [{"status": "ok"}]}, {"score": 1, "tests": [{"score": True}]},
                {"score": 1, "tests": [{"points": 3}]}):
        try:
            validate_gradescope(bad)
        except AssertionError:
            continue
        raise AssertionError(f"accepted {bad}")
