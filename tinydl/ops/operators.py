"""The lowercase wrappers Tensor's operators and methods call (x + y, x.sum(), x[i], ...).

Each wrapper checks its arguments, turns plain numbers and arrays into the dtype of the float
tensor beside them (as TensorFlow's operators do), and applies one Function from this package.
Keras' ops by Keras' names, with Keras' dtype rules, are in keras_*.py beside this file.
"""

from __future__ import annotations

import numpy as np

from tinydl.ops.elementwise import (Abs, Add, Clip, Div, Exp, Log, Mul, Neg, Pow, Relu, Sigmoid,
                                    Sqrt, Sub, Tanh)
from tinydl.ops.keras_core import cast, promoted
from tinydl.ops.matmul import MatMul
from tinydl.ops.movement import Concatenate, GetItem, Reshape, Stack, Transpose
from tinydl.ops.reduce import Max, Mean, Sum


def _tensor_type():
    from tinydl.tensor import Tensor
    return Tensor


def _operands(a, b, op: str):
    """Make both operands usable by a binary op; check that their shapes broadcast."""
    Tensor = _tensor_type()
    if not isinstance(a, Tensor) and not isinstance(b, Tensor):
        a = Tensor(a)
    if not isinstance(a, Tensor) or not isinstance(b, Tensor) or a.dtype != b.dtype:
        a, b = _same_dtype(a, b)
    try:
        np.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        raise ValueError(f"{op}: shapes {a.shape} and {b.shape} do not broadcast "
                         "(each axis must be equal, or 1 on one side)") from None
    return a, b


def _same_dtype(a, b):
    """Operands of one dtype: a plain value takes a float tensor's dtype; otherwise, and between
    two tensors, the dtype is Keras' result type (int32 tensor * 0.5 is float32, not 0)."""
    Tensor = _tensor_type()
    for x, other in ((a, b), (b, a)):
        if isinstance(x, Tensor) and x.dtype.kind == "f" and not isinstance(other, Tensor):
            return tuple(v if v is x else np.asarray(v, dtype=x.dtype) for v in (a, b))
    return tuple(promoted(a, b))


def _float_operands(a, b):
    """Integer operands of a true division become float32 (Keras: int / int is float32)."""
    if a.dtype.kind == "f":
        return a, b
    return cast(a, "float32"), cast(b, "float32")


def add(a, b): return Add.apply(*_operands(a, b, "add"))
def sub(a, b): return Sub.apply(*_operands(a, b, "sub"))
def mul(a, b): return Mul.apply(*_operands(a, b, "mul"))
def div(a, b): return Div.apply(*_float_operands(*_operands(a, b, "div")))
def pow(a, b): return Pow.apply(*_operands(a, b, "pow"))  # noqa: A001 (the Python operator's name)
def matmul(a, b): return MatMul.apply(*_operands_no_broadcast(a, b))
def neg(a): return Neg.apply(a)
def exp(a): return Exp.apply(a)
def log(a): return Log.apply(a)
def sqrt(a): return Sqrt.apply(a)
def tanh(a): return Tanh.apply(a)
def sigmoid(a): return Sigmoid.apply(a)
def relu(a): return Relu.apply(a)
def abs(a): return Abs.apply(a)  # noqa: A001
def clip(a, low, high): return Clip.apply(a, low, high)
def sum(a, axis=None, keepdims=False): return Sum.apply(a, axis, keepdims)  # noqa: A001
def mean(a, axis=None, keepdims=False): return Mean.apply(a, axis, keepdims)
def max(a, axis=None, keepdims=False): return Max.apply(a, axis, keepdims)  # noqa: A001
def getitem(a, index): return GetItem.apply(a, _plain_index(index))


def _operands_no_broadcast(a, b):
    Tensor = _tensor_type()
    a = a if isinstance(a, Tensor) else Tensor(a, dtype=b.dtype if isinstance(b, Tensor) else None)
    b = b if isinstance(b, Tensor) else Tensor(b, dtype=a.dtype)
    return _same_dtype(a, b) if a.dtype != b.dtype else (a, b)


def _plain_index(index):
    """Indices that are Tensors become integer arrays."""
    Tensor = _tensor_type()
    if isinstance(index, tuple):
        return tuple(_plain_index(i) for i in index)
    if isinstance(index, Tensor):
        return index.data.astype(np.int64)
    return index


def reshape(a, *shape):
    """Same data, new shape; one dimension may be -1."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    return Reshape.apply(a, shape)


def transpose(a, *axes):
    """Permute the axes (all reversed when none are given)."""
    if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
        axes = tuple(axes[0])
    return Transpose.apply(a, axes or None)


def flatten(a, start_axis: int = 0):
    """Merge the axes from start_axis on into one: (N, H, W, C) -> (N, H*W*C) for start_axis=1."""
    return reshape(a, a.shape[:start_axis] + (int(np.prod(a.shape[start_axis:])),))


def _same_shapes_but(arrays, axis, what):
    shapes = [t.shape for t in arrays]
    ref = list(shapes[0])
    for s in shapes[1:]:
        if len(s) != len(ref) or any(x != y for i, (x, y) in enumerate(zip(s, ref)) if i != axis):
            raise ValueError(f"{what}: shapes must match except along axis {axis}, got {shapes}")


def concatenate(tensors, axis: int = 0):
    """Join tensors along an existing axis."""
    Tensor = _tensor_type()
    tensors = [t if isinstance(t, Tensor) else Tensor(t) for t in tensors]
    if not tensors:
        raise ValueError("concatenate needs at least one tensor")
    axis = axis % tensors[0].ndim
    _same_shapes_but(tensors, axis, "concatenate")
    return Concatenate.apply(axis, *tensors)


def stack(tensors, axis: int = 0):
    """Join equally shaped tensors along a new axis."""
    Tensor = _tensor_type()
    tensors = [t if isinstance(t, Tensor) else Tensor(t) for t in tensors]
    if not tensors:
        raise ValueError("stack needs at least one tensor")
    if len({t.shape for t in tensors}) != 1:
        raise ValueError(f"stack: all tensors must have one shape, got {[t.shape for t in tensors]}")
    return Stack.apply(axis % (tensors[0].ndim + 1), *tensors)


