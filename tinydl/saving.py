"""Saving and loading models without pickle: a zip of one JSON document and .npy arrays.

A `.tinydl` file is a zip archive holding
    tinydl.json      format version, architecture, compile settings, and for every array
                     its entry name, dtype, shape and SHA-256;
    arrays/<k>.npy   the arrays, in NumPy's .npy format (plain numbers, never objects).

Loading trusts nothing in the file: entry names must be exactly the ones the JSON declares
(arrays/<k>.npy, so never a path such as ../x), each entry's size must equal what its dtype
and shape imply (checked before reading, so a zip bomb is refused), every array's SHA-256
must match, np.load runs with allow_pickle=False, and layers are rebuilt only from tinydl's
own registry of classes. Saving writes a temporary file in the same folder, flushes and fsyncs
it, then renames it over the target, so a failed save leaves the previous file intact.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import os
import re
import tempfile
import zipfile
import zlib

import numpy as np

FORMAT_NAME = "tinydl"
FORMAT_VERSION = 1
DOCUMENT = "tinydl.json"
MAX_DOCUMENT_BYTES = 16 * 2**20
ALLOWED_DTYPES = ("float32", "float64", "int64", "int32", "uint8", "bool")
ENTRY_NAME = re.compile(r"arrays/[0-9]+\.npy")  # the only entry names besides DOCUMENT


# ----------------------------------------------------------------------------- atomic writes

def atomic_write(path, write) -> None:
    """Call write(file) on a temporary file beside path, fsync it, then rename it to path.

    Any exception leaves path as it was and removes the temporary file.
    """
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix="-" + os.path.basename(path), dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


# ----------------------------------------------------------------------------- the archive

def _npy_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, np.asarray(array, order="C"), allow_pickle=False)
    return buffer.getvalue()


def _npy_size(dtype: np.dtype, shape: tuple) -> int:
    """Exact size of the .npy file for an array of this dtype and shape."""
    return len(_npy_bytes(np.zeros((0,), dtype=dtype))) - len(_header_of(0, dtype)) + \
        len(_header_of_shape(dtype, shape)) + math.prod(shape) * dtype.itemsize  # no overflow


def _header_of(n, dtype):
    return _header_of_shape(dtype, (n,))


def _header_of_shape(dtype, shape):
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buffer, {"descr": np.lib.format.dtype_to_descr(dtype), "fortran_order": False,
                 "shape": tuple(shape)})
    return buffer.getvalue()


def write_archive(path, document: dict, arrays: dict) -> None:
    """Write document (JSON-able) and named arrays to path as a .tinydl zip, atomically."""
    entries, blobs = {}, {}
    for key, array in arrays.items():
        array = np.asarray(array)
        if array.dtype.name not in ALLOWED_DTYPES:
            raise TypeError(f"cannot save array '{key}' of dtype {array.dtype}")
        data = _npy_bytes(array)
        entry = f"arrays/{len(entries)}.npy"
        entries[key] = {"entry": entry, "dtype": array.dtype.name, "shape": list(array.shape),
                        "sha256": hashlib.sha256(data).hexdigest()}
        blobs[entry] = data
    document = {"format": FORMAT_NAME, "format_version": FORMAT_VERSION, **document,
                "arrays": entries}
    text = json.dumps(document, indent=1).encode("utf-8")

    def write(f):
        with zipfile.ZipFile(f, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(DOCUMENT, text)
            for entry, data in blobs.items():
                archive.writestr(entry, data)

    atomic_write(path, write)


def invalid(path, what: str) -> ValueError:
    """The error for a file that cannot be loaded: it names the file and what is wrong."""
    return ValueError(f"cannot load '{os.fspath(path)}': {what}")


_fail = invalid


def _read_document(path, archive: zipfile.ZipFile) -> dict:
    try:
        info = archive.getinfo(DOCUMENT)
    except KeyError:
        raise _fail(path, f"it has no {DOCUMENT}; it is not a tinydl model file") from None
    if info.file_size > MAX_DOCUMENT_BYTES:
        raise _fail(path, f"{DOCUMENT} is {info.file_size} bytes, more than allowed")
    try:
        document = json.loads(archive.read(DOCUMENT).decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise _fail(path, f"{DOCUMENT} is not valid JSON ({exc})") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT_NAME:
        raise _fail(path, "it is not a tinydl model file (format field missing or foreign)")
    if document.get("format_version") != FORMAT_VERSION:
        raise _fail(path, f"format version {document.get('format_version')!r} is not supported "
                          f"(this tinydl reads version {FORMAT_VERSION})")
    if not isinstance(document.get("arrays"), dict):
        raise _fail(path, "the arrays table is missing")
    return document


def _check_entries(path, archive, table: dict) -> None:
    declared = {str(spec.get("entry")) for spec in table.values() if isinstance(spec, dict)}
    names = archive.namelist()
    bad = [name for name in declared | set(names)
           if name != DOCUMENT and not ENTRY_NAME.fullmatch(name)]
    if bad:
        raise _fail(path, f"entry names {sorted(bad)[:5]} are not of the form arrays/<k>.npy")
    if len(names) != len(set(names)):
        raise _fail(path, "it holds two entries with the same name")
    present = set(names)
    unexpected = present - declared - {DOCUMENT}
    if unexpected:
        raise _fail(path, f"unexpected entries {sorted(unexpected)[:5]}")
    missing = declared - present
    if missing:
        raise _fail(path, f"missing entries {sorted(missing)[:5]} (the file may be truncated)")


def _read_array(path, archive, key: str, spec: dict) -> np.ndarray:
    try:
        dtype, shape = np.dtype(spec["dtype"]), tuple(int(s) for s in spec["shape"])
        entry, digest = str(spec["entry"]), str(spec["sha256"])
    except (KeyError, TypeError, ValueError):
        raise _fail(path, f"the description of array '{key}' is malformed") from None
    if dtype.name not in ALLOWED_DTYPES or any(s < 0 for s in shape):
        raise _fail(path, f"array '{key}' declares dtype {dtype} and shape {shape}, not allowed")
    expected_size = _npy_size(dtype, shape)
    if archive.getinfo(entry).file_size != expected_size:
        raise _fail(path, f"entry {entry} for '{key}' has {archive.getinfo(entry).file_size} "
                          f"bytes, but dtype {dtype} and shape {shape} need {expected_size}")
    data = archive.read(entry)
    if hashlib.sha256(data).hexdigest() != digest:
        raise _fail(path, f"array '{key}' ({entry}) is corrupted: its SHA-256 does not match")
    array = np.load(io.BytesIO(data), allow_pickle=False)
    if array.dtype != dtype or array.shape != shape:
        raise _fail(path, f"array '{key}' holds {array.dtype} {array.shape}, declared {dtype} {shape}")
    return array


def read_archive(path) -> tuple[dict, dict]:
    """Read and verify a .tinydl file: (document, {name: array}).

    Raises:
        ValueError: naming the file and what is wrong, for a truncated, corrupted,
            foreign or wrong-version file.
        FileNotFoundError: when there is no such file.
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"no such model file: '{path}'")
    try:
        with zipfile.ZipFile(path) as archive:
            document = _read_document(path, archive)
            _check_entries(path, archive, document["arrays"])
            arrays = {key: _read_array(path, archive, key, spec)
                      for key, spec in document["arrays"].items()}
    except zipfile.BadZipFile as exc:
        raise _fail(path, f"it is not a valid zip archive ({exc}); truncated or not a tinydl file") \
            from None
    # zipfile raises NotImplementedError (a RuntimeError) for an unknown compression method
    # or version, and RuntimeError for an 'encrypted' entry: bits flipped in a header.
    except (zipfile.LargeZipFile, zlib.error, EOFError, OSError, RuntimeError,
            ValueError) as exc:
        if isinstance(exc, ValueError) and str(exc).startswith("cannot load"):
            raise
        if isinstance(exc, FileNotFoundError):
            raise
        raise _fail(path, f"it could not be read ({type(exc).__name__}: {exc})") from None
    return document, arrays


# ----------------------------------------------------------------------------- by file name

NATIVE_SUFFIXES = (".tinydl", ".keras")
H5_SUFFIXES = (".h5", ".hdf5")


def _format_of(path) -> str:
    name = os.fspath(path).lower()
    if name.endswith(NATIVE_SUFFIXES):
        return "zip"
    if name.endswith(H5_SUFFIXES):
        return "h5"
    raise ValueError(f"unsupported file name '{os.fspath(path)}': use one of the suffixes "
                     f"{NATIVE_SUFFIXES + H5_SUFFIXES} ('.tinydl' is the native format; "
                     "'.h5' needs h5py)")


def _h5py():
    try:
        import h5py
    except ImportError:
        raise ImportError("saving or loading '.h5' files needs h5py: pip install h5py "
                          "(or pip install 'tinydl[h5]'), or use a '.tinydl' file name") from None
    return h5py


def save(path, document: dict, arrays: dict) -> None:
    """Write document and arrays to path in the format its suffix names, atomically."""
    if _format_of(path) == "zip":
        write_archive(path, document, arrays)
    else:
        from tinydl import saving_h5
        saving_h5.write(_h5py(), path, document, arrays)


def load(path) -> tuple[dict, dict]:
    """Read and verify a file written by save: (document, {name: array})."""
    if _format_of(path) == "zip":
        return read_archive(path)
    from tinydl import saving_h5
    return saving_h5.read(_h5py(), path)


# ----------------------------------------------------------------------------- keras.saving

def save_model(model, filepath) -> None:
    """keras.saving.save_model: model.save(filepath)."""
    from tinydl import model_io
    model_io.save_model(model, filepath)


def load_model(filepath, custom_objects=None, compile: bool = True, safe_mode: bool = True):
    """keras.saving.load_model: rebuild a model written by model.save (see tinydl.model_io).

    custom_objects is not needed: your Layer subclasses are registered by class name when
    they are defined. compile=False skips the compile settings and optimizer state.
    """
    from tinydl import model_io
    return model_io.load_model(filepath, compile=compile)


def register_keras_serializable(package: str = "Custom", name: str | None = None):
    """A class decorator, as Keras': a Layer subclass is already registered by its class name
    (tinydl.layers.LAYER_CLASSES), so this checks the name is free and returns the class."""
    def register(cls):
        from tinydl.layers.base import LAYER_CLASSES, Layer
        if isinstance(cls, type) and issubclass(cls, Layer) and name not in (None, cls.__name__):
            raise ValueError(f"register_keras_serializable: tinydl registers layers by class "
                             f"name, so name= must be {cls.__name__!r} or None. Received: {name!r}")
        if isinstance(cls, type) and issubclass(cls, Layer):
            LAYER_CLASSES[cls.__name__] = cls
        return cls
    return register


from tinydl import keras_names  # noqa: E402

__getattr__ = keras_names.missing(__name__, "saving")  # a Keras name tinydl lacks: a clear error
