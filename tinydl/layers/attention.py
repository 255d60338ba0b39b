"""MultiHeadAttention (Vaswani et al., 2017) with Keras' arguments, masks and weight layout."""

from __future__ import annotations

import numpy as np

from tinydl import functional as F, ops
from tinydl.layers import _args, masking
from tinydl.layers.base import Layer
from tinydl.rng import get_rng
from tinydl.tensor import Tensor

_LARGE_NEGATIVE = -1e9  # what Keras' masked softmax adds to a masked score (float32)


class MultiHeadAttention(Layer):
    """Scaled dot-product attention in num_heads heads, each with its own projections:

        q = query @ Wq + bq,  k = key @ Wk + bk,  v = value @ Wv + bv      (per head)
        scores = softmax(q k^T / sqrt(key_dim), masked),  out = concat_heads(scores v) @ Wo + bo

    Args:
        num_heads: H. key_dim: K, the size of each head's query and key.
        value_dim: each head's value size (default key_dim). dropout: on the attention scores.
        use_bias: add the biases. output_shape: the output's last size (default: query's).
        kernel_initializer, bias_initializer, kernel_regularizer, bias_regularizer: as Dense.
        seed: for the dropout. attention_axes: the inner axes attention runs over (None: all
            but batch and features); the others act as batch axes. Masks are then refused.

    Call arguments:
        query (N, T, Dq), value (N, S, Dv), key (N, S, Dk; default value);
        attention_mask: bool (N, T, S), True where query step t may attend to key step s;
        the inputs' own masks (Embedding(mask_zero=True)) are merged into it, as Keras does.
        return_attention_scores: also return the scores (N, H, T, S). use_causal_mask: step t
        attends to steps <= t only.

    Weights (Keras' layout, so they copy across): query/kernel (Dq, H, K), query/bias (H, K),
    key/kernel (Dk, H, K), key/bias (H, K), value/kernel (Dv, H, V), value/bias (H, V),
    attention_output/kernel (H, V, Dout), attention_output/bias (Dout,). They are created at
    the first call, when the key's and value's sizes are known.

    Example:
        >>> mha = MultiHeadAttention(num_heads=2, key_dim=4)
        >>> query, value = np.ones((1, 3, 8), np.float32), np.ones((1, 5, 8), np.float32)
        >>> out, scores = mha(query, value, return_attention_scores=True)
        >>> out.shape, scores.shape
        ((1, 3, 8), (1, 2, 3, 5))
    """

    supports_masking = True

    def __init__(self, num_heads: int, key_dim: int, value_dim=None, dropout: float = 0.0,
                 use_bias: bool = True, output_shape=None, attention_axes=None,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, seed=None, **kwargs):
        kwargs.pop("flash_attention", None)  # an accelerator switch in Keras; no effect here
        super().__init__(**kwargs)
        self.num_heads = _args.positive_int(num_heads, "num_heads", "MultiHeadAttention")
        self.key_dim = _args.positive_int(key_dim, "key_dim", "MultiHeadAttention")
        self.value_dim = self.key_dim if value_dim is None else _args.positive_int(
            value_dim, "value_dim", "MultiHeadAttention")
        if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) \
                or not 0.0 <= dropout < 1.0:
            raise ValueError(f"MultiHeadAttention: dropout must be a float in [0, 1). Received: "
                             f"dropout={dropout!r}")
        self.attention_axes = _axes(attention_axes)
        if isinstance(output_shape, (tuple, list)):
            output_shape = output_shape[0] if len(output_shape) == 1 else output_shape
        self.output_shape_arg = None if output_shape is None else _args.positive_int(
            output_shape, "output_shape", "MultiHeadAttention")
        self.dropout, self.use_bias, self.seed = float(dropout), bool(use_bias), seed
        self._rng = None if seed is None else np.random.default_rng(seed)
        _args.set_weight_options(self, kernel_initializer=kernel_initializer,
                                 bias_initializer=bias_initializer,
                                 kernel_regularizer=kernel_regularizer,
                                 bias_regularizer=bias_regularizer)
        self._projections = None

    # ------------------------------------------------------------------ weights
    def build(self, query_shape, value_shape=None, key_shape=None):
        if value_shape is not None:
            self._create_weights(query_shape[-1], value_shape[-1],
                                 (key_shape if key_shape is not None else value_shape)[-1])

    def _create_weights(self, query_dim: int, value_dim: int, key_dim: int) -> None:
        h, k, v = self.num_heads, self.key_dim, self.value_dim
        out = self.output_shape_arg or query_dim
        self._projections = {}
        for name, shape, bias in (("query", (query_dim, h, k), (h, k)), ("key", (key_dim, h, k), (h, k)),
                                  ("value", (value_dim, h, v), (h, v)),
                                  ("attention_output", (h, v, out), (out,))):
            kernel = self.add_weight(f"{name}/kernel", shape, self.kernel_initializer,
                                     regularizer=self.kernel_regularizer)
            b = self.add_weight(f"{name}/bias", bias, self.bias_initializer,
                                regularizer=self.bias_regularizer) if self.use_bias else None
            self._projections[name] = (kernel, b)

    # ------------------------------------------------------------------ calling
    def call(self, query, value, key=None, attention_mask=None, return_attention_scores=False,
             training=None, use_causal_mask=False, query_mask=None, value_mask=None,
             key_mask=None):
        value = value if isinstance(value, Tensor) else Tensor(value)
        key = value if key is None else (key if isinstance(key, Tensor) else Tensor(key))
        self._check_inputs(query, value, key)
        if self._projections is None:
            self._create_weights(query.shape[-1], value.shape[-1], key.shape[-1])
        for name, x in (("query", query), ("value", value), ("key", key)):
            expected = self._projections[name][0].shape[0]
            if x.shape[-1] != expected:
                raise ValueError(f"MultiHeadAttention '{self.name}' was built for {name} with "
                                 f"{expected} features. Received: {name} of shape {x.shape}")
        if query.ndim > 3 or self.attention_axes not in (None, (1,)):
            return self._attend_over_axes(query, value, key, return_attention_scores, training,
                                          (attention_mask, use_causal_mask, query_mask,
                                           value_mask, key_mask))
        mask = self._attention_mask(query, value, key, attention_mask, use_causal_mask,
                                    query_mask, value_mask, key_mask)
        q = self._project("query", query) * (1.0 / np.sqrt(self.key_dim))
        k, v = self._project("key", key), self._project("value", value)
        scores = q @ ops.transpose(k, (0, 1, 3, 2))                     # (N, H, T, S)
        if mask is not None:
            scores = scores + (1.0 - mask[:, None].astype(scores.dtype)) * _LARGE_NEGATIVE
        scores = F.softmax(scores, axis=-1)
        dropped = F.dropout(scores, self.dropout, bool(training), rng=self._rng or get_rng())
        heads = ops.transpose(dropped @ v, (0, 2, 1, 3))                # (N, T, H, V)
        output = self._output(heads)
        return (output, scores) if return_attention_scores else output

    def _attend_over_axes(self, query, value, key, return_scores, training, masks):
        """attention_axes, for inputs (N, *inner, D): the inner axes not attended over act as
        batch axes; the attended ones are flattened into one query and one key axis, the
        attention runs as for sequences, and the results are laid out back as Keras':
        output (N, *inner, Dout), scores (N, *batch_axes, H, *query_axes, *key_axes)."""
        if any(m is not None and m is not False for m in masks) or any(
                masking.get_mask(x) is not None for x in (query, value, key)):
            raise NotImplementedError("MultiHeadAttention: masks (attention_mask, causal or "
                                      "the inputs' own) with attention_axes are not implemented")
        rank = query.ndim + 1  # the projections' rank: (N, *inner, H, K)
        axes = self.attention_axes or tuple(range(1, rank - 2))
        axes = tuple(sorted(a if a >= 0 else query.ndim + a for a in axes))  # as Keras counts
        if any(not 1 <= a <= rank - 3 for a in axes):
            raise ValueError(f"MultiHeadAttention: attention_axes must name inner axes of the "
                             f"inputs (1 to {rank - 3}). Received: attention_axes="
                             f"{self.attention_axes} for query of shape {query.shape}")
        batch = tuple(a for a in range(1, rank - 2) if a not in axes)
        perm = (0,) + batch + (rank - 2,) + axes + (rank - 1,)
        q, qs = _grouped(self._project_raw("query", query), perm, len(batch))
        (k, ks), (v, _) = (_grouped(self._project_raw(name, x), perm, len(batch))
                           for name, x in (("key", key), ("value", value)))
        scores = F.softmax((q * (1.0 / np.sqrt(self.key_dim))) @ ops.transpose(k, (0, 1, 3, 2)),
                           axis=-1)
        dropped = F.dropout(scores, self.dropout, bool(training), rng=self._rng or get_rng())
        heads = ops.reshape(dropped @ v, qs[:-1] + (self.value_dim,))
        heads = ops.transpose(heads, tuple(np.argsort(perm)))        # (N, *inner, H, V)
        output = self._output(heads)
        if not return_scores:
            return output
        lead = qs[:len(batch) + 2]  # N, *batch, H
        return output, ops.reshape(scores, lead + qs[len(batch) + 2:-1] + ks[len(batch) + 2:-1])

    def _project_raw(self, name: str, x):
        """x (N, *inner, D) -> (N, *inner, H, K): one GEMM for all heads."""
        kernel, bias = self._projections[name]
        y = ops.reshape(x, (-1, x.shape[-1])) @ ops.reshape(kernel, (kernel.shape[0], -1))
        if bias is not None:
            y = y + ops.reshape(bias, (-1,))
        return ops.reshape(y, tuple(x.shape[:-1]) + tuple(kernel.shape[1:]))

    def _check_inputs(self, query, value, key):
        for name, x in (("query", query), ("value", value), ("key", key)):
            if x.ndim != query.ndim or x.ndim < 3:
                raise ValueError(f"MultiHeadAttention expects {name} of shape (batch, steps, "
                                 f"features) or (batch, *axes, features), of query's rank. "
                                 f"Received: {name} of shape {x.shape}")
        if value.shape[:-1] != key.shape[:-1] or query.shape[0] != value.shape[0]:
            raise ValueError("All dimensions of `value` and `key`, except the last one, must be "
                             f"equal, and the batch sizes must agree. Received: query {query.shape}, "
                             f"value {value.shape}, key {key.shape}")

    def _project(self, name: str, x):
        """x (N, T, D) -> (N, H, T, K): one GEMM for all heads."""
        kernel, bias = self._projections[name]
        n, steps, d = x.shape
        y = ops.reshape(x, (n * steps, d)) @ ops.reshape(kernel, (d, -1))
        if bias is not None:
            y = y + ops.reshape(bias, (-1,))
        return ops.transpose(ops.reshape(y, (n, steps) + kernel.shape[1:]), (0, 2, 1, 3))

    def _output(self, heads):
        """heads (N, *inner, H, V) -> (N, *inner, Dout)."""
        kernel, bias = self._projections["attention_output"]
        inner = tuple(heads.shape[:-2])
        y = ops.reshape(heads, (-1, kernel.shape[0] * kernel.shape[1])) @ ops.reshape(
            kernel, (-1, kernel.shape[-1]))
        if bias is not None:
            y = y + bias
        return ops.reshape(y, inner + (kernel.shape[-1],))

    def _attention_mask(self, query, value, key, attention_mask, use_causal_mask,
                        query_mask, value_mask, key_mask):
        """(N, T, S) bool: the given mask AND the inputs' masks (and the causal one), or None."""
        n, t_steps, s_steps = query.shape[0], query.shape[1], value.shape[1]
        query_mask = masking.get_mask(query) if query_mask is None else query_mask
        value_mask = masking.get_mask(value) if value_mask is None else value_mask
        if key_mask is None and key is not value:
            key_mask = masking.get_mask(key)
        parts = []
        if query_mask is not None:
            parts.append(masking.check_mask(query_mask, query.shape, self.name)[:, :, None])
        for m, x in ((value_mask, value), (key_mask, key)):
            if m is not None:
                parts.append(masking.check_mask(m, x.shape, self.name)[:, None, :])
        if use_causal_mask:
            parts.append(np.tril(np.ones((t_steps, s_steps), bool))[None])
        if attention_mask is not None:
            given = masking.as_mask(attention_mask)
            if given.shape[-2:] != (t_steps, s_steps) or given.ndim != 3:
                raise ValueError(f"MultiHeadAttention: attention_mask must have shape (batch, "
                                 f"{t_steps}, {s_steps}). Received: shape {given.shape}")
            parts.append(given)
        if not parts:
            return None
        mask = np.ones((n, t_steps, s_steps), bool)
        for part in parts:
            mask = mask & part
        return mask

    # ------------------------------------------------------------------ shapes and config
    def compute_output_shape(self, query_shape, value_shape=None, key_shape=None):
        return tuple(query_shape[:-1]) + (self.output_shape_arg or query_shape[-1],)

    def get_config(self):
        return {**super().get_config(), "num_heads": self.num_heads, "key_dim": self.key_dim,
                "value_dim": self.value_dim, "dropout": self.dropout, "use_bias": self.use_bias,
                "output_shape": self.output_shape_arg,
                "attention_axes": None if self.attention_axes is None else list(self.attention_axes),
                "seed": self.seed,
                **_args.weight_options_config(self, "kernel", "bias")}


def _axes(attention_axes):
    """None, or attention_axes as a tuple of ints (an int is one axis), as Keras takes it."""
    if attention_axes is None:
        return None
    axes = (attention_axes,) if isinstance(attention_axes, int) else attention_axes
    if not isinstance(axes, (tuple, list)) or not axes or any(
            isinstance(a, bool) or not isinstance(a, int) for a in axes):
        raise ValueError("MultiHeadAttention: attention_axes must be None, an int or a tuple of "
                         f"ints. Received: attention_axes={attention_axes!r}")
    return tuple(axes)


def _grouped(x, perm, batch_axes: int):
    """x (N, *inner, H, K) -> ((N * prod(batch), H, prod(attended), K), the permuted shape)."""
    x = ops.transpose(x, perm)
    shape = tuple(x.shape)
    lead = int(np.prod(shape[:1 + batch_axes]))
    heads, size = shape[1 + batch_axes], shape[-1]
    return ops.reshape(x, (lead, heads, -1, size)), shape
