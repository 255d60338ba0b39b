"""model.save / load_model / save_weights / load_weights: what a model file holds and how to rebuild it.

tinydl.saving knows the file (a verified zip of JSON and .npy, or HDF5); this module knows the
model: its architecture (each layer's class name and config), its compile settings, every
weight, and the optimizer's step count and slots, so training resumes exactly where it stopped.
Layers, losses, metrics and optimizers are rebuilt only from tinydl's own classes, never from
code in the file.
"""

from __future__ import annotations

import json

import numpy as np

from tinydl import losses, metrics, optimizers, saving, schedules
from tinydl.rng import get_rng

MODEL_KIND, WEIGHTS_KIND = "model", "weights"


# ----------------------------------------------------------------------------- compile settings

# These hold a user's function, which a file cannot (it would have to store code).
_FUNCTION_WRAPPERS = (losses.LossFunctionWrapper, metrics.MeanMetricWrapper)


def _serialize(obj, module, base, what: str):
    """A name stays a name; an object of one of tinydl's own classes becomes
    {'class_name', 'config'}. Anything else (a function, a subclass of your own, a base
    class) is refused here, since load_model could not rebuild it (see _loadable)."""
    if obj is None or isinstance(obj, str):
        return obj
    if getattr(module, getattr(obj, "__name__", ""), None) is obj and not isinstance(obj, type):
        return obj.__name__  # one of tinydl's own functions (losses.categorical_crossentropy): its name, as Keras
    cls = type(obj)
    if _loadable(module, base).get(cls.__name__) is cls:
        return {"class_name": cls.__name__, "config": obj.get_config()}
    raise ValueError(f"cannot save the {what} {obj!r}: only names and tinydl's own {what} "
                     f"classes can be saved (a function would have to be stored as code); "
                     f"compile with a name or a tinydl.{module.__name__.split('.')[-1]} object, "
                     "or save only the weights with model.save_weights")


def _loadable(module, base) -> dict:
    """The classes a file may name: tinydl's own public, concrete subclasses of base (not
    base itself, nor the wrappers of a user's function, which a file cannot hold)."""
    classes = {name: getattr(module, name, None) for name in getattr(module, "__all__", ())}
    return {name: cls for name, cls in classes.items()
            if isinstance(cls, type) and issubclass(cls, base) and cls is not base
            and cls not in _FUNCTION_WRAPPERS}


_REBUILD_ERRORS = (AttributeError, KeyError, TypeError, ValueError, OverflowError, IndexError)


def _deserialize(spec, module, base, what: str, path):
    """A name stays a name (compile looks it up); {'class_name', 'config'} is rebuilt through
    the class' constructor, so the file's values pass the checks a user's would."""
    if spec is None or isinstance(spec, str):
        return spec
    allowed = _loadable(module, base)
    name = spec.get("class_name") if isinstance(spec, dict) else None
    if not isinstance(name, str) or name not in allowed:
        raise saving.invalid(path, f"unknown {what} {spec!r:.80} (a file may name one of "
                                   f"{sorted(allowed)})")
    config = spec.get("config") or {}
    if not isinstance(config, dict):
        raise saving.invalid(path, f"the {what} {spec!r:.80} has a malformed config")
    if what == "optimizer" and isinstance(config.get("learning_rate"), dict):
        config = {**config, "learning_rate": _deserialize(
            config["learning_rate"], schedules, schedules.LearningRateSchedule,
            "learning-rate schedule", path)}
    cls = allowed[name]
    try:
        return cls.from_config(config) if hasattr(cls, "from_config") else cls(**config)
    except _REBUILD_ERRORS as exc:
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
    except _REBUILD_ERRORS as exc:
        raise saving.invalid(path, f"its compile settings are not valid ({exc})") from None


# ----------------------------------------------------------------------------- save

def _weight_arrays(model) -> dict:
    return {f"weights/{i}": w.data for i, w in enumerate(model.weights)}


def _weight_names(model) -> list:
    """Keras 3's paths of the weights, e.g. 'sequential/dense/kernel' (only read back in error
    messages: arrays are matched by position, so files of older names still load)."""
    return [w.path for w in model.weights]


def _require_built(model, where: str) -> None:
    if not model.built:
        raise ValueError(f"{where}: model '{model.name}' has no weights yet; build it first "
                         "(model.build(input_shape), or fit / call it on data)")


def _require_loadable_layers(model) -> None:
    """Refuse, before writing anything, a layer that load_model could not rebuild."""
    from tinydl.layers import LAYER_CLASSES, Lambda
    from tinydl.models import Functional, Model, Sequential

    if type(model) not in (Sequential, Functional):
        _require_rebuildable_subclass(model)
        return  # its own code makes its layers again: only its class and config are stored
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
                             "with '_' is not registered, nor one of tinydl's own layers' names; "
                             "two other classes of one name replace each other), so load_model "
                             "could not rebuild it: rename the class")


def _require_rebuildable_subclass(model) -> None:
    """A subclassed model is stored as its class name and get_config(); load_model finds the
    class in custom_objects or the registered classes and calls cls.from_config(config)."""
    import inspect

    from tinydl.layers import LAYER_CLASSES
    from tinydl.models import Model

    cls, config = type(model), model.get_config()
    if LAYER_CLASSES.get(cls.__name__) is not cls:
        raise ValueError(f"cannot save model '{model.name}': its class {cls.__qualname__} is not "
                         f"the class registered as {cls.__name__!r} (a name starting with '_' "
                         "is not registered, nor one of tinydl's own layers' names; two other "
                         "classes of one name replace each other): rename the class")
    if cls.from_config.__func__ is Model.from_config.__func__:
        try:
            inspect.signature(cls.__init__).bind(None, **config)
        except TypeError as exc:
            raise ValueError(
                f"cannot save model '{model.name}' of class {cls.__qualname__}: its get_config() "
                f"{sorted(config)} does not give back the arguments of its __init__ ({exc}). "
                "As in Keras, implement get_config() returning them (and from_config if they "
                "are not plain values), or save only the weights with model.save_weights"
            ) from None


def _saved_input_shape(model):
    if type(model).__name__ in ("Sequential", "Functional") or model.input_shape is None:
        return None if model.input_shape is None else _jsonable_shape(model.input_shape)
    shape = model.input_shape
    if not (isinstance(shape, tuple) and all(d is None or isinstance(d, int) for d in shape)):
        raise ValueError(f"cannot save subclassed model '{model.name}': it was built for inputs "
                         f"{shape!r:.80}; tinydl stores the build shape of one input only")
    return list(shape)


def _jsonable_shape(shape):
    return [_jsonable_shape(s) for s in shape] if isinstance(shape, list) else list(shape)


def model_document(model) -> tuple[dict, dict]:
    """(document, arrays) of tinydl's own model file: architecture, compile settings,
    weights and optimizer state (see save_model).

    Args:
        model: a built model whose layers, loss, metrics and optimizer load_model can rebuild.

    Returns:
        (document, arrays): the JSON document ({'kind', 'model', 'input_shape', 'compile',
        'weight_names'}) and {key: array} of the weights (and the optimizer state once built).

    Raises:
        ValueError: a layer cannot be rebuilt, or a get_config() returned something that is
            not JSON.

    Example:
        >>> model = tinydl.Sequential([tinydl.Input((3,)), tinydl.layers.Dense(2, name="out")])
        >>> document, arrays = model_document(model)
        >>> document["kind"], document["model"]["class_name"], document["input_shape"]
        ('model', 'Sequential', [None, 3])
        >>> [array.shape for array in arrays.values()]
        [(3, 2), (2,)]
    """
    _require_loadable_layers(model)
    arrays = _weight_arrays(model)
    optimizer = getattr(model, "optimizer", None) if getattr(model, "compiled", False) else None
    if optimizer is not None and optimizer.built:
        arrays.update({f"optimizer/{k}": v for k, v in optimizer.get_state().items()})
    document = {
        "kind": MODEL_KIND,
        "model": {"class_name": type(model).__name__, "config": model.get_config()},
        "input_shape": _saved_input_shape(model),
        "compile": _compile_config(model),
        "weight_names": _weight_names(model),
    }
    try:
        json.dumps(document, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"cannot save model '{model.name}': a get_config() returned something "
                         f"that is not JSON (finite numbers, strings, lists, dicts), which "
                         f"load_model would refuse: {exc}") from None
    return document, arrays


def save_model(model, path) -> None:
    """Write architecture, compile settings, weights and optimizer state to path, atomically.

    Args:
        model: a built model.
        path: a '.tinydl' file (tinydl's own format), '.keras' (Keras 3's zip) or '.h5' /
            '.hdf5' (Keras' legacy HDF5, with tinydl's own document beside it).

    Raises:
        ValueError: the model is not built, or holds something that load_model could not
            rebuild (a Lambda layer, an unregistered layer class, a loss, metric or optimizer
            that is a function or not one of tinydl's classes).

    Example:
        >>> import os, tempfile
        >>> path = os.path.join(tempfile.mkdtemp(), "m.tinydl")
        >>> model = tinydl.Sequential([tinydl.Input((3,)), tinydl.layers.Dense(2)])
        >>> save_model(model, path)
        >>> x = np.ones((1, 3), np.float32)
        >>> bool(np.array_equal(load_model(path).predict(x, verbose=0), model.predict(x, verbose=0)))
        True
        >>> save_model(tinydl.Sequential([tinydl.layers.Dense(2)]), path)  # not built
        Traceback (most recent call last):
        ...
        ValueError: ...
    """
    _require_built(model, "save")
    from tinydl import saving_keras_files
    from tinydl.models import Functional, Sequential
    if type(model) not in (Sequential, Functional):
        _require_rebuildable_subclass(model)  # in every format: refused before anything is written
    if saving_keras_files.save_model(model, path):
        return
    saving.save(path, *model_document(model))


def save_weights(model, path) -> None:
    """Write only the weights (in the order of model.weights) to path, atomically.

    Args:
        model: a built model.
        path: a '.tinydl' / '.keras' or '.h5' file.

    Raises:
        ValueError: the model is not built, or an unsupported file name.

    Example:
        >>> import os, tempfile
        >>> path = os.path.join(tempfile.mkdtemp(), "w.weights.tinydl")
        >>> model = tinydl.Sequential([tinydl.Input((3,)), tinydl.layers.Dense(2)])
        >>> save_weights(model, path)
        >>> document, arrays = saving.load(path)
        >>> document["kind"], [a.shape for a in arrays.values()]
        ('weights', [(3, 2), (2,)])
    """
    _require_built(model, "save_weights")
    from tinydl import saving_keras_files
    if saving_keras_files.save_weights(model, path):
        return
    saving.save(path, {"kind": WEIGHTS_KIND, "weight_names": _weight_names(model)},
                _weight_arrays(model))


# ----------------------------------------------------------------------------- load

def _declared_weights(stored) -> list:
    """The file's weight arrays, weights/0 .. weights/n-1, as declared (nothing read)."""
    names = stored.document.get("weight_names")
    if not isinstance(names, list):
        raise saving.invalid(stored.path, "its weight table (weight_names) is missing or "
                                          "malformed")
    keys = [f"weights/{i}" for i in range(len(names))]
    declared = {k for k in stored.specs if k.startswith("weights/")}
    if declared != set(keys):
        raise saving.invalid(stored.path, "its weight arrays do not match its weight table")
    return [stored.specs[k] for k in keys]


def _check_weights_fit(stored, model) -> None:
    """Each weight of model has its array in the file, of its shape and float32; checked
    on the declarations, before anything is read."""
    specs, weights, names = _declared_weights(stored), model.weights, _weight_names(model)
    if len(specs) != len(weights):
        raise saving.invalid(stored.path, f"it holds {len(specs)} weight arrays, but model "
                                          f"'{model.name}' has {len(weights)} ({names})")
    for name, w, spec in zip(names, weights, specs):
        if spec.shape != w.shape:
            raise saving.invalid(stored.path, f"weight {name} has shape {spec.shape} in the "
                                              f"file, but {w.shape} in the model")
        if spec.dtype != np.float32:
            raise saving.invalid(stored.path, f"weight {name} is {spec.dtype} in the file; "
                                              "weights are float32")


def _check_state_fits(stored, optimizer, trainable_shapes) -> list:
    """The optimizer/ keys of the file, checked against what optimizer would hold over
    variables of trainable_shapes (Optimizer.state_spec); [] when the file has none."""
    keys = sorted(k for k in stored.specs if k.startswith("optimizer/"))
    if not keys:
        return []
    if optimizer is None:
        raise saving.invalid(stored.path, "it holds optimizer state but no compile settings")
    expected = optimizer.state_spec(trainable_shapes)
    given = {k[len("optimizer/"):]: stored.specs[k] for k in keys}
    if sorted(given) != sorted(expected):
        raise saving.invalid(stored.path, f"its optimizer state has the arrays "
                                          f"{sorted(given)[:6]}, but {type(optimizer).__name__} "
                                          f"over this model holds {sorted(expected)[:6]}")
    for key, (dtype, shape) in expected.items():
        if given[key].dtype != np.dtype(dtype) or given[key].shape != shape:
            raise saving.invalid(stored.path, f"optimizer state '{key}' is declared "
                                              f"{given[key].dtype} {given[key].shape}, but "
                                              f"the optimizer holds {dtype} {shape}")
    return keys


def _check_no_other_arrays(stored, known) -> None:
    unexpected = sorted(set(stored.specs) - set(known))
    if unexpected:
        raise saving.invalid(stored.path, f"it holds unexpected arrays {unexpected[:5]}")


def load_weights(model, path, max_bytes: int | None = None, by_name: bool = False,
                 skip_mismatch: bool = False) -> None:
    """Set model's weights from a file written by save_weights or save.

    Every count, shape and dtype is checked on the file's declarations first, then every
    array is read and verified, then all are assigned: nothing changes when anything differs.

    Args:
        model: a built model of the same architecture.
        path: the file.
        max_bytes: the most the file's arrays may total (default tinydl.saving.MAX_LOAD_BYTES).

    Raises:
        ValueError: the model is not built.
        FileNotFoundError: there is no such file.
        ModelFileError: the file is damaged, or its weights do not fit the model (counts,
            shapes, dtypes).

    Example:
        >>> import os, tempfile
        >>> path = os.path.join(tempfile.mkdtemp(), "w.weights.tinydl")
        >>> source = tinydl.Sequential([tinydl.Input((3,)), tinydl.layers.Dense(2)])
        >>> target = tinydl.Sequential([tinydl.Input((3,)), tinydl.layers.Dense(2)])
        >>> save_weights(source, path)
        >>> load_weights(target, path)
        >>> all(np.array_equal(a, b) for a, b in zip(source.get_weights(), target.get_weights()))
        True
        >>> load_weights(tinydl.Sequential([tinydl.Input((4,)), tinydl.layers.Dense(2)]), path)
        Traceback (most recent call last):
        ...
        tinydl.saving.ModelFileError: cannot load '...': weight ... has shape (3, 2) in the file, but (4, 2) in the ...
    """
    _require_built(model, "load_weights")
    from tinydl import saving_keras_files
    if saving_keras_files.load_weights(model, path, max_bytes, by_name, skip_mismatch):
        return
    with saving.open_file(path, max_bytes) as stored:
        _check_weights_fit(stored, model)
        keys = [spec.key for spec in _declared_weights(stored)]
        _check_no_other_arrays(stored, keys + [k for k in stored.specs
                                               if k.startswith("optimizer/")])
        values = [stored.read(k) for k in keys]
    for w, v in zip(model.weights, values):
        w.assign(v)


def _input_shape(stored) -> tuple:
    shape = stored.document.get("input_shape")
    if not (isinstance(shape, list) and len(shape) >= 2 and
            all(d is None or (type(d) is int and d >= 1) for d in shape)):
        raise saving.invalid(stored.path, f"its input shape {shape!r:.80} is not a list of "
                                          "sizes >= 1 (or None)")
    return tuple(shape)


def _build_architecture(stored, limit: int, allocate: bool):
    """A Sequential or functional model from the file's config, built under a WeightBudget of
    limit bytes (so no initializer runs); tinydl's random generator is left as it was."""
    from tinydl.layers.base import WeightBudget, WeightBudgetError
    from tinydl.models import Functional, Sequential

    spec = stored.document.get("model")
    cls = _model_class(spec, stored.path)
    subclass = cls not in (Sequential, Functional)
    sequential = cls is Sequential or (subclass and stored.document.get("input_shape"))
    input_shape = _input_shape(stored) if sequential else None  # a graph knows its inputs
    rng_state = get_rng().bit_generator.state
    try:
        with WeightBudget(limit, allocate=allocate):
            model = cls.from_config(spec.get("config") or {})
            if sequential:
                model.build(input_shape)
    except WeightBudgetError as exc:
        raise saving.invalid(stored.path, f"its architecture needs more than the limit of "
                                          f"{limit} bytes ({exc}); if you trust this file, pass "
                                          "a larger max_bytes= to load_model (the default is "
                                          "tinydl.saving.MAX_LOAD_BYTES)") from None
    except _REBUILD_ERRORS as exc:
        raise saving.invalid(stored.path, f"its architecture cannot be rebuilt ({exc})") from None
    finally:
        get_rng().bit_generator.state = rng_state
    return model


def _model_class(spec, path):
    """The model class a file names: Sequential, Functional, or a Model subclass found in
    custom_objects or among the registered classes (never code from the file)."""
    from tinydl.layers.base import find_layer_class
    from tinydl.models import Functional, Model, Sequential

    if not (isinstance(spec, dict) and isinstance(spec.get("class_name"), str)):
        raise saving.invalid(path, f"unknown model class in {spec!r:.80}")
    name = spec["class_name"]
    builtin = {"Sequential": Sequential, "Functional": Functional}.get(name)
    cls = builtin or find_layer_class(name)
    if cls is None or not issubclass(cls, Model):
        raise saving.invalid(path, f"it holds a model of class {name!r}, which is neither "
                                   "Sequential, Functional nor a Model subclass given in "
                                   "custom_objects= or registered (define or import the class, "
                                   "or pass custom_objects={'" + name + "': YourModel})")
    return cls


def _compiled_optimizer(stored, model):
    """Compile model from the file's settings (no array is read); its optimizer, or None."""
    if not stored.document.get("compile"):
        return None
    _compile_from(model, stored.document["compile"], stored.path)
    return model.optimizer


def load_model(path, custom_objects: dict | None = None, compile: bool = True,
               safe_mode: bool = True, max_bytes: int | None = None):
    """Rebuild a model saved by model.save: architecture, weights, compile settings, optimizer.

    Nothing in the file is trusted, and nothing large is read or allocated before it is
    checked: the architecture is first built without allocating any weight (a WeightBudget),
    and its weight shapes, and the optimizer state's, are compared with the file's
    declarations; only then are the weights allocated and the arrays read, one at a time,
    each verified by its SHA-256. Settings pass through the constructors' own checks.
    Loading draws no numbers from tinydl's random generator.

    Args:
        path: a '.tinydl', '.keras' or '.h5' file.
        max_bytes: the most the file's arrays may total, and its architecture's weights
            (default tinydl.saving.MAX_LOAD_BYTES, 1 GiB). Raise it for a larger model.
        compile: False leaves out the compile settings and the optimizer state (Keras').
        custom_objects: {name: class or function} for the layer and model classes the file
            names (your Layer / Model subclasses, also found by name once defined in tinydl's
            own files), and a Lambda's function in Keras' files (tinydl.saving_keras_files).
        safe_mode: accepted for Keras programs; tinydl never runs code from a file anyway.

    Raises:
        FileNotFoundError: there is no such file.
        tinydl.saving.ModelFileError: (a ValueError) the file is damaged, foreign, of
            another version, hostile, over the limit, or names a class that tinydl does
            not have; the message names the file.

    Returns:
        The model (Sequential or Functional), compiled when it was and compile is True.

    Example:
        Training resumes exactly where it stopped: the optimizer's step count and slots are
        restored, so one more step of the loaded model equals one more step of the original.

        >>> import os, tempfile
        >>> path = os.path.join(tempfile.mkdtemp(), "m.tinydl")
        >>> tinydl.utils.set_random_seed(0)
        >>> x = np.random.default_rng(0).normal(size=(8, 3)).astype(np.float32)
        >>> model = tinydl.Sequential([tinydl.Input((3,)), tinydl.layers.Dense(2)])
        >>> model.compile("adam", "mse")
        >>> _ = model.fit(x, x[:, :2], epochs=2, verbose=0)
        >>> model.save(path)
        >>> loaded = load_model(path)
        >>> loaded.optimizer.iterations == model.optimizer.iterations
        True
        >>> a, b = model.train_on_batch(x, x[:, :2]), loaded.train_on_batch(x, x[:, :2])
        >>> a == b, all(np.array_equal(u, v) for u, v in zip(model.get_weights(), loaded.get_weights()))
        (True, True)
        >>> load_model(path, max_bytes=10)
        Traceback (most recent call last):
        ...
        tinydl.saving.ModelFileError: cannot load '...': ... more than the limit of 10 bytes; ...
    """
    from tinydl.layers.base import custom_object_scope

    limit = saving.load_limit(max_bytes)
    from tinydl import saving_keras_files
    keras_model = saving_keras_files.load_model(path, custom_objects, compile, limit)
    if keras_model is not None:
        return keras_model
    with saving.open_file(path, limit) as stored, custom_object_scope(custom_objects):
        if stored.document.get("kind") != MODEL_KIND:
            raise saving.invalid(path, "it holds only weights (written by save_weights); "
                                       "use model.load_weights on a model of the same "
                                       "architecture")
        plan = _build_architecture(stored, limit, allocate=False)
        _check_weights_fit(stored, plan)
        model = _build_architecture(stored, limit, allocate=True)
        state_keys, skipped = [], []
        if compile:
            optimizer = _compiled_optimizer(stored, model)
            state_keys = _check_state_fits(stored, optimizer,
                                           [w.shape for w in model.trainable_weights])
        else:  # neither compiled nor read: the optimizer state stays in the file
            skipped = [k for k in stored.specs if k.startswith("optimizer/")]
        weight_keys = [spec.key for spec in _declared_weights(stored)]
        _check_no_other_arrays(stored, weight_keys + state_keys + skipped)
        for w, key in zip(model.weights, weight_keys):
            w.assign(stored.read(key))
        if state_keys:
            _restore_optimizer(model, {k[len("optimizer/"):]: stored.read(k)
                                       for k in state_keys}, path)
    return model


def _restore_optimizer(model, state: dict, path) -> None:
    """Build the optimizer over the trainable weights (the order fit uses) and set its state
    now, so model.optimizer.iterations is right at once and a bad value is found at load."""
    try:
        model.optimizer.build(model.trainable_weights)
        model.optimizer.set_state(state)
    except (KeyError, TypeError, ValueError) as exc:
        raise saving.invalid(path, f"its optimizer state is not valid ({exc})") from None
