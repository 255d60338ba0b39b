"""OpLayer: one keras.ops call (or Python operator) on KerasTensors, as a node of a functional graph.

    x = keras.Input(shape=(4,))
    y = x * 2.0                  # OpLayer('multiply', args=(slot 0, 2.0)) called on [x]

The layer's inputs are the KerasTensors of the call, in flatten order; its arguments are kept
with slots where those tensors stood, and filled with the values when the model runs. Saving
names the op (one of tinydl.ops' functions) and its constant arguments, never code.
"""

from __future__ import annotations

from tinydl import tree
from tinydl.layers import symbolic
from tinydl.layers.base import Layer, _unique_base
from tinydl.ops import keras_symbolic


def _op_function(op: str):
    import tinydl.ops

    name = {v: k for k, v in keras_symbolic._OP_NAMES.items()}.get(op, op)
    if name not in tinydl.ops.__all__ or name in keras_symbolic.NOT_SYMBOLIC:
        raise ValueError(f"OpLayer: unknown op {op!r}; it must name one of tinydl.ops' "
                         f"functions. Received: op={op!r}")
    function = getattr(tinydl.ops, name)
    return getattr(function, "__wrapped__", function)


class OpLayer(Layer):
    """A keras.ops function applied to KerasTensors (Keras records such a call as an Operation).

    Args:
        op: the op's Keras name, e.g. 'add', 'get_item', 'concatenate', 'mean'.
        args, kwargs: its arguments, with keras_symbolic._Slot(i) where the i-th input tensor
            goes (JSON-encoded in a config).

    Example:
        >>> x = tinydl.Input(shape=(3,))
        >>> y = tinydl.ops.mean(x * 2.0, axis=-1)
        >>> model = tinydl.Model(x, y)
        >>> model.predict(np.ones((2, 3), np.float32), verbose=0).tolist(), y.shape
        ([2.0, 2.0], (None,))
    """

    _is_operation = True

    def __init__(self, op: str, args=(), kwargs=None, name: str | None = None, **options):
        name = name or _unique_base(keras_symbolic._OP_NAMES.get(op, op))
        super().__init__(name=name, **options)
        self.op = keras_symbolic._OP_NAMES.get(op, op)
        self._function = _op_function(self.op)
        self.op_args, self.op_kwargs = tuple(args), dict(kwargs or {})
        self.built = True

    @property
    def operation_name(self) -> str:
        """The class name Keras gives this operation ('get_item' -> 'GetItem'), for summaries."""
        return "".join(part.capitalize() for part in self.op.split("_"))

    def _run(self, values: list):
        args = keras_symbolic._fill(self.op_args, list(values))
        kwargs = keras_symbolic._fill(self.op_kwargs, list(values))
        return self._function(*args, **kwargs)

    def __call__(self, inputs, *args, **kwargs):
        kwargs.pop("training", None)
        if args or kwargs:
            raise TypeError(f"OpLayer '{self.name}' takes only its list of input tensors. "
                            f"Received: {len(args)} more positional, keywords {sorted(kwargs)}")
        inputs = list(inputs)
        if not symbolic.is_symbolic(inputs):
            return self._run(inputs)
        example, specs = keras_symbolic.output_specs(self._run, inputs, f"ops.{self.op}")
        flat = [symbolic.KerasTensor(shape, dtype) for shape, dtype in specs]
        outputs = tree.pack_sequence_as(example, flat) if tree.is_nested(example) else flat[0]
        self.input_shape = [t.shape for t in inputs]
        if self.output_shape is None:
            self.output_shape = tree.map_structure(lambda t: t.shape, outputs)
        symbolic.Node(self, (inputs,), {}, outputs)
        return outputs

    def compute_output_shape(self, input_shape):
        return self.output_shape

    def get_config(self) -> dict:
        return {"name": self.name, "trainable": self._trainable, "op": self.op,
                "args": keras_symbolic.encode(self.op_args),
                "kwargs": keras_symbolic.encode(self.op_kwargs)}

    @classmethod
    def from_config(cls, config: dict, custom_objects=None):
        config = dict(config)
        args = keras_symbolic.decode(config.pop("args", {"__tuple__": []}))
        kwargs = keras_symbolic.decode(config.pop("kwargs", {"__dict__": {}}))
        return cls(config.pop("op"), args, kwargs, **config)
