"""TextVectorization: strings -> token indices or bag-of-words vectors, with Keras' rules.

Each string is standardized (lower case, punctuation stripped), split into tokens (on
whitespace), optionally joined into n-grams, and looked up in a vocabulary learned by adapt():
tokens by decreasing count, ties broken by the token in reverse order (as Keras). In 'int'
mode index 0 is the padding and 1 is "[UNK]" (out of vocabulary); the other modes have no
padding index, so "[UNK]" is 0. An empty token (e.g. split=None on "") is the mask: never
learned, 0 in 'int' mode, not counted in the others.
"""

from __future__ import annotations

import collections
import re

import numpy as np

from tinydl.layers.base import Layer
from tinydl.tensor import Tensor

STANDARDIZE = ("lower_and_strip_punctuation", "lower", "strip_punctuation")
SPLITS = ("whitespace", "character")
OUTPUT_MODES = ("int", "multi_hot", "count", "tf_idf")
OOV_TOKEN, MASK_TOKEN = "[UNK]", ""
_PUNCTUATION = re.compile(r'[!"#$%&()\*\+,-\./:;<=>?@\[\\\]^_`{|}~\']')
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def _as_text(value) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, (str, np.str_)):
        return str(value)
    raise TypeError(f"TextVectorization expects strings, got {type(value).__name__}: {value!r}")


def _strings(inputs) -> tuple[list, bool]:
    """A batch of strings as a list, and whether the input was one string (no batch axis)."""
    if isinstance(inputs, (str, bytes)):
        return [_as_text(inputs)], True
    if isinstance(inputs, Tensor):
        raise TypeError("TextVectorization expects strings (a list or an array of str), got a "
                        "Tensor of numbers")
    array = np.asarray(inputs, dtype=object)
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim != 1:
        raise ValueError("TextVectorization expects a batch of strings of shape (N,) or (N, 1). "
                         f"Received: inputs of shape {array.shape}")
    return [_as_text(v) for v in array], False


class TextVectorization(Layer):
    """Map strings to token indices ('int') or to vectors over the vocabulary.

    Args:
        max_tokens: the vocabulary size, special tokens included (None: every token seen).
        standardize: 'lower_and_strip_punctuation' (default), 'lower', 'strip_punctuation',
            None, or a callable str -> str. Lowering is ASCII only, as Keras on TensorFlow.
        split: 'whitespace' (default), 'character', None (the whole string is one token), or a
            callable str -> list of str.
        ngrams: None, an int n (1..n-grams) or a tuple of widths; joined with spaces.
        output_mode: 'int' (indices (N, T), padded with 0), 'multi_hot' (N, V) 1 where a
            token occurs, 'count' (N, V) occurrences, or 'tf_idf' (N, V) counts times idf.
        output_sequence_length: 'int' mode only: pad or cut every row to this length (None:
            the longest row of the batch).
        pad_to_max_tokens: the vector modes give max_tokens columns even when the vocabulary
            is smaller.
        vocabulary, idf_weights: a fixed vocabulary (tokens without the special ones, or with
            them first) and, for 'tf_idf', one weight per token.

    Returns (when called): an int64 NumPy array (N, T) in 'int' mode (tinydl Tensors hold
    floats); a float32 Tensor (N, V) in the other modes.

    Example:
        >>> layer = TextVectorization(output_mode="int")
        >>> layer.adapt(["the cat sat", "the dog"])
        >>> layer.get_vocabulary()
        ['', '[UNK]', 'the', 'sat', 'dog', 'cat']
        >>> layer(["the bird sat"])
        array([[2, 1, 3]])
    """

    def __init__(self, max_tokens=None, standardize="lower_and_strip_punctuation",
                 split="whitespace", ngrams=None, output_mode="int", output_sequence_length=None,
                 pad_to_max_tokens=False, vocabulary=None, idf_weights=None, **kwargs):
        super().__init__(**kwargs)
        output_mode = {"binary": "multi_hot", "tf-idf": "tf_idf"}.get(output_mode, output_mode)
        self._check_options(max_tokens, standardize, split, ngrams, output_mode,
                            output_sequence_length)
        self.max_tokens, self.standardize, self.split = max_tokens, standardize, split
        self.ngrams, self.output_mode = ngrams, output_mode
        self._widths = tuple(range(1, ngrams + 1)) if isinstance(ngrams, int) else ngrams
        self.output_sequence_length = output_sequence_length
        self.pad_to_max_tokens = bool(pad_to_max_tokens)
        self._tokens: list = []          # learned tokens, special ones excluded
        self._idf = None                 # idf weight per learned token ('tf_idf')
        self._has_input_vocabulary = vocabulary is not None
        if vocabulary is not None:
            self.set_vocabulary(vocabulary, idf_weights)
        elif idf_weights is not None:
            raise ValueError("TextVectorization: idf_weights needs a vocabulary. "
                             "Received: vocabulary=None")
        self.built = True

    @staticmethod
    def _check_options(max_tokens, standardize, split, ngrams, output_mode, sequence_length):
        def fail(name, value, expected):
            raise ValueError(f"TextVectorization: `{name}` must be {expected}. "
                             f"Received: {name}={value!r}")
        if max_tokens is not None and (not isinstance(max_tokens, int) or isinstance(
                max_tokens, bool) or max_tokens < (3 if output_mode == "int" else 2)):
            fail("max_tokens", max_tokens, "None or an int large enough for the special "
                 "tokens and one more (>= 3 for 'int', >= 2 otherwise)")
        if not (standardize is None or standardize in STANDARDIZE or callable(standardize)):
            fail("standardize", standardize, f"None, a callable or one of {STANDARDIZE}")
        if not (split is None or split in SPLITS or callable(split)):
            fail("split", split, f"None, a callable or one of {SPLITS}")
        if not (ngrams is None or (isinstance(ngrams, int) and ngrams >= 1) or (
                isinstance(ngrams, tuple) and ngrams and all(isinstance(n, int) and n >= 1
                                                              for n in ngrams))):
            fail("ngrams", ngrams, "None, an integer, or a tuple of integers")
        if output_mode not in OUTPUT_MODES:
            fail("output_mode", output_mode, f"one of {OUTPUT_MODES}")
        if sequence_length is not None and (output_mode != "int" or not isinstance(
                sequence_length, int) or isinstance(sequence_length, bool) or sequence_length < 1):
            fail("output_sequence_length", sequence_length,
                 "None, or a positive int when output_mode is 'int'")

    # ------------------------------------------------------------------ text -> tokens
    def _standardized(self, text: str) -> str:
        if self.standardize in ("lower", "lower_and_strip_punctuation"):
            text = text.translate(_ASCII_LOWER)
        if self.standardize in ("strip_punctuation", "lower_and_strip_punctuation"):
            text = _PUNCTUATION.sub("", text)
        if callable(self.standardize):
            text = self.standardize(text)
        return text

    def _tokenize(self, text: str) -> list:
        text = self._standardized(text)
        if self.split is None:
            tokens = [text]
        elif self.split == "whitespace":
            tokens = text.split()
        elif self.split == "character":
            tokens = list(text)
        else:
            tokens = list(self.split(text))
        if self._widths is None:
            return tokens
        return [" ".join(tokens[i:i + n]) for n in self._widths for i in range(len(tokens) - n + 1)]

    # ------------------------------------------------------------------ vocabulary
    @property
    def _specials(self) -> list:
        return [MASK_TOKEN, OOV_TOKEN] if self.output_mode == "int" else [OOV_TOKEN]

    def adapt(self, data, batch_size=None, steps=None) -> None:
        """Learn the vocabulary (and idf weights) from data: a list or array of strings, or
        an iterable of such batches (e.g. a Dataset mapped to its texts). steps: how many
        batches of an iterable to read (all when None)."""
        if self._has_input_vocabulary:
            raise ValueError("Cannot adapt TextVectorization after setting a vocabulary via "
                             "the `vocabulary` argument or set_vocabulary()")
        counts, documents, num_documents = collections.Counter(), collections.Counter(), 0
        batches = [data] if isinstance(data, (str, bytes, list, tuple, np.ndarray)) else data
        for i, batch in enumerate(batches):
            if steps is not None and i >= steps:
                break
            if isinstance(batch, tuple):
                raise ValueError("TextVectorization.adapt reads batches of strings; this data "
                                 "yields tuples (e.g. (texts, labels)): map it to the texts "
                                 "first, e.g. dataset.map(lambda x, y: x)")
            for text in _strings(batch)[0]:
                tokens = self._tokenize(text)
                counts.update(tokens)
                documents.update(set(tokens))
                num_documents += 1
        for special in (MASK_TOKEN, OOV_TOKEN):
            counts.pop(special, None)
        ranked = sorted(counts.items(), key=lambda item: (item[1], item[0].encode()), reverse=True)
        if self.max_tokens is not None:
            ranked = ranked[:self.max_tokens - len(self._specials)]
        self._tokens = [token for token, _ in ranked]
        self._index = {token: i + len(self._specials) for i, token in enumerate(self._tokens)}
        if self.output_mode == "tf_idf":
            self._idf = np.log(1 + num_documents / (1 + np.array(
                [documents[t] for t in self._tokens], np.float64))).astype(np.float32)

    def set_vocabulary(self, vocabulary, idf_weights=None) -> None:
        """Use vocabulary (tokens, optionally preceded by the special tokens) and, in
        'tf_idf' mode, idf_weights (one per token of vocabulary)."""
        if (self.output_mode == "tf_idf") != (idf_weights is not None):
            raise ValueError("TextVectorization: idf_weights must be given exactly when "
                             f"output_mode is 'tf_idf'. Received: output_mode={self.output_mode!r}"
                             f", idf_weights={'None' if idf_weights is None else '...'}")
        tokens = [_as_text(t) for t in vocabulary]
        weights = None if idf_weights is None else np.asarray(idf_weights, np.float32).reshape(-1)
        if weights is not None and len(weights) != len(tokens):
            raise ValueError(f"`idf_weights` must be the same length as vocabulary. "
                             f"len(idf_weights) is {len(weights)}; len(vocabulary) is {len(tokens)}")
        specials = self._specials
        if tokens[:len(specials)] == specials:
            tokens = tokens[len(specials):]
            weights = None if weights is None else weights[len(specials):]
        if not tokens or any(t in specials for t in tokens) or len(set(tokens)) != len(tokens):
            raise ValueError("TextVectorization: the vocabulary must be non-empty, without "
                             f"repeats, and hold the special tokens {specials} only at its start."
                             f" Received: vocabulary of {len(tokens)} tokens")
        if self.max_tokens is not None and len(tokens) + len(specials) > self.max_tokens:
            raise ValueError(f"Attempted to set a vocabulary larger than the maximum vocab size. "
                             f"Received vocabulary size is {len(tokens) + len(specials)}; "
                             f"`max_tokens` is {self.max_tokens}.")
        self._tokens, self._idf = tokens, weights
        self._index = {token: i + len(specials) for i, token in enumerate(tokens)}
        self._has_input_vocabulary = True

    def get_vocabulary(self, include_special_tokens: bool = True) -> list:
        """The tokens by index (index i of the list is index i of the output)."""
        return (self._specials if include_special_tokens else []) + list(self._tokens)

    def vocabulary_size(self) -> int:
        return len(self._specials) + len(self._tokens)

    # ------------------------------------------------------------------ calling
    def __call__(self, inputs, training=None):
        texts, single = _strings(inputs)
        if not self._tokens:
            raise ValueError("TextVectorization has no vocabulary: call adapt(data) or "
                             "set_vocabulary(tokens) first")
        oov = self._specials.index(OOV_TOKEN)
        # an empty token is the mask: index 0 in 'int' mode, left out of the vector modes
        rows = [[0 if t == MASK_TOKEN else self._index.get(t, oov) for t in self._tokenize(text)
                 if t != MASK_TOKEN or self.output_mode == "int"] for text in texts]
        out = self._indices(rows) if self.output_mode == "int" else Tensor(self._vectors(rows))
        return out[0] if single else out

    def call(self, inputs, training=None):
        return self(inputs, training=training)

    def _indices(self, rows) -> np.ndarray:
        length = self.output_sequence_length or max((len(r) for r in rows), default=0)
        out = np.zeros((len(rows), length), np.int64)
        for i, row in enumerate(rows):
            row = row[:length]
            out[i, :len(row)] = row
        return out

    def _vectors(self, rows) -> np.ndarray:
        width = self.max_tokens if self.pad_to_max_tokens and self.max_tokens else \
            self.vocabulary_size()
        out = np.zeros((len(rows), width), np.float32)
        for i, row in enumerate(rows):
            np.add.at(out[i], np.asarray(row, np.int64), 1.0)
        if self.output_mode == "multi_hot":
            return np.minimum(out, 1.0)
        if self.output_mode == "tf_idf":
            weights = np.zeros(width, np.float32)
            weights[0] = np.float32(np.mean(self._idf))   # OOV: the mean idf, as Keras
            weights[1:1 + len(self._idf)] = self._idf
            out *= weights
        return out

    def compute_output_shape(self, input_shape):
        if self.output_mode == "int":
            return (input_shape[0], self.output_sequence_length)
        width = self.max_tokens if self.pad_to_max_tokens and self.max_tokens else \
            (self.vocabulary_size() if self._tokens else None)
        return (input_shape[0], width)

    def get_config(self):
        """The arguments, with the vocabulary (and idf weights) learned by adapt, so that
        from_config rebuilds a layer that gives the same outputs."""
        for name in ("standardize", "split"):
            if callable(getattr(self, name)):
                raise ValueError(f"TextVectorization: a callable {name} is code and cannot be "
                                 "saved in a config; use one of the named options")
        return {**super().get_config(), "max_tokens": self.max_tokens,
                "standardize": self.standardize, "split": self.split,
                "ngrams": list(self.ngrams) if isinstance(self.ngrams, tuple) else self.ngrams,
                "output_mode": self.output_mode,
                "output_sequence_length": self.output_sequence_length,
                "pad_to_max_tokens": self.pad_to_max_tokens,
                "vocabulary": list(self._tokens) or None,
                "idf_weights": None if self._idf is None else self._idf.tolist()}

    @classmethod
    def from_config(cls, config: dict):
        config = dict(config)
        if isinstance(config.get("ngrams"), list):
            config["ngrams"] = tuple(config["ngrams"])
        return cls(**config)
