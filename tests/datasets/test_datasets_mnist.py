"""Tests of the MNIST and Fashion-MNIST loaders on tiny IDX files written here and on real MNIST."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tinydl.datasets import DatasetUnavailableError, _files, fashion_mnist, mnist
from tinydl.datasets._files import Checksum

SHARED_MNIST = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "mnist"


def tiny_mnist(folder: Path, write_idx_gz, module, monkeypatch: pytest.MonkeyPatch) -> dict:
    """Writes 5 train and 3 test examples in the official format, patching `module.CHECKSUMS`."""
    rng = np.random.default_rng(0)
    arrays = {
        mnist.TRAIN_IMAGES: rng.integers(0, 256, (5, 28, 28), dtype=np.uint8),
        mnist.TRAIN_LABELS: np.array([5, 0, 4, 1, 9], np.uint8),
        mnist.TEST_IMAGES: rng.integers(0, 256, (3, 28, 28), dtype=np.uint8),
        mnist.TEST_LABELS: np.array([7, 2, 1], np.uint8),
    }
    for name, array in arrays.items():
        digest = write_idx_gz(folder / name, array)
        monkeypatch.setitem(module.CHECKSUMS, name, Checksum("sha256", digest, decompressed=True))
    return arrays


def test_mnist_parses_official_format(isolated: Path, write_idx_gz, monkeypatch) -> None:
    arrays = tiny_mnist(isolated, write_idx_gz, mnist, monkeypatch)
    (x_train, y_train), (x_test, y_test) = mnist.load_data()
    assert x_train.shape == (5, 28, 28) and x_test.shape == (3, 28, 28)
    assert y_train.shape == (5,) and y_test.shape == (3,)
    assert {a.dtype for a in (x_train, y_train, x_test, y_test)} == {np.dtype(np.uint8)}
    np.testing.assert_array_equal(x_train, arrays[mnist.TRAIN_IMAGES])
    np.testing.assert_array_equal(y_test, arrays[mnist.TEST_LABELS])


def test_fashion_uses_subfolder_by_default(tmp_path: Path, write_idx_gz, monkeypatch) -> None:
    monkeypatch.delenv(_files.DATA_DIR_ENV)
    folder = tmp_path / "home" / ".tinydl" / "datasets" / "fashion_mnist"
    arrays = tiny_mnist(folder, write_idx_gz, fashion_mnist, monkeypatch)
    (x_train, _), (_, y_test) = fashion_mnist.load_data()
    np.testing.assert_array_equal(x_train, arrays[mnist.TRAIN_IMAGES])
    np.testing.assert_array_equal(y_test, arrays[mnist.TEST_LABELS])


def test_fashion_reads_flat_from_env_folder(isolated: Path, write_idx_gz, monkeypatch) -> None:
    tiny_mnist(isolated, write_idx_gz, fashion_mnist, monkeypatch)
    (x_train, _), _ = fashion_mnist.load_data()
    assert x_train.shape == (5, 28, 28)


def test_fashion_checksums_are_of_the_gz_files() -> None:
    assert all(not c.decompressed for c in fashion_mnist.CHECKSUMS.values())
    assert set(fashion_mnist.CHECKSUMS) == set(mnist.FILES)


def test_checksum_mismatch_is_refused(isolated: Path, write_idx_gz, monkeypatch) -> None:
    tiny_mnist(isolated, write_idx_gz, mnist, monkeypatch)
    monkeypatch.setitem(mnist.CHECKSUMS, mnist.TEST_LABELS,
                        Checksum("sha256", "ab" * 32, decompressed=True))
    expected = f"{mnist.TEST_LABELS}: expected sha256 .* = {'ab' * 32}, got"
    with pytest.raises(ValueError, match=expected):
        mnist.load_data()
    assert (isolated / mnist.TEST_LABELS).exists()  # refused, not deleted


def test_images_and_labels_swapped_is_refused(isolated: Path, write_idx_gz, monkeypatch) -> None:
    arrays = tiny_mnist(isolated, write_idx_gz, mnist, monkeypatch)
    digest = write_idx_gz(isolated / mnist.TEST_IMAGES, arrays[mnist.TEST_LABELS])
    monkeypatch.setitem(mnist.CHECKSUMS, mnist.TEST_IMAGES, Checksum("sha256", digest, True))
    with pytest.raises(ValueError, match=f"{mnist.TEST_IMAGES}: expected IDX magic number 2051"):
        mnist.load_data()


def test_count_mismatch_is_refused(isolated: Path, write_idx_gz, monkeypatch) -> None:
    tiny_mnist(isolated, write_idx_gz, mnist, monkeypatch)
    digest = write_idx_gz(isolated / mnist.TEST_LABELS, np.array([1, 2], np.uint8))
    monkeypatch.setitem(mnist.CHECKSUMS, mnist.TEST_LABELS, Checksum("sha256", digest, True))
    with pytest.raises(ValueError, match="holds 3 images but .* holds 2 labels"):
        mnist.load_data()


def test_truncated_gz_is_refused(isolated: Path, write_idx_gz, monkeypatch) -> None:
    tiny_mnist(isolated, write_idx_gz, mnist, monkeypatch)
    path = isolated / mnist.TRAIN_IMAGES
    path.write_bytes(path.read_bytes()[:-30])
    with pytest.raises(ValueError, match=mnist.TRAIN_IMAGES):
        mnist.load_data()


def test_missing_file_without_network_names_path_and_url(isolated: Path) -> None:
    with pytest.raises(DatasetUnavailableError) as info:
        mnist.load_data()
    message = str(info.value)
    assert str(isolated / mnist.TRAIN_IMAGES) in message
    assert mnist.BASE_URLS[0] + mnist.TRAIN_IMAGES in message
    assert mnist.BASE_URLS[1] + mnist.TRAIN_IMAGES in message  # the mirror was tried too


@pytest.mark.skipif(not SHARED_MNIST.is_dir(), reason="shared/data/mnist is not beside the repo")
def test_real_mnist_from_shared_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(_files.DATA_DIR_ENV, str(SHARED_MNIST))
    (x_train, y_train), (x_test, y_test) = mnist.load_data()  # verifies official checksums
    assert x_train.shape == (60000, 28, 28) and y_train.shape == (60000,)
    assert x_test.shape == (10000, 28, 28) and y_test.shape == (10000,)
    assert x_train.dtype == y_train.dtype == np.uint8
    train_counts = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    assert np.bincount(y_train).tolist() == train_counts
