"""2-D convolution (NHWC input, (KH, KW, C, F) kernel), forward beside backward; and the
convolution followed by a max pool, recorded as one node so its backward needs no pool pass."""

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

    forward(x, kernel, bias, conv_out, strides, pads, relu, pool, pool_pads): conv_out is the
    convolution's output, already computed by Conv2d, which this pools (strides == pool); or
    None, when the layers asked for both at once (functional.conv2d_max_pool): then one kernel
    convolves and pools tile by tile, and the convolution's output is never stored.
    backward gives dx, dkernel, dbias as Conv2d does, but from the pooled gradient (N, PH, PW,
    F): the gradient kernels take the pool's argmax (and its output as the ReLU mask, since
    max_pool(relu(z)) == relu(max_pool(z))) and route dp to the window winners themselves,
    one tile at a time. The (N, OH, OW, F) gradient of conv_out, four times the size of dp
    and three quarters zeros for a 2x2 pool, is never written or read back.

    The math is exactly MaxPool2d's backward followed by Conv2d's; see
    tinydl.kernels.reference._conv_output_grad. tinydl.functional.max_pool2d records this
    node (fuse_max_pool below) instead of MaxPool2d when its input came from Conv2d.

    Example:
        >>> x, k = tinydl.Tensor(np.ones((1, 6, 6, 2), np.float32)), tinydl.Tensor(np.ones((3, 3, 2, 5), np.float32))
        >>> Conv2dMaxPool.apply(x, k, None, None, (1, 1), (0, 0, 0, 0), False, (2, 2), (0, 0, 0, 0)).shape
        (1, 2, 2, 5)
    """

    @staticmethod
    def forward(ctx, x, kernel, bias, conv_out, strides, pads, relu, pool, pool_pads):
        if conv_out is None:  # pool_pads are zero: functional.conv2d_max_pool checked
            p, argmax = backend.conv2d_max_pool_forward(x, kernel, bias, strides, pads, relu, pool)
        else:
            p, argmax = backend.max_pool2d_forward(conv_out, pool, pool, pool_pads)
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
        return dx, dk, db, None, None, None, None, None, None


def fuse_max_pool(conv_out, pool, strides, pads):
    """Max-pool conv_out through Conv2dMaxPool when that is possible, else return None.

    Possible when conv_out (a Tensor) was made by Conv2d in a recorded graph and the pool's
    windows tile it (strides == pool). The new node takes the convolution's own inputs, so
    the result is right even if conv_out is also used elsewhere (that use still goes back
    through the Conv2d node).

    Example:
        >>> x = tinydl.Tensor(np.ones((1, 6, 6, 2), np.float32), requires_grad=True)
        >>> conv_out = Conv2d.apply(x, tinydl.Tensor(np.ones((3, 3, 2, 5), np.float32)), None, (1, 1), (0, 0, 0, 0))
        >>> fuse_max_pool(conv_out, (2, 2), (2, 2), (0, 0, 0, 0)).shape
        (1, 2, 2, 5)
        >>> fuse_max_pool(tinydl.Tensor(np.ones((1, 4, 4, 5), np.float32)), (2, 2), (2, 2), (0, 0, 0, 0)) is None
        True
    """
    node = conv_out._node
    if node is None or node.function is not Conv2d or tuple(strides) != tuple(pool):
        return None
    x, kernel, bias = node.inputs[:3]
    ctx = node.ctx
    return Conv2dMaxPool.apply(x, kernel, bias, conv_out.data, ctx.strides, ctx.pads, ctx.relu,
                               tuple(pool), tuple(pads))
