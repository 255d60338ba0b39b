"""Horovod's API on 2 ranks: who is who, the collectives against NumPy, their errors on every rank,
DistributedOptimizer's single fused allreduce, the broadcast and metric-average callbacks."""

import numpy as np
import pytest

from mpi_results import results


@pytest.fixture(scope="module")
def ranks(tmp_path_factory, launcher):
    """The two ranks' results of scripts/api.py (run once for the module)."""
    folder = tmp_path_factory.mktemp("api")
    launcher("api.py", folder, cwd=folder, threads=None)
    return results(folder)


def test_each_rank_knows_its_place(ranks):
    assert [r["rank"] for r in ranks] == [0, 1]
    assert all(r["size"] == 2 and r["local_size"] == 2 for r in ranks)
    assert sorted(r["local_rank"] for r in ranks) == [0, 1]
    assert [r["is_main"] for r in ranks] == [True, False]


def test_native_threads_default_to_cores_over_local_ranks(ranks):
    for r in ranks:
        if not r["native"]:
            pytest.skip("the native extension is not built, so its thread count is not set")
        assert r["threads"] == max(1, min(r["affinity"], r["cpu_count"] // r["local_size"]))
        assert r["threads"] * r["local_size"] <= max(r["cpu_count"], r["local_size"])


def test_allreduce_broadcast_allgather_match_numpy(ranks):
    per_rank = [np.array([r, 10.0 * r], dtype=np.float32) for r in range(2)]
    for r in ranks:
        assert r["mean"] == [np.mean(per_rank, axis=0).tolist(), "float32"]
        assert r["sum"] == (np.arange(3) * 1 + np.arange(3) * 2).tolist()
        assert r["min"] == [[0.0, -1.0]] and r["max"] == [1, 0]
        assert r["tensor"] == "Tensor"
        assert r["broadcast"] == [[1.0, 1.0], [1.0, 1.0]]  # root = the last rank
        assert r["allgather"] == [[0, 0], [1, 1], [1, 1]]


def test_bad_collectives_fail_on_every_rank_with_the_reason(ranks):
    for r in ranks:
        errors = r["errors"]
        assert errors["shapes"][0] == "ValueError"
        assert "same shape and dtype" in errors["shapes"][1] and "rank 1 has [[3], 'float32']" in errors["shapes"][1]
        assert errors["dtypes"][0] == "ValueError" and "float64" in errors["dtypes"][1]
        assert errors["mean_of_ints"][0] == "TypeError" and "op='sum'" in errors["mean_of_ints"][1]
        assert errors["op"][0] == "ValueError" and "'median'" in errors["op"][1]
        assert errors["root"][0] == "ValueError" and "root=2" in errors["root"][1]


def test_distributed_optimizer_does_one_fused_allreduce_of_all_gradients_per_step(ranks):
    for r in ranks:
        assert r["wrapped_is_sgd"]  # still the SGD it was, so model.save keeps working
        assert r["train_on_batch_allreduces"] == [r["params_plus_flags"]]
        gradient_sized = [n for n in r["fit_allreduces"] if n == r["params_plus_flags"]]
        assert len(gradient_sized) == 4  # 64 samples / (2 ranks x batch 8): 4 steps, one each
        assert all(n < 10 for n in r["fit_allreduces"] if n != r["params_plus_flags"])  # metrics


def test_broadcast_callback_gives_every_rank_the_roots_weights(ranks):
    assert ranks[0]["digest_before"] != ranks[1]["digest_before"]
    assert [r["digest_after"] for r in ranks] == [ranks[1]["digest_before"]] * 2


def test_broadcast_initial_weights_starts_every_rank_from_rank_0(ranks):
    assert ranks[0]["initial_before"] != ranks[1]["initial_before"]
    assert [r["initial_after"] for r in ranks] == [ranks[0]["initial_before"]] * 2


def test_a_fresh_rank_receives_rank_0s_optimizer_state(ranks):
    state = ranks[1]["adam_state"]
    assert state == ranks[0]["adam_state"]
    assert state["iterations"] == [7] and state["slot.momentum.0"] == [0.5, 0.5]


def test_metric_average_callback_averages_numbers_and_keeps_the_rest(ranks):
    for r in ranks:
        assert r["metric_average"] == {"loss": 0.5, "name": "not a number"}


def test_fit_refuses_what_would_train_different_models(ranks):
    for r in ranks:
        errors = r["errors"]
        assert errors["plain_optimizer"][0] == "ValueError"
        assert "DistributedOptimizer(optimizer)" in errors["plain_optimizer"][1]
        assert errors["architecture"][0] == "ValueError"
        assert ("rank 1's model differs from rank 0's: its weight 2 is 'kernel' of shape (16, 12)"
                in errors["architecture"][1])
        assert r["mismatched_iterations"] == 0  # found at start-up, before any step
        assert "rank 1 has steps per epoch 3, rank 0 has 2" in errors["steps_differ"][1]
