"""image_dataset_from_directory and text_dataset_from_directory against Keras' own, on small
folders of files made by the test; and the Dataset they return, trained on for many epochs."""

from __future__ import annotations

import os
import sys

import numpy as np
import pytest

import tinydl
from tinydl.layers import Dense, Flatten
from tinydl.preprocessing import image_dataset_from_directory, text_dataset_from_directory


def _batches(dataset):
    return [tuple(np.asarray(t) for t in b) if isinstance(b, tuple) else (np.asarray(b),)
            for b in dataset]


def _same_batches(ours, theirs, atol=1e-3):
    got, expected = _batches(ours), _batches(theirs)
    assert len(ours) == len(got) == len(expected)
    for a, b in zip(got, expected):
        assert [t.shape for t in a] == [t.shape for t in b]
        for s, t in zip(a, b):
            if s.dtype.kind in "OU":
                assert [str(v) for v in s.reshape(-1)] == [
                    v.decode() if isinstance(v, bytes) else str(v) for v in t.reshape(-1)]
            else:  # tinydl's images are always float32 (TensorFlow's nearest resize keeps uint8)
                assert s.dtype == (np.float32 if t.dtype == np.uint8 and s.ndim == 4 else t.dtype)
                np.testing.assert_allclose(s, t, atol=atol)


@pytest.mark.parametrize("kwargs", [
    {}, {"label_mode": "categorical", "batch_size": 5, "image_size": (4, 6)},
    {"color_mode": "grayscale", "image_size": 5, "interpolation": "nearest",
     "class_names": ["cats", "zebras"]},  # TensorFlow cannot decode a BMP to grayscale
    {"color_mode": "rgba", "image_size": (9, 3), "label_mode": None},
    {"class_names": ["zebras", "cats"], "label_mode": "binary", "batch_size": 3},
    {"batch_size": None, "image_size": (8, 8)},
])
def test_image_folder_matches_keras_unshuffled(keras, image_folder, kwargs):
    kwargs = {"image_size": (7, 7), "batch_size": 4, "shuffle": False, "verbose": False, **kwargs}
    theirs = keras.utils.image_dataset_from_directory(image_folder, **kwargs)
    ours = image_dataset_from_directory(image_folder, **kwargs)
    assert ours.class_names == theirs.class_names
    assert ours.file_paths == theirs.file_paths
    _same_batches(ours, theirs)


@pytest.mark.parametrize("subset", ["training", "validation"])
def test_image_folder_split_with_a_seed_picks_keras_files(keras, image_folder, subset):
    kwargs = {"image_size": (5, 5), "batch_size": 2, "seed": 42, "validation_split": 0.3,
              "subset": subset, "verbose": False}
    theirs = keras.utils.image_dataset_from_directory(image_folder, **kwargs)
    ours = image_dataset_from_directory(image_folder, **kwargs)
    assert ours.file_paths == theirs.file_paths           # the same files, in the same order
    assert len(ours) == len(list(theirs))
    our_labels = np.concatenate([y for _, y in ours])
    their_labels = np.concatenate([np.asarray(y) for _, y in theirs])
    assert sorted(our_labels.tolist()) == sorted(their_labels.tolist())


def test_image_folder_both_subsets_partition_the_files(image_folder):
    train, val = image_dataset_from_directory(image_folder, image_size=(4, 4), seed=1,
                                              validation_split=0.25, subset="both", verbose=False)
    assert len(train.file_paths) + len(val.file_paths) == 13
    assert not set(train.file_paths) & set(val.file_paths)
    assert train.class_names == val.class_names == ["cats", "dogs", "zebras"]


def test_fit_iterates_an_image_dataset_for_many_epochs(image_folder):
    ds = image_dataset_from_directory(image_folder, image_size=(6, 6), batch_size=5, seed=3,
                                      verbose=False)
    first_epoch = [y.tolist() for _, y in ds]
    second_epoch = [y.tolist() for _, y in ds]
    assert sorted(sum(first_epoch, [])) == sorted(sum(second_epoch, []))
    assert first_epoch != second_epoch                      # reshuffled between epochs
    model = tinydl.models.Sequential([Flatten(), Dense(3, activation="softmax")])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    history = model.fit(ds.map(lambda x, y: (x / 255.0, y)), epochs=3, verbose=0)
    assert len(history.history["loss"]) == 3 and np.all(np.isfinite(history.history["loss"]))


def test_dataset_methods_take_cache_unbatch(image_folder):
    ds = image_dataset_from_directory(image_folder, image_size=(3, 3), batch_size=4,
                                      shuffle=False, verbose=False)
    assert len(ds) == 4 and len(ds.take(2)) == 2
    cached = ds.cache()
    np.testing.assert_array_equal(cached[1][0], ds[1][0])
    single = ds.unbatch()
    assert len(single) == 13 and single[0][0].shape == (3, 3, 3) and single[0][1].shape == ()
    assert single.batch(6)[1][0].shape == (6, 3, 3, 3)
    assert ds.prefetch(2) is ds
    with pytest.raises(ValueError, match="already batched"):
        ds.batch(2)


@pytest.mark.parametrize("kwargs", [
    {}, {"label_mode": "binary", "max_length": 5}, {"label_mode": "categorical", "batch_size": 2},
    {"class_names": ["pos"], "batch_size": None},
])
def test_text_folder_matches_keras_unshuffled(keras, text_folder, kwargs):
    kwargs = {"batch_size": 3, "shuffle": False, "verbose": False, **kwargs}
    theirs = keras.utils.text_dataset_from_directory(text_folder, **kwargs)
    ours = text_dataset_from_directory(text_folder, **kwargs)
    assert ours.class_names == theirs.class_names
    _same_batches(ours, theirs)


def test_text_folder_shuffled_split_picks_keras_files(keras, text_folder):
    kwargs = {"batch_size": 2, "seed": 5, "validation_split": 0.3, "subset": "validation",
              "verbose": False}
    theirs = keras.utils.text_dataset_from_directory(text_folder, **kwargs)
    ours = text_dataset_from_directory(text_folder, **kwargs)
    their_texts = sorted(v.decode() for x, _ in theirs for v in np.asarray(x))
    assert sorted(str(v) for x, _ in ours for v in x) == their_texts


@pytest.mark.parametrize("kwargs, message", [
    ({"label_mode": "sparse"}, "Received: label_mode='sparse'"),
    ({"color_mode": "cmyk"}, "Received: color_mode='cmyk'"),
    ({"image_size": (0, 4)}, r"Received: image_size=\(0, 4\)"),
    ({"validation_split": 0.2}, "subset"),
    ({"validation_split": 0.2, "subset": "training"}, "Received: seed=None"),
    ({"validation_split": 1.5, "subset": "training", "seed": 1}, "Received: validation_split=1.5"),
    ({"subset": "test", "validation_split": 0.2, "seed": 1}, "Received: subset='test'"),
    ({"label_mode": "binary"}, "exactly 2"),
    ({"class_names": ["lions"]}, r"Received: class_names=\['lions'\]"),
    ({"interpolation": "bicubic"}, "Received: interpolation='bicubic'"),
    ({"batch_size": 0}, "Received: batch_size=0"),
])
def test_image_folder_bad_arguments(image_folder, kwargs, message):
    with pytest.raises(ValueError, match=message):
        image_dataset_from_directory(image_folder, verbose=False, **kwargs)


def test_missing_folder_empty_folder_and_damaged_file(tmp_path, image_folder):
    with pytest.raises(ValueError, match="existing folder"):
        image_dataset_from_directory(str(tmp_path / "nowhere"), verbose=False)
    (tmp_path / "empty" / "a").mkdir(parents=True)
    with pytest.raises(ValueError, match="No images found"):
        image_dataset_from_directory(str(tmp_path / "empty"), verbose=False)
    with open(os.path.join(image_folder, "cats", "broken.png"), "wb") as f:
        f.write(b"\x89PNG not really")
    ds = image_dataset_from_directory(image_folder, shuffle=False, image_size=(4, 4),
                                      batch_size=20, verbose=False)
    with pytest.raises(ValueError, match="broken.png"):
        ds[0]


def test_without_pillow_the_message_says_how_to_install(image_folder, monkeypatch):
    monkeypatch.setitem(sys.modules, "PIL", None)
    with pytest.raises(ImportError, match=r"tinydl\[image\]"):
        image_dataset_from_directory(image_folder)
