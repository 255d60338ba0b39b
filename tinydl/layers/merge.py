"""Merge layers: join several tensors into one (residual connections, multi-input models).

    x = Add()([x, shortcut])                  # or layers.add([x, shortcut])
    h = Concatenate(axis=-1)([image_features, metadata])

Add, Subtract, Multiply, Average, Maximum and Minimum are elementwise over tensors of one
shape (or shapes that broadcast); Concatenate joins along an axis; Dot takes per-sample dot
products along an axis of each of two tensors. None has weights. Each has a lowercase function, as in Keras:
add([a, b]) is Add()([a, b]).
"""

from __future__ import annotations

import functools

from tinydl import ops
from tinydl.layers.base import Layer


def _check_list(inputs, owner: str, exactly: int | None = None) -> None:
    if not isinstance(inputs, (list, tuple)) or len(inputs) < 1:
        raise ValueError(f"{owner} must be called on a list of tensors, e.g. {owner}()([a, b]). "
                         f"Received: {inputs!r:.80}")
    if exactly is not None and len(inputs) != exactly:
        raise ValueError(f"{owner} must be called on a list of exactly {exactly} tensors. "
                         f"Received {len(inputs)}")


def _broadcast_shape(shapes: list, owner: str) -> tuple:
    """The elementwise result shape of (batch, ...) shapes: equal sizes, or 1 on one side."""
    if len({len(s) for s in shapes}) != 1:
        raise ValueError(f"{owner}: the inputs must have the same rank. Received shapes {shapes}")
    out = [shapes[0][0]]
    for sizes in list(zip(*shapes))[1:]:
        known = {d for d in sizes if d is not None and d != 1}
        if len(known) > 1:
            raise ValueError(f"{owner}: the inputs must have the same shape (or sizes of 1 that "
                             f"broadcast). Received shapes {shapes}")
        out.append(known.pop() if known else (1 if all(d == 1 for d in sizes) else None))
    return tuple(out)


class _Merge(Layer):
    """Elementwise merge: subclasses give _merge(a, b) for a pair of tensors."""

    _exactly = None

    def build(self, input_shape):
        _check_list(input_shape, type(self).__name__, self._exactly)
        _broadcast_shape([tuple(s) for s in input_shape], type(self).__name__)

    def call(self, inputs, training=None):
        _check_list(inputs, type(self).__name__, self._exactly)
        return functools.reduce(self._merge, inputs)

    def compute_output_shape(self, input_shape):
        return _broadcast_shape([tuple(s) for s in input_shape], type(self).__name__)


class Add(_Merge):
    """The sum of the inputs, elementwise.

    Shapes:
        a list of (N, ...) inputs that broadcast together -> their broadcast shape.

    Raises:
        ValueError: the inputs are not a list of at least two, or do not broadcast.

    Example:
        >>> a, b = np.array([[1., 2.]], "float32"), np.array([[10., 20.]], "float32")
        >>> Add()([a, b]).numpy()
        array([[11., 22.]], dtype=float32)
    """
    _merge = staticmethod(ops.add)


class Subtract(_Merge):
    """inputs[0] - inputs[1], elementwise (exactly two inputs).

    Raises:
        ValueError: not exactly two inputs, or shapes that do not broadcast.

    Example:
        >>> a, b = np.array([[1., 2.]], "float32"), np.array([[10., 20.]], "float32")
        >>> Subtract()([a, b]).numpy()
        array([[ -9., -18.]], dtype=float32)
    """
    _exactly = 2
    _merge = staticmethod(ops.sub)


class Multiply(_Merge):
    """The product of the inputs, elementwise.

    Example:
        >>> a, b = np.array([[1., 2.]], "float32"), np.array([[10., 20.]], "float32")
        >>> Multiply()([a, b, b]).numpy(), a * b * b
        (array([[100., 800.]], dtype=float32), array([[100., 800.]], dtype=float32))
    """
    _merge = staticmethod(ops.mul)


class Average(_Merge):
    """The mean of the inputs, elementwise.

    Example:
        >>> a, b = np.array([[1., 2.]], "float32"), np.array([[10., 20.]], "float32")
        >>> Average()([a, b]).numpy()
        array([[ 5.5, 11. ]], dtype=float32)
    """

    def call(self, inputs, training=None):
        return super().call(inputs) * (1.0 / len(inputs))

    _merge = staticmethod(ops.add)


def _maximum(a, b):
    return a + ops.relu(b - a)  # a where a >= b: at a tie the gradient goes to a


def _minimum(a, b):
    return a - ops.relu(a - b)


class Maximum(_Merge):
    """The largest of the inputs, elementwise (at a tie the gradient goes to the first).

    Example:
        >>> a, b = np.array([[1., 5.]], "float32"), np.array([[3., 2.]], "float32")
        >>> Maximum()([a, b]).numpy(), np.maximum(a, b)
        (array([[3., 5.]], dtype=float32), array([[3., 5.]], dtype=float32))
    """
    _merge = staticmethod(_maximum)


class Minimum(_Merge):
    """The smallest of the inputs, elementwise.

    Example:
        >>> a, b = np.array([[1., 5.]], "float32"), np.array([[3., 2.]], "float32")
        >>> Minimum()([a, b]).numpy(), np.minimum(a, b)
        (array([[1., 2.]], dtype=float32), array([[1., 2.]], dtype=float32))
    """
    _merge = staticmethod(_minimum)


class Concatenate(Layer):
    """Join the inputs along `axis` (-1: the channels / features); other sizes must agree.

    Args:
        axis: the axis to join along; not the batch axis.
        **kwargs: Layer arguments (name, ...).

    Shapes:
        [(N, ..., d1), (N, ..., d2), ...] -> (N, ..., d1 + d2 + ...) for axis=-1.

    Raises:
        ValueError: inputs of different ranks, the batch axis, or other sizes that differ.

    Example:
        >>> Concatenate()([np.zeros((2, 3), "float32"), np.ones((2, 1), "float32")]).shape
        (2, 4)
        >>> Concatenate(axis=1).compute_output_shape([(None, 2, 5), (None, 3, 5)])
        (None, 5, 5)
        >>> Concatenate().compute_output_shape([(None, 2, 5), (None, 3, 5)])
        Traceback (most recent call last):
        ...
        ValueError: Concatenate(axis=-1): the inputs must match in every axis but the concatenation axis. ...
    """

    def __init__(self, axis: int = -1, **kwargs):
        super().__init__(**kwargs)
        self.axis = int(axis)

    def build(self, input_shape):
        self.compute_output_shape(input_shape)

    def call(self, inputs, training=None):
        _check_list(inputs, "Concatenate")
        return ops.concatenate(list(inputs), axis=self.axis % len(inputs[0].shape))

    def compute_output_shape(self, input_shape):
        _check_list(input_shape, "Concatenate")
        shapes = [tuple(s) for s in input_shape]
        rank = len(shapes[0])
        axis = self.axis % rank if -rank <= self.axis < rank else None
        if axis is None or axis == 0 or len({len(s) for s in shapes}) != 1:
            raise ValueError(f"Concatenate(axis={self.axis}) needs inputs of one rank with that "
                             f"axis (not the batch axis). Received shapes {shapes}")
        for i in range(1, rank):
            sizes = {s[i] for s in shapes if s[i] is not None}
            if i != axis and len(sizes) > 1:
                raise ValueError(f"Concatenate(axis={self.axis}): the inputs must match in every "
                                 f"axis but the concatenation axis. Received shapes {shapes}")
        joined = None if any(s[axis] is None for s in shapes) else sum(s[axis] for s in shapes)
        out = list(shapes[0])
        out[axis] = joined
        return tuple(out)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}


def _dot_axes(axes, ranks) -> list:
    """Keras' Dot axes for inputs of ranks: an int for both, or one per input; negatives count
    from the end."""
    pair = [axes, axes] if isinstance(axes, int) else list(axes)
    return [a % rank if a < 0 else a for a, rank in zip(pair, ranks)]


def _l2_normalize(x, axis: int):
    """x / max(||x||, 1e-7) along axis (Keras' ops.normalize, order 2)."""
    square_sum = ops.sum(x * x, axis=axis, keepdims=True)
    return x / ops.sqrt(ops.maximum(square_sum, 1e-14))


def batch_dot(x, y, axes: list):
    """Per sample, the dot product of x's axis axes[0] with y's axis axes[1] (Keras' batch_dot).

    Shapes: (N, *a, d, *b) and (N, *c, d, *e) -> (N, *a, *b, *c, *e), or (N, 1) when that
    leaves only the batch axis.

    Example:
        >>> x, y = np.arange(6.0).reshape(1, 2, 3), np.ones((1, 3, 4))
        >>> out = batch_dot(tinydl.Tensor(x), tinydl.Tensor(y), [2, 1])
        >>> out.shape, bool(np.allclose(out.data, x[0] @ y[0]))
        ((1, 2, 4), True)
    """
    a0, a1 = axes
    x = ops.transpose(x, [i for i in range(x.ndim) if i != a0] + [a0])   # (N, *rest_x, d)
    y = ops.transpose(y, [0, a1] + [i for i in range(1, y.ndim) if i != a1])  # (N, d, *rest_y)
    rest_x, rest_y = tuple(x.shape[1:-1]), tuple(y.shape[2:])
    n, d = x.shape[0], x.shape[-1]
    out = ops.matmul(ops.reshape(x, (n, -1, d)), ops.reshape(y, (n, d, -1)))
    return ops.reshape(out, (n,) + (rest_x + rest_y or (1,)))


class Dot(Layer):
    """The dot product of two inputs along one axis of each, sample by sample (Keras' Dot).

    Args:
        axes: an int (the same axis of both inputs) or a pair (axis of the first, axis of the
            second); negative axes count from the end; never the batch axis 0.
        normalize: L2-normalize each input along its axis first, so that the result is the
            cosine similarity.

    Shapes:
        (N, d) and (N, d) -> (N, 1); (N, T, d) and (N, S, d) with axes=2 -> (N, T, S); in
        general the first input's axes without axes[0], then the second's without its batch
        axis and axes[1].

    Example:
        >>> a, b = np.ones((2, 3, 4), np.float32), np.ones((2, 5, 4), np.float32)
        >>> Dot(axes=-1)([a, b]).shape, Dot(axes=(1, 2))([a, np.ones((2, 7, 3))]).shape
        ((2, 3, 5), (2, 4, 7))
    """

    def __init__(self, axes=-1, normalize: bool = False, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(axes, int):
            if not isinstance(axes, (list, tuple)):
                raise TypeError(f"Invalid type for argument `axes`: it should be a list or an "
                                f"int. Received: axes={axes!r}")
            if len(axes) != 2 or not all(isinstance(a, int) for a in axes):
                raise ValueError(f"Invalid format for argument `axes`: it should contain two "
                                 f"integers. Received: axes={axes!r}")
        self.axes, self.normalize = axes if isinstance(axes, int) else list(axes), bool(normalize)

    def build(self, input_shape):
        self.compute_output_shape(input_shape)

    def call(self, inputs, training=None):
        _check_list(inputs, "Dot", exactly=2)
        a, b = inputs
        axes = _dot_axes(self.axes, (a.ndim, b.ndim))
        if self.normalize:
            a, b = _l2_normalize(a, axes[0]), _l2_normalize(b, axes[1])
        return batch_dot(a, b, axes)

    def compute_output_shape(self, input_shape):
        _check_list(input_shape, "Dot", exactly=2)
        a, b = (list(s) for s in input_shape)
        if len(a) < 2 or len(b) < 2:
            raise ValueError(f"Cannot do batch_dot on inputs with rank < 2. Received inputs "
                             f"with shapes {tuple(a)} and {tuple(b)}")
        axes = _dot_axes(self.axes, (len(a), len(b)))
        if 0 in axes or not (axes[0] < len(a) and axes[1] < len(b)):
            raise ValueError(f"Dot: axes must be axes of the inputs other than the batch axis 0. "
                             f"Received: axes={self.axes!r} for shapes {tuple(a)}, {tuple(b)}")
        if None not in (a[axes[0]], b[axes[1]]) and a[axes[0]] != b[axes[1]]:
            raise ValueError(f"Incompatible input shapes: axis values {a[axes[0]]} (at axis "
                             f"{axes[0]}) != {b[axes[1]]} (at axis {axes[1]}). Full input "
                             f"shapes: {tuple(a)}, {tuple(b)}")
        out = a[:axes[0]] + a[axes[0] + 1:] + [d for i, d in enumerate(b) if i not in (0, axes[1])]
        return tuple(out if len(out) > 1 else out + [1])

    def compute_mask(self, inputs, mask=None):
        return None

    def get_config(self):
        return {**super().get_config(), "axes": self.axes, "normalize": self.normalize}


def add(inputs, **kwargs):
    """Add(**kwargs)(inputs): the elementwise sum.

    Args:
        inputs: a list of tensors (or KerasTensors) that broadcast together.
        **kwargs: Layer arguments (name, ...).

    Returns:
        The sum, a Tensor (or a KerasTensor in a functional model).

    Example:
        >>> x = tinydl.Input((3,))
        >>> add([x, x]).shape
        (None, 3)
        >>> add([np.ones((1, 2), "float32"), np.ones((1, 2), "float32")]).numpy()
        array([[2., 2.]], dtype=float32)
    """
    return Add(**kwargs)(inputs)


def subtract(inputs, **kwargs):
    """Subtract(**kwargs)(inputs): inputs[0] - inputs[1].

    Args:
        inputs: a list of exactly two tensors.
        **kwargs: Layer arguments.

    Returns:
        The difference.

    Example:
        >>> subtract([np.full((1, 2), 5, "float32"), np.ones((1, 2), "float32")]).numpy()
        array([[4., 4.]], dtype=float32)
    """
    return Subtract(**kwargs)(inputs)


def multiply(inputs, **kwargs):
    """Multiply(**kwargs)(inputs): the elementwise product.

    Args:
        inputs: a list of tensors that broadcast together.
        **kwargs: Layer arguments.

    Returns:
        The product.

    Example:
        >>> multiply([np.full((1, 2), 3, "float32"), np.array([[1., 2.]], "float32")]).numpy()
        array([[3., 6.]], dtype=float32)
    """
    return Multiply(**kwargs)(inputs)


def average(inputs, **kwargs):
    """Average(**kwargs)(inputs): the elementwise mean.

    Args:
        inputs: a list of tensors that broadcast together.
        **kwargs: Layer arguments.

    Returns:
        The mean.

    Example:
        >>> average([np.zeros((1, 2), "float32"), np.array([[1., 3.]], "float32")]).numpy()
        array([[0.5, 1.5]], dtype=float32)
    """
    return Average(**kwargs)(inputs)


def maximum(inputs, **kwargs):
    """Maximum(**kwargs)(inputs): the elementwise largest.

    Args:
        inputs: a list of tensors that broadcast together.
        **kwargs: Layer arguments.

    Returns:
        The maximum.

    Example:
        >>> maximum([np.array([[1., 4.]], "float32"), np.array([[2., 3.]], "float32")]).numpy()
        array([[2., 4.]], dtype=float32)
    """
    return Maximum(**kwargs)(inputs)


def minimum(inputs, **kwargs):
    """Minimum(**kwargs)(inputs): the elementwise smallest.

    Args:
        inputs: a list of tensors that broadcast together.
        **kwargs: Layer arguments.

    Returns:
        The minimum.

    Example:
        >>> minimum([np.array([[1., 4.]], "float32"), np.array([[2., 3.]], "float32")]).numpy()
        array([[1., 3.]], dtype=float32)
    """
    return Minimum(**kwargs)(inputs)


def concatenate(inputs, axis: int = -1, **kwargs):
    """Concatenate(axis=axis, **kwargs)(inputs).

    Args:
        inputs: a list of tensors of one rank.
        axis: the axis to join along (not the batch axis).
        **kwargs: Layer arguments.

    Returns:
        The joined tensor.

    Example:
        >>> a, b = tinydl.Input((4, 2)), tinydl.Input((4, 3))
        >>> concatenate([a, b]).shape, concatenate([a, a], axis=1).shape
        ((None, 4, 5), (None, 8, 2))
    """
    return Concatenate(axis=axis, **kwargs)(inputs)


def dot(inputs, axes=-1, normalize: bool = False, **kwargs):
    """Dot(axes, normalize, **kwargs)(inputs).

    Args:
        inputs: two (N, d) tensors.
        axes: 1 or -1.
        normalize: compute the cosine similarity instead.
        **kwargs: Layer arguments.

    Returns:
        The (N, 1) dot products.

    Example:
        >>> dot([np.array([[1., 2.]], "float32"), np.array([[3., 4.]], "float32")]).numpy()
        array([[11.]], dtype=float32)
    """
    return Dot(axes=axes, normalize=normalize, **kwargs)(inputs)
