"""Max and average pooling over NHWC windows, forward beside backward."""

from __future__ import annotations

from tinydl import backend
from tinydl.autograd import Function


class MaxPool2d(Function):
    """Max over each window; backward routes the gradient to the element that won.

    Example:
        >>> x = tinydl.Tensor(np.arange(16.0).reshape(1, 4, 4, 1))
        >>> MaxPool2d.apply(x, (2, 2), (2, 2), (0, 0, 0, 0)).data[0, :, :, 0]
        array([[ 5.,  7.],
               [13., 15.]])
    """

    @staticmethod
    def forward(ctx, x, pool, strides, pads):
        y, argmax = backend.max_pool2d_forward(x, pool, strides, pads)
        ctx.save_for_backward(argmax)
        ctx.x_shape = x.shape
        return y

    @staticmethod
    def backward(ctx, grad):
        (argmax,) = ctx.saved
        return backend.max_pool2d_backward(grad, argmax, ctx.x_shape), None, None, None


class AvgPool2d(Function):
    """Mean over the real (unpadded) inputs of each window; backward spreads it evenly.

    Example:
        >>> x = tinydl.Tensor(np.arange(16.0).reshape(1, 4, 4, 1))
        >>> AvgPool2d.apply(x, (2, 2), (2, 2), (0, 0, 0, 0)).data[0, :, :, 0]
        array([[ 2.5,  4.5],
               [10.5, 12.5]])
    """

    @staticmethod
    def forward(ctx, x, pool, strides, pads):
        ctx.x_shape, ctx.geometry = x.shape, (pool, strides, pads)
        return backend.avg_pool2d_forward(x, pool, strides, pads)

    @staticmethod
    def backward(ctx, grad):
        return backend.avg_pool2d_backward(grad, ctx.x_shape, *ctx.geometry), None, None, None
