"""A corpus of damaged and hostile model files, in both containers (.tinydl and .h5).

Truncated at many offsets, bit-flipped, bombs that declare more than they hold, zip
members with traversal names, HDF5 external storage (a FIFO among them), external links,
soft links and their loops. Every one is refused fast with a ModelFileError (a ValueError)
that names the file, without allocating what it declares (measured with tracemalloc); or,
for a flipped bit no check covers, it loads as exactly the saved model.

Set TINYDL_HOSTILE_FLIPS=all to flip one bit of every byte instead of a sample.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import struct
import threading
import time
import tracemalloc
import zipfile
import zlib

import numpy as np
import pytest

import tinydl
from tinydl import layers, model_io, saving
from tinydl.models import Sequential, load_model

h5py = pytest.importorskip("h5py")

FORMATS = [".tinydl", ".h5"]
MEMORY_BOUND = 4 * 2**20   # what refusing any bomb may allocate (Python and NumPy)
TIME_BOUND = 2.0           # seconds to refuse any one file (a shared, loaded CI machine)
FLIPS = os.environ.get("TINYDL_HOSTILE_FLIPS", "100")


@pytest.fixture(scope="module")
def model():
    """Dense -> Dense, compiled with Adam and trained one step (so it has optimizer state)."""
    tinydl.utils.set_random_seed(3)
    net = Sequential([layers.Dense(4, activation="relu", input_shape=(3,)), layers.Dense(2)])
    net.compile(optimizer=tinydl.optimizers.Adam(0.001), loss="mse", metrics=["mae"])
    x = np.random.default_rng(0).normal(size=(8, 3)).astype(np.float32)
    net.fit(x, np.ones((8, 2), np.float32), epochs=1, batch_size=8, verbose=0)
    return net


@pytest.fixture(params=FORMATS)
def saved(request, model, tmp_path):
    path = tmp_path / f"good{request.param}"
    model.save(path)
    return path


def assert_identical(original, loaded) -> None:
    """Same architecture, compile settings, weights and optimizer state, bit for bit."""
    assert loaded.get_config() == original.get_config()
    assert model_io._compile_config(loaded) == model_io._compile_config(original)
    for a, b in zip(original.weights, loaded.weights, strict=True):
        np.testing.assert_array_equal(b.data, a.data)
    state, restored = original.optimizer.get_state(), loaded.optimizer.get_state()
    assert sorted(state) == sorted(restored)
    for key in state:
        np.testing.assert_array_equal(restored[key], state[key])


def refused(path, match: str = "", **kwargs) -> saving.ModelFileError:
    """load_model(path) raises ModelFileError naming path and matching match, in TIME_BOUND."""
    start = time.perf_counter()
    with pytest.raises(saving.ModelFileError, match=match or None) as info:
        load_model(path, **kwargs)
    assert time.perf_counter() - start < TIME_BOUND
    assert os.fspath(path) in str(info.value) and info.value.path == os.fspath(path)
    return info.value


def refused_within_memory(path, match: str = "", **kwargs) -> int:
    """refused(path, ...), and the peak of what it allocated, checked against MEMORY_BOUND."""
    tracemalloc.start()
    try:
        refused(path, match, **kwargs)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < MEMORY_BOUND, f"refusing {path} allocated {peak} bytes"
    return peak


# ----------------------------------------------------------------------------- forging

def read_entries(path) -> tuple[dict, dict]:
    """(document, {entry name: bytes}) of an archive, without any of tinydl's checks."""
    with zipfile.ZipFile(path) as archive:
        entries = {name: archive.read(name) for name in archive.namelist()}
    return json.loads(entries.pop("tinydl.json")), entries


def raw_members(document: dict, entries: dict) -> list:
    """write_raw_zip's members for a document and {name: bytes}, all stored, CRCs right."""
    text = json.dumps(document).encode()
    return [(name, blob, 0, len(blob), zlib.crc32(blob))
            for name, blob in [("tinydl.json", text), *entries.items()]]


def write_raw_zip(path, members) -> None:
    """Write a zip of members (name, stored bytes, method, uncompressed size, crc) exactly
    as given: nothing is compressed or checked, so a test can forge any header field."""
    out, central = bytearray(), bytearray()
    for name, data, method, size, crc in members:
        raw_name = name.encode("utf-8")
        fields = (0x800, method, 0, 0x21, crc, len(data), size, len(raw_name), 0)
        central += struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, 20, *fields, 0, 0, 0, 0,
                               len(out)) + raw_name
        out += struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, *fields) + raw_name + data
    out += central + struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, len(members), len(members),
                                 len(central), len(out), 0)
    with open(path, "wb") as f:
        f.write(out)


def deflated_zeros(prefix: bytes, mebibytes: int) -> bytes:
    """A raw DEFLATE stream of prefix then mebibytes MiB of zeros, made in no time: after
    a full flush each MiB of zeros compresses to the same ~1 KB block, repeated here."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    head = compressor.compress(prefix) + compressor.flush(zlib.Z_FULL_FLUSH)
    block = compressor.compress(bytes(2**20)) + compressor.flush(zlib.Z_FULL_FLUSH)
    return head + block * mebibytes + compressor.flush()


# ----------------------------------------------------------------------------- truncation

def test_every_truncation_is_refused(saved):
    """Cut at every length up to 64 bytes, every 37th length after, and each of the last 16."""
    raw = saved.read_bytes()
    lengths = sorted(set(range(0, 64)) | set(range(64, len(raw), 37)) |
                     set(range(len(raw) - 16, len(raw))))
    cut = saved.with_name(f"cut{saved.suffix}")
    for n in lengths:
        cut.write_bytes(raw[:n])
        refused(cut, "")


# ----------------------------------------------------------------------------- bit flips

def _flip_positions(raw: bytes, hot: tuple) -> list:
    """Byte positions to flip: a seeded sample of the file plus every 16th byte of hot
    (the document: where a flip would change settings), or every byte."""
    if FLIPS == "all":
        return list(range(len(raw)))
    start, end = hot
    rng = random.Random(len(raw))
    return sorted(set(rng.sample(range(len(raw)), min(int(FLIPS), len(raw))))
                  | set(range(start, end, 16)))


def _document_span(raw: bytes) -> tuple:
    """Where the JSON document sits in a saved file (the .h5 one is stored raw; the zip's
    is deflated, so there the whole local entry of tinydl.json stands for it)."""
    start = raw.find(b'{"format"')
    if start >= 0:
        return start, raw.index(b'"arrays"', start) + 200
    return 0, raw.find(b"PK\x03\x04", 4)


def test_every_flipped_bit_is_refused_or_harmless(saved, model):
    raw = saved.read_bytes()
    flipped, rng = saved.with_name(f"flipped{saved.suffix}"), random.Random(7)
    outcomes = {"refused": 0, "identical": 0}
    for i in _flip_positions(raw, _document_span(raw)):
        blob = bytearray(raw)
        blob[i] ^= 1 << rng.randrange(8)
        flipped.write_bytes(bytes(blob))
        try:
            start = time.perf_counter()
            loaded = load_model(flipped)
        except saving.ModelFileError as exc:
            assert str(flipped) in str(exc) and time.perf_counter() - start < TIME_BOUND
            outcomes["refused"] += 1
            continue
        assert_identical(model, loaded)
        outcomes["identical"] += 1
    assert outcomes["refused"] > outcomes["identical"]


def test_a_flipped_digit_of_the_learning_rate_is_refused(model, tmp_path):
    """The case that loaded silently before the .h5 document had a checksum: 0.001 -> 0.003.
    The file holds the learning rate twice (tinydl's document, Keras' training_config in an
    attribute, which HDF5's own header checksum covers): each flip is refused."""
    path = tmp_path / "lr.h5"
    model.save(path)
    raw, needle = path.read_bytes(), b'"learning_rate": 0.001'
    starts = [i for i in range(len(raw)) if raw.startswith(needle, i)]
    assert len(starts) == 2
    for start in starts:
        at = start + len(needle) - 1
        path.write_bytes(raw[:at] + bytes([raw[at] ^ 0x02]) + raw[at + 1:])
        refused(path, "document is corrupted: its SHA-256 does not match|incorrect metadata "
                      "checksum")


# ----------------------------------------------------------------------------- bombs

def _zip_with(src, dst, edit_document, members: dict) -> None:
    """dst: src's document after edit_document and its entries, members (raw tuples for
    write_raw_zip) replacing the entries of the same name."""
    document, entries = read_entries(src)
    edit_document(document)
    kept = {name: blob for name, blob in entries.items() if name not in members}
    write_raw_zip(dst, raw_members(document, kept) + list(members.values()))


def _npy_bomb(entry: str, mebibytes: int, crc: int = 0) -> tuple:
    """A deflated .npy member of float32 zeros, mebibytes MiB of data, ~1 KB per MiB."""
    header = tinydl.saving_zip._npy_header(np.dtype("float32"), (mebibytes * 2**18,))
    return (entry, deflated_zeros(header, mebibytes), 8, len(header) + mebibytes * 2**20, crc)


def _declare(key: str, shape: list):
    def edit(document):
        document["arrays"][key]["shape"] = shape
    return edit


def test_a_zip_bomb_over_the_limit_is_refused_from_its_declarations(model, tmp_path):
    """2 GiB of zeros deflated to 2 MB, declared as weights/0: over MAX_LOAD_BYTES, so
    refused from the central directory and the document alone (its CRC is not even right:
    nothing may read that far)."""
    model.save(tmp_path / "good.tinydl")
    bomb = tmp_path / "bomb.tinydl"
    _zip_with(tmp_path / "good.tinydl", bomb, _declare("weights/0", [2048 * 2**18]),
              {"arrays/0.npy": _npy_bomb("arrays/0.npy", 2048)})
    assert bomb.stat().st_size < 3 * 2**20
    refused_within_memory(bomb, r"uncompress to 21474\d{5} bytes, more than the limit")


def test_a_zip_bomb_within_the_limit_is_refused_before_it_is_decompressed(model, tmp_path):
    """64 MiB of zeros in a 70 KB file, with a right CRC and a size that matches its declared
    shape: only the architecture (weights/0 is (3, 4)) tells it is not this model's."""
    model.save(tmp_path / "good.tinydl")
    header = tinydl.saving_zip._npy_header(np.dtype("float32"), (64 * 2**18,))
    crc = zlib.crc32(header)
    for _ in range(64):
        crc = zlib.crc32(bytes(2**20), crc)
    bomb = tmp_path / "bomb.tinydl"
    _zip_with(tmp_path / "good.tinydl", bomb, _declare("weights/0", [64 * 2**18]),
              {"arrays/0.npy": _npy_bomb("arrays/0.npy", 64, crc)})
    refused_within_memory(bomb, r"weight \S*dense\S*/kernel has shape \(16777216,\) in the file, "
                                r"but \(3, 4\) in the model")


def test_a_member_claiming_more_than_deflate_can_give_is_refused(model, tmp_path):
    model.save(tmp_path / "good.tinydl")
    members = raw_members(*read_entries(tmp_path / "good.tinydl"))
    name, blob, *_ = members[1]
    members[1] = (name, blob[:10], 8, 2**31, 0)  # 10 bytes cannot inflate to 2 GiB
    write_raw_zip(tmp_path / "lie.tinydl", members)
    refused_within_memory(tmp_path / "lie.tinydl", "more than its method can give")


@pytest.mark.parametrize("units, match", [
    (2**21, r"holds 4 weight arrays|kernel has shape \(3, 4\) in the file, but \(3, 2097152\)"),
    (2**30, "architecture needs more than the limit"),
], ids=["50MB-kernel", "4GiB-kernel"])
def test_an_architecture_bomb_in_the_document_allocates_nothing(saved, forge_h5, units, match,
                                                                tmp_path):
    """Only the JSON changes: Dense(4) becomes Dense(units). The weights it would need are
    never allocated: the architecture is planned without them and compared first."""
    def edit(document):
        document["model"]["config"]["layers"][0]["config"]["units"] = units

    bomb = tmp_path / f"bomb{saved.suffix}"
    _rewrite(saved, bomb, edit, forge_h5)
    refused_within_memory(bomb, match)


def _rewrite(src, dst, edit, forge_h5):
    """Copy src to dst with edit applied to its document (a valid container, checksums right)."""
    if src.suffix == ".h5":
        dst.write_bytes(src.read_bytes())
        with h5py.File(dst, "r+") as h5:
            forge_h5(h5, edit)
        return dst
    write_raw_zip(dst, raw_members(*_edited(read_entries(src), edit)))
    return dst


def _edited(document_and_entries, edit):
    edit(document_and_entries[0])
    return document_and_entries


def test_a_consistent_architecture_bomb_with_small_entries_allocates_nothing(model, tmp_path):
    """Architecture and table both say Dense(2**22): 50 MB declared, 200 bytes present."""
    model.save(tmp_path / "good.tinydl")

    def edit(document):
        document["model"]["config"]["layers"][0]["config"]["units"] = 2**22
        document["arrays"]["weights/0"]["shape"] = [3, 2**22]

    write_raw_zip(tmp_path / "bomb.tinydl",
                  raw_members(*_edited(read_entries(tmp_path / "good.tinydl"), edit)))
    refused_within_memory(tmp_path / "bomb.tinydl", "kernel has shape|has .* bytes, but")


@pytest.mark.parametrize("shape, match", [
    ([2**28], r"stores 0 bytes, but its shape \(268435456,\)"),  # 1 GiB declared, 0 stored
    ([3, 4], r"arrays/0' stores 0 bytes, but its shape \(3, 4\)"),  # a right shape, unwritten
])
def test_an_unwritten_h5_dataset_is_refused_without_reading_it(model, tmp_path, forge_h5, shape,
                                                               match):
    """HDF5 creates a dataset without writing it: reading gives fill values, as many as its
    shape says, from a file of a few KB."""
    path = tmp_path / "bomb.h5"
    model.save(path)
    with h5py.File(path, "r+") as h5:
        del h5["arrays/0"]
        h5.create_dataset("arrays/0", shape=tuple(shape), dtype="f4")
        forge_h5(h5, _declare("weights/0", shape))
    assert path.stat().st_size < 64 * 2**10
    refused_within_memory(path, match)


def test_a_caller_can_lower_the_limit(saved):
    refused_within_memory(saved, "arrays declare .* bytes, more than the limit of 100 bytes",
                          max_bytes=100)


@pytest.mark.parametrize("text, match", [
    (b"[" * 100_000 + b"]" * 100_000, "nested too deeply|more than 100000 lists"),
    (b"[" * 70 + b"]" * 70, "nested more than 64 levels"),
    (b"[" + b"[]," * 200_000 + b"[]]", "more than 100000 lists"),
    (b'{"format": "tinydl", "x": 1e999}', "the number 1e999 overflows a float"),
    (b'{"format": "tinydl", "x": NaN}', "NaN is not a number JSON allows"),
    (b'{"format": "tinydl", "x": -Infinity}', "-Infinity is not a number JSON allows"),
    (b'{"format": "tinydl", "x": 1' + b"0" * 5000 + b"}", "beyond int64"),
    (b'{"format": "tinydl", "x": "\xff"}', "not UTF-8"),
], ids=["deep", "deeper-than-allowed", "wide", "1e999", "NaN", "Infinity", "huge-int", "utf8"])
@pytest.mark.parametrize("suffix", FORMATS)
def test_a_hostile_document_is_refused(tmp_path, text, match, suffix):
    path = tmp_path / f"doc{suffix}"
    if suffix == ".h5":
        with h5py.File(path, "w") as h5:
            h5["tinydl.json"] = np.frombuffer(text, np.uint8)
            h5.attrs["tinydl_sha256"] = np.bytes_(hashlib.sha256(text).hexdigest())
    else:
        write_raw_zip(path, [("tinydl.json", text, 0, len(text), zlib.crc32(text))])
    refused_within_memory(path, match)


# ----------------------------------------------------------------------------- zip names

@pytest.mark.parametrize("name", ["../0.npy", "arrays/../../etc/passwd", "/etc/passwd",
                                  "C:/x.npy", "arrays\\0.npy", "arrays/./0.npy",
                                  "arrays/0.npy\0.txt", ""])
def test_a_member_with_a_traversal_name_is_refused(model, tmp_path, name):
    """Present as an extra member beside a valid model; its data is never read."""
    model.save(tmp_path / "good.tinydl")
    members = raw_members(*read_entries(tmp_path / "good.tinydl"))
    write_raw_zip(tmp_path / "evil.tinydl", members + [(name, b"x", 0, 1, zlib.crc32(b"x"))])
    refused(tmp_path / "evil.tinydl", "unsafe name")


def test_check_zip_members_is_usable_on_its_own(model, tmp_path):
    """The member check a foreign zip layout can reuse: names, methods, sizes, no reading."""
    saved = tmp_path / "good.tinydl"
    model.save(saved)
    with zipfile.ZipFile(saved) as archive:
        members = tinydl.saving_zip.check_zip_members(saved, archive, max_bytes=2**20)
        assert sorted(members) == sorted(archive.namelist())
        with pytest.raises(saving.ModelFileError, match="uncompress to .* more than the limit"):
            tinydl.saving_zip.check_zip_members(saved, archive, max_bytes=10)


# ----------------------------------------------------------------------------- HDF5 reach

def _finishes(call, seconds: float = 10.0, fifo=None):
    """call() in a thread; fail if it is still running after seconds. Then, so that a
    regression fails rather than hangs the suite, open and close the write end of fifo
    until the call returns: each time, an open() blocked on it returns, and a read sees EOF."""
    outcome = {}

    def run():
        try:
            call()
        except BaseException as exc:  # handed to the test thread
            outcome["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        deadline = time.time() + seconds
        while fifo is not None and thread.is_alive() and time.time() < deadline:
            try:
                os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
            except OSError:  # no reader has it open at this instant
                pass
            thread.join(0.05)
        pytest.fail(f"still running after {seconds} s (it would hang)")
    if "error" in outcome:
        raise outcome["error"]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_external_storage_on_a_fifo_is_refused_without_hanging(model, tmp_path, forge_h5):
    """The 10 KB file that hung load_model forever: weights/0's bytes 'stored' in a FIFO."""
    path, fifo = tmp_path / "fifo.h5", tmp_path / "pipe"
    os.mkfifo(fifo)
    model.save(path)
    with h5py.File(path, "r+") as h5:
        del h5["arrays/0"]
        h5.create_dataset("arrays/0", shape=(3, 4), dtype="f4", external=[(str(fifo), 0, 48)])
    _finishes(lambda: refused(path, "dataset '/arrays/0' keeps its data in external files"),
              fifo=fifo)


@pytest.mark.parametrize("kind", ["external-file", "virtual", "external-link", "soft-link",
                                  "soft-link-loop", "hard-link-cycle", "extra-external-link"])
def test_h5_that_reaches_outside_itself_or_loops_is_refused(model, tmp_path, kind):
    """Each replaces (or adds beside) arrays/0 something that the HDF5 library would follow:
    to another file holding exactly the right numbers, or round in a circle."""
    path, other = tmp_path / "reach.h5", tmp_path / "other.h5"
    model.save(path)
    kernel = model.weights[0].data
    with h5py.File(other, "w") as h5:
        h5["kernel"] = kernel
    (tmp_path / "raw.bin").write_bytes(kernel.tobytes())
    with h5py.File(path, "r+") as h5:
        if kind != "extra-external-link" and kind != "hard-link-cycle":
            del h5["arrays/0"]
        if kind == "external-file":
            h5.create_dataset("arrays/0", shape=kernel.shape, dtype="f4",
                              external=[(str(tmp_path / "raw.bin"), 0, kernel.nbytes)])
        elif kind == "virtual":
            layout = h5py.VirtualLayout(shape=kernel.shape, dtype="f4")
            layout[...] = h5py.VirtualSource(str(other), "kernel", shape=kernel.shape)
            h5.create_virtual_dataset("arrays/0", layout)
        elif kind == "external-link":
            h5["arrays/0"] = h5py.ExternalLink(str(other), "/kernel")
        elif kind == "soft-link":
            h5["hidden"] = kernel
            h5["arrays/0"] = h5py.SoftLink("/hidden")
        elif kind == "soft-link-loop":
            h5["arrays/0"] = h5py.SoftLink("/loop")
            h5["loop"] = h5py.SoftLink("/arrays/0")
        elif kind == "hard-link-cycle":
            h5["arrays/self"] = h5["arrays"]
        else:
            h5["elsewhere"] = h5py.ExternalLink(str(other), "/kernel")
    refused(path, "external files|virtual|external link|soft link|reachable twice")


def test_check_h5_tree_is_usable_on_its_own(tmp_path):
    """The link and storage check a foreign HDF5 layout can reuse: every dataset, no reading."""
    with h5py.File(tmp_path / "plain.h5", "w") as h5:
        h5["a/b"] = np.arange(3.0)
        h5["c"] = np.zeros((2, 2), np.float32)
    with h5py.File(tmp_path / "plain.h5", "r") as h5:
        found = tinydl.saving_h5.check_h5_tree(h5py, h5, tmp_path / "plain.h5")
        assert sorted(found) == ["a/b", "c"]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
@pytest.mark.parametrize("suffix", FORMATS)
def test_a_fifo_or_folder_as_the_model_path_is_refused_without_blocking(tmp_path, suffix):
    fifo = tmp_path / f"pipe{suffix}"
    os.mkfifo(fifo)
    _finishes(lambda: refused(fifo, "it is a FIFO, socket or device, not a regular file"),
              fifo=fifo)
    (tmp_path / f"dir{suffix}").mkdir()
    refused(tmp_path / f"dir{suffix}", "it is a folder")


def test_the_first_h5_layout_is_refused_with_what_to_do(model, tmp_path):
    """The document as a variable-length string attribute: unverifiable, and HDF5 2.0 loops
    forever reading one whose length a flipped bit changed; so it is not read at all."""
    path = tmp_path / "old.h5"
    document = {"format": "tinydl", "format_version": 1, "kind": "weights",
                "weight_names": [], "arrays": {}}
    with h5py.File(path, "w") as h5:
        h5.attrs["tinydl"] = json.dumps(document)
    refused(path, "tinydl's first HDF5 layout.*save it again")
