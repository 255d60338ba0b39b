"""layers.Dot for every form of Keras' axes (int, pair, negative, 2-D and 3-D inputs, and
normalize=True), against Keras 3 on the same inputs: output shapes, values and the gradients
of both inputs."""

from __future__ import annotations

import numpy as np
import pytest

import tinydl
from keras_oracle import import_keras

CASES = [  # (axes, shape of a, shape of b) without the batch axis
    (1, (4,), (4,)), (-1, (4,), (4,)), ((1, 1), (4,), (4,)),
    (2, (3, 4), (5, 4)), (-1, (3, 4), (5, 4)), (1, (3, 4), (3, 6)), ((1, 2), (3, 4), (6, 3)),
    ((2, 1), (3, 4), (4, 2)), ((-1, 1), (4,), (4, 5)), ((1, -1), (3, 2), (5, 3)),
    ((2, 2), (3, 4, 5), (6, 4)), ((-2, 1), (3, 4, 5), (4, 2)),
]


@pytest.mark.parametrize("normalize", [False, True])
@pytest.mark.parametrize("axes,shape_a,shape_b", CASES)
def test_dot_matches_keras(axes, shape_a, shape_b, normalize):
    keras = import_keras()
    import tensorflow as tf

    rng = np.random.default_rng(0)
    a = rng.standard_normal((3,) + shape_a).astype(np.float32)
    b = rng.standard_normal((3,) + shape_b).astype(np.float32)
    shapes = [(None,) + shape_a, (None,) + shape_b]
    theirs = keras.layers.Dot(axes=axes, normalize=normalize)
    ours = tinydl.layers.Dot(axes=axes, normalize=normalize)
    assert ours.compute_output_shape(shapes) == tuple(theirs.compute_output_shape(shapes))
    ta, tb = tf.Variable(a), tf.Variable(b)
    with tf.GradientTape() as tape:
        expected = theirs([ta, tb])
        projection = rng.standard_normal(tuple(expected.shape)).astype(np.float32)
        loss = tf.reduce_sum(expected * projection)
    grads = tape.gradient(loss, [ta, tb])
    xa, xb = tinydl.Tensor(a, requires_grad=True), tinydl.Tensor(b, requires_grad=True)
    out = ours([xa, xb])
    np.testing.assert_allclose(out.data, np.asarray(expected), rtol=1e-5, atol=1e-5)
    (out * projection).sum().backward()
    np.testing.assert_allclose(xa.grad, np.asarray(grads[0]), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(xb.grad, np.asarray(grads[1]), rtol=1e-4, atol=1e-5)


def test_dot_in_a_functional_model_and_its_errors():
    a, b = tinydl.Input(shape=(3, 4)), tinydl.Input(shape=(5, 4))
    assert tinydl.layers.Dot(axes=2)([a, b]).shape == (None, 3, 5)
    with pytest.raises(ValueError, match="Incompatible input shapes"):
        tinydl.layers.Dot(axes=1)([a, b])
    with pytest.raises(ValueError, match="two integers"):
        tinydl.layers.Dot(axes=(1, 2, 3))
    with pytest.raises(TypeError, match="Invalid type for argument `axes`"):
        tinydl.layers.Dot(axes="last")
