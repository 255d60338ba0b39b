"""Where forward and backward meet: Function, the graph it records, and reverse-mode backward.

Every differentiable op is a Function subclass with two static methods that work on
NumPy arrays:

    class Square(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved
            return 2 * x * grad

    y = Square.apply(t)          # t is a Tensor; y is a Tensor that remembers how it was made

Calling `loss.backward()` walks the recorded graph from the loss back to the leaves in
reverse topological order, calling each node's backward once with the sum of the
gradients flowing into it.
"""

from __future__ import annotations

import contextlib

import numpy as np

_grad_enabled = [True]


@contextlib.contextmanager
def no_grad():
    """Run the block without recording a graph (inference, weight updates)."""
    previous = _grad_enabled[0]
    _grad_enabled[0] = False
    try:
        yield
    finally:
        _grad_enabled[0] = previous


def is_grad_enabled() -> bool:
    """True unless inside no_grad()."""
    return _grad_enabled[0]


class Context:
    """What a Function's forward leaves for its backward: saved arrays and any attributes.

    Attributes:
        saved: the tuple given to save_for_backward.
        needs_input_grad: one bool per forward input; backward may skip work for False ones.
    """

    def __init__(self, needs_input_grad):
        self.needs_input_grad = needs_input_grad
        self.saved = ()

    def save_for_backward(self, *arrays) -> None:
        self.saved = arrays

    @property
    def saved_tensors(self):
        """PyTorch's name for `saved`."""
        return self.saved


class Node:
    """One recorded call: the Function, its Context and the input Tensors (None for non-tensors)."""

    __slots__ = ("function", "ctx", "inputs")

    def __init__(self, function, ctx, inputs):
        self.function, self.ctx, self.inputs = function, ctx, inputs


class Function:
    """Base class of every differentiable op. Subclass it and write forward and backward.

    forward(ctx, *args, **kwargs) receives the NumPy arrays of Tensor arguments (other
    arguments unchanged) and returns one array. backward(ctx, grad) receives the gradient
    of the loss with respect to that output and returns one gradient per positional
    argument (a single array when there is one argument; None for non-tensor arguments or
    inputs that need none; trailing non-tensor arguments may be left out). A gradient whose
    shape was broadcast in forward is summed back to the input's shape by the engine.
    """

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError("a Function subclass must define forward(ctx, *inputs)")

    @staticmethod
    def backward(ctx, grad):
        raise NotImplementedError("a Function subclass must define backward(ctx, grad)")

    @classmethod
    def apply(cls, *args, **kwargs):
        """Run forward on the arrays of args; record the call when a gradient will be needed."""
        from tinydl.tensor import Tensor

        tensors = [a if isinstance(a, Tensor) else None for a in args]
        needs = tuple(t is not None and t.requires_grad for t in tensors)
        record = is_grad_enabled() and any(needs)
        ctx = Context(needs)
        arrays = [a.data if isinstance(a, Tensor) else a for a in args]
        out = Tensor._wrap(cls.forward(ctx, *arrays, **kwargs), requires_grad=record)
        if record:
            out._node = Node(cls, ctx, tensors)
        return out


def _topological_order(root):
    """Tensors reachable from root, each before every tensor it was made from.

    Iterative depth-first search (no recursion limit on deep graphs): a tensor is appended
    after all its inputs were, then the list is reversed. Inputs are visited in argument
    order, so the order (and every floating-point sum) is the same on every run.
    """
    order, visited = [], set()
    stack = [(root, False)]
    while stack:
        tensor, expanded = stack.pop()
        if expanded:
            order.append(tensor)
            continue
        if id(tensor) in visited:
            continue
        visited.add(id(tensor))
        stack.append((tensor, True))
        for parent in tensor._node.inputs if tensor._node else ():
            if parent is not None and parent.requires_grad and id(parent) not in visited:
                stack.append((parent, False))
    return order[::-1]


def unbroadcast(grad: np.ndarray, shape: tuple) -> np.ndarray:
    """Sum grad over the axes that broadcasting added or stretched, so it has `shape`."""
    if grad.shape == tuple(shape):
        return grad
    extra = grad.ndim - len(shape)
    if extra < 0:
        raise ValueError(f"gradient of shape {grad.shape} cannot belong to an input of shape {shape}")
    grad = grad.sum(axis=tuple(range(extra))) if extra else grad
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if stretched:
        grad = grad.sum(axis=stretched, keepdims=True)
    if grad.shape != tuple(shape):
        raise ValueError(f"gradient of shape {grad.shape} does not match its input's shape {shape}")
    return grad


def _input_grads(node, grad):
    grads = node.function.backward(node.ctx, grad)
    if not isinstance(grads, tuple):
        grads = (grads,)
    missing = node.inputs[len(grads):]
    if any(t is not None and t.requires_grad for t in missing):
        raise ValueError(
            f"{node.function.__name__}.backward returned {len(grads)} gradients, but input "
            f"{len(grads)} is a tensor that requires grad: return one gradient per input"
        )
    return grads + (None,) * len(missing)


def backward(root, grad: np.ndarray, retain_graph: bool = False) -> None:
    """Accumulate d(root)/d(leaf) * grad into the .grad of every leaf that requires grad.

    Leaves keep their gradients (they add up across calls until zero_grad); intermediate
    tensors do not. Unless retain_graph, the graph is released afterwards, so the memory
    held by intermediates is freed.
    """
    order = _topological_order(root)
    pending = {id(root): grad}
    for tensor in order:
        g = pending.pop(id(tensor), None)
        if g is None:
            continue
        node = tensor._node
        if node is None:
            tensor.grad = g.copy() if tensor.grad is None else tensor.grad + g
            continue
        for parent, pg in zip(node.inputs, _input_grads(node, g)):
            if parent is None or pg is None or not parent.requires_grad:
                continue
            pg = unbroadcast(np.asarray(pg, dtype=parent.dtype), parent.shape)
            key = id(parent)
            pending[key] = pg if key not in pending else pending[key] + pg
        if not retain_graph:
            tensor._node = None
