"""Identity: a layer that returns its input (a placeholder in a graph, masks passed through)."""

from __future__ import annotations

from tinydl.layers.base import Layer


class Identity(Layer):
    """Return the input unchanged (keras.layers.Identity).

    Example:
        >>> x = np.ones((2, 3), np.float32)
        >>> Identity()(x).shape
        (2, 3)
    """

    supports_masking = True

    def call(self, inputs, training=None):
        return inputs

    def compute_output_shape(self, input_shape):
        return input_shape
