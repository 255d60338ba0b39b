"""Keras' NumPy-style math by Keras' names: arithmetic, unary math, comparisons, reductions.

Every function takes Tensors, NumPy arrays or Python numbers and returns a Tensor (NumPy in,
a Tensor out), with Keras' result dtype (keras_core.result_type). Those Keras differentiates
record the autograd graph through the Functions of elementwise.py and reduce.py.

    >>> from tinydl import ops
    >>> ops.mean(ops.square(np.array([1.0, 2.0, 3.0])))
    Tensor(4.6667, dtype=float64)
"""

from __future__ import annotations

import builtins

import numpy as np

from tinydl.ops import operators
from tinydl.ops.elementwise import (Abs, Add, Cos, Div, Exp, Log, Log1p, Maximum, Minimum, Mul,
                                    Neg, Pow, Sin, Sqrt, Sub, Tanh, Where)
from tinydl.ops.keras_core import (FLOATX, cast, dtype_of, float_tensor, plain, promoted,
                                   result_type, tensor_of)
from tinydl.ops.reduce import Max, Mean, Prod, Sum, _normalize_axes

__all__ = [
    "add", "subtract", "multiply", "divide", "true_divide", "power", "maximum", "minimum",
    "negative", "square", "sqrt", "exp", "log", "log1p", "tanh", "sin", "cos", "abs", "absolute",
    "sign", "floor", "ceil", "round", "clip", "where",
    "equal", "not_equal", "greater", "greater_equal", "less", "less_equal",
    "logical_and", "logical_or", "logical_xor", "logical_not", "isnan", "isinf", "isfinite",
    "sum", "prod", "mean", "max", "min", "argmax", "argmin", "var", "std", "logsumexp",
    "any", "all",
]


def _wrap(array):
    from tinydl.tensor import Tensor
    return Tensor._wrap(np.asarray(array))


def _binary(function, x1, x2, name: str):
    """Promote both operands to Keras' result dtype, check they broadcast, apply function."""
    x1, x2 = promoted(x1, x2)
    try:
        np.broadcast_shapes(x1.shape, x2.shape)
    except ValueError:
        raise ValueError(f"{name}: the shapes of x1 and x2 do not broadcast (each axis must be "
                         f"equal, or 1 on one side). Received: x1.shape={x1.shape}, "
                         f"x2.shape={x2.shape}") from None
    return function.apply(x1, x2)


# ----------------------------------------------------------------------------- arithmetic


def add(x1, x2):
    """x1 + x2 per element, broadcast, with Keras' dtype rules.

    Example:
        >>> add([1.0, 2.0], [3.0, 4.0])
        Tensor([4., 6.])
    """
    return _binary(Add, x1, x2, "add")


def subtract(x1, x2):
    """x1 - x2 per element, broadcast, with Keras' dtype rules.

    Example:
        >>> subtract([5.0, 2.0], 1.0)
        Tensor([4., 1.])
    """
    return _binary(Sub, x1, x2, "subtract")


def multiply(x1, x2):
    """x1 * x2 per element, broadcast, with Keras' dtype rules.

    Example:
        >>> multiply([1.0, 2.0], [3.0, 4.0])
        Tensor([3., 8.])
    """
    return _binary(Mul, x1, x2, "multiply")


def maximum(x1, x2):
    """The larger of x1 and x2 per element (broadcast).

    Example:
        >>> maximum([1.0, 5.0], [3.0, 2.0])
        Tensor([3., 5.])
    """
    return _binary(Maximum, x1, x2, "maximum")


def minimum(x1, x2):
    """The smaller of x1 and x2 per element (broadcast).

    Example:
        >>> minimum([1.0, 5.0], [3.0, 2.0])
        Tensor([1., 2.])
    """
    return _binary(Minimum, x1, x2, "minimum")


def divide(x1, x2):
    """x1 / x2; integers give float32 (true division).

    Example:
        >>> divide([1, 3], [2, 2])
        Tensor([0.5, 1.5])
    """
    if result_type(dtype_of(x1), dtype_of(x2))[0] != "f":
        x1, x2 = cast(x1, FLOATX), cast(x2, FLOATX)
    return _binary(Div, x1, x2, "divide")


true_divide = divide


def power(x1, x2):
    """x1 ** x2 per element (integers stay integers).

    Example:
        >>> power([2.0, 3.0], 2.0)
        Tensor([4., 9.])
    """
    return _binary(Pow, x1, x2, "power")


def negative(x):
    """-x per element.

    Example:
        >>> negative([1.0, -2.0])
        Tensor([-1.,  2.])
    """
    return Neg.apply(tensor_of(x))


def square(x):
    """x * x per element (booleans square as int32).

    Example:
        >>> square([1.0, -3.0])
        Tensor([1., 9.])
    """
    return multiply(x, x) if dtype_of(x) != "bool" else square(cast(x, "int32"))


def sqrt(x):
    """The square root per element (integers give float32).

    Example:
        >>> sqrt([4.0, 9.0])
        Tensor([2., 3.])
    """
    return Sqrt.apply(float_tensor(x))


def exp(x):
    """e ** x per element (integers give float32).

    Example:
        >>> exp([0.0, 1.0])
        Tensor([1.    , 2.7183])
    """
    return Exp.apply(float_tensor(x))


def log(x):
    """The natural logarithm per element (integers give float32).

    Example:
        >>> log([1.0, np.e])
        Tensor([0., 1.])
    """
    return Log.apply(float_tensor(x))


def log1p(x):
    """log(1 + x) per element, accurate for small x.

    Example:
        >>> log1p([0.0, 1e-8])
        Tensor([0.e+00, 1.e-08])
    """
    return Log1p.apply(float_tensor(x))


def tanh(x):
    """The hyperbolic tangent per element.

    Example:
        >>> tanh([0.0, 100.0])
        Tensor([0., 1.])
    """
    return Tanh.apply(float_tensor(x))


def sin(x):
    """The sine per element (radians).

    Example:
        >>> sin([0.0, np.pi / 2])
        Tensor([0., 1.])
    """
    return Sin.apply(float_tensor(x))


def cos(x):
    """The cosine per element (radians).

    Example:
        >>> cos([0.0, np.pi])
        Tensor([ 1., -1.])
    """
    return Cos.apply(float_tensor(x))


def abs(x):  # noqa: A001 (Keras' name)
    """|x| per element; the gradient at 0 is 0.

    Example:
        >>> abs([-1.5, 2.0])
        Tensor([1.5, 2. ])
    """
    x = tensor_of(x)
    return x if x.dtype == np.bool_ else Abs.apply(x)


absolute = abs


def sign(x):
    """-1, 0 or 1 per element, in x's dtype (its gradient is zero: none flows back).

    Example:
        >>> sign([-3.0, 0.0, 2.0])
        Tensor([-1.,  0.,  1.])
    """
    x = tensor_of(x)
    return _wrap(np.sign(x.data))


def floor(x):
    """The largest integer <= x per element, as a float (no gradient).

    Example:
        >>> floor([1.7, -1.2])
        Tensor([ 1., -2.])
    """
    return _wrap(np.floor(float_tensor(x).data))


def ceil(x):
    """The smallest integer >= x per element, as a float (no gradient).

    Example:
        >>> ceil([1.2, -1.7])
        Tensor([ 2., -1.])
    """
    return _wrap(np.ceil(float_tensor(x).data))


def round(x, decimals: int = 0):  # noqa: A001
    """Round half to even, to `decimals` places; integers stay integers. No gradient.

    Example:
        >>> round([0.5, 1.5, 2.567])
        Tensor([0., 2., 3.])
        >>> round([2.567], decimals=2)
        Tensor([2.57])
    """
    x = tensor_of(x)
    return _wrap(np.round(x.data, decimals))


def clip(x, x_min, x_max):
    """x limited to [x_min, x_max]; the gradient flows where x_min <= x <= x_max.

    Raises:
        ValueError: when the scalar bounds are reversed (x_min > x_max).

    Example:
        >>> clip([-2.0, 0.5, 3.0], 0.0, 1.0)
        Tensor([0. , 0.5, 1. ])
    """
    if np.ndim(plain(x_min)) == 0 and np.ndim(plain(x_max)) == 0 and \
            float(plain(x_min)) > float(plain(x_max)):
        raise ValueError(f"clip: x_min must not exceed x_max. Received: x_min={x_min}, "
                         f"x_max={x_max}")
    x = tensor_of(x)
    if x.dtype == np.bool_:
        x = cast(x, "int32")
    bounds = (np.asarray(plain(b)).astype(x.dtype) for b in (x_min, x_max))
    return operators.clip(x, *bounds)


def where(condition, x1=None, x2=None):
    """x1 where condition is true, else x2 (broadcast together); with neither, the indices
    where condition is true, as a list of int32 Tensors (one per axis).

    Example:
        >>> where([True, False], [1.0, 2.0], [10.0, 20.0])
        Tensor([ 1., 20.])
        >>> where([[0, 1], [1, 1]])
        [Tensor([0, 1, 1], dtype=int32), Tensor([1, 0, 1], dtype=int32)]
    """
    condition = tensor_of(condition).data.astype(bool)
    if x1 is None and x2 is None:
        return [_wrap(i.astype(np.int32)) for i in np.nonzero(condition)]
    if x1 is None or x2 is None:
        raise ValueError("where: x1 and x2 must both be given, or both be None. "
                         f"Received: x1={'None' if x1 is None else 'a value'}, "
                         f"x2={'None' if x2 is None else 'a value'}")
    x1, x2 = promoted(x1, x2)
    try:
        np.broadcast_shapes(condition.shape, x1.shape, x2.shape)
    except ValueError:
        raise ValueError("where: condition, x1 and x2 must broadcast together. Received: "
                         f"condition.shape={condition.shape}, x1.shape={x1.shape}, "
                         f"x2.shape={x2.shape}") from None
    return Where.apply(condition, x1, x2)


# ----------------------------------------------------------------------------- comparisons

def _compare(ufunc, x1, x2, name):
    x1, x2 = promoted(x1, x2)
    try:
        return _wrap(ufunc(x1.data, x2.data))
    except ValueError:
        raise ValueError(f"{name}: the shapes of x1 and x2 do not broadcast. Received: "
                         f"x1.shape={x1.shape}, x2.shape={x2.shape}") from None


def equal(x1, x2):
    """x1 == x2 per element (broadcast), as booleans.

    Example:
        >>> equal([1, 2, 3], 2)
        Tensor([False,  True, False], dtype=bool)
    """
    return _compare(np.equal, x1, x2, "equal")


def not_equal(x1, x2):
    """x1 != x2 per element (broadcast), as booleans.

    Example:
        >>> not_equal([1, 2, 3], 2)
        Tensor([ True, False,  True], dtype=bool)
    """
    return _compare(np.not_equal, x1, x2, "not_equal")


def greater(x1, x2):
    """x1 > x2 per element (broadcast), as booleans.

    Example:
        >>> greater([1, 2, 3], 2)
        Tensor([False, False,  True], dtype=bool)
    """
    return _compare(np.greater, x1, x2, "greater")


def greater_equal(x1, x2):
    """x1 >= x2 per element (broadcast), as booleans.

    Example:
        >>> greater_equal([1, 2, 3], 2)
        Tensor([False,  True,  True], dtype=bool)
    """
    return _compare(np.greater_equal, x1, x2, "greater_equal")


def less(x1, x2):
    """x1 < x2 per element (broadcast), as booleans.

    Example:
        >>> less([1, 2, 3], 2)
        Tensor([ True, False, False], dtype=bool)
    """
    return _compare(np.less, x1, x2, "less")


def less_equal(x1, x2):
    """x1 <= x2 per element (broadcast), as booleans.

    Example:
        >>> less_equal([1, 2, 3], 2)
        Tensor([ True,  True, False], dtype=bool)
    """
    return _compare(np.less_equal, x1, x2, "less_equal")


def logical_and(x1, x2):
    """x1 and x2 per element (nonzero is true), as booleans.

    Example:
        >>> logical_and([True, True, False], [True, False, False])
        Tensor([ True, False, False], dtype=bool)
    """
    return _compare(np.logical_and, x1, x2, "logical_and")


def logical_or(x1, x2):
    """x1 or x2 per element (nonzero is true), as booleans.

    Example:
        >>> logical_or([True, True, False], [True, False, False])
        Tensor([ True,  True, False], dtype=bool)
    """
    return _compare(np.logical_or, x1, x2, "logical_or")


def logical_xor(x1, x2):
    """x1 xor x2 per element (nonzero is true), as booleans.

    Example:
        >>> logical_xor([True, True, False], [True, False, False])
        Tensor([False,  True, False], dtype=bool)
    """
    return _compare(np.logical_xor, x1, x2, "logical_xor")


def logical_not(x):
    """not x per element (nonzero is true), as booleans.

    Example:
        >>> logical_not([True, False])
        Tensor([False,  True], dtype=bool)
    """
    return _wrap(np.logical_not(tensor_of(x).data))


def isnan(x):
    """True where x is NaN.

    Example:
        >>> isnan([1.0, np.nan, np.inf])
        Tensor([False,  True, False], dtype=bool)
    """
    return _wrap(np.isnan(tensor_of(x).data))


def isinf(x):
    """True where x is +inf or -inf.

    Example:
        >>> isinf([1.0, np.nan, -np.inf])
        Tensor([False, False,  True], dtype=bool)
    """
    return _wrap(np.isinf(tensor_of(x).data))


def isfinite(x):
    """True where x is neither NaN nor infinite.

    Example:
        >>> isfinite([1.0, np.nan, np.inf])
        Tensor([ True, False, False], dtype=bool)
    """
    return _wrap(np.isfinite(tensor_of(x).data))


# ----------------------------------------------------------------------------- reductions

def _axes(x, axis, name):
    """Validate axis (None, an int or a tuple of ints) against x; return the sorted axes."""
    if axis is not None and not isinstance(axis, (int, np.integer, tuple, list)):
        raise TypeError(f"{name}: axis must be None, an int or a tuple of ints. "
                        f"Received: axis={axis!r}")
    try:
        axes = _normalize_axes(axis, x.ndim)
    except ValueError:
        raise ValueError(f"{name}: axis {axis} is out of range for x of shape {x.shape} (valid "
                         f"axes: -{x.ndim} to {x.ndim - 1}). Received: axis={axis}") from None
    if len(set(axes)) != len(axes):
        raise ValueError(f"{name}: axis must not repeat an axis. Received: axis={axis}")
    return axes


def _accumulator(x):
    """The dtype Keras sums in: bool and small ints widen to (u)int32."""
    if x.dtype.kind == "b" or (x.dtype.kind == "i" and x.dtype.itemsize < 4):
        return "int32"
    if x.dtype.kind == "u" and x.dtype.itemsize < 4:
        return "uint32"
    return x.dtype.name


def sum(x, axis=None, keepdims: bool = False):  # noqa: A001
    """Sum over axis (all axes when None); bool and small ints sum as int32.

    Example:
        >>> x = [[1.0, 2.0], [3.0, 4.0]]
        >>> sum(x), sum(x, axis=0)
        (Tensor(10.), Tensor([4., 6.]))
    """
    x = tensor_of(x)
    axes = _axes(x, axis, "sum")
    if x.dtype.kind != "f":
        return _wrap(np.sum(x.data, axis=axes, keepdims=keepdims, dtype=_accumulator(x)))
    return Sum.apply(x, axes, keepdims)


def prod(x, axis=None, keepdims: bool = False, dtype=None):
    """Product over axis; its gradient is exact where an element is 0.

    Example:
        >>> prod([[1.0, 2.0], [3.0, 4.0]], axis=1)
        Tensor([ 2., 12.])
    """
    x = tensor_of(x)
    axes = _axes(x, axis, "prod")
    if x.dtype.kind != "f":
        return _wrap(np.prod(x.data, axis=axes, keepdims=keepdims, dtype=_accumulator(x)))
    return Prod.apply(x, axes, keepdims)


def mean(x, axis=None, keepdims: bool = False):
    """Mean over axis (all axes when None); integers give float32.

    Example:
        >>> mean([[1, 2], [3, 4]], axis=0)
        Tensor([2., 3.])
    """
    x = float_tensor(x)
    return Mean.apply(x, _axes(x, axis, "mean"), keepdims)


def _extreme(x, axis, keepdims, initial, name):
    x = tensor_of(x)
    axes = _axes(x, axis, name)
    if builtins.any(x.shape[a] == 0 for a in axes):
        if initial is None:
            raise ValueError(f"{name}: cannot reduce the empty axis of x of shape {x.shape} "
                             "without an initial value. Received: initial=None")
        empty = np.empty(x.shape, dtype=x.dtype)
        reduce = np.max if name == "max" else np.min
        return _wrap(reduce(empty, axis=axes, keepdims=keepdims, initial=initial))
    if x.dtype.kind != "f":  # no gradient: NumPy's own (Neg would wrap unsigned integers)
        reduce = np.max if name == "max" else np.min
        out = _wrap(reduce(x.data, axis=axes, keepdims=keepdims))
    elif name == "max":
        out = Max.apply(x, axes, keepdims)
    else:
        out = Neg.apply(Max.apply(Neg.apply(x), axes, keepdims))
    if initial is not None:
        out = (maximum if name == "max" else minimum)(out, cast(initial, out.dtype))
    return out


def max(x, axis=None, keepdims: bool = False, initial=None):  # noqa: A001
    """Largest element over axis; tied maxima share the gradient equally.

    Example:
        >>> max([[1.0, 5.0], [3.0, 2.0]], axis=1)
        Tensor([5., 3.])
    """
    return _extreme(x, axis, keepdims, initial, "max")


def min(x, axis=None, keepdims: bool = False, initial=None):  # noqa: A001
    """Smallest element over axis; tied minima share the gradient equally.

    Example:
        >>> min([[1.0, 5.0], [3.0, 2.0]], axis=1)
        Tensor([1., 2.])
    """
    return _extreme(x, axis, keepdims, initial, "min")


def _arg(reduce, x, axis, keepdims, name):
    x = tensor_of(x)
    if x.size == 0:
        raise ValueError(f"{name}: x is empty. Received: x.shape={x.shape}")
    if axis is None:
        out = reduce(x.data.reshape(-1))
        return _wrap(np.asarray(out, dtype=np.int32).reshape((1,) * x.ndim if keepdims else ()))
    (a,) = _axes(x, axis, name)
    return _wrap(reduce(x.data, axis=a, keepdims=keepdims).astype(np.int32))


def argmax(x, axis=None, keepdims: bool = False):
    """Index (int32) of the first largest element over axis (of the flattened x when None).

    Example:
        >>> argmax([[1.0, 5.0], [3.0, 2.0]], axis=1)
        Tensor([1, 0], dtype=int32)
    """
    return _arg(np.argmax, x, axis, keepdims, "argmax")


def argmin(x, axis=None, keepdims: bool = False):
    """Index (int32) of the first smallest element over axis (of the flattened x when None).

    Example:
        >>> argmin([[1.0, 5.0], [3.0, 2.0]], axis=1)
        Tensor([0, 1], dtype=int32)
    """
    return _arg(np.argmin, x, axis, keepdims, "argmin")


def var(x, axis=None, keepdims: bool = False):
    """Population variance (divides by N) over axis.

    Example:
        >>> var([1.0, 2.0, 3.0, 4.0])
        Tensor(1.25)
    """
    x = float_tensor(x)
    axes = _axes(x, axis, "var")
    centred = subtract(x, Mean.apply(x, axes, True))
    return Mean.apply(multiply(centred, centred), axes, keepdims)


def std(x, axis=None, keepdims: bool = False):
    """Population standard deviation, sqrt(var(x)), over axis.

    Example:
        >>> std([1.0, 3.0])
        Tensor(1.)
    """
    return Sqrt.apply(var(x, axis, keepdims))


def logsumexp(x, axis=None, keepdims: bool = False):
    """log(sum(exp(x))) over axis, computed stably (the max is subtracted first).

    Example:
        >>> logsumexp([1000.0, 1000.0])
        Tensor(1000.6932)
    """
    x = float_tensor(x)
    axes = _axes(x, axis, "logsumexp")
    top = x.data.max(axis=axes, keepdims=True) if x.size else np.zeros((1,) * x.ndim, x.dtype)
    top = np.where(np.isfinite(top), top, 0).astype(x.dtype)
    total = Sum.apply(Exp.apply(subtract(x, top)), axes, True)
    with np.errstate(divide="ignore"):  # an all -inf slice: log(0) = -inf, as in Keras
        out = add(Log.apply(total), top)
    return out if keepdims else operators.reshape(out, tuple(
        n for i, n in enumerate(out.shape) if i not in axes))


def any(x, axis=None, keepdims: bool = False):  # noqa: A001
    """True where any element over axis is nonzero.

    Example:
        >>> any([[0, 1], [0, 0]], axis=1)
        Tensor([ True, False], dtype=bool)
    """
    x = tensor_of(x)
    return _wrap(np.any(x.data, axis=_axes(x, axis, "any"), keepdims=keepdims))


def all(x, axis=None, keepdims: bool = False):  # noqa: A001
    """True where every element over axis is nonzero.

    Example:
        >>> all([[1, 1], [0, 1]], axis=1)
        Tensor([ True, False], dtype=bool)
    """
    x = tensor_of(x)
    return _wrap(np.all(x.data, axis=_axes(x, axis, "all"), keepdims=keepdims))
