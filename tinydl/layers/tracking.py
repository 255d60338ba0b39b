"""Automatic tracking: the sublayers and Variables a layer holds in its attributes, found by looking.

Keras tracks what a layer holds so that weights are never lost:

    class MLPBlock(Layer):
        def __init__(self):
            super().__init__()
            self.linear_1 = Linear(32)              # an attribute
            self.blocks = [Linear(32), Linear(1)]   # a list (or tuple, or dict, nested)
            self.scale = Variable(np.ones(3))       # a Variable assigned directly

Here the attributes are looked through each time they are needed (weights, losses, trainable),
so a layer appended to a list later, or an attribute replaced, is seen as it is now. The order
is Keras': attributes in the order they were first set, lists in order, dicts in insertion
order. The search stops at a Layer (it is a sublayer, with its own attributes) and does not
look inside anything but lists, tuples and dicts.
"""

from __future__ import annotations

import types

# attributes that hold bookkeeping, never weights or sublayers
_SKIPPED = frozenset({"_weights", "_own_losses", "_inbound_nodes", "input_shape_arg",
                      "_parent_path",
                      "optimizer", "history", "_metrics", "_loss_tracker"})


# values that are never a Variable, a Layer or a container of them: skipped at one type lookup
# (a step looks through every layer's attributes several times)
_PLAIN = frozenset({str, int, float, bool, type(None), bytes, complex, types.FunctionType,
                    types.BuiltinFunctionType, types.MethodType})


def tracked(layer, layer_type, variable_type) -> tuple[list, list]:
    """(variables, sublayers) held in layer's attributes, each once, in Keras' order.

    Args:
        layer: the Layer to look through.
        layer_type: the class Layer (passed in, as this module is imported by the one that
            defines it).
        variable_type: the class Variable, likewise.

    Returns:
        (variables, sublayers): the Variables and Layers found directly in the attributes,
        or in lists, tuples and dicts in them; a sublayer is not looked into.

    Example:
        >>> from tinydl import Layer, Variable
        >>> class Block(Layer):
        ...     def __init__(self):
        ...         super().__init__()
        ...         self.first = tinydl.layers.Dense(2, name="first")
        ...         self.rest = {"a": [tinydl.layers.Dense(1, name="second")]}
        ...         self.scale = Variable(np.ones(3, "float32"))
        ...         self.again = self.first                     # counted once
        >>> variables, sublayers = tracked(Block(), Layer, Variable)
        >>> [v.shape for v in variables], [layer.name for layer in sublayers]
        ([(3,)], ['first', 'second'])
    """
    variables, sublayers, seen = [], [], {id(layer)}
    pending = [value for name, value in vars(layer).items() if name not in _SKIPPED]
    pending.reverse()
    while pending:
        value = pending.pop()
        kind = type(value)
        if kind in _PLAIN:
            continue
        if kind is tuple and all(type(v) in _PLAIN for v in value):
            continue  # a shape, strides, a kernel size
        if isinstance(value, (list, tuple, dict)):
            if id(value) in seen:
                continue
            seen.add(id(value))
        if isinstance(value, (list, tuple)):
            pending.extend(reversed(value))
        elif isinstance(value, dict):
            pending.extend(reversed(list(value.values())))
        elif id(value) in seen:
            continue
        elif isinstance(value, layer_type):
            seen.add(id(value))
            sublayers.append(value)
        elif isinstance(value, variable_type):
            seen.add(id(value))
            variables.append(value)
    return variables, sublayers
