"""`import tinydl as keras`: Keras 3's top-level names, and a clear error for the ones tinydl lacks."""

from __future__ import annotations

import subprocess
import sys

import pytest

import tinydl as keras
from tinydl.keras_names import KERAS_NAMES, NotImplementedInTinydl


def test_importing_tinydl_prints_nothing_and_never_imports_tf_or_torch():
    code = ("import sys, tinydl as keras; keras.Sequential, keras.Model, keras.Input; "
            "print(sorted(m for m in ('tensorflow', 'torch', 'keras', 'jax') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout == "[]\n" and out.stderr == ""


@pytest.mark.parametrize("name", ["Sequential", "Model", "Input", "layers", "models", "ops",
                                  "utils", "saving", "callbacks", "optimizers", "losses",
                                  "metrics", "activations", "initializers", "regularizers",
                                  "datasets", "backend", "Layer", "Variable", "KerasTensor",
                                  "Loss", "Metric", "Optimizer", "tree"])
def test_keras_top_level_names_exist(name):
    assert hasattr(keras, name) and name in KERAS_NAMES[""].split()


def test_everyday_helpers_have_keras_signatures():
    assert keras.models.Sequential is keras.Sequential and keras.models.Model is keras.Model
    assert callable(keras.saving.load_model) and callable(keras.models.load_model)
    assert keras.backend.floatx() == "float32" and keras.backend.epsilon() == 1e-7
    assert keras.backend.image_data_format() == "channels_last"
    keras.backend.set_floatx("float32")
    with pytest.raises(NotImplementedInTinydl, match="float64"):
        keras.backend.set_floatx("float64")
    with pytest.raises(NotImplementedInTinydl, match="channels_first"):
        keras.backend.set_image_data_format("channels_first")
    assert keras.utils.to_categorical([0, 2], 3).tolist() == [[1, 0, 0], [0, 0, 1]]
    assert callable(keras.utils.plot_model) and callable(keras.utils.set_random_seed)


def test_clear_session_restarts_layer_names():
    keras.backend.clear_session()
    assert keras.layers.Dense(2).name == "dense" and keras.layers.Dense(2).name == "dense_1"
    keras.backend.clear_session()
    assert keras.layers.Dense(2).name == "dense"


@pytest.mark.parametrize("expression", [
    "keras.layers.ConvLSTM2D", "keras.layers.Conv3D", "keras.callbacks.TensorBoard",
    "keras.optimizers.Ftrl", "keras.losses.Dice", "keras.metrics.MeanIoU",
    "keras.activations.sparsemax", "keras.initializers.STFT", "keras.regularizers.OrthogonalRegularizer",
    "keras.datasets.imdb", "keras.applications", "keras.models.model_from_json",
    "keras.saving.serialize_keras_object", "keras.utils.audio_dataset_from_directory"])
def test_a_keras_name_tinydl_lacks_says_so(expression):
    name = expression.split(".")[-1]
    with pytest.raises(NotImplementedInTinydl, match=rf"{name} is not implemented in tinydl"):
        eval(expression)  # noqa: S307
    module = eval(expression.rsplit(".", 1)[0])  # noqa: S307
    assert not hasattr(module, name)                 # an AttributeError, so hasattr works


def test_a_name_keras_does_not_have_is_a_plain_attribute_error():
    with pytest.raises(AttributeError) as info:
        keras.layers.NoSuchLayer  # noqa: B018 (the attribute access is what raises)
    assert not isinstance(info.value, NotImplementedInTinydl)


def test_backend_dtype_helpers_answer_as_keras():
    """keras.backend's dtype and naming helpers give Keras' answers (Keras itself when installed)."""
    import numpy as np
    from keras_oracle import import_keras
    real = import_keras()
    # (Python's int is backend-dependent in Keras: int64 on TensorFlow, int32 elsewhere and in tinydl)
    for dtype in ("float16", "bfloat16", "float64", "int8", "uint16", "bool", float, np.float32):
        assert keras.backend.standardize_dtype(dtype) == real.backend.standardize_dtype(dtype)
        assert keras.backend.is_float_dtype(dtype) == real.backend.is_float_dtype(dtype)
        assert keras.backend.is_int_dtype(dtype) == real.backend.is_int_dtype(dtype)
    for pair in (("int32", "float32"), ("int8", "uint8"), ("float16", "float32"), ("bool", "int64")):
        assert keras.backend.result_type(*pair) == real.backend.result_type(*pair)
    assert keras.backend.is_keras_tensor(keras.Input((2,))) and not keras.backend.is_keras_tensor(np.ones(2))
    first = keras.backend.get_uid("namespace_test")
    assert keras.backend.get_uid("namespace_test") == first + 1
    keras.backend.set_epsilon(1e-7)
    with pytest.raises(NotImplementedError, match="set_epsilon"):
        keras.backend.set_epsilon(1e-5)
