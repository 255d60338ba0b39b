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
    """True for a zip holding config.json (Keras 3), False otherwise (tinydl's, or not a zip).

    Args:
        path: the file.

    Returns:
        Whether it is a Keras 3 '.keras' file.

    Example:
        >>> import os, tempfile
        >>> import h5py
        >>> folder = tempfile.mkdtemp()
        >>> write(os.path.join(folder, "m.keras"), h5py, {"class_name": "Sequential"}, {})
        >>> with open(os.path.join(folder, "text.keras"), "w") as f:
        ...     _ = f.write("not a zip")
        >>> is_keras_zip(os.path.join(folder, "m.keras")), is_keras_zip(os.path.join(folder, "text.keras"))
        (True, False)
    """
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError, ValueError):
        return False
    return CONFIG in names and saving_zip.DOCUMENT not in names


def _sha256(data) -> str:
    return hashlib.sha256(data).hexdigest()


# ----------------------------------------------------------------------------- writing

def weights_h5(h5py, groups: dict) -> tuple[bytes, dict]:
    """(HDF5 bytes, {dataset: SHA-256}) of groups {group path: [arrays]} (empty groups too).

    Args:
        h5py: the h5py module.
        groups: {group path: [arrays]}; array i is written as <group path>/<i>.

    Returns:
        (the HDF5 file's bytes, {dataset path: SHA-256 of its C-order bytes}).

    Example:
        >>> import io
        >>> import h5py
        >>> raw, digests = weights_h5(h5py, {"layers/dense/vars": [np.ones((3, 2)), np.zeros(2)],
        ...                                  "layers/input_layer/vars": []})
        >>> sorted(digests)
        ['layers/dense/vars/0', 'layers/dense/vars/1']
        >>> with h5py.File(io.BytesIO(raw), "r") as h5:
        ...     h5["layers/dense/vars/0"].shape, len(h5["layers/input_layer/vars"])
        ((3, 2), 0)
    """
    buffer, digests = io.BytesIO(), {}
    with h5py.File(buffer, "w", libver=("v108", "v108")) as h5:
        for group, arrays in groups.items():
            g = h5.require_group(group)
            for i, array in enumerate(arrays):
                array = np.asarray(array, order="C")
                g.create_dataset(str(i), data=array)
                digests[f"{group}/{i}"] = _sha256(array.tobytes())
    return buffer.getvalue(), digests


def write(path, h5py, config: dict, groups: dict) -> None:
    """Write a '.keras' file of config and weight groups, with tinydl's checksums, atomically.

    Args:
        path: the file.
        h5py: the h5py module.
        config: the model's Keras config (JSON, finite numbers only).
        groups: {group path: [arrays]} for model.weights.h5 (see weights_h5).

    Raises:
        ValueError: config is not JSON; path is then left as it was.

    Example:
        >>> import os, tempfile, zipfile
        >>> import h5py
        >>> path = os.path.join(tempfile.mkdtemp(), "m.keras")
        >>> write(path, h5py, {"class_name": "Sequential"}, {"layers/dense/vars": [np.ones(2)]})
        >>> sorted(zipfile.ZipFile(path).namelist())
        ['config.json', 'metadata.json', 'model.weights.h5', 'tinydl.sha256.json']
    """
    text = json.dumps(config, allow_nan=False).encode("utf-8")
    metadata = json.dumps({"keras_version": KERAS_VERSION, "date_saved":
                           time.strftime("%Y-%m-%d@%H:%M:%S"), "saved_by": "tinydl"}).encode()
    weights, digests = weights_h5(h5py, groups)
    checksums = json.dumps({CONFIG: _sha256(text), METADATA: _sha256(metadata),
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
    """A checked HDF5 weights file: its datasets by path, read one at a time (a with block).

    Opening checks the HDF5 tree (saving_h5.check_h5_tree), the dtypes, the total size and
    that every array the checksums name is there; read checks each array's SHA-256.

    Attributes:
        path: the file, for messages.
        h5: the open h5py.File.
        digests: {dataset path: SHA-256}, or None when the file has no checksums.
        datasets: {dataset path: h5py dataset}.

    Raises:
        ModelFileError: a dataset of a dtype tinydl does not load, arrays larger than
            max_bytes, a missing or corrupted array.

    Example:
        >>> import io
        >>> import h5py
        >>> raw, digests = weights_h5(h5py, {"layers/dense/vars": [np.arange(3.0)]})
        >>> with KerasWeights("w.h5", h5py, h5py.File(io.BytesIO(raw), "r"), digests, 2**20) as stored:
        ...     list(stored.datasets), stored.read("layers/dense/vars/0")
        (['layers/dense/vars/0'], array([0., 1., 2.]))
        >>> KerasWeights("w.h5", h5py, h5py.File(io.BytesIO(raw), "r"), {"layers/dense/vars/0": "0" * 64},
        ...              2**20).read("layers/dense/vars/0")
        Traceback (most recent call last):
        ...
        tinydl.saving.ModelFileError: ...weight 'layers/dense/vars/0' is corrupted...
    """

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
            if self.digests.get(name) != _sha256(array.tobytes()):
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
    """Open HDF5 bytes (or a path) and check its tree; nothing is read yet.

    Args:
        path: the file, for messages.
        h5py: the h5py module.
        raw: the HDF5 file's bytes, or its path.
        digests: {dataset path: SHA-256}, or None.
        max_bytes: the most bytes the arrays may take.

    Returns:
        The KerasWeights (close it, or use a with block).

    Raises:
        ModelFileError: raw is not HDF5, or its tree or arrays are refused.

    Example:
        >>> import h5py
        >>> raw, digests = weights_h5(h5py, {"layers/dense/vars": [np.ones((3, 2))]})
        >>> with open_h5("m.keras", h5py, raw, digests, 2**20) as stored:
        ...     stored.read("layers/dense/vars/0").shape
        (3, 2)
        >>> open_h5("m.keras", h5py, raw, digests, 8)  # 48 bytes of arrays
        Traceback (most recent call last):
        ...
        tinydl.saving.ModelFileError: ...
        >>> open_h5("m.keras", h5py, b"not HDF5", None, 2**20)
        Traceback (most recent call last):
        ...
        tinydl.saving.ModelFileError: ...its weights are not a readable HDF5 file...
    """
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
            checksums.get(name) != _sha256(data):
        raise invalid(path, f"its {name} is corrupted: its SHA-256 does not match {CHECKSUMS}")
    return data


def read(path, h5py, max_bytes: int, weights: bool = True):
    """(config dict, KerasWeights or None) of a '.keras' file, everything checked.

    Args:
        path: the file.
        h5py: the h5py module.
        max_bytes: the most bytes the weights may take.
        weights: False: read only the config (the second item is None).

    Returns:
        (the config, the open KerasWeights of model.weights.h5, or None).

    Raises:
        ModelFileError: a damaged, hostile or too large file, or one that is not Keras 3's.

    Example:
        >>> import os, tempfile, zipfile
        >>> import h5py
        >>> path = os.path.join(tempfile.mkdtemp(), "m.keras")
        >>> write(path, h5py, {"class_name": "Sequential"}, {"layers/dense/vars": [np.ones(2)]})
        >>> config, stored = read(path, h5py, 2**20)
        >>> with stored:
        ...     config, stored.read("layers/dense/vars/0")
        ({'class_name': 'Sequential'}, array([1., 1.]))
        >>> with zipfile.ZipFile(path, "w") as archive:
        ...     archive.writestr("metadata.json", "{}")
        >>> read(path, h5py, 2**20)
        Traceback (most recent call last):
        ...
        tinydl.saving.ModelFileError: ...it has no config.json; it is not a Keras 3 model file
    """
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
