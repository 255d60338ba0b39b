"""Tests of the CIFAR-10 binary loader on small archives in the official layout, written here."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

from tinydl.datasets import DatasetUnavailableError, cifar10
from tinydl.datasets._files import Checksum


def cifar_records(x_nhwc: np.ndarray, y: np.ndarray) -> bytes:
    """Encodes images (N, 32, 32, 3) and labels (N,) as records: label byte, then R, G, B planes."""
    chw = x_nhwc.transpose(0, 3, 1, 2).reshape(len(x_nhwc), -1)
    return np.concatenate([y.reshape(-1, 1), chw], axis=1).astype(np.uint8).tobytes()


def tiny_cifar(folder: Path, write_cifar_tar, monkeypatch, drop: str | None = None) -> dict:
    """Writes 2 images per batch file (10 train, 2 test) and patches cifar10.CHECKSUMS."""
    rng = np.random.default_rng(1)
    batches = {}
    for name in cifar10.TRAIN_MEMBERS + (cifar10.TEST_MEMBER,):
        x = rng.integers(0, 256, (2, 32, 32, 3), dtype=np.uint8)
        batches[name] = (x, rng.integers(0, 10, 2, dtype=np.uint8))
    members = {name: cifar_records(x, y) for name, (x, y) in batches.items() if name != drop}
    members["cifar-10-batches-bin/batches.meta.txt"] = b"airplane\nautomobile\n"
    md5 = write_cifar_tar(folder / cifar10.FILENAME, members)
    monkeypatch.setitem(cifar10.CHECKSUMS, cifar10.FILENAME, Checksum("md5", md5))
    return batches


def test_parses_binary_archive_to_nhwc(isolated: Path, write_cifar_tar, monkeypatch) -> None:
    batches = tiny_cifar(isolated, write_cifar_tar, monkeypatch)
    (x_train, y_train), (x_test, y_test) = cifar10.load_data()
    assert x_train.shape == (10, 32, 32, 3) and x_test.shape == (2, 32, 32, 3)
    assert y_train.shape == (10, 1) and y_test.shape == (2, 1)
    assert {a.dtype for a in (x_train, y_train, x_test, y_test)} == {np.dtype(np.uint8)}
    assert x_train.flags.c_contiguous
    expected_x = np.concatenate([batches[name][0] for name in cifar10.TRAIN_MEMBERS])
    expected_y = np.concatenate([batches[name][1] for name in cifar10.TRAIN_MEMBERS])
    np.testing.assert_array_equal(x_train, expected_x)
    np.testing.assert_array_equal(y_train[:, 0], expected_y)
    np.testing.assert_array_equal(x_test, batches[cifar10.TEST_MEMBER][0])


def test_record_layout_is_label_then_rgb_planes() -> None:
    record = bytes([3]) + bytes([10]) * 1024 + bytes([20]) * 1024 + bytes([30]) * 1024
    x, y = cifar10.parse_records(record, "one record")
    assert y.tolist() == [[3]]
    assert x[0, 5, 7].tolist() == [10, 20, 30]


def test_missing_member_is_refused(isolated: Path, write_cifar_tar, monkeypatch) -> None:
    tiny_cifar(isolated, write_cifar_tar, monkeypatch, drop=cifar10.TEST_MEMBER)
    with pytest.raises(ValueError, match="missing.*test_batch.bin"):
        cifar10.load_data()


def test_bad_record_size_is_refused(isolated: Path, write_cifar_tar, monkeypatch) -> None:
    names = cifar10.TRAIN_MEMBERS + (cifar10.TEST_MEMBER,)
    md5 = write_cifar_tar(isolated / cifar10.FILENAME, {name: b"\0" * 3000 for name in names})
    monkeypatch.setitem(cifar10.CHECKSUMS, cifar10.FILENAME, Checksum("md5", md5))
    with pytest.raises(ValueError, match="data_batch_1.bin: expected a positive multiple of 3073"):
        cifar10.load_data()


def test_label_above_9_is_refused() -> None:
    with pytest.raises(ValueError, match="expected labels 0..9, got a label 10"):
        cifar10.parse_records(bytes([10]) + bytes(3072), "batch")


def test_checksum_mismatch_is_refused(isolated: Path, write_cifar_tar, monkeypatch) -> None:
    tiny_cifar(isolated, write_cifar_tar, monkeypatch)
    monkeypatch.setitem(cifar10.CHECKSUMS, cifar10.FILENAME, Checksum("md5", "0" * 32))
    expected = f"{cifar10.FILENAME}: expected md5 of the file = {'0' * 32}, got"
    with pytest.raises(ValueError, match=expected):
        cifar10.load_data()


def test_truncated_archive_is_refused(isolated: Path, write_cifar_tar, monkeypatch) -> None:
    tiny_cifar(isolated, write_cifar_tar, monkeypatch)
    path = isolated / cifar10.FILENAME
    path.write_bytes(path.read_bytes()[:-100])
    monkeypatch.setitem(cifar10.CHECKSUMS, cifar10.FILENAME,
                        Checksum("md5", hashlib.md5(path.read_bytes()).hexdigest()))
    with pytest.raises(ValueError, match="not a readable .tar.gz"):
        cifar10.load_data()


def test_missing_archive_without_network_names_path_and_url(isolated: Path) -> None:
    with pytest.raises(DatasetUnavailableError) as info:
        cifar10.load_data()
    assert str(isolated / "cifar-10-binary.tar.gz") in str(info.value)
    assert "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz" in str(info.value)


def test_label_names() -> None:
    assert cifar10.label_names()[0] == "airplane" and cifar10.label_names()[9] == "truck"
    assert len(cifar10.LABEL_NAMES) == 10
