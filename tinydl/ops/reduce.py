"""Reductions: sum, mean, max and prod over axes, with their backward (spreading the gradient)."""

from __future__ import annotations

import numpy as np

from tinydl.autograd import Function


def _normalize_axes(axis, ndim):
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    for a in axes:
        if not -ndim <= a < ndim:
            raise ValueError(f"axis {a} is out of range for a tensor with {ndim} dimensions")
    return tuple(sorted(a % ndim for a in axes))


def _expand(grad, shape, axes, keepdims):
    """Give grad back the reduced axes (as size 1) so it broadcasts against the input."""
    if not keepdims:
        for a in axes:
            grad = np.expand_dims(grad, a)
    return np.broadcast_to(grad, shape)


class Sum(Function):
    @staticmethod
    def forward(ctx, a, axis=None, keepdims=False):
        ctx.shape, ctx.axes, ctx.keepdims = a.shape, _normalize_axes(axis, a.ndim), keepdims
        return np.asarray(a.sum(axis=ctx.axes, keepdims=keepdims))

    @staticmethod
    def backward(ctx, grad):
        return _expand(grad, ctx.shape, ctx.axes, ctx.keepdims)


class Mean(Function):
    @staticmethod
    def forward(ctx, a, axis=None, keepdims=False):
        ctx.shape, ctx.axes, ctx.keepdims = a.shape, _normalize_axes(axis, a.ndim), keepdims
        ctx.count = int(np.prod([a.shape[i] for i in ctx.axes]))
        return np.asarray(a.mean(axis=ctx.axes, keepdims=keepdims))

    @staticmethod
    def backward(ctx, grad):
        return _expand(grad / grad.dtype.type(ctx.count), ctx.shape, ctx.axes, ctx.keepdims)


class Max(Function):
    """Max over axes; ties share the gradient equally (so the gradient check holds).

    Example:
        >>> a = tinydl.Tensor([[1.0, 3.0, 3.0]], requires_grad=True)
        >>> Max.apply(a, 1).sum().backward()
        >>> a.grad
        array([[0. , 0.5, 0.5]], dtype=float32)
    """

    @staticmethod
    def forward(ctx, a, axis=None, keepdims=False):
        axes = _normalize_axes(axis, a.ndim)
        out = a.max(axis=axes, keepdims=True)
        ctx.save_for_backward(a, out)  # the winners are found in backward, not at inference
        ctx.axes, ctx.keepdims = axes, keepdims
        return np.asarray(out if keepdims else out.squeeze(axis=axes))

    @staticmethod
    def backward(ctx, grad):
        a, out = ctx.saved
        winners = a == out
        grad = _expand(grad, out.shape, ctx.axes, ctx.keepdims)  # out kept the reduced axes
        count = winners.sum(axis=ctx.axes, keepdims=True).astype(a.dtype)
        return winners * (grad / count).astype(a.dtype, copy=False)


class Prod(Function):
    """Product over axes. d/dx_i = product of the other elements (exact even where x_i == 0).

    backward: move the reduced axes last and flatten them into one axis of length K; the
    product of the others is (product of those before) * (product of those after), two
    cumulative products.

    Example:
        >>> a = tinydl.Tensor([2.0, 0.0, 4.0], requires_grad=True)
        >>> y = Prod.apply(a)
        >>> y.backward()
        >>> y, a.grad
        (Tensor(0., requires_grad=True), array([0., 8., 0.], dtype=float32))
    """

    @staticmethod
    def forward(ctx, a, axis=None, keepdims=False):
        ctx.save_for_backward(a)
        ctx.axes, ctx.keepdims = _normalize_axes(axis, a.ndim), keepdims
        return np.asarray(a.prod(axis=ctx.axes, keepdims=keepdims))

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved
        if a.size == 0:
            return np.zeros_like(a)
        kept = [i for i in range(a.ndim) if i not in ctx.axes]
        moved = a.transpose(kept + list(ctx.axes))
        flat = moved.reshape(moved.shape[:len(kept)] + (-1,))
        ones = np.ones(flat.shape[:-1] + (1,), dtype=a.dtype)
        before = np.cumprod(np.concatenate([ones, flat[..., :-1]], axis=-1), axis=-1)
        after = np.cumprod(np.concatenate([ones, flat[..., :0:-1]], axis=-1), axis=-1)[..., ::-1]
        others = (before * after).reshape(moved.shape).transpose(np.argsort(kept + list(ctx.axes)))
        return _expand(grad, a.shape, ctx.axes, ctx.keepdims) * others
