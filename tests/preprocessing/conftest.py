"""Fixtures for the data utilities: Keras as an oracle (imported lazily) and folders of files."""

from __future__ import annotations

import numpy as np
import pytest

from keras_oracle import import_keras


@pytest.fixture(scope="module")
def keras():
    return import_keras()


@pytest.fixture
def image_folder(tmp_path):
    """A folder of PNG (and one JPEG, BMP) images in 3 class subfolders, one nested deeper,
    of mixed sizes and modes; returns its path."""
    image = pytest.importorskip("PIL.Image", reason="could not import PIL (Pillow)")
    rng = np.random.default_rng(0)
    counts = {"cats": 5, "dogs": 4, "zebras": 3}
    for c, (name, count) in enumerate(counts.items()):
        folder = tmp_path / "images" / name
        (folder / "more").mkdir(parents=True)
        for i in range(count):
            h, w = 6 + i, 9 - c
            pixels = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
            target = folder / "more" if i == 0 else folder
            picture = image.fromarray(pixels)
            if i == 1:
                picture = picture.convert("L")
            picture.save(target / f"{name}_{i}.png")
        (folder / "notes.txt").write_text("not an image")
    image.fromarray(rng.integers(0, 256, (7, 5, 3), dtype=np.uint8)).save(
        tmp_path / "images" / "dogs" / "extra.bmp")
    return str(tmp_path / "images")


@pytest.fixture
def text_folder(tmp_path):
    """Two classes of short .txt files (and a file that is not .txt)."""
    texts = {"neg": ["bad movie", "awful, really bad", "not good at all"],
             "pos": ["great film", "good good good", "loved it", "The best."]}
    for name, items in texts.items():
        folder = tmp_path / "texts" / name
        folder.mkdir(parents=True)
        for i, text in enumerate(items):
            (folder / f"{i}.txt").write_text(text)
        (folder / "skip.md").write_text("ignored")
    return str(tmp_path / "texts")
