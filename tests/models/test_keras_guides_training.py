"""The Keras guides "Writing your own callbacks" and "Customizing what happens in fit()" (the
eager / PyTorch flavour: train_step with compute_loss and optimizer.apply, a custom test_step,
the GAN), each written once as `program(keras)` and run with Keras 3 and `import tinydl as
keras` on the same data and starting weights; logs, histories and weights are compared.

The guides' random draws (MNIST, keras.random in the GAN) are replaced by fixed NumPy data, so
both frameworks see the same numbers. Gradients: tinydl's step is the guide's PyTorch one
(zero_grad, loss.backward(), v.value.grad, no_grad); Keras on TensorFlow takes them from a
GradientTape, which is the same computation.
"""

from __future__ import annotations

import numpy as np
import pytest

import tinydl
from guide_steps import _apply, _close, _gradients
from keras_oracle import import_keras


def _regression_data(n=96, features=16, seed=0):
    rng = np.random.default_rng(seed)
    return rng.random((n, features)).astype("float32"), rng.random((n, 1)).astype("float32")


def _copy_weights(source, target):
    target.set_weights([np.asarray(w) for w in source.get_weights()])


def _run_both(program, *args):
    keras = import_keras()
    theirs = program(keras, None, *args)
    ours = program(tinydl, theirs["weights"], *args)
    return theirs, ours


# ----------------------------------------------------------------------------- callbacks

def callbacks_guide(keras, weights):
    x, y = _regression_data(160, 32)
    y = (y * 10).round()
    events, shared = [], [] if weights is None else [weights]

    def get_model():
        model = keras.Sequential()
        model.add(keras.layers.Dense(1, input_dim=32))
        model.compile(optimizer=keras.optimizers.RMSprop(learning_rate=0.1),
                      loss="mean_squared_error", metrics=["mean_absolute_error"])
        if shared:  # every model of the guide starts from the first one's weights
            model.set_weights(shared[0])
        shared.append(model.get_weights())
        return model

    class CustomCallback(keras.callbacks.Callback):
        def _log(self, event, logs):
            events.append((event, sorted(logs.keys())))

    for method in ("train_begin", "train_end", "test_begin", "test_end", "predict_begin",
                   "predict_end"):
        setattr(CustomCallback, f"on_{method}", lambda self, logs=None, m=method: self._log(m, logs))
    for method in ("epoch_begin", "epoch_end", "train_batch_begin", "train_batch_end",
                   "test_batch_begin", "test_batch_end", "predict_batch_begin",
                   "predict_batch_end"):
        setattr(CustomCallback, f"on_{method}",
                lambda self, i, logs=None, m=method: self._log(f"{m} {i}", logs))

    class LossAndErrorPrintingCallback(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.lines = []

        def on_train_batch_end(self, batch, logs=None):
            self.lines.append(("train", batch, logs["loss"]))

        def on_test_batch_end(self, batch, logs=None):
            self.lines.append(("test", batch, logs["loss"]))

        def on_epoch_end(self, epoch, logs=None):
            self.lines.append(("epoch", epoch, logs["loss"], logs["mean_absolute_error"]))

    class EarlyStoppingAtMinLoss(keras.callbacks.Callback):
        def __init__(self, patience=0):
            super().__init__()
            self.patience, self.best_weights = patience, None

        def on_train_begin(self, logs=None):
            self.wait, self.stopped_epoch, self.best = 0, 0, np.inf

        def on_epoch_end(self, epoch, logs=None):
            current = logs.get("loss")
            if np.less(current, self.best):
                self.best, self.wait = current, 0
                self.best_weights = self.model.get_weights()
            else:
                self.wait += 1
                if self.wait >= self.patience:
                    self.stopped_epoch = epoch
                    self.model.stop_training = True
                    self.model.set_weights(self.best_weights)

    class CustomLearningRateScheduler(keras.callbacks.Callback):
        def __init__(self, schedule):
            super().__init__()
            self.schedule, self.rates = schedule, []

        def on_epoch_begin(self, epoch, logs=None):
            lr = float(np.array(self.model.optimizer.learning_rate))
            scheduled_lr = self.schedule(epoch, lr)
            self.model.optimizer.learning_rate = scheduled_lr
            self.rates.append(scheduled_lr)

    schedule = [(3, 0.05), (6, 0.01), (9, 0.005), (12, 0.001)]

    def lr_schedule(epoch, lr):
        return dict(schedule).get(epoch, lr)

    model = get_model()
    start = model.get_weights()
    model.fit(x, y, batch_size=64, epochs=1, verbose=0, shuffle=False,
              callbacks=[CustomCallback()])
    model.evaluate(x, y, batch_size=64, verbose=0, callbacks=[CustomCallback()])
    model.predict(x, batch_size=64, verbose=0, callbacks=[CustomCallback()])

    printing = LossAndErrorPrintingCallback()
    model = get_model()
    model.fit(x, y, batch_size=64, epochs=2, verbose=0, shuffle=False, callbacks=[printing])
    model.evaluate(x, y, batch_size=64, verbose=0, callbacks=[printing])

    stopping, printing_2 = EarlyStoppingAtMinLoss(), LossAndErrorPrintingCallback()
    model = get_model()
    history = model.fit(x, y, batch_size=32, steps_per_epoch=5, epochs=30, verbose=0,
                        shuffle=False, callbacks=[printing_2, stopping])

    scheduler = CustomLearningRateScheduler(lr_schedule)
    model = get_model()
    scheduled = model.fit(x, y, batch_size=32, steps_per_epoch=5, epochs=15, verbose=0,
                          shuffle=False, callbacks=[scheduler])
    return {"weights": start, "events": events, "printing": printing.lines,
            "stopped": (stopping.stopped_epoch, len(history.history["loss"])),
            "early_losses": history.history["loss"], "rates": scheduler.rates,
            "scheduled_losses": scheduled.history["loss"], "final": model.get_weights()}


def test_callbacks_guide_runs_on_tinydl():
    result = callbacks_guide(tinydl, None)
    assert result["events"][0] == ("train_begin", [])
    assert result["rates"][3] == 0.05 and result["rates"][12] == 0.001


def test_callbacks_guide_matches_keras():
    theirs, ours = _run_both(callbacks_guide)
    assert ours["events"] == theirs["events"]
    assert [line[:2] for line in ours["printing"]] == [line[:2] for line in theirs["printing"]]
    _close([v for line in ours["printing"] for v in line[2:]],
           [v for line in theirs["printing"] for v in line[2:]])
    assert ours["stopped"] == theirs["stopped"]
    _close(ours["early_losses"], theirs["early_losses"])
    _close(ours["rates"], theirs["rates"], rtol=1e-6)
    _close(ours["scheduled_losses"], theirs["scheduled_losses"])
    for a, b in zip(ours["final"], theirs["final"]):
        _close(a, b)


# ----------------------------------------------------------------------------- train_step

def custom_fit_guide(keras, weights):
    x, y = _regression_data()

    class CustomModel(keras.Model):
        def train_step(self, data):
            x, y = data
            y_pred = None

            def loss_fn():
                nonlocal y_pred
                y_pred = self(x, training=True)
                return self.compute_loss(y=y, y_pred=y_pred)

            loss, gradients = _gradients(keras, self, loss_fn, list(self.trainable_weights))
            _apply(keras, self.optimizer, gradients, list(self.trainable_weights))
            for metric in self.metrics:
                if metric.name == "loss":
                    metric.update_state(loss)
                else:
                    metric.update_state(y, y_pred)
            return {m.name: m.result() for m in self.metrics}

    class LowerLevelModel(keras.Model):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.loss_tracker = keras.metrics.Mean(name="loss")
            self.mae_metric = keras.metrics.MeanAbsoluteError(name="mae")
            self.loss_fn = keras.losses.MeanSquaredError()

        def train_step(self, data):
            x, y = data
            y_pred = None

            def loss_fn():
                nonlocal y_pred
                y_pred = self(x, training=True)
                return self.loss_fn(y, y_pred)

            loss, gradients = _gradients(keras, self, loss_fn, list(self.trainable_weights))
            _apply(keras, self.optimizer, gradients, list(self.trainable_weights))
            self.loss_tracker.update_state(loss)
            self.mae_metric.update_state(y, y_pred)
            return {"loss": self.loss_tracker.result(), "mae": self.mae_metric.result()}

        @property
        def metrics(self):
            return [self.loss_tracker, self.mae_metric]

    class EvalModel(keras.Model):
        def test_step(self, data):
            x, y = data
            y_pred = self(x, training=False)
            loss = self.compute_loss(y=y, y_pred=y_pred)
            for metric in self.metrics:
                if metric.name == "loss":
                    metric.update_state(loss)
                else:
                    metric.update_state(y, y_pred)
            return {m.name: m.result() for m in self.metrics}

    results = {}
    for name, cls, compile_args, epochs in (
            ("simple", CustomModel, {"loss": "mse", "metrics": ["mae"]}, 3),
            ("lower_level", LowerLevelModel, {}, 5)):
        inputs = keras.Input(shape=(16,))
        model = cls(inputs, keras.layers.Dense(1)(inputs))
        if weights is not None:
            model.set_weights(weights[name])
        start = model.get_weights()
        model.compile(optimizer="adam", **compile_args)
        history = model.fit(x, y, epochs=epochs, batch_size=32, shuffle=False, verbose=0)
        results[name] = {"start": start, "history": history.history,
                         "final": model.get_weights()}
    inputs = keras.Input(shape=(16,))
    model = EvalModel(inputs, keras.layers.Dense(1)(inputs))
    if weights is not None:
        model.set_weights(weights["eval"])
    results["eval"] = {"start": model.get_weights()}
    model.compile(loss="mse", metrics=["mae"])
    results["eval"]["scores"] = model.evaluate(x, y, batch_size=32, verbose=0)
    return {"weights": {k: v["start"] for k, v in results.items()}, **results}


def test_custom_fit_guide_runs_on_tinydl():
    result = custom_fit_guide(tinydl, None)
    assert sorted(result["simple"]["history"]) == ["loss", "mae"]
    assert len(result["lower_level"]["history"]["loss"]) == 5
    assert all(not np.array_equal(a, b) for a, b in zip(result["lower_level"]["final"],
                                                         result["lower_level"]["start"]))


def test_custom_fit_guide_matches_keras():
    theirs, ours = _run_both(custom_fit_guide)
    for name in ("simple", "lower_level"):
        assert sorted(ours[name]["history"]) == sorted(theirs[name]["history"])
        for key, values in theirs[name]["history"].items():
            _close(ours[name]["history"][key], values)
        for a, b in zip(ours[name]["final"], theirs[name]["final"]):
            _close(a, b)
    _close(ours["eval"]["scores"], theirs["eval"]["scores"], rtol=1e-5)


# ----------------------------------------------------------------------------- the GAN

def gan_guide(keras, weights, steps=3):
    layers, ops = keras.layers, keras.ops
    latent_dim, batch = 8, 4
    rng = np.random.default_rng(7)
    noise = [rng.standard_normal((batch, latent_dim)).astype("float32") for _ in range(2 * steps)]
    label_noise = [rng.random((2 * batch, 1)).astype("float32") for _ in range(steps)]
    images = rng.random((batch * steps, 8, 8, 1)).astype("float32")

    discriminator = keras.Sequential([
        keras.Input(shape=(8, 8, 1)),
        layers.Conv2D(8, (3, 3), strides=(2, 2), padding="same"),
        layers.LeakyReLU(negative_slope=0.2),
        layers.Conv2D(16, (3, 3), strides=(2, 2), padding="same"),
        layers.LeakyReLU(negative_slope=0.2),
        layers.GlobalMaxPooling2D(),
        layers.Dense(1),
    ], name="discriminator")
    generator = keras.Sequential([
        keras.Input(shape=(latent_dim,)),
        layers.Dense(2 * 2 * 16),
        layers.LeakyReLU(negative_slope=0.2),
        layers.Reshape((2, 2, 16)),
        layers.Conv2DTranspose(16, (4, 4), strides=(2, 2), padding="same"),
        layers.LeakyReLU(negative_slope=0.2),
        layers.Conv2DTranspose(16, (4, 4), strides=(2, 2), padding="same"),
        layers.LeakyReLU(negative_slope=0.2),
        layers.Conv2D(1, (7, 7), padding="same", activation="sigmoid"),
    ], name="generator")
    if weights is not None:
        discriminator.set_weights(weights["discriminator"])
        generator.set_weights(weights["generator"])
    start = {"discriminator": discriminator.get_weights(), "generator": generator.get_weights()}

    class GAN(keras.Model):
        def __init__(self, discriminator, generator, latent_dim):
            super().__init__()
            self.discriminator, self.generator = discriminator, generator
            self.latent_dim = latent_dim
            self.d_loss_tracker = keras.metrics.Mean(name="d_loss")
            self.g_loss_tracker = keras.metrics.Mean(name="g_loss")
            self.step = 0
            self.built = True

        @property
        def metrics(self):
            return [self.d_loss_tracker, self.g_loss_tracker]

        def compile(self, d_optimizer, g_optimizer, loss_fn):
            super().compile()
            self.d_optimizer, self.g_optimizer, self.loss_fn = d_optimizer, g_optimizer, loss_fn

        def train_step(self, real_images):
            if isinstance(real_images, tuple):
                real_images = real_images[0]
            step, self.step = self.step, self.step + 1
            batch_size = real_images.shape[0]
            generated_images = self.generator(noise[2 * step])
            combined_images = ops.concatenate([generated_images, real_images], axis=0)
            labels = ops.concatenate([ops.ones((batch_size, 1)), ops.zeros((batch_size, 1))],
                                     axis=0)
            labels = labels + 0.05 * label_noise[step]
            d_weights = list(self.discriminator.trainable_weights)
            d_loss, grads = _gradients(keras, self, lambda: self.loss_fn(
                labels, self.discriminator(combined_images)), d_weights)
            _apply(keras, self.d_optimizer, grads, d_weights)
            misleading_labels = ops.zeros((batch_size, 1))
            g_weights = list(self.generator.trainable_weights)
            g_loss, grads = _gradients(keras, self, lambda: self.loss_fn(
                misleading_labels, self.discriminator(self.generator(noise[2 * step + 1]))),
                g_weights)
            _apply(keras, self.g_optimizer, grads, g_weights)
            self.d_loss_tracker.update_state(d_loss)
            self.g_loss_tracker.update_state(g_loss)
            return {"d_loss": self.d_loss_tracker.result(),
                    "g_loss": self.g_loss_tracker.result()}

    gan = GAN(discriminator=discriminator, generator=generator, latent_dim=latent_dim)
    gan.compile(d_optimizer=keras.optimizers.Adam(learning_rate=0.0003),
                g_optimizer=keras.optimizers.Adam(learning_rate=0.0003),
                loss_fn=keras.losses.BinaryCrossentropy(from_logits=True))
    gan.run_eagerly = True  # Keras: train_step's Python step counter runs at every step
    history = gan.fit(images, epochs=1, batch_size=batch, shuffle=False, verbose=0)
    return {"weights": start, "history": history.history,
            "discriminator": discriminator.get_weights(), "generator": generator.get_weights()}


def test_gan_guide_runs_on_tinydl():
    result = gan_guide(tinydl, None)
    assert sorted(result["history"]) == ["d_loss", "g_loss"]


@pytest.mark.parametrize("steps", [1, 3])
def test_gan_guide_matches_keras(steps):
    theirs, ours = _run_both(gan_guide, steps)
    tolerance = {"rtol": 1e-5, "atol": 1e-6} if steps == 1 else {"rtol": 1e-3, "atol": 1e-5}
    for key in ("d_loss", "g_loss"):
        _close(ours["history"][key], theirs["history"][key], **tolerance)
    for part in ("discriminator", "generator"):
        for a, b in zip(ours[part], theirs[part]):
            _close(a, b, **tolerance)
