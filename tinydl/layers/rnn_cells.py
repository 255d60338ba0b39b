"""Recurrent cells and the generic RNN layer that runs one over time: Keras' cell API.

A cell is a layer with a `state_size` (an int, or a list of ints: one per state) whose
call(inputs, states) reads one step's inputs (N, D) and its states (a list of (N, size)
tensors) and returns (output (N, output_size), new_states). `RNN(cell)` runs the cell over
the T steps of (N, T, D) sequences, step by step in tinydl ops (the readable loop; the
SimpleRNN, LSTM and GRU layers run the same equations fused in C). Weights are Keras': a
cell's kernel (D, G*U), recurrent_kernel (U, G*U) and bias, so they copy across.
Any layer with state_size and call(inputs, states) works as a cell, as in Keras.
"""

from __future__ import annotations

import numpy as np

from tinydl import activations, initializers, ops
from tinydl.layers import _args, masking
from tinydl.layers.base import Layer
from tinydl.layers.wrappers import _deserialize, _serialize
from tinydl.tensor import Tensor


class _Cell(Layer):
    """What SimpleRNNCell, LSTMCell and GRUCell share: arguments and weights."""

    _gates = 1

    def __init__(self, units: int, activation="tanh", use_bias: bool = True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", kernel_regularizer=None, recurrent_regularizer=None,
                 bias_regularizer=None, dropout: float = 0.0, recurrent_dropout: float = 0.0,
                 seed=None, **kwargs):
        super().__init__(**kwargs)
        where = type(self).__name__
        self.units = _args.positive_int(units, "units", where)
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        _args.set_weight_options(self, kernel_initializer=kernel_initializer,
                                 recurrent_initializer=recurrent_initializer,
                                 bias_initializer=bias_initializer,
                                 kernel_regularizer=kernel_regularizer,
                                 recurrent_regularizer=recurrent_regularizer,
                                 bias_regularizer=bias_regularizer)
        if dropout or recurrent_dropout:
            raise NotImplementedError(f"{where}: dropout and recurrent_dropout are not "
                                      "implemented for cells; use the SimpleRNN, LSTM or GRU "
                                      f"layer. Received: dropout={dropout}, recurrent_dropout="
                                      f"{recurrent_dropout}")
        self.dropout, self.recurrent_dropout, self.seed = 0.0, 0.0, seed
        self.output_size = self.units

    def build(self, input_shape):
        width = self._gates * self.units
        self.kernel = self.add_weight("kernel", (input_shape[-1], width), self.kernel_initializer,
                                      regularizer=self.kernel_regularizer)
        self.recurrent_kernel = self.add_weight("recurrent_kernel", (self.units, width),
                                                self.recurrent_initializer,
                                                regularizer=self.recurrent_regularizer)
        self.bias = self.add_weight("bias", self._bias_shape(), self._bias_init(),
                                    regularizer=self.bias_regularizer) if self.use_bias else None

    def _bias_shape(self) -> tuple:
        return (self._gates * self.units,)

    def _bias_init(self):
        return self.bias_initializer

    def _projection(self, inputs, h):
        z = inputs @ self.kernel + h @ self.recurrent_kernel
        return z + self.bias if self.bias is not None else z

    def get_initial_state(self, batch_size: int) -> list:
        sizes = self.state_size if isinstance(self.state_size, list) else [self.state_size]
        return [Tensor(np.zeros((batch_size, s), np.float32)) for s in sizes]

    def get_config(self):
        return {**super().get_config(), "units": self.units,
                "activation": activations.name_of(self.activation), "use_bias": self.use_bias,
                **_args.weight_options_config(self, "kernel", "recurrent", "bias"),
                "dropout": self.dropout, "recurrent_dropout": self.recurrent_dropout,
                "seed": self.seed}


class SimpleRNNCell(_Cell):
    """One step of SimpleRNN: h = activation(x @ kernel + h_prev @ recurrent_kernel + bias).

    Shapes: inputs (N, D), states [(N, U)] -> (h (N, U), [h]).

    Example:
        >>> cell = SimpleRNNCell(4)
        >>> h, states = cell(np.ones((2, 3), np.float32), [np.zeros((2, 4), np.float32)])
        >>> h.shape, len(states)
        ((2, 4), 1)
    """

    @property
    def state_size(self):
        return self.units

    def call(self, inputs, states, training=None):
        h = states[0] if isinstance(states, (list, tuple)) else states
        out = self.activation(self._projection(inputs, h))
        return out, [out] if isinstance(states, (list, tuple)) else out


class LSTMCell(_Cell):
    """One step of LSTM (Keras' gate order i, f, c, o; see tinydl.layers.LSTM).

    Shapes: inputs (N, D), states [h (N, U), c (N, U)] -> (h, [h, c]).

    Example:
        >>> cell = LSTMCell(4)
        >>> zeros = np.zeros((2, 4), np.float32)
        >>> h, (h2, c) = cell(np.ones((2, 3), np.float32), [zeros, zeros])
        >>> h.shape, c.shape
        ((2, 4), (2, 4))
    """

    _gates = 4

    def __init__(self, units: int, activation="tanh", recurrent_activation="sigmoid",
                 unit_forget_bias: bool = True, **kwargs):
        kwargs.pop("implementation", None)
        super().__init__(units, activation=activation, **kwargs)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.unit_forget_bias = bool(unit_forget_bias)

    @property
    def state_size(self):
        return [self.units, self.units]

    def _bias_init(self):
        if not self.unit_forget_bias:
            return self.bias_initializer
        base, u = initializers.get(self.bias_initializer), self.units
        return lambda shape, dtype=np.float32: np.concatenate(
            [base((u,), dtype), np.ones(u, dtype), base((2 * u,), dtype)])

    def call(self, inputs, states, training=None):
        h, c = states
        u, z = self.units, self._projection(inputs, h)
        i, f, g, o = (z[:, k * u:(k + 1) * u] for k in range(4))
        rec, act = self.recurrent_activation, self.activation
        c = rec(f) * c + rec(i) * act(g)
        h = rec(o) * act(c)
        return h, [h, c]

    def get_config(self):
        return {**super().get_config(),
                "recurrent_activation": activations.name_of(self.recurrent_activation),
                "unit_forget_bias": self.unit_forget_bias}


class GRUCell(_Cell):
    """One step of GRU with reset_after=True (Keras' default; gate order z, r, h).

    Shapes: inputs (N, D), states [(N, U)] -> (h (N, U), [h]); bias (2, 3U): the input
    bias, then the recurrent one.

    Example:
        >>> cell = GRUCell(4)
        >>> h, _ = cell(np.ones((2, 3), np.float32), [np.zeros((2, 4), np.float32)])
        >>> h.shape
        (2, 4)
    """

    _gates = 3

    def __init__(self, units: int, activation="tanh", recurrent_activation="sigmoid",
                 reset_after: bool = True, **kwargs):
        kwargs.pop("implementation", None)
        super().__init__(units, activation=activation, **kwargs)
        if not reset_after:
            raise NotImplementedError("GRUCell: only reset_after=True (Keras' default) is "
                                      f"implemented. Received: reset_after={reset_after!r}")
        self.recurrent_activation = activations.get(recurrent_activation)
        self.reset_after = True

    @property
    def state_size(self):
        return self.units

    def _bias_shape(self) -> tuple:
        return (2, 3 * self.units)

    def call(self, inputs, states, training=None):
        h = states[0] if isinstance(states, (list, tuple)) else states
        u = self.units
        x, inner = inputs @ self.kernel, h @ self.recurrent_kernel
        if self.bias is not None:
            x, inner = x + self.bias[0], inner + self.bias[1]
        rec = self.recurrent_activation
        z = rec(x[:, :u] + inner[:, :u])
        r = rec(x[:, u:2 * u] + inner[:, u:2 * u])
        hh = self.activation(x[:, 2 * u:] + r * inner[:, 2 * u:])
        out = z * h + (1 - z) * hh
        return out, [out] if isinstance(states, (list, tuple)) else out

    def get_config(self):
        return {**super().get_config(),
                "recurrent_activation": activations.name_of(self.recurrent_activation),
                "reset_after": self.reset_after}


class StackedRNNCells(Layer):
    """Cells run one after the other within each step: cell k reads cell k-1's output.

    Its states are the cells' states in order, each cell's as it gives them (Keras' nesting:
    state_size is the list of the cells' state sizes).

    Example:
        >>> rnn = RNN(StackedRNNCells([SimpleRNNCell(4), LSTMCell(3)]))
        >>> rnn(np.ones((2, 5, 6), np.float32)).shape
        (2, 3)
    """

    def __init__(self, cells, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(cells, (list, tuple)) or not cells:
            raise ValueError(f"StackedRNNCells expects a non-empty list of cells. Received: "
                             f"cells={cells!r}")
        for cell in cells:
            _check_cell(cell, "StackedRNNCells")
        self.cells = list(cells)

    @property
    def state_size(self):
        return [cell.state_size for cell in self.cells]

    @property
    def output_size(self):
        last = self.cells[-1]
        return getattr(last, "output_size", _sizes(last.state_size)[0])

    def build(self, input_shape):
        for cell in self.cells:
            _build_cell(cell, input_shape)
            input_shape = tuple(input_shape[:-1]) + (getattr(
                cell, "output_size", _sizes(cell.state_size)[0]),)

    def call(self, inputs, states, training=None):
        new_states = []
        for cell, cell_states in zip(self.cells, states):
            inputs, cell_states = cell(inputs, cell_states)
            new_states.append(cell_states)
        return inputs, new_states

    def get_initial_state(self, batch_size: int) -> list:
        return [_initial_states(cell, batch_size) for cell in self.cells]

    def get_config(self):
        return {**super().get_config(), "cells": [_serialize(cell) for cell in self.cells]}

    @classmethod
    def from_config(cls, config: dict):
        return cls(**{**config, "cells": [_deserialize(c) for c in config["cells"]]})


class RNN(Layer):
    """Run a cell over time: the generic recurrent layer of Keras.

    Args:
        cell: a cell (state_size and call(inputs, states)), or a list of cells (stacked).
        return_sequences, return_state, go_backwards, stateful, unroll, zero_output_for_mask:
            as Keras' RNN (stateful keeps the final states for the next call).

    Shapes:
        inputs (N, T, D) -> (N, O) or (N, T, O) with return_sequences (O: the cell's
        output_size); return_state adds the final states, nested as the cell gives them (a
        list per cell for stacked cells), as Keras returns them.

    Example:
        >>> RNN(LSTMCell(4), return_sequences=True)(np.ones((2, 5, 3), np.float32)).shape
        (2, 5, 4)
    """

    supports_masking = True

    def __init__(self, cell, return_sequences: bool = False, return_state: bool = False,
                 go_backwards: bool = False, stateful: bool = False, unroll: bool = False,
                 zero_output_for_mask: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.cell = StackedRNNCells(cell) if isinstance(cell, (list, tuple)) else cell
        _check_cell(self.cell, "RNN")
        self.return_sequences, self.return_state = bool(return_sequences), bool(return_state)
        self.go_backwards, self.stateful = bool(go_backwards), bool(stateful)
        self.unroll, self.zero_output_for_mask = bool(unroll), bool(zero_output_for_mask)
        self.states = None

    def build(self, input_shape):
        if len(input_shape) != 3:
            raise ValueError(f"RNN expects input of shape (batch, timesteps, features). "
                             f"Received: input_shape={tuple(input_shape)}")
        _build_cell(self.cell, (input_shape[0], input_shape[-1]))

    def call(self, sequences, initial_state=None, mask=None, training=None):
        sequences = sequences if isinstance(sequences, Tensor) else Tensor(sequences)
        n, steps = sequences.shape[0], sequences.shape[1]
        mask = masking.check_mask(mask, sequences.shape, "RNN")
        states = self._start(initial_state, n)
        order = range(steps - 1, -1, -1) if self.go_backwards else range(steps)
        outputs, output = [], None
        for t in order:
            new_output, new_states = self.cell(sequences[:, t], states)
            keep = None if mask is None or mask[:, t].all() else mask[:, t][:, None]
            if keep is not None:  # a padded step keeps the states and the last output
                new_states = _hold_nested(keep, new_states, states)
                previous = output if output is not None else new_output * 0.0
                new_output = _hold(keep, new_output, 0.0 * previous if
                                   self.zero_output_for_mask else previous)
            output, states = new_output, new_states
            outputs.append(output)
        if self.stateful:
            self.states = [np.array(s.data, copy=True) for s in _flat(states)]
        out = ops.stack(outputs, 1) if self.return_sequences else output
        return [out] + list(states) if self.return_state else out  # nested as the cell's

    def _start(self, initial_state, n: int):
        """The states to start from: given, carried (stateful), or the cell's zeros."""
        if initial_state is None and self.stateful and self.states is not None:
            initial_state = self.states
        if initial_state is None:
            return _initial_states(self.cell, n)
        flat = [s if isinstance(s, Tensor) else Tensor(np.asarray(s, np.float32))
                for s in (initial_state if isinstance(initial_state, (list, tuple))
                          else [initial_state])]
        return _nest_like(self.cell.state_size, flat)

    def reset_state(self) -> None:
        """Zero the carried states of a stateful RNN."""
        if self.states is not None:
            self.states = [np.zeros_like(s) for s in self.states]

    def reset_states(self) -> None:
        """Keras' older name for reset_state()."""
        self.reset_state()

    def compute_mask(self, inputs, mask=None):
        out = mask if self.return_sequences else None
        count = len(self.cell.state_size) if isinstance(self.cell.state_size, (list, tuple)) \
            else 1
        return [out] + [None] * count if self.return_state else out

    @classmethod
    def from_config(cls, config: dict):
        return cls(**{**config, "cell": _deserialize(config["cell"])})

    def get_config(self):
        return {**super().get_config(), "cell": _serialize(self.cell),
                "return_sequences": self.return_sequences,
                "return_state": self.return_state, "go_backwards": self.go_backwards,
                "stateful": self.stateful, "unroll": self.unroll,
                "zero_output_for_mask": self.zero_output_for_mask}


# ----------------------------------------------------------------------------- helpers

def _check_cell(cell, where: str) -> None:
    if not hasattr(cell, "call") or not hasattr(cell, "state_size"):
        raise ValueError(f"{where}: a cell must have a `call` method and a `state_size` "
                         f"attribute. Received: cell={cell!r}")


def _build_cell(cell, step_shape) -> None:
    if isinstance(cell, Layer) and not cell.built:
        cell.build(tuple(step_shape))
        cell.built = True


def _sizes(state_size) -> list:
    """The flat list of state sizes of a (possibly nested) state_size."""
    if isinstance(state_size, (list, tuple)):
        return [s for part in state_size for s in _sizes(part)]
    return [int(state_size)]


def _initial_states(cell, n: int):
    if hasattr(cell, "get_initial_state"):
        return cell.get_initial_state(batch_size=n)
    sizes = cell.state_size if isinstance(cell.state_size, (list, tuple)) else [cell.state_size]
    return [Tensor(np.zeros((n, s), np.float32)) for s in sizes]


def _flat(states) -> list:
    if isinstance(states, (list, tuple)):
        return [s for part in states for s in _flat(part)]
    return [states]


def _nest_like(state_size, flat: list):
    """flat states arranged as state_size nests them (a list per stacked cell)."""
    if not isinstance(state_size, (list, tuple)):
        return [flat.pop(0)] if flat else []
    nested = []
    for part in state_size:
        nested.append(_nest_like(part, flat) if isinstance(part, (list, tuple))
                      else flat.pop(0))
    return nested


def _hold(keep, new, old):
    keep = keep.astype(new.dtype) if hasattr(new, "dtype") else keep.astype(np.float32)
    return new * keep + old * (1.0 - keep)


def _hold_nested(keep, new, old):
    if isinstance(new, (list, tuple)):
        return [_hold_nested(keep, a, b) for a, b in zip(new, old)]
    return _hold(keep, new, old)
