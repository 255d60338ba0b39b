"""A rank that fails stops every rank with its error (MPI_Abort), instead of leaving them waiting."""

import time

import pytest


@pytest.mark.parametrize("where, message", [
    ("step", "ValueError: rank 1 fails on purpose at batch 3"),
    ("architecture", "rank 1's model differs from rank 0's: its weight 2 is 'kernel' of shape (16, 12)"),
])
def test_an_uncaught_error_on_one_rank_aborts_all_ranks_with_its_message(run_ranks, tmp_path,
                                                                         where, message):
    start = time.perf_counter()
    done = run_ranks("failing_rank.py", tmp_path, where, expect_ok=False, timeout=120)
    assert done.returncode != 0
    assert message in done.stderr
    assert "stopped on the ValueError above; aborting all 2 ranks (MPI_Abort)" in done.stderr
    assert not list(tmp_path.glob("finished-*"))  # no rank got through fit
    assert time.perf_counter() - start < 60  # aborted, not waited out
