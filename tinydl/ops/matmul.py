"""Matrix multiply (2-D through the backend's GEMM, batched and 1-D through NumPy), Dense's fused
x @ kernel + bias (+ ReLU), and einsum."""

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


class Dense(Function):
    """y = relu?(x @ kernel + bias), the bias and ReLU in the GEMM's epilogue (one pass).

    forward(x (N, K), kernel (K, U), bias (U,) or None, relu) -> (N, U).
    backward: g = dy masked where y == 0 (when relu), then dx = g @ kernel^T, dkernel =
    x^T @ g (two GEMMs with transpose flags) and dbias = g summed over N. The values are
    those of MatMul, Add and relu one after the other: the GEMM adds the bias and clips after
    the whole sum, as the separate ops do.

    Example:
        >>> x = tinydl.Tensor(np.array([[1.0, -2.0]], np.float32), requires_grad=True)
        >>> Dense.apply(x, tinydl.Tensor(np.eye(2, dtype=np.float32)), None, True).data
        array([[1., 0.]], dtype=float32)
    """

    @staticmethod
    def forward(ctx, x, kernel, bias, relu):
        y = backend.gemm(x, kernel, bias=bias, relu=relu)
        ctx.save_for_backward(x, kernel, y if relu else None)
        ctx.has_bias = bias is not None
        return y

    @staticmethod
    def backward(ctx, grad):
        x, kernel, y = ctx.saved
        if y is not None:
            grad = backend.relu_backward(y, grad)
        need_x, need_k, need_b = ctx.needs_input_grad[:3]
        dx = backend.gemm(grad, kernel, trans_b=True) if need_x else None
        dk = backend.gemm(x, grad, trans_a=True) if need_k else None
        db = grad.sum(axis=0) if need_b and ctx.has_bias else None
        return dx, dk, db, None


class MatMul(Function):
    """a @ b. For 2-D: dA = dC @ B^T and dB = A^T @ dC, each one GEMM with a transpose flag.

    Example:
        >>> a = tinydl.Tensor(np.ones((2, 3)), requires_grad=True)
        >>> MatMul.apply(a, tinydl.Tensor(np.full((3, 4), 0.5))).sum().backward()
        >>> a.grad
        array([[2., 2., 2.],
               [2., 2., 2.]])
    """

    @staticmethod
    def forward(ctx, a, b):
        _check_matmul_shapes(a, b)
        ctx.save_for_backward(a, b)
        if a.ndim >= 2 and b.ndim == 2 and a.dtype == b.dtype:  # (..., K) @ (K, N): one GEMM
            out = backend.gemm(a.reshape(-1, a.shape[-1]), b)
            return out if a.ndim == 2 else out.reshape(a.shape[:-1] + b.shape[1:])
        return np.matmul(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved
        if a.ndim >= 2 and b.ndim == 2 and a.dtype == b.dtype:  # rows flattened, as forward
            a2, g2 = a.reshape(-1, a.shape[-1]), grad.reshape(-1, b.shape[1])
            grad_a = backend.gemm(g2, b, trans_b=True).reshape(a.shape) \
                if ctx.needs_input_grad[0] else None
            grad_b = backend.gemm(a2, g2, trans_a=True) if ctx.needs_input_grad[1] else None
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


def parse_einsum(subscripts: str, n_operands: int):
    """'ij,jk->ik' -> (['ij', 'jk'], 'ik'); the implicit output is the letters used once, sorted.

    Example:
        >>> parse_einsum("ij,jk->ik", 2), parse_einsum("ij,jk", 2)
        ((['ij', 'jk'], 'ik'), (['ij', 'jk'], 'ik'))
    """
    text = subscripts.replace(" ", "")
    inputs, arrow, output = text.partition("->")
    terms = inputs.split(",")
    if len(terms) != n_operands:
        raise ValueError(f"einsum: the subscripts name {len(terms)} operands but "
                         f"{n_operands} were given. Received: subscripts={subscripts!r}")
    if not arrow:
        letters = "".join(terms)
        output = "".join(sorted(c for c in set(letters) if letters.count(c) == 1))
    return terms, output


class Einsum(Function):
    """np.einsum over the operands; the gradient of each is an einsum of the output gradient
    with the other operands, broadcast along the letters only that operand sums over.

    forward(subscripts, *operands). The backward needs explicit letters (no '...') and no letter
    repeated within one operand (a diagonal); the forward supports all of NumPy's einsum.

    Example:
        >>> a = tinydl.Tensor(np.ones((2, 3)), requires_grad=True)
        >>> Einsum.apply("ij,jk->ik", a, tinydl.Tensor(np.full((3, 4), 0.5))).sum().backward()
        >>> a.grad
        array([[2., 2., 2.],
               [2., 2., 2.]])
    """

    @staticmethod
    def forward(ctx, subscripts, *operands):
        ctx.save_for_backward(*operands)
        ctx.terms, ctx.output = parse_einsum(subscripts, len(operands))
        if any(ctx.needs_input_grad) and not _differentiable(ctx.terms, ctx.output):
            raise NotImplementedError(
                "einsum: tinydl differentiates einsum only with explicit letters (no '...') and "
                f"no letter repeated within one operand. Received: subscripts={subscripts!r}")
        return np.asarray(np.einsum(subscripts, *operands))

    @staticmethod
    def backward(ctx, grad):
        grads = [None]
        for i, (term, x) in enumerate(zip(ctx.terms, ctx.saved)):
            if not ctx.needs_input_grad[i + 1]:
                grads.append(None)
                continue
            others = [(t, a) for j, (t, a) in enumerate(zip(ctx.terms, ctx.saved)) if j != i]
            present = set(ctx.output).union(*(t for t, _ in others))
            reachable = "".join(c for c in term if c in present)
            spec = ",".join([ctx.output] + [t for t, _ in others]) + "->" + reachable
            g = np.einsum(spec, grad, *(a for _, a in others))
            for axis, c in enumerate(term):  # letters only this operand had: broadcast back
                if c not in present:
                    g = np.expand_dims(g, axis)
            grads.append(np.broadcast_to(g, x.shape).astype(x.dtype))
        return tuple(grads)


def _differentiable(terms, output) -> bool:
    return "." not in "".join(terms) + output and all(len(set(t)) == len(t) for t in terms)
