"""Ops that move data without arithmetic: reshape, transpose, indexing, concatenate, stack, tile."""

from __future__ import annotations

import numpy as np

from tinydl.autograd import Function


class Reshape(Function):
    @staticmethod
    def forward(ctx, a, shape):
        ctx.shape = a.shape
        try:
            return a.reshape(shape)
        except ValueError:
            raise ValueError(f"cannot reshape a tensor of shape {a.shape} ({a.size} elements) "
                             f"into shape {tuple(shape)}") from None

    @staticmethod
    def backward(ctx, grad):
        return grad.reshape(ctx.shape), None


class Transpose(Function):
    @staticmethod
    def forward(ctx, a, axes):
        if axes is not None and sorted(a_ % a.ndim for a_ in axes) != list(range(a.ndim)):
            raise ValueError(f"axes must be a permutation of 0..{a.ndim - 1}, got {axes}")
        ctx.axes = axes
        return a.transpose(axes)

    @staticmethod
    def backward(ctx, grad):
        inverse = None if ctx.axes is None else np.argsort([a % grad.ndim for a in ctx.axes])
        return grad.transpose(inverse), None


class GetItem(Function):
    """x[index] for slices, ints, integer arrays and boolean masks. Repeated indices add up.

    Example:
        >>> a = tinydl.Tensor([1.0, 2.0, 3.0], requires_grad=True)
        >>> GetItem.apply(a, np.array([0, 0, 2])).sum().backward()
        >>> a.grad
        array([2., 0., 1.], dtype=float32)
    """

    @staticmethod
    def forward(ctx, a, index):
        ctx.shape, ctx.dtype, ctx.index = a.shape, a.dtype, index
        return np.asarray(a[index])

    @staticmethod
    def backward(ctx, grad):
        out = np.zeros(ctx.shape, dtype=ctx.dtype)
        if _is_basic(ctx.index):  # slices and ints pick each element once: a plain assignment
            out[ctx.index] = grad
        else:
            np.add.at(out, ctx.index, grad)
        return out, None


def _is_basic(index) -> bool:
    """True for NumPy basic indexing (ints, slices, None, Ellipsis), which never repeats."""
    parts = index if isinstance(index, tuple) else (index,)
    return all(p is None or p is Ellipsis or isinstance(p, slice)
               or (isinstance(p, (int, np.integer)) and not isinstance(p, (bool, np.bool_)))
               for p in parts)


class Concatenate(Function):
    @staticmethod
    def forward(ctx, axis, *arrays):
        ctx.axis = axis
        ctx.bounds = np.cumsum([a.shape[axis] for a in arrays])[:-1]
        return np.concatenate(arrays, axis=axis)

    @staticmethod
    def backward(ctx, grad):
        return (None, *np.split(grad, ctx.bounds, axis=ctx.axis))


class Stack(Function):
    @staticmethod
    def forward(ctx, axis, *arrays):
        ctx.axis = axis
        return np.stack(arrays, axis=axis)

    @staticmethod
    def backward(ctx, grad):
        return (None, *(np.take(grad, i, axis=ctx.axis) for i in range(grad.shape[ctx.axis])))


class Tile(Function):
    """Repeat the whole array reps[i] times along axis i (NumPy's tile).

    backward: view the gradient as (r0, s0, r1, s1, ...) and sum over the r axes.

    Example:
        >>> Tile.apply(tinydl.Tensor([1.0, 2.0]), (2,))
        Tensor([1., 2., 1., 2.])
    """

    @staticmethod
    def forward(ctx, a, reps):
        ctx.shape = a.shape
        return np.tile(a, reps)

    @staticmethod
    def backward(ctx, grad):
        if grad.size == 0:
            return np.zeros(ctx.shape, dtype=grad.dtype), None
        padded = (1,) * (grad.ndim - len(ctx.shape)) + tuple(ctx.shape)
        reps = [g // s if s else 0 for g, s in zip(grad.shape, padded)]
        split = [n for pair in zip(reps, padded) for n in pair]
        summed = grad.reshape(split).sum(axis=tuple(range(0, len(split), 2)))
        return summed.reshape(ctx.shape), None


class BroadcastTo(Function):
    """a broadcast to a shape (a copy); the engine sums the gradient back to a's shape.

    Example:
        >>> a = tinydl.Tensor([1.0, 2.0], requires_grad=True)
        >>> BroadcastTo.apply(a, (3, 2)).sum().backward()
        >>> a.grad
        array([3., 3.], dtype=float32)
    """

    @staticmethod
    def forward(ctx, a, shape):
        return np.array(np.broadcast_to(a, shape))

    @staticmethod
    def backward(ctx, grad):
        return grad, None
