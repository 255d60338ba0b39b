"""`python -m tinydl --distributed` starts itself under mpirun and trains the demo on 2 ranks."""

import os
import sys

from tinydl.models import load_model
from mpi_launching import run


def test_the_demo_runs_on_two_ranks_through_mpirun(mpi_available, tmp_path):
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = run([sys.executable, "-m", "tinydl", "--distributed", "--ranks", "2", "--dataset",
                "digits", "--epochs", "2", "--batch-size", "32", "--output", str(tmp_path),
                "--verbose", "0"], env, tmp_path, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "tinydl: running " in done.stdout and " -n 2 " in done.stdout
    assert "on 2 ranks" in done.stdout
    assert done.stdout.count("Total params:") == 1  # rank 0 alone prints
    accuracy = float(done.stdout.split("test accuracy ")[1].split()[0])
    assert accuracy > 0.5  # two epochs of a CNN on 8x8 digits: far above chance (0.1)
    model = load_model(tmp_path / "digits_cnn.tinydl")
    assert type(model.optimizer).__name__ == "Adam" and model.optimizer.iterations == 2 * 23
