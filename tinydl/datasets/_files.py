"""Where dataset files live, how they are downloaded and verified, and how IDX files are read.

Every loader in `tinydl.datasets` goes through `fetch()`: a file is looked up in the data folder,
downloaded if missing (to a temporary name in the same folder, renamed only once it is complete
and its checksum is right), and verified against its published checksum before it is used.

The data folder is `$TINYDL_DATA_DIR` when that variable is set: files are then looked up *flat*
in that folder under their official names, whichever dataset asks for them (so it can hold MNIST
or Fashion-MNIST, not both, since they share file names). Otherwise it is `~/.tinydl/datasets`,
with datasets that would clash in a subfolder (`~/.tinydl/datasets/fashion_mnist/`).

This module only uses numpy and the standard library.
"""

from __future__ import annotations

import gzip
import hashlib
import http.client
import os
import struct
import sys
import tempfile
import urllib.request
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Sequence

import numpy as np

DATA_DIR_ENV = "TINYDL_DATA_DIR"
DEFAULT_DATA_DIR = Path("~") / ".tinydl" / "datasets"
BUNDLED_DATA_DIR = Path(__file__).resolve().parent / "data"  # small real data shipped in the wheel
BUNDLED_ADVICE = "This file ships with tinydl and is damaged: reinstall tinydl."
IDX_IMAGES_MAGIC = 2051  # 0x00000803: unsigned bytes, 3 dimensions (N, H, W)
IDX_LABELS_MAGIC = 2049  # 0x00000801: unsigned bytes, 1 dimension (N,)
CHUNK_BYTES = 1 << 20
DOWNLOAD_TIMEOUT_S = 60.0


class DatasetUnavailableError(FileNotFoundError):
    """A dataset file is not on disk and could not be downloaded.

    A subclass of `FileNotFoundError` (hence of `OSError`). Its message names the exact path
    where the file is expected and the URL to fetch it from, so it can be copied there by hand.

    Example:
        >>> issubclass(DatasetUnavailableError, FileNotFoundError)
        True
    """


@dataclass(frozen=True)
class Checksum:
    """A published digest of a file.

    Attributes:
        algorithm: a `hashlib` name, "sha256" or "md5".
        hexdigest: the expected digest, lowercase hex.
        decompressed: if True the digest is of the gunzipped content, so any gzip wrapping of the
            same bytes is accepted; if False it is of the file as stored.
    """

    algorithm: str
    hexdigest: str
    decompressed: bool = False

    def describe(self) -> str:
        """Returns e.g. 'sha256 of the decompressed content'."""
        what = "the decompressed content" if self.decompressed else "the file"
        return f"{self.algorithm} of {what}"


def data_dir(subfolder: str | None = None) -> Path:
    """Returns the folder where dataset files are looked up and cached.

    Args:
        subfolder: used only for the default location, to keep apart datasets whose official
            file names clash (Fashion-MNIST passes "fashion_mnist").

    Returns:
        `$TINYDL_DATA_DIR` if set and not empty (flat, `subfolder` ignored), else
        `~/.tinydl/datasets[/subfolder]`. The folder is not created here.

    Example:
        >>> from unittest import mock
        >>> with mock.patch.dict("os.environ", {"TINYDL_DATA_DIR": "/data/tinydl"}):
        ...     print(data_dir("fashion_mnist"))
        /data/tinydl
    """
    override = os.environ.get(DATA_DIR_ENV, "")
    if override:
        return Path(override).expanduser()
    folder = DEFAULT_DATA_DIR.expanduser()
    return folder / subfolder if subfolder else folder


def _gzip_error(path: Path, error: Exception) -> ValueError:
    return ValueError(
        f"{path} is not a complete gzip file: {error}. Expected a valid .gz file; delete it so "
        "it is downloaded again, or replace it with the official file."
    )


def file_digest(path: Path, algorithm: str, decompressed: bool = False) -> str:
    """Returns the hex digest of a file, or of its gunzipped content.

    Args:
        path: the file to hash, read in chunks.
        algorithm: a `hashlib` name, e.g. "sha256" or "md5".
        decompressed: hash the gunzipped bytes instead of the stored bytes.

    Returns:
        The lowercase hex digest.

    Raises:
        ValueError: `decompressed` is True and the file is truncated or not gzip.
    """
    hasher = hashlib.new(algorithm, usedforsecurity=False)
    opener = gzip.open if decompressed else open
    try:
        with opener(path, "rb") as stream:
            for chunk in iter(lambda: stream.read(CHUNK_BYTES), b""):
                hasher.update(chunk)
    except (EOFError, gzip.BadGzipFile, zlib.error) as error:
        raise _gzip_error(path, error) from error
    return hasher.hexdigest()


def verify(path: Path, checksum: Checksum, advice: str = "", label: str | None = None) -> None:
    """Checks a file against its published checksum.

    Args:
        path: the file to check.
        checksum: the expected digest.
        advice: a sentence appended to the error, saying what to do about a bad file.
        label: how the error names the file; defaults to `path`.

    Raises:
        ValueError: the digest differs (the message names the file, the expected and the
            received digest), or a file checked by its decompressed content is not valid gzip.
    """
    got = file_digest(path, checksum.algorithm, checksum.decompressed)
    if got != checksum.hexdigest.lower():
        raise ValueError(
            f"Checksum mismatch for {label or path}: expected {checksum.describe()} = "
            f"{checksum.hexdigest}, got {got}. {advice}".rstrip()
        )


def open_url(url: str) -> BinaryIO:
    """Opens a URL for reading; the only function here that touches the network.

    Tests replace it (monkeypatch) with a function that raises `urllib.error.URLError` or
    returns an in-memory stream.
    """
    return urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT_S)


def _progress(label: str, done: int, total: int | None) -> None:
    """Draws one line of a text progress bar on stderr, e.g. `name  42% [########    ] 11.1 MB`."""
    megabytes = f"{done / 1e6:.1f} MB"
    if total:
        filled = 30 * done // total
        bar = f"{100 * done // total:3d}% [{'#' * filled}{' ' * (30 - filled)}] {megabytes}"
    else:
        bar = megabytes
    sys.stderr.write(f"\rDownloading {label}  {bar}")
    sys.stderr.flush()


def _copy_with_progress(response: BinaryIO, out: BinaryIO, url: str, label: str) -> None:
    """Copies a response body to `out` chunk by chunk, drawing a progress bar."""
    length = getattr(response, "headers", {}).get("Content-Length")
    total = int(length) if length else None
    done = 0
    try:
        for chunk in iter(lambda: response.read(CHUNK_BYTES), b""):
            out.write(chunk)
            done += len(chunk)
            _progress(label, done, total)
    finally:
        sys.stderr.write("\n")
    if total is not None and done != total:
        raise OSError(f"Download of {url} stopped after {done} of {total} bytes.")


def download(url: str, destination: Path, checksum: Checksum) -> None:
    """Downloads `url` to `destination`, atomically and verified.

    The body is written to a temporary file in the same folder, checked against `checksum`, and
    only then renamed to `destination` with `os.replace`. On any error (network, interruption,
    bad checksum) the temporary file is deleted, so no half or bad file is ever left under the
    final name.

    Args:
        url: where to download from.
        destination: the final path; its folder is created if needed.
        checksum: the published digest the download must match.

    Raises:
        OSError: the download failed or stopped early (includes `urllib.error.URLError`).
        http.client.HTTPException: the server closed the connection mid-body.
        ValueError: the downloaded bytes do not match `checksum`.
    """
    destination.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(
        dir=destination.parent, prefix=f".{destination.name}.", suffix=".part"
    )
    temporary = Path(temporary)
    try:
        with os.fdopen(handle, "wb") as out, open_url(url) as response:
            _copy_with_progress(response, out, url, destination.name)
        verify(temporary, checksum, advice="The download was deleted.",
               label=f"{destination} downloaded from {url}")
        os.chmod(temporary, 0o644)  # mkstemp makes it private; a cache file is world-readable
        os.replace(temporary, destination)
    finally:
        temporary.unlink(missing_ok=True)


def _unavailable(path: Path, urls: Sequence[str], failures: list[str]) -> DatasetUnavailableError:
    tried = "; ".join(failures)
    return DatasetUnavailableError(
        f"{path.name} is not in {path.parent} and could not be downloaded ({tried}). Without "
        f"network, download {urls[0]} on another machine and put it at {path} (or set "
        f"{DATA_DIR_ENV} to a folder that holds it)."
    )


def fetch(filename: str, urls: Sequence[str], checksum: Checksum, directory: Path) -> Path:
    """Returns the path of a verified dataset file, downloading it first if it is missing.

    Args:
        filename: the official file name, looked up as `directory / filename`.
        urls: where to download it from, tried in order (canonical location, then mirrors).
        checksum: the published digest the file must match.
        directory: the data folder, usually `data_dir()`.

    Returns:
        `directory / filename`, verified.

    Raises:
        DatasetUnavailableError: the file is missing and every URL failed; the message gives the
            exact path to put the file at and the URL to get it from.
        ValueError: the file found, or every file downloaded, does not match `checksum`. A file
            found on disk is left in place but refused; a downloaded one is deleted and the next
            URL is tried.
    """
    path = directory / filename
    if path.exists():
        verify(path, checksum, advice="The file was not used: delete it so it is downloaded "
               "again, or replace it with the official file.")
        return path
    failures, mismatch = [], None
    for url in urls:
        try:
            download(url, path, checksum)
            return path
        except ValueError as error:  # bytes arrived but are not the published file: next mirror
            mismatch = error
            failures.append(f"{url}: checksum mismatch")
        except (OSError, http.client.HTTPException) as error:
            failures.append(f"{url}: {error}")
    if mismatch is not None:
        raise mismatch
    raise _unavailable(path, urls, failures)


def read_gzip(path: Path) -> bytes:
    """Returns the whole gunzipped content of a file.

    Raises:
        ValueError: the file is truncated or not gzip; the message names it.
    """
    try:
        with gzip.open(path, "rb") as stream:
            return stream.read()
    except (EOFError, gzip.BadGzipFile, zlib.error) as error:
        raise _gzip_error(path, error) from error


def parse_idx(data: bytes, expected_magic: int, name: str) -> np.ndarray:
    """Parses an uncompressed IDX file of unsigned bytes.

    The layout is a big-endian header, magic number then one uint32 per dimension, followed by
    the uint8 payload in row-major order. The low byte of the magic number is the number of
    dimensions: 2051 for images (N, H, W), 2049 for labels (N,).

    Args:
        data: the whole uncompressed file.
        expected_magic: `IDX_IMAGES_MAGIC` or `IDX_LABELS_MAGIC`.
        name: the file name, used in error messages.

    Returns:
        A writable uint8 array shaped as the header says: (N, H, W) or (N,).

    Raises:
        ValueError: wrong magic number, short header, or a payload whose size differs from the
            product of the dimensions.
    """
    ndim = expected_magic & 0xFF
    header = 4 + 4 * ndim
    magic = struct.unpack_from(">I", data)[0] if len(data) >= 4 else None
    if magic != expected_magic:
        raise ValueError(f"{name}: expected IDX magic number {expected_magic}, got {magic}.")
    if len(data) < header:
        raise ValueError(
            f"{name}: expected an IDX header of {header} bytes, got {len(data)} bytes."
        )
    dims = struct.unpack_from(f">{ndim}I", data, 4)
    expected_size = int(np.prod(dims))
    if len(data) - header != expected_size:
        raise ValueError(
            f"{name}: IDX header says dims {dims}, so {expected_size} payload bytes are expected, "
            f"got {len(data) - header}."
        )
    return np.frombuffer(data, np.uint8, offset=header).reshape(dims).copy()


def read_idx_pair(
    images_path: Path, labels_path: Path, image_shape: tuple[int, int] = (28, 28)
) -> tuple[np.ndarray, np.ndarray]:
    """Reads a gzipped IDX images file and its labels file.

    Args:
        images_path: a `*-images-idx3-ubyte.gz` file.
        labels_path: the matching `*-labels-idx1-ubyte.gz` file.
        image_shape: the expected (H, W) of each image.

    Returns:
        `(x, y)`: images uint8 (N, H, W) and labels uint8 (N,).

    Raises:
        ValueError: a file is not valid gzip or IDX, the images are not `image_shape`, or the
            two files hold different numbers of examples.
    """
    x = parse_idx(read_gzip(images_path), IDX_IMAGES_MAGIC, images_path.name)
    y = parse_idx(read_gzip(labels_path), IDX_LABELS_MAGIC, labels_path.name)
    if x.shape[1:] != image_shape:
        raise ValueError(
            f"{images_path.name}: expected images of shape {image_shape}, got {x.shape[1:]}."
        )
    if len(x) != len(y):
        raise ValueError(
            f"{images_path.name} holds {len(x)} images but {labels_path.name} holds {len(y)} "
            "labels; expected the same number."
        )
    return x, y
