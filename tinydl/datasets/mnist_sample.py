"""A 10,000-image MNIST (bundled, offline): the official test set, split 8,000 train / 2,000 test.

The two official `t10k-*-idx1/3-ubyte.gz` files ship inside the package (MNIST, CC BY-SA 3.0);
see `tinydl/datasets/data/PROVENANCE.md`.
"""

from __future__ import annotations

from tinydl.datasets import _files, mnist

NUM_TRAIN = 8000  # the first 8,000 official test images; the last 2,000 are the test set


def load_data() -> tuple[mnist.Split, mnist.Split]:
    """Loads the bundled MNIST sample; needs no network.

    Both files are verified against the official SHA-256 of MNIST's decompressed t10k files
    (`mnist.CHECKSUMS`) before they are parsed.

    Returns:
        `(x_train, y_train), (x_test, y_test)`: x_train uint8 (8000, 28, 28), y_train uint8
        (8000,), x_test uint8 (2000, 28, 28), y_test uint8 (2000,); as `mnist.load_data()`.

    Raises:
        ValueError: a bundled file fails its checksum or is not a valid gzip IDX file.

    Example:
        >>> from tinydl.datasets import mnist_sample
        >>> (x_train, y_train), (x_test, y_test) = mnist_sample.load_data()
        >>> x_train.shape, x_test.shape
        ((8000, 28, 28), (2000, 28, 28))
    """
    paths = [_files.BUNDLED_DATA_DIR / name for name in (mnist.TEST_IMAGES, mnist.TEST_LABELS)]
    for path in paths:
        _files.verify(path, mnist.CHECKSUMS[path.name], advice=_files.BUNDLED_ADVICE)
    x, y = _files.read_idx_pair(*paths)
    return (x[:NUM_TRAIN], y[:NUM_TRAIN]), (x[NUM_TRAIN:], y[NUM_TRAIN:])
