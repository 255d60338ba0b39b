"""Lab 6: counts against tinydl's own models, the measurements against known fakes, the fits against closed forms."""

import time

import numpy as np
import pytest

SHAPES = [(8, 1, 784, 10), (64, 3, 784, 10), (5, 2, 12, 3), (300, 6, 784, 10)]


def built(myscale, width, depth, inputs, classes):
    model = myscale.build_mlp(width, depth, inputs, classes)
    model.build((None, inputs))
    return model


@pytest.mark.task6_1
@pytest.mark.parametrize("width, depth, inputs, classes", SHAPES)
def test_count_params_matches_tinydl(myscale, width, depth, inputs, classes):
    model = built(myscale, width, depth, inputs, classes)
    assert myscale.count_params(width, depth, inputs, classes) == model.count_params()


@pytest.mark.task6_2
@pytest.mark.parametrize("width, depth, inputs, classes", SHAPES)
def test_count_macs_matches_tinydl(myscale, width, depth, inputs, classes):
    model = built(myscale, width, depth, inputs, classes)
    assert myscale.count_macs(width, depth, inputs, classes) == model.macs_per_sample()


class FakeModel:
    """train_on_batch sleeps / allocates as told, so the measurement has a known answer."""

    def __init__(self, sleeps=(), allocate=0, first_allocate=0):
        self.sleeps, self.allocate, self.first_allocate, self.calls = list(sleeps), allocate, first_allocate, 0
        self.kept = None

    def train_on_batch(self, x, y):
        self.calls += 1
        if self.calls == 1 and self.first_allocate:
            self.kept = np.ones(self.first_allocate // 8)          # a cache made once and kept
        if self.allocate:
            np.ones(self.allocate // 8).sum()                      # a temporary of each step
        if self.sleeps:
            time.sleep(self.sleeps.pop(0))


@pytest.mark.task6_3
def test_step_seconds_is_the_median_after_a_warm_up(myscale):
    model = FakeModel(sleeps=[0.1, 0.05, 0.05, 0.002, 0.002, 0.002])
    seconds = myscale.step_seconds(model, None, None, repeats=5)
    assert model.calls == 6, "one warm-up step, then `repeats` timed steps"
    assert 0.0015 < seconds < 0.015, f"{seconds} s: expected the median (~0.002 s)"


@pytest.mark.task6_3
def test_peak_step_bytes_counts_a_step_and_not_the_warm_up(myscale):
    model = FakeModel(allocate=4_000_000, first_allocate=40_000_000)
    peak = myscale.peak_step_bytes(model, None, None)
    assert 4_000_000 <= peak < 8_000_000, f"{peak} bytes: expected one step's 4 MB temporary only"


@pytest.mark.task6_3
def test_a_real_step_needs_memory_that_grows_with_the_batch(myscale):
    model = myscale.build_mlp(256, 3)
    # batches whose activations outweigh the step's fixed part (the weight gradients, about
    # 1.3 MB, peak at the end of backward, when most activations are already freed)
    small, large = (myscale.peak_step_bytes(model, *myscale.batch(n)) for n in (256, 1024))
    assert large > small + 3 * 768 * 256 * 4, "768 more rows of three (N, 256) activations at least"
    assert myscale.step_seconds(model, *myscale.batch(16), repeats=1) > 0


@pytest.mark.task6_4
def test_fit_slope_recovers_an_exact_power_law(myscale):
    xs = np.array([1.0, 3.0, 10.0, 30.0, 100.0])
    assert myscale.fit_slope(xs, 3.5 * xs ** 1.7) == pytest.approx(1.7, abs=1e-9)


@pytest.mark.task6_4
def test_fit_slope_is_least_squares_not_the_end_points(myscale):
    xs, ys = [1.0, 10.0, 100.0, 1000.0], [1.0, 30.0, 40.0, 1000.0]
    u, v = np.log(xs), np.log(ys)
    expected = ((u - u.mean()) * (v - v.mean())).sum() / ((u - u.mean()) ** 2).sum()
    assert myscale.fit_slope(xs, ys) == pytest.approx(expected, rel=1e-9)
    assert abs(expected - 1.0) > 0.05          # the end points alone would give exactly 1


@pytest.mark.task6_5
def test_sweep_has_one_measured_row_per_width_and_depth(myscale):
    rows = myscale.sweep(widths=(8, 32), depths=(1, 3), batch_size=8, repeats=1)
    assert [(r["width"], r["depth"]) for r in rows] == [(8, 1), (8, 3), (32, 1), (32, 3)]
    for r in rows:
        model = built(myscale, r["width"], r["depth"], 784, 10)
        assert r["params"] == model.count_params() and r["macs"] == model.macs_per_sample()
        assert r["seconds"] > 0 and r["bytes"] > 0


@pytest.mark.task6_5
def test_plot_sweep_writes_an_image(myscale, tmp_path):
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        pytest.skip("matplotlib is not installed (optional for this lab)")
    rows = [{"width": w, "depth": d, "params": w * w * d, "macs": w * w * d, "seconds": 1e-6 * w * w * d,
             "bytes": 100 * w * d} for w in (8, 16, 32) for d in (1, 2)]
    assert myscale.plot_sweep(rows, tmp_path / "sweep.png") is True
    assert (tmp_path / "sweep.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def exact_params(width, depth, inputs=784, classes=10):
    sizes = [inputs] + [width] * depth + [classes]
    return sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))


def log_slope(xs, ys):
    return float(np.polyfit(np.log(xs), np.log(ys), 1)[0])


@pytest.mark.task6_6
def test_predicted_slopes_match_the_asymptotic_exponents(myscale):
    predicted = myscale.predicted_slopes()
    widths, depths = [2 ** k for k in range(14, 18)], [16, 32, 64, 128]
    truth = {
        "params_vs_width": log_slope(widths, [exact_params(w, 4) for w in widths]),
        "params_vs_depth": log_slope(depths, [exact_params(2 ** 16, d) for d in depths]),
        "macs_vs_params": 1.0,          # a Dense layer does one multiply-accumulate per weight
        "step_vs_macs": 1.0,            # three GEMMs per layer (forward, two gradients) ~ 3 x MACs
        "activations_vs_batch": 1.0,    # (N, width) per layer
    }
    assert sorted(predicted) == sorted(truth)
    for name, value in truth.items():
        assert predicted[name] == pytest.approx(value, abs=0.1), name
