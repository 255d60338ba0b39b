"""Tests of the shared dataset helpers: data folder, checksums, downloads, IDX parsing."""

from __future__ import annotations

import gzip
import hashlib
import io
import struct
import urllib.error
from pathlib import Path

import numpy as np
import pytest

from tinydl.datasets import DatasetUnavailableError, _files
from tinydl.datasets._files import Checksum

URL = "https://example.invalid/data/file.bin"
MIRROR = "https://mirror.invalid/data/file.bin"
PAYLOAD = bytes(range(256)) * 50


def sha256(data: bytes) -> Checksum:
    return Checksum("sha256", hashlib.sha256(data).hexdigest())


def serve(monkeypatch: pytest.MonkeyPatch, bodies: dict[str, bytes]) -> list[str]:
    """Makes open_url return `bodies[url]` as a stream (URLError for other URLs); logs URLs."""
    requested = []

    def fake_open(url: str) -> io.BytesIO:
        requested.append(url)
        if url not in bodies:
            raise urllib.error.URLError("unreachable")
        return io.BytesIO(bodies[url])

    monkeypatch.setattr(_files, "open_url", fake_open)
    return requested


class BrokenStream(io.BytesIO):
    """A response that delivers some bytes then drops the connection."""

    def read(self, size: int = -1) -> bytes:
        if self.tell() > 0:
            raise ConnectionResetError("connection reset by peer")
        return super().read(1000)


# ---- data folder -------------------------------------------------------------------------


def test_data_dir_uses_env_flat(isolated: Path) -> None:
    assert _files.data_dir() == isolated
    assert _files.data_dir("fashion_mnist") == isolated


def test_data_dir_default_is_home_with_subfolder(monkeypatch: pytest.MonkeyPatch,
                                                 tmp_path: Path) -> None:
    monkeypatch.delenv(_files.DATA_DIR_ENV)
    home = tmp_path / "home"
    assert _files.data_dir() == home / ".tinydl" / "datasets"
    assert _files.data_dir("fashion_mnist") == home / ".tinydl" / "datasets" / "fashion_mnist"


def test_empty_env_means_default(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(_files.DATA_DIR_ENV, "")
    assert _files.data_dir() == tmp_path / "home" / ".tinydl" / "datasets"


# ---- checksums -----------------------------------------------------------------------------


def test_digest_of_file_and_of_decompressed_content(tmp_path: Path) -> None:
    path = tmp_path / "a.gz"
    path.write_bytes(gzip.compress(PAYLOAD))
    assert _files.file_digest(path, "md5") == hashlib.md5(path.read_bytes()).hexdigest()
    assert _files.file_digest(path, "sha256", True) == hashlib.sha256(PAYLOAD).hexdigest()


def test_decompressed_checksum_accepts_any_gzip_wrapping(tmp_path: Path) -> None:
    expected = Checksum("sha256", hashlib.sha256(PAYLOAD).hexdigest(), decompressed=True)
    for level in (1, 9):
        path = tmp_path / f"level{level}.gz"
        path.write_bytes(gzip.compress(PAYLOAD, compresslevel=level, mtime=level))
        _files.verify(path, expected)


def test_verify_mismatch_names_file_expected_and_got(tmp_path: Path) -> None:
    path = tmp_path / "file.bin"
    path.write_bytes(PAYLOAD)
    got = hashlib.sha256(PAYLOAD).hexdigest()
    with pytest.raises(ValueError) as info:
        _files.verify(path, Checksum("sha256", "0" * 64))
    message = str(info.value)
    assert str(path) in message and "0" * 64 in message and got in message


@pytest.mark.parametrize("damage", ["truncated", "not_gzip", "corrupt"])
def test_damaged_gzip_raises_value_error_naming_file(tmp_path: Path, damage: str) -> None:
    packed = gzip.compress(PAYLOAD)
    body = {
        "truncated": packed[: len(packed) // 2],
        "not_gzip": b"plain text, not gzip",
        "corrupt": packed[:20] + bytes(b ^ 0xFF for b in packed[20:40]) + packed[40:],
    }[damage]
    path = tmp_path / "bad.gz"
    path.write_bytes(body)
    checksum = Checksum("sha256", hashlib.sha256(PAYLOAD).hexdigest(), decompressed=True)
    with pytest.raises(ValueError, match="bad.gz"):
        _files.verify(path, checksum)
    with pytest.raises(ValueError, match="bad.gz"):
        _files.read_gzip(path)


# ---- fetch and download ----------------------------------------------------------------------


def test_missing_file_without_network_names_path_and_url(isolated: Path) -> None:
    with pytest.raises(DatasetUnavailableError) as info:
        _files.fetch("file.bin", [URL, MIRROR], sha256(PAYLOAD), isolated)
    assert isinstance(info.value, OSError)
    message = str(info.value)
    assert str(isolated / "file.bin") in message and URL in message
    assert not (isolated / "file.bin").exists()


def test_download_writes_verified_file_and_draws_progress(
    isolated: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    serve(monkeypatch, {URL: PAYLOAD})
    path = _files.fetch("file.bin", [URL], sha256(PAYLOAD), isolated)
    assert path == isolated / "file.bin" and path.read_bytes() == PAYLOAD
    assert "file.bin" in capsys.readouterr().err
    assert sorted(p.name for p in isolated.iterdir()) == ["file.bin"]


def test_found_file_is_used_without_network(isolated: Path, monkeypatch) -> None:
    isolated.mkdir()
    (isolated / "file.bin").write_bytes(PAYLOAD)
    requested = serve(monkeypatch, {})
    assert _files.fetch("file.bin", [URL], sha256(PAYLOAD), isolated).read_bytes() == PAYLOAD
    assert requested == []


def test_mirror_is_tried_when_first_url_fails(isolated: Path, monkeypatch) -> None:
    requested = serve(monkeypatch, {MIRROR: PAYLOAD})
    _files.fetch("file.bin", [URL, MIRROR], sha256(PAYLOAD), isolated)
    assert requested == [URL, MIRROR]
    assert (isolated / "file.bin").read_bytes() == PAYLOAD


def test_interrupted_download_leaves_no_file(isolated: Path, monkeypatch) -> None:
    monkeypatch.setattr(_files, "open_url", lambda url: BrokenStream(PAYLOAD))
    with pytest.raises(DatasetUnavailableError, match="connection reset"):
        _files.fetch("file.bin", [URL], sha256(PAYLOAD), isolated)
    assert list(isolated.iterdir()) == []  # neither the final name nor a leftover .part


def test_short_body_against_content_length_is_a_failed_download(
    isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Short(io.BytesIO):
        headers = {"Content-Length": str(len(PAYLOAD) + 10)}

    monkeypatch.setattr(_files, "open_url", lambda url: Short(PAYLOAD))
    with pytest.raises(DatasetUnavailableError, match="stopped after"):
        _files.fetch("file.bin", [URL], sha256(PAYLOAD), isolated)
    assert list(isolated.iterdir()) == []


def test_downloaded_bad_file_is_deleted(isolated: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    serve(monkeypatch, {URL: b"not the data"})
    expected = f"Checksum mismatch for {isolated / 'file.bin'} downloaded from {URL}"
    with pytest.raises(ValueError, match=expected):
        _files.fetch("file.bin", [URL], sha256(PAYLOAD), isolated)
    assert list(isolated.iterdir()) == []


def test_found_bad_file_is_refused_but_left(isolated: Path) -> None:
    isolated.mkdir()
    (isolated / "file.bin").write_bytes(b"tampered")
    with pytest.raises(ValueError, match="file.bin") as info:
        _files.fetch("file.bin", [URL], sha256(PAYLOAD), isolated)
    assert hashlib.sha256(PAYLOAD).hexdigest() in str(info.value)
    assert (isolated / "file.bin").read_bytes() == b"tampered"


# ---- IDX parsing ----------------------------------------------------------------------------


def test_parse_idx_images_and_labels(encode_idx) -> None:
    images = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    labels = np.array([7, 1, 0], np.uint8)
    parsed = _files.parse_idx(encode_idx(images), _files.IDX_IMAGES_MAGIC, "x")
    np.testing.assert_array_equal(parsed, images)
    assert parsed.dtype == np.uint8 and parsed.flags.writeable
    np.testing.assert_array_equal(_files.parse_idx(encode_idx(labels), 2049, "y"), labels)


def test_parse_idx_rejects_wrong_magic(encode_idx) -> None:
    labels = encode_idx(np.zeros(5, np.uint8))
    with pytest.raises(ValueError, match=r"labels\.idx: expected IDX magic number 2051, got 2049"):
        _files.parse_idx(labels, _files.IDX_IMAGES_MAGIC, "labels.idx")


@pytest.mark.parametrize("extra", [-1, 1])
def test_parse_idx_rejects_payload_size_mismatch(encode_idx, extra: int) -> None:
    data = encode_idx(np.zeros((2, 3, 3), np.uint8))
    data = data[:extra] if extra < 0 else data + b"\0"
    with pytest.raises(ValueError, match="18 payload bytes are expected"):
        _files.parse_idx(data, _files.IDX_IMAGES_MAGIC, "x.idx")


def test_parse_idx_rejects_short_header() -> None:
    with pytest.raises(ValueError, match="header"):
        _files.parse_idx(struct.pack(">II", 2051, 1), _files.IDX_IMAGES_MAGIC, "x.idx")


def test_mirror_is_tried_when_first_url_serves_a_wrong_file(isolated: Path, monkeypatch) -> None:
    requested = serve(monkeypatch, {URL: b"not the dataset", MIRROR: PAYLOAD})
    _files.fetch("file.bin", [URL, MIRROR], sha256(PAYLOAD), isolated)
    assert requested == [URL, MIRROR]
    assert sorted(p.name for p in isolated.iterdir()) == ["file.bin"]
    assert (isolated / "file.bin").read_bytes() == PAYLOAD


def test_every_url_serving_a_wrong_file_is_a_checksum_error(isolated: Path, monkeypatch) -> None:
    serve(monkeypatch, {URL: b"not the dataset", MIRROR: b"nor this"})
    with pytest.raises(ValueError, match="sha256"):
        _files.fetch("file.bin", [URL, MIRROR], sha256(PAYLOAD), isolated)
    assert list(isolated.iterdir()) == []
