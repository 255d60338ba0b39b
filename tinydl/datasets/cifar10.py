"""CIFAR-10 from its binary version: 50,000 train and 10,000 test 32x32 RGB images, 10 classes.

Dataset by Alex Krizhevsky, "Learning Multiple Layers of Features from Tiny Images", 2009,
https://www.cs.toronto.edu/~kriz/cifar.html (no formal license; please cite the report).
"""

from __future__ import annotations

import gzip
import tarfile
import zlib
from pathlib import Path

import numpy as np

from tinydl.datasets import _files
from tinydl.datasets._files import Checksum

FILENAME = "cifar-10-binary.tar.gz"
URLS = ("https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz",)

# The MD5 published on the dataset page for "CIFAR-10 binary version (suitable for C programs)".
# Tests replace this table (monkeypatch) to load a small archive they write themselves.
CHECKSUMS: dict[str, Checksum] = {
    FILENAME: Checksum("md5", "c32a1d4ab5d03f1284b67883e8d87530"),
}

FOLDER = "cifar-10-batches-bin"
TRAIN_MEMBERS = tuple(f"{FOLDER}/data_batch_{i}.bin" for i in range(1, 6))
TEST_MEMBER = f"{FOLDER}/test_batch.bin"
LABEL_NAMES = (
    "airplane", "automobile", "bird", "cat", "deer",
    "dog", "frog", "horse", "ship", "truck",
)
HEIGHT = WIDTH = 32
CHANNELS = 3
RECORD_BYTES = 1 + CHANNELS * HEIGHT * WIDTH  # 1 label byte, then the R, G and B planes

Split = tuple[np.ndarray, np.ndarray]


def load_data() -> tuple[Split, Split]:
    """Loads CIFAR-10, downloading the official binary archive (162 MB) the first time.

    The archive `cifar-10-binary.tar.gz` is looked up in `$TINYDL_DATA_DIR` if set, else in
    `~/.tinydl/datasets/`, and verified against its published MD5. Its six batch files are read
    straight from the archive (nothing is extracted to disk, nothing is unpickled).

    Returns:
        `(x_train, y_train), (x_test, y_test)`: x_train uint8 (50000, 32, 32, 3) NHWC RGB,
        y_train uint8 (50000, 1), x_test uint8 (10000, 32, 32, 3), y_test uint8 (10000, 1), as
        in Keras. Label k is named `LABEL_NAMES[k]`.

    Raises:
        tinydl.datasets.DatasetUnavailableError: the archive is missing and could not be
            downloaded; the message gives the path to put it at and its URL.
        ValueError: the archive fails its checksum, is damaged, or lacks a batch file.

    Example:
        >>> from tinydl.datasets import cifar10
        >>> (x_train, y_train), (x_test, y_test) = cifar10.load_data()  # doctest: +SKIP
        >>> x_train.shape, y_train.shape  # doctest: +SKIP
        ((50000, 32, 32, 3), (50000, 1))
    """
    path = _files.fetch(FILENAME, URLS, CHECKSUMS[FILENAME], _files.data_dir())
    batches = read_members(path, TRAIN_MEMBERS + (TEST_MEMBER,))
    parts = [parse_records(batches.pop(name), name) for name in TRAIN_MEMBERS]
    train = (np.concatenate([x for x, _ in parts]), np.concatenate([y for _, y in parts]))
    test = parse_records(batches.pop(TEST_MEMBER), TEST_MEMBER)
    return train, test


def label_names() -> list[str]:
    """Returns the 10 class names, index k naming label k ('airplane', ..., 'truck').

    Example:
        >>> label_names()[:3], len(label_names())
        (['airplane', 'automobile', 'bird'], 10)
    """
    return list(LABEL_NAMES)


def read_members(path: Path, names: tuple[str, ...]) -> dict[str, bytes]:
    """Reads the named regular files from a .tar.gz in one pass, without extracting to disk.

    Args:
        path: the archive.
        names: the member paths to read, e.g. "cifar-10-batches-bin/test_batch.bin".

    Returns:
        A dict from each name to its bytes.

    Raises:
        ValueError: the archive is damaged or a name is missing from it.

    Example:
        >>> import io, os, tarfile, tempfile
        >>> root = tempfile.mkdtemp()
        >>> path = os.path.join(root, "batches.tar.gz")
        >>> with tarfile.open(path, "w:gz") as archive:
        ...     info = tarfile.TarInfo("batch.bin"); info.size = 3
        ...     archive.addfile(info, io.BytesIO(b"abc"))
        >>> read_members(path, ("batch.bin",))
        {'batch.bin': b'abc'}
        >>> import shutil; shutil.rmtree(root)
    """
    found = {}
    try:
        with tarfile.open(path, "r:gz") as archive:
            for member in archive:
                if member.name in names and member.isfile():
                    found[member.name] = archive.extractfile(member).read()
    except (tarfile.TarError, EOFError, gzip.BadGzipFile, zlib.error) as error:
        raise ValueError(f"{path} is not a readable .tar.gz archive: {error}.") from error
    missing = [name for name in names if name not in found]
    if missing:
        raise ValueError(f"{path}: expected members {list(names)}, missing {missing}.")
    return found


def parse_records(data: bytes, name: str) -> Split:
    """Parses CIFAR-10 binary records into NHWC images and labels.

    Each 3073-byte record is one label byte (0..9) then 3072 pixel bytes: the 32x32 red plane,
    then green, then blue, each row-major (CHW). Planes are moved last to give HWC.

    Args:
        data: one or more whole records, concatenated.
        name: where the bytes come from, used in error messages.

    Returns:
        `(x, y)`: x uint8 (N, 32, 32, 3) C-contiguous, y uint8 (N, 1).

    Raises:
        ValueError: the size is not a positive multiple of 3073, or a label is above 9.

    Example:
        >>> record = bytes([7]) + bytes([10]) * 1024 + bytes([20]) * 1024 + bytes([30]) * 1024
        >>> x, y = parse_records(record, "one record")
        >>> x.shape, y.tolist(), x[0, 0, 0].tolist()
        ((1, 32, 32, 3), [[7]], [10, 20, 30])
    """
    if len(data) == 0 or len(data) % RECORD_BYTES:
        raise ValueError(
            f"{name}: expected a positive multiple of {RECORD_BYTES} bytes (one label byte and "
            f"{RECORD_BYTES - 1} pixel bytes per image), got {len(data)} bytes."
        )
    records = np.frombuffer(data, np.uint8).reshape(-1, RECORD_BYTES)
    y = records[:, :1].copy()
    if y.max() >= len(LABEL_NAMES):
        raise ValueError(f"{name}: expected labels 0..9, got a label {y.max()}.")
    chw = records[:, 1:].reshape(-1, CHANNELS, HEIGHT, WIDTH)
    x = np.ascontiguousarray(chw.transpose(0, 2, 3, 1))
    return x, y
