"""Layers that wrap another layer: Bidirectional (an RNN both ways) and TimeDistributed."""

from __future__ import annotations

from tinydl import ops
from tinydl.layers.base import Layer, find_layer_class

_MERGE_MODES = ("sum", "mul", "ave", "concat", None)


def _copy(layer: Layer, **changes) -> Layer:
    """A new, unbuilt layer of layer's class and config, with changes."""
    return type(layer).from_config({**layer.get_config(), **changes})


def _serialize(layer: Layer) -> dict:
    return {"class_name": type(layer).__name__, "config": layer.get_config()}


def _deserialize(entry: dict) -> Layer:
    cls = find_layer_class(entry.get("class_name"))
    if cls is None:
        raise ValueError(f"unknown layer class {entry.get('class_name')!r} in a wrapper's config")
    return cls.from_config(entry["config"])


def _strip(name: str, prefix: str) -> str:
    return name[len(prefix):] if name.startswith(prefix) else name


class Bidirectional(Layer):
    """Run a recurrent layer forwards and a copy of it backwards over the sequence, and merge.

    Args:
        layer: an RNN layer (LSTM, GRU, SimpleRNN); a copy of it (same config, new weights)
            reads the sequence forwards, another copy with go_backwards flipped backwards.
        merge_mode: 'concat' (default: features side by side), 'sum', 'mul', 'ave', or None
            (a list of the two outputs).
        backward_layer: your own backward layer instead of the copy.

    The backward output is flipped back in time before merging, so step t of both halves
    describes input step t. Weights: the forward layer's, then the backward layer's (Keras'
    order). With return_state, the result is [output, *forward states, *backward states].

    Example:
        >>> x = np.ones((2, 5, 3), np.float32)
        >>> Bidirectional(tinydl.layers.LSTM(4))(x).shape
        (2, 8)
    """

    supports_masking = True

    def __init__(self, layer, merge_mode="concat", weights=None, backward_layer=None, **kwargs):
        if not isinstance(layer, Layer):
            raise ValueError(f"Please initialize `Bidirectional` layer with a tinydl Layer "
                             f"instance. Received: {layer!r}")
        if backward_layer is not None and not isinstance(backward_layer, Layer):
            raise ValueError(f"`backward_layer` need to be a tinydl Layer instance. Received: "
                             f"{backward_layer!r}")
        if merge_mode not in _MERGE_MODES:
            raise ValueError(f"Invalid merge mode. Received: {merge_mode!r}. Merge mode should be "
                             "one of {'sum', 'mul', 'ave', 'concat', None}")
        if kwargs.get("input_shape") is None and layer.input_shape_arg is not None:
            kwargs["input_shape"] = layer.input_shape_arg
        super().__init__(**kwargs)
        self.forward_layer = _copy(layer, name="forward_" + _strip(layer.name, "forward_"))
        self.backward_layer = backward_layer if backward_layer is not None else _copy(
            layer, go_backwards=not layer.go_backwards,
            name="backward_" + _strip(layer.name, "backward_"))
        self._check_pair()
        for half in (self.forward_layer, self.backward_layer):
            half.zero_output_for_mask = half.return_sequences  # as Keras: padded steps give 0
        self.merge_mode = merge_mode
        self.return_sequences = self.forward_layer.return_sequences
        self.return_state = self.forward_layer.return_state
        self._initial_weights = weights

    def _check_pair(self):
        forward, backward = self.forward_layer, self.backward_layer
        if forward.go_backwards == backward.go_backwards:
            raise ValueError("Forward layer and backward layer should have different "
                             f"`go_backwards` value. Received: forward_layer.go_backwards="
                             f"{forward.go_backwards}, backward_layer.go_backwards="
                             f"{backward.go_backwards}")
        for name in ("stateful", "return_sequences", "return_state"):
            if getattr(forward, name) != getattr(backward, name):
                raise ValueError(f"Forward layer and backward layer are expected to have the same "
                                 f"value for attribute {name!r}, got {getattr(forward, name)} for "
                                 f"forward layer and {getattr(backward, name)} for backward layer")

    def build(self, input_shape):
        self.forward_layer.build_for(input_shape)
        self.backward_layer.build_for(input_shape)
        # the halves are tracked sublayers: their weights are this layer's, forward first
        if self._initial_weights is not None:
            self.built = True
            self.set_weights(self._initial_weights)
            self._initial_weights = None

    def call(self, sequences, initial_state=None, mask=None, training=None):
        forward_state = backward_state = None
        if initial_state is not None:
            half = len(initial_state) // 2
            forward_state, backward_state = initial_state[:half], initial_state[half:]
        y = self.forward_layer(sequences, initial_state=forward_state, mask=mask,
                               training=training)
        y_rev = self.backward_layer(sequences, initial_state=backward_state, mask=mask,
                                    training=training)
        states = []
        if self.return_state:
            states, y, y_rev = list(y[1:]) + list(y_rev[1:]), y[0], y_rev[0]
        if self.return_sequences:
            y_rev = y_rev[:, ::-1]
        output = self._merge(y, y_rev)
        if self.return_state:
            return (output if isinstance(output, list) else [output]) + states
        return output

    def _merge(self, y, y_rev):
        if self.merge_mode == "concat":
            return ops.concatenate([y, y_rev], axis=-1)
        if self.merge_mode == "sum":
            return y + y_rev
        if self.merge_mode == "ave":
            return (y + y_rev) * 0.5
        if self.merge_mode == "mul":
            return y * y_rev
        return [y, y_rev]

    def compute_output_shape(self, input_shape):
        shape = self.forward_layer.compute_output_shape(input_shape)
        states = []
        if self.return_state:
            shape, states = shape[0], list(shape[1:])
        if self.merge_mode == "concat":
            shape = tuple(shape[:-1]) + (shape[-1] * 2,)
        outputs = [tuple(shape), tuple(shape)] if self.merge_mode is None else [tuple(shape)]
        if self.return_state or self.merge_mode is None:
            return outputs + states + states
        return outputs[0]

    def compute_mask(self, inputs, mask=None):
        out = mask if self.return_sequences else None
        outputs = [out, out] if self.merge_mode is None else [out]
        if self.return_state:
            return outputs + [None] * (2 * self.forward_layer._state_count)
        return outputs if self.merge_mode is None else out

    def macs_per_sample(self, input_shape):
        return 2 * self.forward_layer.macs_per_sample(input_shape)

    def get_config(self):
        return {**super().get_config(), "merge_mode": self.merge_mode,
                "layer": _serialize(self.forward_layer),
                "backward_layer": _serialize(self.backward_layer)}

    @classmethod
    def from_config(cls, config: dict):
        config = dict(config)
        config["layer"] = _deserialize(config["layer"])
        if config.get("backward_layer") is not None:
            config["backward_layer"] = _deserialize(config["backward_layer"])
        return cls(**config)


class TimeDistributed(Layer):
    """Apply a layer to every time step: (N, T, ...) -> (N, T, ...out), the same weights each step.

    Args:
        layer: the layer (used itself, not a copy, as Keras); its weights are this layer's.

    The steps run as one batch of N*T samples, which is the same for every layer that treats
    samples independently (Dense, Conv2D, pooling, Dropout at inference, ...).

    Example:
        >>> TimeDistributed(tinydl.layers.Dense(8))(np.ones((2, 5, 3), np.float32)).shape
        (2, 5, 8)
    """

    supports_masking = True

    def __init__(self, layer, **kwargs):
        if not isinstance(layer, Layer):
            raise ValueError(f"Please initialize `TimeDistributed` layer with a tinydl Layer "
                             f"instance. Received: {layer!r}")
        super().__init__(**kwargs)
        self.layer = layer

    @staticmethod
    def _child_shape(input_shape):
        if len(input_shape) < 3:
            raise ValueError(f"`TimeDistributed` Layer should be passed an `input_shape` with at "
                             f"least 3 dimensions, received: {tuple(input_shape)}")
        return (input_shape[0],) + tuple(input_shape[2:])

    def build(self, input_shape):
        self.layer.build_for(self._child_shape(input_shape))  # a tracked sublayer: its weights

    def call(self, inputs, training=None):
        self._child_shape(inputs.shape)
        n, steps = inputs.shape[:2]
        flat = ops.reshape(inputs, (n * steps,) + inputs.shape[2:])
        out = self.layer(flat, training=training)
        return ops.reshape(out, (n, steps) + out.shape[1:])

    def compute_output_shape(self, input_shape):
        child = self.layer.compute_output_shape(self._child_shape(input_shape))
        return (child[0], input_shape[1]) + tuple(child[1:])

    def macs_per_sample(self, input_shape):
        return (input_shape[1] or 0) * self.layer.macs_per_sample(self._child_shape(input_shape))

    def get_config(self):
        return {**super().get_config(), "layer": _serialize(self.layer)}

    @classmethod
    def from_config(cls, config: dict):
        return cls(**{**config, "layer": _deserialize(config["layer"])})
