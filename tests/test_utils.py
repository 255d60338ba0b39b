"""tinydl.utils: gradcheck (passes on correct ops, names the culprit on wrong ones), to_categorical."""

from __future__ import annotations

import numpy as np
import pytest

from tinydl import Function, Tensor
from tinydl.utils import gradcheck, to_categorical


class Double(Function):
    @staticmethod
    def forward(ctx, x):
        return x * 2

    @staticmethod
    def backward(ctx, grad):
        return 2 * grad


class WrongDouble(Function):
    """x * 2 with a deliberately wrong backward (3 * grad instead of 2 * grad)."""

    @staticmethod
    def forward(ctx, x):
        return x * 2

    @staticmethod
    def backward(ctx, grad):
        return 3 * grad


class WrongSecondInput(Function):
    """a * b whose backward gets b's gradient wrong only at element [1, 0]."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a * b

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved
        grad_b = grad * a
        grad_b[1, 0] += 1.0
        return grad * b, grad_b


def test_gradcheck_returns_true_on_a_correct_op():
    x = Tensor(np.random.default_rng(0).standard_normal((3, 4)))
    assert gradcheck(lambda t: Double.apply(t), x) is True
    assert gradcheck(lambda t: (t * t).sum(), x) is True


def test_gradcheck_perturbs_inputs_that_are_not_c_contiguous():
    x = np.random.default_rng(0).standard_normal((3, 4)).T  # a Fortran-ordered view
    assert gradcheck(lambda t: (t * t).sum(), x) is True
    assert gradcheck(lambda t: (t * t).sum(), Tensor(x)) is True


def test_gradcheck_names_input_element_and_both_values():
    x = Tensor(np.array([[1.0, 2.0], [3.0, 4.0]]))
    with pytest.raises(AssertionError) as info:
        gradcheck(lambda t: WrongDouble.apply(t).sum(), x)
    message = str(info.value)
    assert "input 0" in message
    assert "index (0, 0)" in message
    assert "analytic gradient 3" in message
    assert "numerical 2" in message
    assert "4 of 4 elements differ" in message


def test_gradcheck_names_the_second_input_and_the_exact_element():
    rng = np.random.default_rng(1)
    a, b = Tensor(rng.standard_normal((2, 3))), Tensor(rng.standard_normal((2, 3)))
    with pytest.raises(AssertionError, match=r"input 1 \(shape \(2, 3\)\) at index \(1, 0\).*1 of 6"):
        gradcheck(lambda x, y: WrongSecondInput.apply(x, y).sum(), a, b)


def test_gradcheck_catches_a_wrong_gradient_of_a_tensor_output():
    """The random projection checks every output element, not only their sum."""

    class SwapGrad(Function):  # y = [x0, 2 x1]; backward swaps the two slopes
        @staticmethod
        def forward(ctx, x):
            return x * np.array([1.0, 2.0])

        @staticmethod
        def backward(ctx, grad):
            return grad * np.array([2.0, 1.0])

    with pytest.raises(AssertionError, match="input 0"):
        gradcheck(lambda t: SwapGrad.apply(t), Tensor(np.array([0.3, 0.7])))


def test_gradcheck_passes_non_float_arguments_through():
    labels = np.array([1, 0, 2])
    seen = []

    def fn(x, lab):
        seen.append(lab)
        return (x[np.arange(3), lab]).sum()

    assert gradcheck(fn, Tensor(np.ones((3, 3))), labels)
    assert all(lab is labels for lab in seen)


def test_to_categorical():
    np.testing.assert_array_equal(to_categorical([0, 2, 1]), np.eye(3)[[0, 2, 1]])
    assert to_categorical(np.array([[1], [0]]), 4).shape == (2, 4)
    with pytest.raises(ValueError, match=r"labels must be in \[0, 3\), got values from 0 to 3"):
        to_categorical([0, 3], 3)
    with pytest.raises(TypeError, match="integer class labels, got dtype float64"):
        to_categorical([0.5, 1.0])


def test_orthogonal_initializer_gives_c_contiguous_orthonormal_rows():
    from tinydl import initializers
    q = initializers.get("orthogonal")((4, 12))
    assert q.flags.c_contiguous
    np.testing.assert_allclose(q @ q.T, np.eye(4), atol=1e-6)
