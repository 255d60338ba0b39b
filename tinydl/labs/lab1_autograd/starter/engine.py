"""Lab 1: a mini autograd engine. Value records how it was made; backward() walks that graph.

Value is given: `Value.apply(Function, *args)` runs a Function's forward on the arrays and
remembers the Function, its ctx and its parents. Write the two functions at the bottom: the
topological order of a graph, and the backward pass that uses it.
"""

from __future__ import annotations

import numpy as np

from tinydl.autograd import Context

import rules


class Value:
    """An array in a graph: its data, its gradient (leaves only) and how it was made.

    Attributes:
        data: the NumPy array.
        requires_grad: whether a gradient flows to (or through) this value.
        grad: after backward(), d(root)/d(this value) for a leaf that requires grad; else None.
        function: the Function class that made this value (None for a leaf).
        ctx: that Function's Context (what its forward saved for its backward).
        parents: one entry per forward argument: the Value it was, or None for a non-Value.
    """

    def __init__(self, data, requires_grad: bool = False):
        self.data = np.asarray(data, dtype=np.float64)
        self.requires_grad = bool(requires_grad)
        self.grad = None
        self.function, self.ctx, self.parents = None, None, ()

    @classmethod
    def apply(cls, function, *args, **kwargs) -> "Value":
        """Run function.forward on the arrays of args and record the call in the graph."""
        parents = tuple(a if isinstance(a, Value) else None for a in args)
        needs = tuple(p is not None and p.requires_grad for p in parents)
        ctx = Context(needs)
        arrays = [a.data if isinstance(a, Value) else a for a in args]
        out = cls(function.forward(ctx, *arrays, **kwargs), requires_grad=any(needs))
        if out.requires_grad:
            out.function, out.ctx, out.parents = function, ctx, parents
        return out

    def __add__(self, other): return Value.apply(rules.Add, self, _value(other))
    def __radd__(self, other): return Value.apply(rules.Add, _value(other), self)
    def __mul__(self, other): return Value.apply(rules.Mul, self, _value(other))
    def __rmul__(self, other): return Value.apply(rules.Mul, _value(other), self)
    def __truediv__(self, other): return Value.apply(rules.Div, self, _value(other))
    def __pow__(self, p): return Value.apply(rules.PowScalar, self, p)
    def exp(self): return Value.apply(rules.Exp, self)
    def log(self): return Value.apply(rules.Log, self)
    def tanh(self): return Value.apply(rules.Tanh, self)
    def sum(self, axis=None, keepdims=False): return Value.apply(rules.Sum, self, axis, keepdims)
    def mean(self, axis=None, keepdims=False): return Value.apply(rules.Mean, self, axis, keepdims)
    def max(self, axis=None, keepdims=False): return Value.apply(rules.Max, self, axis, keepdims)

    def backward(self, grad=None) -> None:
        backward(self, grad)

    def __repr__(self):
        return f"Value(shape={self.data.shape}, requires_grad={self.requires_grad})"


def _value(x) -> Value:
    return x if isinstance(x, Value) else Value(x)


# ----------------------------------------------------------------------------- task 1.5

def topological_order(root: Value) -> list:
    """Every Value that requires grad reachable from root, each before the Values it was made from.

    root comes first. Iterative depth-first search, so a graph 10,000 nodes deep works (no
    recursion limit), and parents are visited in argument order, so the order is the same
    on every run.
    """
    raise NotImplementedError('Lab 1, task 5: write topological_order: an iterative depth-first search (a '
                              'stack, no recursion)')


# ----------------------------------------------------------------------------- task 1.6

def backward(root: Value, grad=None) -> None:
    """Add d(root)/d(leaf) * grad into the .grad of every leaf that requires grad.

    grad defaults to ones of root's shape. Each recorded Function's backward runs once, with
    the sum of all gradients flowing into its output; gradients of broadcast inputs are
    summed back to the input's shape (rules.unbroadcast). Leaves keep adding up across calls.
    """
    raise NotImplementedError('Lab 1, task 6: write backward: walk topological_order(root), call each '
                              "Function's backward once, accumulate")

# A starter file: some imports are for the code you will write.
# ruff: noqa: F401, F841
