"""Keras' core ops and its dtype rules: convert_to_tensor/numpy, cast, shape, stop_gradient.

Keras' ops take Tensors, NumPy arrays and Python numbers alike and return Tensors. Their result
dtype follows Keras' promotion rules (those of JAX), which differ from NumPy's in three ways:

    int32 array + float32 array  -> float32   (NumPy: float64)
    int32 array + 2.5            -> float32   (a Python number is "weak": it adopts the other side)
    sqrt(int array)              -> float32   (a float op on integers gives Keras' floatx)

Integer and boolean Tensors come out of ops such as argmax, equal and cast; they never require
a gradient.
"""

from __future__ import annotations

import numpy as np

from tinydl.autograd import Function

FLOATX = "float32"  # Keras' backend.floatx()
_SUPPORTED = ("bool", "uint8", "uint16", "uint32", "uint64", "int8", "int16", "int32", "int64",
              "float16", "float32", "float64")
_FLOAT_WIDTH = {"float16": 16, "float32": 32, "float64": 64}


def _tensor_type():
    from tinydl.tensor import Tensor
    return Tensor


def standardize_dtype(dtype, where: str = "dtype") -> str:
    """A dtype name ('float32', 'int64', 'bool', ...) from a name, a NumPy dtype or a Python type.

    Raises:
        ValueError: for a dtype tinydl cannot hold (bfloat16, strings, complex numbers).

    Example:
        >>> standardize_dtype(np.float32), standardize_dtype("float"), standardize_dtype(None)
        ('float32', 'float32', 'float32')
    """
    if dtype is None or dtype is float or (isinstance(dtype, str) and dtype == "float"):
        return FLOATX
    if dtype is int or (isinstance(dtype, str) and dtype == "int"):
        return "int32"
    if dtype is bool:
        return "bool"
    try:
        name = np.dtype(dtype).name
    except TypeError:
        name = str(getattr(dtype, "name", dtype))
    if name not in _SUPPORTED:
        raise ValueError(f"Invalid {where}: tinydl supports {', '.join(_SUPPORTED)}. "
                         f"Received: {where}={dtype!r}")
    return name


def is_float_dtype(dtype) -> bool:
    """True for a floating dtype (float16, float32, float64, ...).

    Example:
        >>> is_float_dtype("float16"), is_float_dtype("int32")
        (True, False)
    """
    return np.dtype(dtype).kind == "f"


def _kind(name: str) -> str:
    """'b' (bool), 'u' (unsigned), 'i' (signed) or 'f' (float).

    Example:
        >>> is_float_dtype("float16"), is_float_dtype("int32")
        (True, False)
    """
    return np.dtype(name).kind


def result_type(*dtypes) -> str:
    """The dtype Keras gives an op on operands of these dtypes.

    Each argument is a dtype, or the Python type int/float for a weak Python number (which adopts
    the dtype of the other operands). Floats beat integers, integers beat booleans; within a kind
    the wider type wins (uint8 with int8 gives int16, as in NumPy); int with float gives the float.

    Example:
        >>> result_type("int64", "float32"), result_type("int32", float), result_type(int, int)
        ('float32', 'float32', 'int32')
    """
    weak = {d for d in dtypes if d is int or d is float}
    strong = [standardize_dtype(d) for d in dtypes if d is not int and d is not float]
    floats = [d for d in strong if _kind(d) == "f"]
    if floats:
        return max(floats, key=_FLOAT_WIDTH.get)
    if float in weak:
        return FLOATX
    ints = [d for d in strong if _kind(d) in "iu"]
    if ints:
        out = np.dtype(ints[0])
        for d in ints[1:]:
            out = np.promote_types(out, d)
        return FLOATX if out.kind == "f" else out.name  # uint64 with a signed int: Keras' float
    if int in weak:
        return "int32"
    return "bool" if strong else FLOATX


def dtype_of(x):
    """x's dtype name, or the Python type int/float for a weak Python number.

    Example:
        >>> dtype_of(np.zeros(2, np.int64)), dtype_of(3), dtype_of(2.5)
        ('int64', <class 'int'>, <class 'float'>)
    """
    if isinstance(x, bool):
        return "bool"
    if isinstance(x, (int, float)):
        return type(x)
    if hasattr(x, "dtype"):
        return standardize_dtype(x.dtype, "x.dtype")
    return convert_to_tensor(x).dtype.name


def convert_to_tensor(x, dtype=None, sparse=None, ragged=None):
    """A Tensor holding x: the same Tensor when x already is one of that dtype.

    The dtype, when not given, is x's own for arrays and Tensors; Python floats give float32,
    Python ints int32 (int64 when a value does not fit), Python bools bool, as in Keras.

    Args:
        x: a Tensor, a NumPy array, a Python number or a (nested) list of them.
        dtype: the dtype to convert to (a cast that keeps the gradient for float to float).
        sparse, ragged: only False/None (tinydl has no sparse or ragged tensors).

    Example:
        >>> convert_to_tensor([1, 2]).dtype, convert_to_tensor(np.ones(2)).dtype
        (dtype('int32'), dtype('float64'))
    """
    if sparse or ragged:
        raise NotImplementedError("convert_to_tensor: tinydl has no sparse or ragged tensors. "
                                  f"Received: sparse={sparse}, ragged={ragged}")
    Tensor = _tensor_type()
    if isinstance(x, Tensor):
        return x if dtype is None else cast(x, dtype)
    if isinstance(x, (list, tuple)) and any(isinstance(v, Tensor) for v in x):
        from tinydl.ops.keras_array import stack
        out = stack(list(x))
        return out if dtype is None else cast(out, dtype)
    array = _as_array(x)
    if dtype is not None:
        array = array.astype(standardize_dtype(dtype), copy=False)
    return Tensor._wrap(array)


def _as_array(x) -> np.ndarray:
    """x as an array with Keras' default dtype for Python values."""
    if isinstance(x, (np.ndarray, np.generic)):
        return np.asarray(x)
    array = np.asarray(x)
    if array.dtype == object or array.dtype.kind not in "biuf":
        raise TypeError(f"Cannot convert {type(x).__name__} to a tensor: expected numbers, a "
                        f"NumPy array or a Tensor. Received: x={x!r:.80}")
    if array.dtype == np.float64:
        return array.astype(np.float32)
    if array.dtype == np.int64 and (array.size == 0 or np.abs(array).max() < 2**31):
        return array.astype(np.int32)
    return array


def convert_to_numpy(x) -> np.ndarray:
    """x as a NumPy array (a copy, so changing it never changes a tensor).

    Example:
        >>> convert_to_numpy(tinydl.Tensor([1.0, 2.0]))
        array([1., 2.], dtype=float32)
    """
    return np.array(x.data if isinstance(x, _tensor_type()) else x)


class Cast(Function):
    """x.astype(dtype); between floats the gradient flows back (cast to the input's dtype).

    Example:
        >>> x = tinydl.Tensor([1.5, 2.5], requires_grad=True)
        >>> y = Cast.apply(x, "float16")
        >>> y.sum().backward()
        >>> y.dtype, x.grad
        (dtype('float16'), array([1., 1.], dtype=float32))
    """

    @staticmethod
    def forward(ctx, a, dtype):
        return a.astype(dtype)

    @staticmethod
    def backward(ctx, grad):
        return grad, None


def cast(x, dtype):
    """x converted to dtype. float -> float keeps the gradient; to int or bool it stops.

    float -> int truncates toward zero (1.7 -> 1, -1.7 -> -1), as in Keras and NumPy.

    Example:
        >>> cast([1.7, -1.7], "int32"), cast([1, 2], "float32")
        (Tensor([ 1, -1], dtype=int32), Tensor([1., 2.]))
    """
    dtype = standardize_dtype(dtype)
    x = convert_to_tensor(x)
    if x.dtype == dtype:
        return x
    if is_float_dtype(dtype) and is_float_dtype(x.dtype):
        return Cast.apply(x, np.dtype(dtype))
    return _tensor_type()._wrap(x.data.astype(dtype))


def stop_gradient(variable):
    """The same values, cut from the graph: no gradient flows back through them.

    Example:
        >>> x = tinydl.Tensor([2.0], requires_grad=True)
        >>> y = x * stop_gradient(x)
        >>> y.backward()
        >>> x.grad
        array([2.], dtype=float32)
    """
    return _tensor_type()._wrap(convert_to_tensor(variable).data)


def shape(x) -> tuple:
    """x's shape as a tuple of ints.

    Example:
        >>> shape(np.zeros((2, 3))), shape(1.0)
        ((2, 3), ())
    """
    return tuple(x.shape) if hasattr(x, "shape") else np.shape(x)


def dtype(x) -> str:
    """x's dtype name ('float32', 'int32', ...), as keras.ops.dtype.

    Example:
        >>> dtype(tinydl.Tensor([1.0])), dtype([1, 2])
        ('float32', 'int32')
    """
    return convert_to_tensor(x).dtype.name


def is_tensor(x) -> bool:
    """True for a tinydl Tensor.

    Example:
        >>> is_tensor(tinydl.Tensor([1.0])), is_tensor(np.ones(1))
        (True, False)
    """
    return isinstance(x, _tensor_type())


def size(x) -> int:
    """The number of elements of x.

    Example:
        >>> size(np.zeros((2, 3)))
        6
    """
    return int(np.prod(shape(x)))


def ndim(x) -> int:
    """The number of dimensions of x.

    Example:
        >>> ndim(np.zeros((2, 3))), ndim(5)
        (2, 0)
    """
    return len(shape(x))


# ----------------------------------------------------------------------------- helpers for ops

def tensor_of(x, dtype=None):
    """x as a Tensor (Keras' default dtypes), cast to dtype when given.

    Example:
        >>> tensor_of([1, 2]), tensor_of([1, 2], "float32")
        (Tensor([1, 2], dtype=int32), Tensor([1., 2.]))
    """
    return convert_to_tensor(x, dtype)


def float_tensor(x):
    """x as a floating Tensor: integers and booleans become float32 (Keras' floatx).

    Example:
        >>> float_tensor([1, 2]), float_tensor(np.array([1.0], np.float16))
        (Tensor([1., 2.]), Tensor([1.], dtype=float16))
    """
    x = convert_to_tensor(x)
    return x if x.dtype.kind == "f" else cast(x, FLOATX)


def promoted(*xs):
    """The operands as Tensors of their common Keras result dtype, in order.

    Example:
        >>> a, b = promoted([1, 2], np.array([0.5], np.float32))
        >>> a.dtype, b.dtype
        (dtype('float32'), dtype('float32'))
    """
    target = result_type(*(dtype_of(x) for x in xs))
    return [convert_to_tensor(x, target) for x in xs]


def plain(x):
    """x's array (for a Tensor) or x itself.

    Example:
        >>> plain(tinydl.Tensor([1.0])), plain(3)
        (array([1.], dtype=float32), 3)
    """
    return x.data if isinstance(x, _tensor_type()) else x
