"""Tensor: a NumPy array that remembers the op that made it, so gradients can flow back."""

from __future__ import annotations

import numpy as np

from tinydl import autograd


def as_float_array(data, dtype=None) -> np.ndarray:
    """Convert data to a float array: float32, unless data already is float64 or dtype says so.

    Example:
        >>> as_float_array([1, 2]).dtype, as_float_array(np.zeros(2)).dtype
        (dtype('float32'), dtype('float64'))
    """
    if isinstance(data, Tensor):
        data = data.data
    array = np.asarray(data)
    if dtype is not None:
        return array.astype(dtype, copy=False)
    if array.dtype == np.float64 and isinstance(data, np.ndarray):
        return array
    return array.astype(np.float32, copy=False)


class Tensor:
    """An n-dimensional array of float32 (or float64) numbers with an optional gradient.

    Args:
        data: an array-like. float64 NumPy arrays stay float64 (for gradient checks);
            everything else becomes float32.
        requires_grad: record the ops applied to this tensor so backward() can fill .grad.
        dtype: force a dtype (np.float32 or np.float64).

    Example:
        >>> x = Tensor([[1.0, 2.0]], requires_grad=True)
        >>> (x * x).sum().backward()
        >>> x.grad
        array([[2., 4.]], dtype=float32)
    """

    __array_priority__ = 1000  # so ndarray + Tensor calls Tensor.__radd__

    def __init__(self, data, requires_grad: bool = False, dtype=None):
        self.data = as_float_array(data, dtype)
        if self.data.dtype not in (np.float32, np.float64):
            raise TypeError(f"Tensor holds float32 or float64, got {self.data.dtype}")
        self.requires_grad = bool(requires_grad)
        self.grad = None
        self._node = None

    @classmethod
    def _wrap(cls, array, requires_grad=False):
        """Make a Tensor around an array an op computed (no copy, no dtype change)."""
        t = cls.__new__(cls)
        t.data, t.requires_grad, t.grad, t._node = np.asarray(array), requires_grad, None, None
        return t

    # ------------------------------------------------------------------ array facts
    shape = property(lambda self: self.data.shape, doc="The shape, as in NumPy.")
    dtype = property(lambda self: self.data.dtype, doc="np.float32 or np.float64.")
    ndim = property(lambda self: self.data.ndim, doc="Number of dimensions.")
    size = property(lambda self: self.data.size, doc="Number of elements.")
    T = property(lambda self: self.transpose(), doc="The transpose (all axes reversed).")

    def __len__(self):
        return len(self.data)

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        """np.asarray(tensor): the values (Keras programs call np.array on model outputs)."""
        return self.data if dtype is None else self.data.astype(dtype, copy=False)

    def numpy(self) -> np.ndarray:
        """The underlying array (no copy)."""
        return self.data

    def item(self) -> float:
        """The value of a one-element tensor as a Python float."""
        return self.data.item()

    def __repr__(self):
        body = np.array2string(self.data, precision=4, separator=", ", prefix="Tensor(")
        grad = ", requires_grad=True" if self.requires_grad else ""
        dtype = "" if self.dtype == np.float32 else f", dtype={self.dtype}"
        return f"Tensor({body}{dtype}{grad})"

    # ------------------------------------------------------------------ gradients
    def backward(self, grad=None, retain_graph: bool = False) -> None:
        """Compute gradients of this tensor with respect to every leaf that requires grad.

        Args:
            grad: the upstream gradient, of this tensor's shape. May be omitted only for a
                one-element tensor (a scalar loss), where it is 1.
            retain_graph: keep the graph to call backward again.

        Raises:
            RuntimeError: when this tensor does not require grad, or grad is missing for a
                tensor with more than one element.
        """
        if not self.requires_grad:
            raise RuntimeError("backward() on a tensor that does not require grad: "
                               "create the inputs with requires_grad=True")
        if grad is None:
            if self.size != 1:
                raise RuntimeError(f"backward() without a gradient needs a scalar, but this tensor "
                                   f"has shape {self.shape}: pass grad= of that shape")
            grad = np.ones_like(self.data)
        grad = as_float_array(grad, self.dtype)
        if grad.shape != self.shape:
            raise ValueError(f"grad must have this tensor's shape {self.shape}, got {grad.shape}")
        autograd.backward(self, grad, retain_graph)

    def zero_grad(self) -> None:
        """Forget the accumulated gradient."""
        self.grad = None

    def detach(self) -> "Tensor":
        """The same data, cut from the graph (no gradient flows through it)."""
        return Tensor._wrap(self.data)

    # ------------------------------------------------------------------ operators: one line each
    def __add__(self, other): return ops.add(self, other)
    def __radd__(self, other): return ops.add(other, self)
    def __sub__(self, other): return ops.sub(self, other)
    def __rsub__(self, other): return ops.sub(other, self)
    def __mul__(self, other): return ops.mul(self, other)
    def __rmul__(self, other): return ops.mul(other, self)
    def __truediv__(self, other): return ops.div(self, other)
    def __rtruediv__(self, other): return ops.div(other, self)
    def __pow__(self, other): return ops.pow(self, other)
    def __rpow__(self, other): return ops.pow(other, self)
    def __neg__(self): return ops.neg(self)
    def __matmul__(self, other): return ops.matmul(self, other)
    def __rmatmul__(self, other): return ops.matmul(other, self)
    def __getitem__(self, index): return ops.getitem(self, index)

    def exp(self): return ops.exp(self)
    def log(self): return ops.log(self)
    def sqrt(self): return ops.sqrt(self)
    def tanh(self): return ops.tanh(self)
    def sigmoid(self): return ops.sigmoid(self)
    def relu(self): return ops.relu(self)
    def abs(self): return ops.abs(self)
    def clip(self, low, high): return ops.clip(self, low, high)
    def matmul(self, other): return ops.matmul(self, other)
    def sum(self, axis=None, keepdims=False): return ops.sum(self, axis, keepdims)
    def mean(self, axis=None, keepdims=False): return ops.mean(self, axis, keepdims)
    def max(self, axis=None, keepdims=False): return ops.max(self, axis, keepdims)
    def reshape(self, *shape): return ops.reshape(self, *shape)
    def transpose(self, *axes): return ops.transpose(self, *axes)
    def permute(self, *axes): return ops.transpose(self, *axes)
    def flatten(self, start_axis=0): return ops.flatten(self, start_axis)


from tinydl.ops import operators as ops  # noqa: E402  (ops build on Tensor, Tensor's operators call them)
