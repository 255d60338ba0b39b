"""TextVectorization against Keras' own: the same vocabulary from adapt, the same outputs in
every mode; its config round trip, and Keras-style errors."""

from __future__ import annotations

import json

import numpy as np
import pytest

from keras_oracle import import_keras
from tinydl.layers import TextVectorization
from tinydl.preprocessing.dataset import from_arrays

CORPUS = ["The cat sat on the mat.", "The dog ate my homework!", "A cat, a dog; a BIRD?",
          "dogs and cats", "the the the end", "Ünïcode Straße wörds", "tabs\tand\nnew lines"]
QUERIES = ["the cat and the dog", "unknown words only", "", "A BIRD on the mat mat mat",
           "straße"]


@pytest.fixture(scope="module")
def keras():
    return import_keras()


@pytest.mark.parametrize("kwargs", [
    {}, {"max_tokens": 6}, {"output_sequence_length": 4}, {"output_sequence_length": 9},
    {"standardize": "lower"}, {"standardize": None}, {"standardize": "strip_punctuation"},
    {"split": "character", "max_tokens": 12}, {"ngrams": 2, "max_tokens": 20}, {"ngrams": (2, 3)},
    {"output_mode": "multi_hot"}, {"output_mode": "count", "max_tokens": 5},
    {"output_mode": "count", "max_tokens": 30, "pad_to_max_tokens": True},
    {"output_mode": "tf_idf"}, {"output_mode": "tf_idf", "max_tokens": 7, "ngrams": 2},
    {"output_mode": "multi_hot", "split": None},
])
def test_adapt_and_call_match_keras(keras, kwargs):
    theirs, ours = keras.layers.TextVectorization(**kwargs), TextVectorization(**kwargs)
    theirs.adapt(np.array(CORPUS))
    ours.adapt(np.array(CORPUS))
    assert ours.get_vocabulary() == theirs.get_vocabulary()
    assert ours.vocabulary_size() == theirs.vocabulary_size()
    # Keras reads a 1-D batch as one pre-split document when split=None; (N, 1) is a batch
    queries = np.array(QUERIES)[:, None] if kwargs.get("split", "") is None else np.array(QUERIES)
    expected = np.asarray(theirs(queries))
    got = ours(QUERIES)
    got = got if isinstance(got, np.ndarray) else got.data
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=1e-6)
    assert got.dtype == (np.int64 if ours.output_mode == "int" else np.float32)


def test_adapt_on_batches_and_lists_matches_keras(keras):
    import tensorflow as tf
    theirs = keras.layers.TextVectorization(max_tokens=10, output_mode="tf_idf")
    theirs.adapt(tf.data.Dataset.from_tensor_slices(CORPUS).batch(3))
    ours = TextVectorization(max_tokens=10, output_mode="tf_idf")
    ours.adapt(from_arrays((np.array(CORPUS, dtype=object),), batch_size=3))
    assert ours.get_vocabulary() == theirs.get_vocabulary()
    np.testing.assert_allclose(ours(QUERIES).data, np.asarray(theirs(np.array(QUERIES))), rtol=1e-6)
    from_list = TextVectorization(max_tokens=10, output_mode="tf_idf")
    from_list.adapt(CORPUS)
    assert from_list.get_vocabulary() == ours.get_vocabulary()
    generator = TextVectorization()
    generator.adapt(iter([CORPUS[:2], CORPUS[2:]]), steps=1)
    assert set(generator.get_vocabulary()[2:]) == {"the", "cat", "sat", "on", "mat", "dog",
                                                   "ate", "my", "homework"}


def test_set_vocabulary_matches_keras(keras):
    vocabulary = ["cat", "dog", "the"]
    theirs = keras.layers.TextVectorization(vocabulary=vocabulary, output_sequence_length=6)
    ours = TextVectorization(vocabulary=vocabulary, output_sequence_length=6)
    assert ours.get_vocabulary() == theirs.get_vocabulary()
    np.testing.assert_array_equal(ours(QUERIES), np.asarray(theirs(np.array(QUERIES))))
    theirs = keras.layers.TextVectorization(output_mode="tf_idf", vocabulary=vocabulary,
                                            idf_weights=[0.5, 1.0, 2.0])
    ours = TextVectorization(output_mode="tf_idf", vocabulary=vocabulary,
                             idf_weights=[0.5, 1.0, 2.0])
    np.testing.assert_allclose(ours(QUERIES).data, np.asarray(theirs(np.array(QUERIES))))


@pytest.mark.parametrize("kwargs", [{"max_tokens": 8, "output_sequence_length": 5},
                                    {"output_mode": "tf_idf", "ngrams": (1, 2)},
                                    {"output_mode": "count", "pad_to_max_tokens": True,
                                     "max_tokens": 40}])
def test_config_round_trip_keeps_the_vocabulary(kwargs):
    layer = TextVectorization(**kwargs)
    layer.adapt(CORPUS)
    config = json.loads(json.dumps(layer.get_config()))
    clone = TextVectorization.from_config(config)
    assert clone.get_vocabulary() == layer.get_vocabulary()
    a, b = layer(QUERIES), clone(QUERIES)
    np.testing.assert_array_equal(getattr(a, "data", a), getattr(b, "data", b))
    assert clone.get_config() == config


def test_single_string_and_column_inputs():
    layer = TextVectorization(vocabulary=["a", "b"])
    np.testing.assert_array_equal(layer("b a c"), [3, 2, 1])
    np.testing.assert_array_equal(layer(np.array([["a b"], ["b"]])), [[2, 3], [3, 0]])
    np.testing.assert_array_equal(layer([b"a"]), [[2]])


@pytest.mark.parametrize("kwargs, message", [
    ({"output_mode": "binary_count"}, "Received: output_mode='binary_count'"),
    ({"standardize": "upper"}, "Received: standardize='upper'"),
    ({"split": "comma"}, "Received: split='comma'"),
    ({"ngrams": 0}, "Received: ngrams=0"),
    ({"output_mode": "count", "output_sequence_length": 4}, "Received: output_sequence_length=4"),
    ({"max_tokens": 1}, "Received: max_tokens=1"),
    ({"output_mode": "tf_idf", "vocabulary": ["a"]}, "idf_weights"),
    ({"vocabulary": ["a", "a"]}, "without repeats"),
    ({"vocabulary": ["a", "b", "c"], "max_tokens": 4}, "`max_tokens` is 4"),
])
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        TextVectorization(**kwargs)


def test_misuse_is_reported():
    with pytest.raises(ValueError, match="no vocabulary"):
        TextVectorization()(["a"])
    fixed = TextVectorization(vocabulary=["a"])
    with pytest.raises(ValueError, match="Cannot adapt"):
        fixed.adapt(["a"])
    with pytest.raises(ValueError, match="map it to the texts"):
        TextVectorization().adapt(from_arrays((np.array(["a"], object), np.array([1]))))
    with pytest.raises(TypeError, match="expects strings"):
        fixed([1, 2])
