"""The functional API's graph: from a model's output KerasTensors back to its inputs, run in topological order.

    inputs = Input(shape=(32,))
    x = Dense(64, activation="relu")(inputs)
    outputs = Add()([x, Dense(64)(inputs)])          # a residual connection
    model = Model(inputs, outputs)                   # a Functional model over a Graph

Every layer call on KerasTensors recorded a Node (tinydl.layers.symbolic). Graph walks those
Nodes from the outputs back to the inputs once, depth first, and keeps them in an order where
each Node comes after the Nodes that made its inputs. Running the model is a plain walk of
that list: each layer is called on the values of its input tensors, except the chains the
fusion pass (tinydl/fusion.py, plan_nodes) runs as fused steps.
"""

from __future__ import annotations

from tinydl import fusion, tree
from tinydl.layers.base import custom_object_scope, find_layer_class
from tinydl.layers.symbolic import KerasTensor


def _check_tensors(structure, what: str) -> list:
    flat = tree.flatten(structure)
    for leaf in flat:
        if not isinstance(leaf, KerasTensor):
            raise TypeError(f"Model: every {what} must be a KerasTensor (from keras.Input(...) "
                            f"or a layer called on one). Received: {leaf!r}")
    if not flat:
        raise ValueError(f"Model: {what} is empty. Received: {structure!r}")
    return flat


def _input_layer_name(tensor) -> str:
    return tensor.node.layer.name if tensor.node is not None else tensor.name


class Graph:
    """The Nodes between a model's inputs and outputs, in topological order.

    Args:
        inputs: the KerasTensor structure of the model's inputs.
        outputs: the KerasTensor structure of its outputs.
        model_name: the model's name, for messages.

    Attributes:
        inputs, outputs: the KerasTensor structures the model was made with.
        flat_inputs, flat_outputs: the same as lists (dicts in sorted key order).
        nodes: the Nodes to run, each after the Nodes of its inputs (not the InputLayers').
        layers: the model's layers: InputLayers of the inputs, then each layer once, in
            the order of nodes (Keras' model.layers for a functional model).

    Raises:
        ValueError: an output depends on a KerasTensor that is not among the inputs (its
            Input is named), or the inputs are not KerasTensors.

    Example:
        >>> x = tinydl.Input((3,), name="x")
        >>> h = tinydl.layers.Dense(4, name="h")(x)
        >>> y = tinydl.layers.Add(name="skip")([tinydl.layers.Dense(4, name="g")(h), h])
        >>> graph = Graph(x, y, "demo")
        >>> [layer.name for layer in graph.layers], graph.output_names()
        (['x', 'h', 'g', 'skip'], ['skip'])
        >>> graph.run(np.ones((2, 3), np.float32), training=False).shape
        (2, 4)
    """

    def __init__(self, inputs, outputs, model_name: str):
        self.inputs, self.outputs = inputs, outputs
        self.flat_inputs = _check_tensors(inputs, "input")
        self.flat_outputs = _check_tensors(outputs, "output")
        visited, first_seen = self._depth_first(model_name)
        input_ids = {id(t) for t in self.flat_inputs}
        self.nodes = [node for node in visited if not node.is_input and
                      not any(id(t) in input_ids for t in node.flat_outputs)]
        self.layers = self._layers_by_depth(visited, first_seen)

    def _depth_first(self, model_name: str) -> tuple:
        """(nodes after their parents, in depth-first order from the outputs, InputLayers'
        included; {id(layer): the order it was first reached in})."""
        input_ids = {id(t) for t in self.flat_inputs}
        order, done, first_seen = [], set(), {}
        stack = [(t, False) for t in reversed(self.flat_outputs)]
        while stack:
            tensor, expanded = stack.pop()
            node = tensor.node
            if node is None or (node.is_input and id(tensor) not in input_ids):
                names = [_input_layer_name(t) for t in self.flat_inputs]
                raise ValueError(
                    f"Model '{model_name}': the outputs cannot be computed from the inputs "
                    f"{names}: they depend on the input '{_input_layer_name(tensor)}' "
                    f"(shape {tensor.shape}), which is not among them. Add it to inputs=, or "
                    "build the outputs from the given inputs")
            if id(node) in done:
                continue
            first_seen.setdefault(id(node.layer), len(first_seen))
            if expanded or id(tensor) in input_ids:
                done.add(id(node))
                order.append(node)
                continue
            stack.append((tensor, True))
            stack.extend((parent, False) for parent in reversed(node.parents))
        return order, first_seen

    def _layers_by_depth(self, nodes: list, first_seen: dict) -> list:
        """Each layer once, deepest first (depth: layers between it and an output, the
        largest over its calls), ties in depth-first order: Keras' model.layers order."""
        node_depth, layer_depth = {}, {}
        node_ids = {id(node) for node in nodes}
        for node in reversed(nodes):
            depth = max(node_depth.get(id(node), 0), layer_depth.get(id(node.layer), 0))
            layer_depth[id(node.layer)] = depth
            for parent in node.parents:
                if id(parent.node) in node_ids:
                    node_depth[id(parent.node)] = max(node_depth.get(id(parent.node), 0), depth + 1)
        layers = {id(node.layer): node.layer for node in nodes}
        for tensor in self.flat_inputs:  # an input no output uses is still a layer (depth 0)
            if tensor.node is not None and id(tensor.node.layer) not in layers:
                layers[id(tensor.node.layer)] = tensor.node.layer
                layer_depth[id(tensor.node.layer)], first_seen[id(tensor.node.layer)] = 0, -1
        return sorted(layers.values(), key=lambda layer: (-layer_depth[id(layer)],
                                                          first_seen[id(layer)]))

    # ------------------------------------------------------------------ running
    def flat_input_values(self, values) -> list:
        """The model's input data as a list in flat_inputs order.

        Accepts the structure the model was made with, a dict keyed by input names, or for
        a one-input model the value itself (or a one-item list).
        """
        count = len(self.flat_inputs)
        if isinstance(self.inputs, dict) or (isinstance(values, dict) and count > 1):
            if not isinstance(values, dict):
                raise ValueError(f"this model takes a dict of inputs {self.input_names()}. "
                                 f"Received: {type(values).__name__}")
            names = self.input_names()
            missing = [n for n in names if n not in values]
            if missing:
                raise ValueError(f"the inputs {missing} are missing. Expected keys {names}, "
                                 f"received keys {sorted(values)}")
            return [values[n] for n in names]
        if count == 1:
            if isinstance(values, (list, tuple)) and len(values) == 1:
                return [values[0]]
            if isinstance(values, dict) and len(values) == 1:
                return list(values.values())
            return [values]
        flat = tree.flatten(values)
        if len(flat) != count:
            raise ValueError(f"this model has {count} inputs {self.input_names()}, but received "
                             f"{len(flat)} arrays")
        return flat

    def input_names(self) -> list:
        if isinstance(self.inputs, dict):
            return sorted(self.inputs)
        return [_input_layer_name(t) for t in self.flat_inputs]

    def output_names(self) -> list:
        """Names of the outputs, in flat order: dict keys, or the layers that made them."""
        if isinstance(self.outputs, dict):
            return sorted(self.outputs)
        names = [t.node.layer.name for t in self.flat_outputs]
        return [n if names.count(n) == 1 else f"{n}_{i}" for i, n in enumerate(names)]

    def run(self, values, training):
        """Call every layer on the values of its inputs; return the outputs' structure."""
        computed = {}
        for tensor, value in zip(self.flat_inputs, self.flat_input_values(values)):
            layer = tensor.node.layer if tensor.node is not None and tensor.node.is_input else None
            computed[id(tensor)] = layer(value) if layer is not None else value
        for step in fusion.plan_nodes(self.nodes, self.flat_outputs, training):
            if isinstance(step, fusion.FusedNodes):  # a chain the fusion pass runs as one step
                computed[id(step.output)] = step(*(computed[id(t)] for t in step.inputs),
                                                 training=training)
                continue
            args = tree.map_structure(
                lambda v: computed[id(v)] if isinstance(v, KerasTensor) else v, list(step.args))
            kwargs = tree.map_structure(
                lambda v: computed[id(v)] if isinstance(v, KerasTensor) else v, step.kwargs)
            out = step.layer(*args, training=training, **kwargs)
            for tensor, value in zip(step.flat_outputs, tree.flatten(out)):
                computed[id(tensor)] = value
        return tree.map_structure(lambda t: computed[id(t)], self.outputs)

    # ------------------------------------------------------------------ config
    def get_config(self) -> dict:
        """{'layers': [...], 'nodes': [{'layer': i, 'args': ..., 'kwargs': ...}], 'inputs',
        'outputs'}; a KerasTensor is written as {'node': k, 'index': i}: output i of node k,
        where nodes are numbered InputLayers first, then nodes in order."""
        all_nodes = [t.node for t in self.flat_inputs] + self.nodes
        number = {id(node): k for k, node in enumerate(all_nodes)}
        layer_index = {id(layer): i for i, layer in enumerate(self.layers)}

        def encode(value):
            if isinstance(value, KerasTensor):
                return {"node": number[id(value.node)], "index": value.index}
            return value

        for tensor in self.flat_inputs:
            if tensor.node is None or not tensor.node.is_input:
                raise ValueError("a model whose inputs are not keras.Input(...) tensors cannot be "
                                 "saved; make it from Input tensors")
        return {
            "layers": [{"class_name": type(layer).__name__, "config": layer.get_config()}
                       for layer in self.layers],
            "nodes": [{"layer": layer_index[id(node.layer)],
                       "args": tree.map_structure(encode, list(node.args)),
                       "kwargs": tree.map_structure(encode, node.kwargs)} for node in self.nodes],
            "inputs": tree.map_structure(lambda t: layer_index[id(t.node.layer)], self.inputs),
            "outputs": tree.map_structure(encode, self.outputs),
        }


def graph_from_config(config: dict, custom_objects=None, layers=None) -> tuple:
    """(inputs, outputs) KerasTensors rebuilt from Graph.get_config().

    The layers are made from custom_objects or tinydl's registry of classes (or given, one per
    config entry, as clone_model does), then called again, node by node.

    Args:
        config: a dict from Graph.get_config().
        custom_objects: {name: class} for your own layer classes.
        layers: the layers to use, one per config["layers"] entry; None makes them from
            the config.

    Returns:
        (inputs, outputs): KerasTensor structures, as given to Model(inputs, outputs).

    Raises:
        ValueError: an unknown layer class.

    Example:
        >>> x = tinydl.Input((3,), name="x")
        >>> y = tinydl.layers.Dense(2, name="d")(tinydl.layers.Dense(4, name="h")(x))
        >>> config = Graph(x, y, "demo").get_config()
        >>> [entry["class_name"] for entry in config["layers"]], config["outputs"]
        (['InputLayer', 'Dense', 'Dense'], {'node': 2, 'index': 0})
        >>> inputs, outputs = graph_from_config(config)
        >>> inputs.shape, outputs.shape, outputs.node.layer.name
        ((None, 3), (None, 2), 'd')
    """
    with custom_object_scope(custom_objects):
        return _graph_from_config(config, layers)


def _graph_from_config(config: dict, layers=None) -> tuple:
    if layers is None:
        layers = []
        for entry in config["layers"]:
            cls = find_layer_class(entry["class_name"])
            if cls is None:
                raise ValueError(f"unknown layer class {entry['class_name']!r}")
            layers.append(cls.from_config(entry["config"]))
    inputs = tree.map_structure(lambda i: layers[i].output, config["inputs"])
    made = [t.node for t in tree.flatten(inputs)]

    def decode(value):
        if isinstance(value, dict) and set(value) == {"node", "index"}:
            return made[value["node"]].flat_outputs[value["index"]]
        return value

    for entry in config["nodes"]:
        layer = layers[entry["layer"]]
        args = [_decode_structure(a, decode) for a in entry["args"]]
        kwargs = {k: _decode_structure(v, decode) for k, v in entry.get("kwargs", {}).items()}
        layer(*args, **kwargs)
        made.append(layer._inbound_nodes[-1])
    outputs = _decode_structure(config["outputs"], decode)
    return inputs, outputs


def _decode_structure(value, decode):
    if isinstance(value, dict) and set(value) == {"node", "index"}:
        return decode(value)
    if isinstance(value, dict):
        return {k: _decode_structure(v, decode) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_decode_structure(v, decode) for v in value)
    return value
