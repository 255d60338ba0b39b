"""MNIST handwritten digits: 60,000 train and 10,000 test images, 28x28 grayscale, 10 classes.

Dataset by Yann LeCun, Corinna Cortes and Christopher J.C. Burges, license CC BY-SA 3.0.
"""

from __future__ import annotations

from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from tinydl.datasets import _files
from tinydl.datasets._files import Checksum

TRAIN_IMAGES = "train-images-idx3-ubyte.gz"
TRAIN_LABELS = "train-labels-idx1-ubyte.gz"
TEST_IMAGES = "t10k-images-idx3-ubyte.gz"
TEST_LABELS = "t10k-labels-idx1-ubyte.gz"
FILES = (TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES, TEST_LABELS)

# Canonical location first, then a mirror.
BASE_URLS = (
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
)

# The official SHA-256 of the *decompressed* IDX files (as pinned by the torchvision/CVDF/ossci
# mirror lists). Checking the content rather than the .gz accepts any gzip wrapping of it.
# Tests replace this table (monkeypatch) to load small files they write themselves.
CHECKSUMS: dict[str, Checksum] = {
    TRAIN_IMAGES: Checksum(
        "sha256", "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db", True
    ),
    TRAIN_LABELS: Checksum(
        "sha256", "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5", True
    ),
    TEST_IMAGES: Checksum(
        "sha256", "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7", True
    ),
    TEST_LABELS: Checksum(
        "sha256", "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2", True
    ),
}

Split = tuple[np.ndarray, np.ndarray]


def load_data() -> tuple[Split, Split]:
    """Loads MNIST, downloading the four official files the first time.

    Files are looked up flat in `$TINYDL_DATA_DIR` if set, else in `~/.tinydl/datasets/`, under
    their official names (`train-images-idx3-ubyte.gz`, ...). Each is verified against the
    official SHA-256 of its decompressed content before use.

    Returns:
        `(x_train, y_train), (x_test, y_test)`: x_train uint8 (60000, 28, 28), y_train uint8
        (60000,), x_test uint8 (10000, 28, 28), y_test uint8 (10000,); pixels 0..255, labels 0..9.

    Raises:
        tinydl.datasets.DatasetUnavailableError: a file is missing and could not be downloaded;
            the message gives the path to put it at and its URL.
        ValueError: a file fails its checksum or is not a valid gzip IDX file.

    Example:
        >>> from tinydl.datasets import mnist
        >>> (x_train, y_train), (x_test, y_test) = mnist.load_data()  # doctest: +SKIP
        >>> x_train.shape, y_test.shape  # doctest: +SKIP
        ((60000, 28, 28), (10000,))
    """
    return load_idx_dataset(_files.data_dir(), BASE_URLS, CHECKSUMS)


def load_idx_dataset(
    directory: Path, base_urls: Sequence[str], checksums: Mapping[str, Checksum]
) -> tuple[Split, Split]:
    """Fetches, verifies and reads the four MNIST-format files; shared with Fashion-MNIST.

    Args:
        directory: the folder holding (or to receive) the four files.
        base_urls: folders the files are downloaded from, tried in order.
        checksums: the expected digest of each of the four file names.

    Returns:
        `(x_train, y_train), (x_test, y_test)`: images uint8 (N, 28, 28), labels uint8 (N,).

    Example:
        >>> (x_train, y_train), (x_test, y_test) = load_idx_dataset(  # doctest: +SKIP
        ...     _files.data_dir(), BASE_URLS, CHECKSUMS)
        >>> x_train.shape, y_test.shape  # doctest: +SKIP
        ((60000, 28, 28), (10000,))
    """
    paths = {
        name: _files.fetch(name, [base + name for base in base_urls], checksums[name], directory)
        for name in FILES
    }
    train = _files.read_idx_pair(paths[TRAIN_IMAGES], paths[TRAIN_LABELS])
    test = _files.read_idx_pair(paths[TEST_IMAGES], paths[TEST_LABELS])
    return train, test
