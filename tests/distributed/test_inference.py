"""evaluate and predict on 2 ranks: each rank a disjoint part, every rank the single-process
answer (metrics and predictions in order); fit on generators shares their batches i % 2."""

import importlib.util

import numpy as np
import pytest

from mpi_launching import SCRIPTS
from mpi_results import results


def _script():
    spec = importlib.util.spec_from_file_location("inference", SCRIPTS / "inference.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def run(launcher, tmp_path_factory):
    """(the script module, the 2 ranks' results, their predictions, the saved model)."""
    folder = tmp_path_factory.mktemp("inference")
    launcher("inference.py", folder, cwd=folder)
    script = _script()  # defines SeenIds, so load_model finds it
    from tinydl.models import load_model
    predictions = [dict(np.load(folder / f"rank{r}.npz")) for r in range(2)]
    return script, results(folder), predictions, load_model(folder / "model.tinydl")


def test_evaluate_gives_every_rank_the_metrics_of_all_the_data(run):
    script, ranks, _, model = run
    x, y = script.data()
    expected = model.evaluate(x, y, batch_size=script.BATCH, verbose=0, return_dict=True)
    assert set(expected) == {"loss", "accuracy", "precision", "recall", "auc"}
    for kind in ("arrays", "dataset", "generator"):
        for rank in ranks:  # Precision, Recall and AUC too: from the summed counts, not averaged
            assert rank["evaluate"][kind] == pytest.approx(expected, rel=1e-6), kind


def test_evaluate_with_a_rank_without_batches_and_with_sample_weights(run):
    script, ranks, _, model = run
    x, y = script.data()
    one = model.evaluate(x[:script.BATCH], y[:script.BATCH], verbose=0, return_dict=True)
    weighted = model.evaluate(x, y, sample_weight=script.weights(len(x)), batch_size=script.BATCH,
                              verbose=0, return_dict=True)
    plain = model.evaluate(x, y, batch_size=script.BATCH, verbose=0, return_dict=True)
    assert weighted["loss"] != pytest.approx(plain["loss"], rel=1e-3)  # the weights matter
    for rank in ranks:
        assert rank["evaluate"]["one_batch"] == pytest.approx(one, rel=1e-6)
        assert rank["evaluate"]["weighted"] == pytest.approx(weighted, rel=1e-6)


def test_each_rank_evaluates_a_disjoint_part(run):
    script, ranks, _, _ = run
    everything = set(range(script.SAMPLES))
    for kind in ("arrays", "dataset", "generator"):
        parts = [rank["seen"][f"evaluate_{kind}"] for rank in ranks]
        assert all(parts) and not set(parts[0]) & set(parts[1])
        assert sorted(parts[0] + parts[1]) == sorted(everything), kind
    assert ranks[0]["seen"]["evaluate_arrays"] == list(range(26))  # a contiguous slice each
    batch = script.BATCH  # a dataset's or a generator's batches i with i % 2 == rank
    assert ranks[1]["seen"]["evaluate_generator"][:batch] == list(range(batch, 2 * batch))


def test_predict_gives_every_rank_all_predictions_in_order(run):
    script, _, predictions, model = run
    x, _ = script.data()
    expected = model.predict(x, batch_size=script.BATCH, verbose=0)
    for rank in predictions:
        for kind in ("arrays", "dataset", "generator"):
            np.testing.assert_allclose(rank[kind], expected, rtol=1e-6, atol=1e-7)
        # one sample on two ranks: rank 0 has none, and still gets it
        np.testing.assert_allclose(rank["one_sample"], expected[:1], rtol=1e-6, atol=1e-7)


def test_local_evaluates_all_the_data_on_one_rank(run):
    script, ranks, _, _ = run
    assert ranks[0]["local"] == ranks[0]["evaluate"]["arrays"]
    assert ranks[0]["seen"]["local"] == list(range(script.SAMPLES))


def test_evaluate_on_one_rank_alone_raises_instead_of_waiting(run):
    _, ranks, _, _ = run
    assert "waited 2 s for the other 1 rank(s)" in ranks[0]["alone"]
    assert "tinydl.distributed.local()" in ranks[0]["alone"]


def test_fit_shares_a_generators_batches_between_the_ranks(run):
    script, ranks, _, _ = run
    x, y = script.data()
    loop = [tuple(np.rint(xb[:, 0]).astype(int)) for xb, _ in script.batches(x, y, loops=3)]
    # steps_per_epoch=5 batches of the generator per epoch, shared: 2 steps on each rank, the
    # fifth batch of each epoch unused; epoch 2 reads batches 5..9
    used = [0, 2, 5, 7], [1, 3, 6, 8]
    for rank, mine in zip(ranks, used):
        assert rank["fit_endless"]["seen"] == [s for i in mine for s in loop[i]]
    assert ranks[0]["fit_endless"]["weights"] == ranks[1]["fit_endless"]["weights"]
    assert ranks[0]["fit_endless"]["history"] == ranks[1]["fit_endless"]["history"]
    # a finite generator of 7 batches: 3 steps each, the seventh unused
    assert [r["fit_finite"]["seen"] for r in ranks] == [
        [s for i in (0, 2, 4) for s in loop[i]], [s for i in (1, 3, 5) for s in loop[i]]]
    assert ranks[0]["fit_finite"]["steps"] == 2 * 2 + 3
