"""Lab 2: the student's Functions (gradcheck, tinydl's own ops), Layers, SGD and training loop."""

import numpy as np
import pytest

import tinydl
from tinydl import Tensor
from tinydl import functional as F
from tinydl.models import Sequential
from tinydl.utils import gradcheck

RNG = np.random.default_rng(2)


# ----------------------------------------------------------------------------- 2.1

@pytest.mark.task2_1
def test_linear_passes_gradcheck_for_all_three_inputs(mylayers):
    x, w, b = RNG.standard_normal((5, 4)), RNG.standard_normal((4, 3)), RNG.standard_normal(3)
    assert gradcheck(mylayers.LinearFunction.apply, Tensor(x), Tensor(w), Tensor(b))


@pytest.mark.task2_1
def test_linear_matches_numpy(mylayers):
    x, w, b = (RNG.standard_normal(s).astype(np.float32) for s in ((6, 5), (5, 2), (2,)))
    y = mylayers.LinearFunction.apply(Tensor(x), Tensor(w), Tensor(b))
    np.testing.assert_allclose(y.numpy(), x @ w + b, rtol=1e-5, atol=1e-6)


# ----------------------------------------------------------------------------- 2.2

@pytest.mark.task2_2
def test_relu_passes_gradcheck_away_from_zero(mylayers):
    x = RNG.standard_normal((4, 5))
    x[np.abs(x) < 0.1] = 0.5                      # no element near the kink
    assert gradcheck(mylayers.ReLUFunction.apply, Tensor(x))


@pytest.mark.task2_2
def test_relu_matches_tinydl(mylayers):
    x = RNG.standard_normal((3, 7)).astype(np.float32)
    np.testing.assert_array_equal(mylayers.ReLUFunction.apply(Tensor(x)).numpy(), Tensor(x).relu().numpy())


# ----------------------------------------------------------------------------- 2.3

@pytest.mark.task2_3
def test_softmax_cross_entropy_passes_gradcheck(mylayers):
    labels = np.array([0, 2, 1, 2])
    assert gradcheck(lambda z: mylayers.SoftmaxCrossEntropy.apply(z, labels), Tensor(RNG.standard_normal((4, 3))))


@pytest.mark.task2_3
def test_softmax_cross_entropy_matches_tinydl_in_value_and_gradient(mylayers):
    logits, labels = RNG.standard_normal((8, 10)).astype(np.float32), RNG.integers(0, 10, 8)
    mine, theirs = Tensor(logits, requires_grad=True), Tensor(logits, requires_grad=True)
    loss = mylayers.SoftmaxCrossEntropy.apply(mine, labels)
    oracle = F.softmax_cross_entropy(theirs, labels)
    loss.backward()
    oracle.backward()
    assert loss.shape == () and loss.item() == pytest.approx(oracle.item(), rel=1e-5)
    np.testing.assert_allclose(mine.grad, theirs.grad, rtol=1e-4, atol=1e-7)


@pytest.mark.task2_3
def test_softmax_cross_entropy_is_stable_for_huge_logits(mylayers):
    logits = np.array([[1000.0, 0.0, -1000.0], [0.0, 1000.0, 999.0]])
    loss = mylayers.SoftmaxCrossEntropy.apply(Tensor(logits), np.array([0, 2]))
    assert np.isfinite(loss.item()) and loss.item() == pytest.approx((0.0 + np.log1p(np.e)) / 2, rel=1e-6)


# ----------------------------------------------------------------------------- 2.4

@pytest.mark.task2_4
def test_my_dense_creates_tracked_weights_and_computes_x_w_plus_b(mylayers):
    model = Sequential([mylayers.MyDense(4, input_shape=(3,)), mylayers.MyReLU(), mylayers.MyDense(2)])
    assert model.count_params() == 3 * 4 + 4 + 4 * 2 + 2
    dense = model.layers[0]
    assert [w.name for w in dense.trainable_weights] == ["kernel", "bias"]
    assert dense.trainable_weights[0].shape == (3, 4) and dense.trainable_weights[1].shape == (4,)
    x = RNG.standard_normal((5, 3)).astype(np.float32)
    k0, b0, k1, b1 = (w.numpy() for w in model.trainable_weights)
    np.testing.assert_allclose(model(Tensor(x)).numpy(), np.maximum(x @ k0 + b0, 0) @ k1 + b1,
                               rtol=1e-5, atol=1e-6)


@pytest.mark.task2_4
def test_gradients_reach_every_weight_of_my_layers(mylayers):
    model = Sequential([mylayers.MyDense(4, input_shape=(3,)), mylayers.MyReLU(), mylayers.MyDense(2)])
    model(Tensor(RNG.standard_normal((6, 3)))).sum().backward()
    for w in model.trainable_weights:
        assert w.grad is not None and w.grad.shape == w.shape and np.abs(w.grad).sum() > 0, w.name


@pytest.mark.task2_4
def test_my_dense_is_not_tinydl_dense(mylayers):
    assert not issubclass(mylayers.MyDense, tinydl.layers.Dense)
    layer = mylayers.MyDense(3)
    layer(Tensor(np.ones((2, 4), np.float32)))
    assert layer.built and layer.count_params() == 15


# ----------------------------------------------------------------------------- 2.5

@pytest.mark.task2_5
def test_sgd_steps_match_tinydl_sgd(mylayers):
    from tinydl.layers.base import Variable
    start = RNG.standard_normal((3, 2)).astype(np.float32)
    mine, theirs = Variable(start.copy(), "w"), Variable(start.copy(), "w")
    ours, oracle = mylayers.SGD(learning_rate=0.05), tinydl.optimizers.SGD(learning_rate=0.05)
    for _ in range(3):
        g = RNG.standard_normal((3, 2)).astype(np.float32)
        ours.apply([g], [mine])
        oracle.apply([g], [theirs])
        np.testing.assert_allclose(mine.numpy(), theirs.numpy(), rtol=1e-6, atol=1e-7)
    assert ours.iterations == 3


@pytest.mark.task2_5
def test_sgd_trains_a_model_through_compile_and_fit(mylayers):
    tinydl.utils.set_random_seed(0)
    (x, y), _ = tinydl.datasets.digits.load_data()
    x = x.reshape(len(x), -1).astype(np.float32) / 16.0
    model = Sequential([tinydl.layers.Dense(10, input_shape=(64,), activation="softmax")])
    model.compile(optimizer=mylayers.SGD(learning_rate=0.5), loss="sparse_categorical_crossentropy")
    history = model.fit(x[:512], y[:512], epochs=3, batch_size=64, verbose=0)
    assert history.history["loss"][-1] < 0.7 * history.history["loss"][0]


# ----------------------------------------------------------------------------- 2.6

@pytest.mark.task2_6
def test_training_loop_reaches_95_percent_on_the_mnist_sample(mylayers):
    model, reported = mylayers.train()
    assert all(not isinstance(layer, tinydl.layers.Dense) for layer in model.layers), \
        "train() must use your MyDense layers"
    (_, _), (x_test, y_test) = mylayers.load_mnist()
    with tinydl.no_grad():
        measured = float((model(Tensor(x_test)).numpy().argmax(axis=1) == y_test).mean())
    assert reported == pytest.approx(measured, abs=1e-9), "train() reported another accuracy than its model has"
    assert measured >= 0.95, f"test accuracy {measured:.4f}, below 0.95"
