"""Fixtures for the keras.ops tests: Keras 3 on TensorFlow as the oracle, imported lazily."""

from __future__ import annotations

import os

import numpy as np
import pytest

from tinydl import ops


@pytest.fixture(scope="session")
def keras_ops():
    """keras.ops on the TensorFlow backend; the test is skipped when Keras is not installed."""
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    keras = pytest.importorskip("keras", reason="Keras 3 (with tensorflow-cpu) is the oracle "
                                                "for keras.ops; install both to run these tests")
    if keras.backend.backend() != "tensorflow":
        pytest.skip(f"the oracle needs Keras on TensorFlow, not {keras.backend.backend()}")
    return keras.ops


def _as_numpy(keras_ops, value):
    if isinstance(value, (list, tuple)):
        return type(value)(_as_numpy(keras_ops, v) for v in value)
    return keras_ops.convert_to_numpy(value)


def assert_same_values(ours, theirs, rtol=1e-5, atol=1e-6):
    """Same values, shape and dtype (ours: Tensors; theirs: NumPy arrays), lists alike."""
    if isinstance(theirs, (list, tuple)):
        assert isinstance(ours, (list, tuple)) and len(ours) == len(theirs)
        for o, t in zip(ours, theirs):
            assert_same_values(o, t, rtol, atol)
        return
    ours = ours.data if hasattr(ours, "data") else np.asarray(ours)
    theirs = np.asarray(theirs)
    assert ours.shape == theirs.shape, f"shape {ours.shape} != expected {theirs.shape}"
    assert ours.dtype == theirs.dtype, f"dtype {ours.dtype} != expected {theirs.dtype}"
    if theirs.dtype.kind == "f":
        np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=atol)
    else:
        np.testing.assert_array_equal(ours, theirs)


@pytest.fixture
def same_as_keras(keras_ops):
    """same_as_keras(name, *args, **kwargs): tinydl.ops.name and keras.ops.name on the same
    arguments give the same values, shapes and dtypes."""
    def check(name, *args, rtol=1e-5, atol=1e-6, **kwargs):
        ours = getattr(ops, name)(*args, **kwargs)
        theirs = _as_numpy(keras_ops, getattr(keras_ops, name)(*args, **kwargs))
        assert_same_values(ours, theirs, rtol, atol)
        return ours
    return check


@pytest.fixture
def same_values():
    """same_values(ours, expected): values, shape and dtype agree (expected from NumPy)."""
    return assert_same_values
