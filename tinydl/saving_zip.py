"""The '.tinydl' (and '.keras') container: a zip of the JSON document and one .npy per array.

    tinydl.json      the document (see tinydl.saving);
    arrays/<k>.npy   the arrays, in NumPy's .npy format (plain numbers, never objects).

The zip's CRC-32 covers every member, the document included; each array's SHA-256 (of its
whole .npy entry) is in the document. Reading checks the members first (check_zip_members:
names, methods, sizes, ratios), then that each entry's size is exactly what its declared
dtype and shape need, and streams each array into an array of that shape, hashing as it goes.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import math
import re
import struct
import zipfile
import zlib

import numpy as np

from tinydl import saving
from tinydl.saving import ArraySpec, invalid

DOCUMENT = "tinydl.json"
ENTRY_NAME = re.compile(r"arrays/[0-9]+\.npy")  # the only entry names besides DOCUMENT
MAX_DEFLATE_RATIO = 1032  # DEFLATE cannot expand data more than this (a 258-byte match per 2 bits)
_CHUNK = 2**20


# ----------------------------------------------------------------------------- writing

def _npy_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, np.asarray(array, order="C"), allow_pickle=False)
    return buffer.getvalue()


def _npy_header(dtype: np.dtype, shape: tuple) -> bytes:
    """The .npy (version 1.0) magic and header np.save writes for a C-order array."""
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buffer, {"descr": np.lib.format.dtype_to_descr(dtype), "fortran_order": False,
                 "shape": tuple(shape)})
    return buffer.getvalue()


def _npy_size(dtype: np.dtype, shape: tuple) -> int:
    """Exact size of the .npy file of an array of this dtype and shape (Python ints)."""
    return len(_npy_header(dtype, shape)) + math.prod(shape) * dtype.itemsize


def write(path, document: dict, arrays: dict) -> None:
    """Write document (JSON-able) and named arrays to path as a .tinydl zip, atomically.

    Args:
        path: the file to write.
        document: a JSON-able dict; 'format', 'format_version' and 'arrays' are added.
        arrays: {key: array} of saving.ALLOWED_DTYPES; each becomes arrays/<i>.npy.

    Raises:
        TypeError: an array of another dtype (objects, strings, float16, ...).
        ValueError: a document that is not strict JSON (NaN, ...).

    Example:
        >>> import os, tempfile, zipfile
        >>> path = os.path.join(tempfile.mkdtemp(), "a.tinydl")
        >>> write(path, {"kind": "weights"}, {"w": np.ones((2, 2), np.float32), "b": np.zeros(2)})
        >>> zipfile.ZipFile(path).namelist()
        ['tinydl.json', 'arrays/0.npy', 'arrays/1.npy']
        >>> write(path, {}, {"names": np.array(["a", "b"])})
        Traceback (most recent call last):
        ...
        TypeError: cannot save array 'names' of dtype <U1
    """
    entries, blobs = {}, {}
    for key, array in arrays.items():
        array = np.asarray(array)
        if array.dtype.name not in saving.ALLOWED_DTYPES:
            raise TypeError(f"cannot save array '{key}' of dtype {array.dtype}")
        data = _npy_bytes(array)
        entry = f"arrays/{len(entries)}.npy"
        entries[key] = {"entry": entry, "dtype": array.dtype.name, "shape": list(array.shape),
                        "sha256": hashlib.sha256(data).hexdigest()}
        blobs[entry] = data
    document = {"format": saving.FORMAT_NAME, "format_version": saving.FORMAT_VERSION,
                **document, "arrays": entries}
    text = json.dumps(document, indent=1, allow_nan=False).encode("utf-8")

    def write_to(f):
        with zipfile.ZipFile(f, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(DOCUMENT, text)
            for entry, data in blobs.items():
                archive.writestr(entry, data)

    saving.atomic_write(path, write_to)


# ----------------------------------------------------------------------------- checking

def _unsafe_name(name: str) -> str | None:
    """Why a member name could write or read outside a folder it is extracted to, or None."""
    if not name or "\0" in name or "\\" in name:
        return "empty, or holds a NUL or a backslash"
    if name.startswith("/") or re.match(r"[A-Za-z]:", name):
        return "an absolute path"
    if any(part in ("..", ".") for part in name.split("/")):
        return "a path through '.' or '..'"
    return None


def _check_member(path, info: zipfile.ZipInfo) -> None:
    name = info.orig_filename
    reason = _unsafe_name(name)
    if reason:
        raise invalid(path, f"member {name!r:.80} has an unsafe name ({reason})")
    if info.flag_bits & 0x1:
        raise invalid(path, f"member {name!r:.80} is encrypted")
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise invalid(path, f"member {name!r:.80} uses compression method "
                            f"{info.compress_type}; only stored and deflated are read")
    possible = info.compress_size if info.compress_type == zipfile.ZIP_STORED \
        else MAX_DEFLATE_RATIO * info.compress_size + 16
    if info.file_size > possible:
        raise invalid(path, f"member {name!r:.80} claims {info.file_size} bytes from "
                            f"{info.compress_size} compressed bytes, more than its method "
                            "can give (a forged header or a zip bomb)")


def check_zip_members(path, archive: zipfile.ZipFile, max_bytes: int,
                      max_members: int = saving.MAX_MEMBERS) -> dict:
    """{name: ZipInfo} of every member, checked from the central directory alone.

    Nothing is decompressed. Each member needs a safe relative name (no absolute path, no
    '..', no backslash or NUL), unique, not encrypted, stored or deflated, an uncompressed
    size its compressed size can really give, and all sizes together at most max_bytes.

    Args:
        path: the file, for messages.
        archive: the open zipfile.ZipFile.
        max_bytes: the most all members may uncompress to.
        max_members: the most members there may be.

    Returns:
        {name: ZipInfo}.

    Raises:
        ModelFileError: naming the file and the first member that fails.

    Example:
        >>> import io, zipfile
        >>> buffer = io.BytesIO()
        >>> with zipfile.ZipFile(buffer, "w") as archive:
        ...     archive.writestr("tinydl.json", "{}")
        >>> sorted(check_zip_members("m.tinydl", zipfile.ZipFile(buffer), max_bytes=100))
        ['tinydl.json']
        >>> with zipfile.ZipFile(buffer, "a") as archive:
        ...     archive.writestr("../evil.npy", "x")
        >>> check_zip_members("m.tinydl", zipfile.ZipFile(buffer), max_bytes=100)
        Traceback (most recent call last):
        ...
        tinydl.saving.ModelFileError: cannot load 'm.tinydl': member '../evil.npy' has an unsafe name (a path ...
    """
    infos = archive.infolist()
    if len(infos) > max_members:
        raise invalid(path, f"it has {len(infos)} members, more than {max_members}")
    members = {}
    for info in infos:
        _check_member(path, info)
        if info.orig_filename in members:
            raise invalid(path, "it holds two entries with the same name")
        members[info.orig_filename] = info
    total = sum(info.file_size for info in infos)
    if total > max_bytes:
        raise saving.too_large(path, "its members uncompress to", total, max_bytes)
    return members


def _check_entries(path, members: dict, specs: dict) -> None:
    """The members are exactly the document and the entries the specs name, each of the
    size its dtype and shape need."""
    declared = {spec.entry for spec in specs.values()}
    present = set(members) - {DOCUMENT}
    bad = sorted(name for name in present if not ENTRY_NAME.fullmatch(name))
    if bad:
        raise invalid(path, f"entry names {bad[:5]} are not of the form arrays/<k>.npy")
    if present - declared:
        raise invalid(path, f"unexpected entries {sorted(present - declared)[:5]}")
    if declared - present:
        raise invalid(path, f"missing entries {sorted(declared - present)[:5]} (the file may "
                            "be truncated)")
    for spec in specs.values():
        size, expected = members[spec.entry].file_size, _npy_size(spec.dtype, spec.shape)
        if size != expected:
            raise invalid(path, f"entry {spec.entry} for '{spec.key}' has {size} bytes, but "
                                f"dtype {spec.dtype} and shape {spec.shape} need {expected}")


@contextlib.contextmanager
def _zip_errors(path):
    """Turn what zipfile, zlib and the .npy reader raise on a damaged file into
    ModelFileError (a flipped header bit can give any of them)."""
    try:
        yield
    except saving.ModelFileError:
        raise
    except zipfile.BadZipFile as exc:
        raise invalid(path, f"it is not a valid zip archive ({exc}); truncated or not a "
                            "tinydl file") from None
    # NotImplementedError (a RuntimeError) for an unknown compression method or version,
    # RuntimeError for an 'encrypted' member.
    except (zipfile.LargeZipFile, zlib.error, EOFError, OSError, RuntimeError, ValueError,
            struct.error) as exc:
        raise invalid(path, f"it could not be read ({type(exc).__name__}: {exc})") from None


# ----------------------------------------------------------------------------- reading

class _HashingReader:
    """A file-like view of a member that hashes every byte read through it."""

    def __init__(self, raw):
        self.raw, self.sha256 = raw, hashlib.sha256()

    def read(self, n: int = -1) -> bytes:
        data = self.raw.read(n)
        self.sha256.update(data)
        return data


def _read_npy(path, reader: _HashingReader, spec: ArraySpec) -> np.ndarray:
    """The array of an .npy stream whose header must say exactly spec's dtype and shape."""
    if np.lib.format.read_magic(reader) != (1, 0):
        raise invalid(path, f"entry {spec.entry} is not a version 1.0 .npy file")
    shape, fortran_order, dtype = np.lib.format.read_array_header_1_0(reader)
    if dtype != spec.dtype or tuple(shape) != spec.shape or fortran_order:
        raise invalid(path, f"entry {spec.entry}'s .npy header says {dtype} {tuple(shape)}"
                            f"{' (Fortran order)' if fortran_order else ''}, but the document "
                            f"declares {spec.dtype} {spec.shape}")
    array = np.empty(spec.shape, spec.dtype)
    view, filled = array.reshape(-1).view(np.uint8), 0
    while filled < view.size:
        chunk = reader.read(min(_CHUNK, view.size - filled))
        if not chunk:
            raise invalid(path, f"entry {spec.entry} ends before its data does")
        view[filled:filled + len(chunk)] = np.frombuffer(chunk, np.uint8)
        filled += len(chunk)
    if reader.read(1):
        raise invalid(path, f"entry {spec.entry} has bytes after its data")
    return array


class ZipFile(saving.StoredFile):
    """A checked .tinydl file; read(key) streams one array out of it.

    read(key) returns the array of exactly its declared dtype and shape, after checking its
    .npy header and its SHA-256.

    Args:
        path: the file.
        archive: the open zipfile.ZipFile.
        document: its parsed document.
        specs: {key: ArraySpec}.

    Example:
        >>> import os, tempfile
        >>> path = os.path.join(tempfile.mkdtemp(), "a.tinydl")
        >>> write(path, {}, {"w": np.arange(4, dtype=np.int32)})
        >>> with open_file(path, max_bytes=2**20) as stored:
        ...     type(stored).__name__, stored.read("w")
        ('ZipFile', array([0, 1, 2, 3], dtype=int32))
    """

    def __init__(self, path, archive: zipfile.ZipFile, document: dict, specs: dict):
        super().__init__(path, document, specs)
        self.archive = archive

    def read(self, key: str) -> np.ndarray:
        spec = self.specs[key]
        with _zip_errors(self.path), self.archive.open(spec.entry) as raw:
            reader = _HashingReader(raw)
            array = _read_npy(self.path, reader, spec)
        saving.check_digest(self.path, spec, reader.sha256.hexdigest())
        return array

    def close(self) -> None:
        self.archive.close()


def _document(path, members: dict, archive: zipfile.ZipFile) -> dict:
    if DOCUMENT not in members:
        raise invalid(path, f"it has no {DOCUMENT}; it is not a tinydl model file")
    size = members[DOCUMENT].file_size
    if size > saving.MAX_DOCUMENT_BYTES:
        raise saving.too_large(path, f"its {DOCUMENT} has", size, saving.MAX_DOCUMENT_BYTES)
    return saving.parse_document(path, archive.read(DOCUMENT), DOCUMENT)


def open_file(path, max_bytes: int) -> ZipFile:
    """Open path and check everything but the arrays' contents (see the module docstring).

    Args:
        path: a zip written by write.
        max_bytes: the most its arrays may total.

    Returns:
        A ZipFile (use it in a with block).

    Raises:
        ModelFileError: not a zip, unsafe or unexpected members, a bad document, entries
            whose sizes do not fit their declarations, or arrays over max_bytes.

    Example:
        >>> import os, tempfile
        >>> path = os.path.join(tempfile.mkdtemp(), "a.tinydl")
        >>> write(path, {}, {"w": np.zeros(3)})
        >>> with open_file(path, max_bytes=2**20) as stored:
        ...     stored.specs["w"].entry, stored.specs["w"].shape
        ('arrays/0.npy', (3,))
        >>> with open(path, "r+b") as f:
        ...     _ = f.truncate(100)                                # cut the file short
        >>> open_file(path, max_bytes=2**20)
        Traceback (most recent call last):
        ...
        tinydl.saving.ModelFileError: cannot load '...a.tinydl': it is not a valid zip archive ...
    """
    with _zip_errors(path):
        archive = zipfile.ZipFile(path)
    try:
        with _zip_errors(path):
            members = check_zip_members(path, archive, max_bytes + saving.MAX_DOCUMENT_BYTES)
            document = _document(path, members, archive)
            specs = saving.array_specs(path, document, ENTRY_NAME, max_bytes)
            _check_entries(path, members, specs)
    except BaseException:
        archive.close()
        raise
    return ZipFile(path, archive, document, specs)
