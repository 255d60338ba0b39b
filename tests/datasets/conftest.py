"""Dataset test fixtures: an isolated data folder, no network, tiny official-format files."""

from __future__ import annotations

import gzip
import hashlib
import io
import struct
import tarfile
import urllib.error
from pathlib import Path
from typing import Callable

import numpy as np
import pytest

from tinydl.datasets import _files


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Points TINYDL_DATA_DIR and HOME into tmp_path and makes any network access fail."""
    data = tmp_path / "data"
    monkeypatch.setenv(_files.DATA_DIR_ENV, str(data))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))

    def no_network(url: str):
        raise urllib.error.URLError(f"network disabled in tests ({url})")

    monkeypatch.setattr(_files, "open_url", no_network)
    return data


def idx_bytes(array: np.ndarray) -> bytes:
    """Encodes a uint8 array as an uncompressed IDX file (magic 2049 for 1-D, 2051 for 3-D)."""
    magic = 0x800 | array.ndim
    header = struct.pack(f">I{array.ndim}I", magic, *array.shape)
    return header + np.ascontiguousarray(array, np.uint8).tobytes()


@pytest.fixture
def encode_idx() -> Callable[[np.ndarray], bytes]:
    """Returns `idx_bytes`, the uncompressed IDX encoder."""
    return idx_bytes


@pytest.fixture
def write_idx_gz() -> Callable[[Path, np.ndarray], str]:
    """Returns a function writing `array` as a gzipped IDX file; it returns the content's sha256."""

    def write(path: Path, array: np.ndarray) -> str:
        content = idx_bytes(array)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(gzip.compress(content))
        return hashlib.sha256(content).hexdigest()

    return write


@pytest.fixture
def write_cifar_tar() -> Callable[[Path, dict[str, bytes]], str]:
    """Returns a function writing {name: bytes} members into a .tar.gz; it returns the md5."""

    def write(path: Path, members: dict[str, bytes]) -> str:
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
            for name, data in members.items():
                info = tarfile.TarInfo(name)
                info.size = len(data)
                archive.addfile(info, io.BytesIO(data))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(buffer.getvalue())
        return hashlib.md5(buffer.getvalue()).hexdigest()

    return write
