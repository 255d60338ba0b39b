"""The four models the Keras file tests trade with Keras, built by one function for any of
Keras 3, TF 2's Keras 2 (tf_keras) and tinydl (their APIs agree), with their data."""

from __future__ import annotations

import numpy as np


def seed_cnn(k):
    """The seed program's CNN: Conv2D, MaxPooling2D, Flatten, Dense (Adam, crossentropy)."""
    model = k.Sequential([k.Input((8, 8, 1)), k.layers.Conv2D(4, 3, activation="relu"),
                          k.layers.MaxPooling2D(), k.layers.Flatten(),
                          k.layers.Dense(3, activation="softmax")])
    model.compile(optimizer=k.optimizers.Adam(0.01), loss="categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def batchnorm_dropout(k):
    """Dense, BatchNormalization, Dropout, Dense (SGD with momentum, mse)."""
    model = k.Sequential([k.Input((6,)), k.layers.Dense(8, activation="relu"),
                          k.layers.BatchNormalization(), k.layers.Dropout(0.25),
                          k.layers.Dense(2)])
    model.compile(optimizer=k.optimizers.SGD(0.05, momentum=0.9), loss="mse")
    return model


def residual(k):
    """A functional model with a skip connection (Add) (RMSprop, mse)."""
    x = k.Input((6,), name="features")
    h = k.layers.Dense(6, activation="tanh", name="inner")(x)
    y = k.layers.Dense(2, name="head")(k.layers.Add(name="skip")([x, h]))
    model = k.Model(x, y, name="residual")
    model.compile(optimizer=k.optimizers.RMSprop(0.01), loss="mse")
    return model


def lstm(k):
    """An LSTM over sequences of 5 steps, then Dense (Adam, mse)."""
    model = k.Sequential([k.Input((5, 3)), k.layers.LSTM(4), k.layers.Dense(1)])
    model.compile(optimizer=k.optimizers.Adam(0.01), loss="mse")
    return model


MODELS = {"seed_cnn": seed_cnn, "batchnorm_dropout": batchnorm_dropout, "residual": residual,
          "lstm": lstm}
DROPOUT = {"batchnorm_dropout"}  # a training step draws random masks: no step-exact resume


def data(name: str, n: int = 8):
    """(x, y) float32 for the model called name."""
    rng = np.random.default_rng(3)
    if name == "seed_cnn":
        x = rng.random((n, 8, 8, 1)).astype(np.float32)
        return x, np.eye(3, dtype=np.float32)[np.arange(n) % 3]
    if name == "lstm":
        return rng.standard_normal((n, 5, 3)).astype(np.float32), \
            rng.standard_normal((n, 1)).astype(np.float32)
    return rng.standard_normal((n, 6)).astype(np.float32), \
        rng.standard_normal((n, 2)).astype(np.float32)
