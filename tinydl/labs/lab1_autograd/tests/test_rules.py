"""Tasks 1.1-1.4: the backward rules, checked by tinydl's gradcheck and by their output shapes."""

import numpy as np
import pytest

from tinydl import Tensor
from tinydl.autograd import Context
from tinydl.utils import gradcheck

RNG = np.random.default_rng(0)


def call_backward(function, *args, grad=None):
    """forward then backward of one Function on arrays, without any engine: (output, grads)."""
    ctx = Context(tuple(isinstance(a, np.ndarray) for a in args))
    out = function.forward(ctx, *args)
    grads = function.backward(ctx, np.ones_like(out) if grad is None else grad)
    return out, grads if isinstance(grads, tuple) else (grads,)


# ----------------------------------------------------------------------------- 1.1

@pytest.mark.task1_1
@pytest.mark.parametrize("grad_shape, shape", [((4, 3), (3,)), ((4, 3), (1, 3)), ((4, 3), (4, 1)),
                                               ((2, 4, 3), (4, 1)), ((2, 3), (2, 3)), ((5,), ())])
def test_unbroadcast_sums_back_to_the_input_shape(rules, grad_shape, shape):
    grad = RNG.standard_normal(grad_shape)
    out = rules.unbroadcast(grad, shape)
    assert np.shape(out) == shape
    # The oracle: d/dx sum(broadcast_to(x, grad_shape) * grad) is what unbroadcast must give.
    expected = np.zeros(shape)
    for index in np.ndindex(*grad_shape):
        source = tuple(0 if n == 1 else i for i, n in zip(index[len(grad_shape) - len(shape):], shape))
        expected[source] += grad[index]
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-12)


# ----------------------------------------------------------------------------- 1.2

@pytest.mark.task1_2
@pytest.mark.parametrize("name", ["Exp", "Tanh", "Sigmoid"])
def test_elementwise_rules_pass_gradcheck(rules, name):
    function = getattr(rules, name)
    assert gradcheck(function.apply, Tensor(RNG.standard_normal((3, 4))))


@pytest.mark.task1_2
def test_log_passes_gradcheck_on_positive_inputs(rules):
    assert gradcheck(rules.Log.apply, Tensor(RNG.uniform(0.5, 3.0, (3, 4))))


@pytest.mark.task1_2
@pytest.mark.parametrize("p", [2, 3, 0.5, -1.0])
def test_pow_scalar_passes_gradcheck_and_gives_none_for_the_exponent(rules, p):
    x = RNG.uniform(0.5, 2.0, (2, 3))
    assert gradcheck(lambda t: rules.PowScalar.apply(t, p), Tensor(x))
    _, grads = call_backward(rules.PowScalar, x, p)
    assert len(grads) == 2 and grads[1] is None


# ----------------------------------------------------------------------------- 1.3

SHAPES = [((4, 3), (4, 3)), ((4, 3), (3,)), ((4, 1), (1, 3)), ((2, 1, 3), (4, 1))]


@pytest.mark.task1_3
@pytest.mark.parametrize("name", ["Add", "Mul", "Div"])
@pytest.mark.parametrize("a_shape, b_shape", SHAPES)
def test_binary_rules_pass_gradcheck_with_broadcasting(rules, name, a_shape, b_shape):
    function = getattr(rules, name)
    a, b = RNG.standard_normal(a_shape), RNG.uniform(0.5, 2.0, b_shape)
    assert gradcheck(function.apply, Tensor(a), Tensor(b))


@pytest.mark.task1_3
@pytest.mark.parametrize("name", ["Add", "Mul", "Div"])
@pytest.mark.parametrize("a_shape, b_shape", SHAPES)
def test_binary_rules_return_gradients_of_the_input_shapes(rules, name, a_shape, b_shape):
    # tinydl's engine would unbroadcast for you; here backward must do it itself.
    a, b = RNG.standard_normal(a_shape), RNG.uniform(0.5, 2.0, b_shape)
    _, (ga, gb) = call_backward(getattr(rules, name), a, b)
    assert np.shape(ga) == a_shape and np.shape(gb) == b_shape


# ----------------------------------------------------------------------------- 1.4

@pytest.mark.task1_4
@pytest.mark.parametrize("name", ["Sum", "Mean", "Max"])
@pytest.mark.parametrize("axis, keepdims", [(None, False), (0, False), (1, True), ((0, 2), False),
                                            (-1, False), ((1, 2), True)])
def test_reductions_pass_gradcheck(rules, name, axis, keepdims):
    function = getattr(rules, name)
    x = RNG.permutation(24).reshape(2, 3, 4) / 7.0       # distinct values: no ties for Max
    assert gradcheck(lambda t: function.apply(t, axis, keepdims), Tensor(x))


@pytest.mark.task1_4
def test_max_shares_the_gradient_between_ties(rules):
    _, (grad,) = call_backward(rules.Max, np.array([[1.0, 3.0, 3.0], [2.0, 0.0, -1.0]]), 1, False)
    np.testing.assert_allclose(grad, [[0.0, 0.5, 0.5], [1.0, 0.0, 0.0]])


@pytest.mark.task1_4
@pytest.mark.parametrize("name", ["Sum", "Mean", "Max"])
def test_reduction_gradients_have_the_input_shape(rules, name):
    x = RNG.standard_normal((2, 3, 4))
    for axis, keepdims in [(None, False), (1, False), (2, True)]:
        _, (grad,) = call_backward(getattr(rules, name), x, axis, keepdims)
        assert np.shape(grad) == x.shape
