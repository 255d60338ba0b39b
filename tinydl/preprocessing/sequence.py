"""pad_sequences: lists of variable-length sequences into one (N, maxlen) array, as Keras."""

from __future__ import annotations

import numpy as np

PAD_SIDES = ("pre", "post")


def pad_sequences(sequences, maxlen=None, dtype="int32", padding="pre", truncating="pre",
                  value=0.0) -> np.ndarray:
    """Pad (or cut) every sequence to one length, as keras.utils.pad_sequences.

    Args:
        sequences: a list (or other sized iterable) of sequences: lists or arrays of
            numbers, each of shape (length_i,) or (length_i, ...) with one trailing shape.
        maxlen: the output length; None for the longest sequence's length.
        dtype: the output dtype (default 'int32'); object or a string dtype for text.
        padding: 'pre' (default: values before each sequence) or 'post' (after).
        truncating: 'pre' (default: drop values from the start of longer sequences) or 'post'.
        value: what the padding holds (default 0), cast to dtype.

    Returns:
        (N, maxlen) + trailing shape, of dtype.

    Example:
        >>> pad_sequences([[1, 2, 3], [4]], maxlen=2, padding="post")
        array([[2, 3],
               [4, 0]], dtype=int32)
    """
    if not hasattr(sequences, "__len__"):
        raise ValueError(f"`sequences` must be a list of sequences. Received: {type(sequences).__name__}")
    for name, side in (("padding", padding), ("truncating", truncating)):
        if side not in PAD_SIDES:
            raise ValueError(f"`{name}` must be 'pre' or 'post'. Received: {name}={side!r}")
    if maxlen is not None and (isinstance(maxlen, bool) or not isinstance(maxlen, (int, np.integer))
                               or maxlen < 0):
        raise ValueError(f"`maxlen` must be None or an int >= 0. Received: maxlen={maxlen!r}")
    lengths, sample_shape = _lengths_and_sample_shape(sequences)
    dtype = np.dtype(dtype)
    if isinstance(value, str) and dtype.kind not in "OUS":
        raise ValueError(f"`dtype` {dtype} is not compatible with `value`'s type: str. Use "
                         "dtype=object for variable length strings.")
    maxlen = (max(lengths) if lengths else 0) if maxlen is None else int(maxlen)
    out = np.full((len(lengths), maxlen) + sample_shape, value, dtype=dtype)
    for i, sequence in enumerate(sequences):
        if not lengths[i] or not maxlen:
            continue
        kept = np.asarray(sequence[-maxlen:] if truncating == "pre" else sequence[:maxlen],
                          dtype=dtype)
        if kept.shape[1:] != sample_shape:
            raise ValueError(f"Shape of sample {kept.shape[1:]} of sequence at position {i} is "
                             f"different from expected shape {sample_shape}")
        if padding == "post":
            out[i, :len(kept)] = kept
        else:
            out[i, maxlen - len(kept):] = kept
    return out


def _lengths_and_sample_shape(sequences):
    """Each sequence's length, and the shape of one step (from the first non-empty one)."""
    lengths, sample_shape = [], None
    for i, sequence in enumerate(sequences):
        try:
            lengths.append(len(sequence))
        except TypeError:
            raise ValueError(f"`sequences` must be a list of sequences (lists or arrays). The "
                             f"one at position {i} is {sequence!r}") from None
        if sample_shape is None and len(sequence):
            sample_shape = np.asarray(sequence).shape[1:]
    return lengths, () if sample_shape is None else tuple(sample_shape)
