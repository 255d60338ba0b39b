"""Initializers: Keras' formulas in the weight's own dtype, without a float64 detour, and a clear
error, before allocating, for a weight larger than the machine's memory."""

from __future__ import annotations

import math
import tracemalloc

import numpy as np
import pytest

from tinydl import initializers
from tinydl.layers import Conv2D, Dense
from tinydl.utils import set_random_seed

# name -> (expected std, largest |value|) for a (400, 600) kernel: fan_in 400, fan_out 600
FAN_IN, FAN_OUT = 400, 600
KERAS = {
    "glorot_uniform": (math.sqrt(2 / (FAN_IN + FAN_OUT)), math.sqrt(6 / (FAN_IN + FAN_OUT))),
    "he_uniform": (math.sqrt(2 / FAN_IN), math.sqrt(6 / FAN_IN)),
    "lecun_uniform": (math.sqrt(1 / FAN_IN), math.sqrt(3 / FAN_IN)),
    "glorot_normal": (math.sqrt(2 / (FAN_IN + FAN_OUT)), 2 * math.sqrt(2 / (FAN_IN + FAN_OUT)) / 0.8796),
    "he_normal": (math.sqrt(2 / FAN_IN), 2 * math.sqrt(2 / FAN_IN) / 0.8796),
    "lecun_normal": (math.sqrt(1 / FAN_IN), 2 * math.sqrt(1 / FAN_IN) / 0.8796),
    "random_uniform": (0.1 / math.sqrt(12), 0.05),
    "random_normal": (0.05, math.inf),
}


@pytest.mark.parametrize("name", sorted(KERAS))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_named_initializers_follow_keras_formulas_in_the_requested_dtype(name, dtype):
    set_random_seed(0)
    values = initializers.get(name)((FAN_IN, FAN_OUT), dtype=dtype)
    std, bound = KERAS[name]
    assert values.dtype == dtype and values.shape == (FAN_IN, FAN_OUT)
    assert values.std() == pytest.approx(std, rel=0.02)
    assert abs(values.mean()) < 0.02 * std  # the standard error of the mean is 0.002 std
    assert np.abs(values).max() <= bound * (1 + 1e-6)


@pytest.mark.parametrize("name", sorted(KERAS) + ["zeros", "ones"])
def test_a_float32_weight_is_drawn_without_a_float64_array(name):
    """Peak memory of drawing a 4 MB float32 weight: below 2.5 times its size (drawing in
    float64 first costs at least 3 times)."""
    initializer = initializers.get(name)
    shape, nbytes = (1000, 1000), 1000 * 1000 * 4
    tracemalloc.start()
    try:
        values = initializer(shape, dtype=np.float32)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert values.dtype == np.float32
    assert peak < 2.5 * nbytes, f"{name}: peak {peak / nbytes:.2f}x the weight's size"


def test_same_seed_same_values_and_a_seeded_initializer_ignores_the_global_generator():
    set_random_seed(3)
    a = initializers.get("he_normal")((5, 7))
    set_random_seed(3)
    b = initializers.get("he_normal")((5, 7))
    np.testing.assert_array_equal(a, b)
    c = initializers.VarianceScaling(seed=11)((5, 7))
    set_random_seed(4)
    np.testing.assert_array_equal(c, initializers.VarianceScaling(seed=11)((5, 7)))


def test_a_weight_larger_than_memory_is_refused_before_allocating_naming_layer_and_shape():
    memory = initializers.physical_memory()
    if memory is None:
        pytest.skip("this OS does not report its memory size")
    layer = Dense(2**21, name="huge")
    with pytest.raises(MemoryError, match=r"Dense 'huge' weight 'kernel': a weight of shape "
                                          r"\(2097152, 2097152\) \(float32\) needs 16.0 TiB"):
        layer.build_for((None, 2**21))
    with pytest.raises(MemoryError, match=r"Conv2D 'wide' weight 'kernel'.*\(3, 3, 65536, 65536\)"):
        Conv2D(2**16, 3, name="wide").build_for((None, 8, 8, 2**16))
    with pytest.raises(MemoryError, match="GlorotUniform"):
        initializers.get("glorot_uniform")((2**21, 2**21))


def test_a_weight_shape_with_a_negative_or_non_int_size_is_refused():
    layer = Dense(2)
    with pytest.raises(ValueError, match=r"Dense 'bad' weight 'w'.*Received: shape=\(3, -1\)"):
        Dense(2, name="bad").add_weight("w", (3, -1))
    with pytest.raises(ValueError, match=r"Received: shape=\(None, 4\)"):
        layer.add_weight("w", (None, 4))


KERAS_CLASSES = ["GlorotUniform", "GlorotNormal", "HeUniform", "HeNormal", "LecunUniform", "LecunNormal",
                 "TruncatedNormal", "RandomNormal", "RandomUniform", "Zeros", "Ones", "Orthogonal"]


@pytest.mark.parametrize("name", KERAS_CLASSES)
def test_keras_classes_draw_keras_distributions(name):
    """Each class against Keras' own draw of the same shape: same dtype and shape, the same
    mean, std and range within sampling error (the generators differ, the distributions not)."""
    from keras_oracle import import_keras
    keras = import_keras()
    shape = (300, 200)
    ours = getattr(initializers, name)()(shape)
    theirs = np.asarray(getattr(keras.initializers, name)()(shape))
    assert ours.shape == theirs.shape and ours.dtype == theirs.dtype
    assert abs(ours.std() - theirs.std()) <= 0.03 * theirs.std() + 1e-7
    assert abs(ours.mean() - theirs.mean()) <= 0.02 * max(theirs.std(), 1e-3) + abs(theirs.mean()) * 1e-6
    assert abs(ours).max() <= abs(theirs).max() * 1.05 + 1e-7 or name in ("RandomNormal", "Orthogonal")


def test_identity_and_lowercase_aliases_are_keras_names():
    assert initializers.he_normal is initializers.HeNormal
    assert initializers.OrthogonalInitializer is initializers.Orthogonal
    np.testing.assert_array_equal(initializers.Identity(gain=3.0)((3, 2)), 3 * np.eye(3, 2, dtype=np.float32))
    assert isinstance(initializers.get("HeNormal"), initializers.HeNormal)
    assert initializers.name_of(initializers.GlorotUniform()) == "glorot_uniform"


def test_configs_round_trip_and_a_custom_initializer_subclass_works_in_a_layer():
    init = initializers.TruncatedNormal(mean=0.1, stddev=0.2, seed=4)
    again = initializers.get({"class_name": "TruncatedNormal", "config": init.get_config()})
    np.testing.assert_array_equal(init((5, 5)), again((5, 5)))

    class Halves(initializers.Initializer):
        def __call__(self, shape, dtype=None):
            return np.full(shape, 0.5, dtype=dtype or np.float32)

    layer = Dense(3, kernel_initializer=Halves(), bias_initializer=initializers.Ones())
    layer.build_for((None, 2))
    np.testing.assert_array_equal(layer.get_weights()[0], np.full((2, 3), 0.5, np.float32))
    np.testing.assert_array_equal(layer.get_weights()[1], np.ones(3, np.float32))


@pytest.mark.parametrize("make", [
    lambda: initializers.RandomNormal(stddev=float("nan")),
    lambda: initializers.RandomNormal(stddev=-1.0),
    lambda: initializers.RandomUniform(minval=float("-inf")),
    lambda: initializers.RandomUniform(minval=1.0, maxval=0.0),
    lambda: initializers.Constant(float("nan")),
    lambda: initializers.VarianceScaling(scale=-1.0),
    lambda: initializers.VarianceScaling(mode="fan_sum"),
    lambda: initializers.VarianceScaling(distribution="cauchy"),
    lambda: initializers.Orthogonal(gain=float("inf")),
])
def test_bad_arguments_raise_naming_them(make):
    with pytest.raises((ValueError, TypeError), match="Received"):
        make()
