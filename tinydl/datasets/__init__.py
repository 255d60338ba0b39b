"""Dataset loaders returning Keras-style `(x_train, y_train), (x_test, y_test)` uint8 NumPy arrays.

Downloaded on first use (verified against published checksums, cached on disk):
    mnist, fashion_mnist, cifar10

Bundled with the package, offline (see `tinydl/datasets/data/PROVENANCE.md`):
    digits          UCI 8x8 digits, 1,437 train / 360 test
    mnist_sample    the official MNIST test set, 8,000 train / 2,000 test
    cifar10_sample  the first 1,000 CIFAR-10 train and first 1,000 test images

Where files are cached: in `$TINYDL_DATA_DIR` if set, flat, under the official file names
(`train-images-idx3-ubyte.gz`, `train-labels-idx1-ubyte.gz`, `t10k-images-idx3-ubyte.gz`,
`t10k-labels-idx1-ubyte.gz`, `cifar-10-binary.tar.gz`), whichever dataset is asked for. Since
MNIST and Fashion-MNIST share file names, such a folder holds one of them. Otherwise files go to
`~/.tinydl/datasets/`, with Fashion-MNIST in `~/.tinydl/datasets/fashion_mnist/`.

Without network, a missing file raises `DatasetUnavailableError` (a `FileNotFoundError`, so an
`OSError`) whose message gives the exact path to put the file at and the URL to get it from.
A file that fails its checksum raises `ValueError` and is not used.

Example:
    >>> from tinydl.datasets import mnist_sample
    >>> (x_train, y_train), (x_test, y_test) = mnist_sample.load_data()
"""

from tinydl.datasets import cifar10, cifar10_sample, digits, fashion_mnist, mnist, mnist_sample
from tinydl.datasets._files import DATA_DIR_ENV, DatasetUnavailableError, data_dir

__all__ = [
    "DATA_DIR_ENV",
    "DatasetUnavailableError",
    "cifar10",
    "cifar10_sample",
    "data_dir",
    "digits",
    "fashion_mnist",
    "mnist",
    "mnist_sample",
]
