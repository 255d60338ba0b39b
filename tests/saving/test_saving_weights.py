"""save_weights / load_weights: a round trip, and a refused mismatch that changes nothing."""

from __future__ import annotations

import numpy as np
import pytest

import tinydl
from tinydl import layers
from tinydl.models import Sequential, load_model


def _model(units=(8, 3), seed=0, bn=False) -> Sequential:
    tinydl.utils.set_random_seed(seed)
    stack = [layers.Dense(units[0], activation="relu", input_shape=(6,))]
    stack += [layers.BatchNormalization()] if bn else []
    stack += [layers.Dense(u) for u in units[1:]]
    model = Sequential(stack)
    model.build((None, 6))
    return model


def _values(model) -> list:
    return [w.data.copy() for w in model.weights]


@pytest.mark.parametrize("suffix", [".tinydl", ".keras"])
def test_save_weights_load_weights_round_trip(suffix, data, tmp_path):
    source = _model(bn=True)
    source.compile("adam", "sparse_categorical_crossentropy")
    source.fit(*data, epochs=1, batch_size=8, verbose=0)  # moving statistics change too
    source.save_weights(tmp_path / f"w{suffix}")
    target = _model(seed=1, bn=True)
    assert not np.array_equal(target.weights[0].data, source.weights[0].data)
    target.load_weights(tmp_path / f"w{suffix}")
    for a, b in zip(source.weights, target.weights):
        np.testing.assert_array_equal(b.data, a.data)
    np.testing.assert_array_equal(target.predict(data[0], verbose=0),
                                  source.predict(data[0], verbose=0))


def test_load_weights_reads_a_full_model_file_too(trained, saved, data):
    target = Sequential([layers.Dense(8, activation="relu", input_shape=(6,)), layers.Dense(3)])
    target.build((None, 6))
    target.load_weights(saved)
    np.testing.assert_array_equal(target.predict(data[0], verbose=0),
                                  trained.predict(data[0], verbose=0))


@pytest.mark.parametrize("target, message", [
    (dict(units=(8, 4)), r"weight \S*dense\S*/kernel has shape \(8, 3\) in the file, but \(8, 4\)"),
    (dict(units=(8, 3, 2)), r"holds 4 weight arrays, but model .* has 6"),
    (dict(units=(8,)), r"holds 4 weight arrays, but model .* has 2"),
    (dict(units=(8, 3), bn=True), r"holds 4 weight arrays, but model .* has 8"),
], ids=["shape", "more-layers", "fewer-layers", "extra-batchnorm"])
def test_loading_into_another_architecture_raises_and_changes_nothing(target, message, tmp_path):
    _model(units=(8, 3)).save_weights(tmp_path / "w.tinydl")
    model = _model(seed=7, **target)
    before = _values(model)
    with pytest.raises(ValueError, match=message):
        model.load_weights(tmp_path / "w.tinydl")
    for value, w in zip(before, model.weights):
        np.testing.assert_array_equal(w.data, value)


def test_a_mismatch_late_in_the_list_leaves_the_early_weights_unchanged(tmp_path):
    """The first layer matches, the last does not: nothing at all may have been assigned."""
    source = _model(units=(8, 5), seed=1)
    source.save_weights(tmp_path / "w.tinydl")
    target = _model(units=(8, 3), seed=2)
    before = _values(target)
    with pytest.raises(ValueError, match="shape"):
        target.load_weights(tmp_path / "w.tinydl")
    np.testing.assert_array_equal(target.weights[0].data, before[0])


def test_load_weights_needs_a_built_model(tmp_path):
    _model().save_weights(tmp_path / "w.tinydl")
    unbuilt = Sequential([layers.Dense(8), layers.Dense(3)])
    with pytest.raises(ValueError, match="build it first"):
        unbuilt.load_weights(tmp_path / "w.tinydl")


def test_load_model_on_a_weights_only_file_says_what_to_do(tmp_path):
    _model().save_weights(tmp_path / "w.tinydl")
    with pytest.raises(ValueError, match=r"w\.tinydl.*only weights.*load_weights"):
        load_model(tmp_path / "w.tinydl")


def test_saving_an_unbuilt_model_says_how_to_build_it(tmp_path):
    unbuilt = Sequential([layers.Dense(3)])
    for save in (unbuilt.save, unbuilt.save_weights):
        with pytest.raises(ValueError, match="model.build"):
            save(tmp_path / "u.tinydl")
    assert list(tmp_path.iterdir()) == []


def test_a_missing_file_raises_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.tinydl"):
        load_model(tmp_path / "nope.tinydl")
    with pytest.raises(FileNotFoundError):
        _model().load_weights(tmp_path / "nope.tinydl")
