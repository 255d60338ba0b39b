"""Symbolic tensors for the functional API: KerasTensor, the Node that records a layer call, and the call context.

    inputs = Input(shape=(784,))            # a KerasTensor: shape (None, 784), no values
    x = Dense(64)(inputs)                   # records a Node: (Dense, its inputs, its outputs)
    outputs = Dense(10)(x)
    model = Model(inputs, outputs)          # walks the Nodes back from outputs to inputs

A layer called on KerasTensors builds itself for their shapes and runs once on zeros (one
sample per batch) to check that the shapes fit and to find the output shape; no graph of the
autograd engine is made. Called on arrays or Tensors, the same layer computes (eager).

The call context is what one outermost layer call shares with the layers it calls: the
`training` flag (a nested Dropout called without training= follows its model's) and the
entry layer, whose add_loss() losses are cleared at the start of each call, as in Keras.
"""

from __future__ import annotations

import contextlib
import threading

import numpy as np

from tinydl import tree

_names: dict = {}


def _unique(base: str) -> str:
    count = _names.get(base, 0)
    _names[base] = count + 1
    return base if count == 0 else f"{base}_{count}"


class KerasTensor:
    """A symbolic tensor: a shape (batch axis None), a dtype, and the Node that made it.

    It holds no values. Call layers on it, apply keras.ops and Python's operators to it
    (x + 1, x[:, 0], ops.mean(x, axis=-1): each records an OpLayer node), and make a
    Model(inputs=..., outputs=...).

    Attributes:
        shape: a tuple, e.g. (None, 28, 28, 1).
        dtype: a dtype name, 'float32' unless Input(dtype=...) said otherwise.
        name: a unique name ('keras_tensor', 'keras_tensor_1', ...).

    Example:
        >>> import tinydl
        >>> x = tinydl.Input(shape=(8,))
        >>> y = tinydl.layers.Dense(4)(x)
        >>> type(y).__name__, y.shape
        ('KerasTensor', (None, 4))
    """

    def __init__(self, shape, dtype="float32", name: str | None = None):
        self.shape = tuple(None if d is None else int(d) for d in shape)
        self.dtype = np.dtype(dtype or "float32").name
        self.name = name or _unique("keras_tensor")
        self.node, self.index = None, 0  # set by Node: which call made it, which output it is

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def __repr__(self):
        return f"<KerasTensor shape={self.shape}, dtype={self.dtype}, name={self.name}>"

    def __array__(self, *args, **kwargs):
        raise TypeError(f"{self!r} is symbolic and has no values: it is for building a "
                        "functional Model (call layers on it, then Model(inputs, outputs)). "
                        "To compute, call the layer or the model on a NumPy array or a Tensor")

    def __bool__(self):
        raise TypeError(f"{self!r} is symbolic: it has no truth value")

    def __len__(self):
        raise TypeError(f"{self!r} is symbolic: len() is unknown (use .shape)")

    __array_ufunc__ = None  # numpy_array + x: NumPy defers to x.__radd__

    # Python's operators record keras.ops nodes, as Keras' KerasTensor does
    def __add__(self, other): return _ops().add(self, other)
    def __radd__(self, other): return _ops().add(other, self)
    def __sub__(self, other): return _ops().subtract(self, other)
    def __rsub__(self, other): return _ops().subtract(other, self)
    def __mul__(self, other): return _ops().multiply(self, other)
    def __rmul__(self, other): return _ops().multiply(other, self)
    def __truediv__(self, other): return _ops().true_divide(self, other)
    def __rtruediv__(self, other): return _ops().true_divide(other, self)
    def __matmul__(self, other): return _ops().matmul(self, other)
    def __rmatmul__(self, other): return _ops().matmul(other, self)
    def __pow__(self, other): return _ops().power(self, other)
    def __rpow__(self, other): return _ops().power(other, self)
    def __floordiv__(self, other): return _ops().floor_divide(self, other)
    def __rfloordiv__(self, other): return _ops().floor_divide(other, self)
    def __mod__(self, other): return _ops().mod(self, other)
    def __rmod__(self, other): return _ops().mod(other, self)
    def __neg__(self): return _ops().negative(self)
    def __pos__(self): return self
    def __abs__(self): return _ops().absolute(self)
    def __lt__(self, other): return _ops().less(self, other)
    def __le__(self, other): return _ops().less_equal(self, other)
    def __gt__(self, other): return _ops().greater(self, other)
    def __ge__(self, other): return _ops().greater_equal(self, other)
    def __ne__(self, other): return _ops().not_equal(self, other)
    def __and__(self, other): return _ops().logical_and(self, other)
    def __rand__(self, other): return _ops().logical_and(other, self)
    def __or__(self, other): return _ops().logical_or(self, other)
    def __ror__(self, other): return _ops().logical_or(other, self)
    def __xor__(self, other): return _ops().logical_xor(self, other)
    def __rxor__(self, other): return _ops().logical_xor(other, self)
    def __invert__(self): return _ops().logical_not(self)
    def __getitem__(self, key): return _ops().getitem(self, key)
    __hash__ = object.__hash__  # __eq__ stays identity, as Keras' (x == y is no op)


def _ops():
    import tinydl.ops
    return tinydl.ops


def is_symbolic(structure) -> bool:
    """True when any leaf of structure is a KerasTensor.

    Args:
        structure: a value, or a list, tuple or dict of values.

    Returns:
        Whether a functional model is being built from it (the call is recorded, not run).

    Example:
        >>> is_symbolic([np.zeros(2), {"a": tinydl.Input((3,))}]), is_symbolic(np.zeros(2))
        (True, False)
    """
    return any(isinstance(leaf, KerasTensor) for leaf in tree.flatten(structure))


class Node:
    """One call of a layer on KerasTensors: the layer, its arguments and its outputs.

    Calling a layer on KerasTensors makes a Node and links its outputs to it (tensor.node,
    tensor.index); a functional model walks these nodes back from its outputs.

    Attributes:
        layer: the Layer called.
        args, kwargs: the call's arguments, KerasTensors among them (any structure).
        outputs: the KerasTensors made (a structure, as the layer returned them).
        parents: the KerasTensors in args and kwargs, in flatten order.

    Example:
        >>> x = tinydl.Input((3,))
        >>> y = tinydl.layers.Dense(2, name="d")(x)
        >>> node = y.node
        >>> node.layer.name, node.parents == [x], node.outputs is y, node.is_input, x.node.is_input
        ('d', True, True, False, True)
    """

    def __init__(self, layer, args: tuple, kwargs: dict, outputs):
        self.layer, self.args, self.kwargs, self.outputs = layer, args, kwargs, outputs
        self.flat_outputs = tree.flatten(outputs)
        self.parents = [t for t in tree.flatten([list(args), kwargs]) if isinstance(t, KerasTensor)]
        for index, tensor in enumerate(self.flat_outputs):
            tensor.node, tensor.index = self, index
        layer._inbound_nodes.append(self)

    @property
    def is_input(self) -> bool:
        """True for the node of an InputLayer (no parents)."""
        return not self.parents and not self.args


# ----------------------------------------------------------------------------- the call context

class _CallContext(threading.local):
    """Per thread, so that a predict in one thread never sees another's training call."""

    def __init__(self):
        self.entry, self.training = None, None


_context = _CallContext()


@contextlib.contextmanager
def call_context(layer, training):
    """Enter a layer call: the outermost call sets the training flag and clears losses.

    Args:
        layer: the layer being called.
        training: the call's explicit training flag, or None.

    Yields:
        The training value the call should use: the explicit one, else the enclosing call's
        (as Keras propagates training to nested layers).

    Example:
        >>> outer, inner = tinydl.layers.Dense(1), tinydl.layers.Dense(1)
        >>> with call_context(outer, True) as training:
        ...     with call_context(inner, None) as nested:
        ...         print(training, nested)
        True True
        >>> with call_context(inner, None) as training:
        ...     print(training)
        None
    """
    outermost = _context.entry is None
    if outermost:
        _context.entry = layer
        layer._clear_losses()
    if training is None:
        training = _context.training
    previous, _context.training = _context.training, training
    try:
        yield training
    finally:
        _context.training = previous
        if outermost:
            _context.entry = None
