"""timeseries_dataset_from_array and split_dataset against Keras' own."""

from __future__ import annotations

import numpy as np
import pytest

from tinydl.preprocessing import Dataset, split_dataset, timeseries_dataset_from_array


def _keras_batches(dataset):
    return [tuple(np.asarray(t) for t in b) if isinstance(b, tuple) else (np.asarray(b),)
            for b in dataset]


def _our_batches(dataset):
    return [b if isinstance(b, tuple) else (b,) for b in dataset]


@pytest.mark.parametrize("kwargs", [
    {"sequence_length": 4}, {"sequence_length": 3, "sequence_stride": 2, "sampling_rate": 2},
    {"sequence_length": 5, "batch_size": 4, "start_index": 3, "end_index": 25},
    {"sequence_length": 2, "batch_size": 5, "shuffle": True, "seed": 3},
    {"sequence_length": 3, "batch_size": None},
])
@pytest.mark.parametrize("with_targets", [True, False])
def test_timeseries_windows_match_keras(keras, kwargs, with_targets):
    data = np.arange(60, dtype=np.float32).reshape(30, 2)
    targets = np.arange(100, 130) if with_targets else None
    kwargs = {"batch_size": 6, **kwargs}
    expected = _keras_batches(keras.utils.timeseries_dataset_from_array(data, targets, **kwargs))
    got = _our_batches(timeseries_dataset_from_array(data, targets, **kwargs))
    if kwargs.get("shuffle"):  # Keras also shuffles within a buffer: compare the windows as sets
        def rows(batches):
            return sorted(map(tuple, np.concatenate([b[0].reshape(len(b[0]), -1) for b in batches])))
        assert rows(got) == rows(expected) and len(got) == len(expected)
        return
    assert len(got) == len(expected)
    for ours, theirs in zip(got, expected):
        for a, b in zip(ours, theirs):
            np.testing.assert_array_equal(a, b)


def test_timeseries_bad_arguments():
    data = np.zeros((10, 1))
    with pytest.raises(ValueError, match="Received: sampling_rate=0"):
        timeseries_dataset_from_array(data, None, 3, sampling_rate=0)
    with pytest.raises(ValueError, match="Received: end_index=10"):
        timeseries_dataset_from_array(data, None, 3, end_index=10)
    with pytest.raises(ValueError, match="Received: sequence_length=0"):
        timeseries_dataset_from_array(data, None, 0)


@pytest.mark.parametrize("kwargs", [
    {"left_size": 0.8}, {"right_size": 3}, {"left_size": 4, "right_size": 0.3},
    {"left_size": 0.5, "shuffle": True, "seed": 11}, {"left_size": 7, "shuffle": True, "seed": 2},
])
def test_split_dataset_matches_keras(keras, kwargs):
    x, y = np.arange(30).reshape(15, 2), np.arange(15)
    theirs = keras.utils.split_dataset((x, y), **kwargs)
    ours = split_dataset((x, y), **kwargs)
    for a, b in zip(ours, theirs):
        ours_rows = [(xi.tolist(), int(yi)) for xi, yi in a]
        theirs_rows = [(np.asarray(xi).tolist(), int(yi)) for xi, yi in b]
        assert ours_rows == theirs_rows


def test_split_dataset_keeps_batches_and_errors():
    left, right = split_dataset(np.arange(10), left_size=0.7)
    assert len(left) == 7 and len(right) == 3 and left.batch_size is None
    batched = left.batch(3)
    assert [b.tolist() for b in batched] == [[0, 1, 2], [3, 4, 5], [6]]
    ds = Dataset(lambda idx: (idx * 10,), 9, batch_size=4)
    a, b = split_dataset(ds, right_size=2)
    assert a.batch_size == 4 and [x.tolist() for x in b] == [[70, 80]]
    with pytest.raises(ValueError, match="left_size=None and right_size=None"):
        split_dataset(np.arange(4))
    with pytest.raises(ValueError, match="Received: left_size=1.5"):
        split_dataset(np.arange(4), left_size=1.5)
    with pytest.raises(TypeError, match="Received: left_size='half'"):
        split_dataset(np.arange(4), left_size="half")
    with pytest.raises(TypeError, match="dataset of type dict"):
        split_dataset({"a": 1}, left_size=0.5)
