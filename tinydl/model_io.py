"""model.save / load_model / save_weights / load_weights: what a model file holds and how to rebuild it.

tinydl.saving knows the file (a verified zip of JSON and .npy, or HDF5); this module knows the
model: its architecture (each layer's class name and config), its compile settings, every
weight, and the optimizer's step count and slots, so training resumes exactly where it stopped.
Layers, losses, metrics and optimizers are rebuilt only from tinydl's own classes, never from
code in the file.
"""

from __future__ import annotations

import json

from tinydl import losses, metrics, optimizers, saving, schedules
from tinydl.rng import get_rng

MODEL_KIND, WEIGHTS_KIND = "model", "weights"


# ----------------------------------------------------------------------------- compile settings

# These hold a user's function, which a file cannot (it would have to store code).
_FUNCTION_WRAPPERS = (losses.LossFunctionWrapper, metrics.MeanMetricWrapper)


def _serialize(obj, module, base, what: str):
    """A name stays a name; an object of one of tinydl's own classes becomes
    {'class_name', 'config'}. Anything else (a function, a subclass of your own) is refused
    here, since load_model could not rebuild it."""
    if obj is None or isinstance(obj, str):
        return obj
    cls = type(obj)
    if isinstance(obj, base) and getattr(module, cls.__name__, None) is cls and \
            cls not in _FUNCTION_WRAPPERS:
        return {"class_name": cls.__name__, "config": obj.get_config()}
    raise ValueError(f"cannot save the {what} {obj!r}: only names and tinydl's own {what} "
                     f"classes can be saved (a function would have to be stored as code); "
                     f"compile with a name or a tinydl.{module.__name__.split('.')[-1]} object, "
                     "or save only the weights with model.save_weights")


def _deserialize(spec, module, base, what: str, path):
    if spec is None or isinstance(spec, str):
        return spec
    cls = getattr(module, str(spec.get("class_name")), None) if isinstance(spec, dict) else None
    if not (isinstance(cls, type) and issubclass(cls, base)):
        raise saving.invalid(path, f"unknown {what} {spec!r}")
    config = spec.get("config") or {}
    try:
        return cls.from_config(config) if hasattr(cls, "from_config") else cls(**config)
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        raise saving.invalid(path, f"the {what} {spec!r:.80} cannot be rebuilt ({exc})") from None


def _map_specs(spec, fn):
    """fn over every loss / metric of a compile spec: a name, an object config, or a list or
    dict (by output name) of them; an object config {'class_name', 'config'} is one leaf."""
    if isinstance(spec, dict) and "class_name" not in spec:
        return {k: _map_specs(v, fn) for k, v in spec.items()}
    if isinstance(spec, list):
        return [_map_specs(v, fn) for v in spec]
    return fn(spec)


def _compile_config(model) -> dict | None:
    if not getattr(model, "compiled", False):
        return None
    learning_rate = getattr(model.optimizer, "_learning_rate", None)
    if callable(learning_rate):  # a schedule; a plain function is refused
        _serialize(learning_rate, schedules, schedules.LearningRateSchedule,
                   "learning-rate schedule")
    return {"optimizer": _serialize(model.optimizer, optimizers, optimizers.Optimizer,
                                    "optimizer"),
            "loss": _map_specs(model.loss, lambda v: _serialize(v, losses, losses.Loss, "loss")),
            "loss_weights": model._loss_weights,
            "metrics": _map_specs(model._metric_specs, lambda m: _serialize(
                m, metrics, metrics.Metric, "metric"))}


def _compile_from(model, config: dict, path) -> None:
    if not isinstance(config, dict) or "optimizer" not in config or \
            not isinstance(config.get("metrics", []), (list, dict, type(None))):
        raise saving.invalid(path, f"its compile settings are malformed: {config!r:.80}")
    optimizer = _deserialize(config["optimizer"], optimizers, optimizers.Optimizer, "optimizer",
                             path)
    loss = _map_specs(config.get("loss"), lambda v: _deserialize(v, losses, losses.Loss, "loss",
                                                                  path))
    metric_specs = _map_specs(config.get("metrics"), lambda m: _deserialize(
        m, metrics, metrics.Metric, "metric", path))
    try:
        model.compile(optimizer=optimizer, loss=loss, metrics=metric_specs,
                      loss_weights=config.get("loss_weights"))
    except (TypeError, ValueError) as exc:
        raise saving.invalid(path, f"its compile settings are not valid ({exc})") from None


# ----------------------------------------------------------------------------- save

def _weight_arrays(model) -> dict:
    return {f"weights/{i}": w.data for i, w in enumerate(model.weights)}


def _weight_names(model) -> list:
    return [path for path, _, _ in model._weight_entries()]


def _require_built(model, where: str) -> None:
    if not model.built:
        raise ValueError(f"{where}: model '{model.name}' has no weights yet; build it first "
                         "(model.build(input_shape), or fit / call it on data)")


def _require_loadable_layers(model) -> None:
    """Refuse, before writing anything, a layer that load_model could not rebuild."""
    from tinydl.layers import LAYER_CLASSES, Lambda
    from tinydl.models import Functional, Model, Sequential

    if type(model) not in (Sequential, Functional):
        raise ValueError(f"cannot save model '{model.name}' of class {type(model).__qualname__}: "
                         "a subclassed model's architecture is its Python code (call), which is "
                         "never stored in a file. Save its weights with model.save_weights(...) "
                         "and rebuild the model in code, or make it with Model(inputs, outputs)")
    for layer in model._flatten_layers():
        cls = type(layer)
        if isinstance(layer, Lambda):
            raise ValueError(f"cannot save model '{model.name}': its Lambda layer '{layer.name}' "
                             "wraps a function, which is code and is never stored in a file. "
                             "Write the computation as a Layer subclass with get_config (it is "
                             "registered by name), or save only the weights with "
                             "model.save_weights")
        if LAYER_CLASSES.get(cls.__name__) is not cls or (
                isinstance(layer, Model) and type(layer) not in (Sequential, Functional)):
            raise ValueError(f"cannot save model '{model.name}': layer '{layer.name}' is of class "
                             f"{cls.__qualname__}, which is not the class registered as "
                             f"{cls.__name__!r} in tinydl.layers.LAYER_CLASSES (a name starting "
                             "with '_' is not registered; two classes of one name replace each "
                             "other), so load_model could not rebuild it")


def _jsonable_shape(shape):
    return [_jsonable_shape(s) for s in shape] if isinstance(shape, list) else list(shape)


def save_model(model, path) -> None:
    """Write architecture, compile settings, weights and optimizer state to path, atomically.

    Raises:
        ValueError: the model is not built, or holds something that load_model could not
            rebuild (a Lambda layer, an unregistered layer class, a loss, metric or optimizer
            that is a function or not one of tinydl's classes).
    """
    _require_built(model, "save")
    _require_loadable_layers(model)
    arrays = _weight_arrays(model)
    optimizer = getattr(model, "optimizer", None) if getattr(model, "compiled", False) else None
    if optimizer is not None and optimizer.built:
        arrays.update({f"optimizer/{k}": v for k, v in optimizer.get_state().items()})
    document = {
        "kind": MODEL_KIND,
        "model": {"class_name": type(model).__name__, "config": model.get_config()},
        "input_shape": _jsonable_shape(model.input_shape),
        "compile": _compile_config(model),
        "weight_names": _weight_names(model),
    }
    try:
        json.dumps(document)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"cannot save model '{model.name}': a get_config() returned something "
                         f"that is not JSON (numbers, strings, lists, dicts): {exc}") from None
    saving.save(path, document, arrays)


def save_weights(model, path) -> None:
    """Write only the weights (in the order of model.weights) to path, atomically."""
    _require_built(model, "save_weights")
    saving.save(path, {"kind": WEIGHTS_KIND, "weight_names": _weight_names(model)},
                _weight_arrays(model))


# ----------------------------------------------------------------------------- load

def _stored_weights(path, document: dict, arrays: dict) -> list:
    names = document.get("weight_names")
    if not isinstance(names, list):
        raise saving.invalid(path, "its weight table (weight_names) is missing or malformed")
    count = len(names)
    keys = [f"weights/{i}" for i in range(count)]
    if any(k not in arrays for k in keys):
        raise saving.invalid(path, "its weight arrays do not match its weight table")
    return [arrays[k] for k in keys]


def _assign_weights(model, values: list, path) -> None:
    """Check every count and shape first, then assign: nothing changes when anything differs."""
    weights, names = model.weights, _weight_names(model)
    if len(values) != len(weights):
        raise ValueError(f"'{path}' holds {len(values)} weight arrays, but model '{model.name}' "
                         f"has {len(weights)} ({names})")
    for name, w, v in zip(names, weights, values):
        if v.shape != w.shape:
            raise ValueError(f"'{path}': weight {name} has shape {v.shape} in the file, but "
                             f"{w.shape} in the model")
    for w, v in zip(weights, values):
        w.assign(v)


def load_weights(model, path) -> None:
    """Set model's weights from a file written by save_weights or save."""
    _require_built(model, "load_weights")
    document, arrays = saving.load(path)
    _assign_weights(model, _stored_weights(path, document, arrays), path)


def load_model(path, compile: bool = True):
    """Rebuild a model saved by model.save: architecture, weights, compile settings, optimizer.

    Loading draws no numbers from tinydl's random generator (the initial weights it creates
    are overwritten), so a seeded run that saves and reloads continues as if it had not stopped.

    Raises:
        ValueError: the file is damaged, foreign, of another version, or names a class that
            tinydl does not have.
    """
    from tinydl.models import Functional, Sequential

    document, arrays = saving.load(path)
    if document.get("kind") != MODEL_KIND:
        raise saving.invalid(path, "it holds only weights (written by save_weights); "
                                   "use model.load_weights on a model of the same architecture")
    spec = document.get("model")
    classes = {"Sequential": Sequential, "Functional": Functional}
    if not (isinstance(spec, dict) and isinstance(spec.get("class_name"), str)
            and spec["class_name"] in classes):
        raise saving.invalid(path, f"unknown model class in {spec!r:.80}")
    rng_state = get_rng().bit_generator.state
    try:
        model = classes[spec["class_name"]].from_config(spec.get("config") or {})
        if isinstance(model, Sequential):
            model.build(tuple(document.get("input_shape") or ()))
    except (AttributeError, IndexError, KeyError, TypeError, ValueError) as exc:
        raise saving.invalid(path, f"its architecture cannot be rebuilt ({exc})") from None
    finally:
        get_rng().bit_generator.state = rng_state
    _assign_weights(model, _stored_weights(path, document, arrays), path)
    if compile and document.get("compile"):
        _compile_from(model, document["compile"], path)
        state = {k[len("optimizer/"):]: v for k, v in arrays.items() if k.startswith("optimizer/")}
        if state:
            _restore_optimizer(model, state, path)
    return model


def _restore_optimizer(model, state: dict, path) -> None:
    """Build the optimizer over the trainable weights (the order fit uses) and set its state
    now, so model.optimizer.iterations is right at once and a mismatch is found at load."""
    try:
        model.optimizer.build(model.trainable_weights)
        model.optimizer.set_state(state)
    except (KeyError, TypeError, ValueError) as exc:
        raise saving.invalid(path, f"its optimizer state does not fit the model ({exc})") from None
