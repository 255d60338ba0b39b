"""Files Keras wrote (tests/data/keras_files, made by its make_golden.py), read without
TensorFlow: predictions equal Keras' own, stored beside them; user layers come only from
custom_objects or the registry; a Lambda's bytecode is never run."""

from __future__ import annotations

import os
import shutil

import numpy as np
import pytest

import tinydl
from tinydl.saving import ModelFileError

pytest.importorskip("h5py")
HERE = os.path.join(os.path.dirname(__file__), "..", "data", "keras_files")
EXPECTED = np.load(os.path.join(HERE, "expected.npz"), allow_pickle=False)
MODEL_FILES = ["seed_cnn.keras", "batchnorm_dropout.keras", "lstm.keras", "residual.h5",
               "residual_keras2.h5", "lstm_keras2.h5"]


def golden(name: str) -> str:
    return os.path.join(HERE, name)


@pytest.mark.parametrize("name", MODEL_FILES)
def test_a_keras_written_file_predicts_what_keras_predicted(name):
    model = tinydl.models.load_model(golden(name))
    np.testing.assert_allclose(model.predict(EXPECTED[f"{name}:x"], verbose=0),
                               EXPECTED[f"{name}:y"], atol=2e-5, rtol=1e-5)
    assert int(model.optimizer.iterations) == int(EXPECTED[f"{name}:iterations"])
    assert model.optimizer.built


@pytest.mark.parametrize("name", MODEL_FILES)
def test_compile_false_leaves_out_the_optimizer(name):
    model = tinydl.models.load_model(golden(name), compile=False)
    assert not getattr(model, "compiled", False)


@pytest.mark.parametrize("name", MODEL_FILES)
def test_what_tinydl_saves_from_a_keras_file_loads_back_the_same(name, tmp_path):
    model = tinydl.models.load_model(golden(name))
    x = EXPECTED[f"{name}:x"]
    for suffix in (".keras", ".h5", ".tinydl"):
        model.save(tmp_path / f"again{suffix}")
        again = tinydl.models.load_model(tmp_path / f"again{suffix}")
        np.testing.assert_array_equal(again.predict(x, verbose=0), model.predict(x, verbose=0))
        assert int(again.optimizer.iterations) == int(model.optimizer.iterations)


# ----------------------------------------------------------------------------- user code

def _scale_class(register: bool):
    class Scale(tinydl.layers.Layer):
        def __init__(self, factor=2.0, **kwargs):
            super().__init__(**kwargs)
            self.factor = factor

        def call(self, x):
            return x * self.factor

        def get_config(self):
            return {**super().get_config(), "factor": self.factor}
    if register:
        tinydl.saving.register_keras_serializable(package="Golden")(Scale)
    return Scale


def test_a_user_layer_is_refused_unless_given_and_loads_when_given():
    name = "custom_layer.keras"
    tinydl.saving_keras.REGISTERED.pop("Golden>Scale", None)
    with pytest.raises(ModelFileError, match="Golden>Scale.*custom_objects"):
        tinydl.models.load_model(golden(name))
    model = tinydl.models.load_model(golden(name), custom_objects={"Scale": _scale_class(False)})
    np.testing.assert_allclose(model.predict(EXPECTED[f"{name}:x"], verbose=0),
                               EXPECTED[f"{name}:y"], atol=2e-5, rtol=1e-5)
    assert model.layers[-1].factor == 3.0


def test_a_registered_user_layer_loads_by_its_package_key():
    tinydl.saving_keras.REGISTERED.pop("Golden>Scale", None)
    scale = _scale_class(True)
    assert scale._keras_registered_name == "Golden>Scale"
    model = tinydl.saving.load_model(golden("custom_layer.keras"))
    assert isinstance(model.layers[-1], scale)
    tinydl.saving_keras.REGISTERED.pop("Golden>Scale", None)


def test_two_classes_registered_under_one_key_warn():
    tinydl.saving_keras.REGISTERED.pop("Golden>Scale", None)
    _scale_class(True)
    with pytest.warns(UserWarning, match="'Golden>Scale' was registered"):
        _scale_class(True)
    tinydl.saving_keras.REGISTERED.pop("Golden>Scale", None)


def test_a_lambda_with_bytecode_is_refused_even_with_safe_mode_off(monkeypatch):
    ran = []
    monkeypatch.setattr("marshal.loads", lambda *a: ran.append(a))
    for kwargs in ({}, {"safe_mode": False}, {"custom_objects": {"<lambda>": abs}}):
        with pytest.raises(ModelFileError, match="Lambda.*bytecode.*never runs code"):
            tinydl.saving.load_model(golden("lambda.keras"), **kwargs)
    assert ran == []


def test_an_unsupported_layer_or_option_is_named(tmp_path):
    import json
    import zipfile
    for edit, message in ((lambda layer: layer.update(class_name="ConvLSTM2D"),
                           "ConvLSTM2D.*custom_objects"),
                          (lambda layer: layer["config"].update(groups=2),
                           "Conv2D option groups=2 is not supported")):
        with zipfile.ZipFile(golden("seed_cnn.keras")) as src:
            members = {n: src.read(n) for n in src.namelist()}
        config = json.loads(members["config.json"])
        edit(config["config"]["layers"][1])
        members["config.json"] = json.dumps(config).encode()
        path = tmp_path / "edited.keras"
        with zipfile.ZipFile(path, "w") as dst:
            for n, blob in members.items():
                dst.writestr(n, blob)
        with pytest.raises(ModelFileError, match=message):
            tinydl.models.load_model(path)


def test_weights_of_a_legacy_file_load_into_a_model_built_in_code(tmp_path):
    from keras_file_models import residual
    model = residual(tinydl)
    model.load_weights(golden("residual_keras2.h5"))
    name = "residual_keras2.h5"
    np.testing.assert_allclose(model.predict(EXPECTED[f"{name}:x"], verbose=0),
                               EXPECTED[f"{name}:y"], atol=2e-5, rtol=1e-5)
    shutil.copy(golden(name), tmp_path / "copy.h5")
    other = residual(tinydl)
    other.load_weights(tmp_path / "copy.h5", by_name=True)
    np.testing.assert_array_equal(other.get_layer("head").weights[0].data,
                                  model.get_layer("head").weights[0].data)
