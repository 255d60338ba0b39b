"""Lab 6: how the cost of a network grows with its size: count, measure, fit, plot, predict.

The models are multilayer perceptrons for MNIST-sized inputs: `depth` hidden Dense layers of
`width` units with ReLU, then Dense(classes). build_mlp (given) makes one with tinydl.
"""

from __future__ import annotations

import statistics
import time
import tracemalloc

import numpy as np

import tinydl
from tinydl.layers import Dense
from tinydl.models import Sequential

INPUTS, CLASSES = 784, 10


def build_mlp(width: int, depth: int, inputs: int = INPUTS, classes: int = CLASSES) -> Sequential:
    """inputs -> depth x Dense(width, relu) -> Dense(classes), compiled for SGD training on logits."""
    layers = [Dense(width, activation="relu", input_shape=(inputs,))]
    layers += [Dense(width, activation="relu") for _ in range(depth - 1)]
    model = Sequential(layers + [Dense(classes)])
    model.compile(optimizer=tinydl.optimizers.SGD(0.01),
                  loss=tinydl.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model


# ----------------------------------------------------------------------------- task 6.1

def count_params(width: int, depth: int, inputs: int = INPUTS, classes: int = CLASSES) -> int:
    """The number of weights and biases of build_mlp(width, depth), by formula (no model built)."""
    # BEGIN SOLUTION 6.1 write count_params: each Dense(out) on in inputs has in * out + out parameters
    sizes = [inputs] + [width] * depth + [classes]
    return sum(n_in * n_out + n_out for n_in, n_out in zip(sizes[:-1], sizes[1:]))
    # END SOLUTION


# ----------------------------------------------------------------------------- task 6.2

def count_macs(width: int, depth: int, inputs: int = INPUTS, classes: int = CLASSES) -> int:
    """Multiply-accumulates of one sample's forward pass through build_mlp(width, depth)."""
    # BEGIN SOLUTION 6.2 write count_macs: a Dense(out) on in inputs does in * out multiply-accumulates
    sizes = [inputs] + [width] * depth + [classes]
    return sum(n_in * n_out for n_in, n_out in zip(sizes[:-1], sizes[1:]))
    # END SOLUTION


# ----------------------------------------------------------------------------- task 6.3

def batch(size: int, inputs: int = INPUTS, classes: int = CLASSES, seed: int = 0) -> tuple:
    """A random batch (x (size, inputs) float32, y (size,) int labels)."""
    rng = np.random.default_rng(seed)
    return rng.random((size, inputs), dtype=np.float32), rng.integers(0, classes, size)


def step_seconds(model, x, y, repeats: int = 5) -> float:
    """The median wall-clock time of model.train_on_batch(x, y), after one warm-up step."""
    # BEGIN SOLUTION 6.3 write step_seconds: one warm-up train_on_batch, then the median of `repeats` timed ones
    model.train_on_batch(x, y)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        model.train_on_batch(x, y)
        times.append(time.perf_counter() - start)
    return statistics.median(times)
    # END SOLUTION


def peak_step_bytes(model, x, y) -> int:
    """The peak of memory newly allocated during one train_on_batch(x, y), in bytes (tracemalloc).

    NumPy reports its array buffers to tracemalloc, so this counts activations, gradients and
    temporaries: what a training step needs beyond the model and the data it was given.
    """
    # BEGIN SOLUTION 6.3 write peak_step_bytes: warm up, then tracemalloc around one step (the peak)
    model.train_on_batch(x, y)
    tracemalloc.start()
    try:
        model.train_on_batch(x, y)
        return int(tracemalloc.get_traced_memory()[1])
    finally:
        tracemalloc.stop()
    # END SOLUTION


# ----------------------------------------------------------------------------- task 6.4

def fit_slope(xs, ys) -> float:
    """The slope of the least-squares line through (log x, log y): the exponent b of y ~ a x^b."""
    # BEGIN SOLUTION 6.4 write fit_slope: np.polyfit of log ys against log xs, degree 1
    xs, ys = np.log(np.asarray(xs, dtype=np.float64)), np.log(np.asarray(ys, dtype=np.float64))
    return float(np.polyfit(xs, ys, 1)[0])
    # END SOLUTION


# ----------------------------------------------------------------------------- task 6.5

def sweep(widths=(64, 128, 256, 512, 1024), depths=(1, 2, 4, 8), batch_size: int = 64,
          repeats: int = 3) -> list:
    """One row per (width, depth): {'width', 'depth', 'params', 'macs', 'seconds', 'bytes'}.

    params and macs from your formulas, seconds and bytes measured on build_mlp(width, depth)
    with one batch(batch_size). Rows in the order width, then depth.
    """
    # BEGIN SOLUTION 6.5 write sweep: a model per (width, depth), your counts, your two measurements
    x, y = batch(batch_size)
    rows = []
    for width in widths:
        for depth in depths:
            model = build_mlp(width, depth)
            rows.append({"width": width, "depth": depth, "params": count_params(width, depth),
                         "macs": count_macs(width, depth),
                         "seconds": step_seconds(model, x, y, repeats), "bytes": peak_step_bytes(model, x, y)})
    return rows
    # END SOLUTION


def plot_sweep(rows: list, path) -> bool:
    """Log-log plots of the sweep into the image file `path`: params against width (one line per
    depth), and step time and peak memory against params. False when matplotlib is missing."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    # BEGIN SOLUTION 6.5 write plot_sweep: three log-log panels, one line per depth, savefig(path)
    figure, axes = plt.subplots(1, 3, figsize=(13, 4))
    panels = [("width", "params"), ("params", "seconds"), ("params", "bytes")]
    for depth in sorted({r["depth"] for r in rows}):
        mine = [r for r in rows if r["depth"] == depth]
        for ax, (x, y) in zip(axes, panels):
            ax.loglog([r[x] for r in mine], [r[y] for r in mine], "o-", label=f"depth {depth}")
    for ax, (x, y) in zip(axes, panels):
        ax.set_xlabel(x)
        ax.set_ylabel(y)
        ax.legend()
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)
    return True
    # END SOLUTION


# ----------------------------------------------------------------------------- task 6.6

def predicted_slopes() -> dict:
    """Your predictions of the log-log slopes, for wide networks (width much larger than 784 / depth):

    'params_vs_width': parameters against width, at a fixed depth >= 2;
    'params_vs_depth': parameters against depth, at a fixed large width;
    'macs_vs_params':  MACs per sample against parameters;
    'step_vs_macs':    training-step time against MACs, once the matrices are large;
    'activations_vs_batch': the memory of the activations against the batch size.
    """
    # BEGIN SOLUTION 6.6 write predicted_slopes: five numbers, each explained in a comment
    return {
        "params_vs_width": 2.0,       # (depth - 1) width^2 hidden-to-hidden weights dominate
        "params_vs_depth": 1.0,       # each extra layer adds the same width^2 + width
        "macs_vs_params": 1.0,        # one multiply-accumulate per weight per sample (biases aside)
        "step_vs_macs": 1.0,          # forward + two backward GEMMs: about 3 x MACs, at a steady GFLOP/s
        "activations_vs_batch": 1.0,  # every layer keeps (batch, width) activations
    }
    # END SOLUTION
