"""Keras' array ops by Keras' names: creation, shapes and indexing, and linear algebra.

As in keras_numpy.py, every function takes Tensors, NumPy arrays or numbers and returns
Tensors; the data-moving ones (reshape, transpose, take, tile, concatenate, matmul, ...) are
differentiable through the Functions of movement.py and matmul.py.
"""

from __future__ import annotations

import numpy as np

from tinydl.ops import operators
from tinydl.ops.keras_core import FLOATX, plain, promoted, standardize_dtype, tensor_of
from tinydl.ops.matmul import Einsum, MatMul, parse_einsum
from tinydl.ops.movement import BroadcastTo, Concatenate, GetItem, Reshape, Stack, Tile, Transpose

__all__ = [
    "ones", "zeros", "full", "ones_like", "zeros_like", "full_like", "arange", "eye", "identity",
    "linspace",
    "reshape", "transpose", "expand_dims", "squeeze", "concatenate", "stack", "split", "tile",
    "repeat", "take", "take_along_axis", "ravel", "broadcast_to", "swapaxes",
    "matmul", "dot", "einsum",
]


def _wrap(array):
    from tinydl.tensor import Tensor
    return Tensor._wrap(np.asarray(array))


def _shape_arg(shape, name="shape") -> tuple:
    """A shape (int or sequence of non-negative ints) as a tuple."""
    dims = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
    if not all(isinstance(d, (int, np.integer)) and d >= 0 for d in dims):
        raise ValueError(f"{name} must be a non-negative int or a tuple of them. "
                         f"Received: {name}={shape!r}")
    return tuple(int(d) for d in dims)


def _axis_arg(axis, ndim: int, name: str) -> int:
    """axis in [-ndim, ndim) as a non-negative int."""
    if not isinstance(axis, (int, np.integer)) or not -ndim <= axis < ndim:
        raise ValueError(f"{name}: axis must be an int in [-{ndim}, {ndim}) here. "
                         f"Received: axis={axis!r}")
    return int(axis) % ndim


# ----------------------------------------------------------------------------- creation


def ones(shape, dtype=None):
    """A tensor of `shape` filled with ones (float32 unless dtype says otherwise).

    Example:
        >>> ones((2, 3)).shape, ones(2, dtype="int32")
        ((2, 3), Tensor([1, 1], dtype=int32))
    """
    return _wrap(np.ones(_shape_arg(shape), standardize_dtype(dtype)))


def zeros(shape, dtype=None):
    """A tensor of `shape` filled with zeros (float32 unless dtype says otherwise).

    Example:
        >>> zeros((2, 2))
        Tensor([[0., 0.],
                [0., 0.]])
    """
    return _wrap(np.zeros(_shape_arg(shape), standardize_dtype(dtype)))


def full(shape, fill_value, dtype=None):
    """A tensor of `shape` filled with fill_value (float32 unless dtype says otherwise).

    Example:
        >>> full((2,), 7.0)
        Tensor([7., 7.])
    """
    return _wrap(np.full(_shape_arg(shape), plain(fill_value), dtype=standardize_dtype(dtype)))


def _like(x, dtype):
    x = tensor_of(x)
    return x.shape, x.dtype if dtype is None else standardize_dtype(dtype)


def ones_like(x, dtype=None):
    """Ones of x's shape (and dtype, unless given).

    Example:
        >>> ones_like(np.zeros((2, 2), np.int32))
        Tensor([[1, 1],
                [1, 1]], dtype=int32)
    """
    return _wrap(np.ones(*_like(x, dtype)))


def zeros_like(x, dtype=None):
    """Zeros of x's shape (and dtype, unless given).

    Example:
        >>> zeros_like([1.5, 2.5])
        Tensor([0., 0.])
    """
    return _wrap(np.zeros(*_like(x, dtype)))


def full_like(x, fill_value, dtype=None):
    """A tensor of x's shape (and dtype, unless given) filled with fill_value.

    Example:
        >>> full_like(np.zeros(3, np.float32), 0.5)
        Tensor([0.5, 0.5, 0.5])
    """
    shape, dtype = _like(x, dtype)
    return _wrap(np.full(shape, plain(fill_value), dtype=dtype))


def arange(start, stop=None, step=None, dtype=None):
    """Evenly spaced values in [start, stop); int32 for integer arguments, else float32.

    Example:
        >>> arange(4), arange(0.0, 1.0, 0.25)
        (Tensor([0, 1, 2, 3], dtype=int32), Tensor([0.  , 0.25, 0.5 , 0.75]))
    """
    step = 1 if step is None else step
    if step == 0:
        raise ValueError("arange: step must not be 0. Received: step=0")
    if dtype is None:
        given = [v for v in (start, stop, step) if v is not None]
        integers = all(isinstance(v, (int, np.integer)) for v in given)
        dtype = "int32" if integers else FLOATX
    return _wrap(np.arange(start, stop, step, dtype=standardize_dtype(dtype)))


def eye(N, M=None, k=0, dtype=None):  # noqa: N803 (Keras' argument names)
    """An N x M matrix with ones on the k-th diagonal.

    Example:
        >>> eye(2, 3, k=1)
        Tensor([[0., 1., 0.],
                [0., 0., 1.]])
    """
    return _wrap(np.eye(N, M, k, dtype=standardize_dtype(dtype)))


def identity(n, dtype=None):
    """The n x n identity matrix.

    Example:
        >>> identity(2)
        Tensor([[1., 0.],
                [0., 1.]])
    """
    return eye(n, dtype=dtype)


def linspace(start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0):
    """num evenly spaced values from start to stop (float32 unless dtype says otherwise).

    Example:
        >>> linspace(0.0, 1.0, num=5)
        Tensor([0.  , 0.25, 0.5 , 0.75, 1.  ])
    """
    if not isinstance(num, (int, np.integer)) or num < 0:
        raise ValueError(f"linspace: num must be a non-negative int. Received: num={num!r}")
    values, step = np.linspace(start, stop, num, endpoint=endpoint, retstep=True, axis=axis)
    out = _wrap(values.astype(standardize_dtype(dtype)))
    return (out, step) if retstep else out


# ----------------------------------------------------------------------------- shapes

def reshape(x, newshape):
    """x's data in a new shape; one dimension may be -1 (inferred).

    Example:
        >>> reshape(np.arange(6.0), (-1, 3))
        Tensor([[0., 1., 2.],
                [3., 4., 5.]], dtype=float64)
    """
    newshape = (newshape,) if isinstance(newshape, (int, np.integer)) else tuple(newshape)
    return Reshape.apply(tensor_of(x), newshape)


def transpose(x, axes=None):
    """Permute x's axes (reverse them when axes is None).

    Example:
        >>> transpose(np.zeros((2, 3, 4))).shape, transpose(np.zeros((2, 3, 4)), (0, 2, 1)).shape
        ((4, 3, 2), (2, 4, 3))
    """
    x = tensor_of(x)
    if axes is not None:
        axes = tuple(axes)
        in_range = all(isinstance(a, (int, np.integer)) and -x.ndim <= a < x.ndim for a in axes)
        if not in_range or sorted(a % x.ndim for a in axes) != list(range(x.ndim)):
            raise ValueError(f"transpose: axes must be a permutation of 0..{x.ndim - 1} for x of "
                             f"shape {x.shape}. Received: axes={axes}")
    return Transpose.apply(x, axes)


def swapaxes(x, axis1, axis2):
    """Exchange two axes of x.

    Example:
        >>> swapaxes(np.zeros((2, 3, 4)), 0, 2).shape
        (4, 3, 2)
    """
    x = tensor_of(x)
    axes = list(range(x.ndim))
    a, b = _axis_arg(axis1, x.ndim, "swapaxes"), _axis_arg(axis2, x.ndim, "swapaxes")
    axes[a], axes[b] = axes[b], axes[a]
    return Transpose.apply(x, tuple(axes))


def expand_dims(x, axis):
    """Insert size-1 axes at the positions `axis` (an int or a tuple) of the result.

    Example:
        >>> expand_dims(np.zeros((2, 3)), 0).shape, expand_dims(np.zeros((2, 3)), (1, 3)).shape
        ((1, 2, 3), (2, 1, 3, 1))
    """
    x = tensor_of(x)
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    out_ndim = x.ndim + len(axes)
    if not all(isinstance(a, (int, np.integer)) and -out_ndim <= a < out_ndim for a in axes):
        raise ValueError(f"expand_dims: axis must be in [-{out_ndim}, {out_ndim}) for x of shape "
                         f"{x.shape}. Received: axis={axis!r}")
    return Reshape.apply(x, np.expand_dims(np.empty(x.shape, np.bool_), axes).shape)


def squeeze(x, axis=None):
    """Remove size-1 axes (all of them, or those in axis, which must have size 1).

    Example:
        >>> squeeze(np.zeros((1, 3, 1))).shape, squeeze(np.zeros((1, 3, 1)), axis=0).shape
        ((3,), (3, 1))
    """
    x = tensor_of(x)
    if axis is None:
        axes = tuple(i for i, n in enumerate(x.shape) if n == 1)
    else:
        axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
        axes = tuple(_axis_arg(a, x.ndim, "squeeze") for a in axes)
        wrong = [a for a in axes if x.shape[a] != 1]
        if wrong:
            raise ValueError(f"squeeze: cannot squeeze axis {wrong[0]} of x of shape {x.shape}: "
                             f"its size is not 1. Received: axis={axis!r}")
    return Reshape.apply(x, tuple(n for i, n in enumerate(x.shape) if i not in axes))


def ravel(x):
    """x flattened to one axis.

    Example:
        >>> ravel([[1.0, 2.0], [3.0, 4.0]])
        Tensor([1., 2., 3., 4.])
    """
    return reshape(x, (-1,))


def _joinable(xs, name):
    if not hasattr(xs, "__len__") or len(xs) == 0:
        raise ValueError(f"{name} needs a non-empty list of tensors. Received: {type(xs).__name__}")
    return promoted(*xs)


def concatenate(xs, axis=0):
    """Join tensors of equal shape (except along axis) along an existing axis.

    Example:
        >>> concatenate([np.zeros((2, 3)), np.ones((1, 3))]).shape
        (3, 3)
    """
    xs = _joinable(xs, "concatenate")
    if xs[0].ndim == 0:
        raise ValueError("concatenate: tensors need at least one axis. Received: scalars")
    axis = _axis_arg(axis, xs[0].ndim, "concatenate")
    operators._same_shapes_but(xs, axis, "concatenate")
    return Concatenate.apply(axis, *xs)


def stack(x, axis=0):
    """Join tensors of one shape along a new axis.

    Example:
        >>> stack([[1.0, 2.0], [3.0, 4.0]], axis=1)
        Tensor([[1., 3.],
                [2., 4.]])
    """
    xs = _joinable(x, "stack")
    if len({t.shape for t in xs}) != 1:
        raise ValueError(f"stack: all tensors must have one shape, got {[t.shape for t in xs]}")
    return Stack.apply(_axis_arg(axis, xs[0].ndim + 1, "stack"), *xs)


def split(x, indices_or_sections, axis=0):
    """A list of sub-tensors: `sections` equal parts, or cut before each of the given indices.

    Example:
        >>> split(np.arange(6.0), 3)
        [Tensor([0., 1.], dtype=float64), Tensor([2., 3.], dtype=float64), Tensor([4., 5.], dtype=float64)]
        >>> [part.shape for part in split(np.zeros((5, 2)), [1, 4])]
        [(1, 2), (3, 2), (1, 2)]
    """
    x = tensor_of(x)
    axis = _axis_arg(axis, x.ndim, "split")
    n = x.shape[axis]
    if isinstance(indices_or_sections, (int, np.integer)):
        if indices_or_sections <= 0 or n % indices_or_sections:
            raise ValueError(f"split: {indices_or_sections} sections do not divide axis {axis} "
                             f"of size {n} evenly. Received: indices_or_sections="
                             f"{indices_or_sections}")
        step = n // indices_or_sections
        cuts = list(range(step, n, step))[:indices_or_sections - 1]
    else:
        cuts = [int(i) for i in indices_or_sections]
    bounds = zip([0] + cuts, cuts + [n])
    lead = (slice(None),) * axis
    return [GetItem.apply(x, lead + (slice(a, b),)) for a, b in bounds]


def tile(x, repeats):
    """x repeated as a whole repeats[i] times along axis i (NumPy's tile).

    Example:
        >>> tile([1.0, 2.0], 2), tile([1.0, 2.0], (2, 1)).shape
        (Tensor([1., 2., 1., 2.]), (2, 2))
    """
    reps = _shape_arg(repeats, "repeats")
    return Tile.apply(tensor_of(x), reps)


def _indices(indices, name):
    array = np.asarray(plain(indices))
    if array.dtype.kind not in "iu":
        raise TypeError(f"{name}: indices must be integers. Received: indices.dtype={array.dtype}")
    return array.astype(np.int64)


def _in_range(indices, n, axis, name):
    if indices.size and (indices.min() < -n or indices.max() >= n):
        raise ValueError(f"{name}: indices must be in [-{n}, {n}) for axis {axis} of size {n}. "
                         f"Received: indices from {indices.min()} to {indices.max()}")


def take(x, indices, axis=None):
    """Elements of x at the integer indices along axis (of the flattened x when None).

    Example:
        >>> take([10.0, 20.0, 30.0], [2, 0])
        Tensor([30., 10.])
    """
    x = tensor_of(x)
    indices = _indices(indices, "take")
    if axis is None:
        x, axis = ravel(x), 0
    axis = _axis_arg(axis, x.ndim, "take")
    _in_range(indices, x.shape[axis], axis, "take")
    return GetItem.apply(x, (slice(None),) * axis + (indices,))


def take_along_axis(x, indices, axis=None):
    """x[..., indices[i, ..., j], ...] along axis, indices of x's rank (NumPy's take_along_axis).

    Example:
        >>> x = np.array([[10.0, 30.0, 20.0], [60.0, 40.0, 50.0]])
        >>> take_along_axis(x, np.array([[1], [0]]), axis=1)
        Tensor([[30.],
                [60.]], dtype=float64)
    """
    x = tensor_of(x)
    indices = _indices(indices, "take_along_axis")
    if axis is None:
        x, axis = ravel(x), 0
    axis = _axis_arg(axis, x.ndim, "take_along_axis")
    if indices.ndim != x.ndim:
        raise ValueError(f"take_along_axis: indices must have x's rank {x.ndim}. "
                         f"Received: indices.shape={indices.shape}")
    _in_range(indices, x.shape[axis], axis, "take_along_axis")
    index = tuple(indices if i == axis else
                  np.arange(x.shape[i]).reshape((-1,) + (1,) * (x.ndim - 1 - i))
                  for i in range(x.ndim))
    return GetItem.apply(x, index)


def repeat(x, repeats, axis=None):
    """Each element of x repeated `repeats` times along axis (of the flattened x when None).

    Example:
        >>> repeat([1.0, 2.0], 2), repeat([[1.0, 2.0]], 2, axis=0).shape
        (Tensor([1., 1., 2., 2.]), (2, 2))
    """
    x = tensor_of(x)
    if axis is None:
        x, axis = ravel(x), 0
    axis = _axis_arg(axis, x.ndim, "repeat")
    counts = np.asarray(plain(repeats))
    if counts.dtype.kind not in "iu" or (counts < 0).any() or \
            counts.size not in (1, x.shape[axis]):
        raise ValueError(f"repeat: repeats must be a non-negative int or one per element along "
                         f"axis {axis} (size {x.shape[axis]}). Received: repeats={repeats!r}")
    source = np.repeat(np.arange(x.shape[axis]), counts)
    return GetItem.apply(x, (slice(None),) * axis + (source,))


def broadcast_to(x, shape):
    """x broadcast to shape (the gradient is summed back to x's shape).

    Example:
        >>> broadcast_to([1.0, 2.0], (3, 2)).shape
        (3, 2)
    """
    x = tensor_of(x)
    shape = _shape_arg(shape)
    try:
        fits = np.broadcast_shapes(x.shape, shape) == shape
    except ValueError:
        fits = False
    if not fits:
        raise ValueError(f"broadcast_to: x of shape {x.shape} cannot be broadcast to {shape}. "
                         f"Received: shape={shape}")
    return BroadcastTo.apply(x, shape)


# ----------------------------------------------------------------------------- linear algebra

def matmul(x1, x2):
    """Matrix product with NumPy's matmul rules (batched, broadcasting; 1-D as a vector).

    Example:
        >>> matmul(np.ones((2, 3)), np.ones((3, 4))).shape, matmul(np.ones((5, 2, 3)), np.ones((3, 4))).shape
        ((2, 4), (5, 2, 4))
    """
    x1, x2 = promoted(x1, x2)
    if x1.dtype.kind != "f":  # integers: no gradient, and the GEMM kernels take floats
        from tinydl.ops.matmul import _check_matmul_shapes
        _check_matmul_shapes(x1.data, x2.data)
        return _wrap(np.matmul(x1.data, x2.data))
    return MatMul.apply(x1, x2)


def dot(x1, x2):
    """NumPy's dot: a product for scalars, matmul for 1-D and 2-D; for N-D a sum over the last
    axis of x1 and the second-to-last of x2, giving x1.shape[:-1] + x2.shape[:-2] + x2.shape[-1:].

    Example:
        >>> dot([1.0, 2.0], [3.0, 4.0]), dot(2.0, [1.0, 2.0])
        (Tensor(11.), Tensor([2., 4.]))
    """
    x1, x2 = promoted(x1, x2)
    if x1.ndim == 0 or x2.ndim == 0:
        from tinydl.ops.keras_numpy import multiply
        return multiply(x1, x2)
    if x2.ndim <= 2:
        return matmul(x1, x2)
    k = x2.shape[-2]
    if x1.shape[-1] != k:
        raise ValueError(f"dot: the last axis of x1 and the second-to-last of x2 differ. "
                         f"Received: x1.shape={x1.shape}, x2.shape={x2.shape}")
    x2_moved = Transpose.apply(x2, (x2.ndim - 2,) + tuple(range(x2.ndim - 2)) + (x2.ndim - 1,))
    product = matmul(reshape(x1, (-1, k)), reshape(x2_moved, (k, -1)))
    return reshape(product, x1.shape[:-1] + x2.shape[:-2] + x2.shape[-1:])


def einsum(subscripts, *operands, **kwargs):
    """Einstein summation (NumPy's einsum), differentiable for explicit letters.

    Example:
        >>> einsum("ij,jk->ik", np.ones((2, 3)), np.ones((3, 4))).shape
        (2, 4)
        >>> einsum("ii", np.eye(3))
        Tensor(3., dtype=float64)
    """
    if kwargs:
        raise TypeError(f"einsum: tinydl takes no keyword arguments. Received: {sorted(kwargs)}")
    if not isinstance(subscripts, str):
        raise TypeError(f"einsum: subscripts must be a string. Received: {subscripts!r}")
    parse_einsum(subscripts, len(operands))
    tensors = promoted(*operands)
    if tensors[0].dtype.kind != "f":
        return _wrap(np.einsum(subscripts, *(t.data for t in tensors)))
    try:
        return Einsum.apply(subscripts, *tensors)
    except ValueError as error:
        raise ValueError(f"einsum: the operands do not fit subscripts={subscripts!r} "
                         f"(shapes {[t.shape for t in tensors]}): {error}") from None

