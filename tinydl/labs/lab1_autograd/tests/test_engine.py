"""Tasks 1.5-1.6: the mini engine's topological order and backward pass, against tinydl's autograd.

These tests build graphs with tinydl's own ops (tinydl.ops.elementwise and .reduce: correct rules), so the
engine is checked on its own, whatever state rules.py is in (1.6 uses your unbroadcast).
"""

import numpy as np
import pytest

from tinydl import Tensor
from tinydl.autograd import Function
from tinydl.ops.elementwise import Add, Exp, Mul, Tanh
from tinydl.ops.reduce import Sum

RNG = np.random.default_rng(1)


def diamond(make, apply, x, y):
    """A graph where x is used three times and a node twice: d = tanh(x*y); out = sum(d*d + exp(x) + d)."""
    d = apply(Tanh, apply(Mul, x, y))
    return apply(Sum, apply(Add, apply(Add, apply(Mul, d, d), apply(Exp, x)), d))


def tinydl_apply(function, *args):
    return function.apply(*args)


def check_order(order, root):
    position = {id(v): i for i, v in enumerate(order)}
    assert len(position) == len(order), "a Value appears more than once"
    assert order[0] is root
    for value in order:
        for parent in value.parents:
            if parent is not None and parent.requires_grad:
                assert id(parent) in position, "a Value that requires grad is missing"
                assert position[id(parent)] > position[id(value)], \
                    "a Value comes before the Value made from it"


# ----------------------------------------------------------------------------- 1.5

@pytest.mark.task1_5
def test_topological_order_puts_each_value_before_its_parents(engine):
    Value = engine.Value
    x, y = Value(RNG.standard_normal((2, 3)), True), Value(RNG.standard_normal((2, 3)), True)
    root = diamond(Value, Value.apply, x, y)
    order = engine.topological_order(root)
    check_order(order, root)
    assert len(order) == 9       # 2 leaves + 7 op outputs (each once, though d is used twice)


@pytest.mark.task1_5
def test_topological_order_skips_values_that_need_no_grad(engine):
    Value = engine.Value
    x, c = Value(np.ones(3), True), Value(np.ones(3), False)
    root = Value.apply(Sum, Value.apply(Mul, x, c))
    order = engine.topological_order(root)
    check_order(order, root)
    assert all(v.requires_grad for v in order) and len(order) == 3


@pytest.mark.task1_5
def test_topological_order_is_the_same_every_time(engine):
    Value = engine.Value
    x, y = Value(np.ones(2), True), Value(np.ones(2), True)
    root = diamond(Value, Value.apply, x, y)
    first = [id(v) for v in engine.topological_order(root)]
    assert all([id(v) for v in engine.topological_order(root)] == first for _ in range(3))


@pytest.mark.task1_5
def test_topological_order_handles_a_graph_deeper_than_the_recursion_limit(engine):
    Value = engine.Value
    x = Value(np.ones(1), True)
    out = x
    for _ in range(5000):
        out = Value.apply(Add, out, x)
    order = engine.topological_order(out)
    assert len(order) == 5001 and order[-1] is x


# ----------------------------------------------------------------------------- 1.6

@pytest.mark.task1_6
def test_backward_matches_tinydl_on_a_graph_with_shared_nodes(engine):
    Value = engine.Value
    a, b = RNG.standard_normal((2, 3)), RNG.standard_normal((2, 3))
    x, y = Value(a, True), Value(b, True)
    engine.backward(diamond(Value, Value.apply, x, y))
    tx, ty = Tensor(a, requires_grad=True), Tensor(b, requires_grad=True)
    diamond(Tensor, tinydl_apply, tx, ty).backward()
    np.testing.assert_allclose(x.grad, tx.grad, rtol=1e-12)
    np.testing.assert_allclose(y.grad, ty.grad, rtol=1e-12)


@pytest.mark.task1_6
def test_backward_sums_gradients_of_broadcast_inputs(engine):
    Value = engine.Value
    a, b = RNG.standard_normal((4, 3)), RNG.standard_normal((3,))
    x, y = Value(a, True), Value(b, True)
    engine.backward(Value.apply(Sum, Value.apply(Mul, x, y)))
    np.testing.assert_allclose(x.grad, np.broadcast_to(b, (4, 3)))
    np.testing.assert_allclose(y.grad, a.sum(axis=0))


@pytest.mark.task1_6
def test_backward_calls_each_function_once_with_the_summed_gradient(engine):
    calls = []

    class Double(Function):
        @staticmethod
        def forward(ctx, x):
            return 2 * x

        @staticmethod
        def backward(ctx, grad):
            calls.append(grad.copy())
            return 2 * grad

    Value = engine.Value
    x = Value(np.array([1.0, 2.0]), True)
    d = Value.apply(Double, x)
    engine.backward(Value.apply(Sum, Value.apply(Add, Value.apply(Add, d, d), d)))
    assert len(calls) == 1, f"Double.backward ran {len(calls)} times; it must run once"
    np.testing.assert_allclose(calls[0], [3.0, 3.0])
    np.testing.assert_allclose(x.grad, [6.0, 6.0])


@pytest.mark.task1_6
def test_backward_accumulates_into_leaves_across_calls_and_takes_a_seed(engine):
    Value = engine.Value
    x = Value(np.array([1.0, -2.0]), True)
    y = Value.apply(Mul, x, x)
    engine.backward(y, np.array([1.0, 10.0]))
    np.testing.assert_allclose(x.grad, [2.0, -40.0])
    engine.backward(Value.apply(Sum, Value.apply(Mul, x, x)))
    np.testing.assert_allclose(x.grad, [4.0, -44.0])


@pytest.mark.task1_6
def test_backward_runs_through_a_deep_chain(engine):
    Value = engine.Value
    x = Value(np.ones(1), True)
    out = x
    for _ in range(3000):
        out = Value.apply(Add, out, x)
    engine.backward(out)
    np.testing.assert_allclose(x.grad, [3001.0])
