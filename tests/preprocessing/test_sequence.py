"""pad_sequences against Keras' own, and its errors."""

from __future__ import annotations

import numpy as np
import pytest

from tinydl.preprocessing.sequence import pad_sequences
from tinydl.utils import pad_sequences as utils_pad_sequences

SEQUENCES = [[1, 2, 3, 4], [5], [], [6, 7], [8, 9, 10, 11, 12, 13]]


@pytest.mark.parametrize("kwargs", [
    {}, {"maxlen": 3}, {"maxlen": 3, "padding": "post"}, {"maxlen": 3, "truncating": "post"},
    {"maxlen": 8, "padding": "post", "truncating": "post", "value": -1},
    {"maxlen": 2, "dtype": "float32", "value": 0.5}, {"dtype": "int64"},
])
def test_pad_sequences_matches_keras(keras, kwargs):
    expected = keras.utils.pad_sequences(SEQUENCES, **kwargs)
    got = pad_sequences(SEQUENCES, **kwargs)
    assert got.dtype == expected.dtype
    np.testing.assert_array_equal(got, expected)


def test_pad_sequences_with_a_trailing_shape_and_strings(keras):
    steps = [np.ones((3, 2)), np.zeros((1, 2))]
    np.testing.assert_array_equal(pad_sequences(steps, maxlen=2, dtype="float32"),
                                  keras.utils.pad_sequences(steps, maxlen=2, dtype="float32"))
    words = [["a", "b"], ["c"]]
    np.testing.assert_array_equal(pad_sequences(words, dtype=object, value="<pad>"),
                                  keras.utils.pad_sequences(words, dtype=object, value="<pad>"))


def test_pad_sequences_is_exported_from_utils():
    assert utils_pad_sequences is pad_sequences
    np.testing.assert_array_equal(pad_sequences([[1, 2], [3]]), [[1, 2], [0, 3]])
    assert pad_sequences([[1, 2]], maxlen=0).shape == (1, 0)


@pytest.mark.parametrize("kwargs, message", [
    ({"padding": "middle"}, "Received: padding='middle'"),
    ({"truncating": "left"}, "Received: truncating='left'"),
    ({"maxlen": -1}, "Received: maxlen=-1"),
    ({"value": "x"}, "dtype=object"),
])
def test_pad_sequences_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        pad_sequences(SEQUENCES, **kwargs)
    with pytest.raises(ValueError, match="position 1"):
        pad_sequences([[1], 5])
    with pytest.raises(ValueError, match="different from expected shape"):
        pad_sequences([np.ones((2, 3)), np.ones((2, 4))])
