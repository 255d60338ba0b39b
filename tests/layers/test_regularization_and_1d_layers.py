"""The regularization layers (noise, spatial dropout, activity regularization), activity_regularizer=
on any layer, the 1-D padding/cropping/upsampling layers, Identity and Keras' layer aliases,
against Keras 3 on the same weights and inputs."""

from __future__ import annotations

import numpy as np
import pytest

import tinydl
from tinydl import layers
from keras_oracle import compare_with_keras, import_keras

SEQUENCE_CASES = [
    ("ZeroPadding1D", {"padding": 2}), ("ZeroPadding1D", {"padding": (1, 3)}),
    ("Cropping1D", {"cropping": 1}), ("Cropping1D", {"cropping": (0, 2)}),
    ("UpSampling1D", {"size": 3}), ("UpSampling1D", {}), ("Identity", {}),
]


@pytest.mark.parametrize("name,kwargs", SEQUENCE_CASES, ids=[f"{n}-{k}" for n, k in SEQUENCE_CASES])
def test_sequence_reshaping_layers_match_keras(name, kwargs):
    compare_with_keras(import_keras(), name, kwargs, (5, 3))


def test_cropping_everything_and_bad_arguments_raise():
    with pytest.raises(ValueError, match="leaves no time steps"):
        layers.Cropping1D((2, 3))(np.ones((1, 5, 2), np.float32))
    with pytest.raises(ValueError, match=r"Received: padding=-1"):
        layers.ZeroPadding1D(-1)
    with pytest.raises(ValueError, match=r"\(batch, steps, channels\)"):
        layers.UpSampling1D()(np.ones((2, 3), np.float32))
    with pytest.raises(ValueError, match="stddev=nan"):
        layers.GaussianNoise(float("nan"))
    with pytest.raises(ValueError, match="rate=1.0"):
        layers.GaussianDropout(1.0)
    with pytest.raises(ValueError, match="l2=-0.1"):
        layers.ActivityRegularization(l2=-0.1)
    with pytest.raises(ValueError, match="l1=nan"):
        tinydl.regularizers.L1L2(l1=float("nan"))


@pytest.mark.parametrize("layer", [layers.GaussianNoise(0.3), layers.GaussianDropout(0.3),
                                   layers.AlphaDropout(0.3), layers.SpatialDropout2D(0.3)])
def test_noise_layers_pass_inputs_unchanged_outside_training(layer):
    x = np.random.default_rng(0).standard_normal((2, 4, 4, 3)).astype(np.float32)
    np.testing.assert_array_equal(layer(x).data, x)
    np.testing.assert_array_equal(layer(x, training=False).data, x)


def _moments(values):
    return float(np.mean(values)), float(np.std(values))


@pytest.mark.parametrize("name,kwargs", [("GaussianNoise", {"stddev": 0.7}), ("GaussianDropout", {"rate": 0.4}),
                                         ("AlphaDropout", {"rate": 0.3})])
def test_noise_layers_draw_the_distribution_keras_draws(name, kwargs):
    """Same input, training=True: the output's mean and std, and the fraction of values moved, agree
    with Keras' within sampling error (the generators differ; the distributions must not)."""
    keras = import_keras()
    x = np.random.default_rng(0).standard_normal((400, 250)).astype(np.float32)
    theirs = np.asarray(getattr(keras.layers, name)(**kwargs, seed=1)(x, training=True))
    ours = getattr(layers, name)(**kwargs, seed=1)(x, training=True).data
    (m0, s0), (m1, s1) = _moments(theirs), _moments(ours)
    assert abs(m0 - m1) < 0.02 and abs(s0 - s1) < 0.02 * s0
    assert abs(np.mean(theirs == x) - np.mean(ours == x)) < 0.01
    if name == "AlphaDropout":  # the dropped 30% all take the one value a * alpha_p + b, in both
        a = ((0.7) * (1 + 0.3 * layers.AlphaDropout.ALPHA_P ** 2)) ** -0.5
        dropped = a * layers.AlphaDropout.ALPHA_P - a * layers.AlphaDropout.ALPHA_P * 0.3
        assert np.isclose(ours, dropped, atol=1e-6).mean() == pytest.approx(0.3, abs=0.01)
        assert np.isclose(theirs, dropped, atol=1e-6).mean() == pytest.approx(0.3, abs=0.01)


def test_spatial_dropout2d_drops_whole_channels_and_is_seeded():
    x = np.ones((3, 5, 5, 8), np.float32)
    y = layers.SpatialDropout2D(0.5, seed=3)(x, training=True).data
    assert set(np.unique(y)) <= {0.0, 2.0}
    assert (y == y[:, :1, :1, :]).all()
    np.testing.assert_array_equal(y, layers.SpatialDropout2D(0.5, seed=3)(x, training=True).data)


def _two_models(keras, regularize):
    rng = np.random.default_rng(0)
    theirs = keras.Sequential([keras.Input((4,)), *regularize(keras)])
    ours = tinydl.Sequential([tinydl.Input((4,)), *regularize(tinydl)])
    for w in theirs.weights:
        w.assign(rng.uniform(-0.5, 0.5, tuple(w.shape)).astype(np.float32))
    ours.set_weights([np.asarray(w) for w in theirs.weights])
    for model, lib in ((theirs, keras), (ours, tinydl)):
        model.compile(optimizer=lib.optimizers.SGD(0.1), loss="mse")
    return theirs, ours


@pytest.mark.parametrize("regularize", [
    lambda k: [k.layers.Dense(3, activation="relu", activity_regularizer=k.regularizers.L1(0.05)),
               k.layers.Dense(2)],
    lambda k: [k.layers.Dense(3), k.layers.ActivityRegularization(l1=0.01, l2=0.2), k.layers.Dense(2)],
], ids=["activity_regularizer", "ActivityRegularization"])
def test_activity_penalties_train_as_in_keras(regularize):
    """The penalty (divided by the batch size) is in the loss that fit reports and in its
    gradient: the same loss and weights as Keras after three steps."""
    keras = import_keras()
    theirs, ours = _two_models(keras, regularize)
    rng = np.random.default_rng(1)
    x, y = rng.standard_normal((8, 4)).astype(np.float32), rng.standard_normal((8, 2)).astype(np.float32)
    for _ in range(3):
        loss_theirs = float(theirs.train_on_batch(x, y))
        loss_ours = float(ours.train_on_batch(x, y))
        assert loss_ours == pytest.approx(loss_theirs, rel=1e-5)
    for w_ours, w_theirs in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(w_ours, w_theirs, rtol=1e-5, atol=1e-6)
    config = ours.layers[0].get_config()
    assert config.get("activity_regularizer") is not None or "l1" in ours.layers[1].get_config()


def test_activity_regularizer_survives_get_config():
    layer = layers.Dense(3, activity_regularizer="l2")
    again = layers.Dense.from_config(layer.get_config())
    assert again.activity_regularizer == layer.activity_regularizer


def test_keras_aliases_name_the_same_classes():
    keras = import_keras()
    for alias in ("MaxPool1D", "MaxPool2D", "AvgPool1D", "AvgPool2D", "GlobalMaxPool1D", "GlobalMaxPool2D",
                  "GlobalAvgPool1D", "GlobalAvgPool2D", "Convolution1D", "Convolution2D",
                  "Convolution2DTranspose", "SeparableConvolution2D"):
        target = getattr(keras.layers, alias).__name__
        assert getattr(layers, alias) is getattr(layers, target), alias
