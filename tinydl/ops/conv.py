"""2-D convolution (NHWC input, (KH, KW, C, F) kernel), forward beside backward; and the
convolution followed by a max pool as one node (what the fusion pass, tinydl/fusion.py, uses),
so its backward needs no pool pass."""

from __future__ import annotations

from tinydl import backend
from tinydl.autograd import Function


class Conv2d(Function):
    """y = relu?(conv(x, kernel) + bias).

    forward(x (N, H, W, C), kernel (KH, KW, C, F), bias (F,) or None, strides, pads, relu)
    backward gives dx (N, H, W, C), dkernel (KH, KW, C, F), dbias (F,).
    With relu fused, the gradient is masked where the output was zero: the backward kernels
    get the output as relu_out and apply the mask themselves, tile by tile.

    Example:
        >>> x, k = tinydl.Tensor(np.ones((1, 4, 4, 2), np.float32)), tinydl.Tensor(np.ones((3, 3, 2, 5), np.float32))
        >>> y = Conv2d.apply(x, k, None, (1, 1), (0, 0, 0, 0))
        >>> y.shape, float(y.data[0, 0, 0, 0])
        ((1, 2, 2, 5), 18.0)
    """

    @staticmethod
    def forward(ctx, x, kernel, bias, strides, pads, relu=False):
        y = backend.conv2d_forward(x, kernel, bias, strides, pads, relu)
        ctx.save_for_backward(x, kernel, y if relu else None)
        ctx.strides, ctx.pads, ctx.has_bias, ctx.relu = strides, pads, bias is not None, relu
        return y

    @staticmethod
    def backward(ctx, grad):
        x, kernel, y = ctx.saved  # y: the output, kept only when relu was fused
        need_x, need_k, need_b = ctx.needs_input_grad[:3]
        dx = backend.conv2d_backward_input(grad, kernel, x.shape, ctx.strides, ctx.pads,
                                           relu_out=y) if need_x else None
        dk = db = None
        if need_k or need_b:
            dk, db = backend.conv2d_backward_kernel(grad, x, kernel.shape[:2], ctx.strides,
                                                    ctx.pads, ctx.has_bias, relu_out=y)
        return dx, dk, db, None, None, None


class Conv2dMaxPool(Function):
    """p = max_pool(relu?(conv(x, kernel) + bias)), for a pool whose windows tile the conv output.

    forward(x, kernel, bias, strides, pads, relu, pool, pool_pads): without pool padding one
    kernel convolves and pools tile by tile, and the convolution's output is never stored;
    with it ('same' pooling that pads), the convolution runs, then the pool.
    backward gives dx, dkernel, dbias as Conv2d does, but from the pooled gradient (N, PH, PW,
    F): the gradient kernels take the pool's argmax (and its output as the ReLU mask, since
    max_pool(relu(z)) == relu(max_pool(z))) and route dp to the window winners themselves,
    one tile at a time. The (N, OH, OW, F) gradient of the convolution's output, four times
    the size of dp and three quarters zeros for a 2x2 pool, is never written or read back.

    The math is exactly MaxPool2d's backward followed by Conv2d's; see _conv_output_grad in
    tinydl/kernels/conv2d.py. functional.conv2d_max_pool records this node; the fusion pass
    (tinydl/fusion.py) calls it for Conv2D -> [ReLU] -> MaxPooling2D.

    Example:
        >>> x, k = tinydl.Tensor(np.ones((1, 6, 6, 2), np.float32)), tinydl.Tensor(np.ones((3, 3, 2, 5), np.float32))
        >>> Conv2dMaxPool.apply(x, k, None, (1, 1), (0, 0, 0, 0), False, (2, 2), (0, 0, 0, 0)).shape
        (1, 2, 2, 5)
    """

    @staticmethod
    def forward(ctx, x, kernel, bias, strides, pads, relu, pool, pool_pads):
        if any(pool_pads):
            conv_out = backend.conv2d_forward(x, kernel, bias, strides, pads, relu)
            p, argmax = backend.max_pool2d_forward(conv_out, pool, pool, pool_pads)
        else:
            p, argmax = backend.conv2d_max_pool_forward(x, kernel, bias, strides, pads, relu, pool)
        ctx.save_for_backward(x, kernel, argmax, p if relu else None)
        ctx.strides, ctx.pads, ctx.has_bias = strides, pads, bias is not None
        ctx.pool_geometry = (pool, pool_pads)
        return p

    @staticmethod
    def backward(ctx, grad):
        x, kernel, argmax, p = ctx.saved  # p: the pooled output, kept when relu was fused
        route = {"relu_out": p, "pool_argmax": argmax, "pool_geometry": ctx.pool_geometry}
        need_x, need_k, need_b = ctx.needs_input_grad[:3]
        dx = backend.conv2d_backward_input(grad, kernel, x.shape, ctx.strides, ctx.pads,
                                           **route) if need_x else None
        dk = db = None
        if need_k or need_b:
            dk, db = backend.conv2d_backward_kernel(grad, x, kernel.shape[:2], ctx.strides,
                                                    ctx.pads, ctx.has_bias, **route)
        return dx, dk, db, None, None, None, None, None
