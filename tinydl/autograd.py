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

Recording is switched per thread (PyTorch's names): `no_grad()` and `enable_grad()` as blocks
or decorators, `set_grad_enabled(mode)`, `is_grad_enabled()`; a new thread starts recording.
`detect_anomaly()` (tinydl.anomaly) checks every op's values and gradients for NaN / Inf.
"""

from __future__ import annotations

import sys

import numpy as np

from tinydl import anomaly, profiler
from tinydl._modes import Switch, check_decorated, state
from tinydl.anomaly import AnomalyError, detect_anomaly, is_anomaly_enabled  # noqa: F401


class no_grad(Switch):  # noqa: N801  (PyTorch's name)
    """Run the block, or the decorated function, without recording a graph (inference, weight
    updates). Per thread: another thread keeps recording. `@no_grad` and `@no_grad()` both work.

    Example:
        >>> x = tinydl.Tensor([1.0, 2.0], requires_grad=True)
        >>> with no_grad():
        ...     y = x * 2
        >>> y.requires_grad
        False
    """

    field, value = "grad_enabled", False


class enable_grad(Switch):  # noqa: N801  (PyTorch's name)
    """Record the graph again inside a no_grad() block (or a decorated function).

    Example:
        >>> x = tinydl.Tensor([1.0], requires_grad=True)
        >>> with no_grad():
        ...     with enable_grad():
        ...         y = x * 2
        >>> y.requires_grad
        True
    """

    field, value = "grad_enabled", True


class set_grad_enabled:  # noqa: N801  (PyTorch's name)
    """Turn graph recording on or off in this thread: at once, or for a with-block / function.

    set_grad_enabled(False) switches recording off until it is switched on again; used as
    `with set_grad_enabled(mode):` or `@set_grad_enabled(mode)`, it restores the previous
    mode afterwards (PyTorch's semantics).

    Raises:
        TypeError: mode is not a bool.

    Example:
        >>> with set_grad_enabled(False):
        ...     is_grad_enabled()
        False
        >>> is_grad_enabled()
        True
    """

    def __init__(self, mode: bool):
        if not isinstance(mode, (bool, np.bool_)):
            raise TypeError(f"set_grad_enabled expects True or False. Received: mode={mode!r}")
        self.mode = bool(mode)
        self._previous = state.grad_enabled
        state.grad_enabled = self.mode

    def __enter__(self):
        return self

    def __exit__(self, *exc_info) -> bool:
        state.grad_enabled = self._previous
        return False

    def __call__(self, func):
        state.grad_enabled = self._previous  # decorating is not a switch: undo __init__'s
        check_decorated(func, "set_grad_enabled")
        switch = enable_grad if self.mode else no_grad
        return switch(func)


def is_grad_enabled() -> bool:
    """True unless this thread is inside no_grad() (or set_grad_enabled(False)).

    Example:
        >>> with no_grad():
        ...     is_grad_enabled()
        False
    """
    return state.grad_enabled


class Context:
    """What a Function's forward leaves for its backward: saved arrays and any attributes.

    Attributes:
        saved: the tuple given to save_for_backward.
        needs_input_grad: one bool per forward input; backward may skip work for False ones.

    Example:
        >>> ctx = Context(needs_input_grad=(True, False))
        >>> ctx.save_for_backward(np.ones(2))
        >>> ctx.saved[0].shape, ctx.needs_input_grad[1]
        ((2,), False)
    """

    def __init__(self, needs_input_grad):
        self.needs_input_grad = needs_input_grad
        self.saved = ()

    def save_for_backward(self, *arrays) -> None:
        """Keep arrays for backward; they come back as the tuple ctx.saved."""
        self.saved = arrays

    @property
    def saved_tensors(self):
        """PyTorch's name for `saved`."""
        return self.saved


class Node:
    """One recorded call: the Function, its Context and the input Tensors (None for non-tensors).

    Example:
        >>> x = tinydl.Tensor([1.0, 2.0], requires_grad=True)
        >>> node = (x * x)._node
        >>> node.function.__name__, node.inputs[0] is x
        ('Mul', True)
    """

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

    Example:
        >>> class Cube(Function):
        ...     @staticmethod
        ...     def forward(ctx, x):
        ...         ctx.save_for_backward(x)
        ...         return x ** 3
        ...     @staticmethod
        ...     def backward(ctx, grad):
        ...         (x,) = ctx.saved
        ...         return 3 * x ** 2 * grad
        >>> x = tinydl.Tensor([1.0, 2.0], requires_grad=True)
        >>> Cube.apply(x).sum().backward()
        >>> x.grad
        array([ 3., 12.], dtype=float32)
    """

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError("a Function subclass must define forward(ctx, *inputs)")

    @staticmethod
    def backward(ctx, grad):
        raise NotImplementedError("a Function subclass must define backward(ctx, grad)")

    @classmethod
    def apply(cls, *args, **kwargs):
        """Run forward on the arrays of args; record the call when a gradient will be needed.

        Example:
            >>> from tinydl.ops.elementwise import Exp
            >>> Exp.apply(tinydl.Tensor([0.0])).numpy()
            array([1.], dtype=float32)
        """
        from tinydl.tensor import Tensor

        tensors = [a if isinstance(a, Tensor) else None for a in args]
        needs = tuple(t is not None and t.requires_grad for t in tensors)
        record = state.grad_enabled and any(needs)
        ctx = Context(needs)
        arrays = [a.data if isinstance(a, Tensor) else a for a in args]
        if profiler.current is not None:  # the running layer is kept for the backward's event
            ctx.layer = anomaly.current_layer()
            out = profiler.record_op(cls.__name__, "forward", ctx.layer, cls._forward, ctx,
                                     arrays, kwargs)
        else:
            out = cls._forward(ctx, arrays, kwargs)
        out = Tensor._wrap(out, requires_grad=record)
        if record:
            out._node = Node(cls, ctx, tensors)
        return out

    @classmethod
    def _forward(cls, ctx, arrays, kwargs):
        if state.anomaly:
            return cls._forward_checked(ctx, arrays, kwargs)
        return cls.forward(ctx, *arrays, **kwargs)

    @classmethod
    def _forward_checked(cls, ctx, arrays, kwargs):
        """forward in anomaly mode: inputs and output checked, the running layer kept in ctx."""
        ctx.layer = anomaly.current_layer()
        anomaly.check_inputs(cls.__name__, ctx.layer, arrays)
        out = cls.forward(ctx, *arrays, **kwargs)
        anomaly.check_output(cls.__name__, ctx.layer, arrays, out)
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
    """Sum grad over the axes that broadcasting added or stretched, so it has `shape`.

    Example:
        >>> unbroadcast(np.ones((2, 4, 3)), (4, 1)).ravel()
        array([6., 6., 6., 6.])
    """
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
    held by intermediates is freed. Tensor.backward() calls it with a seed of ones.

    Example:
        >>> x = tinydl.Tensor([1.0, 3.0], requires_grad=True)
        >>> backward(x * x, np.array([1.0, 10.0], np.float32))
        >>> x.grad
        array([ 2., 60.], dtype=float32)
    """
    # the engine's own time, beside the ops', when a profile is on (a 'step')
    return profiler.record_step("autograd.backward", "backward", _backward, root, grad,
                                retain_graph)


def _references(array) -> int:
    return sys.getrefcount(array)


def _sole_reference_count() -> int:
    """What _references gives for an array that only a function's local name holds (as
    `g` in _backward, once popped from the pending map); measured, not assumed, since the
    count of a borrowed argument differs between CPython versions."""
    probe = np.empty(1)
    return _references(probe)


_SOLE = _sole_reference_count()


def _owned(g, count: int) -> bool:
    """True when g can become a leaf's .grad as it is: an array of its own (not a view,
    writeable) that nothing else holds (count: its references from _backward). Otherwise
    the leaf gets a copy, so that changing .grad in place never changes another array."""
    return (type(g) is np.ndarray and g.base is None and g.flags.writeable
            and count <= _SOLE)


def _backward(root, grad: np.ndarray, retain_graph: bool) -> None:
    order = _topological_order(root)
    pending = {id(root): grad}
    grad = None  # the caller's array is still theirs: a leaf given it copies it
    for tensor in order:
        g = pending.pop(id(tensor), None)
        if g is None:
            continue
        node = tensor._node
        if node is None:
            if tensor.grad is not None:
                tensor.grad = tensor.grad + g
            else:  # a fresh gradient is kept as it is, not copied (a 5 MB table: ~1 ms)
                count = _references(g)  # not inside _owned(...)'s arguments: g would be held
                tensor.grad = g if _owned(g, count) else g.copy()  # once more, there
            continue
        if profiler.current is not None:
            grads = profiler.record_op(node.function.__name__, "backward",
                                       getattr(node.ctx, "layer", None), _input_grads, node, g)
        else:
            grads = _input_grads(node, g)
        if state.anomaly:
            anomaly.check_backward(node.function.__name__, getattr(node.ctx, "layer", None),
                                   tensor.shape, g, grads)
        for parent, pg in zip(node.inputs, grads):
            if parent is None or pg is None or not parent.requires_grad:
                continue
            pg = unbroadcast(np.asarray(pg, dtype=parent.dtype), parent.shape)
            key = id(parent)
            held = pending.get(key)
            if held is None:
                pending[key] = pg
            else:  # a second gradient: added into the first when nothing but pending holds it
                count = _references(held) - 1  # (pending's entry is one of them)
                if _owned(held, count) and held.shape == pg.shape and held.dtype == pg.dtype:
                    np.add(held, pg, out=held)
                else:
                    pending[key] = held + pg
            held = None
        grads = pg = None  # pending holds the gradients now (see _owned)
        if not retain_graph:
            tensor._node = None
