"""Keras models in tinydl: classes by Keras' names, a model from a Keras config, and back.

Shared by the two Keras file formats (tinydl.saving_keras_zip for '.keras',
tinydl.saving_legacy_h5 for Keras' '.h5'): which class a config may name, how a model is
rebuilt from Keras' config without running anything from the file, how compile settings
and optimizer variables map between Keras and tinydl.

A config may name: an object in custom_objects (by class name or registered name), a class
registered with register_keras_serializable (by its key 'package>name'), or one of
tinydl's own layers. Nothing else, and never a function stored in the file.
"""

from __future__ import annotations

import warnings

from tinydl import tree
from tinydl import saving_keras_config as kc
from tinydl.saving_keras_config import KerasConfigError

REGISTERED: dict = {}  # 'package>name' -> class (register_keras_serializable)


def register_keras_serializable(package: str = "Custom", name: str | None = None):
    """A class decorator, as Keras': register a class under the key 'package>name' so a
    Keras file that names it (its registered_name) is loaded with it, and a saved model
    writes that key.

    Two classes registered under one key: the later one wins, with a warning.

    Example:
        >>> import tinydl
        >>> @tinydl.saving.register_keras_serializable(package="Demo")
        ... class Doubler(tinydl.layers.Layer):
        ...     def call(self, x):
        ...         return x * 2
        >>> Doubler._keras_registered_name
        'Demo>Doubler'
    """
    if not isinstance(package, str) or "|" in package:
        raise ValueError(f"register_keras_serializable: package must be a str without '|'. "
                         f"Received: package={package!r}")

    def register(obj):
        key = f"{package}>{name or obj.__name__}"
        if key in REGISTERED and REGISTERED[key] is not obj:
            warnings.warn(f"register_keras_serializable: {key!r} was registered for "
                          f"{REGISTERED[key]!r}; it now names {obj!r}", stacklevel=2)
        REGISTERED[key] = obj
        if isinstance(obj, type):
            obj._keras_registered_name = key
            from tinydl.layers.base import LAYER_CLASSES, Layer
            if issubclass(obj, Layer):
                LAYER_CLASSES[obj.__name__] = obj
        return obj
    return register


def _is_tinydl_class(cls) -> bool:
    return isinstance(cls, type) and cls.__module__.split(".")[0] == "tinydl"


def _resolve_class(entry: dict, custom_objects: dict, where: str):
    """The class a Keras layer entry names (see the module docstring)."""
    from tinydl.layers.base import LAYER_CLASSES
    name, registered = entry.get("class_name"), entry.get("registered_name")
    if not isinstance(name, str):
        raise KerasConfigError(f"{where}: a layer without a class name: {entry!r:.80}")
    for key in (registered, name):
        if key is not None and key in custom_objects:
            return custom_objects[key]
    for key in (registered, name if ">" in name else None):
        if key is not None and key in REGISTERED:
            return REGISTERED[key]
    cls = LAYER_CLASSES.get(name)
    module = entry.get("module")
    from_keras = module is None or str(module).split(".")[0] == "keras"
    if cls is not None and _is_tinydl_class(cls) and from_keras and registered in (None, name):
        return cls
    raise KerasConfigError(
        f"{where}: the layer class {registered or name!r} is not one of tinydl's layers nor "
        "in custom_objects= nor registered with register_keras_serializable; pass it as "
        f"load_model(..., custom_objects={{{name!r}: YourClass}})")


# ----------------------------------------------------------------------------- Lambda

def _lambda_function(config: dict, custom_objects: dict, where: str):
    """The function a Lambda config names, from custom_objects only: bytecode is refused."""
    function = config.get("function")
    kind = config.get("function_type")
    if isinstance(function, dict):
        kind, function = function.get("class_name"), function.get("config")
        if kind == "function" and isinstance(function, dict):  # Keras 3: {'module','function_name'}
            function = function.get("function_name")
    if kind in ("__lambda__", "lambda") or not isinstance(function, str):
        raise KerasConfigError(f"{where}: this Lambda layer holds its function as Python "
                               "bytecode; tinydl never runs code from a file. Rebuild the model "
                               "in code, or write the computation as a Layer subclass")
    if function not in custom_objects:
        raise KerasConfigError(f"{where}: Lambda function {function!r} is not in custom_objects"
                               f"; pass load_model(..., custom_objects={{{function!r}: fn}})")
    return custom_objects[function]


# ----------------------------------------------------------------------------- layers

def _layer_from_keras(entry: dict, custom_objects: dict, path, legacy: bool):
    """A tinydl layer from one Keras layer entry (a model for a nested model)."""
    name = entry.get("class_name")
    config = entry.get("config")
    where = f"layer {config.get('name') if isinstance(config, dict) else '?'!r} ({name})"
    if not isinstance(config, dict):
        raise KerasConfigError(f"{where}: its config is not an object")
    if name in ("Sequential", "Functional", "Model") and entry.get("registered_name") in \
            (None, name) and name not in custom_objects:
        return model_from_keras(entry, custom_objects, path, legacy, build=False)
    cls = _resolve_class(entry, custom_objects, where)
    from tinydl.layers import Lambda
    if isinstance(cls, type) and issubclass(cls, Lambda):
        function = _lambda_function(config, custom_objects, where)
        return cls(function, name=config.get("name"), trainable=config.get("trainable", True))
    if _is_tinydl_class(cls):
        if name == "InputLayer" and "batch_input_shape" in config:
            config = {**config, "batch_shape": config["batch_input_shape"]}
            del config["batch_input_shape"]
        config = kc.layer_config_from_keras(name, config, kc.constructor_keys(cls), where)
        config = _wrapped_layers(cls, config, custom_objects, path, legacy)
        if name != "InputLayer":
            config.pop("dtype", None)
        else:
            config = _input_layer_config(config)
    elif kc._is_float32_policy(config.get("dtype")):
        config = {**config, "dtype": "float32"} if "dtype" in config else config
    try:
        return cls.from_config(config)
    except (TypeError, ValueError, KeyError) as exc:
        raise KerasConfigError(f"{where}: cannot be rebuilt from its config ({exc})") from None


def _input_layer_config(config: dict) -> dict:
    shape = config.pop("batch_shape", None) or config.pop("batch_input_shape", None)
    if shape is not None:
        config["shape"], config["batch_size"] = list(shape[1:]), shape[0]
    return config


def _wrapped_layers(cls, config: dict, custom_objects, path, legacy) -> dict:
    """Bidirectional / TimeDistributed: their inner Keras layer entries as tinydl's wrappers
    take them ({'class_name', 'config'} of a tinydl layer, rebuilt by the wrapper)."""
    for key in ("layer", "backward_layer"):
        entry = config.get(key)
        if isinstance(entry, dict) and isinstance(entry.get("config"), dict):
            name = entry.get("class_name")
            where = f"layer {entry['config'].get('name')!r} ({name})"
            inner = _resolve_class(entry, custom_objects, where)
            inner_config = kc.layer_config_from_keras(name, entry["config"],
                                                      kc.constructor_keys(inner), where)
            inner_config.pop("dtype", None)
            config[key] = {"class_name": inner.__name__, "config": inner_config}
    return config


# ----------------------------------------------------------------------------- models

def _first_input_shape(layers: list, config: dict):
    """A Sequential's input shape: its InputLayer's, a first layer's batch_input_shape
    (Keras 2), or build_input_shape."""
    if layers and layers[0].get("class_name") == "InputLayer":
        cfg = layers[0].get("config") or {}
        return cfg.get("batch_shape") or cfg.get("batch_input_shape"), layers[1:]
    if layers and isinstance(layers[0].get("config"), dict):
        first = layers[0]["config"]
        shape = first.pop("batch_input_shape", None) or first.pop("batch_shape", None)
        if shape is not None:
            return shape, layers
    return config.get("build_input_shape"), layers


def _check_shape(shape, where: str) -> tuple:
    if not (isinstance(shape, list) and len(shape) >= 2 and
            all(d is None or (type(d) is int and d >= 1) for d in shape)):
        raise KerasConfigError(f"{where}: the input shape {shape!r:.80} is not a list of sizes "
                               ">= 1 (or None)")
    return tuple(shape)


def _sequential_from_keras(config: dict, custom_objects, path, legacy, build: bool):
    from tinydl.layers import Input
    from tinydl.models import Sequential
    entries = [dict(e, config=dict(e.get("config") or {})) for e in config.get("layers", [])]
    shape, entries = _first_input_shape(entries, config)
    layers = [_layer_from_keras(e, custom_objects, path, legacy) for e in entries]
    name = config.get("name")
    if shape is None:
        model = Sequential(layers, name=name)
    else:
        shape = _check_shape(shape, f"Sequential {name!r}")
        model = Sequential([Input(shape=shape[1:], batch_size=shape[0])] + layers, name=name)
    if build and not model.built:
        raise KerasConfigError(f"Sequential {name!r}: its input shape is not in the file")
    return model


def _history(value) -> tuple | None:
    """(layer name, node index, tensor index) of a Keras 3 '__keras_tensor__' entry."""
    if isinstance(value, dict) and value.get("class_name") == "__keras_tensor__":
        history = (value.get("config") or {}).get("keras_history")
        if isinstance(history, list) and len(history) == 3:
            return tuple(history)
    return None


def _node_arguments(node, outputs: dict, legacy_node: bool):
    """(args, kwargs) of one inbound node, its tensors looked up in outputs, or None when a
    tensor it needs is not made yet."""
    def lookup(history):
        key = (history[0], history[1], history[2])
        if key not in outputs:
            raise LookupError(key)
        return outputs[key]

    try:
        if legacy_node:  # Keras 2: [[name, node, tensor, kwargs], ...]
            tensors = [lookup(item[:3]) for item in node]
            kwargs = node[0][3] if node and len(node[0]) > 3 and isinstance(node[0][3], dict) \
                else {}
            # as tf_keras reads them: [layer, node, tensor] inside kwargs is a tensor
            kwargs = {k: _map_tensors(v, _is_legacy_tensor, lookup) for k, v in kwargs.items()}
            return ([tensors[0]] if len(tensors) == 1 else [tensors]), kwargs

        def decode(value):
            history = _history(value)
            return lookup(history) if history is not None else value
        args = [_map_tensors(a, _is_keras3_tensor, decode) for a in node.get("args", [])]
        kwargs = {k: _map_tensors(v, _is_keras3_tensor, decode)
                  for k, v in (node.get("kwargs") or {}).items()}
        return args, kwargs
    except LookupError:
        return None


def _is_legacy_tensor(value) -> bool:
    """Keras 2's reference to a tensor inside a call's kwargs: [layer name, node, tensor]."""
    return isinstance(value, list) and len(value) == 3 and isinstance(value[0], str) and all(
        type(i) is int for i in value[1:])


def _is_keras3_tensor(value) -> bool:
    return _history(value) is not None


def _map_tensors(value, is_tensor, fn):
    """value with fn applied to each entry is_tensor accepts, through lists and dicts."""
    if is_tensor(value):
        return fn(value)
    if isinstance(value, list):
        return [_map_tensors(v, is_tensor, fn) for v in value]
    if isinstance(value, dict):
        return {k: _map_tensors(v, is_tensor, fn) for k, v in value.items()}
    return value


def _functional_from_keras(config: dict, custom_objects, path, legacy):
    from tinydl.models import Model
    entries = config.get("layers")
    if not isinstance(entries, list):
        raise KerasConfigError("functional model: its layers are missing")
    layers, pending, outputs = {}, [], {}
    for entry in entries:
        layer = _layer_from_keras(entry, custom_objects, path, legacy)
        layer_name = entry.get("name") or (entry.get("config") or {}).get("name")
        layers[layer_name] = layer
        if entry.get("class_name") == "InputLayer":
            outputs[(layer_name, 0, 0)] = layer.output
        for index, node in enumerate(entry.get("inbound_nodes") or []):
            pending.append((layer_name, index, node))
    while pending:
        progress = False
        for item in list(pending):
            layer_name, index, node = item
            called = _node_arguments(node, outputs, isinstance(node, list))
            if called is None:
                continue
            result = layers[layer_name](*called[0], **called[1])
            for t, tensor in enumerate(tree.flatten(result)):
                outputs[(layer_name, index, t)] = tensor
            pending.remove(item)
            progress = True
        if not progress:
            raise KerasConfigError(f"functional model: the inbound nodes of "
                                   f"{sorted({p[0] for p in pending})[:5]} name tensors no "
                                   "layer makes")

    def ends(spec):
        if isinstance(spec, list) and len(spec) == 3 and isinstance(spec[0], str):
            key = tuple(spec)
            if key not in outputs:
                raise KerasConfigError(f"functional model: no layer makes the tensor {spec}")
            return outputs[key]
        if isinstance(spec, list):
            items = [ends(s) for s in spec]
            return items[0] if len(items) == 1 else items
        if isinstance(spec, dict):
            return {k: ends(v) for k, v in spec.items()}
        raise KerasConfigError(f"functional model: malformed input/output list {spec!r:.80}")
    return Model(ends(config.get("input_layers")), ends(config.get("output_layers")),
                 name=config.get("name"))


def model_from_keras(spec: dict, custom_objects: dict, path, legacy: bool, build: bool = True):
    """A tinydl model from Keras' {'class_name', 'config', 'build_config'} of a model.

    Args:
        spec: the model's entry of a Keras config (Sequential, Functional, or a registered
            or custom_objects Model subclass).
        custom_objects: {name: class} of the user's layers and models.
        path: the file, for messages.
        legacy: True for Keras 2's '.h5' form of the config.
        build: build a Sequential on its input shape.

    Returns:
        The model, its weights freshly created (the caller sets them from the file).

    Raises:
        KerasConfigError: the config is malformed, names a class tinydl does not know, or an
            option tinydl's layer would compute differently.

    Example:
        >>> model = tinydl.Sequential([tinydl.Input((3,)), tinydl.layers.Dense(2, name="out")])
        >>> spec = kc.model_config_to_keras(model, legacy=False)
        >>> rebuilt = model_from_keras(spec, {}, "m.keras", legacy=False)
        >>> type(rebuilt).__name__, [layer.name for layer in rebuilt.layers], rebuilt.output_shape
        ('Sequential', ['out'], (None, 2))
        >>> model_from_keras({"class_name": "Sequential"}, {}, "m.keras", legacy=False)
        Traceback (most recent call last):
        ...
        tinydl.saving_keras_config.KerasConfigError: the model config is malformed: ...
    """
    if not isinstance(spec, dict) or not isinstance(spec.get("config"), dict):
        raise KerasConfigError(f"the model config is malformed: {spec!r:.80}")
    name, config = spec.get("class_name"), spec["config"]
    custom = name in custom_objects or spec.get("registered_name") not in (None, name)
    if name == "Sequential" and not custom:
        return _sequential_from_keras(config, custom_objects, path, legacy, build)
    if name in ("Functional", "Model") and not custom and "layers" in config:
        return _functional_from_keras(config, custom_objects, path, legacy)
    cls = _resolve_class(spec, custom_objects, f"model ({name})")
    if kc._is_float32_policy(config.get("dtype")):
        config = {k: v for k, v in config.items() if k != "dtype"}
    from tinydl.models import Model
    try:
        inherited = getattr(cls.from_config, "__func__", None) is Model.from_config.__func__
        model = cls(**config) if inherited else cls.from_config(config)  # Keras' default
        input_shape = (spec.get("build_config") or {}).get("input_shape")
        if input_shape is not None and not model.built:
            model.build(_check_shape(input_shape, f"model {name!r}"))
    except (TypeError, ValueError, KeyError) as exc:
        raise KerasConfigError(f"model ({name}): cannot be rebuilt from its config "
                               f"({exc})") from None
    return model
