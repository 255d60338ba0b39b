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


def add(a, b):
    """a + b (what Tensor.__add__ calls); a plain operand takes the tensor's dtype.

    Example:
        >>> add(tinydl.Tensor([1.0, 2.0]), 3)
        Tensor([4., 5.])
    """
    return Add.apply(*_operands(a, b, "add"))


def sub(a, b):
    """a - b (what Tensor.__sub__ calls).

    Example:
        >>> sub(tinydl.Tensor([1.0, 2.0]), tinydl.Tensor([0.5, 0.5]))
        Tensor([0.5, 1.5])
    """
    return Sub.apply(*_operands(a, b, "sub"))


def mul(a, b):
    """a * b (what Tensor.__mul__ calls).

    Example:
        >>> mul(tinydl.Tensor([1.0, 2.0]), 2.0)
        Tensor([2., 4.])
    """
    return Mul.apply(*_operands(a, b, "mul"))


def div(a, b):
    """a / b (what Tensor.__truediv__ calls); integers divide as floats.

    Example:
        >>> div(tinydl.Tensor([1.0, 3.0]), 2.0)
        Tensor([0.5, 1.5])
    """
    return Div.apply(*_float_operands(*_operands(a, b, "div")))


def pow(a, b):  # noqa: A001 (the Python operator's name)
    """a ** b (what Tensor.__pow__ calls).

    Example:
        >>> pow(tinydl.Tensor([2.0, 3.0]), 2.0)
        Tensor([4., 9.])
    """
    return Pow.apply(*_operands(a, b, "pow"))


def matmul(a, b):
    """a @ b (what Tensor.__matmul__ calls).

    Example:
        >>> matmul(tinydl.Tensor(np.ones((2, 3))), tinydl.Tensor(np.ones((3, 4)))).shape
        (2, 4)
    """
    return MatMul.apply(*_operands_no_broadcast(a, b))


def neg(a):
    """-a (what Tensor.__neg__ calls).

    Example:
        >>> neg(tinydl.Tensor([1.0, -2.0]))
        Tensor([-1.,  2.])
    """
    return Neg.apply(a)


def exp(a):
    """e ** a per element (Tensor.exp).

    Example:
        >>> exp(tinydl.Tensor([0.0, 1.0]))
        Tensor([1.    , 2.7183])
    """
    return Exp.apply(a)


def log(a):
    """The natural logarithm per element (Tensor.log).

    Example:
        >>> log(tinydl.Tensor([1.0, np.e]))
        Tensor([0., 1.])
    """
    return Log.apply(a)


def sqrt(a):
    """The square root per element (Tensor.sqrt).

    Example:
        >>> sqrt(tinydl.Tensor([4.0, 9.0]))
        Tensor([2., 3.])
    """
    return Sqrt.apply(a)


def tanh(a):
    """The hyperbolic tangent per element (Tensor.tanh).

    Example:
        >>> tanh(tinydl.Tensor([0.0, 100.0]))
        Tensor([0., 1.])
    """
    return Tanh.apply(a)


def sigmoid(a):
    """1 / (1 + exp(-a)) per element, computed stably (Tensor.sigmoid).

    Example:
        >>> sigmoid(tinydl.Tensor([0.0, 100.0]))
        Tensor([0.5, 1. ])
    """
    return Sigmoid.apply(a)


def relu(a):
    """max(a, 0) per element (Tensor.relu).

    Example:
        >>> relu(tinydl.Tensor([-1.0, 2.0]))
        Tensor([0., 2.])
    """
    return Relu.apply(a)


def abs(a):  # noqa: A001
    """|a| per element (abs(tensor)).

    Example:
        >>> abs(tinydl.Tensor([-1.5, 2.0]))
        Tensor([1.5, 2. ])
    """
    return Abs.apply(a)


def clip(a, low, high):
    """a limited to [low, high] (Tensor.clip).

    Example:
        >>> clip(tinydl.Tensor([-2.0, 0.5, 3.0]), 0.0, 1.0)
        Tensor([0. , 0.5, 1. ])
    """
    return Clip.apply(a, low, high)


def sum(a, axis=None, keepdims=False):  # noqa: A001
    """The sum over axis, all axes when None (Tensor.sum).

    Example:
        >>> x = tinydl.Tensor([[1.0, 2.0], [3.0, 4.0]])
        >>> sum(x), sum(x, axis=1, keepdims=True).shape
        (Tensor(10.), (2, 1))
    """
    return Sum.apply(a, axis, keepdims)


def mean(a, axis=None, keepdims=False):
    """The mean over axis, all axes when None (Tensor.mean).

    Example:
        >>> mean(tinydl.Tensor([[1.0, 2.0], [3.0, 4.0]]), axis=0)
        Tensor([2., 3.])
    """
    return Mean.apply(a, axis, keepdims)


def max(a, axis=None, keepdims=False):  # noqa: A001
    """The largest element over axis, all axes when None (Tensor.max).

    Example:
        >>> max(tinydl.Tensor([[1.0, 5.0], [3.0, 2.0]]), axis=1)
        Tensor([5., 3.])
    """
    return Max.apply(a, axis, keepdims)


def getitem(a, index):
    """a[index] (what Tensor.__getitem__ calls); the gradient scatters back.

    Example:
        >>> getitem(tinydl.Tensor([[1.0, 2.0], [3.0, 4.0]]), (slice(None), 1))
        Tensor([2., 4.])
    """
    return GetItem.apply(a, _plain_index(index))


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
    """Same data, new shape; one dimension may be -1.

    Example:
        >>> reshape(tinydl.Tensor(np.zeros(6)), 2, -1).shape
        (2, 3)
    """
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    return Reshape.apply(a, shape)


def transpose(a, *axes):
    """Permute the axes (all reversed when none are given).

    Example:
        >>> x = tinydl.Tensor(np.zeros((2, 3, 4)))
        >>> transpose(x).shape, transpose(x, 0, 2, 1).shape
        ((4, 3, 2), (2, 4, 3))
    """
    if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
        axes = tuple(axes[0])
    return Transpose.apply(a, axes or None)


def flatten(a, start_axis: int = 0):
    """Merge the axes from start_axis on into one: (N, H, W, C) -> (N, H*W*C) for start_axis=1.

    Example:
        >>> flatten(tinydl.Tensor(np.zeros((2, 3, 4))), 1).shape
        (2, 12)
    """
    return reshape(a, a.shape[:start_axis] + (int(np.prod(a.shape[start_axis:])),))


def _same_shapes_but(arrays, axis, what):
    shapes = [t.shape for t in arrays]
    ref = list(shapes[0])
    for s in shapes[1:]:
        if len(s) != len(ref) or any(x != y for i, (x, y) in enumerate(zip(s, ref)) if i != axis):
            raise ValueError(f"{what}: shapes must match except along axis {axis}, got {shapes}")


def concatenate(tensors, axis: int = 0):
    """Join tensors along an existing axis.

    Example:
        >>> concatenate([tinydl.Tensor(np.zeros((2, 3))), tinydl.Tensor(np.ones((1, 3)))]).shape
        (3, 3)
    """
    Tensor = _tensor_type()
    tensors = [t if isinstance(t, Tensor) else Tensor(t) for t in tensors]
    if not tensors:
        raise ValueError("concatenate needs at least one tensor")
    axis = axis % tensors[0].ndim
    _same_shapes_but(tensors, axis, "concatenate")
    return Concatenate.apply(axis, *tensors)


def stack(tensors, axis: int = 0):
    """Join equally shaped tensors along a new axis.

    Example:
        >>> stack([tinydl.Tensor([1.0, 2.0]), tinydl.Tensor([3.0, 4.0])], axis=1)
        Tensor([[1., 3.],
                [2., 4.]])
    """
    Tensor = _tensor_type()
    tensors = [t if isinstance(t, Tensor) else Tensor(t) for t in tensors]
    if not tensors:
        raise ValueError("stack needs at least one tensor")
    if len({t.shape for t in tensors}) != 1:
        raise ValueError(f"stack: all tensors must have one shape, got {[t.shape for t in tensors]}")
    return Stack.apply(axis % (tensors[0].ndim + 1), *tensors)


