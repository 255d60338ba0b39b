"""Fashion-MNIST: 60,000 train and 10,000 test Zalando article images, 28x28 grayscale, 10 classes.

Dataset by Han Xiao, Kashif Rasul and Roland Vollgraf (Zalando Research), license MIT.
"""

from __future__ import annotations

from tinydl.datasets import _files, mnist
from tinydl.datasets._files import Checksum

# Canonical location first, then a mirror.
BASE_URLS = (
    "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
    "https://storage.googleapis.com/tensorflow/tf-keras-datasets/",
)

# Fashion-MNIST shares MNIST's file names, so outside $TINYDL_DATA_DIR it has its own folder.
SUBFOLDER = "fashion_mnist"

# SHA-256 of the published .gz files, as pinned by Keras (keras/src/datasets/fashion_mnist.py).
# They belong to the same files as the MD5s in the zalandoresearch/fashion-mnist README:
# 8d4fb7e6c68d591d4c3dfef9ec88bf0d, 25c81989df183df01b3e8a0aad5dffbe,
# bef4ecab320f06d8554ea6380940ec79, bb300cfdad3c16e7a12a480ee83cd310 (same order as below).
# Tests replace this table (monkeypatch) to load small files they write themselves.
CHECKSUMS: dict[str, Checksum] = {
    mnist.TRAIN_IMAGES: Checksum(
        "sha256", "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84"
    ),
    mnist.TRAIN_LABELS: Checksum(
        "sha256", "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845"
    ),
    mnist.TEST_IMAGES: Checksum(
        "sha256", "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073"
    ),
    mnist.TEST_LABELS: Checksum(
        "sha256", "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5"
    ),
}

LABEL_NAMES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)


def load_data() -> tuple[mnist.Split, mnist.Split]:
    """Loads Fashion-MNIST, downloading the four official files the first time.

    The files have the same names as MNIST's (`train-images-idx3-ubyte.gz`, ...). They are looked
    up flat in `$TINYDL_DATA_DIR` if set (so that folder holds one of the two datasets), else in
    `~/.tinydl/datasets/fashion_mnist/`. Each is verified against its published SHA-256.

    Returns:
        `(x_train, y_train), (x_test, y_test)`: x_train uint8 (60000, 28, 28), y_train uint8
        (60000,), x_test uint8 (10000, 28, 28), y_test uint8 (10000,). Label k is named
        `LABEL_NAMES[k]`.

    Raises:
        tinydl.datasets.DatasetUnavailableError: a file is missing and could not be downloaded;
            the message gives the path to put it at and its URL.
        ValueError: a file fails its checksum or is not a valid gzip IDX file.

    Example:
        >>> from tinydl.datasets import fashion_mnist
        >>> (x_train, y_train), _ = fashion_mnist.load_data()  # doctest: +SKIP
        >>> fashion_mnist.LABEL_NAMES[y_train[0]]  # doctest: +SKIP
        'Ankle boot'
    """
    return mnist.load_idx_dataset(_files.data_dir(SUBFOLDER), BASE_URLS, CHECKSUMS)
