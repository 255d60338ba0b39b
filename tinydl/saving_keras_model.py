"""model.save / load_model / save_weights / load_weights for Keras 3's '.keras' and '.weights.h5'.

Where each weight lives in Keras 3's weights file (model.weights.h5, or a '.weights.h5'):
layers/<key>/vars/<i> (key: the layer's class name in snake case, numbered when it
repeats: dense, dense_1; see _container_names) for a layer's own weights in its order (Dense: kernel, bias;
BatchNormalization: gamma, beta, moving_mean, moving_variance); an LSTM, GRU or SimpleRNN
keeps them in its cell (layers/<name>/cell/vars/<i>); Bidirectional in forward_layer/ and
backward_layer/, TimeDistributed in layer/; a model inside a model under its own layers/;
MultiHeadAttention in its EinsumDense sublayers, key_dense/, output_dense/, query_dense/ and
value_dense/ (kernel, bias each).
Every group must hold exactly the arrays the layer has, of its shapes: a file is never
loaded partly or into a model it does not fit.
"""

from __future__ import annotations

import re

import numpy as np

from tinydl import saving, saving_keras, saving_keras_config, saving_keras_state
from tinydl import saving_keras_zip as kz
from tinydl.saving_keras_config import KerasConfigError

_RNNS = ("LSTM", "GRU", "SimpleRNN")


def _layer_groups(layer, prefix: str, out: dict) -> dict:
    """{group path: [tinydl Variables]} of one layer, in Keras 3's layout, into out."""
    kind = type(layer).__name__
    if hasattr(layer, "_graph") or kind == "Sequential":
        out[f"{prefix}/vars"] = []
        for inner, key in zip(_saved_layers(layer), _container_names(_saved_layers(layer))):
            _layer_groups(inner, f"{prefix}/layers/{key}", out)
    elif kind in _RNNS:
        out[f"{prefix}/vars"], out[f"{prefix}/cell/vars"] = [], list(layer.weights)
    elif kind == "Bidirectional":
        out[f"{prefix}/vars"] = []
        _layer_groups(layer.backward_layer, f"{prefix}/backward_layer", out)
        _layer_groups(layer.forward_layer, f"{prefix}/forward_layer", out)
    elif kind == "TimeDistributed":
        out[f"{prefix}/vars"] = []
        _layer_groups(layer.layer, f"{prefix}/layer", out)
    elif kind == "MultiHeadAttention":
        out[f"{prefix}/vars"] = []
        for inner in ("_dropout_layer", "_softmax"):  # Keras' weightless sublayers
            out[f"{prefix}/{inner}/vars"] = []
        if layer._projections is None:
            raise KerasConfigError(f"layer '{layer.name}' (MultiHeadAttention) has no weights "
                                   "yet: call it once before saving")
        for name, group in (("key", "key_dense"), ("attention_output", "output_dense"),
                            ("query", "query_dense"), ("value", "value_dense")):
            kernel, bias = layer._projections[name]
            out[f"{prefix}/{group}/vars"] = [kernel] + ([bias] if bias is not None else [])
    else:
        out[f"{prefix}/vars"] = list(layer.weights)
    return out


def _snake_case(name: str) -> str:
    """Keras' naming.to_snake_case: 'MaxPooling2D' -> 'max_pooling2d'."""
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def _container_names(layers: list) -> list:
    """The names Keras 3 files a model's layers under: the class name in snake case, made
    unique by a counter (dense, dense_1, ...), never the layer's own name."""
    used, names = {}, []
    for layer in layers:
        key = _snake_case(type(layer).__name__)
        if key in used:
            used[key] += 1
            names.append(f"{key}_{used[key]}")
        else:
            used[key] = 0
            names.append(key)
    return names


def _saved_layers(model) -> list:
    from tinydl.layers import InputLayer
    return [layer for layer in model.layers if not isinstance(layer, InputLayer)]


def _model_groups(model) -> dict:
    """{group path: [Variables]} of a whole model (root vars, then its layers)."""
    out = {"vars": []}
    if not (hasattr(model, "_graph") and model._graph is not None) and \
            type(model).__name__ != "Sequential":
        return _subclassed_groups(model, out)
    layers = _saved_layers(model)
    for layer, key in zip(layers, _container_names(layers)):
        _layer_groups(layer, f"layers/{key}", out)
    return out


def _subclassed_groups(model, out: dict) -> dict:
    """A subclassed model's layers where Keras 3 files them: its attributes in sorted order
    (private ones last), each layer under the first attribute that reaches it (the list
    'layers' numbers them by class: dense, dense_1, ...)."""
    from tinydl.layers import Layer
    seen = set()
    names = sorted(set(vars(model)) | {"layers"}, key=lambda n: f"~{n}" if n.startswith("_")
                   else n)
    for attr in names:
        value = getattr(model, attr, None)
        if isinstance(value, Layer) and value is not model:
            if id(value) not in seen:
                seen.add(id(value))
                _layer_groups(value, attr, out)
        elif isinstance(value, (list, tuple)) and value and all(
                isinstance(v, Layer) for v in value):
            for layer, key in zip(value, _container_names(list(value))):
                if id(layer) not in seen:
                    seen.add(id(layer))
                    _layer_groups(layer, f"{attr}/{key}", out)
    return out


def _h5py():
    return saving._h5py()


# ----------------------------------------------------------------------------- save

def _keras_config(model) -> dict:
    config = saving_keras_config.model_config_to_keras(model, legacy=False)
    compile_config = saving_keras_state.compile_to_keras(model, legacy=False)
    if compile_config is not None:
        config["compile_config"] = compile_config
    return config


def _optimizer_group(model) -> dict:
    optimizer = getattr(model, "optimizer", None) if getattr(model, "compiled", False) else None
    if optimizer is None:
        return {}
    if not optimizer.built:  # Keras expects a built optimizer's variables: a fresh one's
        optimizer = type(optimizer).from_config(optimizer.get_config())
        optimizer.build(model.trainable_weights)
    return {"optimizer/vars": saving_keras_state.state_to_keras(optimizer)}


def _arrays(groups: dict) -> dict:
    return {g: [np.asarray(w if isinstance(w, np.ndarray) else w.data) for w in ws]
            for g, ws in groups.items()}


def save_model(model, path) -> None:
    """Write model to a Keras 3 '.keras' file (loadable by keras.models.load_model).

    Args:
        model: a built model.
        path: the file, written atomically.

    Raises:
        ValueError: the model is not built, or a layer has no Keras equivalent.

    Example:
        >>> import os, tempfile, zipfile
        >>> path = os.path.join(tempfile.mkdtemp(), "m.keras")
        >>> model = tinydl.Sequential([tinydl.Input((3,)), tinydl.layers.Dense(2)])
        >>> save_model(model, path)
        >>> sorted(zipfile.ZipFile(path).namelist())
        ['config.json', 'metadata.json', 'model.weights.h5', 'tinydl.sha256.json']
        >>> save_model(tinydl.Sequential([tinydl.layers.Dense(2)]), path)  # not built
        Traceback (most recent call last):
        ...
        ValueError: ...
    """
    from tinydl import model_io
    model_io._require_built(model, "save")
    config = _keras_config(model)
    groups = {**_arrays(_model_groups(model)), **_optimizer_group(model)}
    kz.write(path, _h5py(), config, groups)


def save_weights(model, path) -> None:
    """Write the weights in Keras 3's '.weights.h5' layout (keras' model.load_weights reads it).

    Args:
        model: a built model.
        path: the file, written atomically.

    Raises:
        ValueError: the model is not built.

    Example:
        >>> import os, tempfile
        >>> import h5py
        >>> path = os.path.join(tempfile.mkdtemp(), "w.weights.h5")
        >>> model = tinydl.Sequential([tinydl.Input((3,)), tinydl.layers.Dense(2)])
        >>> save_weights(model, path)
        >>> with h5py.File(path, "r") as h5:
        ...     [(name, h5["layers/dense/vars"][name].shape) for name in h5["layers/dense/vars"]]
        [('0', (3, 2)), ('1', (2,))]
    """
    from tinydl import model_io
    model_io._require_built(model, "save_weights")
    groups = _arrays(_model_groups(model))
    h5py = _h5py()
    raw, _ = kz.weights_h5(h5py, groups)
    saving.atomic_write(path, lambda f: f.write(raw))


# ----------------------------------------------------------------------------- load

def _check_groups(stored: kz.KerasWeights, groups: dict, what: str) -> None:
    """Each group of the model has exactly its arrays in the file, of its shapes."""
    path = stored.path
    for group, variables in groups.items():
        present = sorted(n for n in stored.datasets if n.rsplit("/", 1)[0] == group)
        expected = [f"{group}/{i}" for i in range(len(variables))]
        if sorted(present) != sorted(expected):
            raise saving.invalid(path, f"{what} '{group}' holds {len(present)} arrays in the "
                                       f"file, but the model's layer has {len(variables)}")
        for name, w in zip(expected, variables):
            if tuple(stored.datasets[name].shape) != tuple(w.shape):
                raise saving.invalid(path, f"weight '{name}' has shape "
                                           f"{stored.datasets[name].shape} in the file, but "
                                           f"{w.shape} in the model")
    known = {f"{g}/{i}" for g, ws in groups.items() for i in range(len(ws))}
    extra = sorted(n for n in stored.datasets if not n.startswith("optimizer/")
                   and n not in known)
    if extra:
        raise saving.invalid(path, f"it holds weights no layer of the model has: {extra[:5]}")


def _assign_weights(stored: kz.KerasWeights, model) -> None:
    """Check every group first, then read and assign every weight."""
    groups = _model_groups(model)
    _check_groups(stored, groups, "layer")
    values = [(w, stored.read(f"{g}/{i}")) for g, ws in groups.items()
              for i, w in enumerate(ws)]
    for w, value in values:
        w.assign(value.astype(np.float32))


def _restore_optimizer(stored: kz.KerasWeights, model) -> None:
    names = sorted((n for n in stored.datasets if n.startswith("optimizer/vars/")),
                   key=lambda n: int(n.rsplit("/", 1)[1]) if n.rsplit("/", 1)[1].isdigit() else -1)
    if not names or model.optimizer is None:
        return
    optimizer, variables = model.optimizer, model.trainable_weights
    optimizer.build(variables)
    shapes = [w.shape for w in variables]
    expected = len(saving_keras_state.keras_order(optimizer, len(shapes)))
    if len(names) != expected or names != [f"optimizer/vars/{i}" for i in range(len(names))]:
        raise saving.invalid(stored.path, f"its optimizer holds {len(names)} variables, but "
                                          f"{type(optimizer).__name__} over this model has "
                                          f"{expected}")
    state = saving_keras_state.state_from_keras(optimizer, [stored.read(n) for n in names],
                                                shapes, stored.path)
    try:
        optimizer.set_state(state)
    except (KeyError, TypeError, ValueError) as exc:
        raise saving.invalid(stored.path, f"its optimizer state is not valid ({exc})") from None


def build_model(path, config: dict, custom_objects: dict, limit: int, legacy: bool):
    """A tinydl model from a Keras config, built under a WeightBudget (no initializer runs,
    tinydl's random generator is left as it was).

    Args:
        path: the file, for messages.
        config: the model's Keras config (config.json, or a legacy model_config).
        custom_objects: {name: class} of the user's layers and models.
        limit: the most bytes the model's weights may take.
        legacy: True for Keras 2's '.h5' form of the config.

    Returns:
        The model, its weights allocated but not yet set.

    Raises:
        ModelFileError: the architecture cannot be rebuilt, or needs more than limit bytes.

    Example:
        >>> model = tinydl.Sequential([tinydl.Input((3,)), tinydl.layers.Dense(2)])
        >>> config = saving_keras_config.model_config_to_keras(model, legacy=False)
        >>> [w.shape for w in build_model("m.keras", config, {}, 2**20, legacy=False).weights]
        [(3, 2), (2,)]
        >>> build_model("m.keras", config, {}, 16, legacy=False)  # a (3, 2) kernel takes 24 bytes
        Traceback (most recent call last):
        ...
        tinydl.saving.ModelFileError: ...its architecture needs more than the limit of 16 bytes...
    """
    from tinydl.layers.base import WeightBudget, WeightBudgetError
    from tinydl.rng import get_rng
    rng_state = get_rng().bit_generator.state
    try:
        with WeightBudget(limit, allocate=True):
            return saving_keras.model_from_keras(config, custom_objects, path, legacy)
    except WeightBudgetError as exc:
        raise saving.invalid(path, f"its architecture needs more than the limit of {limit} "
                                   f"bytes ({exc}); pass a larger max_bytes=") from None
    except KerasConfigError as exc:
        raise saving.invalid(path, str(exc)) from None
    except (AttributeError, KeyError, TypeError, ValueError, IndexError) as exc:
        raise saving.invalid(path, f"its architecture cannot be rebuilt ({exc})") from None
    finally:
        get_rng().bit_generator.state = rng_state


def load_model(path, custom_objects=None, compile: bool = True, max_bytes=None):
    """A tinydl model from a Keras 3 '.keras' file (see the module docstring).

    Args:
        path: the file.
        custom_objects: {name: class} of the user's layers and models, or None.
        compile: restore the compile settings and optimizer state.
        max_bytes: the most bytes the weights may take (None: the default limit).

    Returns:
        The model, with the file's weights.

    Raises:
        ModelFileError: the file is damaged, hostile, too large or not a Keras 3 file.

    Example:
        >>> import os, tempfile
        >>> path = os.path.join(tempfile.mkdtemp(), "m.keras")
        >>> model = tinydl.Sequential([tinydl.Input((3,)), tinydl.layers.Dense(2)])
        >>> model.compile("adam", "mse")
        >>> save_model(model, path)
        >>> loaded = load_model(path)
        >>> [bool(np.array_equal(a, b)) for a, b in zip(loaded.get_weights(), model.get_weights())]
        [True, True]
        >>> type(loaded.optimizer).__name__
        'Adam'
        >>> with open(path, "wb") as f:
        ...     _ = f.write(b"not a zip")
        >>> load_model(path)
        Traceback (most recent call last):
        ...
        tinydl.saving.ModelFileError: ...
    """
    limit = saving.load_limit(max_bytes)
    config, stored = kz.read(path, _h5py(), limit)
    with stored:
        model = build_model(path, config, dict(custom_objects or {}), limit, legacy=False)
        _assign_weights(stored, model)
        if compile and config.get("compile_config"):
            saving_keras_state.compile_from_keras(model, config["compile_config"], path)
            _restore_optimizer(stored, model)
    return model


def load_weights(model, path, max_bytes=None) -> None:
    """Set model's weights from a Keras 3 '.weights.h5' file (or a '.keras' file's).

    Args:
        model: a built model of the file's architecture.
        path: the file.
        max_bytes: the most bytes the weights may take (None: the default limit).

    Raises:
        ModelFileError: a weight's shape or count differs from the model's (nothing is
            assigned then), or the file is damaged.

    Example:
        >>> import os, tempfile
        >>> path = os.path.join(tempfile.mkdtemp(), "w.weights.h5")
        >>> model = tinydl.Sequential([tinydl.Input((3,)), tinydl.layers.Dense(2)])
        >>> save_weights(model, path)
        >>> other = tinydl.Sequential([tinydl.Input((3,)), tinydl.layers.Dense(2)])
        >>> load_weights(other, path)
        >>> [bool(np.array_equal(a, b)) for a, b in zip(other.get_weights(), model.get_weights())]
        [True, True]
        >>> load_weights(tinydl.Sequential([tinydl.Input((3,)), tinydl.layers.Dense(4)]), path)
        Traceback (most recent call last):
        ...
        tinydl.saving.ModelFileError: ...weight 'layers/dense/vars/0' has shape (3, 2) in the file, but (3, 4)...
    """
    from tinydl import model_io
    model_io._require_built(model, "load_weights")
    limit = saving.load_limit(max_bytes)
    h5py = _h5py()
    if kz.is_keras_zip(path):
        _, stored = kz.read(path, h5py, limit)
    else:
        saving.check_regular_file(path)
        stored = kz.open_h5(path, h5py, path, None, limit)
    with stored:
        _assign_weights(stored, model)
