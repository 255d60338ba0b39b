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


class GlobalAvgPool(Function):
    """The mean over the middle axis of x (N, S, C): (N, C); each step gets dy / S back.

    Example:
        >>> x = tinydl.Tensor(np.arange(6.0).reshape(1, 3, 2), requires_grad=True)
        >>> y = GlobalAvgPool.apply(x)
        >>> y.sum().backward()
        >>> y.data, x.grad[0, :, 0]
        (array([[2., 3.]]), array([0.33333333, 0.33333333, 0.33333333]))
    """

    @staticmethod
    def forward(ctx, x):
        ctx.steps = x.shape[1]
        return backend.global_avg_pool(x)

    @staticmethod
    def backward(ctx, grad):
        return backend.global_avg_pool_backward(grad, ctx.steps)


class GlobalMaxPool(Function):
    """The max over the middle axis of x (N, S, C): (N, C); ties share the gradient equally,
    as in tinydl.ops.reduce.Max.

    Example:
        >>> x = tinydl.Tensor(np.array([[[1.0, 5.0], [4.0, 5.0]]]), requires_grad=True)
        >>> GlobalMaxPool.apply(x).sum().backward()
        >>> x.grad
        array([[[0. , 0.5],
                [1. , 0.5]]])
    """

    @staticmethod
    def forward(ctx, x):
        y = backend.global_max_pool(x)
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved
        return backend.global_max_pool_backward(x, y, grad)
