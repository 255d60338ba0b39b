"""Keras' model configs (the JSON of .keras and legacy .h5 files) to tinydl models, and back.

A Keras layer config is {'class_name', 'config', 'module', 'registered_name', ...}. Reading
one, tinydl finds the class (custom_objects first, then classes registered with
tinydl.saving.register_keras_serializable by their key 'package>name', then tinydl's own
layers) and passes the config to the class' from_config, after removing the keys Keras
has and tinydl does not, but only when they hold the value that means "off" in Keras
(data_format 'channels_last', groups 1, no constraint...). Any other value is a clear error
naming the layer and the key: a file is never loaded into a model that would compute
something else. Nothing in a config is ever run: a Lambda's function (Python bytecode in
the file) is refused, whatever the config says; a Lambda is loaded only from custom_objects.

A functional model's graph is rebuilt by calling each layer on the KerasTensors its
inbound nodes name (Keras 3's {'args', 'kwargs'} with '__keras_tensor__' entries, or Keras
2's [[name, node_index, tensor_index, kwargs], ...]).
"""

from __future__ import annotations

import inspect

from tinydl import tree

# Keys Keras layers have and tinydl's do not, with the values for which dropping them
# changes nothing: {key: predicate(value)}.


def _is_float32_policy(value) -> bool:
    if value in (None, "float32"):
        return True
    return isinstance(value, dict) and value.get("class_name") in ("DTypePolicy", "Policy") \
        and (value.get("config") or {}).get("name") == "float32"


def _is_none(value) -> bool:
    return value is None


def _all_ones(value) -> bool:
    values = value if isinstance(value, (list, tuple)) else [value]
    return all(v == 1 for v in values)


HARMLESS = {
    "dtype": _is_float32_policy,
    "data_format": lambda v: v in (None, "channels_last"),
    "groups": lambda v: v == 1,
    "dilation_rate": _all_ones,
    "activity_regularizer": _is_none, "kernel_constraint": _is_none,
    "bias_constraint": _is_none, "recurrent_constraint": _is_none,
    "beta_constraint": _is_none, "gamma_constraint": _is_none,
    "depthwise_constraint": _is_none, "pointwise_constraint": _is_none,
    "embeddings_constraint": _is_none, "alpha_constraint": _is_none,
    "quantization_config": _is_none, "lora_rank": _is_none, "lora_alpha": lambda v: True,
    "synchronized": lambda v: v is False, "renorm": lambda v: v is False,
    "renorm_clipping": _is_none, "renorm_momentum": lambda v: True,
    "noise_shape": _is_none, "rms_scaling": lambda v: v is False,
    "use_gate": lambda v: v is False, "sliding_window": _is_none,
    "sparse": lambda v: v is False, "ragged": lambda v: v is False,
    "optional": lambda v: v is False, "time_major": lambda v: v is False,
    "implementation": lambda v: v in (1, 2),  # the same arithmetic, another loop order
    "input_dim": lambda v: True, "input_length": lambda v: True,  # shapes come from the graph
    "autocast": lambda v: True, "mask_zero": lambda v: v is False,
    "batch_input_shape": lambda v: True,  # InputLayer: read as batch_shape
    "seed": lambda v: True,  # only the stream of random numbers, never a loaded weight
    # tf_keras' MultiHeadAttention keeps its build shapes; the graph gives them, and each
    # weight's shape is checked against the file's
    "query_shape": lambda v: True, "key_shape": lambda v: True, "value_shape": lambda v: True,
    "softmax_robust_masking": lambda v: v is False,  # masked scores + (-1e9), as here
}

# The Keras class names of initializers tinydl knows by a name, and those it has as classes.
_INITIALIZER_NAMES = {"GlorotUniform": "glorot_uniform", "GlorotNormal": "glorot_normal",
                      "HeNormal": "he_normal", "HeUniform": "he_uniform",
                      "LecunNormal": "lecun_normal", "LecunUniform": "lecun_uniform",
                      "Zeros": "zeros", "Ones": "ones", "Orthogonal": "orthogonal",
                      "RandomNormal": "random_normal", "RandomUniform": "random_uniform"}
_INITIALIZER_CLASSES = ("Constant", "Orthogonal", "RandomNormal", "RandomUniform",
                        "VarianceScaling")


class KerasConfigError(ValueError):
    """A Keras config tinydl cannot turn into the same model (the message says why).

    It is a ValueError; the loaders turn it into a ModelFileError naming the file.

    Example:
        >>> try:
        ...     layer_config_from_keras("Dense", {"units": 2, "lora_rank": 4}, {"units"}, "layer d")
        ... except KerasConfigError as exc:
        ...     isinstance(exc, ValueError), str(exc)
        (True, "layer d: Keras' Dense option lora_rank=4 is not supported by tinydl's layer (it would compute
        something else)")
    """


def _initializer(value, where: str):
    """A Keras initializer config as tinydl takes it: a name, or a tinydl initializer."""
    if not isinstance(value, dict):
        return value
    from tinydl import initializers
    name, config = value.get("class_name"), dict(value.get("config") or {})
    for key in ("seed", "input_axes", "output_axes"):
        if config.get(key) is None:
            config.pop(key, None)
    if name == "Orthogonal" and config.get("gain") == 1.0:
        config.pop("gain")
    if name in _INITIALIZER_NAMES and not config:
        return _INITIALIZER_NAMES[name]
    if name in _INITIALIZER_CLASSES:
        try:
            return getattr(initializers, name)(**config)
        except TypeError as exc:
            raise KerasConfigError(f"{where}: initializer {name} with {config} ({exc})") from None
    raise KerasConfigError(f"{where}: initializer {name!r} with config {config} is not one "
                           f"tinydl has (it has {sorted(_INITIALIZER_NAMES)})")


def _regularizer(value, where: str):
    if not isinstance(value, dict):
        return value
    name, config = value.get("class_name"), value.get("config") or {}
    if name in ("L1", "L2", "L1L2"):
        return {"class": "L1L2", "l1": float(config.get("l1", 0.0)),
                "l2": float(config.get("l2", 0.0))}
    if value.get("class") == "L1L2":  # tinydl's own form
        return value
    raise KerasConfigError(f"{where}: regularizer {name!r} is not one tinydl has (L1, L2, L1L2)")


def _activation(value, where: str):
    if isinstance(value, dict):
        raise KerasConfigError(f"{where}: activation {value.get('class_name')!r} is an object "
                               "or a function of your own, which tinydl never loads from a "
                               "file; use a built-in activation name")
    return value


def _convert_value(key: str, value, where: str):
    if key.endswith("_initializer"):
        return _initializer(value, where)
    if key.endswith("_regularizer"):
        return _regularizer(value, where)
    if key in ("activation", "recurrent_activation"):
        return _activation(value, where)
    return value


def constructor_keys(cls) -> set:
    """The keyword arguments cls' constructor takes, through the classes it passes
    **kwargs on to (tinydl's Layer takes name, trainable, input_shape, dtype).

    Args:
        cls: a class.

    Returns:
        The set of their names (without self).

    Example:
        >>> keys = constructor_keys(tinydl.layers.Dense)
        >>> {"units", "activation", "use_bias", "name", "trainable"} <= keys, "self" in keys
        (True, False)
    """
    import inspect
    keys = set()
    for klass in cls.__mro__:
        init = vars(klass).get("__init__")
        if init is None:
            continue
        parameters = inspect.signature(init).parameters.values()
        keys.update(p.name for p in parameters if p.kind in (p.POSITIONAL_OR_KEYWORD,
                                                             p.KEYWORD_ONLY))
        if not any(p.kind == p.VAR_KEYWORD for p in parameters):
            break
    keys.discard("self")
    return keys


def layer_config_from_keras(class_name: str, config: dict, tinydl_keys, where: str) -> dict:
    """Keras' config of a layer, as tinydl's class of that name takes it.

    Args:
        class_name: the layer's Keras class name.
        config: its Keras config.
        tinydl_keys: the keys tinydl's layer writes in get_config (None: keep every key).
        where: the layer, for messages.

    Returns:
        The config for tinydl's class (a None initializer, the default, left out).

    Raises:
        KerasConfigError: a key tinydl lacks holds a value that changes the computation.

    Example:
        >>> config = {"units": 2, "kernel_initializer": None, "dtype": "float32", "name": "d"}
        >>> layer_config_from_keras("Dense", config, {"units", "kernel_initializer", "name"}, "layer d")
        {'units': 2, 'name': 'd'}
        >>> layer_config_from_keras("Conv2D", {"filters": 1, "groups": 2}, {"filters"}, "layer c")
        Traceback (most recent call last):
        ...
        tinydl.saving_keras_config.KerasConfigError: layer c: Keras' Conv2D option groups=2 is not supported ...
    """
    out = {}
    for key, value in config.items():
        if tinydl_keys is not None and key not in tinydl_keys:
            check = HARMLESS.get(key)
            if check is None or not check(value):
                raise KerasConfigError(
                    f"{where}: Keras' {class_name} option {key}={value!r:.80} is not supported "
                    "by tinydl's layer (it would compute something else)")
            continue
        if key.endswith("_initializer") and value is None:
            continue  # the layer's default: it only draws weights the file's overwrite
        out[key] = _convert_value(key, value, where)
    if class_name in ("BatchNormalization", "LayerNormalization") and \
            isinstance(out.get("axis"), list) and len(out["axis"]) == 1:
        out["axis"] = out["axis"][0]  # Keras 2 writes [axis]
    if class_name == "InputLayer":
        out.pop("sparse", None), out.pop("ragged", None), out.pop("optional", None)
    return out


# ----------------------------------------------------------------------------- tinydl -> Keras

_KERAS_INITIALIZERS = {v: k for k, v in _INITIALIZER_NAMES.items()}


def _keras_value(key: str, value, legacy: bool):
    """A tinydl config value as Keras writes it (initializers and regularizers as objects)."""
    if key.endswith("_initializer") and isinstance(value, str) and value in _KERAS_INITIALIZERS:
        config = {} if value in ("zeros", "ones") else {"seed": None}
        entry = {"class_name": _KERAS_INITIALIZERS[value], "config": config}
        return entry if legacy else {"module": "keras.initializers", **entry,
                                     "registered_name": None}
    if key.endswith("_initializer") and hasattr(value, "get_config"):
        entry = {"class_name": type(value).__name__, "config": value.get_config()}
        return entry if legacy else {"module": "keras.initializers", **entry,
                                     "registered_name": None}
    if key.endswith("_regularizer") and isinstance(value, dict) and value.get("class") == "L1L2":
        entry = {"class_name": "L1L2", "config": {"l1": value["l1"], "l2": value["l2"]}}
        return entry if legacy else {"module": "keras.regularizers", **entry,
                                     "registered_name": None}
    return value


# tinydl keys that Keras' layer of the same name lacks (dropped when they hold the default),
# and, for Keras 2 (tf_keras, legacy .h5), those it lacks too.
_TINYDL_ONLY = {"use_cudnn": ("auto",), "input_shape": None}
_KERAS_REFUSES_TRAINABLE = ("SpatialDropout1D",)  # Keras 3.15's constructor takes no trainable=
_KERAS2_LACKS = {"seed": (None,), "use_cudnn": ("auto",)}


def _refuse_a_built_in_name(layer) -> None:
    """A program's unregistered class named like one of tinydl's layers (see
    layers.base._may_register) would be written under that name and load as the built-in."""
    from tinydl.layers.base import LAYER_CLASSES, _is_builtin_class
    cls = type(layer)
    registered = LAYER_CLASSES.get(cls.__name__)
    if (registered is not cls and registered is not None and _is_builtin_class(registered)
            and not _is_builtin_class(cls)
            and getattr(cls, "_keras_registered_name", None) is None):
        raise ValueError(f"cannot save layer '{layer.name}': its class "
                         f"{cls.__module__}.{cls.__qualname__} is not the class registered as "
                         f"{cls.__name__!r}, one of tinydl's own layers, so a file would load it "
                         "as that layer. Rename the class, or register it with "
                         "keras.saving.register_keras_serializable()")


def _layer_config_to_keras(layer, legacy: bool) -> dict:
    """tinydl layer -> Keras' {'class_name', 'config', ...} (legacy: Keras 2's .h5 form)."""
    _refuse_a_built_in_name(layer)
    config = dict(layer.get_config())
    name = type(layer).__name__
    if name in _KERAS_REFUSES_TRAINABLE and config.get("trainable", True) is True:
        config.pop("trainable", None)
    for key, defaults in list(_TINYDL_ONLY.items()) + (
            list(_KERAS2_LACKS.items()) if legacy and name not in ("Dropout",) else []):
        if key in config and (defaults is None or config[key] in defaults):
            config.pop(key)
    if name == "InputLayer":
        shape = [config.pop("batch_size", None)] + list(config.pop("shape"))
        config = {"name": config["name"], "dtype": config.get("dtype") or "float32",
                  "sparse": False, "ragged": False,
                  ("batch_input_shape" if legacy else "batch_shape"): shape}
    else:
        config = {k: _keras_value(k, v, legacy) for k, v in config.items()
                  if not (k.endswith("_initializer") and v is None)}
        for key in ("layer", "backward_layer"):  # a wrapper's inner layer, in Keras' form
            if isinstance(config.get(key), dict) and "class_name" in config[key]:
                config[key] = _inner_to_keras(config[key], legacy)
        config.setdefault("dtype", "float32")
    entry = {"class_name": name, "config": config}
    registered = getattr(type(layer), "_keras_registered_name", None)
    if not legacy:
        entry = {"module": "keras.layers" if registered is None else type(layer).__module__,
                 **entry, "registered_name": registered}
    elif registered is not None:
        entry["class_name"] = registered
    return entry


def _inner_to_keras(entry: dict, legacy: bool) -> dict:
    """A wrapper's inner layer ({'class_name', 'config'} as tinydl writes it) in Keras' form."""
    from tinydl.layers.base import LAYER_CLASSES
    inner = LAYER_CLASSES[entry["class_name"]].from_config(dict(entry["config"]))
    converted = _layer_config_to_keras(inner, legacy)
    if legacy:  # Keras 3's legacy reader finds an inner layer only by its module
        converted = {"module": "keras.layers", **converted, "registered_name": None}
    return converted


def _tensor_history(tensor) -> list:
    """[layer name, node index in that layer, tensor index] of a tinydl KerasTensor."""
    node = tensor.node
    return [node.layer.name, node.layer._inbound_nodes.index(node), tensor.index]


def _keras3_arg(value):
    from tinydl.layers.symbolic import KerasTensor
    if isinstance(value, KerasTensor):
        return {"class_name": "__keras_tensor__",
                "config": {"shape": list(value.shape), "dtype": "float32",
                           "keras_history": _tensor_history(value)}}
    return value


def _legacy_node(node) -> list:
    """One call in Keras 2's form: [[layer, node, tensor, kwargs], ...] for the first
    argument's tensors; every other argument joins the first entry's kwargs by its name in
    the layer's call signature, a tensor among them as [layer, node, tensor] (as tf_keras
    writes MultiHeadAttention()(query, value) or (query, value=..., key=...))."""
    from tinydl.layers.symbolic import KerasTensor
    first, rest = node.args[0], node.args[1:]
    names = list(inspect.signature(node.layer.call).parameters)[1:]
    kwargs = {**dict(zip(names, rest)), **node.kwargs}
    kwargs = tree.map_structure(lambda v: _tensor_history(v) if isinstance(v, KerasTensor)
                                else v, kwargs)
    entries = [_tensor_history(t) + [{}] for t in tree.flatten(first)]
    if entries:
        entries[0][3] = kwargs
    return entries


def _tensors_beyond_first(node) -> bool:
    """Whether the call has tensors outside its first argument (MultiHeadAttention's value).
    Keras 3 reads a legacy node's kwargs without looking tensors up, so such a call goes in
    Keras 3's form even in a '.h5' (as Keras 3 writes it; tf_keras reads only the other)."""
    from tinydl.layers import symbolic
    return symbolic.is_symbolic(list(node.args[1:])) or symbolic.is_symbolic(node.kwargs)


def _inbound_nodes_to_keras(layer, model_nodes: list, legacy: bool) -> list:
    """The layer's calls inside this model, as Keras writes inbound_nodes."""
    out = []
    for node in layer._inbound_nodes:
        if node not in model_nodes:
            continue
        if legacy and not _tensors_beyond_first(node):
            out.append(_legacy_node(node))
        else:  # Keras 3 reads only this form of a call with tensors past the first argument
            out.append({"args": tree.map_structure(_keras3_arg, list(node.args)),
                        "kwargs": tree.map_structure(_keras3_arg, dict(node.kwargs))})
    return out


def _shape_list(shape) -> list:
    return [None if d is None else int(d) for d in shape]


def model_config_to_keras(model, legacy: bool) -> dict:
    """A tinydl Sequential or functional model as Keras' {'class_name', 'config', ...}.

    Args:
        model: a built Sequential, functional or (registered) subclassed model.
        legacy: True for Keras 2's '.h5' form (no 'module', 'registered_name', 'build_config').

    Returns:
        The JSON-able config Keras' load_model rebuilds the model from.

    Raises:
        KerasConfigError: a layer has no Keras equivalent.

    Example:
        >>> model = tinydl.Sequential([tinydl.Input((3,)), tinydl.layers.Dense(2, name="out")])
        >>> entry = model_config_to_keras(model, legacy=False)
        >>> entry["class_name"], entry["build_config"], [e["class_name"] for e in entry["config"]["layers"]]
        ('Sequential', {'input_shape': [None, 3]}, ['InputLayer', 'Dense'])
        >>> sorted(model_config_to_keras(model, legacy=True))
        ['class_name', 'config']
    """
    from tinydl.models import Sequential
    if not isinstance(model, Sequential) and getattr(model, "_graph", None) is None:
        return _subclassed_config(model, legacy)
    if isinstance(model, Sequential):
        layers = [_layer_config_to_keras(layer, legacy) for layer in _sequential_layers(model)]
        config = {"name": model.name, "trainable": model.trainable, "layers": layers,
                  "build_input_shape": _shape_list(model.input_shape)}
        entry = {"class_name": "Sequential", "config": config}
    else:
        entry = {"class_name": "Functional", "config": _functional_config(model, legacy)}
    if not legacy:
        entry = {"module": "keras" if entry["class_name"] == "Sequential" else
                 "keras.src.models.functional", **entry, "registered_name": None}
        if entry["class_name"] == "Sequential":
            entry["build_config"] = {"input_shape": _shape_list(model.input_shape)}
    return entry


def _subclassed_config(model, legacy: bool) -> dict:
    """A subclassed model: its class (by its registered key) and get_config; Keras rebuilds
    it only with the same class registered (or in custom_objects) on its side."""
    cls = type(model)
    registered = getattr(cls, "_keras_registered_name", None) or f"Custom>{cls.__name__}"
    entry = {"class_name": registered if legacy else cls.__name__, "config": model.get_config()}
    if not legacy:
        entry = {"module": None, **entry, "registered_name": registered}
    shape = getattr(model, "input_shape", None)
    if isinstance(shape, tuple):
        entry["build_config"] = {"input_shape": _shape_list(shape)}
    return entry


def _sequential_layers(model) -> list:
    """A Sequential's layers with its InputLayer first (Keras' config lists it)."""
    from tinydl.layers import InputLayer
    layers = list(model.layers)
    if layers and isinstance(layers[0], InputLayer):
        return layers
    shape = list(model.input_shape)
    return [InputLayer(shape=shape[1:], batch_size=shape[0], name=f"{model.name}_input")] + layers


def _functional_config(model, legacy: bool) -> dict:
    graph = model._graph
    nodes = [t.node for t in graph.flat_inputs] + list(graph.nodes)
    layers = []
    for layer in graph.layers:
        entry = _layer_config_to_keras(layer, legacy)
        if hasattr(layer, "_graph") or type(layer).__name__ == "Sequential":
            entry = model_config_to_keras(layer, legacy)
        entry["name"] = layer.name
        entry["inbound_nodes"] = _inbound_nodes_to_keras(layer, nodes, legacy) \
            if type(layer).__name__ != "InputLayer" else []
        layers.append(entry)

    def ends(structure):
        flat = tree.map_structure(_tensor_history, structure)
        return flat if isinstance(flat, (list, dict)) else [flat]
    return {"name": model.name, "trainable": model.trainable, "layers": layers,
            "input_layers": ends(graph.inputs), "output_layers": ends(graph.outputs)}
