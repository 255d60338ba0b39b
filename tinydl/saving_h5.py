"""The same content as a .tinydl file, in HDF5 (for '.h5' names; needs the optional h5py).

The JSON document is the root attribute 'tinydl'; each array is a dataset 'arrays/<k>' whose
dtype, shape and SHA-256 (of its raw C-order bytes) the document declares and loading checks.
"""

from __future__ import annotations

import hashlib
import json
import os

import numpy as np

from tinydl import saving


def write(h5py, path, document: dict, arrays: dict) -> None:
    """Write document and arrays to an HDF5 file at path, atomically."""
    table = {}
    for i, (key, array) in enumerate(arrays.items()):
        array = np.asarray(array, order="C")
        table[key] = {"entry": f"arrays/{i}", "dtype": array.dtype.name, "shape": list(array.shape),
                      "sha256": hashlib.sha256(array.tobytes()).hexdigest()}
    document = {"format": saving.FORMAT_NAME, "format_version": saving.FORMAT_VERSION, **document,
                "arrays": table}

    def write_to(f):
        with h5py.File(f, "w") as h5:
            h5.attrs["tinydl"] = json.dumps(document)
            for key, array in arrays.items():
                h5.create_dataset(table[key]["entry"], data=np.asarray(array, order="C"))

    saving.atomic_write(path, write_to)


def read(h5py, path) -> tuple[dict, dict]:
    """Read and verify an HDF5 file written by write(): (document, {name: array})."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"no such model file: '{path}'")
    try:
        with h5py.File(path, "r") as h5:
            return _read_open(h5py, h5, path)
    except OSError as exc:
        raise saving.invalid(path, f"it is not a readable HDF5 file ({exc})") from None
    except (AttributeError, KeyError, TypeError) as exc:  # e.g. a shape that is not a list
        raise saving.invalid(path, f"its tinydl document is malformed ({exc})") from None


def _read_open(h5py, h5, path):
    try:
        document = json.loads(h5.attrs["tinydl"])
    except (KeyError, ValueError, TypeError):
        raise saving.invalid(path, "it has no tinydl document; it is not a tinydl model file") \
            from None
    if not isinstance(document, dict) or document.get("format") != saving.FORMAT_NAME:
        raise saving.invalid(path, "it is not a tinydl model file")
    if document.get("format_version") != saving.FORMAT_VERSION:
        raise saving.invalid(path, f"format version {document.get('format_version')!r} is not "
                                   f"supported (this tinydl reads {saving.FORMAT_VERSION})")
    table = document.get("arrays")
    if not isinstance(table, dict) or not all(isinstance(s, dict) for s in table.values()):
        raise saving.invalid(path, "the arrays table is missing or malformed")
    arrays = {}
    for key, spec in table.items():
        dataset = h5.get(str(spec.get("entry")))
        if not isinstance(dataset, h5py.Dataset) or \
                spec.get("dtype") not in saving.ALLOWED_DTYPES or \
                dataset.dtype.name != spec.get("dtype") or \
                list(dataset.shape) != list(spec.get("shape") or []):
            raise saving.invalid(path, f"array '{key}' is missing or not as declared")
        array = np.asarray(dataset[()], order="C")
        if hashlib.sha256(array.tobytes()).hexdigest() != spec.get("sha256"):
            raise saving.invalid(path, f"array '{key}' is corrupted: its SHA-256 does not match")
        arrays[key] = array
    return document, arrays
