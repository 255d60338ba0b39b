"""fit on 2 ranks: the same steps as one process at twice the batch, identical weights on every
rank after every step, each rank its own part of each epoch, global metrics, rank 0 writes."""

import importlib.util

import numpy as np
import pytest

import tinydl
from tinydl.models import load_model
from mpi_launching import SCRIPTS
from mpi_results import results


def _script():
    spec = importlib.util.spec_from_file_location("equivalence", SCRIPTS / "equivalence.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module", params=[False, True], ids=["in_order", "shuffled"])
def run(request, launcher, tmp_path_factory):
    """(2-rank results, their weights per step, the 1-process reference at batch 64, folder)."""
    shuffle = request.param
    folder = tmp_path_factory.mktemp("shuffled" if shuffle else "in_order")
    done = launcher("equivalence.py", folder, int(shuffle), cwd=folder)
    weights = [np.load(folder / f"rank{r}.npz")["weights"] for r in range(2)]
    threads = tinydl.get_num_threads()
    tinydl.set_num_threads(1)
    try:
        _, recorder, history = _script().train(64, shuffle)
    finally:
        tinydl.set_num_threads(threads)
    (folder / "stdout.txt").write_text(done.stdout)
    return shuffle, results(folder), weights, (np.stack(recorder.steps), history.history), folder


def test_weights_are_bit_identical_on_every_rank_after_every_step(run):
    shuffle, _, weights, _, _ = run
    assert weights[0].shape[0] == (22 if shuffle else 20)  # 650 samples: 11 steps of 64 per epoch
    assert np.array_equal(weights[0], weights[1])


def test_two_ranks_at_batch_32_take_the_steps_of_one_process_at_batch_64(run):
    _, _, weights, (reference, _), _ = run
    assert reference.shape == weights[0].shape
    assert not np.allclose(reference[0], reference[-1])  # the steps did change the weights
    np.testing.assert_allclose(weights[0], reference, rtol=1e-4, atol=2e-6)


def test_every_rank_reports_the_global_loss_and_accuracy(run):
    _, ranks, _, (_, reference_history), _ = run
    assert ranks[0]["history"] == ranks[1]["history"]
    for name in ("loss", "accuracy"):
        np.testing.assert_allclose(ranks[0]["history"][name], reference_history[name], rtol=1e-5)


def test_on_train_end_gets_the_global_figures_of_the_last_epoch(run):
    _, ranks, _, (_, reference_history), _ = run
    assert ranks[0]["final"] == ranks[1]["final"]
    for name in ("loss", "accuracy"):
        assert ranks[0]["final"][name] == ranks[0]["history"][name][-1]
        np.testing.assert_allclose(ranks[0]["final"][name], reference_history[name][-1], rtol=1e-5)


def test_each_rank_sees_a_disjoint_part_of_each_epoch(run):
    shuffle, ranks, _, _, _ = run
    samples = 650 if shuffle else 1280
    for epoch in range(2):
        parts = [set(r["seen"][epoch]) for r in ranks]
        assert len(parts[0]) == len(ranks[0]["seen"][epoch]) == len(ranks[1]["seen"][epoch])
        assert not parts[0] & parts[1]
        assert len(parts[0] | parts[1]) == samples  # 650 = 10 x 64 + a last batch of 2 x 5
    if shuffle:
        assert ranks[0]["seen"][0] != ranks[0]["seen"][1]  # reshuffled each epoch


def test_only_rank_0_prints_and_writes_checkpoints(run):
    shuffle, _, _, _, folder = run
    epochs = 2 if shuffle else 1
    assert sorted(p.name for p in folder.glob("ckpt-*")) == [
        f"ckpt-rank0-{e}.tinydl" for e in range(1, epochs + 1)]
    assert [p.name for p in folder.glob("log-*.csv")] == ["log-rank0.csv"]
    model = load_model(folder / f"ckpt-rank0-{epochs}.tinydl")
    assert type(model.optimizer) is tinydl.optimizers.SGD
    assert model.optimizer.iterations == (22 if shuffle else 20)
    printed = (folder / "stdout.txt").read_text()
    assert [printed.count(f"Epoch {e}/{epochs}") for e in range(1, epochs + 1)] == [1] * epochs
