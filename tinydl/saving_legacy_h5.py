"""Keras' legacy HDF5 model file ('.h5'), as Keras 3 and TF 2's Keras 2 write and read it.

    attributes of /      model_config (the model's Keras config, JSON), training_config
                         (compile settings, JSON), keras_version, backend;
    /model_weights       attribute layer_names; one group per layer, attribute weight_names
                         naming its datasets inside that group, in the layer's order
                         (trainable weights, then the others);
    /optimizer_weights   attribute weight_names, and those datasets (Keras 3: iteration,
                         learning_rate, then the slots in Keras' order; Keras 2: no
                         learning_rate).

tinydl writes every string as a fixed-length one (nothing in HDF5's unchecksummed global
heap) and adds its integrity data, which Keras ignores: attribute tinydl_sha256 of / (the
SHA-256 of model_config, a NUL byte, training_config) and of every dataset (of its bytes);
tinydl verifies them when present. Keras' own files keep their strings as variable-length
ones, which HDF5 does not checksum: the tree is checked (saving_h5.check_h5_tree) before
any attribute is read, and every string is bounded before it is parsed.
"""

from __future__ import annotations

import hashlib
import io
import json
import warnings

import numpy as np

from tinydl import saving, saving_keras_config, saving_keras_state
from tinydl.saving import invalid

CHECKSUM = "tinydl_sha256"  # of a dataset
DOCUMENT_CHECKSUM = "tinydl_keras_sha256"  # of /: model_config, NUL, training_config


def _h5py():
    return saving._h5py()


def _text(value) -> np.bytes_:
    return np.bytes_(value.encode("utf-8") if isinstance(value, str) else value)


def _names(values: list) -> np.ndarray:
    return np.array([v.encode("utf-8") for v in values], dtype=f"S{max([1] + [len(v.encode()) for v in values])}")


# ----------------------------------------------------------------------------- writing

def _legacy_weights(layer) -> list:
    """A layer's weights in Keras' legacy order: trainable, then non-trainable."""
    return list(layer.trainable_weights) + list(layer.non_trainable_weights)


def _saved_layers(model) -> list:
    from tinydl.models import Sequential
    from tinydl.saving_keras_config import _sequential_layers
    return _sequential_layers(model) if isinstance(model, Sequential) else list(model.layers)


def _write_weights(h5, model) -> None:
    layers = _saved_layers(model)
    h5.attrs["layer_names"] = _names([layer.name for layer in layers])
    h5.attrs["backend"], h5.attrs["keras_version"] = np.bytes_(b"tensorflow"), np.bytes_(b"3.15.1")
    for layer in layers:
        group = h5.create_group(layer.name)
        weights = _legacy_weights(layer)
        names = [f"{layer.name}/{w.name}_{i}" for i, w in enumerate(weights)]
        group.attrs["weight_names"] = _names(names)
        for name, w in zip(names, weights):
            _dataset(group, name, np.asarray(w.data, np.float32))
    h5.create_group("top_level_model_weights").attrs["weight_names"] = _names([])


def _dataset(group, name: str, array: np.ndarray) -> None:
    array = np.asarray(array, order="C")
    dataset = group.create_dataset(name, data=array)
    dataset.attrs[CHECKSUM] = np.bytes_(hashlib.sha256(array.tobytes()).hexdigest())


def _write_optimizer(h5, model) -> None:
    optimizer = getattr(model, "optimizer", None) if getattr(model, "compiled", False) else None
    if optimizer is None or not optimizer.built:
        return
    values = saving_keras_state.state_to_keras(optimizer)
    prefix = optimizer.get_config().get("name", "optimizer")
    names = [f"{prefix}/{i}" for i in range(len(values))]
    group = h5.create_group("optimizer_weights")
    group.attrs["weight_names"] = _names(names)
    for name, value in zip(names, values):
        _dataset(group, name, value)


def save_model(model, path) -> None:
    """Write model as Keras' legacy '.h5' (keras.models.load_model of Keras 3 or 2 reads it),
    with tinydl's own verified document and arrays beside it (tinydl.saving_h5), which is
    what tinydl loads back: the same model, bit for bit. Keras ignores them.

    Args:
        model: a built model.
        path: the file, written atomically.

    Raises:
        ValueError: the model is not built, or cannot be saved in tinydl's own layout.

    Warns:
        UserWarning: a layer has no Keras equivalent; only tinydl's layout is written.

    Example:
        >>> import os, tempfile
        >>> import h5py
        >>> path = os.path.join(tempfile.mkdtemp(), "m.h5")
        >>> save_model(tinydl.Sequential([tinydl.Input((3,)), tinydl.layers.Dense(2)]), path)
        >>> with h5py.File(path, "r") as h5:
        ...     sorted(h5), "model_config" in h5.attrs
        (['arrays', 'model_weights', 'tinydl.json'], True)
    """
    from tinydl import model_io, saving_h5
    model_io._require_built(model, "save")
    document, arrays = model_io.model_document(model)
    h5py = _h5py()
    try:
        buffer = _keras_h5(h5py, model)
    except saving_keras_config.KerasConfigError as exc:
        warnings.warn(f"model.save: Keras will not be able to load '{path}': {exc}; tinydl "
                      "wrote only its own layout", stacklevel=3)
        saving_h5.write(h5py, path, document, arrays)
        return
    with h5py.File(buffer, "a") as h5:
        saving_h5.write_into(h5, document, arrays)
    raw = buffer.getvalue()
    saving.atomic_write(path, lambda f: f.write(raw))


def _keras_h5(h5py, model) -> io.BytesIO:
    """An in-memory HDF5 file of model in Keras' legacy layout."""
    config = json.dumps(saving_keras_config.model_config_to_keras(model, legacy=True))
    training = saving_keras_state.compile_to_keras(model, legacy=True)
    training = json.dumps(training) if training is not None else ""
    digest = hashlib.sha256(config.encode() + b"\0" + training.encode()).hexdigest()
    buffer = io.BytesIO()
    with h5py.File(buffer, "w", libver=("v108", "v108")) as h5:
        h5.attrs["backend"], h5.attrs["keras_version"] = np.bytes_(b"tensorflow"), \
            np.bytes_(b"3.15.1")
        h5.attrs["model_config"] = _text(config)
        if training:
            h5.attrs["training_config"] = _text(training)
        h5.attrs[DOCUMENT_CHECKSUM] = np.bytes_(digest)
        _write_weights(h5.create_group("model_weights"), model)
        _write_optimizer(h5, model)
    return buffer


# ----------------------------------------------------------------------------- reading

def _attribute(h5, name: str, path, default=None):
    """A string attribute (fixed or variable length, or Keras' split name0, name1, ...),
    bounded by MAX_DOCUMENT_BYTES before it is decoded."""
    if name not in h5.attrs:
        parts = []
        while f"{name}{len(parts)}" in h5.attrs:
            parts.append(h5.attrs[f"{name}{len(parts)}"])
        if not parts:
            return default
        return [_decode(v, path, name) for part in parts for v in np.atleast_1d(part)]
    value = h5.attrs[name]
    if isinstance(value, np.ndarray) and value.ndim == 1:
        return [_decode(v, path, name) for v in value]
    return _decode(value, path, name)


def _decode(value, path, name: str):
    if isinstance(value, (bytes, np.bytes_)):
        value = bytes(value)
        if len(value) > saving.MAX_DOCUMENT_BYTES:
            raise saving.too_large(path, f"its attribute {name} has", len(value),
                                   saving.MAX_DOCUMENT_BYTES)
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            raise invalid(path, f"its attribute {name} is not UTF-8 text") from None
    if isinstance(value, str):
        if len(value) > saving.MAX_DOCUMENT_BYTES:
            raise saving.too_large(path, f"its attribute {name} has", len(value),
                                   saving.MAX_DOCUMENT_BYTES)
        return value
    if isinstance(value, (np.floating, float)) or (isinstance(value, np.ndarray) and
                                                   value.size == 0):
        return None
    raise invalid(path, f"its attribute {name} is not text")


class _LegacyFile:
    """An open, checked legacy .h5: its datasets, configs and weight tables."""

    def __init__(self, path, max_bytes: int):
        from tinydl import saving_h5
        self.path, h5py = path, _h5py()
        saving.check_regular_file(path)
        try:
            self.h5 = h5py.File(path, "r")
        except OSError as exc:
            raise invalid(path, f"it is not a readable HDF5 file ({exc})") from None
        try:
            self.datasets = saving_h5.check_h5_tree(h5py, self.h5, path)
            total = sum(d.dtype.itemsize * int(np.prod(d.shape)) for d in self.datasets.values())
            if total > max_bytes:
                raise saving.too_large(path, "its arrays declare", total, max_bytes)
            self.model_config = _attribute(self.h5, "model_config", path)
            self.training_config = _attribute(self.h5, "training_config", path)
            self._check_document()
        except saving.ModelFileError:
            self.h5.close()
            raise
        except (AttributeError, KeyError, OSError, RuntimeError, TypeError, ValueError) as exc:
            self.h5.close()
            raise invalid(path, f"it could not be read as a Keras HDF5 file "
                                f"({type(exc).__name__}: {exc})") from None

    def _check_document(self) -> None:
        if DOCUMENT_CHECKSUM not in self.h5.attrs:
            return
        text = (self.model_config or "").encode() + b"\0" + (self.training_config or "").encode()
        if _decode(self.h5.attrs[DOCUMENT_CHECKSUM], self.path, DOCUMENT_CHECKSUM) != \
                hashlib.sha256(text).hexdigest():
            raise invalid(self.path, "its Keras document (model_config, training_config) is "
                                     "corrupted: its SHA-256 does not match the attribute "
                                     f"'{DOCUMENT_CHECKSUM}'")

    def read(self, name: str) -> np.ndarray:
        dataset = self.datasets.get(name)
        if dataset is None:
            raise invalid(self.path, f"the weight '{name}' its tables name is missing")
        array = np.empty(dataset.shape, dataset.dtype)
        if array.size:
            dataset.read_direct(array)
        if CHECKSUM in dataset.attrs:
            digest = _decode(dataset.attrs[CHECKSUM], self.path, CHECKSUM)
            if digest != hashlib.sha256(array.tobytes()).hexdigest():
                raise invalid(self.path, f"weight '{name}' is corrupted: its SHA-256 does not "
                                         "match")
        return array

    def weight_table(self) -> dict:
        """{layer name: [dataset paths]} of model_weights (or of the root, for save_weights)."""
        root = "model_weights" if "model_weights" in self.h5 else ""
        group = self.h5[root] if root else self.h5
        names = _attribute(group, "layer_names", self.path)
        if not isinstance(names, list):
            raise invalid(self.path, "it has no layer_names: it is not a Keras HDF5 file")
        table = {}
        for name in names:
            if name == "top_level_model_weights" or name not in group:
                continue
            weights = _attribute(group[name], "weight_names", self.path) or []
            table[name] = [f"{root}/{name}/{w}".lstrip("/") for w in weights]
        return table

    def close(self) -> None:
        self.h5.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()


def verify_keras_part(path, limit: int) -> None:
    """Check the Keras document of a tinydl-written '.h5' against its checksum (tinydl loads
    its own document from such a file, but a damaged Keras part must not pass unnoticed).

    Args:
        path: the file.
        limit: the most bytes the file's arrays may take.

    Raises:
        ModelFileError: model_config or training_config does not match tinydl's checksum.

    Example:
        >>> import os, tempfile
        >>> import h5py
        >>> path = os.path.join(tempfile.mkdtemp(), "m.h5")
        >>> save_model(tinydl.Sequential([tinydl.Input((3,)), tinydl.layers.Dense(2)]), path)
        >>> verify_keras_part(path, 2**20)  # intact: nothing happens
        >>> with h5py.File(path, "a") as h5:
        ...     h5.attrs["model_config"] = np.bytes_(h5.attrs["model_config"].replace(b"dense", b"dunce"))
        >>> verify_keras_part(path, 2**20)
        Traceback (most recent call last):
        ...
        tinydl.saving.ModelFileError: ...its Keras document (model_config, training_config) is corrupted...
    """
    with _h5py().File(path, "r") as h5:
        if DOCUMENT_CHECKSUM not in h5.attrs:
            return
    _LegacyFile(path, limit).close()


def is_legacy(path) -> bool:
    """True for an HDF5 file in Keras' legacy layout (a model file or save_weights'), else False.

    Args:
        path: an HDF5 file.

    Returns:
        Whether it holds Keras' layer_names or model_weights.

    Raises:
        OSError: path is not an HDF5 file.

    Example:
        >>> import os, tempfile
        >>> import h5py
        >>> from tinydl import saving_h5
        >>> folder = tempfile.mkdtemp()
        >>> save_model(tinydl.Sequential([tinydl.Input((3,)), tinydl.layers.Dense(2)]), os.path.join(folder, "m.h5"))
        >>> saving_h5.write(h5py, os.path.join(folder, "own.h5"), {}, {"w": np.ones(2)})
        >>> is_legacy(os.path.join(folder, "m.h5")), is_legacy(os.path.join(folder, "own.h5"))
        (True, False)
    """
    with _h5py().File(path, "r") as h5:
        return "layer_names" in h5.attrs or "layer_names0" in h5.attrs or "model_weights" in h5


def _model_layers(model) -> list:
    from tinydl.layers import InputLayer
    return [layer for layer in model.layers if not isinstance(layer, InputLayer) or
            _legacy_weights(layer)]


def _check_fit(stored, layer, names: list) -> list | None:
    """Why the layer's weights do not fit those datasets (a message), or None."""
    weights = _legacy_weights(layer)
    if len(weights) != len(names):
        return (f"layer '{layer.name}' has {len(weights)} weights, but the file holds "
                f"{len(names)} for it")
    for w, name in zip(weights, names):
        dataset = stored.datasets.get(name)
        if dataset is None:
            return f"the weight '{name}' is missing"
        if tuple(dataset.shape) != tuple(w.shape):
            return f"weight '{name}' has shape {dataset.shape}, but the layer has {w.shape}"
    return None


def _assign(stored: _LegacyFile, model, by_name: bool = False, skip_mismatch: bool = False):
    """Set model's weights from the file's tables: by order of the layers with weights
    (Keras' default), or by layer name. Everything is checked before anything is set."""
    table = stored.weight_table()
    pairs = []
    if by_name:
        layers = {layer.name: layer for layer in _model_layers(model)}
        pairs = [(layers[n], names) for n, names in table.items() if n in layers]
        if not any(names for _, names in pairs):
            warnings.warn(f"load_weights(by_name=True): no layer of model '{model.name}' has "
                          f"the name of a layer with weights in '{stored.path}'; nothing was "
                          "loaded", stacklevel=3)
    else:
        file_layers = [(n, names) for n, names in table.items() if names]
        model_layers = [layer for layer in _model_layers(model) if _legacy_weights(layer)]
        if len(file_layers) != len(model_layers):
            raise invalid(stored.path, f"it holds weights for {len(file_layers)} layers, but "
                                       f"model '{model.name}' has {len(model_layers)} layers "
                                       "with weights")
        pairs = list(zip(model_layers, (names for _, names in file_layers)))
    plan = []
    for layer, names in pairs:
        problem = _check_fit(stored, layer, names)
        if problem is not None and skip_mismatch and by_name:
            warnings.warn(f"load_weights: skipping layer '{layer.name}': {problem}", stacklevel=3)
            continue
        if problem is not None:
            raise invalid(stored.path, problem)
        plan.append((layer, names))
    values = [(w, stored.read(n)) for layer, names in plan
              for w, n in zip(_legacy_weights(layer), names)]
    for w, value in values:
        w.assign(value.astype(np.float32))


def _restore_optimizer(stored: _LegacyFile, model) -> None:
    if "optimizer_weights" not in stored.h5 or model.optimizer is None:
        return
    names = _attribute(stored.h5["optimizer_weights"], "weight_names", stored.path) or []
    optimizer, variables = model.optimizer, model.trainable_weights
    optimizer.build(variables)
    keys = saving_keras_state.keras_order(optimizer, len(variables))
    values = [stored.read(f"optimizer_weights/{n}") for n in names]
    if len(values) == 1 and len(keys) > 2 and np.shape(values[0]) == () \
            and int(np.asarray(values[0])) == 0:
        return  # tf_keras saved an optimizer that never ran: only its step count, 0
    if "learning_rate" in keys and len(values) == len(keys) - 1:  # Keras 2: no learning_rate
        values.insert(1, np.asarray(optimizer.get_state()["learning_rate"]))
    state = saving_keras_state.state_from_keras(optimizer, values, [w.shape for w in variables],
                                                stored.path)
    optimizer.set_state(state)


def load_model(path, custom_objects, compile: bool, limit: int):
    """A tinydl model from Keras' legacy '.h5' (see the module docstring).

    Args:
        path: the file.
        custom_objects: {name: class} of the user's layers and models, or None.
        compile: restore the compile settings (training_config) and optimizer state.
        limit: the most bytes the file's arrays may take.

    Returns:
        The model, with the file's weights.

    Raises:
        ModelFileError: the file holds only weights, is damaged, hostile or too large.

    Example:
        >>> import os, tempfile
        >>> path = os.path.join(tempfile.mkdtemp(), "m.h5")
        >>> model = tinydl.Sequential([tinydl.Input((3,)), tinydl.layers.Dense(2)])
        >>> save_model(model, path)
        >>> loaded = load_model(path, None, True, 2**20)
        >>> [bool(np.array_equal(a, b)) for a, b in zip(loaded.get_weights(), model.get_weights())]
        [True, True]
    """
    from tinydl import saving_keras_model
    with _LegacyFile(path, limit) as stored:
        if stored.model_config is None:
            if "model_weights" in stored.h5 or "layer_names" in stored.h5.attrs:
                raise invalid(path, "it holds no model_config: it holds only weights; use "
                                    "model.load_weights on a model of the same architecture")
            raise invalid(path, "it is not a tinydl model file, nor a Keras one (it has "
                                "neither tinydl.json nor model_config)")
        config = saving.parse_json(path, stored.model_config, "model_config")
        model = saving_keras_model.build_model(path, config, dict(custom_objects or {}), limit,
                                               legacy=True)
        _assign(stored, model)
        if compile and stored.training_config:
            training = saving.parse_json(path, stored.training_config, "training_config")
            saving_keras_state.compile_from_keras(model, training, path)
            _restore_optimizer(stored, model)
    return model


def load_weights(model, path, max_bytes, by_name: bool, skip_mismatch: bool) -> None:
    """Set model's weights from a legacy '.h5' (a model file or a save_weights file).

    Args:
        model: a built model.
        path: the file.
        max_bytes: the most bytes the file's arrays may take (None: the default limit).
        by_name: match layers by name, not by order.
        skip_mismatch: with by_name, skip (with a warning) layers whose weights do not fit.

    Raises:
        ModelFileError: the weights do not fit the model (nothing is assigned then).

    Example:
        >>> import os, tempfile
        >>> path = os.path.join(tempfile.mkdtemp(), "m.h5")
        >>> model = tinydl.Sequential([tinydl.Input((3,)), tinydl.layers.Dense(2, name="out")])
        >>> save_model(model, path)
        >>> other = tinydl.Sequential([tinydl.Input((3,)), tinydl.layers.Dense(2, name="out")])
        >>> load_weights(other, path, None, by_name=True, skip_mismatch=False)
        >>> [bool(np.array_equal(a, b)) for a, b in zip(other.get_weights(), model.get_weights())]
        [True, True]
        >>> load_weights(tinydl.Sequential([tinydl.Input((3,)), tinydl.layers.Dense(4)]), path, None, False, False)
        Traceback (most recent call last):
        ...
        tinydl.saving.ModelFileError: ...
    """
    with _LegacyFile(path, saving.load_limit(max_bytes)) as stored:
        _assign(stored, model, by_name=by_name, skip_mismatch=skip_mismatch)
