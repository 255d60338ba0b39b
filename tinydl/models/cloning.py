"""clone_model: a model of the same architecture with new layers (and new weights), as Keras'."""

from __future__ import annotations

from tinydl.layers.base import Layer
from tinydl.layers.input_layer import InputLayer
from tinydl.models.functional import graph_from_config
from tinydl.models.model import Model
from tinydl.models.sequential import Sequential


def _fresh_copy(layer: Layer) -> Layer:
    """Keras' default clone_function: the layer rebuilt from its config (new weights)."""
    return type(layer).from_config(layer.get_config())


def clone_model(model, input_tensors=None, clone_function=None, call_function=None, recursive: bool = False,
                **kwargs):
    """A new model with the architecture of `model`: every layer replaced by
    clone_function(layer) (default: rebuilt from its config, so weights are newly initialized,
    not copied; copy them with set_weights(model.get_weights())).

    Args:
        model: a Sequential or functional Model (a subclassed model needs get_config/from_config).
        clone_function: layer -> new layer; it may return the layer itself to share it.
        recursive: also clone the layers inside nested models (else clone_function gets the
            nested model whole).
        input_tensors, call_function: not implemented in tinydl (they raise if given).

    Returns:
        The new, unbuilt-weights-copied model, of the same class.

    Raises:
        NotImplementedError: input_tensors or call_function given.
        TypeError: model is not a Model, or clone_function returns something not a Layer.

    Example:
        >>> model = tinydl.Sequential([tinydl.Input((3,)), tinydl.layers.Dense(2)])
        >>> clone = clone_model(model)
        >>> clone.layers[0] is model.layers[0], clone.count_params() == model.count_params()
        (False, True)
    """
    if input_tensors is not None or call_function is not None or kwargs:
        raise NotImplementedError("clone_model: input_tensors, call_function and other options are not "
                                  f"implemented in tinydl. Received: input_tensors={input_tensors!r}, "
                                  f"call_function={call_function!r}, {sorted(kwargs)}")
    if not isinstance(model, Model):
        raise TypeError(f"clone_model expects a tinydl Model. Received: {type(model).__name__}")
    clone = clone_function or _fresh_copy

    def cloned(layer):
        if recursive and isinstance(layer, Model) and not isinstance(layer, InputLayer):
            return clone_model(layer, clone_function=clone_function, recursive=True)
        new = clone(layer)
        if not isinstance(new, Layer):
            raise TypeError(f"clone_function must return a Layer. Received: {new!r} for layer '{layer.name}'")
        return new

    if isinstance(model, Sequential):
        first = [model._layers[0]] if model._layers and isinstance(model._layers[0], InputLayer) else []
        return Sequential([_fresh_copy(layer) for layer in first] + [cloned(layer) for layer in model.layers],
                          name=model.name, trainable=model.trainable)
    if model._graph is None:
        return type(model).from_config(model.get_config())
    config = model.get_config()
    by_name = {layer.name: layer for layer in model._graph.layers}
    layers = [cloned(by_name[entry["config"]["name"]]) if entry["class_name"] != "InputLayer"
              else _fresh_copy(by_name[entry["config"]["name"]]) for entry in config["layers"]]
    inputs, outputs = graph_from_config(config, layers=layers)
    return type(model)(inputs, outputs, name=model.name, trainable=model.trainable)
