"""Embedding: turn integer ids (a word's index in the vocabulary) into learned vectors."""

from __future__ import annotations

import warnings

import numpy as np

from tinydl.layers import _args
from tinydl.layers.base import Layer
from tinydl.ops.embedding import EmbeddingLookup

_FLOAT32_EXACT_INTS = 2 ** 24  # ids reach layers as float32, which holds every int up to this


class Embedding(Layer):
    """A lookup table: outputs[..., :] = embeddings[inputs[...]].

    Args:
        input_dim: V, the vocabulary size; ids must be in [0, V).
        output_dim: D, the length of each vector.
        embeddings_initializer: Keras' default 'uniform' (in [-0.05, 0.05]).
        embeddings_regularizer: e.g. tinydl.regularizers.l2(1e-5).
        mask_zero: id 0 is padding: the output carries the mask inputs != 0, which the layers
            after it honour (an LSTM skips those steps, GlobalAveragePooling1D leaves them out).
        weights: an initial (V, D) table (or a list holding one), as Keras.

    Shapes:
        inputs (N, T) of integer ids (any shape S) -> (N, T, D) (S + (D,)); embeddings (V, D).

    Example:
        >>> Embedding(1000, 8)(np.array([[4, 20, 7]])).shape
        (1, 3, 8)
    """

    supports_masking = True

    def __init__(self, input_dim: int, output_dim: int, embeddings_initializer="uniform",
                 embeddings_regularizer=None, mask_zero: bool = False, weights=None, **kwargs):
        if kwargs.pop("input_length", None) is not None:
            warnings.warn("Argument `input_length` is deprecated. Just remove it.", stacklevel=2)
        super().__init__(**kwargs)
        self.input_dim = _args.positive_int(input_dim, "input_dim", "Embedding")
        self.output_dim = _args.positive_int(output_dim, "output_dim", "Embedding")
        if self.input_dim > _FLOAT32_EXACT_INTS:
            raise ValueError(f"Embedding: input_dim must be at most 2**24 = {_FLOAT32_EXACT_INTS}: "
                             "ids travel as float32, which cannot hold larger ints exactly. "
                             f"Received: input_dim={input_dim}")
        _args.set_weight_options(self, embeddings_initializer=embeddings_initializer,
                                 embeddings_regularizer=embeddings_regularizer)
        self.mask_zero = bool(mask_zero)
        if weights is not None:
            self.build_for((None, None))
            self.set_weights(weights if isinstance(weights, list) else [weights])

    def build(self, input_shape):
        self.embeddings = self.add_weight("embeddings", (self.input_dim, self.output_dim),
                                          self.embeddings_initializer,
                                          regularizer=self.embeddings_regularizer)

    def call(self, inputs):
        return EmbeddingLookup.apply(self.embeddings, self._ids(inputs.data))

    def _ids(self, values: np.ndarray) -> np.ndarray:
        """values as int64 ids, or ValueError for a non-integer or out-of-range one."""
        ids = values.astype(np.int64)
        if values.size and not np.array_equal(ids, values):
            bad = values[ids != values].flat[0]
            raise ValueError(f"Embedding expects integer ids. Received: {bad!r}")
        if ids.size and (ids.min() < 0 or ids.max() >= self.input_dim):
            bad = ids[(ids < 0) | (ids >= self.input_dim)].flat[0]
            raise ValueError(f"Embedding: ids must be in [0, input_dim={self.input_dim}). "
                             f"Received: id {bad} (inputs of shape {values.shape})")
        return ids

    def compute_mask(self, inputs, mask=None):
        return inputs.data != 0 if self.mask_zero else None

    def compute_output_shape(self, input_shape):
        return tuple(input_shape) + (self.output_dim,)

    def get_config(self):
        return {**super().get_config(), "input_dim": self.input_dim,
                "output_dim": self.output_dim, "mask_zero": self.mask_zero,
                **_args.weight_options_config(self, "embeddings")}
