"""Tests of the loaders for data bundled in the package (digits, mnist_sample, cifar10_sample)."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import tinydl.datasets
from tinydl.datasets import _files, cifar10, cifar10_sample, digits, mnist_sample


def check_split(split, x_shape: tuple, y_shape: tuple) -> None:
    x, y = split
    assert x.shape == x_shape and y.shape == y_shape
    assert x.dtype == np.uint8 and y.dtype == np.uint8


def test_digits() -> None:
    train, test = digits.load_data()
    check_split(train, (1437, 8, 8), (1437,))
    check_split(test, (360, 8, 8), (360,))
    x = np.concatenate([train[0], test[0]])
    y = np.concatenate([train[1], test[1]])
    assert x.max() == 16
    assert np.bincount(y).tolist() == [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]
    assert train[0][0, 1].tolist() == [0, 0, 13, 15, 10, 15, 5, 0]  # the file's row 0, pixels 8..15


def test_mnist_sample() -> None:
    train, test = mnist_sample.load_data()
    check_split(train, (8000, 28, 28), (8000,))
    check_split(test, (2000, 28, 28), (2000,))
    y = np.concatenate([train[1], test[1]])
    assert np.bincount(y).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    assert y[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]


def test_cifar10_sample() -> None:
    train, test = cifar10_sample.load_data()
    check_split(train, (1000, 32, 32, 3), (1000, 1))
    check_split(test, (1000, 32, 32, 3), (1000, 1))
    assert train[1][:10, 0].tolist() == [6, 9, 9, 4, 1, 1, 2, 7, 8, 3]
    assert test[1][:10, 0].tolist() == [3, 8, 8, 0, 6, 6, 1, 6, 3, 1]
    assert test[0][0, 0, :3].tolist() == [[158, 112, 49], [159, 111, 47], [165, 116, 51]]
    assert cifar10_sample.label_names() == list(cifar10.LABEL_NAMES)
    assert cifar10_sample.LABEL_NAMES == cifar10.LABEL_NAMES


def test_damaged_bundled_file_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copytree(_files.BUNDLED_DATA_DIR, tmp_path / "data")
    labels = tmp_path / "data" / "t10k-labels-idx1-ubyte.gz"
    labels.write_bytes(labels.read_bytes()[:-8])  # drop the gzip trailer
    monkeypatch.setattr(_files, "BUNDLED_DATA_DIR", tmp_path / "data")
    with pytest.raises(ValueError, match="t10k-labels-idx1-ubyte.gz"):
        mnist_sample.load_data()


def test_bundled_files_are_documented_and_small() -> None:
    files = [p for p in _files.BUNDLED_DATA_DIR.iterdir() if p.name != "PROVENANCE.md"]
    assert sum(p.stat().st_size for p in files) < 8_000_000
    provenance = (_files.BUNDLED_DATA_DIR / "PROVENANCE.md").read_text()
    for path in files:
        assert path.name in provenance


def test_package_exposes_loaders() -> None:
    for name in ("mnist", "fashion_mnist", "cifar10", "digits", "mnist_sample", "cifar10_sample"):
        assert callable(getattr(tinydl.datasets, name).load_data)


def test_import_is_silent() -> None:
    code = "import tinydl.datasets"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    assert result.stdout == "" and result.stderr == ""


def test_datasets_is_a_leaf() -> None:
    """Only numpy, the standard library and tinydl.datasets itself are imported; never pickle."""
    allowed = {"numpy"} | set(sys.stdlib_module_names)
    for path in Path(tinydl.datasets.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                assert name.startswith("tinydl.datasets") or (top in allowed and top != "pickle"), (
                    f"{path.name} imports {name}; expected only numpy, the standard library and "
                    "tinydl.datasets"
                )
