"""File names choose the format: '.tinydl' and '.keras' are the verified zip, '.h5' HDF5
(with the optional h5py), anything else is refused with the list of suffixes."""

from __future__ import annotations

import sys
import zipfile

import numpy as np
import pytest

from tinydl.models import load_model


@pytest.mark.parametrize("name", ["m.tinydl", "M.TINYDL", "m.v2.tinydl"])
def test_tinydl_names_write_the_zip_format(trained, tmp_path, name, data):
    trained.save(tmp_path / name)
    assert zipfile.is_zipfile(tmp_path / name)
    with zipfile.ZipFile(tmp_path / name) as archive:
        assert archive.namelist()[0] == "tinydl.json"
    np.testing.assert_array_equal(load_model(tmp_path / name).predict(data[0], verbose=0),
                                  trained.predict(data[0], verbose=0))


@pytest.mark.parametrize("name", ["m.pt", "m.pkl", "m", "m.tinydl.bak", "m.json", "m.npz"])
def test_any_other_suffix_is_refused_with_the_supported_ones(trained, tmp_path, name):
    for action in (trained.save, trained.save_weights, trained.load_weights, load_model):
        with pytest.raises(ValueError,
                           match=r"unsupported file name.*'\.tinydl'.*'\.keras'.*'\.h5'"):
            action(tmp_path / name)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", ["m.h5", "m.hdf5"])
def test_h5_without_h5py_says_how_to_install_it(trained, tmp_path, monkeypatch, name):
    monkeypatch.setitem(sys.modules, "h5py", None)  # makes `import h5py` raise ImportError
    for action in (trained.save, trained.save_weights, load_model):
        with pytest.raises(ImportError, match=r"pip install h5py.*tinydl\[h5\].*\.tinydl"):
            action(tmp_path / name)
    assert list(tmp_path.iterdir()) == []


@pytest.fixture
def h5py():
    return pytest.importorskip("h5py")


@pytest.mark.parametrize("name", ["m.h5", "m.hdf5"])
def test_h5_round_trip(h5py, trained, tmp_path, name, data):
    trained.save(tmp_path / name)
    assert h5py.is_hdf5(tmp_path / name)
    loaded = load_model(tmp_path / name)
    assert loaded.get_config() == trained.get_config()
    for a, b in zip(trained.weights, loaded.weights):
        np.testing.assert_array_equal(b.data, a.data)
    np.testing.assert_array_equal(loaded.predict(data[0], verbose=0),
                                  trained.predict(data[0], verbose=0))
    assert loaded.optimizer.iterations == trained.optimizer.iterations
    state, restored = trained.optimizer.get_state(), loaded.optimizer.get_state()
    for key in state:
        np.testing.assert_array_equal(restored[key], state[key])
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]


def test_h5_weights_round_trip_and_weights_only_file(h5py, trained, tmp_path, data):
    trained.save_weights(tmp_path / "w.h5")
    target = _zeroed_twin(trained, tmp_path)
    target.load_weights(tmp_path / "w.h5")
    np.testing.assert_array_equal(target.predict(data[0], verbose=0),
                                  trained.predict(data[0], verbose=0))
    with pytest.raises(ValueError, match=r"w\.h5.*only weights"):
        load_model(tmp_path / "w.h5")


def _zeroed_twin(model, tmp_path):
    """A model of the same architecture with other weights."""
    model.save(tmp_path / "copy.tinydl")
    copy = load_model(tmp_path / "copy.tinydl")
    for w in copy.weights:
        w.assign(np.zeros(w.shape, np.float32))
    return copy


def test_h5_corrupted_dataset_is_refused(h5py, trained, tmp_path):
    path = tmp_path / "m.h5"
    trained.save(path)
    with h5py.File(path, "r+") as h5:
        h5["arrays/0"][0, 0] += 1.0
    with pytest.raises(ValueError, match=r"m\.h5.*weights/0.*corrupted.*SHA-256"):
        load_model(path)


def test_h5_dataset_of_another_shape_or_dtype_is_refused(h5py, trained, tmp_path):
    path = tmp_path / "m.h5"
    trained.save(path)
    with h5py.File(path, "r+") as h5:
        del h5["arrays/1"]
        h5["arrays/1"] = np.zeros((3,), np.float64)
    with pytest.raises(ValueError, match=r"m\.h5.*weights/1.*not as declared"):
        load_model(path)


@pytest.mark.parametrize("version", [999, None])
def test_h5_other_version_or_foreign_file_is_refused(h5py, trained, tmp_path, version, forge_h5):
    path = tmp_path / "m.h5"
    trained.save(path)
    with h5py.File(path, "r+") as h5:
        forge_h5(h5, lambda document: document.update(format_version=version))
    with pytest.raises(ValueError, match=f"m\\.h5.*format version {version!r} is not supported"):
        load_model(path)
    with h5py.File(tmp_path / "plain.h5", "w") as h5:
        h5["data"] = np.arange(3)
    with pytest.raises(ValueError, match="plain.h5.*not a tinydl model file"):
        load_model(tmp_path / "plain.h5")


@pytest.mark.parametrize("content", [b"", b"not hdf5 at all"], ids=["empty", "text"])
def test_h5_non_hdf5_or_truncated_file_is_refused(h5py, trained, tmp_path, content):
    (tmp_path / "x.h5").write_bytes(content)
    with pytest.raises(ValueError, match=r"x\.h5.*not a readable HDF5 file"):
        load_model(tmp_path / "x.h5")
    trained.save(tmp_path / "m.h5")
    raw = (tmp_path / "m.h5").read_bytes()
    (tmp_path / "m.h5").write_bytes(raw[:len(raw) // 2])
    with pytest.raises(ValueError, match=r"m\.h5"):
        load_model(tmp_path / "m.h5")


def test_h5_object_dataset_is_refused(h5py, trained, tmp_path, forge_h5):
    """A dataset of variable-length strings claiming dtype 'object' is never accepted."""
    path = tmp_path / "m.h5"
    trained.save(path)
    with h5py.File(path, "r+") as h5:
        del h5["arrays/0"]
        h5.create_dataset("arrays/0", data=np.array(["x"], dtype=object),
                          dtype=h5py.string_dtype())
        forge_h5(h5, lambda document: document["arrays"]["weights/0"].update(
            dtype="object", shape=[1]))
    with pytest.raises(ValueError, match=r"m\.h5.*arrays/0.*dtype object.*plain numbers"):
        load_model(path)


def test_interrupted_h5_save_leaves_the_old_file(h5py, trained, tmp_path, monkeypatch, data):
    path = tmp_path / "m.h5"
    trained.save(path)
    before = path.read_bytes()
    trained.fit(*data, epochs=1, verbose=0)
    calls = []

    def failing(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise OSError("disk full (simulated)")
        return real(self, *args, **kwargs)

    real = h5py.Group.create_dataset
    monkeypatch.setattr(h5py.Group, "create_dataset", failing)
    with pytest.raises(OSError):
        trained.save(path)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.h5"]


@pytest.mark.parametrize("field, value", [("shape", 3), ("entry", None), ("dtype", ["x"])])
def test_h5_malformed_array_description_is_refused(h5py, trained, tmp_path, field, value,
                                                  forge_h5):
    path = tmp_path / "m.h5"
    trained.save(path)
    with h5py.File(path, "r+") as h5:
        forge_h5(h5, lambda document: document["arrays"]["weights/0"].update(
            {field: value}))
    with pytest.raises(ValueError, match=r"m\.h5.*(weights/0|malformed)"):
        load_model(path)
