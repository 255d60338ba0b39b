"""Embedding lookup: rows of a table picked by integer ids, forward beside its scatter-add backward."""

from __future__ import annotations

from tinydl import backend
from tinydl.autograd import Function


class EmbeddingLookup(Function):
    """out[...] = table[ids[...]].

    forward(table (V, D), ids int64 of any shape S, each in [0, V)) -> (*S, D); the caller
    checked the ids. backward gives dtable (V, D): every looked-up row's gradient added to its
    id's row (backend.embedding_backward, a scatter-add in C), and nothing for ids.

    Example:
        >>> table = tinydl.Tensor(np.arange(6.0).reshape(3, 2), requires_grad=True)
        >>> EmbeddingLookup.apply(table, np.array([[2, 0, 2]])).sum().backward()
        >>> table.grad
        array([[1., 1.],
               [0., 0.],
               [2., 2.]])
    """

    @staticmethod
    def forward(ctx, table, ids):
        ctx.ids, ctx.rows = ids, table.shape[0]
        rows = backend.embedding_forward(table, ids.reshape(-1))  # a row copy per id
        return rows.reshape(*ids.shape, table.shape[1])

    @staticmethod
    def backward(ctx, grad):
        grad, ids = _in_memory_order(grad, ctx.ids)
        flat = grad.reshape(-1, grad.shape[-1])
        return backend.embedding_backward(ids.reshape(-1), flat, ctx.rows), None


def _in_memory_order(grad, ids):
    """grad (*S, D) and ids (*S) with S's axes put in the order grad's memory has them, so
    that grad flattens without a copy (an RNN's time-major gradient, transposed back to
    batch-major, is one). The scatter-add's sum is over the same rows either way."""
    lead = grad.ndim - 1
    order = sorted(range(lead), key=lambda axis: -grad.strides[axis])
    if grad.flags.c_contiguous or order == list(range(lead)):
        return grad, ids
    moved = grad.transpose(*order, lead)
    return (moved, ids.transpose(order)) if moved.flags.c_contiguous else (grad, ids)
