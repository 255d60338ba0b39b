"""Horovod's Keras MNIST example, with its imports changed to tinydl's, trains on 2 ranks."""

import re

import pytest


def test_horovods_keras_mnist_example_runs_with_its_imports_changed(run_ranks, tmp_path):
    pytest.importorskip("h5py")  # its ModelCheckpoint writes .h5 files
    done = run_ranks("horovod_keras_mnist.py", timeout=300)
    accuracies = [float(a) for a in re.findall(r"Test accuracy: ([0-9.]+)", done.stdout)]
    assert len(accuracies) == 2 and accuracies[0] == accuracies[1]  # the same model on both ranks
    assert accuracies[0] > 0.5  # 6 epochs on 512 digits: far above chance (0.1)
    assert sorted(p.name for p in tmp_path.glob("checkpoint-*.h5")) == [
        f"checkpoint-{e}.h5" for e in range(1, 7)]  # epochs = ceil(12 / 2), rank 0 only
    assert done.stdout.count("Epoch 6/6") == 1  # the progress bar on rank 0 only
