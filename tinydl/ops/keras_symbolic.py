"""keras.ops and Python operators on KerasTensors: each call becomes an OpLayer node of the functional graph.

    inputs = keras.Input(shape=(8,))
    x = keras.layers.Dense(4)(inputs)
    y = keras.ops.concatenate([x * 2.0 + 1.0, -x[:, :2]], axis=-1)   # three OpLayer nodes
    model = keras.Model(inputs, y)                                  # they run, train and save

As in Keras, where an op called on KerasTensors records an Operation in the graph: here the
Operation is an OpLayer holding the op's name in tinydl.ops and its arguments, KerasTensors
replaced by slots (the layer's inputs, in flatten order). Its output shapes and dtypes come
from running the op twice on ones, with every unknown size (None) set to 2, then to 3: a size
that differs between the runs is unknown in the output too.

OpLayers are no model.layers (Keras' model.layers lists Layers, not Operations); they are in
the summary and in the saved architecture, where the op is named, never code.
"""

from __future__ import annotations

import functools

import numpy as np

from tinydl import anomaly, tree

# ops that answer about a KerasTensor rather than compute on it, or that take no tensors
NOT_SYMBOLIC = frozenset({"convert_to_numpy", "dtype", "is_tensor", "ndim", "shape", "size",
                          "result_type", "arange", "eye", "full", "linspace", "ones", "zeros"})
# Keras' names of the operations Python's operators make (KerasTensor.__add__ -> ops.add, ...)
_OP_NAMES = {"getitem": "get_item", "sub": "subtract", "mul": "multiply", "div": "true_divide",
             "neg": "negative", "pow": "power"}
_KERAS_TENSOR = []  # [KerasTensor], found on first use (tinydl.layers imports tinydl.ops)


def _keras_tensor_class():
    if not _KERAS_TENSOR:
        from tinydl.layers.symbolic import KerasTensor
        _KERAS_TENSOR.append(KerasTensor)
    return _KERAS_TENSOR[0]


_SUSPECTS = []  # [(KerasTensor, list, tuple, dict)]: what may hold a KerasTensor


def _suspect_types() -> tuple:
    if not _SUSPECTS:
        _SUSPECTS.append((_keras_tensor_class(), list, tuple, dict))
    return _SUSPECTS[0]


def _has_symbolic(values, cls) -> bool:
    for value in values:
        if isinstance(value, cls):
            return True
        if type(value) in (list, tuple) and _has_symbolic(value, cls):
            return True
        if type(value) is dict and _has_symbolic(value.values(), cls):
            return True
    return False


def symbolic_aware(function, name: str):
    """function, which on KerasTensor arguments records an OpLayer node instead of computing.

    Example:
        >>> from tinydl.ops import keras_numpy
        >>> add = symbolic_aware(keras_numpy.add, "add")
        >>> x = tinydl.Input(shape=(3,))
        >>> add(x, 1.0).shape, float(add(np.ones(1), 1.0).data[0])
        ((None, 3), 2.0)
    """
    @functools.wraps(function)
    def op(*args, **kwargs):
        suspects = _SUSPECTS[0] if _SUSPECTS else _suspect_types()
        for value in args:  # one isinstance per argument on the usual path (Tensors, arrays)
            if isinstance(value, suspects):
                if _has_symbolic(args, suspects[0]):
                    return symbolic_call(name, args, kwargs)
                break
        if kwargs and _has_symbolic(kwargs.values(), suspects[0]):
            return symbolic_call(name, args, kwargs)
        return function(*args, **kwargs)

    op.__wrapped__ = function
    return op


class _Slot:
    """Where the i-th KerasTensor stood in an op's arguments."""

    def __init__(self, index: int):
        self.index = index


def _template(structure, tensors: list, cls):
    """structure with each KerasTensor replaced by a _Slot (the tensors appended in order)."""
    if isinstance(structure, cls):
        tensors.append(structure)
        return _Slot(len(tensors) - 1)
    if type(structure) in (list, tuple):
        return type(structure)(_template(v, tensors, cls) for v in structure)
    if type(structure) is dict:
        return {k: _template(v, tensors, cls) for k, v in structure.items()}
    return structure


def _fill(structure, values: list):
    if isinstance(structure, _Slot):
        return values[structure.index]
    if type(structure) in (list, tuple):
        return type(structure)(_fill(v, values) for v in structure)
    if type(structure) is dict:
        return {k: _fill(v, values) for k, v in structure.items()}
    return structure


def symbolic_call(name: str, args: tuple, kwargs: dict):
    """Record tinydl.ops.<name>(*args, **kwargs), some arguments KerasTensors, as a graph node;
    return its output KerasTensor(s).

    Example:
        >>> x = tinydl.Input(shape=(4, 2))
        >>> symbolic_call("sum", (x,), {"axis": 1}).shape
        (None, 2)
    """
    tensors: list = []
    template = _template((tuple(args), dict(kwargs)), tensors, _keras_tensor_class())
    return _op_layer_class()(name, template[0], template[1])(tensors)


def _op_layer_class():
    from tinydl.ops import keras_op_layer
    return keras_op_layer.OpLayer


# ----------------------------------------------------------------------------- config encoding

def encode(value):
    """A JSON-safe form of an op's constant arguments (slices, tuples, arrays, Ellipsis).

    Example:
        >>> encode((slice(None, 2), Ellipsis, 0))
        {'__tuple__': [{'__slice__': [None, 2, None]}, {'__ellipsis__': True}, 0]}
    """
    if isinstance(value, _Slot):
        return {"__tensor__": value.index}
    if isinstance(value, slice):
        return {"__slice__": [encode(value.start), encode(value.stop), encode(value.step)]}
    if value is Ellipsis:
        return {"__ellipsis__": True}
    if isinstance(value, tuple):
        return {"__tuple__": [encode(v) for v in value]}
    if isinstance(value, list):
        return [encode(v) for v in value]
    if isinstance(value, dict):
        return {"__dict__": {str(k): encode(v) for k, v in value.items()}}
    if isinstance(value, np.generic):
        return value.item()
    if hasattr(value, "shape") and hasattr(value, "dtype"):  # an array or a Tensor
        array = np.asarray(getattr(value, "data", value))
        return {"__array__": array.tolist(), "dtype": array.dtype.name}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise TypeError(f"an op argument of type {type(value).__name__} cannot be saved in a "
                    f"model's config. Received: {value!r:.80}")


def decode(value):
    """The inverse of encode (slots come back as _Slot).

    Example:
        >>> decode(encode((slice(None, 2), Ellipsis)))
        (slice(None, 2, None), Ellipsis)
    """
    if isinstance(value, list):
        return [decode(v) for v in value]
    if not isinstance(value, dict):
        return value
    if "__tensor__" in value:
        return _Slot(int(value["__tensor__"]))
    if "__slice__" in value:
        return slice(*(decode(v) for v in value["__slice__"]))
    if "__ellipsis__" in value:
        return Ellipsis
    if "__tuple__" in value:
        return tuple(decode(v) for v in value["__tuple__"])
    if "__dict__" in value:
        return {k: decode(v) for k, v in value["__dict__"].items()}
    if "__array__" in value:
        return np.asarray(value["__array__"], dtype=np.dtype(value["dtype"]))
    raise ValueError(f"unknown encoded op argument {value!r:.80}")


# ----------------------------------------------------------------------------- output specs

def _probe_values(tensors: list, fill: int) -> list:
    from tinydl.ops.keras_core import convert_to_tensor

    return [convert_to_tensor(np.ones(tuple(fill if d is None else d for d in t.shape),
                                      dtype=t.dtype)) for t in tensors]


def output_specs(run, tensors: list, what: str):
    """(an output of run on probe values, [(shape, dtype)] of its flattened leaves), for
    KerasTensor inputs.

    Raises:
        ValueError: the op fails on inputs of these shapes, or its output rank depends on an
            unknown size (naming the op and the shapes).

    Example:
        >>> x = tinydl.Input(shape=(3,))
        >>> output_specs(lambda v: tinydl.ops.greater(v[0][:, 0], 0), [x], "greater")[1]
        [((None,), 'bool')]
    """
    from tinydl.autograd import no_grad

    results = []
    for fill in (2, 3):
        try:
            with no_grad(), anomaly.suspended(), np.errstate(all="ignore"):
                results.append(run(_probe_values(tensors, fill)))
        except (ValueError, TypeError, IndexError) as exc:
            shapes = [t.shape for t in tensors]
            raise ValueError(f"{what} cannot be applied to KerasTensors of shapes {shapes}: "
                             f"{exc}") from exc
    first, second = (tree.flatten(r) for r in results)

    def spec(a, b):
        if np.ndim(a) != np.ndim(b):
            raise ValueError(f"{what}: the rank of its output depends on the batch size (or "
                             f"another unknown size), which a functional graph cannot hold. "
                             f"Received inputs of shapes {[t.shape for t in tensors]}")
        shape = tuple(int(x) if x == y else None for x, y in zip(np.shape(a), np.shape(b)))
        return shape, np.asarray(getattr(a, "data", a)).dtype.name

    return results[0], [spec(a, b) for a, b in zip(first, second)]
