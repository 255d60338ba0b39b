"""Damaged, foreign and hostile files are refused with a ValueError that names the file and
what is wrong; nothing in a file is ever unpickled or run; a failed save changes nothing."""

from __future__ import annotations

import copy
import hashlib
import io
import json
import os
import zipfile

import numpy as np
import pytest

import tinydl
from tinydl import layers, saving, saving_zip
from tinydl.models import Sequential, load_model


def _sha(blob: bytes) -> str:
    return hashlib.sha256(blob).hexdigest()


def _refused(path, match: str):
    """load_model(path) raises ValueError naming the file and matching `match`."""
    with pytest.raises(ValueError, match=match) as info:
        load_model(path)
    assert os.fspath(path) in str(info.value)
    return info.value


# ----------------------------------------------------------------------------- damaged files

def test_a_changed_array_fails_its_sha256(saved, forge, tmp_path):
    def flip(document, entries):
        blob = bytearray(entries["arrays/0.npy"])
        blob[-5] ^= 0xFF  # a byte of the numbers, after the .npy header
        entries["arrays/0.npy"] = bytes(blob)

    bad = forge(saved, tmp_path / "bad.tinydl", flip)
    _refused(bad, r"weights/0.*arrays/0\.npy.*corrupted.*SHA-256")


def test_every_flipped_byte_is_refused_or_harmless(tmp_path):
    """Flip bytes of a small file in turn (every byte of the zip headers at both ends, every
    third one between): loading raises ValueError, or (for a byte no check covers, such as a
    timestamp) gives back exactly the saved model. Never another error."""
    tinydl.utils.set_random_seed(0)
    model = Sequential([layers.Dense(2, input_shape=(3,))])
    model.build((None, 3))
    model.save(tmp_path / "good.tinydl")
    raw = (tmp_path / "good.tinydl").read_bytes()
    path = tmp_path / "flipped.tinydl"
    positions = [i for i in range(len(raw)) if i < 80 or i > len(raw) - 240 or i % 3 == 0]
    refused = 0
    for i in positions:
        blob = bytearray(raw)
        blob[i] ^= 0xFF
        path.write_bytes(bytes(blob))
        try:
            loaded = load_model(path)
        except ValueError as exc:
            assert str(path) in str(exc)
            refused += 1
            continue
        for a, b in zip(model.weights, loaded.weights):
            np.testing.assert_array_equal(b.data, a.data, err_msg=f"byte {i} changed silently")
    assert refused > len(positions) // 2


@pytest.mark.parametrize("fraction", [0.5, 0.1, 0.9, 0.99])
def test_a_truncated_file_is_refused(saved, tmp_path, fraction):
    raw = saved.read_bytes()
    cut = tmp_path / "cut.tinydl"
    cut.write_bytes(raw[:int(len(raw) * fraction)])
    _refused(cut, "not a valid zip archive|truncated|could not be read")


def test_every_truncation_length_is_refused(tmp_path):
    model = Sequential([layers.Dense(2, input_shape=(3,))])
    model.build((None, 3))
    model.save(tmp_path / "good.tinydl")
    raw = (tmp_path / "good.tinydl").read_bytes()
    cut = tmp_path / "cut.tinydl"
    for n in range(0, len(raw), 7):
        cut.write_bytes(raw[:n])
        with pytest.raises(ValueError, match="cut.tinydl"):
            load_model(cut)


# ----------------------------------------------------------------------------- foreign files

def test_a_foreign_zip_is_refused(tmp_path):
    path = tmp_path / "photos.tinydl"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("readme.txt", "hello")
        archive.writestr("data/x.npy", b"\x93NUMPY")
    _refused(path, "no tinydl.json.*not a tinydl model file")


def test_a_zip_with_foreign_json_is_refused(tmp_path):
    path = tmp_path / "other.keras"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("tinydl.json", json.dumps({"class_name": "Functional"}))
    _refused(path, "not a tinydl model file")


@pytest.mark.parametrize("content", [b"", b"just some text\n", b"PK\x03\x04garbage",
                                     b"\x89HDF\r\n\x1a\n" + bytes(100)],
                         ids=["empty", "text", "zip-magic-only", "hdf5-magic"])
def test_a_non_zip_file_is_refused(tmp_path, content):
    path = tmp_path / "model.tinydl"
    path.write_bytes(content)
    _refused(path, "not a valid zip archive")


def test_a_folder_is_refused(tmp_path):
    (tmp_path / "dir.tinydl").mkdir()
    _refused(tmp_path / "dir.tinydl", "could not be read")


def test_json_that_does_not_parse_is_refused(saved, tmp_path):
    document, entries = _entries(saved)
    path = tmp_path / "j.tinydl"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("tinydl.json", b"{not json")
        for name, blob in entries.items():
            archive.writestr(name, blob)
    _refused(path, "tinydl.json is not valid JSON")


@pytest.mark.parametrize("version", [999, 0, "1", None])
def test_another_format_version_is_refused(saved, forge, tmp_path, version):
    bad = forge(saved, tmp_path / "v.tinydl",
                lambda document, entries: document.update(format_version=version))
    _refused(bad, f"format version {version!r} is not supported.*reads version 1")


def test_a_missing_format_field_is_refused(saved, forge, tmp_path):
    bad = forge(saved, tmp_path / "f.tinydl", lambda document, entries: document.pop("format"))
    _refused(bad, "not a tinydl model file")


def _entries(path):
    with zipfile.ZipFile(path) as archive:
        entries = {name: archive.read(name) for name in archive.namelist()}
    return json.loads(entries.pop("tinydl.json")), entries


def _paths(node, prefix=()):
    """Every path (a tuple of keys) into a JSON document."""
    yield prefix
    items = node.items() if isinstance(node, dict) else enumerate(node) \
        if isinstance(node, list) else ()
    for key, child in items:
        yield from _paths(child, prefix + (key,))


def test_any_malformed_json_value_is_refused_or_harmless(saved, forge, tmp_path):
    """Replace every value of the document in turn by a value of the wrong type: loading
    raises ValueError (naming the file) or succeeds; never TypeError, KeyError, ..."""
    document, _ = _entries(saved)
    del document["arrays"]  # its values are tested above; keep one array's description
    document["arrays"] = {"weights/0": _entries(saved)[0]["arrays"]["weights/0"]}
    for where in list(_paths(document))[1:]:
        for wrong in (None, "x", {}):
            def edit(doc, entries, where=where, wrong=wrong):
                node = doc
                for key in where[:-1]:
                    node = node[key]
                node[where[-1]] = copy.deepcopy(wrong)
            path = forge(saved, tmp_path / "m.tinydl", edit)
            try:
                load_model(path)
            except ValueError as exc:
                assert str(path) in str(exc), (where, wrong, exc)


# ----------------------------------------------------------------------------- pickle payloads

class _WritesMarker:
    """Unpickling this object calls open(marker, 'w'): the file appearing means code ran."""

    def __init__(self, marker):
        self.marker = os.fspath(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def _pickle_npy(marker) -> bytes:
    payload = np.empty((1,), dtype=object)
    payload[0] = _WritesMarker(marker)
    buffer = io.BytesIO()
    np.save(buffer, payload, allow_pickle=True)
    return buffer.getvalue()


def test_the_payload_used_below_really_runs_when_unpickled(tmp_path):
    """The control: np.load(allow_pickle=True) of the payload creates the marker."""
    marker = tmp_path / "control-marker"
    np.load(io.BytesIO(_pickle_npy(marker)), allow_pickle=True)
    assert marker.exists()


def test_a_pickled_object_array_declared_as_object_is_refused_without_running(
        saved, forge, tmp_path):
    marker = tmp_path / "pwned"
    blob = _pickle_npy(marker)

    def inject(document, entries):
        entries["arrays/0.npy"] = blob
        spec = document["arrays"]["weights/0"]
        spec.update(dtype="object", shape=[1], sha256=_sha(blob))

    _refused(forge(saved, tmp_path / "evil.tinydl", inject), "dtype object.*not allowed")
    assert not marker.exists()


def test_a_pickle_in_an_entry_that_claims_float32_is_refused_by_its_size(saved, forge, tmp_path):
    marker = tmp_path / "pwned"
    blob = _pickle_npy(marker)

    def inject(document, entries):
        entries["arrays/0.npy"] = blob
        document["arrays"]["weights/0"]["sha256"] = _sha(blob)  # JSON still says float32

    _refused(forge(saved, tmp_path / "evil.tinydl", inject), r"arrays/0\.npy.*bytes.*need")
    assert not marker.exists()


def test_a_pickle_padded_to_the_declared_size_is_refused_by_its_header(saved, forge, tmp_path):
    """Size and SHA-256 both match the JSON; only the .npy header says 'object'. (load_model
    refuses it sooner, as the declared shape is not the architecture's; the file layer,
    tinydl.saving.load, which knows no architecture, must refuse it by the header.)"""
    marker = tmp_path / "pwned"
    blob = _pickle_npy(marker)
    shape = [len(blob)]  # float32 of this many values needs more bytes than the pickle
    blob += b"\0" * (saving_zip._npy_size(np.dtype("float32"), tuple(shape)) - len(blob))

    def inject(document, entries):
        entries["arrays/0.npy"] = blob
        document["arrays"]["weights/0"].update(dtype="float32", shape=shape, sha256=_sha(blob))

    assert len(np.load(io.BytesIO(blob), allow_pickle=True)) == 1  # still a live pickle
    marker.unlink()
    evil = forge(saved, tmp_path / "evil.tinydl", inject)
    with pytest.raises(ValueError, match=r"evil\.tinydl.*\.npy header says object \(1,\), but "
                                         r"the document declares float32"):
        saving.load(evil)
    _refused(evil, r"weight .*/kernel has shape \(\d+,\) in the file, but \(6, 8\)")
    assert not marker.exists()


# ----------------------------------------------------------------------------- entries

def test_an_unexpected_extra_entry_is_refused(saved, forge, tmp_path):
    bad = forge(saved, tmp_path / "x.tinydl",
                lambda document, entries: entries.update({"arrays/999.npy": b"extra"}))
    _refused(bad, r"unexpected entries \['arrays/999\.npy'\]")


@pytest.mark.parametrize("name", ["evil.py", "arrays/0.npy.bak", "__MACOSX/x"])
def test_an_extra_entry_of_any_name_is_refused(saved, forge, tmp_path, name):
    bad = forge(saved, tmp_path / "x.tinydl",
                lambda document, entries: entries.update({name: b"extra"}))
    _refused(bad, "unexpected entries|not of the form")


def test_a_missing_entry_is_refused(saved, forge, tmp_path):
    bad = forge(saved, tmp_path / "m.tinydl",
                lambda document, entries: entries.pop("arrays/1.npy"))
    _refused(bad, r"missing entries \['arrays/1\.npy'\]")


@pytest.mark.parametrize("name", ["../0.npy", "arrays/../../0.npy", "/etc/0.npy",
                                  "arrays\\..\\0.npy", "arrays/0.npy/../0.npy"])
def test_an_entry_name_that_is_a_path_is_refused(saved, forge, tmp_path, name):
    """Declared in the JSON and present in the zip alike: still refused by its name."""
    def rename(document, entries):
        entries[name] = entries.pop("arrays/0.npy")
        document["arrays"]["weights/0"]["entry"] = name

    _refused(forge(saved, tmp_path / "p.tinydl", rename), "unsafe name|not of the form arrays")


def test_two_entries_with_one_name_are_refused(saved, tmp_path):
    document, entries = _entries(saved)
    path = tmp_path / "dup.tinydl"
    with pytest.warns(UserWarning, match="Duplicate name"):
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("tinydl.json", json.dumps(document))
            for name, blob in entries.items():
                archive.writestr(name, blob)
            archive.writestr("arrays/0.npy", entries["arrays/0.npy"])
    _refused(path, "two entries with the same name")


@pytest.mark.parametrize("shape", [[10**12], [2**40, 2**40], [8, 6 + 2**61]],
                         ids=["huge", "huger", "wraps-int64-to-the-real-size"])
def test_a_declared_size_that_differs_from_the_entry_is_refused_before_reading(
        saved, forge, tmp_path, monkeypatch, shape):
    """weights/0 is float32 (6, 8): 48 values. 8 * (6 + 2**61) is 48 modulo 2**64, so a size
    computed in int64 would wrap round to the real one."""
    bad = forge(saved, tmp_path / "bomb.tinydl",
                lambda document, entries: document["arrays"]["weights/0"].update(shape=shape))
    real_read, real_open = zipfile.ZipFile.read, zipfile.ZipFile.open

    def guarded(real):
        def method(self, name, *args, **kwargs):
            entry = name.filename if isinstance(name, zipfile.ZipInfo) else name
            if entry == "arrays/0.npy":
                raise AssertionError("the oversized entry was read before its size was checked")
            return real(self, name, *args, **kwargs)
        return method

    monkeypatch.setattr(zipfile.ZipFile, "read", guarded(real_read))
    monkeypatch.setattr(zipfile.ZipFile, "open", guarded(real_open))
    # With no limit on the total (max_bytes), the entry's own size is what refuses it.
    with pytest.raises(ValueError, match=r"bomb\.tinydl.*entry arrays/0\.npy for 'weights/0' "
                                         r"has \d+ bytes, but dtype float32"):
        tinydl.model_io.load_model(bad, max_bytes=2**200)
    _refused(bad, r"its arrays declare \d+ bytes, more than the limit of 1073741824 bytes")


# ----------------------------------------------------------------------------- atomic saves

def _fail_on_call(n: int, real):
    """A stand-in for real that raises OSError on its n-th call (counting from 1)."""
    calls = []

    def method(*args, **kwargs):
        calls.append(1)
        if len(calls) == n:
            raise OSError("disk full (simulated)")
        return real(*args, **kwargs)
    return method


@pytest.mark.parametrize("target", ["writestr-2", "writestr-1", "np.save", "os.replace",
                                    "fsync", "KeyboardInterrupt"])
def test_an_interrupted_save_leaves_the_old_file_and_no_temporary_files(
        trained, saved, monkeypatch, target, data):
    before = saved.read_bytes()
    trained.fit(*data, epochs=1, verbose=0)  # the model now differs from the file
    if target.startswith("writestr"):
        monkeypatch.setattr(zipfile.ZipFile, "writestr",
                            _fail_on_call(int(target[-1]), zipfile.ZipFile.writestr))
    elif target == "np.save":
        monkeypatch.setattr(np, "save", _fail_on_call(3, np.save))
    elif target == "os.replace":
        monkeypatch.setattr(os, "replace", _fail_on_call(1, os.replace))
    elif target == "fsync":
        monkeypatch.setattr(os, "fsync", _fail_on_call(1, os.fsync))
    else:
        def interrupt(*args, **kwargs):
            raise KeyboardInterrupt
        monkeypatch.setattr(zipfile.ZipFile, "writestr", interrupt)
    with pytest.raises((OSError, KeyboardInterrupt)):
        trained.save(saved)
    monkeypatch.undo()
    assert saved.read_bytes() == before
    assert sorted(p.name for p in saved.parent.iterdir()) == [saved.name]
    load_model(saved)  # still a good file


def test_a_failed_first_save_leaves_nothing(trained, tmp_path, monkeypatch):
    monkeypatch.setattr(zipfile.ZipFile, "writestr", _fail_on_call(2, zipfile.ZipFile.writestr))
    with pytest.raises(OSError):
        trained.save(tmp_path / "new.tinydl")
    assert list(tmp_path.iterdir()) == []


def test_saving_over_a_file_replaces_it(trained, saved, data):
    trained.fit(*data, epochs=1, verbose=0)
    trained.save(saved)
    assert load_model(saved).optimizer.iterations == trained.optimizer.iterations > 4
    assert sorted(p.name for p in saved.parent.iterdir()) == [saved.name]
