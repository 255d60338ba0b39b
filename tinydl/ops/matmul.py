"""Matrix multiply: 2-D through the backend's GEMM, batched (and 1-D) through NumPy's matmul."""

from __future__ import annotations

import numpy as np

from tinydl import backend
from tinydl.autograd import Function


def _check_matmul_shapes(a, b):
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(f"matmul needs tensors with at least one dimension, got {a.shape} @ {b.shape}")
    k_a = a.shape[-1]
    k_b = b.shape[-2] if b.ndim > 1 else b.shape[0]
    if k_a != k_b:
        raise ValueError(f"matmul: inner dimensions differ: {a.shape} @ {b.shape} "
                         f"({k_a} != {k_b}); expected (..., M, K) @ (..., K, N)")
    try:
        np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    except ValueError:
        raise ValueError(f"matmul: batch dimensions do not broadcast: {a.shape} @ {b.shape}") from None


class MatMul(Function):
    """a @ b. For 2-D: dA = dC @ B^T and dB = A^T @ dC, each one GEMM with a transpose flag."""

    @staticmethod
    def forward(ctx, a, b):
        _check_matmul_shapes(a, b)
        ctx.save_for_backward(a, b)
        if a.ndim == 2 and b.ndim == 2 and a.dtype == b.dtype:
            return backend.gemm(a, b)
        return np.matmul(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved
        if a.ndim == 2 and b.ndim == 2 and a.dtype == b.dtype:
            grad_a = backend.gemm(grad, b, trans_b=True) if ctx.needs_input_grad[0] else None
            grad_b = backend.gemm(a, grad, trans_a=True) if ctx.needs_input_grad[1] else None
            return grad_a, grad_b
        if a.ndim == 1 and b.ndim == 1:  # a dot product
            return grad * b, grad * a
        # 1-D operands: view them as a row (a) or a column (b), as matmul does
        a2 = a[None, :] if a.ndim == 1 else a
        b2 = b[:, None] if b.ndim == 1 else b
        g2 = grad
        if a.ndim == 1:
            g2 = np.expand_dims(g2, -2)
        if b.ndim == 1:
            g2 = np.expand_dims(g2, -1)
        grad_a = np.matmul(g2, np.swapaxes(b2, -1, -2))
        grad_b = np.matmul(np.swapaxes(a2, -1, -2), g2)
        if a.ndim == 1:
            grad_a = grad_a.reshape(grad_a.shape[:-2] + (a.shape[0],)) if grad_a.ndim > 2 \
                else grad_a[0]
        if b.ndim == 1:
            grad_b = grad_b[..., 0]
        return grad_a, grad_b
