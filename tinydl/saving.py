"""Saving and loading models without pickle: the pieces both file formats share.

A model file holds one JSON document (format version, architecture, compile settings and,
for every array, its entry name, dtype, shape and SHA-256) and the arrays it describes.
Two containers hold it: '.tinydl', a zip of the document and .npy entries (tinydl.saving_zip),
and '.h5', HDF5 with the document as a dataset (tinydl.saving_h5), which model.save writes
beside Keras' legacy layout (tinydl.saving_legacy_h5). A '.keras' name is Keras 3's format
(tinydl.saving_keras_zip); a '.keras' zip holding tinydl.json (tinydl 0.1's) is read here.
tinydl.saving_keras_files tells the two apart and dispatches (see docs/saving.md).

Loading trusts nothing in a file, and checks before it reads or allocates:
    - the path is a regular file (a FIFO or a device would block or never end);
    - the container's own structure: zip member names, sizes and compression ratios
      (check_zip_members); HDF5 links, external storage and layouts (check_h5_tree);
    - the document: at most MAX_DOCUMENT_BYTES, strict JSON (no NaN or Infinity, no
      integer beyond int64, no float that overflows, at most MAX_JSON_DEPTH levels);
    - every array's declared dtype and shape, and their total against max_bytes
      (MAX_LOAD_BYTES unless the caller passes another limit), before any array is read;
    - each array's SHA-256 as it is read, one array at a time, never unpickled.
Every refusal is a ModelFileError (a ValueError) naming the file and what is wrong.

Saving writes a temporary file beside the target (created with the user's umask, or the
mode of the file it replaces), flushes and fsyncs it, then renames it over the target, so a
failed save leaves the previous file intact. Temporaries that a killed save left behind are
removed by the next save of the same file (see remove_stale_temporaries).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import secrets
import socket
import stat
import time
from typing import NamedTuple

import numpy as np

FORMAT_NAME = "tinydl"
FORMAT_VERSION = 1
ALLOWED_DTYPES = ("float32", "float64", "int64", "int32", "uint8", "bool")

MAX_LOAD_BYTES = 2**30          # what a file's arrays may make load_model allocate (1 GiB)
MAX_DOCUMENT_BYTES = 4 * 2**20  # the JSON document
MAX_JSON_DEPTH = 64             # nesting of lists and objects in it
MAX_JSON_CONTAINERS = 100_000   # lists and objects in it (each costs memory once parsed)
MAX_MEMBERS = 100_000           # zip members, or HDF5 objects
STALE_TEMPORARY_SECONDS = 3600  # a save's temporary older than this is abandoned


class ModelFileError(ValueError):
    """A model file that cannot be loaded.

    Damaged, truncated, foreign, hostile, too large for the limits, or not matching the model
    it is loaded into. It is a ValueError.

    Attributes:
        path: the file, as given.

    Example:
        >>> error = ModelFileError("m.tinydl", "its arrays table is missing")
        >>> str(error), error.path, isinstance(error, ValueError)
        ("cannot load 'm.tinydl': its arrays table is missing", 'm.tinydl', True)
    """

    def __init__(self, path, what: str):
        super().__init__(f"cannot load '{os.fspath(path)}': {what}")
        self.path = os.fspath(path)


def invalid(path, what: str) -> ModelFileError:
    """The error for a file that cannot be loaded: it names the file and what is wrong.

    Args:
        path: the file.
        what: what is wrong, as a clause ('it is not a tinydl model file').

    Returns:
        A ModelFileError, to raise.

    Example:
        >>> raise invalid("m.h5", "it is truncated")
        Traceback (most recent call last):
        ...
        tinydl.saving.ModelFileError: cannot load 'm.h5': it is truncated
    """
    return ModelFileError(path, what)


def load_limit(max_bytes: int | None) -> int:
    """max_bytes, or MAX_LOAD_BYTES (read now, so setting the module constant works).

    Args:
        max_bytes: the most a file's arrays may total, or None for MAX_LOAD_BYTES.

    Returns:
        The limit in bytes.

    Raises:
        ValueError: a negative number or a non-int.

    Example:
        >>> load_limit(None) == MAX_LOAD_BYTES == 2**30, load_limit(1000)
        (True, 1000)
        >>> load_limit(-1)
        Traceback (most recent call last):
        ...
        ValueError: max_bytes must be a non-negative int or None. Received: -1
    """
    limit = MAX_LOAD_BYTES if max_bytes is None else max_bytes
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
        raise ValueError(f"max_bytes must be a non-negative int or None. Received: {limit!r}")
    return limit


def too_large(path, what: str, nbytes: int, limit: int) -> ModelFileError:
    """The error for a file whose document or arrays exceed a limit; it says how to allow more.

    Args:
        path: the file.
        what: what is too large, as the start of a clause ('its arrays declare').
        nbytes: its size in bytes.
        limit: the limit in bytes.

    Returns:
        A ModelFileError, to raise.

    Example:
        >>> print(too_large("m.tinydl", "its arrays declare", 4096, 1024))
        cannot load 'm.tinydl': its arrays declare 4096 bytes, more than the limit of 1024 bytes; if you trust ...
    """
    return invalid(path, f"{what} {nbytes} bytes, more than the limit of {limit} bytes; if you "
                         "trust this file, pass a larger max_bytes= to load_model / "
                         "load_weights (the default is tinydl.saving.MAX_LOAD_BYTES)")


def check_regular_file(path) -> None:
    """Refuse a path that is missing or not a regular file.

    A folder, a FIFO or a device could block forever or never end.

    Args:
        path: the file to load.

    Raises:
        FileNotFoundError: there is no such file.
        ModelFileError: it is a folder, FIFO, socket or device, or cannot be stat'ed.

    Example:
        >>> import tempfile
        >>> check_regular_file(tempfile.mkdtemp())
        Traceback (most recent call last):
        ...
        tinydl.saving.ModelFileError: cannot load '...': it could not be read: it is a folder, not a regular file
        >>> check_regular_file("no/such.tinydl")
        Traceback (most recent call last):
        ...
        FileNotFoundError: no such model file: 'no/such.tinydl'
    """
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise FileNotFoundError(f"no such model file: '{os.fspath(path)}'") from None
    except OSError as exc:
        raise invalid(path, f"it could not be read ({exc})") from None
    if not stat.S_ISREG(mode):
        kind = "a folder" if stat.S_ISDIR(mode) else "a FIFO, socket or device"
        raise invalid(path, f"it could not be read: it is {kind}, not a regular file")


# ----------------------------------------------------------------------------- the document

def _refuse_constant(name: str):
    raise ValueError(f"{name} is not a number JSON allows")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"the number {text[:40]} overflows a float")
    return value


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > 19 or not -2**63 <= int(text) < 2**63:
        raise ValueError(f"the integer {text[:40]}{'...' if len(text) > 40 else ''} is "
                         "beyond int64")
    return int(text)


def _depth(value) -> int:
    """Nesting depth of lists and dicts, without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, depth = stack.pop()
        children = node.values() if isinstance(node, dict) else node \
            if isinstance(node, list) else None
        if children is not None:
            deepest = max(deepest, depth)
            if depth <= MAX_JSON_DEPTH:
                stack.extend((child, depth + 1) for child in children)
    return deepest


def parse_json(path, raw, where: str):
    """The JSON value in raw (bytes or str), parsed strictly; where names it in errors.

    Args:
        path: the file, for messages.
        raw: the JSON text, as bytes (UTF-8) or str.
        where: which part of the file it is, for messages ('tinydl.json').

    Returns:
        The parsed value.

    Raises:
        ModelFileError: raw is longer than MAX_DOCUMENT_BYTES, not UTF-8, not JSON, holds
            NaN, Infinity, a number that overflows a float, an integer beyond int64, more
            than MAX_JSON_CONTAINERS lists and objects, or nesting beyond MAX_JSON_DEPTH.

    Example:
        >>> parse_json("m.tinydl", b'{"units": 3, "rate": 0.5}', "tinydl.json")
        {'units': 3, 'rate': 0.5}
        >>> parse_json("m.tinydl", '{"rate": NaN}', "tinydl.json")
        Traceback (most recent call last):
        ...
        tinydl.saving.ModelFileError: cannot load 'm.tinydl': its tinydl.json is not valid JSON (NaN is not a ...
        >>> parse_json("m.tinydl", "[" * 100 + "]" * 100, "tinydl.json")
        Traceback (most recent call last):
        ...
        tinydl.saving.ModelFileError: cannot load 'm.tinydl': its tinydl.json is nested more than 64 levels deep
    """
    if len(raw) > MAX_DOCUMENT_BYTES:
        raise too_large(path, f"its {where} has", len(raw), MAX_DOCUMENT_BYTES)
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
    except UnicodeDecodeError as exc:
        raise invalid(path, f"its {where} is not UTF-8 text ({exc})") from None
    if text.count("[") + text.count("{") > MAX_JSON_CONTAINERS:
        raise invalid(path, f"its {where} holds more than {MAX_JSON_CONTAINERS} lists and "
                            "objects")
    try:
        value = json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float,
                           parse_int=_bounded_int)
    except RecursionError:
        raise invalid(path, f"its {where} is nested too deeply") from None
    except ValueError as exc:
        raise invalid(path, f"its {where} is not valid JSON ({exc})") from None
    if _depth(value) > MAX_JSON_DEPTH:
        raise invalid(path, f"its {where} is nested more than {MAX_JSON_DEPTH} levels deep")
    return value


def parse_document(path, raw, where: str) -> dict:
    """The tinydl document in raw: strict JSON (parse_json), of this format and version.

    Args:
        path: the file, for messages.
        raw: the document's JSON text.
        where: which part of the file it is, for messages.

    Returns:
        The document, a dict.

    Raises:
        ModelFileError: as parse_json, or the format field is missing or foreign, or the
            format version is not FORMAT_VERSION.

    Example:
        >>> parse_document("m.tinydl", '{"format": "tinydl", "format_version": 1, "arrays": {}}', "doc")
        {'format': 'tinydl', 'format_version': 1, 'arrays': {}}
        >>> parse_document("m.tinydl", '{"format": "tinydl", "format_version": 9}', "doc")
        Traceback (most recent call last):
        ...
        tinydl.saving.ModelFileError: cannot load 'm.tinydl': format version 9 is not supported (this tinydl reads ...
    """
    document = parse_json(path, raw, where)
    if not isinstance(document, dict) or document.get("format") != FORMAT_NAME:
        raise invalid(path, "it is not a tinydl model file (format field missing or foreign)")
    if document.get("format_version") != FORMAT_VERSION:
        raise invalid(path, f"format version {document.get('format_version')!r} is not "
                            f"supported (this tinydl reads version {FORMAT_VERSION})")
    return document


# ----------------------------------------------------------------------------- the arrays

class ArraySpec(NamedTuple):
    """One array as the document declares it (checked: an allowed dtype, a shape of ints >= 0).

    Attributes:
        key: the array's name in the model ('dense/kernel', ...).
        entry: where the container stores it ('arrays/0.npy', or an HDF5 dataset name).
        dtype: its dtype, one of ALLOWED_DTYPES.
        shape: its shape.
        sha256: the hex SHA-256 of its stored bytes.
        nbytes: (property) the bytes its data takes.

    Example:
        >>> spec = ArraySpec("dense/kernel", "arrays/0.npy", np.dtype("float32"), (784, 10), "0" * 64)
        >>> spec.nbytes, 784 * 10 * 4
        (31360, 31360)
    """
    key: str
    entry: str
    dtype: np.dtype
    shape: tuple
    sha256: str

    @property
    def nbytes(self) -> int:
        return math.prod(self.shape) * self.dtype.itemsize


_SHA256 = re.compile(r"[0-9a-f]{64}")


def _array_spec(path, key: str, spec) -> ArraySpec:
    try:
        dtype_name, shape = spec["dtype"], spec["shape"]
        entry, digest = spec["entry"], spec["sha256"]
    except (KeyError, TypeError):
        raise invalid(path, f"the description of array '{key}' is malformed") from None
    if dtype_name not in ALLOWED_DTYPES or not isinstance(shape, list) or \
            not all(type(s) is int and s >= 0 for s in shape):
        raise invalid(path, f"array '{key}' declares dtype {str(dtype_name):.40} and shape "
                            f"{str(shape):.80}, not allowed (dtypes {ALLOWED_DTYPES}, "
                            "shapes lists of ints >= 0)")
    if not isinstance(entry, str) or not isinstance(digest, str) or \
            not _SHA256.fullmatch(digest):
        raise invalid(path, f"the description of array '{key}' is malformed")
    return ArraySpec(key, entry, np.dtype(dtype_name), tuple(shape), digest)


def array_specs(path, document: dict, entry_name: re.Pattern, max_bytes: int) -> dict:
    r"""{key: ArraySpec} of the document's arrays table, checked before any array is read.

    Args:
        path: the file, for messages.
        document: the parsed document.
        entry_name: the pattern every entry name must match.
        max_bytes: the most the arrays may total.

    Returns:
        {key: ArraySpec}.

    Raises:
        ModelFileError: the table is malformed, an entry name does not fit entry_name or
            is used twice, or the arrays total more than max_bytes.

    Example:
        >>> import re
        >>> table = {"w": {"entry": "arrays/0.npy", "dtype": "float32", "shape": [256, 256],
        ...                "sha256": "0" * 64}}
        >>> array_specs("m.tinydl", {"arrays": table}, re.compile(r"arrays/[0-9]+\.npy"), 2**20)["w"].shape
        (256, 256)
        >>> array_specs("m.tinydl", {"arrays": table}, re.compile(r"arrays/[0-9]+\.npy"), 1000)
        Traceback (most recent call last):
        ...
        tinydl.saving.ModelFileError: cannot load 'm.tinydl': its arrays declare 262144 bytes, more than the limit ...
    """
    table = document.get("arrays")
    if not isinstance(table, dict):
        raise invalid(path, "the arrays table is missing")
    specs = {key: _array_spec(path, key, spec) for key, spec in table.items()}
    entries = [spec.entry for spec in specs.values()]
    bad = sorted(e for e in entries if not entry_name.fullmatch(e))
    if bad:
        raise invalid(path, f"entry names {bad[:5]} are not of the form {entry_name.pattern}")
    if len(set(entries)) != len(entries):
        raise invalid(path, "two arrays name the same entry")
    total = sum(spec.nbytes for spec in specs.values())
    if total > max_bytes:
        raise too_large(path, "its arrays declare", total, max_bytes)
    return specs


def check_digest(path, spec: ArraySpec, digest: str) -> None:
    """Refuse the array of spec when digest, the SHA-256 of its stored bytes, differs.

    Args:
        path: the file, for messages.
        spec: the array's ArraySpec.
        digest: the hex SHA-256 of the bytes read.

    Raises:
        ModelFileError: the digests differ (the array is corrupted).

    Example:
        >>> import hashlib
        >>> spec = ArraySpec("w", "arrays/0.npy", np.dtype("uint8"), (3,), hashlib.sha256(b"abc").hexdigest())
        >>> check_digest("m.tinydl", spec, hashlib.sha256(b"abc").hexdigest())
        >>> check_digest("m.tinydl", spec, hashlib.sha256(b"abd").hexdigest())
        Traceback (most recent call last):
        ...
        tinydl.saving.ModelFileError: cannot load 'm.tinydl': array 'w' (arrays/0.npy) is corrupted: its SHA-256 ...
    """
    if digest != spec.sha256:
        raise invalid(path, f"array '{spec.key}' ({spec.entry}) is corrupted: its SHA-256 does "
                            "not match")


class StoredFile:
    """A checked model file, open to read its arrays one at a time (use it in a with block).

    open_file returns one (saving_zip.ZipFile or saving_h5.H5File).

    Attributes:
        path: the file.
        document: its JSON document.
        specs: {key: ArraySpec}.

    Example:
        >>> import os, tempfile
        >>> path = os.path.join(tempfile.mkdtemp(), "a.tinydl")
        >>> save(path, {"note": "hi"}, {"w": np.arange(3.0)})
        >>> with open_file(path) as stored:
        ...     print(type(stored).__name__, stored.document["note"], list(stored.specs), stored.read("w"))
        ZipFile hi ['w'] [0. 1. 2.]
    """

    def __init__(self, path, document: dict, specs: dict):
        self.path, self.document, self.specs = os.fspath(path), document, specs

    def read(self, key: str) -> np.ndarray:
        """The array key, of exactly its declared dtype and shape, its SHA-256 checked."""
        raise NotImplementedError

    def close(self) -> None:
        pass

    def __enter__(self) -> "StoredFile":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


# ----------------------------------------------------------------------------- atomic writes

_HOST = hashlib.sha256(socket.gethostname().encode()).hexdigest()[:8]
# .tmp-tinydl-<host>-<pid>-<random>-<name>; '.tmp-<8 chars>-<name>' is what mkstemp made
# before (tinydl 0.1), recognised so that those can be cleaned too.
_TEMPORARY = r"\.tmp-(?:tinydl-(?P<host>[0-9a-f]{8})-(?P<pid>[0-9]+)-[0-9a-f]{8}|[a-z0-9_]{8})-"


def _create_temporary(path: str) -> tuple[int, str]:
    """Open a new temporary beside path: mode 0o666 less the umask (the kernel applies it),
    or the permission bits of the file at path when there is one."""
    folder, name = os.path.split(os.path.abspath(path))
    for _ in range(100):
        tmp = os.path.join(folder, f".tmp-tinydl-{_HOST}-{os.getpid()}-"
                                   f"{secrets.token_hex(4)}-{name}")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0),
                         0o666)
        except FileExistsError:
            continue
        try:
            os.chmod(tmp, stat.S_IMODE(os.stat(path).st_mode))
        except FileNotFoundError:
            pass
        return fd, tmp
    raise FileExistsError(f"could not create a temporary file beside '{path}'")


def _is_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # e.g. PermissionError: it exists, owned by someone else
        return True
    return True


def remove_stale_temporaries(path, now: float | None = None) -> list:
    """Remove the temporaries that killed saves of path left in its folder; return their names.

    Only files of tinydl's own naming for this very file name are candidates, and of those
    only the abandoned ones: written on this host by a process that no longer runs, or not
    modified for STALE_TEMPORARY_SECONDS. A save in progress (in this or another live
    process) is never touched. Errors are ignored: cleaning never fails a save.

    Args:
        path: the file being saved.
        now: the current time (time.time() by default), for the age test.

    Returns:
        The names of the files removed.

    Example:
        >>> import os, tempfile
        >>> folder = tempfile.mkdtemp()
        >>> old = os.path.join(folder, ".tmp-abcdefgh-m.tinydl")   # tinydl 0.1's naming
        >>> other = os.path.join(folder, ".tmp-abcdefgh-other.tinydl")
        >>> for name in (old, other):
        ...     _ = open(name, "w").write("partial")
        >>> remove_stale_temporaries(os.path.join(folder, "m.tinydl"))                 # too recent
        []
        >>> remove_stale_temporaries(os.path.join(folder, "m.tinydl"), now=time.time() + 7200)
        ['.tmp-abcdefgh-m.tinydl']
        >>> sorted(os.listdir(folder))
        ['.tmp-abcdefgh-other.tinydl']
    """
    folder, name = os.path.split(os.path.abspath(os.fspath(path)))
    pattern = re.compile(_TEMPORARY + re.escape(name))
    now = time.time() if now is None else now
    removed = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        match = pattern.fullmatch(entry.name)
        try:
            if not match or not entry.is_file(follow_symlinks=False):
                continue
            writer_gone = match["pid"] is not None and match["host"] == _HOST and \
                int(match["pid"]) != os.getpid() and not _is_alive(int(match["pid"]))
            if writer_gone or now - entry.stat(follow_symlinks=False).st_mtime > \
                    STALE_TEMPORARY_SECONDS:
                os.remove(entry.path)
                removed.append(entry.name)
        except OSError:
            continue
    return removed


def atomic_write(path, write) -> None:
    """Call write(file) on a temporary file beside path, fsync it, then rename it to path.

    Any exception leaves path as it was and removes the temporary file. Stale temporaries
    of earlier, killed saves of path are removed first.

    Args:
        path: the file to write.
        write: a function of one binary file object.

    Raises:
        Whatever write raises (path is left untouched).

    Example:
        >>> import os, tempfile
        >>> folder = tempfile.mkdtemp()
        >>> path = os.path.join(folder, "out.bin")
        >>> atomic_write(path, lambda f: f.write(b"first"))
        >>> def failing(f):
        ...     f.write(b"half")
        ...     raise OSError("disk full")
        >>> atomic_write(path, failing)
        Traceback (most recent call last):
        ...
        OSError: disk full
        >>> open(path, "rb").read(), os.listdir(folder)            # unchanged; no temporary left
        (b'first', ['out.bin'])
    """
    path = os.fspath(path)
    remove_stale_temporaries(path)
    fd, tmp = _create_temporary(path)
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
    """Write document and arrays to path in the format its suffix names, atomically.

    Args:
        path: a '.tinydl' or '.keras' file (a zip), or '.h5' / '.hdf5' (needs h5py).
        document: a JSON-able dict; 'format', 'format_version' and 'arrays' are added.
        arrays: {key: array} of ALLOWED_DTYPES.

    Raises:
        ValueError: an unsupported file name.
        ImportError: an '.h5' file without h5py.
        TypeError: an array of another dtype.

    Example:
        >>> import os, tempfile
        >>> path = os.path.join(tempfile.mkdtemp(), "a.tinydl")
        >>> save(path, {"kind": "weights"}, {"w": np.eye(2, dtype=np.float32)})
        >>> document, arrays = load(path)
        >>> document["kind"], document["arrays"]["w"]["shape"], arrays["w"]
        ('weights', [2, 2], array([[1., 0.], [0., 1.]], dtype=float32))
        >>> save("a.pkl", {}, {})
        Traceback (most recent call last):
        ...
        ValueError: unsupported file name 'a.pkl': use one of the suffixes ...
    """
    if _format_of(path) == "zip":
        from tinydl import saving_zip
        saving_zip.write(path, document, arrays)
    else:
        from tinydl import saving_h5
        saving_h5.write(_h5py(), path, document, arrays)


def open_file(path, max_bytes: int | None = None) -> StoredFile:
    """Open and check a file written by save, reading no array yet.

    Args:
        path: a '.tinydl', '.keras' or '.h5' file.
        max_bytes: the most its arrays may total (default MAX_LOAD_BYTES).

    Returns:
        A StoredFile (use it in a with block).

    Raises:
        FileNotFoundError: there is no such file.
        ModelFileError: anything in it is wrong (see the module docstring).

    Example:
        >>> import os, tempfile
        >>> path = os.path.join(tempfile.mkdtemp(), "a.tinydl")
        >>> save(path, {}, {"w": np.zeros(1000)})
        >>> with open_file(path) as stored:
        ...     stored.specs["w"].nbytes
        8000
        >>> open_file(path, max_bytes=100)
        Traceback (most recent call last):
        ...
        tinydl.saving.ModelFileError: cannot load '...a.tinydl': its arrays declare 8000 bytes, more than the limit ...
    """
    kind, limit = _format_of(path), load_limit(max_bytes)
    h5py = _h5py() if kind == "h5" else None
    check_regular_file(path)
    if kind == "zip":
        from tinydl import saving_zip
        return saving_zip.open_file(path, limit)
    from tinydl import saving_h5
    return saving_h5.open_file(h5py, path, limit)


def load(path, max_bytes: int | None = None) -> tuple[dict, dict]:
    """Read and verify a whole file written by save: (document, {key: array}).

    Args:
        path: a '.tinydl', '.keras' or '.h5' file.
        max_bytes: the most its arrays may total (default MAX_LOAD_BYTES).

    Returns:
        (document, {key: array}), each array of its declared dtype and shape.

    Raises:
        FileNotFoundError: there is no such file.
        ModelFileError: anything in it is wrong, a corrupted array included.

    Example:
        >>> import os, tempfile
        >>> path = os.path.join(tempfile.mkdtemp(), "a.tinydl")
        >>> save(path, {}, {"labels": np.array([3, 1], np.int64)})
        >>> load(path)[1]
        {'labels': array([3, 1])}
    """
    with open_file(path, max_bytes) as stored:
        return stored.document, {key: stored.read(key) for key in stored.specs}


# ----------------------------------------------------------------------------- keras.saving

def save_model(model, filepath) -> None:
    """keras.saving.save_model: model.save(filepath).

    Args:
        model: a built model.
        filepath: a '.tinydl' / '.keras' or '.h5' file.

    Example:
        >>> import os, tempfile
        >>> path = os.path.join(tempfile.mkdtemp(), "m.keras")
        >>> model = tinydl.Sequential([tinydl.Input((3,)), tinydl.layers.Dense(2)])
        >>> save_model(model, path)
        >>> x = np.ones((1, 3), np.float32)
        >>> bool(np.array_equal(load_model(path).predict(x, verbose=0), model.predict(x, verbose=0)))
        True
    """
    from tinydl import model_io
    model_io.save_model(model, filepath)


def load_model(filepath, custom_objects=None, compile: bool = True, safe_mode: bool = True):
    """keras.saving.load_model: rebuild a model written by model.save or by Keras.

    custom_objects ({name: class}) names your Layer and Model subclasses; they are also found
    by class name once defined (they register themselves). compile=False skips the compile
    settings and optimizer state. No code is ever run from the file.

    Example:
        >>> import os, tempfile
        >>> path = os.path.join(tempfile.mkdtemp(), "m.tinydl")
        >>> model = tinydl.Sequential([tinydl.Input((3,)), tinydl.layers.Dense(2, name="out")])
        >>> model.compile("adam", "mse")
        >>> model.save(path)
        >>> loaded = load_model(path)
        >>> [layer.name for layer in loaded.layers], loaded.loss
        (['out'], 'mse')
        >>> load_model(path, compile=False).optimizer is None
        True
    """
    from tinydl import model_io
    return model_io.load_model(filepath, custom_objects=custom_objects, compile=compile)


def register_keras_serializable(package: str = "Custom", name: str | None = None):
    """Keras' class decorator: registers the class under 'package>name' (see
    tinydl.saving_keras.register_keras_serializable).

    Args:
        package: the first part of the key (no '|').
        name: the second part; None: the class' name.

    Returns:
        The decorator, which returns the class it registers.

    Raises:
        ValueError: package is not a str, or holds '|'.

    Example:
        >>> @register_keras_serializable(package="Docs", name="Triple")
        ... class Tripler(tinydl.layers.Layer):
        ...     def call(self, x):
        ...         return x * 3
        >>> Tripler._keras_registered_name
        'Docs>Triple'
        >>> register_keras_serializable(package="a|b")
        Traceback (most recent call last):
        ...
        ValueError: register_keras_serializable: package must be a str without '|'. Received: package='a|b'
    """
    from tinydl import saving_keras
    return saving_keras.register_keras_serializable(package=package, name=name)


from tinydl import keras_names  # noqa: E402

__getattr__ = keras_names.missing(__name__, "saving")  # a Keras name tinydl lacks: a clear error
