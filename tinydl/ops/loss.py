"""Softmax, log-softmax and the fused softmax cross-entropy, forward beside backward."""

from __future__ import annotations

import numpy as np

from tinydl import backend
from tinydl.autograd import Function


class Softmax(Function):
    """exp(x - max) / sum(exp(x - max)) along an axis; backward: y * (g - sum(g * y)).

    Example:
        >>> Softmax.apply(tinydl.Tensor([[0.0, 0.0], [0.0, np.log(3.0)]]))
        Tensor([[0.5 , 0.5 ],
                [0.25, 0.75]])
    """

    @staticmethod
    def forward(ctx, x, axis=-1):
        e = np.exp(x - x.max(axis=axis, keepdims=True))
        y = e / e.sum(axis=axis, keepdims=True)
        ctx.save_for_backward(y)
        ctx.axis = axis
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved
        return y * (grad - (grad * y).sum(axis=ctx.axis, keepdims=True)), None


class LogSoftmax(Function):
    """x - logsumexp(x) along an axis; backward: g - softmax(x) * sum(g).

    Example:
        >>> LogSoftmax.apply(tinydl.Tensor([[0.0, 0.0]]))
        Tensor([[-0.6931, -0.6931]])
    """

    @staticmethod
    def forward(ctx, x, axis=-1):
        shifted = x - x.max(axis=axis, keepdims=True)
        y = shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))
        ctx.save_for_backward(y)
        ctx.axis = axis
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved
        return grad - np.exp(y) * grad.sum(axis=ctx.axis, keepdims=True), None


class SoftmaxCrossEntropy(Function):
    """Mean over the batch of -log softmax(logits)[label], in one stable kernel.

    forward(logits (N, K), labels int (N,)) -> scalar; backward: (softmax - onehot) / N.

    Example:
        >>> logits = tinydl.Tensor([[0.0, 0.0], [0.0, 0.0]], requires_grad=True)
        >>> loss = SoftmaxCrossEntropy.apply(logits, np.array([0, 1]))
        >>> loss.backward()
        >>> loss, logits.grad
        (Tensor(0.6931, requires_grad=True), array([[-0.25,  0.25],
               [ 0.25, -0.25]], dtype=float32))
    """

    @staticmethod
    def forward(ctx, logits, labels):
        losses, probs = backend.softmax_xent_forward(logits, labels)
        ctx.save_for_backward(probs, labels)
        return np.asarray(losses.mean(), dtype=logits.dtype)

    @staticmethod
    def backward(ctx, grad):
        probs, labels = ctx.saved
        scale = float(grad) / max(len(labels), 1)
        return backend.softmax_xent_backward(probs, labels, scale), None
