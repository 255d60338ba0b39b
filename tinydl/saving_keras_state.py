"""Compile settings and optimizer variables between Keras' files and tinydl models.

Keras 3 keeps an optimizer's variables as one list: iterations, learning_rate (unless it is
a schedule), then the slots, in the order its build made them: Adam and AdamW interleave
momentum and velocity per model variable (then velocity_hat per variable for amsgrad);
RMSprop makes every velocity, then every momentum, then every average_gradient; SGD every
momentum; Nadam adds its momentum schedule's product, u_product, after the slots. tinydl
names the same arrays 'slot.<name>.<i>' (and 'u_product'); keras_order maps one to the other.
"""

from __future__ import annotations

import numpy as np

from tinydl import losses, metrics, model_io, optimizers, saving, schedules
from tinydl import saving_keras_config as kc

_SLOT_GROUPS = {"Adam": [("momentum", "velocity"), ("velocity_hat",)],
                "AdamW": [("momentum", "velocity"), ("velocity_hat",)],
                "RMSprop": [("velocity",), ("momentum",), ("average_gradient",)],
                "SGD": [("momentum",)], "Adamax": [("momentum", "norm")],
                "Adagrad": [("accumulator",)], "Lion": [("momentum",)],
                "Adadelta": [("accumulated_grad", "accumulated_delta_var")],
                "Nadam": [("momentum", "velocity")]}
_AFTER_SLOTS = {"Nadam": ["u_product"]}  # Keras builds Nadam's schedule product last


def keras_order(optimizer, count: int) -> list:
    """tinydl's state keys of optimizer over count variables, in Keras' variable order.

    Args:
        optimizer: a tinydl optimizer.
        count: how many variables it updates.

    Returns:
        The keys of optimizer.get_state(), in the order Keras lists its variables.

    Raises:
        ValueError: the optimizer is not one whose Keras variable order is known.

    Example:
        >>> keras_order(tinydl.optimizers.Adam(), 2)
        ['iterations', 'learning_rate', 'slot.momentum.0', 'slot.velocity.0', 'slot.momentum.1', 'slot.velocity.1']
        >>> keras_order(tinydl.optimizers.Nadam(), 1)
        ['iterations', 'learning_rate', 'slot.momentum.0', 'slot.velocity.0', 'u_product']
        >>> class Mine(tinydl.optimizers.SGD):
        ...     pass
        >>> keras_order(Mine(), 1)
        Traceback (most recent call last):
        ...
        ValueError: optimizer Mine has no Keras variable order
    """
    spec = optimizer.state_spec([()] * count)
    keys = [k for k in ("iterations", "learning_rate") if k in spec]
    slots = set(optimizer.slot_names())
    groups = _SLOT_GROUPS.get(type(optimizer).__name__)
    if groups is None:
        raise ValueError(f"optimizer {type(optimizer).__name__} has no Keras variable order")
    for group in groups:
        names = [n for n in group if n in slots]
        keys += [f"slot.{n}.{i}" for i in range(count) for n in names]
    keys += _AFTER_SLOTS.get(type(optimizer).__name__, [])
    if set(keys) != set(spec):
        raise ValueError(f"optimizer {type(optimizer).__name__}: slots {sorted(slots)} do not "
                         "match Keras' variables")
    return keys


def state_to_keras(optimizer) -> list:
    """The optimizer's state as Keras' list of arrays (iterations int64, the rest float32).

    Args:
        optimizer: a built tinydl optimizer.

    Returns:
        The arrays, in keras_order.

    Example:
        >>> model = tinydl.Sequential([tinydl.Input((3,)), tinydl.layers.Dense(2)])
        >>> optimizer = tinydl.optimizers.Adam()
        >>> optimizer.build(model.trainable_weights)
        >>> [(a.dtype.name, a.shape) for a in state_to_keras(optimizer)][:3]
        [('int64', ()), ('float32', ()), ('float32', (3, 2))]
    """
    state = optimizer.get_state()
    count = len(optimizer._variables)
    keys = keras_order(optimizer, count)
    return [np.asarray(state[k], np.int64 if k == "iterations" else np.float32).reshape(
        () if k in ("iterations", "learning_rate") else np.shape(state[k])) for k in keys]


def state_from_keras(optimizer, values: list, shapes: list, path) -> dict:
    """tinydl's state dict from Keras' list of arrays, checked against the variables' shapes.

    Args:
        optimizer: the tinydl optimizer the state is for.
        values: Keras' arrays, in keras_order.
        shapes: the shapes of the variables it updates.
        path: the file, for messages.

    Returns:
        {key: array} for optimizer.set_state.

    Raises:
        ModelFileError: the count or a shape of the arrays does not fit.

    Example:
        >>> model = tinydl.Sequential([tinydl.Input((3,)), tinydl.layers.Dense(2)])
        >>> optimizer = tinydl.optimizers.Adam()
        >>> optimizer.build(model.trainable_weights)
        >>> shapes = [w.shape for w in model.trainable_weights]
        >>> state = state_from_keras(optimizer, state_to_keras(optimizer), shapes, "m.keras")
        >>> sorted(state) == sorted(keras_order(optimizer, 2))
        True
        >>> state_from_keras(optimizer, state_to_keras(optimizer)[:-1], shapes, "m.keras")
        Traceback (most recent call last):
        ...
        tinydl.saving.ModelFileError: ...its optimizer holds 5 variables, but Adam over this model has 6...
    """
    keys = keras_order(optimizer, len(shapes))
    spec = optimizer.state_spec(shapes)
    if len(values) != len(keys):
        raise saving.invalid(path, f"its optimizer holds {len(values)} variables, but "
                                   f"{type(optimizer).__name__} over this model has {len(keys)}")
    state = {}
    for key, value in zip(keys, values):
        dtype, shape = spec[key]
        if tuple(np.shape(value)) != tuple(shape):
            raise saving.invalid(path, f"optimizer variable '{key}' has shape {np.shape(value)}"
                                       f", but the model needs {shape}")
        state[key] = np.asarray(value, dtype)
    return state


# ----------------------------------------------------------------------------- compile

_MODULES = {"optimizer": (optimizers, optimizers.Optimizer, "keras.optimizers"),
            "loss": (losses, losses.Loss, "keras.losses"),
            "metric": (metrics, metrics.Metric, "keras.metrics"),
            "learning-rate schedule": (schedules, schedules.LearningRateSchedule,
                                       "keras.optimizers.schedules")}
_COMPILE_HARMLESS = {"use_ema": lambda v: v is False, "ema_momentum": lambda v: True,
                     "ema_overwrite_frequency": lambda v: True, "loss_scale_factor": kc._is_none,
                     "gradient_accumulation_steps": kc._is_none, "is_legacy_optimizer":
                     lambda v: v is False, "jit_compile": lambda v: True, "decay":
                     lambda v: v == 0, "dtype": kc._is_float32_policy, "reduction":
                     lambda v: v in ("sum_over_batch_size", "auto", None)}


def _object_from_keras(spec, what: str, path):
    """A loss / metric / optimizer / schedule from Keras' {'class_name', 'config'}."""
    if spec is None or isinstance(spec, str):
        return spec
    module, base, _ = _MODULES[what]
    if what == "metric" and isinstance(spec, dict) and spec.get("class_name") == \
            "MeanMetricWrapper":  # Keras 2 writes a named metric so: {'name', 'fn'}
        config = spec.get("config") or {}
        name = config.get("name") if isinstance(config.get("name"), str) else config.get("fn")
        if isinstance(name, str):
            return name
    if not isinstance(spec, dict) or not isinstance(spec.get("config", {}), dict):
        raise saving.invalid(path, f"unknown {what} {spec!r:.80}")
    name = str(spec.get("class_name"))
    cls = model_io._loadable(module, base).get(name.split(">")[-1] if name.startswith(
        "Custom>") else name)
    if cls is None:
        raise saving.invalid(path, f"the {what} {spec.get('class_name')!r:.60} is not one "
                                   f"tinydl has (it has {sorted(model_io._loadable(module, base))})")
    keys = kc.constructor_keys(cls)
    config = {}
    for key, value in (spec.get("config") or {}).items():
        if key in keys:
            config[key] = value
        elif not _COMPILE_HARMLESS.get(key, lambda v: False)(value):
            raise saving.invalid(path, f"the {what} {cls.__name__} option {key}={value!r:.60} "
                                       "is not supported by tinydl")
    if what == "optimizer" and isinstance(config.get("learning_rate"), dict):
        config["learning_rate"] = _object_from_keras(config["learning_rate"],
                                                     "learning-rate schedule", path)
    if what == "optimizer":
        config.pop("name", None)
    try:
        return cls(**config)
    except (TypeError, ValueError) as exc:
        raise saving.invalid(path, f"the {what} {cls.__name__} cannot be rebuilt "
                                   f"({exc})") from None


# Short names Keras 3's legacy reader cannot resolve for a loss: write the full name.
_FULL_LOSS_NAMES = {"mse": "mean_squared_error", "mae": "mean_absolute_error",
                    "mape": "mean_absolute_percentage_error",
                    "msle": "mean_squared_logarithmic_error"}


def _object_to_keras(obj, what: str, legacy: bool):
    entry = model_io._serialize(obj, _MODULES[what][0], _MODULES[what][1], what)
    if what == "loss" and isinstance(entry, str):
        return _FULL_LOSS_NAMES.get(entry, entry)
    if isinstance(entry, dict):
        config = dict(entry["config"])
        if what == "optimizer" and callable(getattr(obj, "_learning_rate", None)):
            config["learning_rate"] = _object_to_keras(obj._learning_rate,
                                                       "learning-rate schedule", legacy)
        if legacy and what == "optimizer" and config.get("weight_decay") is None:
            config.pop("weight_decay", None)  # TF 2's Keras reads these as its v2 optimizers
        entry = {"class_name": entry["class_name"], "config": config}
        if not legacy:
            entry = {"module": _MODULES[what][2], **entry, "registered_name": None}
    return entry


def compile_to_keras(model, legacy: bool) -> dict | None:
    """Keras' compile_config (legacy: training_config) of a compiled tinydl model.

    Args:
        model: a model.
        legacy: True for Keras 2's training_config (optimizer_config, no 'module').

    Returns:
        The config, or None for a model that is not compiled.

    Example:
        >>> model = tinydl.Sequential([tinydl.Input((3,)), tinydl.layers.Dense(2)])
        >>> compile_to_keras(model, legacy=False) is None
        True
        >>> model.compile("adam", "mse")
        >>> config = compile_to_keras(model, legacy=False)
        >>> config["loss"], config["optimizer"]["class_name"], config["optimizer"]["config"]["learning_rate"]
        ('mean_squared_error', 'Adam', 0.001)
    """
    if not getattr(model, "compiled", False):
        return None
    config = {"loss": model_io._map_specs(model.loss, lambda v: _object_to_keras(v, "loss",
                                                                                 legacy)),
              "loss_weights": model._loss_weights,
              "metrics": model_io._map_specs(model._metric_specs, lambda m: _object_to_keras(
                  m, "metric", legacy)),
              "weighted_metrics": None, "run_eagerly": False, "steps_per_execution": 1,
              "jit_compile": False}
    optimizer = _object_to_keras(model.optimizer, "optimizer", legacy)
    if legacy:
        config["optimizer_config"] = optimizer
    else:
        config["optimizer"] = optimizer
    return config


def compile_from_keras(model, config: dict, path):
    """Compile model from Keras' compile_config or training_config; its optimizer.

    Args:
        model: the model to compile.
        config: Keras' compile_config (or Keras 2's training_config).
        path: the file, for messages.

    Returns:
        The model's new optimizer.

    Raises:
        ModelFileError: the settings are malformed, or name a loss, metric or optimizer
            tinydl does not have.

    Example:
        >>> model = tinydl.Sequential([tinydl.Input((3,)), tinydl.layers.Dense(2)])
        >>> model.compile(tinydl.optimizers.SGD(0.5), "mse")
        >>> config = compile_to_keras(model, legacy=False)
        >>> other = tinydl.Sequential([tinydl.Input((3,)), tinydl.layers.Dense(2)])
        >>> optimizer = compile_from_keras(other, config, "m.keras")
        >>> type(optimizer).__name__, float(optimizer.learning_rate), other.compiled
        ('SGD', 0.5, True)
        >>> compile_from_keras(other, "adam", "m.keras")
        Traceback (most recent call last):
        ...
        tinydl.saving.ModelFileError: ...its compile settings are malformed: 'adam'
    """
    if not isinstance(config, dict):
        raise saving.invalid(path, f"its compile settings are malformed: {config!r:.80}")
    optimizer = config.get("optimizer", config.get("optimizer_config"))
    optimizer = _object_from_keras(optimizer, "optimizer", path)
    loss = model_io._map_specs(config.get("loss"), lambda v: _object_from_keras(v, "loss", path))
    metric_specs = model_io._map_specs(config.get("metrics"),
                                       lambda m: _object_from_keras(m, "metric", path))
    if isinstance(metric_specs, list) and len(metric_specs) == 1 and \
            isinstance(metric_specs[0], list):
        metric_specs = metric_specs[0]  # Keras 2 writes one list per output
    try:
        model.compile(optimizer=optimizer or "rmsprop", loss=loss, metrics=metric_specs,
                      loss_weights=config.get("loss_weights"))
    except (TypeError, ValueError, KeyError) as exc:
        raise saving.invalid(path, f"its compile settings are not valid ({exc})") from None
    return model.optimizer
