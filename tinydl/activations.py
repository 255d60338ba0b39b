"""Activation functions by Keras' names (keras.activations): relu, gelu, softmax, ... and get().

Each takes a Tensor, an array or a number and returns a Tensor of the same shape; each is
differentiable (built from the ops in tinydl/ops). Layers take these functions, their names
('relu', 'gelu', ...) or any callable as `activation=`.
"""

from __future__ import annotations

from tinydl import ops
from tinydl.ops.keras_core import float_tensor


def relu(x, negative_slope=0.0, max_value=None, threshold=0.0):
    """max(x, 0), with Keras' options: a slope below threshold, a cap, a threshold.

    x for threshold < x < max_value, max_value above, negative_slope * (x - threshold) at or
    below the threshold.

    Example:
        >>> relu([-2.0, 1.0, 8.0]), relu([-2.0, 1.0, 8.0], negative_slope=0.5, max_value=6.0)
        (Tensor([0., 1., 8.]), Tensor([-1.,  1.,  6.]))
    """
    if negative_slope == 0.0 and max_value is None and threshold == 0.0:
        return ops.relu(x)
    x = float_tensor(x)
    if negative_slope != 0.0 and max_value is None and threshold == 0.0:
        return ops.leaky_relu(x, negative_slope=negative_slope)
    below = ops.relu(ops.subtract(threshold, x)) if negative_slope != 0.0 else None
    y = ops.where(x.data > threshold, x, 0.0) if threshold != 0.0 else ops.relu(x)
    if max_value is not None:
        y = ops.clip(y, 0.0, max_value)
    if below is not None:
        y = ops.subtract(y, ops.multiply(below, negative_slope))
    return y


def leaky_relu(x, negative_slope=0.2):
    """x for x > 0, negative_slope * x otherwise.

    Example:
        >>> leaky_relu([-1.0, 2.0])
        Tensor([-0.2,  2. ])
    """
    return ops.leaky_relu(x, negative_slope=negative_slope)


def relu6(x):
    """min(max(x, 0), 6).

    Example:
        >>> relu6([-1.0, 7.0])
        Tensor([0., 6.])
    """
    return ops.relu6(x)


def softmax(x, axis=-1):
    """exp(x) / sum(exp(x)) along axis.

    Example:
        >>> softmax([[0.0, 0.0]])
        Tensor([[0.5, 0.5]])
    """
    return ops.softmax(x, axis=axis)


def log_softmax(x, axis=-1):
    """x - logsumexp(x) along axis.

    Example:
        >>> log_softmax([[0.0, 0.0]])
        Tensor([[-0.6931, -0.6931]])
    """
    return ops.log_softmax(x, axis=axis)


def elu(x, alpha=1.0):
    """x for x > 0, alpha * (exp(x) - 1) otherwise.

    Example:
        >>> elu([-100.0, 2.0])
        Tensor([-1.,  2.])
    """
    return ops.elu(x, alpha=alpha)


def celu(x, alpha=1.0):
    """max(x, 0) + min(0, alpha * (exp(x / alpha) - 1)) (Barron, 2017).

    Example:
        >>> celu([-100.0, 2.0], alpha=2.0)
        Tensor([-2.,  2.])
    """
    x = float_tensor(x)
    return ops.multiply(ops.elu(ops.divide(x, alpha)), alpha)


def selu(x):
    """scale * elu(x, alpha) with the self-normalizing constants (Klambauer et al., 2017).

    Example:
        >>> selu([0.0, 1.0])
        Tensor([0.    , 1.0507])
    """
    return ops.selu(x)


def softplus(x):
    """log(1 + exp(x)), computed stably.

    Example:
        >>> softplus([0.0])
        Tensor([0.6931])
    """
    return ops.softplus(x)


def softsign(x):
    """x / (1 + |x|).

    Example:
        >>> softsign([-1.0, 3.0])
        Tensor([-0.5 ,  0.75])
    """
    return ops.softsign(x)


def squareplus(x, b=4):
    """(x + sqrt(x^2 + b)) / 2, a smooth ReLU (So, 2021).

    Example:
        >>> squareplus([0.0, 1.5])
        Tensor([1., 2.])
    """
    x = float_tensor(x)
    return ops.divide(ops.add(x, ops.sqrt(ops.add(ops.square(x), b))), 2.0)


def sparse_plus(x):
    """0 below -1, (x + 1)^2 / 4 on [-1, 1], x above 1.

    Example:
        >>> sparse_plus([-2.0, 0.0, 2.0])
        Tensor([0.  , 0.25, 2.  ])
    """
    x = float_tensor(x)
    middle = ops.divide(ops.square(ops.add(x, 1.0)), 4.0)
    return ops.where(x.data <= -1.0, 0.0, ops.where(x.data >= 1.0, x, middle))


def silu(x):
    """x * sigmoid(x), also called swish.

    Example:
        >>> silu([0.0, 100.0])
        Tensor([  0., 100.])
    """
    return ops.silu(x)


swish = silu


def gelu(x, approximate=False):
    """x * P(X <= x) for a standard normal X; exact by default here (keras.ops' default is the
    tanh approximation, keras.activations' is exact).

    Example:
        >>> gelu([0.0, 1.0])
        Tensor([0.    , 0.8413])
    """
    return ops.gelu(x, approximate=approximate)


def glu(x, axis=-1):
    """a * sigmoid(b), with a and b the two halves of x along axis (Dauphin et al., 2017).

    Example:
        >>> glu([[1.0, 2.0, 0.0, 0.0]])
        Tensor([[0.5, 1. ]])
    """
    x = float_tensor(x)
    if x.shape[axis] % 2:
        raise ValueError(f"glu: the size of axis {axis} must be even. Received: shape={x.shape}")
    a, b = ops.split(x, 2, axis=axis)
    return ops.multiply(a, ops.sigmoid(b))


def tanh(x):
    """The hyperbolic tangent.

    Example:
        >>> tanh([0.0, 100.0])
        Tensor([0., 1.])
    """
    return ops.tanh(x)


def tanh_shrink(x):
    """x - tanh(x).

    Example:
        >>> tanh_shrink([0.0, 100.0])
        Tensor([ 0., 99.])
    """
    x = float_tensor(x)
    return ops.subtract(x, ops.tanh(x))


def hard_tanh(x):
    """clip(x, -1, 1).

    Example:
        >>> hard_tanh([-2.0, 0.5, 2.0])
        Tensor([-1. ,  0.5,  1. ])
    """
    return ops.clip(float_tensor(x), -1.0, 1.0)


def hard_shrink(x, threshold=0.5):
    """x where |x| > threshold, else 0.

    Example:
        >>> hard_shrink([-1.0, 0.2, 1.0])
        Tensor([-1.,  0.,  1.])
    """
    x = float_tensor(x)
    return ops.where(abs(x.data) > threshold, x, 0.0)


def soft_shrink(x, threshold=0.5):
    """x - threshold above threshold, x + threshold below -threshold, else 0.

    Example:
        >>> soft_shrink([-1.0, 0.2, 1.0])
        Tensor([-0.5,  0. ,  0.5])
    """
    x = float_tensor(x)
    return ops.subtract(ops.relu(ops.subtract(x, threshold)), ops.relu(ops.subtract(-threshold, x)))


def threshold(x, threshold, default_value):
    """x where x > threshold, else default_value.

    Example:
        >>> threshold([0.5, 2.0], 1.0, -1.0)
        Tensor([-1.,  2.])
    """
    x = float_tensor(x)
    return ops.where(x.data > threshold, x, float(default_value))


def sigmoid(x):
    """1 / (1 + exp(-x)), computed stably.

    Example:
        >>> sigmoid([0.0])
        Tensor([0.5])
    """
    return ops.sigmoid(x)


def sparse_sigmoid(x):
    """0 below -1, (x + 1) / 2 on [-1, 1], 1 above 1.

    Example:
        >>> sparse_sigmoid([-2.0, 0.0, 2.0])
        Tensor([0. , 0.5, 1. ])
    """
    return ops.divide(ops.add(ops.clip(float_tensor(x), -1.0, 1.0), 1.0), 2.0)


def hard_sigmoid(x):
    """relu6(x + 3) / 6.

    Example:
        >>> hard_sigmoid([-4.0, 0.0, 4.0])
        Tensor([0. , 0.5, 1. ])
    """
    return ops.hard_sigmoid(x)


def hard_silu(x):
    """x * hard_sigmoid(x), also called hard_swish (Howard et al., 2019).

    Example:
        >>> hard_silu([-4.0, 0.0, 4.0])
        Tensor([-0.,  0.,  4.])
    """
    x = float_tensor(x)
    return ops.multiply(x, ops.hard_sigmoid(x))


hard_swish = hard_silu


def log_sigmoid(x):
    """log(sigmoid(x)), computed stably.

    Example:
        >>> log_sigmoid([0.0])
        Tensor([-0.6931])
    """
    return ops.log_sigmoid(x)


def exponential(x):
    """exp(x).

    Example:
        >>> exponential([0.0])
        Tensor([1.])
    """
    return ops.exp(x)


def mish(x):
    """x * tanh(softplus(x)) (Misra, 2019).

    Example:
        >>> mish([0.0, 1.0])
        Tensor([0.    , 0.8651])
    """
    x = float_tensor(x)
    return ops.multiply(x, ops.tanh(ops.softplus(x)))


def linear(x):
    """The identity.

    Example:
        >>> linear(tinydl.Tensor([1.0, -2.0])).data
        array([ 1., -2.], dtype=float32)
    """
    return x


_BY_NAME = {fn.__name__: fn for fn in (
    relu, leaky_relu, relu6, softmax, log_softmax, elu, celu, selu, softplus, softsign, squareplus,
    sparse_plus, silu, gelu, glu, tanh, tanh_shrink, hard_tanh, hard_shrink, soft_shrink,
    sigmoid, sparse_sigmoid, hard_sigmoid, hard_silu, log_sigmoid, exponential, mish, linear)}
_BY_NAME.update(swish=silu, hard_swish=hard_silu)
# the ops the layers' fused kernels recognise: the Keras functions with default arguments
_AS_OP = {relu: ops.relu, tanh: ops.tanh, sigmoid: ops.sigmoid}


def get(identifier):
    """An activation from None, a name or a callable (Tensor -> Tensor).

    Keras' functions of this module, by name or by object, come back as the ops the layers'
    fused kernels recognise where there is one (relu, tanh, sigmoid).

    Example:
        >>> get("relu")(tinydl.Tensor([-1.0, 2.0])).data
        array([0., 2.], dtype=float32)
        >>> get(None) is linear, get(relu) is get("relu")
        (True, True)
    """
    if identifier is None:
        return linear
    if isinstance(identifier, str):
        fn = _BY_NAME.get(identifier.lower())
        if fn is None:
            raise ValueError(f"unknown activation {identifier!r}; valid names: {sorted(_BY_NAME)}, "
                             "None or a callable")
        return _AS_OP.get(fn, fn)
    if callable(identifier):
        return _AS_OP.get(identifier, identifier)
    raise ValueError(f"activation must be None, a name or a callable. Received: {identifier!r}")


def name_of(activation) -> str | None:
    """The Keras name of a built-in activation function, else None.

    Example:
        >>> name_of(get("softmax")), name_of(get("relu")), name_of(print)
        ('softmax', 'relu', None)
    """
    for name, fn in _BY_NAME.items():
        if activation is fn or activation is _AS_OP.get(fn):
            return name
    return None


def serialize(activation):
    """The Keras config of an activation: its name for the built-ins.

    Example:
        >>> serialize(gelu)
        'gelu'
    """
    name = name_of(activation)
    if name is None:
        raise ValueError(f"activation {activation!r} is not one of keras.activations' functions; "
                         "give custom activations by object (and custom_objects= when loading)")
    return name


def deserialize(config, custom_objects=None):
    """An activation from its config: a name, or a {'class_name': name} dict.

    Example:
        >>> deserialize("relu") is get("relu")
        True
    """
    if isinstance(config, dict):
        config = config.get("config", config.get("class_name"))
    if custom_objects and config in custom_objects:
        return custom_objects[config]
    return get(config)


from tinydl import keras_names  # noqa: E402

__getattr__ = keras_names.missing(__name__, "activations")  # a Keras name tinydl lacks: a clear error
