"""Recurrent layers with Keras' weights and gate orders: SimpleRNN, LSTM and GRU.

Each reads a batch of sequences (N, T, D) and runs its cell over the T steps. The common
case (Keras' default activations, no recurrent dropout while training) runs as one node per
layer (tinydl/ops/recurrent.py): the input projection of all steps in one GEMM, then the
time loop with one GEMM per step and the gates fused in C. Any other configuration runs the
same cell step by step in tinydl ops (slower, same results), which is also the readable
definition:

    LSTM:  z = x_t @ kernel + h @ recurrent_kernel + bias;  i, f, c~, o = split(z, 4)
           c = sigmoid(f) * c + sigmoid(i) * tanh(c~);     h = sigmoid(o) * tanh(c)

Masks (Embedding(mask_zero=True), or mask=...) hold a sample's state through its padded steps.
stateful=True keeps each call's final states (layer.states, (N, U) arrays) as the next call's
initial states, for a fixed batch size, until reset_states().
"""

from __future__ import annotations

import numpy as np

from tinydl import activations, initializers, ops
from tinydl.layers import _args, masking
from tinydl.layers.base import Layer
from tinydl.ops.recurrent import GRUSequence, LSTMSequence, SimpleRNNSequence
from tinydl.rng import get_rng
from tinydl.tensor import Tensor


def _rate(value, name: str, layer: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value < 1.0:
        raise ValueError(f"{layer}: {name} must be a float in [0, 1). Received: {name}={value!r}")
    return float(value)


class _RNN(Layer):
    """What SimpleRNN, LSTM and GRU share: arguments, states, masks, outputs, config.

    Subclasses set _gates (blocks of U columns in the kernels) and _state_count, and define
    _bias_shape, _fused (may the fused node run?), _run_fused and _run_steps.
    """

    supports_masking = True
    _gates = 1
    _state_count = 1

    @property
    def _variable_scope(self) -> str:
        """Keras keeps an RNN's weights in its cell: their paths are 'lstm/lstm_cell/kernel'."""
        return {"SimpleRNN": "simple_rnn_cell", "LSTM": "lstm_cell", "GRU": "gru_cell"}.get(
            type(self).__name__, "cell")

    def __init__(self, units: int, activation="tanh", use_bias: bool = True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", kernel_regularizer=None, recurrent_regularizer=None,
                 bias_regularizer=None, dropout: float = 0.0, recurrent_dropout: float = 0.0,
                 seed=None, return_sequences: bool = False, return_state: bool = False,
                 go_backwards: bool = False, stateful: bool = False, unroll: bool = False,
                 zero_output_for_mask: bool = False, **kwargs):
        kwargs.pop("implementation", None)  # Keras' choice of matmul grouping: same results
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
        self.dropout = _rate(dropout, "dropout", where)
        self.recurrent_dropout = _rate(recurrent_dropout, "recurrent_dropout", where)
        self.seed = seed
        self._rng = None if seed is None else np.random.default_rng(seed)
        self.return_sequences, self.return_state = bool(return_sequences), bool(return_state)
        self.go_backwards, self.stateful = bool(go_backwards), bool(stateful)
        self.states = None  # stateful: the last call's final states, (N, U) arrays
        self.unroll = bool(unroll)  # accepted for Keras; the loop is the same either way
        self.zero_output_for_mask = bool(zero_output_for_mask)

    # ------------------------------------------------------------------ weights
    def build(self, input_shape):
        if len(input_shape) != 3 or input_shape[-1] is None:
            raise ValueError(f"{type(self).__name__} expects input of shape (batch, timesteps, "
                             f"features) with known features. Received: input_shape="
                             f"{tuple(input_shape)}")
        width = self._gates * self.units
        self.kernel = self.add_weight("kernel", (input_shape[-1], width), self.kernel_initializer,
                                      regularizer=self.kernel_regularizer)
        self.recurrent_kernel = self.add_weight("recurrent_kernel", (self.units, width),
                                                self.recurrent_initializer,
                                                regularizer=self.recurrent_regularizer)
        self.bias = self.add_weight("bias", self._bias_shape(), self._bias_init(),
                                    regularizer=self.bias_regularizer) if self.use_bias else None
        if self.stateful and input_shape[0] is not None:
            self._build_states(input_shape[0])

    def build_for(self, input_shape) -> tuple:
        """As Layer.build_for; a stateful layer in a model needs the batch size (as Keras).
        (Called on an array it takes the array's batch size at its first call.)"""
        if self.stateful and tuple(input_shape)[0] is None:
            self._build_states(None)  # raises
        return super().build_for(input_shape)

    # ------------------------------------------------------------------ stateful=True
    def _build_states(self, batch_size) -> None:
        """Zero states for a fixed batch size (Keras: stateful needs a static batch size)."""
        if batch_size is None:
            raise ValueError(f"{type(self).__name__}: when using `stateful=True` in a RNN, the "
                             "batch size must be static (pass Input(batch_size=...) or "
                             "batch_shape=...). Found dynamic batch size: sequence.shape="
                             f"(None, ...)")
        self.states = [np.zeros((int(batch_size), self.units), np.float32)
                       for _ in range(self._state_count)]

    def reset_state(self) -> None:
        """Set the carried states of a stateful layer to zeros (as Keras' reset_state)."""
        if self.states is not None:
            self.states = [np.zeros_like(s) for s in self.states]

    def reset_states(self) -> None:
        """Keras' older name for reset_state()."""
        self.reset_state()

    def _stateful_initial(self, initial_state, n: int):
        """The carried states when the call gives none; checks the batch size."""
        if self.states is None:
            self._build_states(n)
        if n != self.states[0].shape[0]:
            raise ValueError(f"If an RNN is stateful, the batch size of the input sequences "
                             f"must be the same as the batch size of the initial state. "
                             f"Expected batch size: {self.states[0].shape[0]}. Received batch "
                             f"size: {n}")
        return initial_state if initial_state is not None else list(self.states)

    def _bias_shape(self) -> tuple:
        return (self._gates * self.units,)

    def _bias_init(self):
        return self.bias_initializer

    # ------------------------------------------------------------------ calling
    def call(self, sequences, initial_state=None, mask=None, training=None):
        where = type(self).__name__
        if sequences.ndim != 3 or sequences.shape[2] != self.kernel.shape[0]:
            raise ValueError(f"{where} expects input of shape (batch, timesteps, "
                             f"{self.kernel.shape[0]}). Received: shape {sequences.shape}")
        if sequences.shape[1] == 0:
            raise ValueError(f"{where} needs at least one time step. Received: shape "
                             f"{sequences.shape}")
        mask = masking.check_mask(mask, sequences.shape, where)
        if self.stateful:
            initial_state = self._stateful_initial(initial_state, sequences.shape[0])
        states = self._initial_states(initial_state, sequences.shape[0], sequences.dtype)
        x = sequences[:, ::-1] if self.go_backwards else sequences
        mask = None if mask is None or mask.all() else (mask[:, ::-1] if self.go_backwards
                                                        else mask)
        x_tm = ops.transpose(x, (1, 0, 2))
        mask_tm = None if mask is None else np.ascontiguousarray(mask.T)
        training = bool(training)
        if self._fused(training):
            hs, finals = self._run_fused(self._input_dropout(x_tm, training), states, mask_tm)
        else:
            hs, finals = self._run_steps(x_tm, states, mask_tm, training)
        if self.stateful:  # the next call starts here (a value: no gradient flows back)
            self.states = [np.array(f.data, copy=True) for f in finals]
        return self._outputs(hs, finals, mask_tm)

    def _initial_states(self, initial_state, n: int, dtype) -> list:
        if initial_state is None:
            return [Tensor(np.zeros((n, self.units), dtype)) for _ in range(self._state_count)]
        states = list(initial_state) if isinstance(initial_state, (list, tuple)) else [initial_state]
        states = [s if isinstance(s, Tensor) else Tensor(s, dtype=dtype) for s in states]
        if len(states) != self._state_count or any(s.shape != (n, self.units) for s in states):
            raise ValueError(f"{type(self).__name__}: initial_state must be {self._state_count} "
                             f"tensor(s) of shape (batch, units) = {(n, self.units)}. Received: "
                             f"{[s.shape for s in states]}")
        return states

    def _draw(self, shape, rate: float, dtype):
        """A dropout mask: 0 with probability rate, else 1 / (1 - rate)."""
        rng = self._rng if self._rng is not None else get_rng()
        return ((rng.random(shape) >= rate) / (1.0 - rate)).astype(dtype)

    def _input_dropout(self, x_tm, training: bool):
        """Keras' dropout: one mask per sample and feature, the same at every step."""
        if not (training and self.dropout):
            return x_tm
        return x_tm * self._draw((1,) + x_tm.shape[1:], self.dropout, x_tm.dtype)

    def _step_masks(self, shape, rate: float, training: bool, dtype, count: int):
        """count masks of shape for the step-by-step loop, or Nones when not dropping."""
        if not (training and rate):
            return [None] * count
        return [self._draw(shape, rate, dtype) for _ in range(count)]

    def _outputs(self, hs, finals, mask_tm):
        """The call's result from hs (T, N, U) and the final states.

        The output at a padded step is the previous output (zeros before the first real step),
        or zeros with zero_output_for_mask (as Bidirectional sets when returning sequences).
        """
        if mask_tm is not None:
            keep = mask_tm if self.zero_output_for_mask else np.logical_or.accumulate(mask_tm, 0)
            if not keep.all():
                hs = hs * keep[:, :, None].astype(hs.dtype)
        out = ops.transpose(hs, (1, 0, 2)) if self.return_sequences else hs[hs.shape[0] - 1]
        return [out] + list(finals) if self.return_state else out

    @staticmethod
    def _hold(mask_tm, t: int, new, old):
        """new for the samples whose step t is real, old for the padded ones."""
        if mask_tm is None or mask_tm[t].all():
            return new
        keep = mask_tm[t][:, None].astype(new.dtype)
        return new * keep + old * (1 - keep)

    # ------------------------------------------------------------------ shapes and config
    def compute_output_shape(self, input_shape):
        n, steps = input_shape[0], input_shape[1]
        out = (n, steps, self.units) if self.return_sequences else (n, self.units)
        if self.return_state:
            return [out] + [(n, self.units)] * self._state_count
        return out

    def compute_mask(self, inputs, mask=None):
        out = mask if self.return_sequences else None
        return [out] + [None] * self._state_count if self.return_state else out

    def macs_per_sample(self, input_shape):
        """T * (D + U) * G * U: the input projection and the recurrent GEMM of every step."""
        steps, d = input_shape[1], input_shape[-1]
        return 0 if None in (steps, d) else steps * (d + self.units) * self._gates * self.units

    def get_config(self):
        return {**super().get_config(), "units": self.units,
                "activation": activations.name_of(self.activation), "use_bias": self.use_bias,
                **_args.weight_options_config(self, "kernel", "recurrent", "bias"),
                "dropout": self.dropout, "recurrent_dropout": self.recurrent_dropout,
                "seed": self.seed, "return_sequences": self.return_sequences,
                "return_state": self.return_state, "go_backwards": self.go_backwards,
                "stateful": self.stateful, "unroll": self.unroll,
                "zero_output_for_mask": self.zero_output_for_mask}


class SimpleRNN(_RNN):
    """A fully connected RNN: h_t = activation(x_t @ kernel + h_{t-1} @ recurrent_kernel + bias).

    Args: as Keras' SimpleRNN (units, activation='tanh', use_bias, initializers, regularizers,
    dropout, recurrent_dropout, seed, return_sequences, return_state, go_backwards, unroll,
    stateful: the final states carried into the next call, reset_states() zeroes them).

    Shapes:
        inputs (N, T, D) -> (N, U), or (N, T, U) with return_sequences; kernel (D, U),
        recurrent_kernel (U, U), bias (U,). return_state adds the final state (N, U).

    Example:
        >>> x = np.ones((2, 5, 3), np.float32)
        >>> SimpleRNN(4)(x).shape, SimpleRNN(4, return_sequences=True)(x).shape
        ((2, 4), (2, 5, 4))
    """

    def _fused(self, training: bool) -> bool:
        return self.activation is ops.tanh and not (training and self.recurrent_dropout)

    def _run_fused(self, x_tm, states, mask_tm):
        hs = SimpleRNNSequence.apply(x_tm, self.kernel, self.recurrent_kernel, self.bias,
                                     states[0], mask_tm)
        return hs, [hs[hs.shape[0] - 1]]

    def _run_steps(self, x_tm, states, mask_tm, training):
        x_tm = self._input_dropout(x_tm, training)
        xw = x_tm @ self.kernel + (self.bias if self.bias is not None else 0.0)
        (rec_mask,) = self._step_masks(states[0].shape, self.recurrent_dropout, training,
                                       x_tm.dtype, 1)
        h, hs = states[0], []
        for t in range(x_tm.shape[0]):
            h_in = h if rec_mask is None else h * rec_mask
            h = self._hold(mask_tm, t, self.activation(xw[t] + h_in @ self.recurrent_kernel), h)
            hs.append(h)
        return ops.stack(hs, 0), [h]


class LSTM(_RNN):
    """Long Short-Term Memory (Hochreiter and Schmidhuber, 1997), with Keras' weights.

    Args: as Keras' LSTM: units, activation='tanh', recurrent_activation='sigmoid', use_bias,
    kernel_initializer, recurrent_initializer='orthogonal', bias_initializer, unit_forget_bias
    (forget-gate bias starts at 1), regularizers, dropout, recurrent_dropout, seed,
    return_sequences, return_state, go_backwards, unroll, use_cudnn ('auto' or False).

    Shapes:
        inputs (N, T, D) -> (N, U) or (N, T, U); kernel (D, 4U), recurrent_kernel (U, 4U), bias
        (4U,), gate blocks in Keras' order i, f, c, o. return_state adds h and c (N, U).
        Parameters: 4 * (D*U + U*U + U), e.g. LSTM(64) on 128 features has 49,408.

    Example:
        >>> output, h, c = LSTM(4, return_state=True)(np.ones((2, 5, 3), np.float32))
        >>> output.shape, h.shape, c.shape
        ((2, 4), (2, 4), (2, 4))
    """

    _gates, _state_count = 4, 2

    def __init__(self, units: int, activation="tanh", recurrent_activation="sigmoid",
                 unit_forget_bias: bool = True, use_cudnn="auto", **kwargs):
        super().__init__(units, activation=activation, **kwargs)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.unit_forget_bias = bool(unit_forget_bias)
        self.use_cudnn = _use_cudnn(use_cudnn, "LSTM")

    def _bias_init(self):
        if not self.unit_forget_bias:
            return self.bias_initializer
        base, u = initializers.get(self.bias_initializer), self.units
        return lambda shape, dtype=np.float32: np.concatenate(
            [base((u,), dtype), np.ones(u, dtype), base((2 * u,), dtype)])

    def _fused(self, training: bool) -> bool:
        return (self.activation is ops.tanh and self.recurrent_activation is ops.sigmoid
                and not (training and self.recurrent_dropout))

    def _run_fused(self, x_tm, states, mask_tm):
        u, last = self.units, x_tm.shape[0] - 1
        if mask_tm is None and not self.return_sequences:  # only the last step is needed
            final = LSTMSequence.apply(x_tm, self.kernel, self.recurrent_kernel, self.bias,
                                       states[0], states[1], None, last_only=True)
            h = final[:, :u]
            return ops.reshape(h, (1,) + h.shape), [h, final[:, u:]]
        out = LSTMSequence.apply(x_tm, self.kernel, self.recurrent_kernel, self.bias, states[0],
                                 states[1], mask_tm)
        return out[:, :, :u], [out[last, :, :u], out[last, :, u:]]

    def _run_steps(self, x_tm, states, mask_tm, training):
        xw = _gate_projections(self, x_tm, training)
        rec = self._step_masks(states[0].shape, self.recurrent_dropout, training, x_tm.dtype, 4)
        act, rec_act = self.activation, self.recurrent_activation
        (h, c), hs = states, []
        for t in range(x_tm.shape[0]):
            i, f, g, o = _gate_sums(self, xw, t, h, rec)
            c_new = rec_act(f) * c + rec_act(i) * act(g)
            h_new = rec_act(o) * act(c_new)
            h, c = self._hold(mask_tm, t, h_new, h), self._hold(mask_tm, t, c_new, c)
            hs.append(h)
        return ops.stack(hs, 0), [h, c]

    def get_config(self):
        return {**super().get_config(),
                "recurrent_activation": activations.name_of(self.recurrent_activation),
                "unit_forget_bias": self.unit_forget_bias, "use_cudnn": self.use_cudnn}


class GRU(_RNN):
    """Gated Recurrent Unit (Cho et al., 2014), with Keras' weights and reset_after=True default.

    Args: as Keras' GRU: units, activation='tanh', recurrent_activation='sigmoid', use_bias,
    initializers, regularizers, dropout, recurrent_dropout, seed, return_sequences,
    return_state, go_backwards, unroll, reset_after, use_cudnn ('auto' or False).

    Shapes:
        inputs (N, T, D) -> (N, U) or (N, T, U); kernel (D, 3U), recurrent_kernel (U, 3U),
        gate blocks z, r, h; bias (2, 3U) (input and recurrent bias) with reset_after, else (3U,).

    Example:
        >>> GRU(4, return_sequences=True)(np.ones((2, 5, 3), np.float32)).shape
        (2, 5, 4)
    """

    _gates = 3

    def __init__(self, units: int, activation="tanh", recurrent_activation="sigmoid",
                 reset_after: bool = True, use_cudnn="auto", **kwargs):
        super().__init__(units, activation=activation, **kwargs)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.reset_after = bool(reset_after)
        self.use_cudnn = _use_cudnn(use_cudnn, "GRU")

    def _bias_shape(self):
        return (2, 3 * self.units) if self.reset_after else (3 * self.units,)

    def _fused(self, training: bool) -> bool:
        return (self.reset_after and self.activation is ops.tanh
                and self.recurrent_activation is ops.sigmoid
                and not (training and self.recurrent_dropout))

    def _run_fused(self, x_tm, states, mask_tm):
        hs = GRUSequence.apply(x_tm, self.kernel, self.recurrent_kernel, self.bias, states[0],
                               mask_tm)
        return hs, [hs[hs.shape[0] - 1]]

    def _run_steps(self, x_tm, states, mask_tm, training):
        u = self.units
        input_bias = recurrent_bias = None
        if self.bias is not None:
            input_bias, recurrent_bias = ((self.bias[0], self.bias[1]) if self.reset_after
                                          else (self.bias, None))
        xw = _gate_projections(self, x_tm, training, input_bias)
        rec = self._step_masks(states[0].shape, self.recurrent_dropout, training, x_tm.dtype, 3)
        rk, act, rec_act = self.recurrent_kernel, self.activation, self.recurrent_activation
        h, hs = states[0], []
        for t in range(x_tm.shape[0]):
            h_in = [h if m is None else h * m for m in rec]
            inner = [h_in[k] @ rk[:, k * u:(k + 1) * u] for k in range(3 if self.reset_after else 2)]
            if recurrent_bias is not None:
                inner = [part + recurrent_bias[k * u:(k + 1) * u] for k, part in enumerate(inner)]
            z = rec_act(_gate(xw, t, 0, u) + inner[0])
            r = rec_act(_gate(xw, t, 1, u) + inner[1])
            recurrent_h = r * inner[2] if self.reset_after else (r * h_in[2]) @ rk[:, 2 * u:]
            h_new = z * h + (1 - z) * act(_gate(xw, t, 2, u) + recurrent_h)
            h = self._hold(mask_tm, t, h_new, h)
            hs.append(h)
        return ops.stack(hs, 0), [h]

    def get_config(self):
        return {**super().get_config(),
                "recurrent_activation": activations.name_of(self.recurrent_activation),
                "reset_after": self.reset_after, "use_cudnn": self.use_cudnn}


# ----------------------------------------------------------------------------- step-by-step helpers

def _use_cudnn(value, layer: str):
    if value not in ("auto", True, False):
        raise ValueError(f"{layer}: use_cudnn must be one of 'auto', True, False. Received: "
                         f"use_cudnn={value!r}")
    if value is True:
        raise ValueError(f"{layer}: use_cudnn=True was specified, but tinydl has no cuDNN (it runs "
                         "on the CPU). Pass use_cudnn='auto' or False")
    return value


def _gate_projections(layer, x_tm, training, bias="layer"):
    """x_tm @ kernel + bias, as one (T, N, G*U) Tensor, or, when training with recurrent
    dropout (Keras' implementation 1), one (T, N, U) projection per gate, each of the input
    times its own dropout mask."""
    bias = layer.bias if bias == "layer" else bias
    if not (training and layer.recurrent_dropout):
        x_tm = layer._input_dropout(x_tm, training)
        return x_tm @ layer.kernel + (bias if bias is not None else 0.0)
    u = layer.units
    masks = layer._step_masks((1,) + x_tm.shape[1:], layer.dropout, training, x_tm.dtype,
                              layer._gates)
    parts = []
    for k, m in enumerate(masks):
        part = (x_tm if m is None else x_tm * m) @ layer.kernel[:, k * u:(k + 1) * u]
        parts.append(part + bias[k * u:(k + 1) * u] if bias is not None else part)
    return parts


def _gate(xw, t: int, k: int, u: int):
    """Gate k's input projection at step t: (N, U)."""
    return xw[k][t] if isinstance(xw, list) else xw[t][:, k * u:(k + 1) * u]


def _gate_sums(layer, xw, t, h, rec_masks):
    """The LSTM's four pre-activations at step t: x projection + h (dropped per gate) @ rk."""
    u, rk = layer.units, layer.recurrent_kernel
    if all(m is None for m in rec_masks):
        z = h @ rk
        return [_gate(xw, t, k, u) + z[:, k * u:(k + 1) * u] for k in range(4)]
    return [_gate(xw, t, k, u) + (h * m) @ rk[:, k * u:(k + 1) * u] for k, m in enumerate(rec_masks)]
