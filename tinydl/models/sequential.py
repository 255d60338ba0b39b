"""Sequential: a stack of layers, each feeding the next, with Keras' training API.

    model = Sequential([
        Dense(64, activation="relu", input_shape=(64,)),
        Dense(10, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x_train, y_train, epochs=10, validation_split=0.1)

The input shape comes from, in order: an Input / InputLayer first in the list, the first
layer's input_shape= argument, model.build(input_shape), or the first data the model sees.
Layers are then built in order, each with the output shape of the one before (build_for).
"""

from __future__ import annotations

import copy

import numpy as np

from tinydl import activations
from tinydl.autograd import no_grad
from tinydl.layers import _args
from tinydl.layers.base import BUILD_LOCK, LAYER_CLASSES, Layer, find_layer_class
from tinydl.layers.input_layer import InputLayer
from tinydl.layers.symbolic import KerasTensor, call_context
from tinydl.models import compile_utils, compiled
from tinydl.models.model import Model
from tinydl.fusion import call_layers
from tinydl.tensor import Tensor


def _is_input_layer(layer) -> bool:
    return type(layer).__name__ == "InputLayer"


class Sequential(Model):
    """A linear stack of layers (Keras' Sequential model).

    Args:
        layers: a list of Layer instances, or None to add them later with add().
        name: the model's name ('sequential', 'sequential_1', ... by default).
        trainable: whether the weights of all layers are trained.

    Attributes:
        layers: the layers, without an InputLayer at the front (as Keras 3).
        input_shape, output_shape: with the batch axis as None, once built.
        optimizer, loss: set by compile. history: the History of the last fit.

    Example:
        >>> import tinydl
        >>> model = tinydl.Sequential([tinydl.Input(shape=(3,)), tinydl.layers.Dense(2)])
        >>> model.compile(optimizer="sgd", loss="mse")
        >>> model.predict(np.ones((4, 3), np.float32), verbose=0).shape
        (4, 2)
    """

    def __init__(self, layers=None, name: str | None = None, trainable: bool = True):
        super().__init__(trainable=trainable, name=name)
        self._layers: list = []
        if layers is not None and not isinstance(layers, (list, tuple)):
            raise TypeError(f"Sequential expects a list of layers, got {type(layers).__name__}")
        for layer in layers or []:
            self.add(layer)

    # ------------------------------------------------------------------ the stack
    @property
    def layers(self) -> list:
        """The layers in order, without a leading InputLayer."""
        return [layer for layer in self._layers if not _is_input_layer(layer)]

    def add(self, layer: Layer) -> None:
        """Append a layer; it is built at once when the model's input shape is known.

        Raises:
            TypeError: layer is not a Layer instance (e.g. the class itself).
            ValueError: an InputLayer anywhere but first.
        """
        if isinstance(layer, KerasTensor) and layer.node is not None and layer.node.is_input:
            layer = layer.node.layer  # Sequential([Input(shape=...), ...]) starts with its InputLayer
        if isinstance(layer, type) and issubclass(layer, Layer):
            raise TypeError(f"Sequential.add expects a layer instance, got the class "
                            f"{layer.__name__}; write {layer.__name__}(...)")
        if not isinstance(layer, Layer):
            raise TypeError(f"Sequential.add expects a tinydl Layer, got {type(layer).__name__}: "
                            f"{layer!r}")
        if _is_input_layer(layer) and self._layers:
            raise ValueError("an InputLayer / Input can only be the first layer of a Sequential "
                             f"model, but the model already has {len(self._layers)} layers")
        self._layers.append(layer)
        self._fused = "unknown"
        if self.built:
            with self._name_scope():  # its weights' paths start 'sequential/', as in Keras
                self.output_shape = layer.build_for(self.output_shape)
        elif self._declared_input_shape() is not None:
            self.build()

    def pop(self) -> Layer:
        """Remove and return the last layer."""
        if not self.layers:
            raise TypeError("There are no layers in the model to pop")
        layer = self._layers.pop()
        self._fused = "unknown"
        if self.built:
            self.output_shape = self._layers[-1].output_shape if self._layers else self.input_shape
        return layer

    def _declared_input_shape(self):
        """(None, *sample_shape) from an InputLayer or the first layer's input_shape, else None."""
        if not self._layers:
            return None
        first = self._layers[0]
        if _is_input_layer(first) and first.output_shape is not None:
            return tuple(first.output_shape)
        if first.input_shape_arg is not None:
            return (None,) + tuple(first.input_shape_arg)
        return None

    def _input_shape_for_data(self):
        return self.input_shape if self.built else self._declared_input_shape()

    # ------------------------------------------------------------------ building and calling
    def build(self, input_shape=None) -> None:
        """Build every layer in order for inputs of input_shape (batch axis first, e.g. (None, 64)).

        Raises:
            ValueError: no input shape is known, or the model has no layers.
        """
        if not self._layers:
            raise ValueError(f"Sequential model '{self.name}' has no layers to build; add some first")
        if input_shape is None:
            input_shape = self._declared_input_shape()
        if input_shape is None:
            raise ValueError(f"cannot build Sequential model '{self.name}' without an input shape: "
                             "call model.build((None, *sample_shape)), give the first layer "
                             "input_shape=..., or start with tinydl.layers.Input(shape=...)")
        shape = _args.shape(input_shape, "input_shape", f"Sequential '{self.name}'.build", batch=True)
        with BUILD_LOCK:
            self.input_shape = shape
            for layer in self._layers:
                shape = layer.build_for(shape)
            self.output_shape = shape
            self.built = True

    def compute_output_shape(self, input_shape) -> tuple:
        shape = tuple(input_shape)
        for layer in self._layers:
            shape = layer.build_for(shape)
        return shape

    def call(self, inputs, training=None):
        return call_layers(self._layers, inputs, training)

    def _build_once(self, input_shape) -> None:
        if not self.built:
            self.build(self._declared_input_shape() or input_shape)

    # ------------------------------------------------------------------ as a graph
    def _symbolic_io(self) -> tuple:
        """([input KerasTensor], [output KerasTensor]) of the stack, made once it is built by
        calling its layers on an Input (so that layer.output works, as in Keras)."""
        if not self.built:
            raise AttributeError(f"Sequential model '{self.name}' has no inputs yet: it is not "
                                 "built (start it with keras.Input(shape=...), or build it)")
        cached = self.__dict__.get("_io")
        if cached is None or cached[0] != len(self._layers):
            first = self._layers[0]
            if not _is_input_layer(first):
                first = InputLayer(batch_shape=self.input_shape)
            tensor = first.output
            inputs = [tensor]
            for layer in self.layers:
                tensor = layer(tensor)
            cached = (len(self._layers), inputs, [tensor])
            self.__dict__["_io"] = cached
        return cached[1], cached[2]

    inputs = property(lambda self: self._symbolic_io()[0], doc="[the input KerasTensor]")
    outputs = property(lambda self: self._symbolic_io()[1], doc="[the output KerasTensor]")
    input = property(lambda self: self._symbolic_io()[0][0], doc="The input KerasTensor.")
    output = property(lambda self: self._symbolic_io()[1][0], doc="The output KerasTensor.")

    # ------------------------------------------------------------------ the fused loss path
    def _fused_kind(self):
        if self._fused == "unknown":
            self._fused = compile_utils.fused_kind(self.layers[-1], self._loss_fn)
        return self._fused

    def _logits(self, x: Tensor, training: bool) -> Tensor:
        """The model's output without its last softmax/sigmoid.

        For a last layer with an `activation` attribute (Dense(..., activation='softmax')) a
        shallow copy of it, sharing its weights, runs with a linear activation: the layer
        itself is never changed, so a predict on this model from another thread still gets
        probabilities.
        """
        *body, last = self._layers
        with call_context(self, training):
            x = call_layers(body, x, training)
            _, how = compile_utils.final_activation(last)
            if how == "skip":
                return x
            linear = copy.copy(last)
            linear.activation = activations.linear
            return call_layers([linear], x, training)

    def _forward_and_loss(self, x, y, sample_weight, training: bool):
        """Softmax (sigmoid) + cross-entropy as one stable expression on the logits
        (compile_utils), when the last layer and the loss allow it; else the plain path."""
        kind = None if y is None or sample_weight is not None or self._compile_loss is None \
            else self._fused_kind()
        if kind is None:
            return super()._forward_and_loss(x, y, sample_weight, training)
        x = x if isinstance(x, Tensor) else Tensor(x)
        logits = self._logits(x, training)
        y = compiled.targets_dtype(self._loss_fn, np.asarray(getattr(y, "data", y)))
        loss = compile_utils.fused_loss(kind, self._loss_fn, y, logits)
        with no_grad():
            y_pred = compile_utils.apply_activation(kind, logits)
        for penalty in self.losses:
            loss = loss + penalty
        return y_pred, loss

    def macs_per_sample(self, input_shape=None) -> int:
        """Multiply-accumulates of one forward pass on one sample, summed over the layers."""
        if input_shape is not None and not self.built:
            self.build(input_shape)
        return int(sum(layer.macs_per_sample(layer.input_shape) for layer in self._layers
                       if layer.input_shape is not None))

    def get_config(self) -> dict:
        return {"name": self.name, "trainable": self._trainable,
                "layers": [{"class_name": type(layer).__name__, "config": layer.get_config()}
                           for layer in self._layers]}

    @classmethod
    def from_config(cls, config: dict):
        layers = []
        for entry in config.get("layers", []):
            layer_cls = find_layer_class(entry["class_name"])
            if layer_cls is None:
                raise ValueError(f"unknown layer class {entry['class_name']!r}; known: "
                                 f"{sorted(LAYER_CLASSES)}")
            layers.append(layer_cls.from_config(entry["config"]))
        return cls(layers, name=config.get("name"), trainable=config.get("trainable", True))

    def __repr__(self):
        return f"<Sequential name={self.name}, layers={len(self.layers)}, built={self.built}>"

