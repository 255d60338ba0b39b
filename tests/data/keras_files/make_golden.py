"""Write the golden Keras files tests/saving/test_keras_files_golden.py reads without TensorFlow.

Run from the repository root with Keras 3 on TensorFlow and tf_keras installed:

    python tests/data/keras_files/make_golden.py

Each model is trained for two steps on fixed data, then saved; expected.npz holds, per file,
the input batch and Keras' own predictions on it (the truth the readers are checked
against), and the optimizer's step count. Models are kept tiny (the set stays ~100 KB).
"""

from __future__ import annotations

import os
import sys

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "saving"))

import keras  # noqa: E402
import numpy as np  # noqa: E402
from keras_file_models import MODELS, data  # noqa: E402


@keras.saving.register_keras_serializable(package="Golden")
class Scale(keras.layers.Layer):
    """y = x * factor, a user layer with a config (tests load it through the registry)."""

    def __init__(self, factor=2.0, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor

    def call(self, x):
        return x * self.factor

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


def _custom(k):
    model = k.Sequential([k.Input((6,)), k.layers.Dense(2), Scale(3.0)])
    model.compile(optimizer="adam", loss="mse")
    return model


def _lambda(k):
    model = k.Sequential([k.Input((6,)), k.layers.Dense(2), k.layers.Lambda(lambda x: x * 2)])
    model.compile(optimizer="adam", loss="mse")
    return model


# (file, who writes it, model): the Sequential models in Keras 3's '.keras', the functional
# one and the LSTM by the legacy '.h5' writers (the set stays near 200 KB).
GOLDEN = [("seed_cnn.keras", "keras", "seed_cnn"), ("batchnorm_dropout.keras", "keras",
                                                   "batchnorm_dropout"),
          ("lstm.keras", "keras", "lstm"),
          ("residual.h5", "keras", "residual"), ("residual_keras2.h5", "tf_keras", "residual"),
          ("lstm_keras2.h5", "tf_keras", "lstm")]


def _save(model, name: str, x, expected: dict, train_data=None) -> None:
    if train_data is not None:
        model.fit(*train_data, batch_size=4, epochs=1, shuffle=False, verbose=0)
    model.save(os.path.join(HERE, name))
    expected[f"{name}:x"] = x
    expected[f"{name}:y"] = np.asarray(model.predict(x, verbose=0))
    expected[f"{name}:iterations"] = np.asarray(int(np.asarray(model.optimizer.iterations)))


def main() -> None:
    import tf_keras
    expected = {}
    for file_name, lib, name in GOLDEN:
        lib = {"keras": keras, "tf_keras": tf_keras}[lib]
        lib.utils.set_random_seed(0)
        x, y = data(name)
        _save(MODELS[name](lib), file_name, x, expected, (x, y))
    keras.utils.set_random_seed(0)
    x, y = data("residual")
    _save(_custom(keras), "custom_layer.keras", x, expected, (x, y))
    _save(_lambda(keras), "lambda.keras", x, expected)
    np.savez(os.path.join(HERE, "expected.npz"), **expected)


if __name__ == "__main__":
    main()
