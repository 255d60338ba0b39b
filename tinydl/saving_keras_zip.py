"""Keras 3's '.keras' file: a zip of config.json, metadata.json and model.weights.h5.

    config.json        the model's Keras config (architecture, build and compile settings);
    metadata.json      {'keras_version', 'date_saved'};
    model.weights.h5   HDF5: layers/<name>/vars/<i> (an RNN's under .../cell/vars, a
                       wrapper's under .../layer or .../forward_layer), optimizer/vars/<i>;
    tinydl.sha256.json (written by tinydl, ignored by Keras) the SHA-256 of config.json,
                       metadata.json and of every weight array, verified when present.

Reading checks the zip's members (saving_zip.check_zip_members), reads the weights file
into memory (it is within the size limit by then) and checks its HDF5 tree
(saving_h5.check_h5_tree) before any array is read. A '.keras' zip holding tinydl.json is a
file of tinydl's own format (tinydl 0.1 wrote those): saving.open_file reads it.
"""

from __future__ import annotations

import hashlib
import io
import json
import time
import zipfile

import numpy as np

from tinydl import saving, saving_zip
from tinydl.saving import invalid

CONFIG, METADATA, WEIGHTS, CHECKSUMS = ("config.json", "metadata.json", "model.weights.h5",
                                        "tinydl.sha256.json")
KERAS_VERSION = "3.15.1"  # the Keras whose layout these files follow


def is_keras_zip(path) -> bool:
    """True for a zip holding config.json (Keras 3), False otherwise (tinydl's, or not a zip)."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError, ValueError):
        return False
    return CONFIG in names and saving_zip.DOCUMENT not in names


def sha256(data) -> str:
    return hashlib.sha256(data).hexdigest()


# ----------------------------------------------------------------------------- writing

def weights_h5(h5py, groups: dict) -> tuple[bytes, dict]:
    """(HDF5 bytes, {dataset: SHA-256}) of groups {group path: [arrays]} (empty groups too)."""
    buffer, digests = io.BytesIO(), {}
    with h5py.File(buffer, "w", libver=("v108", "v108")) as h5:
        for group, arrays in groups.items():
            g = h5.require_group(group)
            for i, array in enumerate(arrays):
                array = np.asarray(array, order="C")
                g.create_dataset(str(i), data=array)
                digests[f"{group}/{i}"] = sha256(array.tobytes())
    return buffer.getvalue(), digests


def write(path, h5py, config: dict, groups: dict) -> None:
    """Write a '.keras' file of config and weight groups, with tinydl's checksums, atomically."""
    text = json.dumps(config, allow_nan=False).encode("utf-8")
    metadata = json.dumps({"keras_version": KERAS_VERSION, "date_saved":
                           time.strftime("%Y-%m-%d@%H:%M:%S"), "saved_by": "tinydl"}).encode()
    weights, digests = weights_h5(h5py, groups)
    checksums = json.dumps({CONFIG: sha256(text), METADATA: sha256(metadata),
                            "arrays": digests}, indent=0).encode()

    def write_to(f):
        with zipfile.ZipFile(f, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(METADATA, metadata)
            archive.writestr(CONFIG, text)
            archive.writestr(WEIGHTS, weights, compress_type=zipfile.ZIP_STORED)
            archive.writestr(CHECKSUMS, checksums)

    saving.atomic_write(path, write_to)


# ----------------------------------------------------------------------------- reading

class KerasWeights:
    """A checked HDF5 weights file: its datasets by path, read one at a time (a with block)."""

    def __init__(self, path, h5py, h5, digests: dict | None, max_bytes: int):
        from tinydl import saving_h5
        self.path, self.h5, self.digests = path, h5, digests
        self.datasets = saving_h5.check_h5_tree(h5py, h5, path)
        for name, dataset in self.datasets.items():
            if dataset.dtype.name not in saving.ALLOWED_DTYPES + ("float16",):
                raise invalid(path, f"dataset '{name}' is of dtype {dataset.dtype}")
        total = sum(d.dtype.itemsize * int(np.prod(d.shape)) for d in self.datasets.values())
        if total > max_bytes:
            raise saving.too_large(path, "its arrays declare", total, max_bytes)
        if digests is not None and set(digests) - set(self.datasets):
            raise invalid(path, f"the weights {sorted(set(digests) - set(self.datasets))[:5]} "
                                "its checksums name are missing")

    def read(self, name: str) -> np.ndarray:
        dataset = self.datasets[name]
        array = np.empty(dataset.shape, dataset.dtype)
        try:
            if array.size:
                dataset.read_direct(array)
        except (OSError, RuntimeError, TypeError, ValueError) as exc:
            raise invalid(self.path, f"dataset '{name}' could not be read "
                                     f"({type(exc).__name__}: {exc})") from None
        if self.digests is not None:
            if self.digests.get(name) != sha256(array.tobytes()):
                raise invalid(self.path, f"weight '{name}' is corrupted: its SHA-256 does not "
                                         f"match {CHECKSUMS}")
        return array

    def close(self) -> None:
        self.h5.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()


def open_h5(path, h5py, raw, digests, max_bytes: int) -> KerasWeights:
    """Open HDF5 bytes (or a path) and check its tree; nothing is read yet."""
    try:
        h5 = h5py.File(io.BytesIO(raw) if isinstance(raw, bytes) else raw, "r")
    except OSError as exc:
        raise invalid(path, f"its weights are not a readable HDF5 file ({exc})") from None
    try:
        return KerasWeights(path, h5py, h5, digests, max_bytes)
    except saving.ModelFileError:
        h5.close()
        raise
    except (AttributeError, KeyError, OSError, RuntimeError, TypeError, ValueError) as exc:
        h5.close()
        raise invalid(path, f"its weights could not be read ({type(exc).__name__}: {exc})") \
            from None


def _member(path, archive, members: dict, name: str, limit: int, checksums) -> bytes:
    if name not in members:
        raise invalid(path, f"it has no {name}; it is not a Keras 3 model file")
    if members[name].file_size > limit:
        raise saving.too_large(path, f"its {name} has", members[name].file_size, limit)
    data = archive.read(name)
    if checksums is not None and name in (CONFIG, METADATA) and \
            checksums.get(name) != sha256(data):
        raise invalid(path, f"its {name} is corrupted: its SHA-256 does not match {CHECKSUMS}")
    return data


def read(path, h5py, max_bytes: int, weights: bool = True):
    """(config dict, KerasWeights or None) of a '.keras' file, everything checked."""
    saving.check_regular_file(path)
    with saving_zip._zip_errors(path):
        with zipfile.ZipFile(path) as archive:
            members = saving_zip.check_zip_members(path, archive,
                                                   max_bytes + 3 * saving.MAX_DOCUMENT_BYTES)
            checksums = None
            if CHECKSUMS in members:
                checksums = saving.parse_json(path, _member(
                    path, archive, members, CHECKSUMS, saving.MAX_DOCUMENT_BYTES, None),
                    CHECKSUMS)
                if not isinstance(checksums, dict) or not isinstance(
                        checksums.get("arrays"), dict):
                    raise invalid(path, f"its {CHECKSUMS} is malformed")
            config = saving.parse_json(path, _member(path, archive, members, CONFIG,
                                                     saving.MAX_DOCUMENT_BYTES, checksums),
                                       CONFIG)
            if METADATA in members:
                _member(path, archive, members, METADATA, saving.MAX_DOCUMENT_BYTES, checksums)
            raw = _member(path, archive, members, WEIGHTS, max_bytes + 2**20, None) \
                if weights else None
    if not isinstance(config, dict):
        raise invalid(path, f"its {CONFIG} is not an object")
    if raw is None:
        return config, None
    digests = checksums["arrays"] if checksums is not None else None
    return config, open_h5(path, h5py, raw, digests, max_bytes)
