"""A 2,000-image CIFAR-10 (bundled, offline): the first 1,000 train and first 1,000 test images.

CIFAR-10 by Alex Krizhevsky (2009, no formal license; please cite the report). The images come
from Andrej Karpathy's ConvNetJS demo sprites, stored as a plain `.npz` (no pickled objects); see
`tinydl/datasets/data/PROVENANCE.md`.
"""

from __future__ import annotations

import numpy as np

from tinydl.datasets import _files, cifar10
from tinydl.datasets._files import Checksum

FILENAME = "cifar10_subset.npz"
CHECKSUMS: dict[str, Checksum] = {
    FILENAME: Checksum(
        "sha256", "15f222b480d947d73a418f28244aecd90653b61f3f610b8189bb6fb0bf6d4bc0"
    ),
}
LABEL_NAMES = cifar10.LABEL_NAMES


def load_data() -> tuple[cifar10.Split, cifar10.Split]:
    """Loads the bundled CIFAR-10 sample; needs no network.

    x_train is images 0..999 of `data_batch_1` and x_test images 0..999 of `test_batch`, in the
    official order, so `x_train[i]` equals `cifar10.load_data()[0][0][i]` for i < 1000.

    Returns:
        `(x_train, y_train), (x_test, y_test)`: x_train uint8 (1000, 32, 32, 3) NHWC RGB,
        y_train uint8 (1000, 1), x_test uint8 (1000, 32, 32, 3), y_test uint8 (1000, 1); as
        `cifar10.load_data()`. Label k is named `LABEL_NAMES[k]`.

    Raises:
        ValueError: the bundled file fails its checksum.

    Example:
        >>> from tinydl.datasets import cifar10_sample
        >>> (x_train, y_train), _ = cifar10_sample.load_data()
        >>> cifar10_sample.LABEL_NAMES[y_train[0, 0]]
        'frog'
    """
    path = _files.BUNDLED_DATA_DIR / FILENAME
    _files.verify(path, CHECKSUMS[FILENAME], advice=_files.BUNDLED_ADVICE)
    with np.load(path, allow_pickle=False) as arrays:
        train = (arrays["x_train"], arrays["y_train"].astype(np.uint8).reshape(-1, 1))
        test = (arrays["x_test"], arrays["y_test"].astype(np.uint8).reshape(-1, 1))
    return train, test


def label_names() -> list[str]:
    """Returns the 10 class names stored in the bundled file, index k naming label k.

    Example:
        >>> label_names()[6]
        'frog'
    """
    path = _files.BUNDLED_DATA_DIR / FILENAME
    with np.load(path, allow_pickle=False) as arrays:
        return [str(name) for name in arrays["label_names"]]
