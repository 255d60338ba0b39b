"""Input / InputLayer: declare the shape of one sample at the front of a model. No weights."""

from __future__ import annotations

from tinydl.layers import _args
from tinydl.layers.base import Layer, _to_shape
from tinydl.layers.symbolic import KerasTensor, Node


class InputLayer(Layer):
    """The entry of a model: passes inputs through after checking their shape.

    Args:
        shape: the shape of one sample, without the batch axis, e.g. (32, 32, 3).
            Keras' older spelling input_shape=... is accepted too (and batch_shape /
            batch_input_shape with the batch axis first).
        batch_size: a fixed batch size, or None (any).

    Shapes:
        inputs (N, *shape) -> the same; output shape (batch_size, *shape).

    Example:
        >>> InputLayer(shape=(32, 32, 3)).output_shape
        (None, 32, 32, 3)
    """

    def __init__(self, shape=None, batch_size=None, input_shape=None, batch_shape=None,
                 dtype=None, **kwargs):
        name = "shape" if input_shape is None or shape is not None else "input_shape"
        if batch_shape is not None:
            batch_shape = _args.shape(batch_shape, "batch_shape", "InputLayer", batch=True)
            batch_size, shape, name = batch_shape[0], batch_shape[1:], "batch_shape"
        shape = shape if shape is not None else input_shape
        if shape is None:
            raise ValueError("InputLayer needs the shape of one sample, e.g. "
                             "InputLayer(shape=(32, 32, 3)). Received: shape=None")
        if _args._is_int(shape):
            shape = (shape,)
        super().__init__(input_shape=_args.shape(shape, name, "InputLayer"), **kwargs)
        self.batch_size = (None if batch_size is None
                           else _args.positive_int(batch_size, "batch_size", "InputLayer"))
        self.build_for((self.batch_size,) + self.input_shape_arg)
        self.dtype = "float32" if dtype is None else str(dtype)
        Node(self, (), {}, KerasTensor(self.output_shape, self.dtype, name=self.name))

    def call(self, inputs, training=None):
        expected = self.output_shape
        if len(inputs.shape) != len(expected) or any(
                e is not None and e != g for e, g in zip(expected, inputs.shape)):
            raise ValueError(f"InputLayer '{self.name}' expects input of shape {expected} "
                             f"(None: any size), got {inputs.shape}")
        return inputs

    def compute_output_shape(self, input_shape):
        return (self.batch_size,) + _to_shape(input_shape[1:])

    def get_config(self):
        config = super().get_config()
        config["shape"] = config.pop("input_shape")
        return {**config, "batch_size": self.batch_size, "dtype": self.dtype}


def Input(shape=None, batch_size=None, dtype=None, name: str | None = None,
          batch_shape=None) -> KerasTensor:
    """Keras' Input: the symbolic input of a functional model (a KerasTensor).

    Args:
        shape: the shape of one sample, without the batch axis, e.g. (32, 32, 3).
        batch_size: a fixed batch size, or None (any).
        dtype: the dtype name of the data, 'float32' by default.
        name: the input's name (also the key of its data when a model is fed a dict).
        batch_shape: the shape with the batch axis first, instead of shape and batch_size.

    Returns:
        A KerasTensor of shape (batch_size, *shape). Call layers on it, then make a Model:

            inputs = Input(shape=(784,))
            outputs = Dense(10)(Dense(64, activation="relu")(inputs))
            model = Model(inputs, outputs)

        It can also start a Sequential list: Sequential([Input(shape=(32,)), Dense(10)]).

    Example:
        >>> Input(shape=(28, 28, 1)).shape
        (None, 28, 28, 1)
    """
    return InputLayer(shape=shape, batch_size=batch_size, name=name, batch_shape=batch_shape,
                      dtype=dtype).output
