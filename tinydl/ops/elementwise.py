"""Elementwise ops: arithmetic, exp/log, activations. Each forward sits beside its backward.

Broadcasting is NumPy's; the autograd engine sums each gradient back to its input's shape.
"""

from __future__ import annotations

import math

import numpy as np

from tinydl import backend
from tinydl.autograd import Function


class Add(Function):
    @staticmethod
    def forward(ctx, a, b):
        return a + b

    @staticmethod
    def backward(ctx, grad):
        return grad, grad


class Sub(Function):
    @staticmethod
    def forward(ctx, a, b):
        return a - b

    @staticmethod
    def backward(ctx, grad):
        return grad, -grad


class Mul(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a * b

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved
        return grad * b, grad * a


class Div(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a / b

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved
        return grad / b, -grad * a / (b * b)


class Pow(Function):
    """a ** b; d/da = b * a**(b-1), d/db = a**b * log(a) (needed only when b is a tensor).

    Example:
        >>> a = tinydl.Tensor([2.0, 3.0], requires_grad=True)
        >>> y = Pow.apply(a, tinydl.Tensor([2.0, 2.0]))
        >>> y.sum().backward()
        >>> y, a.grad
        (Tensor([4., 9.], requires_grad=True), array([4., 6.], dtype=float32))
    """

    @staticmethod
    def forward(ctx, a, b):
        out = a ** b
        ctx.save_for_backward(a, b, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        a, b, out = ctx.saved
        grad_a = grad * b * a ** (b - 1) if ctx.needs_input_grad[0] else None
        grad_b = None
        if ctx.needs_input_grad[1]:
            with np.errstate(divide="ignore", invalid="ignore"):
                grad_b = grad * out * np.where(a > 0, np.log(np.where(a > 0, a, 1)), 0)
        return grad_a, grad_b


class Neg(Function):
    @staticmethod
    def forward(ctx, a):
        return -a

    @staticmethod
    def backward(ctx, grad):
        return -grad


class Exp(Function):
    @staticmethod
    def forward(ctx, a):
        out = np.exp(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved
        return grad * out


class Log(Function):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return np.log(a)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved
        return grad / a


class Sqrt(Function):
    @staticmethod
    def forward(ctx, a):
        out = np.sqrt(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved
        return grad / (2 * out)


class Tanh(Function):
    @staticmethod
    def forward(ctx, a):
        out = np.tanh(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved
        return grad * (1 - out * out)


def stable_sigmoid(a: np.ndarray) -> np.ndarray:
    """1 / (1 + exp(-a)) without overflow for large |a|, in a's dtype.

    Example:
        >>> stable_sigmoid(np.array([-1000.0, 0.0, 1000.0], np.float32))
        array([0. , 0.5, 1. ], dtype=float32)
    """
    e = np.exp(-np.abs(a))
    return np.where(a >= 0, 1 / (1 + e), e / (1 + e)).astype(a.dtype, copy=False)


class Sigmoid(Function):
    """1 / (1 + exp(-a)), computed without overflow for large |a|.

    Example:
        >>> Sigmoid.apply(tinydl.Tensor([0.0, 1000.0]))
        Tensor([0.5, 1. ])
    """

    @staticmethod
    def forward(ctx, a):
        out = stable_sigmoid(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved
        return grad * out * (1 - out)


class Relu(Function):
    @staticmethod
    def forward(ctx, a):
        out = backend.relu_forward(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved
        return backend.relu_backward(out, grad)


class AddRelu(Function):
    """max(a + b, 0) for a and b of one shape: a residual block's Add -> ReLU in one pass each
    way (the fusion pass's AddReluStep); both inputs get the ReLU's masked gradient.

    Example:
        >>> a = tinydl.Tensor([1.0, -2.0], requires_grad=True)
        >>> b = tinydl.Tensor([-3.0, 4.0], requires_grad=True)
        >>> y = AddRelu.apply(a, b); y.sum().backward()
        >>> y
        Tensor([0., 2.], requires_grad=True)
        >>> a.grad, b.grad
        (array([0., 1.], dtype=float32), array([0., 1.], dtype=float32))
    """

    @staticmethod
    def forward(ctx, a, b):
        out = backend.add_relu(a, b)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved
        masked = backend.relu_backward(out, grad)
        return masked, masked


class Abs(Function):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return np.abs(a)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved
        return grad * np.sign(a)


class Clip(Function):
    """Clamp to [low, high]; the gradient passes only where the value was inside.

    Example:
        >>> a = tinydl.Tensor([-2.0, 0.5, 3.0], requires_grad=True)
        >>> Clip.apply(a, 0.0, 1.0).sum().backward()
        >>> a.grad
        array([0., 1., 0.], dtype=float32)
    """

    @staticmethod
    def forward(ctx, a, low, high):
        ctx.save_for_backward(a)
        ctx.low, ctx.high = low, high
        return np.clip(a, low, high)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved
        inside = (a >= ctx.low) & (a <= ctx.high)
        return grad * inside, None, None


class Dropout(Function):
    """Multiply by a mask of 0 and 1 / (1 - rate) (inverted dropout: no rescale at inference).

    The mask comes from one 64-bit key drawn from rng (so a seeded generator repeats it); the
    kernel computes each element's draw from the key and its index (tinydl/kernels/dropout.py),
    so the backward applies the same mask to the gradient without a stored copy.

    Example:
        >>> y = Dropout.apply(tinydl.Tensor(np.ones(6)), 0.5, np.random.default_rng(0))
        >>> sorted(set(y.data.tolist()))
        [0.0, 2.0]
    """

    @staticmethod
    def forward(ctx, a, rate, rng):
        ctx.rate, ctx.key = rate, int(rng.integers(0, 2**64, dtype=np.uint64))
        return backend.dropout(a, rate, ctx.key)

    @staticmethod
    def backward(ctx, grad):
        return backend.dropout(grad, ctx.rate, ctx.key), None, None


class Log1p(Function):
    """log(1 + a), accurate for small a; d/da = 1 / (1 + a).

    Example:
        >>> Log1p.apply(tinydl.Tensor([0.0, np.e - 1]))
        Tensor([0., 1.])
    """

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return np.log1p(a)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved
        return grad / (1 + a)


class Sin(Function):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return np.sin(a)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved
        return grad * np.cos(a)


class Cos(Function):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return np.cos(a)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved
        return -grad * np.sin(a)


_erf = np.frompyfunc(math.erf, 1, 1)


class Erf(Function):
    """The error function (math.erf per element); d/da = 2 / sqrt(pi) * exp(-a^2).

    Example:
        >>> Erf.apply(tinydl.Tensor([0.0, 10.0]))
        Tensor([0., 1.])
    """

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return np.asarray(_erf(a), dtype=a.dtype)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved
        return grad * (2 / math.sqrt(math.pi)) * np.exp(-a * a)


class Maximum(Function):
    """max(a, b) per element; at a tie the gradient goes to a (as in TensorFlow).

    Example:
        >>> a = tinydl.Tensor([1.0, 2.0], requires_grad=True)
        >>> Maximum.apply(a, tinydl.Tensor([2.0, 2.0])).sum().backward()
        >>> a.grad
        array([0., 1.], dtype=float32)
    """

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a >= b)
        return np.maximum(a, b)

    @staticmethod
    def backward(ctx, grad):
        (a_wins,) = ctx.saved
        return grad * a_wins, grad * ~a_wins


class Minimum(Function):
    """min(a, b) per element; at a tie the gradient goes to a (as in TensorFlow).

    Example:
        >>> a = tinydl.Tensor([1.0, 3.0], requires_grad=True)
        >>> Minimum.apply(a, tinydl.Tensor([2.0, 2.0])).sum().backward()
        >>> a.grad
        array([1., 0.], dtype=float32)
    """

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a <= b)
        return np.minimum(a, b)

    @staticmethod
    def backward(ctx, grad):
        (a_wins,) = ctx.saved
        return grad * a_wins, grad * ~a_wins


class Where(Function):
    """a where condition holds, else b; the gradient goes to the side that was chosen.

    forward(condition (bool array, no gradient), a, b); the three broadcast together.

    Example:
        >>> Where.apply(tinydl.Tensor(np.array([True, False])), tinydl.Tensor([1.0, 2.0]), tinydl.Tensor([10.0, 20.0]))
        Tensor([ 1., 20.])
    """

    @staticmethod
    def forward(ctx, condition, a, b):
        ctx.condition = condition
        return np.where(condition, a, b)

    @staticmethod
    def backward(ctx, grad):
        zero = np.zeros((), dtype=grad.dtype)
        return None, np.where(ctx.condition, grad, zero), np.where(ctx.condition, zero, grad)


class Softplus(Function):
    """log(1 + exp(a)), computed without overflow; d/da = sigmoid(a).

    Example:
        >>> Softplus.apply(tinydl.Tensor([0.0, 100.0]))
        Tensor([  0.6931, 100.    ])
    """

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return np.logaddexp(np.zeros((), dtype=a.dtype), a)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved
        return grad * stable_sigmoid(a)


class Elu(Function):
    """a for a > 0, alpha * (exp(a) - 1) otherwise; d/da = 1 or alpha * exp(a).

    Example:
        >>> Elu.apply(tinydl.Tensor([-100.0, 2.0]), 1.0)
        Tensor([-1.,  2.])
    """

    @staticmethod
    def forward(ctx, a, alpha):
        ctx.save_for_backward(a)
        ctx.alpha = alpha
        negative = np.minimum(a, 0)
        return np.where(a > 0, a, (alpha * np.expm1(negative)).astype(a.dtype, copy=False))

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved
        return np.where(a > 0, grad, grad * ctx.alpha * np.exp(np.minimum(a, 0))), None
