"""load_img, img_to_array, array_to_img and save_img against Keras' on the same files and arrays."""

from __future__ import annotations

import os

import numpy as np
import pytest

from tinydl import utils
from keras_oracle import import_keras

Image = pytest.importorskip("PIL.Image", reason="the image utilities need Pillow (tinydl[image])")


@pytest.fixture()
def image_file(tmp_path):
    rng = np.random.default_rng(0)
    path = tmp_path / "picture.png"
    Image.fromarray(rng.integers(0, 256, (13, 21, 3), dtype=np.uint8), "RGB").save(path)
    return str(path)


@pytest.mark.parametrize("options", [
    {}, {"color_mode": "grayscale"}, {"color_mode": "rgba"}, {"target_size": (7, 9)},
    {"target_size": (8, 8), "interpolation": "bilinear"}, {"target_size": (5, 11), "interpolation": "bicubic"},
    {"target_size": (6, 6), "keep_aspect_ratio": True}, {"target_size": (9, 4), "keep_aspect_ratio": True,
                                                         "interpolation": "lanczos"},
])
def test_load_img_and_img_to_array_match_keras(image_file, options):
    keras = import_keras()
    theirs = keras.utils.img_to_array(keras.utils.load_img(image_file, **options))
    ours = utils.img_to_array(utils.load_img(image_file, **options))
    assert ours.dtype == theirs.dtype and ours.shape == theirs.shape
    np.testing.assert_array_equal(ours, theirs)
    np.testing.assert_array_equal(utils.img_to_array(utils.load_img(image_file, **options), "channels_first"),
                                  keras.utils.img_to_array(keras.utils.load_img(image_file, **options),
                                                           "channels_first"))


@pytest.mark.parametrize("shape,scale", [((4, 5, 3), True), ((4, 5, 4), True), ((4, 5, 1), True),
                                         ((4, 5, 3), False), ((3, 2, 1), False)])
def test_array_to_img_matches_keras(shape, scale):
    keras = import_keras()
    x = np.random.default_rng(1).uniform(-3, 200, shape).astype(np.float32)
    theirs, ours = keras.utils.array_to_img(x, scale=scale), utils.array_to_img(x, scale=scale)
    assert ours.mode == theirs.mode and ours.size == theirs.size
    np.testing.assert_array_equal(np.asarray(ours), np.asarray(theirs))


@pytest.mark.parametrize("name", ["x.png", "x.jpg", "x.bmp"])
def test_save_img_writes_what_keras_writes(tmp_path, name):
    keras = import_keras()
    x = np.random.default_rng(2).uniform(0, 1, (6, 7, 3)).astype(np.float32)
    ours_path, theirs_path = tmp_path / f"ours-{name}", tmp_path / f"theirs-{name}"
    utils.save_img(str(ours_path), x)
    keras.utils.save_img(str(theirs_path), x)
    np.testing.assert_array_equal(np.asarray(Image.open(ours_path)), np.asarray(Image.open(theirs_path)))
    assert [f for f in os.listdir(tmp_path) if f.startswith(".tinydl")] == []


def test_rgba_as_jpeg_warns_and_bad_input_raises(tmp_path, image_file):
    with pytest.warns(UserWarning, match="RGBA"):
        utils.save_img(str(tmp_path / "a.jpeg"), np.ones((2, 2, 4)))
    with pytest.raises(ValueError, match="rank 3"):
        utils.array_to_img(np.ones((2, 2)))
    with pytest.raises(ValueError, match="1, 3 or 4 channels"):
        utils.array_to_img(np.ones((2, 2, 2)))
    with pytest.raises(ValueError, match="color_mode"):
        utils.load_img(image_file, color_mode="cmyk")
    with pytest.raises(ValueError, match="interpolation"):
        utils.load_img(image_file, target_size=(2, 2), interpolation="area")
    with pytest.raises(ValueError, match="target_size"):
        utils.load_img(image_file, target_size=(0, 2))
    with pytest.raises(TypeError, match="path"):
        utils.load_img(3)
