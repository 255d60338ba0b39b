"""Hostile and damaged Keras files ('.keras' zips, legacy '.h5'): each is refused with a
ModelFileError naming the file, before anything large is read or allocated, and nothing in
them is ever run; tinydl's checksums catch a flipped bit in the files it wrote."""

from __future__ import annotations

import io
import json
import os
import shutil
import zipfile

import numpy as np
import pytest

import tinydl
from tinydl.saving import ModelFileError

h5py = pytest.importorskip("h5py")
HERE = os.path.join(os.path.dirname(__file__), "..", "data", "keras_files")


def refused(path, match: str, **kwargs):
    with pytest.raises(ModelFileError, match=match) as info:
        tinydl.models.load_model(path, **kwargs)
    assert os.fspath(path) in str(info.value)


@pytest.fixture
def cnn(tmp_path):
    """A trained seed CNN saved by tinydl as model.keras and model.h5."""
    from keras_file_models import data, seed_cnn
    tinydl.utils.set_random_seed(0)
    model = seed_cnn(tinydl)
    model.fit(*data("seed_cnn"), batch_size=4, epochs=1, verbose=0)
    model.save(tmp_path / "model.keras")
    model.save(tmp_path / "model.h5")
    return model


def members(path) -> dict:
    with zipfile.ZipFile(path) as archive:
        return {n: archive.read(n) for n in archive.namelist()}


def write_zip(path, entries: dict) -> None:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, blob in entries.items():
            archive.writestr(name, blob)


def edit_weights(src, dst, edit) -> None:
    """dst: the '.keras' src with its model.weights.h5 changed by edit(h5 file)."""
    entries = members(src)
    buffer = io.BytesIO(entries["model.weights.h5"])
    with h5py.File(buffer, "a") as h5:
        edit(h5)
    entries["model.weights.h5"] = buffer.getvalue()
    entries.pop("tinydl.sha256.json", None)
    write_zip(dst, entries)


# ----------------------------------------------------------------------------- .keras

def test_tinydl_writes_keras_layout_and_its_checksums(cnn, tmp_path):
    names = set(members(tmp_path / "model.keras"))
    assert names == {"config.json", "metadata.json", "model.weights.h5", "tinydl.sha256.json"}


@pytest.mark.parametrize("entry", ["config.json", "model.weights.h5"])
def test_a_flipped_bit_in_a_tinydl_written_keras_file_is_refused(cnn, tmp_path, entry):
    entries = members(tmp_path / "model.keras")
    blob = bytearray(entries[entry])
    if entry == "config.json":
        at = blob.index(b'"units": 3') + len(b'"units": ')
    else:  # inside the last weight: the Dense bias, stored last
        at = len(blob) - 1 - blob[::-1].index(np.asarray(cnn.weights[-1].data).tobytes()[::-1])
    blob[at] ^= 0x01
    entries[entry] = bytes(blob)
    write_zip(tmp_path / "flipped.keras", entries)
    refused(tmp_path / "flipped.keras", "corrupted: its SHA-256 does not match")


@pytest.mark.parametrize("name", ["../evil.json", "/abs/config.json", "a\\b"])
def test_a_keras_zip_with_a_traversal_name_is_refused(cnn, tmp_path, name):
    entries = members(tmp_path / "model.keras")
    entries[name] = b"{}"
    write_zip(tmp_path / "bad.keras", entries)
    refused(tmp_path / "bad.keras", "unsafe name")


def test_a_keras_zip_bomb_is_refused_from_its_declarations(cnn, tmp_path):
    entries = members(tmp_path / "model.keras")
    entries["model.weights.h5"] = bytes(64 * 2**20)  # deflates to ~64 KB
    write_zip(tmp_path / "bomb.keras", entries)
    refused(tmp_path / "bomb.keras", r"uncompress to 671\d{5} bytes, more than the limit",
            max_bytes=1000)


@pytest.mark.parametrize("kind", ["soft-link", "external-link", "external-file"])
def test_keras_weights_that_reach_outside_are_refused(cnn, tmp_path, kind):
    kernel = np.asarray(cnn.weights[0].data)
    (tmp_path / "raw.bin").write_bytes(kernel.tobytes())

    def edit(h5):
        del h5["layers/conv2d/vars/0"]
        group = h5["layers/conv2d/vars"]
        if kind == "soft-link":
            h5["hidden"] = kernel
            group["0"] = h5py.SoftLink("/hidden")
        elif kind == "external-link":
            group["0"] = h5py.ExternalLink(str(tmp_path / "other.h5"), "/kernel")
        else:
            group.create_dataset("0", shape=kernel.shape, dtype="f4",
                                 external=[(str(tmp_path / "raw.bin"), 0, kernel.nbytes)])
    edit_weights(tmp_path / "model.keras", tmp_path / "reach.keras", edit)
    refused(tmp_path / "reach.keras", "soft link|external link|external files")


def test_keras_weights_that_do_not_fit_are_refused(cnn, tmp_path):
    edit_weights(tmp_path / "model.keras", tmp_path / "shape.keras", lambda h5: (
        h5.__delitem__("layers/dense/vars/1"), h5.create_dataset("layers/dense/vars/1",
                                                                 data=np.zeros(4, "f4"))))
    refused(tmp_path / "shape.keras", "shape")
    edit_weights(tmp_path / "model.keras", tmp_path / "extra.keras",
                 lambda h5: h5.create_dataset("layers/dense/vars/2", data=np.zeros(3, "f4")))
    refused(tmp_path / "extra.keras", "holds 3 arrays")


def test_an_architecture_bomb_allocates_nothing(cnn, tmp_path):
    entries = members(tmp_path / "model.keras")
    config = json.loads(entries["config.json"])
    config["config"]["layers"][-1]["config"]["units"] = 2**31
    entries["config.json"] = json.dumps(config).encode()
    entries.pop("tinydl.sha256.json")
    write_zip(tmp_path / "big.keras", entries)
    refused(tmp_path / "big.keras", "architecture needs more than the limit")


def test_a_tinydl_zip_named_keras_still_loads(cnn, tmp_path):
    """tinydl 0.1 wrote its own zip under '.keras': told apart by content (tinydl.json)."""
    cnn.save(tmp_path / "native.tinydl")
    shutil.copy(tmp_path / "native.tinydl", tmp_path / "old.keras")
    x = np.zeros((2, 8, 8, 1), np.float32)
    np.testing.assert_array_equal(tinydl.models.load_model(tmp_path / "old.keras").predict(
        x, verbose=0), cnn.predict(x, verbose=0))


# ----------------------------------------------------------------------------- legacy .h5

def _keras2_copy(tmp_path, edit_config=None, edit=None):
    path = tmp_path / "edited.h5"
    shutil.copy(os.path.join(HERE, "residual_keras2.h5"), path)
    with h5py.File(path, "r+") as h5:
        if edit_config is not None:
            config = json.loads(h5.attrs["model_config"])
            edit_config(config)
            h5.attrs["model_config"] = json.dumps(config)
        if edit is not None:
            edit(h5)
    return path


def test_a_keras_2_lambda_with_bytecode_is_refused(tmp_path):
    def to_lambda(config):
        layer = config["config"]["layers"][1]
        layer["class_name"] = "Lambda"
        layer["config"] = {"name": layer["config"]["name"], "function": [
            "4wEAAAAAAAAAAAAAAAEAAAACAAAAQwAAAHMIAAAAfABkARQAUwApAk7pAgAAAKkAKQHaAXhyAgAAAHICAAAA",
            None, None], "function_type": "lambda", "module": "__main__", "arguments": {}}
    refused(_keras2_copy(tmp_path, to_lambda), "Lambda.*bytecode.*never runs code")


def test_a_legacy_h5_with_a_soft_link_is_refused(tmp_path):
    def link(h5):
        kernel = h5["model_weights/head/head/kernel:0"][...]
        del h5["model_weights/head/head/kernel:0"]
        h5["hidden"] = kernel
        h5["model_weights/head/head/kernel:0"] = h5py.SoftLink("/hidden")
    refused(_keras2_copy(tmp_path, edit=link), "soft link")


def test_a_legacy_h5_without_a_config_is_weights_only(tmp_path):
    refused(_keras2_copy(tmp_path, edit=lambda h5: h5.attrs.__delitem__("model_config")),
            "holds only weights")


def test_a_flipped_keras_weight_in_a_tinydl_written_h5_is_refused(cnn, tmp_path):
    """tinydl loads its own copy of a '.h5' it wrote; the Keras copy, which load_weights
    by_name reads, carries a SHA-256 per dataset."""
    path = tmp_path / "model.h5"
    with h5py.File(path, "r+") as h5:
        layer = cnn.layers[-1].name
        name = list(h5[f"model_weights/{layer}"].attrs["weight_names"])[-1].decode()
        dataset = h5[f"model_weights/{layer}/{name}"]
        dataset[0] = dataset[0] + 1.0
    with pytest.raises(ModelFileError, match="corrupted: its SHA-256 does not match"):
        cnn.load_weights(path, by_name=True)
    np.testing.assert_array_equal(tinydl.models.load_model(path).weights[-1].data,
                                  cnn.weights[-1].data)  # its own copy is intact


def test_by_name_warns_when_no_layer_name_matches(cnn, tmp_path):
    from keras_file_models import seed_cnn
    with pytest.warns(UserWarning, match="no layer of model"):
        seed_cnn(tinydl).load_weights(tmp_path / "model.h5", by_name=True)


def test_a_legacy_h5_naming_an_unknown_layer_says_which(tmp_path):
    def rename(config):
        config["config"]["layers"][1]["class_name"] = "Frobnicate"
    refused(_keras2_copy(tmp_path, rename), "'Frobnicate'.*custom_objects")
