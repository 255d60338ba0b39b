"""tinydl.random (keras.random): distributions, dtypes, Keras' seeding rules, dropout, shuffle."""

from __future__ import annotations

import os

import numpy as np
import pytest

from tinydl import Tensor, ops, random
from tinydl.utils import gradcheck, set_random_seed

DRAWS = {  # name: (args, kwargs)
    "normal": (((2, 3),), {"mean": 1.0, "stddev": 2.0}),
    "uniform": (((2, 3),), {"minval": -1.0, "maxval": 3.0}),
    "truncated_normal": (((2, 3),), {}),
    "randint": (((2, 3), 0, 10), {}),
}


@pytest.mark.parametrize("name", sorted(DRAWS))
def test_an_int_seed_gives_the_same_numbers_every_call(name):
    args, kwargs = DRAWS[name]
    first = getattr(random, name)(*args, seed=7, **kwargs)
    again = getattr(random, name)(*args, seed=7, **kwargs)
    other = getattr(random, name)(*args, seed=8, **kwargs)
    assert isinstance(first, Tensor) and first.shape == (2, 3)
    np.testing.assert_array_equal(first.data, again.data)
    assert not np.array_equal(first.data, other.data)


@pytest.mark.parametrize("name", sorted(DRAWS))
def test_a_seed_generator_advances_and_replays(name):
    args, kwargs = DRAWS[name]
    gen, twin = random.SeedGenerator(3), random.SeedGenerator(3)
    a, b = (getattr(random, name)(*args, seed=gen, **kwargs).data for _ in range(2))
    assert not np.array_equal(a, b)
    np.testing.assert_array_equal(getattr(random, name)(*args, seed=twin, **kwargs).data, a)
    np.testing.assert_array_equal(getattr(random, name)(*args, seed=twin, **kwargs).data, b)


def test_unseeded_draws_follow_set_random_seed():
    set_random_seed(11)
    first = [random.normal((4,)).data, random.SeedGenerator().seed, random.uniform((2,)).data]
    set_random_seed(11)
    second = [random.normal((4,)).data, random.SeedGenerator().seed, random.uniform((2,)).data]
    for x, y in zip(first, second):
        np.testing.assert_array_equal(x, y)


def test_distributions_have_the_requested_moments_and_ranges():
    n = (200_000,)
    x = random.normal(n, mean=1.0, stddev=2.0, seed=0).data
    assert x.dtype == np.float32 and abs(x.mean() - 1.0) < 0.02 and abs(x.std() - 2.0) < 0.02
    u = random.uniform(n, minval=-1.0, maxval=3.0, dtype="float64", seed=0).data
    assert u.dtype == np.float64 and u.min() >= -1.0 and u.max() < 3.0 and abs(u.mean() - 1) < 0.02
    t = random.truncated_normal(n, mean=5.0, stddev=0.5, seed=0).data
    assert t.min() >= 4.0 and t.max() <= 6.0 and abs(t.mean() - 5.0) < 0.01
    assert abs(t.std() - 0.5 * 0.8796) < 0.01  # the std of N(0, 1) cut at +-2 is 0.8796
    r = random.randint(n, 2, 7, seed=0).data
    assert r.dtype == np.int32 and set(np.unique(r)) == {2, 3, 4, 5, 6}


def test_dropout_drops_the_rate_and_scales_the_rest():
    x = Tensor(np.ones((400, 500), "float32"), requires_grad=True)
    y = random.dropout(x, 0.3, seed=1)
    kept = y.data != 0
    assert abs(1 - kept.mean() - 0.3) < 0.01
    np.testing.assert_allclose(y.data[kept], 1 / 0.7, rtol=1e-6)
    y.sum().backward()
    np.testing.assert_allclose(x.grad, y.data)  # the gradient is the mask


def test_dropout_noise_shape_drops_whole_slices_and_gradcheck():
    x = np.random.default_rng(0).standard_normal((4, 5, 6))
    y = random.dropout(x, 0.5, noise_shape=(None, 1, 6), seed=2).data
    dropped = y == 0
    assert (dropped == dropped[:, :1, :]).all()  # constant along the axis of size 1
    assert gradcheck(lambda t: random.dropout(t, 0.5, noise_shape=(4, 1, 6), seed=2), Tensor(x))


def test_shuffle_permutes_along_an_axis_and_is_differentiable():
    x = np.arange(12.0).reshape(3, 4)
    y = random.shuffle(x, axis=1, seed=5).data
    order = y[0].astype(int)  # x[0] is 0..3, so the first row names the columns' sources
    assert sorted(order) == [0, 1, 2, 3] and list(order) != [0, 1, 2, 3]
    np.testing.assert_array_equal(y, x[:, order])  # whole columns move together
    assert gradcheck(lambda t: random.shuffle(t, axis=1, seed=5), Tensor(x))


def test_categorical_samples_follow_softmax_of_the_logits():
    logits = np.log(np.array([[0.2, 0.5, 0.3], [0.9, 0.05, 0.05]]))
    draws = random.categorical(logits, 50_000, seed=0).data
    assert draws.shape == (2, 50_000) and draws.dtype == np.int32
    for row, expected in zip(draws, np.exp(logits)):
        np.testing.assert_allclose(np.bincount(row, minlength=3) / row.size, expected, atol=0.01)


@pytest.mark.parametrize("call, error, message", [
    (lambda: random.normal((2,), seed=-1), ValueError,
     r"seed must be None, a non-negative int or a SeedGenerator. Received: seed=-1"),
    (lambda: random.normal((2,), seed="a"), ValueError, r"Received: seed='a'"),
    (lambda: random.normal((2,), dtype="int32"), ValueError,
     r"keras.random.normal requires a floating point dtype. Received: dtype='int32'"),
    (lambda: random.randint((2,), 0, 3, dtype="float32"), ValueError,
     r"randint requires an integer dtype"),
    (lambda: random.uniform((2,), minval=1.0, maxval=1.0), ValueError,
     r"uniform: minval must be below maxval"),
    (lambda: random.dropout(np.ones(3), 1.0), ValueError,
     r"dropout: rate must be in \[0, 1\). Received: rate=1.0"),
    (lambda: random.dropout(np.ones((2, 3)), 0.5, noise_shape=(2, 2)), ValueError,
     r"noise_shape \(2, 2\) does not broadcast"),
    (lambda: random.normal((2, -1)), ValueError, r"shape must be a tuple of non-negative ints"),
])
def test_bad_arguments_raise_errors_naming_them(call, error, message):
    with pytest.raises(error, match=message):
        call()


@pytest.fixture(scope="module")
def keras_random():
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    keras = pytest.importorskip("keras", reason="Keras 3 is the oracle for keras.random's API")
    return keras.random


@pytest.mark.parametrize("name, args, kwargs", [
    ("normal", ((2, 3),), {}), ("normal", ((4,),), {"dtype": "float64"}),
    ("uniform", ((3, 1),), {}), ("truncated_normal", ((2,),), {}),
    ("randint", ((5,), 0, 4), {}), ("randint", ((5,), 0, 4), {"dtype": "int64"}),
    ("categorical", (np.zeros((2, 3), "float32"), 4), {}),
    ("shuffle", (np.arange(6),), {}), ("dropout", (np.ones((2, 3), "float32"), 0.5), {}),
])
def test_shapes_and_dtypes_match_keras(name, args, kwargs, keras_random):
    ours = getattr(random, name)(*args, seed=1, **kwargs)
    theirs = np.asarray(getattr(keras_random, name)(*args, seed=1, **kwargs))
    assert ours.shape == theirs.shape and ours.dtype == theirs.dtype
    if name == "dropout":  # the same scaling of the kept elements
        np.testing.assert_allclose(np.unique(ours.data), np.unique(theirs))
    assert ops.convert_to_numpy(ours).shape == theirs.shape
