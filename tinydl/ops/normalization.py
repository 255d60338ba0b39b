"""Batch and layer normalization, each one op: forward beside its fused backward.

Composing it from mean, sub, div and sqrt would also be differentiable, but the fused
backward is the classic three-term formula, cheaper and a good thing to read:

    xhat = (x - mean) * inv,  inv = 1 / sqrt(var + epsilon),  y = gamma * xhat + beta
    dxhat = dy * gamma
    dx = inv / M * (M * dxhat - sum(dxhat) - xhat * sum(dxhat * xhat))
    dgamma = sum(dy * xhat),  dbeta = sum(dy)

the sums running over the M = N*H*W values of each channel (all axes but the channel axis).
"""

from __future__ import annotations

import numpy as np

from tinydl import backend
from tinydl.autograd import Function


class BatchNormTrain(Function):
    """forward(x (N, ..., C), gamma (C,) or None, beta (C,) or None, mean, var, axes, epsilon).

    mean and var are x's own batch statistics over axes, with keepdims (shape (1, ..., C)):
    the backward differentiates through them, so they must not come from anywhere else
    (use batch_norm_train, which computes them).

    Example:
        >>> x = np.array([[1.0, 10.0], [3.0, 30.0]], np.float32)
        >>> mean, var = x.mean(0, keepdims=True), x.var(0, keepdims=True)
        >>> np.round(BatchNormTrain.apply(tinydl.Tensor(x), None, None, mean, var, (0,), 1e-3).data, 3)
        array([[-1., -1.],
               [ 1.,  1.]], dtype=float32)
    """

    @staticmethod
    def forward(ctx, x, gamma, beta, mean, var, axes, epsilon):
        inv = (1.0 / np.sqrt(var + epsilon)).astype(x.dtype)
        xhat = (x - mean) * inv
        ctx.save_for_backward(xhat, inv, gamma)
        ctx.axes = axes
        y = xhat if gamma is None else xhat * gamma.reshape(mean.shape)
        return y if beta is None else y + beta.reshape(mean.shape)

    @staticmethod
    def backward(ctx, grad):
        xhat, inv, gamma = ctx.saved
        axes = ctx.axes
        count = xhat.size // inv.size
        dxhat = grad if gamma is None else grad * gamma.reshape(inv.shape)
        dx = inv / count * (count * dxhat - dxhat.sum(axes, keepdims=True)
                            - xhat * (dxhat * xhat).sum(axes, keepdims=True))
        dgamma = None if gamma is None else (grad * xhat).sum(axes).reshape(gamma.shape)
        dbeta = grad.sum(axes).reshape(-1) if ctx.needs_input_grad[2] else None
        return dx, dgamma, dbeta


class BatchNormChannelsLast(Function):
    """Batch norm over the last axis with the batch's own statistics, [+ a fused ReLU], in the
    batchnorm kernels (tinydl/kernels/batchnorm.py: one pass for the statistics, a second for
    y; the backward's two sums in one pass, dx in a second).

    forward(x (..., C), gamma (C,) or None, beta (C,) or None, epsilon, relu, stats): stats is
    a dict the forward fills with the batch's mean and biased variance (C,) (for the moving
    averages; they are not differentiated through separately: the backward formula includes
    them).

    Example:
        >>> stats = {}
        >>> x = tinydl.Tensor(np.array([[1.0, 10.0], [3.0, 30.0]], np.float32))
        >>> np.round(BatchNormChannelsLast.apply(x, None, None, 1e-3, False, stats).data, 3)
        array([[-1., -1.],
               [ 1.,  1.]], dtype=float32)
        >>> stats["mean"]
        array([ 2., 20.], dtype=float32)
    """

    @staticmethod
    def forward(ctx, x, gamma, beta, epsilon, relu, stats):
        flat = x.reshape(-1, x.shape[-1])
        y, mean, var = backend.batchnorm_forward(flat, gamma, beta, epsilon, relu)
        stats["mean"], stats["var"] = mean, var
        ctx.save_for_backward(flat, y if relu else None, mean, var, gamma)
        ctx.shape, ctx.epsilon, ctx.has_beta = x.shape, epsilon, beta is not None
        return y.reshape(x.shape)

    @staticmethod
    def backward(ctx, grad):
        flat, y, mean, var, gamma = ctx.saved
        dx, dgamma, dbeta = backend.batchnorm_backward(grad.reshape(flat.shape), flat, y, mean,
                                                       var, gamma, ctx.epsilon)
        return (dx.reshape(ctx.shape), None if gamma is None else dgamma,
                dbeta if ctx.has_beta else None, None, None, None)


def batch_norm_train(x, gamma, beta, axis: int, epsilon: float, relu: bool = False):
    """Normalize x with its own statistics over every axis but `axis` [, then a ReLU].

    Args:
        x: Tensor (N, ..., C) (C at `axis`). gamma, beta: Tensors (C,) or None.
        axis: the channel axis. epsilon: added to the variance.
        relu: apply max(., 0) to the result, inside the kernel (only for the last axis).

    Returns:
        (y, mean, var): y a Tensor of x's shape; mean and var NumPy arrays (C,), the batch
        mean and the biased batch variance (divided by M, not M - 1), as Keras uses them.

    Example:
        >>> y, mean, var = batch_norm_train(tinydl.Tensor([[1.0, 10.0], [3.0, 30.0]]), None, None, -1, 1e-3)
        >>> mean, var
        (array([ 2., 20.], dtype=float32), array([  1., 100.], dtype=float32))
    """
    axis = axis % x.ndim
    if axis == x.ndim - 1:  # channels last: the batchnorm kernels
        stats: dict = {}
        y = BatchNormChannelsLast.apply(x, gamma, beta, epsilon, relu, stats)
        return y, stats["mean"], stats["var"]
    if relu:
        raise ValueError(f"batch_norm_train: relu=True needs the channels on the last axis. "
                         f"Received: axis={axis} for an input of rank {x.ndim}")
    axes = tuple(i for i in range(x.ndim) if i != axis)
    mean = x.data.mean(axis=axes, keepdims=True)
    var = x.data.var(axis=axes, keepdims=True)
    y = BatchNormTrain.apply(x, gamma, beta, mean, var, axes, epsilon)
    return y, mean.reshape(-1), var.reshape(-1)


class LayerNorm(Function):
    """Layer normalization: each sample normalized over `axes` with its own statistics.

    forward(x, gamma, beta, axes, epsilon): gamma and beta (or None) have the shape of x's
    `axes` (e.g. (D,) for axes=(-1,) positive). The backward is BatchNormTrain's three-term
    formula with the sums over `axes` (the values normalized together), and gamma's and
    beta's gradients summed over the other axes.

    Example:
        >>> np.round(LayerNorm.apply(tinydl.Tensor([[1.0, 3.0]]), None, None, (1,), 1e-3).data, 3)
        array([[-1.,  1.]], dtype=float32)
    """

    @staticmethod
    def forward(ctx, x, gamma, beta, axes, epsilon):
        mean = x.mean(axis=axes, keepdims=True)
        var = x.var(axis=axes, keepdims=True)
        inv = (1.0 / np.sqrt(var + epsilon)).astype(x.dtype)
        xhat = (x - mean) * inv
        shape = tuple(x.shape[i] if i in axes else 1 for i in range(x.ndim))
        ctx.save_for_backward(xhat, inv, gamma)
        ctx.axes, ctx.shape = axes, shape
        y = xhat if gamma is None else xhat * gamma.reshape(shape)
        return y if beta is None else y + beta.reshape(shape)

    @staticmethod
    def backward(ctx, grad):
        xhat, inv, gamma = ctx.saved
        axes = ctx.axes
        others = tuple(i for i in range(grad.ndim) if i not in axes)
        count = xhat.size // inv.size
        dxhat = grad if gamma is None else grad * gamma.reshape(ctx.shape)
        dx = inv / count * (count * dxhat - dxhat.sum(axes, keepdims=True)
                            - xhat * (dxhat * xhat).sum(axes, keepdims=True))
        dgamma = None if gamma is None else (grad * xhat).sum(others).reshape(gamma.shape)
        dbeta = grad.sum(others).reshape(tuple(grad.shape[i] for i in axes)) \
            if ctx.needs_input_grad[2] else None
        return dx, dgamma, dbeta
