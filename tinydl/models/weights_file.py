"""save_weights / load_weights: the model's weight arrays in one .npz file, written atomically.

The file holds 'weight_0000', 'weight_0001', ... in the order of model.weights (each layer's
trainable then non-trainable weights, layer by layer) and 'names' ('layer/weight' strings, for
reading only). It is written to a temporary file in the same folder and then renamed over the
target, so a crash never leaves half a file; it is read with allow_pickle=False, so loading a
file cannot run code.
"""

from __future__ import annotations

import os
import tempfile

import numpy as np


def _weight_names(model) -> list:
    return [f"{layer.name}/{w.name}" for layer in model.layers for w in layer.weights]


def save_weights(model, filepath) -> None:
    """Write all of model's weights to filepath (any extension; the format is .npz)."""
    filepath = os.fspath(filepath)
    if not model.built:
        raise ValueError(f"save_weights: model '{model.name}' has no weights yet; build it first "
                         "(model.build(input_shape), or fit / call it on data)")
    arrays = {f"weight_{i:04d}": w.data for i, w in enumerate(model.weights)}
    arrays["names"] = np.array(_weight_names(model), dtype=str)
    folder = os.path.dirname(os.path.abspath(filepath))
    fd, temporary = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=".npz")
    try:
        with os.fdopen(fd, "wb") as stream:
            np.savez(stream, **arrays)
        os.replace(temporary, filepath)
    except BaseException:
        if os.path.exists(temporary):
            os.remove(temporary)
        raise


def load_weights(model, filepath) -> None:
    """Set model's weights from a file written by save_weights; nothing changes on error.

    Raises:
        ValueError: the model is not built, or the file's number or shapes of arrays differ
            from the model's (the message names the first mismatching weight).
    """
    filepath = os.fspath(filepath)
    if not model.built:
        raise ValueError(f"load_weights: build model '{model.name}' first (model.build(input_shape)) "
                         "so that it has weights to load into")
    with np.load(filepath, allow_pickle=False) as data:
        keys = sorted(k for k in data.files if k.startswith("weight_"))
        arrays = [data[k] for k in keys]
    weights, names = model.weights, _weight_names(model)
    if len(arrays) != len(weights):
        raise ValueError(f"load_weights: '{filepath}' holds {len(arrays)} weight arrays, but model "
                         f"'{model.name}' has {len(weights)} ({names})")
    for name, w, array in zip(names, weights, arrays):
        if array.shape != w.shape:
            raise ValueError(f"load_weights: weight '{name}' has shape {w.shape}, but the file "
                             f"holds shape {array.shape} for it")
    for w, array in zip(weights, arrays):
        w.assign(array)
