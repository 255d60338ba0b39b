"""The demo (`python -m tinydl`): runs end to end on bundled data, saves a loadable model."""

import subprocess
import sys

import numpy as np
import pytest

from tinydl.__main__ import build_model, load, main
from tinydl.backend import MAX_THREADS
from tinydl.models import load_model


def test_demo_trains_evaluates_and_saves_on_digits(tmp_path, capsys):
    assert main(["--dataset", "digits", "--epochs", "2", "--batch-size", "32",
                 "--output", str(tmp_path), "--verbose", "0"]) == 0
    out = capsys.readouterr().out
    assert "Total params:" in out and "test accuracy" in out
    accuracy = float(out.split("test accuracy ")[1].split()[0])
    assert accuracy > 0.5  # two epochs of a CNN on 8x8 digits: far above chance (0.1)
    model = load_model(tmp_path / "digits_cnn.tinydl")
    (_, _), (x_test, y_test) = load("digits")
    loss, acc = model.evaluate(x_test, y_test, verbose=0)
    assert acc == pytest.approx(accuracy, abs=1e-4)


def test_reference_cnn_is_built_for_cifar_shapes():
    model = build_model((32, 32, 3), 10)
    model.build((None, 32, 32, 3))
    assert model.count_params() == 160_202
    assert model.output_shape == (None, 10)


def test_mnist_sample_loads_as_nhwc_floats():
    (x_train, y_train), (x_test, y_test) = load("mnist_sample")
    assert x_train.shape == (8000, 28, 28, 1) and x_test.shape == (2000, 28, 28, 1)
    assert x_train.dtype == np.float32 and 0.0 <= x_train.min() and x_train.max() <= 1.0
    assert y_train.dtype == np.int64 and y_train.shape == (8000,)


def test_bad_options_get_argparse_errors():
    done = subprocess.run([sys.executable, "-m", "tinydl", "--dataset", "imagenet"],
                          capture_output=True, text=True)
    assert done.returncode == 2 and "invalid choice: 'imagenet'" in done.stderr
    done = subprocess.run([sys.executable, "-m", "tinydl", "--epochs", "0"],
                          capture_output=True, text=True)
    assert done.returncode == 2 and "must be a positive integer" in done.stderr
    too_many = str(MAX_THREADS + 1)
    done = subprocess.run([sys.executable, "-m", "tinydl", "--threads", too_many],
                          capture_output=True, text=True)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert f"argument --threads: must be at most {MAX_THREADS}" in done.stderr


def test_training_curves_are_a_png_when_matplotlib_is_installed(tmp_path):
    pytest.importorskip("matplotlib")
    from tinydl.__main__ import plot_history
    history = {"loss": [1.0, 0.5], "accuracy": [0.5, 0.8], "val_loss": [0.9, 0.6],
               "val_accuracy": [0.6, 0.7]}
    path = tmp_path / "curves.png"
    assert plot_history(history, str(path))
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_without_matplotlib_the_demo_says_how_to_get_the_plot(monkeypatch):
    import sys as _sys
    from tinydl.__main__ import plot_history
    monkeypatch.setitem(_sys.modules, "matplotlib", None)
    assert plot_history({"loss": [1.0], "accuracy": [0.5]}, "unused.png") is False


def test_plot_history_draws_every_metric_with_its_validation_curve(tmp_path):
    pytest.importorskip("matplotlib")
    from tinydl.utils import plot_history
    history = {"loss": [1.0, 0.5, 0.4], "val_loss": [1.1, 0.7, 0.6], "accuracy": [0.5, 0.7, 0.8]}
    fig = plot_history(history, tmp_path / "h.png")
    assert (tmp_path / "h.png").read_bytes()[:4] == b"\x89PNG"
    loss_ax, acc_ax = fig.axes
    assert [line.get_label() for line in loss_ax.lines] == ["train loss", "validation loss"]
    assert list(loss_ax.lines[1].get_ydata()) == [1.1, 0.7, 0.6]
    assert [line.get_label() for line in acc_ax.lines] == ["train accuracy"]
    with pytest.raises(ValueError, match="are not in the history"):
        plot_history(history, metrics=["auc"])
    with pytest.raises(ValueError, match="non-empty dict"):
        plot_history({})
