"""UCI handwritten digits 8x8 (bundled, offline): 1,797 images, values 0..16, 10 classes.

"Optical Recognition of Handwritten Digits" by E. Alpaydin and C. Kaynak (1998), UCI ML
Repository, license CC BY 4.0; the file is the copy scikit-learn ships (`load_digits`).
See `tinydl/datasets/data/PROVENANCE.md`.
"""

from __future__ import annotations

import gzip

import numpy as np

from tinydl.datasets import _files
from tinydl.datasets._files import Checksum

FILENAME = "digits.csv.gz"
# SHA-256 of the .gz, equal to the RECORD entry of the scikit-learn 1.9.1 wheel it came from.
CHECKSUMS: dict[str, Checksum] = {
    FILENAME: Checksum(
        "sha256", "09f66e6debdee2cd2b5ae59e0d6abbb73fc2b0e0185d2e1957e9ebb51e23aa22"
    ),
}
NUM_TRAIN = 1437  # first 1,437 rows (80%); the last 360 are the test set
PIXELS = 64  # columns 0..63 are the 8x8 image row-major, column 64 is the label

Split = tuple[np.ndarray, np.ndarray]


def load_data() -> tuple[Split, Split]:
    """Loads the 8x8 digits bundled with tinydl; needs no network.

    The split is fixed: the first 1,437 rows of the file are the training set and the last 360
    the test set. The rows cycle through the writers' digits, so both sets hold every class in
    nearly equal numbers (train 141..146 per class, test 33..37).

    Returns:
        `(x_train, y_train), (x_test, y_test)`: x_train uint8 (1437, 8, 8) with values 0..16,
        y_train uint8 (1437,), x_test uint8 (360, 8, 8), y_test uint8 (360,); labels 0..9.

    Raises:
        ValueError: the bundled file fails its checksum or does not have 65 columns.

    Example:
        >>> from tinydl.datasets import digits
        >>> (x_train, y_train), (x_test, y_test) = digits.load_data()
        >>> x_train.shape, x_test.shape
        ((1437, 8, 8), (360, 8, 8))
    """
    path = _files.BUNDLED_DATA_DIR / FILENAME
    _files.verify(path, CHECKSUMS[FILENAME], advice=_files.BUNDLED_ADVICE)
    with gzip.open(path, "rt") as stream:
        table = np.loadtxt(stream, delimiter=",", dtype=np.uint8, ndmin=2)
    if table.shape[1] != PIXELS + 1:
        raise ValueError(f"{path}: expected {PIXELS + 1} columns, got {table.shape[1]}.")
    x = table[:, :PIXELS].reshape(-1, 8, 8).copy()
    y = table[:, PIXELS].copy()
    return (x[:NUM_TRAIN], y[:NUM_TRAIN]), (x[NUM_TRAIN:], y[NUM_TRAIN:])
