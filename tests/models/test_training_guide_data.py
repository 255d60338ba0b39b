"""The data-source parts of Keras' guide "Training & evaluation with the built-in methods" (sample
weights, class weights, tf.data Datasets, PyDataset, validation on datasets), written once as
`program(keras)` and run with Keras 3 and with `import tinydl as keras` on the same data and
initial weights. The guide's MNIST is replaced by small random data, and its Dataset.shuffle by
none, so that both runs see the same batches."""

from __future__ import annotations

import os
import warnings

import numpy as np
import pytest

import tinydl

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

RNG = np.random.default_rng(5)
X_TRAIN = RNG.random((320, 32)).astype("float32")
Y_TRAIN = RNG.integers(0, 10, 320)
X_VAL, Y_VAL = X_TRAIN[-64:], Y_TRAIN[-64:]
X_TRAIN, Y_TRAIN = X_TRAIN[:-64], Y_TRAIN[:-64]


def compiled_model(keras, weights):
    inputs = keras.Input(shape=(32,), name="digits")
    x = keras.layers.Dense(16, activation="relu", name="dense_1")(inputs)
    x = keras.layers.Dense(16, activation="relu", name="dense_2")(x)
    outputs = keras.layers.Dense(10, activation="softmax", name="predictions")(x)
    model = keras.Model(inputs=inputs, outputs=outputs)
    model.set_weights(weights)
    model.compile(optimizer=keras.optimizers.RMSprop(learning_rate=1e-3),
                  loss="sparse_categorical_crossentropy",
                  metrics=["sparse_categorical_accuracy"])
    return model


def program(keras, tf, weights) -> dict:
    """The guide's steps; every history and evaluation, by name."""
    out = {}
    # Sample weights and class weights with NumPy data
    class_weight = {i: 1.0 for i in range(10)}
    class_weight[5] = 2.0
    model = compiled_model(keras, weights)
    out["class_weight"] = model.fit(X_TRAIN, Y_TRAIN, class_weight=class_weight, batch_size=64,
                                    epochs=1, shuffle=False, verbose=0).history
    sample_weight = np.ones(shape=(len(Y_TRAIN),))
    sample_weight[Y_TRAIN == 5] = 2.0
    model = compiled_model(keras, weights)
    out["sample_weight"] = model.fit(X_TRAIN, Y_TRAIN, sample_weight=sample_weight,
                                     batch_size=64, epochs=1, shuffle=False, verbose=0).history

    # Training and evaluation from tf.data Datasets
    train_dataset = tf.data.Dataset.from_tensor_slices((X_TRAIN, Y_TRAIN)).batch(64)
    test_dataset = tf.data.Dataset.from_tensor_slices((X_VAL, Y_VAL)).batch(64)
    model = compiled_model(keras, weights)
    out["dataset"] = model.fit(train_dataset, epochs=3, verbose=0).history
    out["dataset_evaluate"] = model.evaluate(test_dataset, return_dict=True, verbose=0)
    model = compiled_model(keras, weights)
    out["steps_per_epoch"] = model.fit(train_dataset.repeat(), epochs=3, steps_per_epoch=3,
                                       verbose=0).history
    val_dataset = tf.data.Dataset.from_tensor_slices((X_VAL, Y_VAL)).batch(32)
    model = compiled_model(keras, weights)
    out["validation_dataset"] = model.fit(train_dataset, epochs=2, validation_data=val_dataset,
                                          validation_steps=1, verbose=0).history
    weighted = tf.data.Dataset.from_tensor_slices((X_TRAIN, Y_TRAIN, sample_weight)).batch(64)
    model = compiled_model(keras, weights)
    out["dataset_sample_weight"] = model.fit(weighted, epochs=1, verbose=0).history

    # Using a PyDataset instance
    class ExamplePyDataset(keras.utils.PyDataset):
        def __init__(self, x, y, batch_size, **kwargs):
            super().__init__(**kwargs)
            self.x, self.y, self.batch_size = x, y, batch_size

        def __len__(self):
            return int(np.ceil(len(self.x) / float(self.batch_size)))

        def __getitem__(self, idx):
            batch_x = self.x[idx * self.batch_size:(idx + 1) * self.batch_size]
            batch_y = self.y[idx * self.batch_size:(idx + 1) * self.batch_size]
            return batch_x, batch_y

    model = compiled_model(keras, weights)
    out["py_dataset"] = model.fit(ExamplePyDataset(X_TRAIN, Y_TRAIN, batch_size=32),
                                  validation_data=ExamplePyDataset(X_VAL, Y_VAL, batch_size=32),
                                  epochs=2, shuffle=False, verbose=0).history
    return out


def test_the_guides_data_sources_give_keras_results():
    keras = pytest.importorskip("keras", reason="Keras 3 (TensorFlow) is the oracle")
    tf = pytest.importorskip("tensorflow", reason="the Keras oracle runs on TensorFlow")
    rng = np.random.default_rng(0)
    shapes = [(32, 16), (16,), (16, 16), (16,), (16, 10), (10,)]
    weights = [rng.uniform(-0.3, 0.3, s).astype(np.float32) for s in shapes]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs, ours = program(keras, tf, weights), program(tinydl, tf, weights)
    assert sorted(ours) == sorted(theirs)
    for part, expected in theirs.items():
        assert sorted(ours[part]) == sorted(expected), part
        for name, value in expected.items():
            np.testing.assert_allclose(ours[part][name], value, rtol=2e-4, atol=1e-6,
                                       err_msg=f"{part}: {name}")
