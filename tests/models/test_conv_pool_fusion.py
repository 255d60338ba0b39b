"""Sequential runs Conv2D -> MaxPooling2D as one node when it can: same numbers as the layers
called one by one, and the layers it must not fuse are called as they are."""

from __future__ import annotations

import numpy as np
import pytest

import tinydl
from tinydl.layers import Activation, Conv2D, Dense, Flatten, MaxPooling2D
from tinydl.models import Sequential
from tinydl.ops.conv import Conv2dMaxPool
from tinydl.tensor import Tensor


def _model(activation="relu", pool=None, pool_padding="valid"):
    tinydl.utils.set_random_seed(1)
    pool = pool or MaxPooling2D((2, 2), padding=pool_padding)
    return Sequential([Conv2D(6, (3, 3), activation=activation, input_shape=(11, 13, 3)), pool,
                       Conv2D(5, (2, 2), activation="relu"), MaxPooling2D((2, 2)), Flatten(),
                       Dense(4)])


def _run(model, x, fused: bool):
    """Output and weight gradients of sum(out**2): model(x), or each layer called in turn."""
    for w in model.trainable_weights:
        w.grad = None
    h = Tensor(x)
    if fused:
        h = model(h, training=True)
    else:
        for layer in model.layers:
            h = layer(h, training=True)
    (h * h).sum().backward()
    return [h.data] + [w.grad for w in model.trainable_weights]


@pytest.mark.parametrize("activation", ("relu", None))
@pytest.mark.parametrize("pool_padding", ("valid", "same"))
def test_fused_model_equals_layer_by_layer(backend, activation, pool_padding):
    model = _model(activation, pool_padding=pool_padding)
    x = np.random.default_rng(0).standard_normal((4, 11, 13, 3)).astype(np.float32)
    fused, separate = _run(model, x, True), _run(model, x, False)
    for ours, want in zip(fused, separate):
        assert np.array_equal(ours, want)


def test_fused_kernel_runs_and_records_one_node():
    pytest.importorskip("tinydl.kernels.native", reason="check_backends records native calls")
    model = _model()
    x = np.random.default_rng(0).standard_normal((2, 11, 13, 3)).astype(np.float32)
    model(x)  # the first call builds the layers
    with tinydl.use_backend("native"), tinydl.check_backends() as gaps:
        out = model(Tensor(x))
    assert "conv2d_max_pool_forward" in gaps and "conv2d_forward" not in gaps
    node = out._node
    while node.function is not Conv2dMaxPool:
        node = node.inputs[0]._node
    assert node.function is Conv2dMaxPool


@pytest.mark.parametrize("activation, pool", [
    ("tanh", MaxPooling2D((2, 2))),                # an activation the kernel cannot fuse
    ("relu", MaxPooling2D((2, 2), strides=1)),     # overlapping windows
])
def test_unfusable_pairs_give_the_same_numbers(activation, pool):
    pytest.importorskip("tinydl.kernels.native", reason="check_backends records native calls")
    model = _model(activation, pool)
    x = np.random.default_rng(2).standard_normal((3, 11, 13, 3)).astype(np.float32)
    model(x)
    with tinydl.use_backend("native"):
        with tinydl.check_backends() as gaps:
            fused = _run(model, x, True)
        separate = _run(model, x, False)
    assert "conv2d_forward" in gaps
    for ours, want in zip(fused, separate):
        assert np.array_equal(ours, want)


def test_a_subclass_with_its_own_call_is_called():
    calls = []

    class LoudConv(Conv2D):
        def call(self, inputs, training=None):
            calls.append(inputs.shape)
            return super().call(inputs, training)

    model = Sequential([LoudConv(4, 3, activation="relu", input_shape=(8, 8, 2)),
                        MaxPooling2D(2), Activation("relu")])
    model.predict(np.zeros((2, 8, 8, 2), np.float32), verbose=0)
    model.predict(np.zeros((2, 8, 8, 2), np.float32), verbose=0)
    assert calls and calls[-1] == (2, 8, 8, 2)


def test_wrong_input_still_gets_the_conv2d_message():
    model = _model()
    model(np.zeros((1, 11, 13, 3), np.float32))
    with pytest.raises(ValueError, match="Conv2D expects input of shape"):
        model(np.zeros((1, 3, 11, 13), np.float32))


def test_a_pool_subclass_is_not_replaced_by_max_pooling():
    """A MaxPooling2D subclass that pools differently (here a min pool) keeps its own pooling."""
    from tinydl import functional

    class MinPooling2D(MaxPooling2D):
        _function = staticmethod(
            lambda x, pool, strides, padding: -functional.max_pool2d(-x, pool, strides, padding))

    model = _model("relu", MinPooling2D((2, 2)))
    x = np.random.default_rng(3).standard_normal((2, 11, 13, 3)).astype(np.float32)
    for ours, want in zip(_run(model, x, True), _run(model, x, False)):
        assert np.array_equal(ours, want)
