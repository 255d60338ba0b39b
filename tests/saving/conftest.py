"""Fixtures for the persistence tests: a small trained model, its saved file, and helpers
that forge damaged or hostile files (an archive rewritten entry by entry, a .h5 document
rewritten with its checksum)."""

from __future__ import annotations

import hashlib
import json
import zipfile

import numpy as np
import pytest

import tinydl
from tinydl import layers
from tinydl.models import Sequential


@pytest.fixture
def data():
    """x (32, 6) float32 and integer labels y (32,) in 0..2."""
    rng = np.random.default_rng(0)
    return rng.normal(size=(32, 6)).astype(np.float32), np.arange(32) % 3


@pytest.fixture
def trained(data):
    """A compiled Dense model trained for one epoch with Adam (so the optimizer has state)."""
    tinydl.utils.set_random_seed(1)
    model = Sequential([layers.Dense(8, activation="relu", input_shape=(6,)), layers.Dense(3)])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(*data, epochs=1, batch_size=8, verbose=0)
    return model


@pytest.fixture
def saved(trained, tmp_path):
    """The path of `trained` saved as model.tinydl."""
    path = tmp_path / "model.tinydl"
    trained.save(path)
    return path


def read_entries(path) -> tuple[dict, dict]:
    """(document, {entry name: bytes}) of an archive, without any of tinydl's checks."""
    with zipfile.ZipFile(path) as archive:
        entries = {name: archive.read(name) for name in archive.namelist()}
    return json.loads(entries.pop("tinydl.json")), entries


def write_entries(path, document: dict, entries: dict) -> None:
    """Write a zip with tinydl.json = document and the given {name: bytes} entries."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("tinydl.json", json.dumps(document))
        for name, blob in entries.items():
            archive.writestr(name, blob)


@pytest.fixture
def forge():
    """forge(src, dst, edit): copy archive src to dst after edit(document, entries) changed
    them in place (the zip itself is valid, so only tinydl's own checks can refuse it)."""
    def rewrite(src, dst, edit):
        document, entries = read_entries(src)
        edit(document, entries)
        write_entries(dst, document, entries)
        return dst
    return rewrite


def rewrite_h5_document(h5, edit) -> None:
    """Apply edit(document) to an open .h5 model file's document and store its checksum
    again, so that only the checks after the checksum's can refuse the file."""
    document = json.loads(h5["tinydl.json"][()].tobytes())
    edit(document)
    text = json.dumps(document).encode()
    del h5["tinydl.json"]
    h5["tinydl.json"] = np.frombuffer(text, np.uint8)
    h5.attrs["tinydl_sha256"] = np.bytes_(hashlib.sha256(text).hexdigest())


@pytest.fixture
def forge_h5():
    """forge_h5(h5, edit): rewrite_h5_document, as a fixture."""
    return rewrite_h5_document
