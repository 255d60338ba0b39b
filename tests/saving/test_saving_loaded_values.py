"""What a file says is checked as a user's arguments are: optimizer state and settings,
schedules, losses and metrics go through tinydl's constructors (or the same checks), a file
may name only tinydl's own concrete classes, and every refusal names the file."""

from __future__ import annotations

import hashlib
import io
import json
import math

import numpy as np
import pytest

from tinydl import layers, saving
from tinydl.models import Sequential, load_model

FORMATS = [".tinydl", ".h5"]


def _npy(value: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, value, allow_pickle=False)
    return buffer.getvalue()


@pytest.fixture
def replace_array(forge, forge_h5, tmp_path):
    """replace_array(src, key, value) -> a copy of src whose array key is value, its dtype,
    shape and SHA-256 declared to match (a consistent file, only the value is hostile)."""
    def replace(src, key, value):
        value = np.asarray(value)
        dst = tmp_path / f"edited{src.suffix}"
        if src.suffix == ".tinydl":
            def edit(document, entries):
                spec = document["arrays"][key]
                entries[spec["entry"]] = _npy(value)
                spec.update(dtype=value.dtype.name, shape=list(value.shape),
                            sha256=hashlib.sha256(entries[spec["entry"]]).hexdigest())
            return forge(src, dst, edit)
        h5py = pytest.importorskip("h5py")
        dst.write_bytes(src.read_bytes())
        with h5py.File(dst, "r+") as h5:
            entry = json.loads(h5["tinydl.json"][()].tobytes())["arrays"][key]["entry"]
            del h5[entry]
            h5[entry] = value
            forge_h5(h5, lambda document: document["arrays"][key].update(
                dtype=value.dtype.name, shape=list(value.shape),
                sha256=hashlib.sha256(np.ascontiguousarray(value).tobytes()).hexdigest()))
        return dst
    return replace


@pytest.fixture
def edit_document(forge, forge_h5, tmp_path):
    """edit_document(src, edit) -> a copy of src with edit(document) applied, consistent."""
    def rewrite(src, edit):
        dst = tmp_path / f"edited{src.suffix}"
        if src.suffix == ".tinydl":
            return forge(src, dst, lambda document, entries: edit(document))
        h5py = pytest.importorskip("h5py")
        dst.write_bytes(src.read_bytes())
        with h5py.File(dst, "r+") as h5:
            forge_h5(h5, edit)
        return dst
    return rewrite


@pytest.fixture(params=FORMATS)
def saved_as(request, trained, tmp_path):
    path = tmp_path / f"model{request.param}"
    trained.save(path)
    return path


def _refused(path, match):
    with pytest.raises(saving.ModelFileError, match=match) as info:
        load_model(path)
    assert str(path) in str(info.value)


# ----------------------------------------------------------------------------- optimizer state

@pytest.mark.parametrize("value", [-0.01, 0.0, math.nan, math.inf])
def test_a_stored_learning_rate_the_constructor_would_refuse_is_refused(
        saved_as, replace_array, value):
    """A learning rate of -0.01 loaded, and SGD then trained uphill (loss 8.6 -> 100.6)."""
    bad = replace_array(saved_as, "optimizer/learning_rate", np.float64(value))
    _refused(bad, "optimizer state is not valid.*learning_rate must be a positive finite")


def test_a_negative_step_count_is_refused(saved_as, replace_array):
    bad = replace_array(saved_as, "optimizer/iterations", np.int64(-3))
    _refused(bad, "iterations must be a non-negative integer")


def test_a_slot_with_nan_is_refused(saved_as, replace_array, trained):
    momentum = trained.optimizer.get_state()["slot.momentum.0"].copy()
    momentum[0, 0] = np.nan
    _refused(replace_array(saved_as, "optimizer/slot.momentum.0", momentum),
             r"'slot\.momentum\.0' must hold finite values.*1 NaN")


def test_a_negative_running_average_of_squares_is_refused(saved_as, replace_array, trained):
    velocity = trained.optimizer.get_state()["slot.velocity.1"].copy()
    velocity[0] = -1.0
    _refused(replace_array(saved_as, "optimizer/slot.velocity.1", velocity),
             r"'slot\.velocity\.1' is a running average of squared gradients")


def test_a_state_of_another_shape_is_refused_before_any_array_is_read(
        saved_as, replace_array, trained, monkeypatch):
    state = trained.optimizer.get_state()["slot.momentum.0"]
    bad = replace_array(saved_as, "optimizer/slot.momentum.0", np.zeros(state.shape[::-1],
                                                                         np.float32))

    def no_reading(self, key):
        raise AssertionError(f"array {key} was read before the declarations were checked")

    monkeypatch.setattr(saving.StoredFile, "read", no_reading)
    for cls in saving.StoredFile.__subclasses__():
        monkeypatch.setattr(cls, "read", no_reading)
    _refused(bad, r"optimizer state 'slot\.momentum\.0' is declared float32 \(8, 6\)")


# ----------------------------------------------------------------------------- settings

def _set_optimizer(document, **config):
    document["compile"]["optimizer"]["config"].update(config)


@pytest.mark.parametrize("config, match", [
    (dict(learning_rate=-0.01), "learning_rate must be a positive finite"),
    (dict(epsilon=0.0), "epsilon must be a positive finite number"),
    (dict(epsilon=-1e-7), "epsilon must be a positive finite number"),
    (dict(weight_decay=-0.5), "weight_decay must be a finite number >= 0"),
    (dict(beta_1=1.5), "beta_1 must be in"),
    (dict(learning_rate={"class_name": "PiecewiseConstantDecay",
                         "config": {"boundaries": [10], "values": [0.01, -0.01]}}),
     "each of values must be a positive finite"),
    (dict(learning_rate={"class_name": "LearningRateSchedule", "config": {}}),
     "unknown learning-rate schedule"),
    (dict(learning_rate={"class_name": "math", "config": {}}), "unknown learning-rate schedule"),
], ids=["lr", "epsilon-0", "epsilon-negative", "weight-decay", "beta", "schedule-values",
        "schedule-base-class", "schedule-not-a-class"])
def test_optimizer_settings_go_through_the_constructor(saved_as, edit_document, config, match):
    _refused(edit_document(saved_as, lambda document: _set_optimizer(document, **config)), match)


@pytest.mark.parametrize("where, spec", [
    ("loss", {"class_name": "LossFunctionWrapper", "config": {"fn": "print"}}),
    ("loss", {"class_name": "Loss", "config": {}}),
    ("loss", {"class_name": "_FunctionLoss", "config": {}}),
    ("optimizer", {"class_name": "Optimizer", "config": {}}),
    ("metrics", [{"class_name": "MeanMetricWrapper", "config": {"fn": "len"}}]),
    ("metrics", [{"class_name": "Metric", "config": {}}]),
], ids=["loss-wrapper", "loss-base", "loss-private", "optimizer-base", "metric-wrapper",
        "metric-base"])
def test_a_file_may_name_only_concrete_tinydl_classes(saved_as, edit_document, where, spec):
    """A LossFunctionWrapper naming a non-callable used to load and fail in fit; a base class
    loaded and raised NotImplementedError there."""
    def edit(document):
        document["compile"][where] = spec
    _refused(edit_document(saved_as, edit), r"unknown (loss|optimizer|metric) .*a file may "
                                            r"name one of \[")


@pytest.mark.parametrize("shape", [[None, -1], [None, 0], [None, 1.5], [None], "6", [-2, 6]])
def test_an_input_shape_that_is_not_sizes_is_refused(saved_as, edit_document, shape):
    _refused(edit_document(saved_as, lambda document: document.update(input_shape=shape)),
             "input shape .* is not a list of sizes")


def test_a_config_that_json_cannot_hold_exactly_is_refused_at_save(tmp_path):
    """NaN has no JSON spelling; written as the token NaN, load_model refuses it, so save must."""
    model = Sequential([layers.Rescaling(math.nan, input_shape=(3,))])
    model.build((None, 3))
    with pytest.raises(ValueError, match="not JSON .*finite numbers.*Out of range float"):
        model.save(tmp_path / "nan.tinydl")
    assert list(tmp_path.iterdir()) == []


def test_the_error_is_a_value_error_that_carries_the_path(saved_as, edit_document):
    bad = edit_document(saved_as, lambda document: _set_optimizer(document, learning_rate=-1))
    with pytest.raises(ValueError) as info:
        load_model(bad)
    assert isinstance(info.value, saving.ModelFileError) and info.value.path == str(bad)
