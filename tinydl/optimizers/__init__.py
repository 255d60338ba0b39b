"""Optimizers with Keras' names, defaults and arithmetic: SGD, Adam, AdamW, RMSprop, Adagrad,
Adadelta, Adamax, Nadam and Lion.

    model.compile(optimizer="adam", ...)                       # by name, Keras' defaults
    model.compile(optimizer=tinydl.optimizers.SGD(0.1, momentum=0.9), ...)

Learning-rate schedules are in tinydl.optimizers.schedules (the module tinydl.schedules).
"""

from __future__ import annotations

from tinydl import schedules
from tinydl.optimizers.adagrad import Adadelta, Adagrad
from tinydl.optimizers.adam import Adam, AdamW
from tinydl.optimizers.adamax import Adamax, Nadam
from tinydl.optimizers.base import Optimizer
from tinydl.optimizers.rmsprop import RMSprop
from tinydl.optimizers.lion import Lion
from tinydl.optimizers.sgd import SGD

_BY_NAME = {cls.__name__.lower(): cls for cls in (SGD, Adam, AdamW, RMSprop, Adagrad, Adadelta, Adamax, Nadam, Lion)}


def get(identifier) -> Optimizer:
    """An optimizer from a name ('sgd', 'adam', 'rmsprop', 'adagrad', ...; Keras' defaults) or an instance.

    Raises:
        ValueError: an unknown name (the message lists the valid ones).
        TypeError: neither a string nor an Optimizer.

    Example:
        >>> get("adam").learning_rate, type(get("sgd")).__name__
        (0.001, 'SGD')
    """
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, str):
        cls = _BY_NAME.get(identifier.lower())
        if cls is None:
            raise ValueError(f"unknown optimizer {identifier!r}; valid names: {sorted(_BY_NAME)}, "
                             "or an instance such as tinydl.optimizers.Adam(learning_rate=1e-3)")
        return cls()
    raise TypeError(f"optimizer must be a name or a tinydl.optimizers.Optimizer, "
                    f"got {type(identifier).__name__}: {identifier!r}")


__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "Adamax", "Nadam", "Lion",
           "get", "schedules"]

from tinydl import keras_names  # noqa: E402

__getattr__ = keras_names.missing(__name__, "optimizers")  # a Keras name tinydl lacks: a clear error
