"""2-D convolution (NHWC input, (KH, KW, C, F) kernel), forward beside backward."""

from __future__ import annotations

from tinydl import backend
from tinydl.autograd import Function


class Conv2d(Function):
    """y = relu?(conv(x, kernel) + bias).

    forward(x (N, H, W, C), kernel (KH, KW, C, F), bias (F,) or None, strides, pads, relu)
    backward gives dx (N, H, W, C), dkernel (KH, KW, C, F), dbias (F,).
    With relu fused, the gradient is masked where the output was zero: the backward kernels
    get the output as relu_out and apply the mask themselves, tile by tile.
    """

    @staticmethod
    def forward(ctx, x, kernel, bias, strides, pads, relu=False):
        y = backend.conv2d_forward(x, kernel, bias, strides, pads, relu)
        ctx.save_for_backward(x, kernel, y if relu else None)
        ctx.strides, ctx.pads, ctx.has_bias = strides, pads, bias is not None
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
