"""Lab 1: backward rules of elementwise, broadcasting and reduction ops, as tinydl Functions.

Each op's forward is given; write its backward. A backward receives `grad`, the gradient of
the loss with respect to the op's output (same shape as the output), and returns one
gradient per forward argument: an array of that argument's shape, or None for an argument
that is not an array (an exponent, an axis).
"""

from __future__ import annotations

import numpy as np

from tinydl.autograd import Function


# ----------------------------------------------------------------------------- task 1.1

def unbroadcast(grad: np.ndarray, shape: tuple) -> np.ndarray:
    """Sum grad over the axes that broadcasting added or stretched, so it has `shape`.

    Example: an input of shape (3,) added to one of shape (4, 3) has an output gradient of
    shape (4, 3); the input's gradient is its sum over axis 0, of shape (3,).
    """
    # BEGIN SOLUTION 1.1 write unbroadcast: sum the added leading axes, then the stretched size-1 axes (keepdims)
    shape = tuple(shape)
    extra = grad.ndim - len(shape)
    if extra < 0:
        raise ValueError(f"a gradient of shape {grad.shape} cannot belong to an input of shape {shape}")
    if extra:
        grad = grad.sum(axis=tuple(range(extra)))
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if stretched:
        grad = grad.sum(axis=stretched, keepdims=True)
    return grad
    # END SOLUTION


# ----------------------------------------------------------------------------- task 1.2

class Exp(Function):
    @staticmethod
    def forward(ctx, x):
        out = np.exp(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        # BEGIN SOLUTION 1.2 write Exp.backward: d exp(x)/dx = exp(x), which forward saved
        (out,) = ctx.saved
        return grad * out
        # END SOLUTION


class Log(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.log(x)

    @staticmethod
    def backward(ctx, grad):
        # BEGIN SOLUTION 1.2 write Log.backward: d log(x)/dx = 1/x
        (x,) = ctx.saved
        return grad / x
        # END SOLUTION


class Tanh(Function):
    @staticmethod
    def forward(ctx, x):
        out = np.tanh(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        # BEGIN SOLUTION 1.2 write Tanh.backward: d tanh(x)/dx = 1 - tanh(x)^2
        (out,) = ctx.saved
        return grad * (1 - out * out)
        # END SOLUTION


class Sigmoid(Function):
    @staticmethod
    def forward(ctx, x):
        out = 1 / (1 + np.exp(-x))
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        # BEGIN SOLUTION 1.2 write Sigmoid.backward: d s(x)/dx = s(x) (1 - s(x))
        (out,) = ctx.saved
        return grad * out * (1 - out)
        # END SOLUTION


class PowScalar(Function):
    """x ** p for a plain number p."""

    @staticmethod
    def forward(ctx, x, p):
        ctx.save_for_backward(x)
        ctx.p = p
        return x ** p

    @staticmethod
    def backward(ctx, grad):
        # BEGIN SOLUTION 1.2 write PowScalar.backward: p x^(p-1) for x, None for the plain number p
        (x,) = ctx.saved
        return grad * ctx.p * x ** (ctx.p - 1), None
        # END SOLUTION


# ----------------------------------------------------------------------------- task 1.3

class Add(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = (a.shape, b.shape)
        return a + b

    @staticmethod
    def backward(ctx, grad):
        # BEGIN SOLUTION 1.3 write Add.backward: grad to each input, unbroadcast to its shape
        a_shape, b_shape = ctx.shapes
        return unbroadcast(grad, a_shape), unbroadcast(grad, b_shape)
        # END SOLUTION


class Mul(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a * b

    @staticmethod
    def backward(ctx, grad):
        # BEGIN SOLUTION 1.3 write Mul.backward: grad * b and grad * a, each unbroadcast to its input shape
        a, b = ctx.saved
        return unbroadcast(grad * b, a.shape), unbroadcast(grad * a, b.shape)
        # END SOLUTION


class Div(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a / b

    @staticmethod
    def backward(ctx, grad):
        # BEGIN SOLUTION 1.3 write Div.backward: d(a/b)/da = 1/b, d(a/b)/db = -a/b^2, each unbroadcast
        a, b = ctx.saved
        return unbroadcast(grad / b, a.shape), unbroadcast(-grad * a / (b * b), b.shape)
        # END SOLUTION


# ----------------------------------------------------------------------------- task 1.4

def normalize_axes(axis, ndim: int) -> tuple:
    """The reduced axes as a sorted tuple of non-negative ints (None: all of them)."""
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    return tuple(sorted(a % ndim for a in axes))


def _expand(grad, shape, axes, keepdims):
    """Give grad back the reduced axes (as size 1), then stretch it to `shape`."""
    # BEGIN SOLUTION 1.4 write _expand: np.expand_dims each reduced axis (unless keepdims), then np.broadcast_to
    if not keepdims:
        for a in axes:
            grad = np.expand_dims(grad, a)
    return np.broadcast_to(grad, shape)
    # END SOLUTION


class Sum(Function):
    @staticmethod
    def forward(ctx, x, axis=None, keepdims=False):
        ctx.shape, ctx.axes, ctx.keepdims = x.shape, normalize_axes(axis, x.ndim), keepdims
        return np.asarray(x.sum(axis=ctx.axes, keepdims=keepdims))

    @staticmethod
    def backward(ctx, grad):
        # BEGIN SOLUTION 1.4 write Sum.backward: put the reduced axes back (size 1), then broadcast to the input shape
        return _expand(grad, ctx.shape, ctx.axes, ctx.keepdims)
        # END SOLUTION


class Mean(Function):
    @staticmethod
    def forward(ctx, x, axis=None, keepdims=False):
        ctx.shape, ctx.axes, ctx.keepdims = x.shape, normalize_axes(axis, x.ndim), keepdims
        ctx.count = int(np.prod([x.shape[a] for a in ctx.axes]))
        return np.asarray(x.mean(axis=ctx.axes, keepdims=keepdims))

    @staticmethod
    def backward(ctx, grad):
        # BEGIN SOLUTION 1.4 write Mean.backward: like Sum, divided by the number of elements averaged
        return _expand(grad, ctx.shape, ctx.axes, ctx.keepdims) / ctx.count
        # END SOLUTION


class Max(Function):
    """The maximum over axes. Ties share the gradient equally: max([1, 3, 3]) sends [0, .5, .5]."""

    @staticmethod
    def forward(ctx, x, axis=None, keepdims=False):
        ctx.axes, ctx.keepdims = normalize_axes(axis, x.ndim), keepdims
        out = x.max(axis=ctx.axes, keepdims=True)
        ctx.save_for_backward(x, out)
        return np.asarray(out if keepdims else out.squeeze(axis=ctx.axes))

    @staticmethod
    def backward(ctx, grad):
        # BEGIN SOLUTION 1.4 write Max.backward: the gradient goes to the maxima; ties share it equally
        x, out = ctx.saved
        winners = (x == out)
        share = winners / winners.sum(axis=ctx.axes, keepdims=True)
        return _expand(grad, x.shape, ctx.axes, ctx.keepdims) * share
        # END SOLUTION
