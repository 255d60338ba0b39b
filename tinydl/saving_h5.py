"""The '.h5' container (needs the optional h5py): the same document and arrays, in HDF5.

    /tinydl.json      the JSON document (see tinydl.saving), its UTF-8 bytes as a uint8 dataset;
    /arrays/<k>       the arrays, one plain contiguous dataset each;
    attribute tinydl_sha256 of the root: the document's SHA-256, a fixed-length string.

The document declares every array's dtype, shape and SHA-256 (of its raw C-order bytes), so
the document's checksum covers the arrays too. Files are written with HDF5 1.8 object
headers (libver 'v108'), whose metadata HDF5 checksums itself. Nothing is stored as a
variable-length string: those live in HDF5's global heap, which has no checksum, and HDF5
2.0 loops forever reading one whose length a single flipped bit changed.

HDF5 can make a reader reach outside the file: a soft or external link, external raw
storage (a dataset whose bytes live in another file, a FIFO, a device), a virtual dataset
(mapped from other files). check_h5_tree refuses all of these, and anything that would make
a walk loop, before a single byte of data is read; check_h5_dataset refuses a dataset whose
stored size differs from what its shape and dtype need (unwritten, so all fill value).

Files of tinydl's first HDF5 layout (before 0.1.0 was released: the document a
variable-length string attribute 'tinydl', no checksum) are refused, with a message: they
cannot be verified, and reading that attribute is what can hang.
"""

from __future__ import annotations

import hashlib
import json
import math
import re

import numpy as np

from tinydl import saving
from tinydl.saving import invalid

DOCUMENT, CHECKSUM = "tinydl.json", "tinydl_sha256"
LIBVER = ("v108", "v108")  # object headers with checksums; readable by HDF5 1.8 and later
ENTRY_NAME = re.compile(r"arrays/[0-9]+")
KERAS_GROUPS = ("model_weights/", "optimizer_weights/")


def write_into(h5, document: dict, arrays: dict) -> None:
    """Write document and arrays into an open, writable HDF5 file h5 (tinydl's layout).

    Args:
        h5: an h5py.File open for writing.
        document: the JSON document (finite numbers only); the arrays' table is added to it.
        arrays: {key: array}, each written as /arrays/<i>.

    Raises:
        ValueError: the document is not JSON (a NaN, say).

    Example:
        >>> import io, json
        >>> import h5py
        >>> with h5py.File(io.BytesIO(), "w") as h5:
        ...     write_into(h5, {"kind": "demo"}, {"w": np.ones((2, 3), np.float32)})
        ...     document = json.loads(h5[DOCUMENT][()].tobytes())
        ...     sorted(h5), h5["arrays/0"].shape, document["kind"], document["arrays"]["w"]["shape"]
        (['arrays', 'tinydl.json'], (2, 3), 'demo', [2, 3])
    """
    table = {}
    for i, (key, array) in enumerate(arrays.items()):
        array = np.asarray(array, order="C")
        table[key] = {"entry": f"arrays/{i}", "dtype": array.dtype.name, "shape": list(array.shape),
                      "sha256": hashlib.sha256(array.tobytes()).hexdigest()}
    document = {"format": saving.FORMAT_NAME, "format_version": saving.FORMAT_VERSION, **document,
                "arrays": table}
    text = json.dumps(document, allow_nan=False).encode("utf-8")
    h5.create_dataset(DOCUMENT, data=np.frombuffer(text, np.uint8))
    h5.attrs[CHECKSUM] = np.bytes_(hashlib.sha256(text).hexdigest())
    for key, array in arrays.items():
        h5.create_dataset(table[key]["entry"], data=np.asarray(array, order="C"))


def write(h5py, path, document: dict, arrays: dict) -> None:
    """Write document and arrays to an HDF5 file at path, atomically.

    Args:
        h5py: the h5py module.
        path: the file to write.
        document: the JSON document (finite numbers only).
        arrays: {key: array}.

    Raises:
        ValueError: the document is not JSON; path is then left as it was.

    Example:
        >>> import os, tempfile
        >>> import h5py
        >>> path = os.path.join(tempfile.mkdtemp(), "a.h5")
        >>> write(h5py, path, {"kind": "demo"}, {"w": np.arange(4.0).reshape(2, 2)})
        >>> with open_file(h5py, path, max_bytes=2**20) as stored:
        ...     stored.document["kind"], stored.read("w").tolist()
        ('demo', [[0.0, 1.0], [2.0, 3.0]])
        >>> other = os.path.join(os.path.dirname(path), "b.h5")
        >>> write(h5py, other, {"x": float("nan")}, {})
        Traceback (most recent call last):
        ...
        ValueError: Out of range float values are not JSON compliant...
        >>> os.path.exists(other)
        False
    """
    def write_to(f):
        with h5py.File(f, "w", libver=LIBVER) as h5:
            write_into(h5, document, arrays)

    saving.atomic_write(path, write_to)


# ----------------------------------------------------------------------------- checking

def check_h5_dataset(h5py, dataset, path, name: str) -> None:
    """Refuse a dataset that reading would take outside the file or that holds no data.

    A dataset passes when its raw data is in this file (no external storage, not virtual),
    contiguous or compact, unfiltered, of a plain numeric dtype in native byte order, and
    stored at exactly the size its shape and dtype need.

    Args:
        h5py: the h5py module.
        dataset: the h5py.Dataset.
        path: the file, for messages.
        name: the dataset's path in the file, for messages.

    Raises:
        ModelFileError: naming the file and the dataset.

    Example:
        >>> import os, tempfile
        >>> import h5py
        >>> path = os.path.join(tempfile.mkdtemp(), "a.h5")
        >>> with h5py.File(path, "w") as h5:
        ...     check_h5_dataset(h5py, h5.create_dataset("plain", data=np.ones(4)), path, "plain")
        ...     check_h5_dataset(h5py, h5.create_dataset("empty", shape=(4,), dtype="f4"), path, "empty")
        Traceback (most recent call last):
        ...
        tinydl.saving.ModelFileError: cannot load '...': dataset 'empty' stores 0 bytes, but its shape (4,) and ...
    """
    plist = dataset.id.get_create_plist()
    if plist.get_external_count():
        raise invalid(path, f"dataset '{name}' keeps its data in external files "
                            f"({[str(f) for f, *_ in dataset.external or []][:3]}); "
                            "a model file must hold its own data")
    layout = plist.get_layout()
    if layout == h5py.h5d.VIRTUAL:
        raise invalid(path, f"dataset '{name}' is virtual (mapped from other files); a model "
                            "file must hold its own data")
    if layout not in (h5py.h5d.CONTIGUOUS, h5py.h5d.COMPACT) or plist.get_nfilters():
        raise invalid(path, f"dataset '{name}' is chunked or filtered; tinydl writes plain "
                            "contiguous datasets")
    dtype, shape = dataset.dtype, dataset.shape
    if shape is None or dtype.kind not in "biuf" or not dtype.isnative or dtype.fields:
        raise invalid(path, f"dataset '{name}' is of dtype {dtype} and shape {shape}; "
                            "expected plain numbers in native byte order")
    needed, stored = math.prod(shape) * dtype.itemsize, dataset.id.get_storage_size()
    if stored != needed:
        raise invalid(path, f"dataset '{name}' stores {stored} bytes, but its shape {shape} "
                            f"and dtype {dtype} need {needed} (unwritten or damaged)")


def _link_target(h5py, group, name: str, path, where: str):
    """The object a hard link names; refuse any other kind of link without following it."""
    try:
        link = group.get(name, getlink=True)
    except TypeError:  # h5py: "Unknown link type" (a user-defined link class)
        raise invalid(path, f"'{where}' is a link of a kind tinydl does not follow") from None
    if isinstance(link, h5py.SoftLink):
        raise invalid(path, f"'{where}' is a soft link (to {link.path!r:.80}); a model file "
                            "holds no links (they can loop or point anywhere)")
    if isinstance(link, h5py.ExternalLink):
        raise invalid(path, f"'{where}' is an external link (to {link.filename!r:.80}); a "
                            "model file must not reach into other files")
    if not isinstance(link, h5py.HardLink):
        raise invalid(path, f"'{where}' is a link of a kind tinydl does not follow")
    return group.get(name)


def check_h5_tree(h5py, root, path, max_objects: int = saving.MAX_MEMBERS) -> dict:
    """{path inside the file: dataset} of every dataset under root, reading no data.

    Refuses soft, external and user-defined links (never followed), objects reachable twice
    (hard-link cycles), named datatypes, more than max_objects objects, and any dataset that
    check_h5_dataset refuses.

    Args:
        h5py: the h5py module.
        root: the open h5py.File (or a group).
        path: the file, for messages.
        max_objects: the most objects the walk may meet.

    Returns:
        {path inside the file: h5py.Dataset}.

    Raises:
        ModelFileError: naming the file and the first object that fails.

    Example:
        >>> import os, tempfile
        >>> import h5py
        >>> path = os.path.join(tempfile.mkdtemp(), "a.h5")
        >>> write(h5py, path, {}, {"w": np.ones(3)})
        >>> with h5py.File(path, "r") as h5:
        ...     sorted(check_h5_tree(h5py, h5, path))
        ['arrays/0', 'tinydl.json']
        >>> with h5py.File(path, "a") as h5:
        ...     h5["elsewhere"] = h5py.SoftLink("/arrays/0")
        >>> with h5py.File(path, "r") as h5:
        ...     check_h5_tree(h5py, h5, path)
        Traceback (most recent call last):
        ...
        tinydl.saving.ModelFileError: cannot load '...': '/elsewhere' is a soft link ...
    """
    datasets, seen, stack = {}, {h5py.h5o.get_info(root.id).addr}, [("", root)]
    while stack:
        prefix, group = stack.pop()
        for name in group:
            where = f"{prefix}/{name}"
            target = _link_target(h5py, group, name, path, where)
            address = h5py.h5o.get_info(target.id).addr
            if address in seen:
                raise invalid(path, f"'{where}' is reachable twice (a second hard link to one "
                                    "object, or a cycle)")
            seen.add(address)
            if len(seen) > max_objects:
                raise invalid(path, f"it holds more than {max_objects} objects")
            if isinstance(target, h5py.Group):
                stack.append((where, target))
            elif isinstance(target, h5py.Dataset):
                check_h5_dataset(h5py, target, path, where)
                datasets[where[1:]] = target
            else:
                raise invalid(path, f"'{where}' is a {type(target).__name__}, not a group or "
                                    "dataset")
    return datasets


# ----------------------------------------------------------------------------- reading

def _checksum(h5py, root, path) -> str:
    """The root's fixed-length attribute CHECKSUM (64 hex digits), checked before it is read."""
    if CHECKSUM not in root.attrs:
        raise invalid(path, f"it has no attribute '{CHECKSUM}' (the checksum of its tinydl "
                            "document)")
    attribute = h5py.h5a.open(root.id, CHECKSUM.encode())
    if attribute.dtype != np.dtype("S64") or attribute.shape != ():
        raise invalid(path, f"its attribute '{CHECKSUM}' is not a string of 64 characters")
    return bytes(root.attrs[CHECKSUM]).decode("ascii", errors="replace")


def _document(h5py, h5, datasets: dict, path) -> dict:
    """The document, read from its dataset once its size and checksum attribute passed."""
    if DOCUMENT not in datasets:
        if "tinydl" in h5.attrs:
            raise invalid(path, "it was written in tinydl's first HDF5 layout (its document a "
                                "variable-length attribute without a checksum), which is no "
                                "longer read: it cannot be verified, and a damaged one can "
                                "hang HDF5. Load it with the tinydl that wrote it and save "
                                "it again")
        raise invalid(path, "it has no tinydl document; it is not a tinydl model file")
    dataset = datasets[DOCUMENT]
    if dataset.dtype != np.uint8 or dataset.ndim != 1:
        raise invalid(path, f"its dataset '{DOCUMENT}' is not a list of bytes")
    if dataset.shape[0] > saving.MAX_DOCUMENT_BYTES:
        raise saving.too_large(path, f"its {DOCUMENT} has", dataset.shape[0],
                               saving.MAX_DOCUMENT_BYTES)
    digest = _checksum(h5py, h5, path)
    raw = np.empty(dataset.shape, np.uint8)
    if raw.size:
        dataset.read_direct(raw)
    raw = raw.tobytes()
    if hashlib.sha256(raw).hexdigest() != digest:
        raise invalid(path, f"its tinydl document is corrupted: its SHA-256 does not match "
                            f"the attribute '{CHECKSUM}'")
    return saving.parse_document(path, raw, DOCUMENT)


def _check_entries(path, datasets: dict, specs: dict) -> None:
    declared = {spec.entry for spec in specs.values()}
    # A model file also holds Keras' legacy layout (tinydl.saving_legacy_h5), which
    # check_h5_tree checked and tinydl does not read.
    unexpected = sorted(n for n in set(datasets) - declared - {DOCUMENT}
                        if not n.startswith(KERAS_GROUPS))
    if unexpected:
        raise invalid(path, f"unexpected datasets {unexpected[:5]}")
    for spec in specs.values():
        dataset = datasets.get(spec.entry)
        if dataset is None or dataset.dtype != spec.dtype or dataset.shape != spec.shape:
            raise invalid(path, f"array '{spec.key}' is missing or not as declared "
                                f"({spec.dtype} {spec.shape})")


class H5File(saving.StoredFile):
    """A checked .h5 file; read(key) reads one dataset into an array of its declared shape.

    read(key) checks the array's SHA-256 against the document's.

    Args:
        path: the file.
        h5: the open h5py.File.
        datasets: {path inside the file: dataset}, from check_h5_tree.
        document: its parsed document.
        specs: {key: ArraySpec}.

    Example:
        >>> import os, tempfile
        >>> import h5py
        >>> path = os.path.join(tempfile.mkdtemp(), "a.h5")
        >>> write(h5py, path, {}, {"w": np.arange(3.0)})
        >>> with open_file(h5py, path, max_bytes=2**20) as stored:
        ...     type(stored).__name__, stored.read("w")
        ('H5File', array([0., 1., 2.]))
    """

    def __init__(self, path, h5, datasets: dict, document: dict, specs: dict):
        super().__init__(path, document, specs)
        self.h5, self.datasets = h5, datasets

    def read(self, key: str) -> np.ndarray:
        spec = self.specs[key]
        array = np.empty(spec.shape, spec.dtype)
        try:
            if array.size:
                self.datasets[spec.entry].read_direct(array)
        except (OSError, RuntimeError, TypeError, ValueError) as exc:
            raise invalid(self.path, f"dataset '{spec.entry}' could not be read "
                                     f"({type(exc).__name__}: {exc})") from None
        saving.check_digest(self.path, spec, hashlib.sha256(array.tobytes()).hexdigest())
        return array

    def close(self) -> None:
        self.h5.close()


def _check_open(h5py, h5, path, max_bytes: int) -> H5File:
    datasets = check_h5_tree(h5py, h5, path)
    document = _document(h5py, h5, datasets, path)
    specs = saving.array_specs(path, document, ENTRY_NAME, max_bytes)
    _check_entries(path, datasets, specs)
    return H5File(path, h5, datasets, document, specs)


def open_file(h5py, path, max_bytes: int) -> H5File:
    """Open path and check everything but the arrays' contents (see the module docstring).

    Args:
        h5py: the h5py module.
        path: an HDF5 file written by write.
        max_bytes: the most its arrays may total.

    Returns:
        An H5File (use it in a with block).

    Raises:
        ModelFileError: not HDF5, links or datasets check_h5_tree refuses, a document whose
            checksum or contents are wrong, or arrays over max_bytes.

    Example:
        >>> import os, tempfile
        >>> import h5py
        >>> path = os.path.join(tempfile.mkdtemp(), "a.h5")
        >>> write(h5py, path, {}, {"w": np.zeros((10, 10))})
        >>> with open_file(h5py, path, max_bytes=2**20) as stored:
        ...     stored.specs["w"].nbytes
        800
        >>> open_file(h5py, path, max_bytes=100)
        Traceback (most recent call last):
        ...
        tinydl.saving.ModelFileError: cannot load '...': its arrays declare 800 bytes, more than the limit of 100 ...
    """
    try:
        h5 = h5py.File(path, "r")
    except OSError as exc:
        raise invalid(path, f"it is not a readable HDF5 file ({exc})") from None
    try:
        return _check_open(h5py, h5, path, max_bytes)
    except saving.ModelFileError:
        h5.close()
        raise
    # What h5py raises on a damaged file: KeyError for a name that vanished, OSError from
    # HDF5, RuntimeError, TypeError, ValueError (UnicodeDecodeError for a mangled name).
    except (AttributeError, KeyError, OSError, RuntimeError, TypeError, ValueError) as exc:
        h5.close()
        raise invalid(path, f"it could not be read as a tinydl HDF5 file "
                            f"({type(exc).__name__}: {exc})") from None
