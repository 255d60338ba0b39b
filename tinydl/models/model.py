"""Model: Keras' Model, made either from a graph of layers (functional) or by subclassing.

    # functional: call layers on Input tensors, then name the inputs and outputs
    inputs = Input(shape=(784,))
    outputs = Dense(10, activation="softmax")(Dense(64, activation="relu")(inputs))
    model = Model(inputs, outputs)                  # a Functional model

    # subclassing: layers in __init__, the forward pass in call
    class MLP(Model):
        def __init__(self):
            super().__init__()
            self.hidden, self.out = Dense(64, activation="relu"), Dense(10)

        def call(self, inputs, training=None):
            return self.out(self.hidden(inputs))

Both train with compile / fit / evaluate / predict (TrainingMixin), and their weights are
whatever their layers hold (tracked from attributes, see tinydl.layers.tracking).
"""

from __future__ import annotations

import inspect

import numpy as np

from tinydl import model_io, tree
from tinydl.layers.base import LAYER_CLASSES, Layer
from tinydl.models import summary as summary_module
from tinydl.models.functional import Graph, graph_from_config
from tinydl.models.training import TrainingMixin


def _functional_arguments(args, kwargs) -> bool:
    return len(args) >= 2 or ("inputs" in kwargs and "outputs" in kwargs) or (
        len(args) == 1 and "outputs" in kwargs)


class Model(TrainingMixin, Layer):
    """A model: Model(inputs, outputs, name=None) for a functional graph, or a subclass
    with call().

    Args:
        inputs: a KerasTensor from Input(...), or a list / dict of them.
        outputs: KerasTensors computed from the inputs by calling layers (list / dict too).
        name: the model's name ('functional', 'functional_1', ... for a functional model;
            the class name in snake case for a subclass).
        trainable: whether the weights of all layers are trained.

    Raises:
        ValueError: the outputs cannot be computed from the inputs (naming the input that is
            missing), or a layer was called on inputs of the wrong shape.

    Example:
        >>> import tinydl
        >>> inputs = tinydl.Input(shape=(3,))
        >>> outputs = tinydl.layers.Dense(2)(tinydl.layers.Dense(4, activation="relu")(inputs))
        >>> model = tinydl.Model(inputs, outputs)
        >>> model.predict(np.ones((5, 3), np.float32), verbose=0).shape, model.count_params()
        ((5, 2), 26)
    """

    _reports_as_layer = False

    def __new__(cls, *args, **kwargs):
        if cls is Model and _functional_arguments(args, kwargs):
            return super().__new__(Functional)
        instance = super().__new__(cls)
        if cls not in (Model, Functional) and cls.__module__ != "tinydl.models.sequential":
            instance._auto_config = _auto_config(cls, args, kwargs)
        return instance

    def __init__(self, *args, **kwargs):
        self._graph = None
        if _functional_arguments(args, kwargs):
            self._init_graph(*args, **kwargs)
            return
        name, trainable = kwargs.pop("name", None), kwargs.pop("trainable", True)
        if args or kwargs:
            raise TypeError(f"{type(self).__name__}: Model() takes inputs and outputs (a "
                            f"functional model), or only name= and trainable= (a subclass). "
                            f"Received: {len(args)} positional arguments and {sorted(kwargs)}")
        super().__init__(name=name, trainable=trainable)

    def _init_graph(self, inputs, outputs, name=None, trainable=True):
        super().__init__(name=name, trainable=trainable)
        self._graph = Graph(inputs, outputs, self.name)
        self._graph_layers = self._graph.layers  # tracked: the model's weights are theirs
        self.inputs = self._graph.flat_inputs
        self.outputs = self._graph.flat_outputs
        self.input_shape = _single(self._graph.inputs, [t.shape for t in self.inputs])
        self.output_shape = _single(self._graph.outputs, [t.shape for t in self.outputs])
        self.built = True

    # ------------------------------------------------------------------ the layers
    @property
    def layers(self) -> list:
        """The layers: for a functional model in graph order, InputLayers first (as Keras);
        for a subclass those held in attributes."""
        if self._graph is not None:  # keras.ops nodes (OpLayers) are no layers, as in Keras
            return [layer for layer in self._graph.layers if not layer._is_operation]
        return self._tracked()[1]

    def get_layer(self, name: str | None = None, index: int | None = None) -> Layer:
        """A layer by name or by index into model.layers.

        Raises:
            ValueError: no layer of that name / index out of range, or neither given.
        """
        if index is not None:
            if name is not None:
                raise ValueError("get_layer: give name or index, not both. "
                                 f"Received: name={name!r}, index={index!r}")
            if not -len(self.layers) <= index < len(self.layers):
                raise ValueError(f"get_layer: index {index} is out of range; model "
                                 f"'{self.name}' has {len(self.layers)} layers")
            return self.layers[index]
        if name is None:
            raise ValueError("get_layer: provide a layer name or index. Received neither")
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise ValueError(f"No such layer: {name}. Existing layers are: "
                         f"{[layer.name for layer in self.layers]}")

    def layer_graph(self) -> list:
        """The GraphNodes plot_model draws: each layer with the layers that feed it (for a
        functional model; a subclass is drawn as the chain of its layers)."""
        from tinydl import model_visualization

        if self._graph is None:
            return model_visualization.layer_graph(_Chain(self.layers))
        nodes = []
        for layer in self._graph.layers:
            feeding = [t.node.layer for node in self._graph.nodes if node.layer is layer
                       for t in node.parents]
            inbound = list(dict.fromkeys(str(id(source)) for source in feeding))
            nodes.append(model_visualization._node_of(layer, inbound))
        return nodes

    def output_names(self) -> list:
        """Names of the outputs (for per-output losses and metrics), in flat order."""
        if self._graph is not None:
            return self._graph.output_names()
        count = len(tree.flatten(self.output_shape, is_leaf=_is_shape)) if self.output_shape else 1
        return [f"output_{i}" for i in range(count)] if count > 1 else ["output_0"]

    # ------------------------------------------------------------------ building and calling
    def call(self, inputs, training=None):
        if self._graph is None:
            raise NotImplementedError(f"{type(self).__name__} must define call(inputs, "
                                      "training=None), or be made as Model(inputs, outputs)")
        return self._graph.run(inputs, training)

    def build(self, input_shape=None) -> None:
        """Build a subclassed model by running call once on zeros of input_shape (batch first)."""
        if self._graph is not None or self.built or type(self).call is Model.call:
            self.built = True  # a model without call (a GAN's train_step) has nothing to run
            return
        if input_shape is None:
            raise ValueError(f"cannot build model '{self.name}' without an input shape: call "
                             "model.build((None, *sample_shape)) or call the model on data")
        self.built = True  # so that the probing call below does not build again
        self.input_shape = input_shape
        self.output_shape = self._probe(input_shape)

    def _build_once(self, input_shape) -> None:
        """A subclass without its own build() is built by its first call (its layers build
        themselves); model.build(shape) called explicitly runs call on zeros instead."""
        if self._graph is None and not self.built and type(self).build is Model.build:
            self.built, self.input_shape = True, input_shape
            return
        super()._build_once(input_shape)

    def compute_output_shape(self, input_shape):
        if self._graph is not None:
            return self.output_shape
        return super().compute_output_shape(input_shape)

    def _input_shape_for_data(self):
        return self.input_shape if self.built else None

    def _symbolic_call(self, inputs, args, kwargs):
        if self._graph is not None:
            self._graph.flat_input_values(inputs)  # the same checks as for data
        return super()._symbolic_call(inputs, args, kwargs)

    def count_params(self) -> int:
        if not self.built:
            raise ValueError(f"model '{self.name}' is not built yet, so it has no parameters to "
                             "count: call model.build(input_shape) or fit it first")
        return super().count_params()

    # ------------------------------------------------------------------ saving and summary
    def save(self, filepath) -> None:
        """Save architecture, compile settings, weights and optimizer state (see tinydl.model_io).

        filepath ends in '.tinydl' (tinydl's format), '.keras' (Keras 3's) or '.h5' (Keras'
        legacy HDF5, with tinydl's own document beside it); see docs/saving.md. Written
        atomically. A subclassed model has no architecture to store (its call is code): use
        save_weights, or '.keras' with its class registered (register_keras_serializable).
        """
        model_io.save_model(self, filepath)

    def save_weights(self, filepath) -> None:
        """Write only the weights, in the same formats as save(), atomically."""
        model_io.save_weights(self, filepath)

    def load_weights(self, filepath, max_bytes: int | None = None, by_name: bool = False,
                     skip_mismatch: bool = False) -> None:
        """Read weights written by save_weights or save (or by Keras); counts and shapes are
        checked first.

        max_bytes caps what the file's arrays may total (default tinydl.saving.MAX_LOAD_BYTES).
        by_name / skip_mismatch: for Keras' legacy '.h5' files, as Keras' (match layers by name;
        skip, with a warning, those whose weights do not fit).
        """
        model_io.load_weights(self, filepath, max_bytes=max_bytes, by_name=by_name,
                              skip_mismatch=skip_mismatch)

    def summary(self, line_length: int | None = None, print_fn=None, profile=None,
                **kwargs) -> None:
        """Print Keras' table of layers, output shapes, parameter counts (and 'Connected to'
        for a functional model).

        An unbuilt model lists its layers with unknown shapes ('?') and '0 (unbuilt)'
        parameters, as Keras does.

        Args:
            line_length: the table's width (default: each column's own).
            print_fn: called with each line (default: print).
            profile: a tinydl.profiler.Profile (`with tinydl.profile() as prof:`): add each
                layer's measured forward and backward time and its share of the profile's time.

        Raises:
            ValueError: the profile ran none of its layers.
            TypeError: profile is not a Profile.
        """
        print_fn = print_fn or print
        for line in summary_module.summary_lines(self, line_length, profile=profile):
            print_fn(line)

    def get_config(self) -> dict:
        """A functional model's graph; for a subclass, as Keras: {'name', 'trainable'}, and when
        the subclass has no get_config of its own, the arguments its __init__ was given (if
        they are all numbers, strings, booleans or None, in lists / dicts)."""
        if self._graph is None:
            config = {"name": self.name, "trainable": self._trainable}
            if type(self).get_config is Model.get_config and getattr(self, "_auto_config", None):
                config.update(self._auto_config)
            return _accepted(type(self), config)
        return {"name": self.name, "trainable": self._trainable, **self._graph.get_config()}

    @property
    def input(self):
        """The model's input KerasTensor(s), as given to Model(inputs, ...)."""
        if self._graph is None:
            return super().input
        return self._graph.inputs

    @property
    def output(self):
        """The model's output KerasTensor(s), as given to Model(..., outputs)."""
        if self._graph is None:
            return super().output
        return self._graph.outputs

    @classmethod
    def from_config(cls, config: dict, custom_objects=None):
        """Rebuild from get_config(): a subclass as cls(**config); a functional model's layers
        from custom_objects ({name: class}) or by class name (layer classes register
        themselves)."""
        if "layers" not in config:  # a subclass: its __init__ takes the config (Keras')
            return cls(**config)
        inputs, outputs = graph_from_config(config, custom_objects)
        return cls(inputs, outputs, name=config.get("name"),
                   trainable=config.get("trainable", True))

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"


_SIMPLE = (str, int, float, bool, type(None))


def _auto_config(cls, args, kwargs):
    """The arguments of cls.__init__ as a dict, when all are simple values (Keras'
    auto-config); None otherwise."""
    try:
        bound = inspect.signature(cls.__init__).bind(None, *args, **kwargs)
    except TypeError:
        return None
    bound.apply_defaults()
    arguments = dict(bound.arguments)
    parameters = inspect.signature(cls.__init__).parameters
    for name, parameter in parameters.items():
        if parameter.kind is parameter.VAR_KEYWORD:
            arguments.update(arguments.pop(name, {}))
        elif parameter.kind is parameter.VAR_POSITIONAL and arguments.pop(name, ()):
            return None
    arguments.pop(next(iter(parameters)), None)  # self
    if not all(isinstance(v, _SIMPLE) for v in tree.flatten(arguments)):
        return None
    return arguments


def _accepted(cls, config: dict) -> dict:
    """config without name / trainable when cls.__init__ cannot take them back."""
    parameters = inspect.signature(cls.__init__).parameters
    if any(p.kind is p.VAR_KEYWORD for p in parameters.values()):
        return config
    return {k: v for k, v in config.items() if k not in ("name", "trainable") or k in parameters}


class _Chain:
    """Layers to draw one after the other (what plot_model does for a list of layers)."""

    def __init__(self, layers):
        self.layers = layers


class Functional(Model):
    """The class of Model(inputs, outputs): a model over a graph of layers (Keras' Functional).

    Example:
        >>> x = tinydl.Input((3,))
        >>> model = tinydl.Model(x, tinydl.layers.Dense(2)(x))
        >>> type(model).__name__, isinstance(model, Functional), isinstance(model, tinydl.Model)
        ('Functional', True, True)
    """


def _is_shape(value) -> bool:
    return isinstance(value, tuple) and all(d is None or isinstance(d, (int, np.integer))
                                            for d in value)


def _single(structure, shapes: list):
    """One shape for a one-tensor structure, else the list of shapes (Keras' input_shape)."""
    return shapes[0] if len(shapes) == 1 and not isinstance(structure, (list, dict)) else shapes


LAYER_CLASSES.pop("Model", None)  # Model itself is never what a file names: Functional is
