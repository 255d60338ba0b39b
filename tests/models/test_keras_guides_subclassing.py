"""The rest of the Keras guide "Making new layers and models via subclassing": layer configs,
the privileged training argument, add_loss losses in fit (with and without a compiled loss),
and the end-to-end variational autoencoder, trained by a custom loop and by fit; run with
Keras 3 and `import tinydl as keras` on the same data and weights (the guide's random
sampling replaced by fixed NumPy draws, so both see the same numbers).
"""

from __future__ import annotations

import numpy as np

import tinydl
from keras_oracle import import_keras
from guide_steps import _apply, _close, _gradients

RNG = np.random.default_rng(3)
X = RNG.random((64, 20)).astype("float32")
EPSILON = RNG.standard_normal((64, 4)).astype("float32")  # the Sampling layer's draws


def layer_guide(keras, weights):
    layers, ops = keras.layers, keras.ops

    class Linear(layers.Layer):
        def __init__(self, units=32, **kwargs):
            super().__init__(**kwargs)
            self.units = units

        def build(self, input_shape):
            self.w = self.add_weight(shape=(input_shape[-1], self.units),
                                     initializer="random_normal", trainable=True)
            self.b = self.add_weight(shape=(self.units,), initializer="random_normal",
                                     trainable=True)

        def call(self, inputs):
            return ops.matmul(inputs, self.w) + self.b

        def get_config(self):
            config = super().get_config()
            config.update({"units": self.units})
            return config

    class CustomDropout(layers.Layer):
        def __init__(self, rate, **kwargs):
            super().__init__(**kwargs)
            self.rate = rate

        def call(self, inputs, training=False):
            if training:
                return inputs * 0.0  # the guide drops at random; all of it here, to see it
            return inputs

    class ActivityRegularizationLayer(layers.Layer):
        def __init__(self, rate=1e-2):
            super().__init__()
            self.rate = rate

        def call(self, inputs):
            self.add_loss(self.rate * ops.mean(inputs))
            return inputs

    layer = Linear(64, name="linear")
    config = layer.get_config()
    new_layer = Linear.from_config(config)
    dropout = CustomDropout(0.5)
    ones = np.ones((2, 3), "float32")
    inputs = keras.Input(shape=(3,))
    outputs = layers.Dense(3)(ActivityRegularizationLayer()(inputs))
    model = keras.Model(inputs, outputs)
    if weights is not None:
        model.set_weights(weights)
    start = model.get_weights()
    x, y = X[:8, :3], X[8:16, :3]
    model.compile(optimizer="adam", loss="mse")
    with_loss = model.fit(x, y, batch_size=4, shuffle=False, verbose=0).history
    inputs = keras.Input(shape=(3,))  # the guide's model with no weights: only add_loss
    model_2 = keras.Model(inputs, ActivityRegularizationLayer()(inputs))
    model_2.compile(optimizer="adam")
    only_add_loss = model_2.fit(x, y, batch_size=4, shuffle=False, verbose=0).history
    return {"weights": start, "config": {k: config[k] for k in ("name", "trainable", "units")},
            "new_units": new_layer.units, "training": np.asarray(dropout(ones, training=True)),
            "inference": np.asarray(dropout(ones)), "with_loss": with_loss,
            "only_add_loss": only_add_loss, "final": model.get_weights()}


def test_layer_guide_matches_keras():
    keras = import_keras()
    theirs = layer_guide(keras, None)
    ours = layer_guide(tinydl, theirs["weights"])
    assert ours["config"] == theirs["config"] and ours["new_units"] == theirs["new_units"] == 64
    np.testing.assert_array_equal(ours["training"], theirs["training"])
    np.testing.assert_array_equal(ours["inference"], theirs["inference"])
    for key in ("with_loss", "only_add_loss"):
        assert sorted(ours[key]) == sorted(theirs[key]) == ["loss"]
        _close(ours[key]["loss"], theirs[key]["loss"], rtol=1e-5)
    for a, b in zip(ours["final"], theirs["final"]):
        _close(a, b, rtol=1e-5, atol=1e-6)


def vae_guide(keras, weights):
    layers, ops = keras.layers, keras.ops

    class Sampling(layers.Layer):
        def call(self, inputs):
            z_mean, z_log_var = inputs
            epsilon = EPSILON[:ops.shape(z_mean)[0]]  # the same draws at every call
            return z_mean + ops.exp(0.5 * z_log_var) * epsilon

    class Encoder(layers.Layer):
        def __init__(self, latent_dim=32, intermediate_dim=64, name="encoder", **kwargs):
            super().__init__(name=name, **kwargs)
            self.dense_proj = layers.Dense(intermediate_dim, activation="relu")
            self.dense_mean = layers.Dense(latent_dim)
            self.dense_log_var = layers.Dense(latent_dim)
            self.sampling = Sampling()

        def call(self, inputs):
            x = self.dense_proj(inputs)
            z_mean = self.dense_mean(x)
            z_log_var = self.dense_log_var(x)
            return z_mean, z_log_var, self.sampling((z_mean, z_log_var))

    class Decoder(layers.Layer):
        def __init__(self, original_dim, intermediate_dim=64, name="decoder", **kwargs):
            super().__init__(name=name, **kwargs)
            self.dense_proj = layers.Dense(intermediate_dim, activation="relu")
            self.dense_output = layers.Dense(original_dim, activation="sigmoid")

        def call(self, inputs):
            return self.dense_output(self.dense_proj(inputs))

    class VariationalAutoEncoder(keras.Model):
        def __init__(self, original_dim, intermediate_dim=64, latent_dim=32,
                     name="autoencoder", **kwargs):
            super().__init__(name=name, **kwargs)
            self.original_dim = original_dim
            self.encoder = Encoder(latent_dim=latent_dim, intermediate_dim=intermediate_dim)
            self.decoder = Decoder(original_dim, intermediate_dim=intermediate_dim)

        def call(self, inputs):
            z_mean, z_log_var, z = self.encoder(inputs)
            reconstructed = self.decoder(z)
            kl_loss = -0.5 * ops.mean(z_log_var - ops.square(z_mean) - ops.exp(z_log_var) + 1)
            self.add_loss(kl_loss)
            return reconstructed

    shared = [] if weights is None else [weights]

    def make():  # every VAE of the guide starts from the first one's weights
        vae = VariationalAutoEncoder(20, 16, 4)
        vae(X[:2])
        if shared:
            vae.set_weights(shared[0])
        shared.append(vae.get_weights())
        return vae

    vae, losses = make(), []
    start = vae.get_weights()
    optimizer = keras.optimizers.Adam(learning_rate=1e-3)
    mse_loss_fn = keras.losses.MeanSquaredError()
    loss_metric = keras.metrics.Mean()
    for _ in range(2):
        for step in range(0, len(X), 16):
            batch = X[step:step + 16]

            def compute_loss(batch=batch):
                reconstructed = vae(batch)
                return mse_loss_fn(batch, reconstructed) + sum(vae.losses)

            loss, grads = _gradients(keras, vae, compute_loss, list(vae.trainable_weights))
            _apply(keras, optimizer, grads, list(vae.trainable_weights))
            loss_metric.update_state(loss)
            losses.append(float(np.asarray(loss_metric.result())))
    looped = vae.get_weights()
    vae = make()
    vae.compile(keras.optimizers.Adam(learning_rate=1e-3), loss=keras.losses.MeanSquaredError())
    history = vae.fit(X, X, epochs=2, batch_size=16, shuffle=False, verbose=0).history
    return {"weights": start, "losses": losses, "looped": looped, "history": history,
            "fitted": vae.get_weights(), "paths": [w.path for w in vae.weights]}


def _without_counts(path: str) -> list:
    return [part.rsplit("_", 1)[0] if part.rsplit("_", 1)[-1].isdigit() else part
            for part in path.split("/")]


def test_vae_guide_runs_on_tinydl():
    result = vae_guide(tinydl, None)
    assert len(result["losses"]) == 8 and np.isfinite(result["losses"]).all()
    assert len(result["history"]["loss"]) == 2
    assert all(not np.array_equal(a, b) for a, b in zip(result["looped"], result["weights"]))


def test_vae_guide_matches_keras():
    keras = import_keras()
    theirs = vae_guide(keras, None)
    ours = vae_guide(tinydl, theirs["weights"])
    _close(ours["losses"][:1], theirs["losses"][:1], rtol=1e-6)  # one step: exact
    _close(ours["losses"], theirs["losses"])
    _close(ours["history"]["loss"], theirs["history"]["loss"])
    assert [_without_counts(p) for p in ours["paths"]] == [_without_counts(p)
                                                           for p in theirs["paths"]]
    for a, b in zip(ours["looped"] + ours["fitted"], theirs["looped"] + theirs["fitted"]):
        _close(a, b, rtol=1e-3, atol=1e-4)


def test_summary_of_an_unbuilt_model_lists_its_layers_as_keras():
    keras = import_keras()
    texts = {}
    for k in (keras, tinydl):
        model = k.Sequential([k.layers.Dense(2, name="first"), k.layers.Dense(3, name="second")])
        lines: list = []
        model.summary(print_fn=lambda line, *args, out=lines, **kwargs: out.append(line))
        texts[k] = "\n".join(lines)
    for text in texts.values():
        assert text.count("0 (unbuilt)") == 2 and "first (Dense)" in text
        assert "Total params: 0 (0.00 B)" in text
