"""Running a stack of layers, each on the output of the one before (Sequential's forward pass).

One pair is run as a single node: a Conv2D followed by a MaxPooling2D, when they can fuse
(Conv2D.call_with_max_pool). The values and gradients are those of calling the two layers in
turn; the convolution's output, four times the size of the pooled one for a 2x2 pool, is then
never stored, and its backward routes the pooled gradient straight into the convolution's.
"""

from __future__ import annotations

from tinydl import anomaly, profiler
from tinydl.layers.convolutional import Conv2D
from tinydl.layers.pooling import MaxPooling2D


def call_layers(layers, x, training=None):
    """x through each layer of the list `layers` in order; returns the last output.

    A Conv2D followed by a MaxPooling2D runs as one fused call (conv.call_with_max_pool) when
    the layer can; the result is the same as calling them one after the other.

    Args:
        layers: a list of layers.
        x: the input (array or Tensor, or KerasTensor).
        training: passed to every layer call.

    Returns:
        The last layer's output.

    Example:
        >>> tinydl.utils.set_random_seed(0)
        >>> conv = tinydl.layers.Conv2D(2, 3, padding="same")
        >>> pool, flat = tinydl.layers.MaxPooling2D(2), tinydl.layers.Flatten()
        >>> x = np.random.default_rng(0).normal(size=(1, 4, 4, 1)).astype(np.float32)
        >>> fused = call_layers([conv, pool, flat], x).numpy()
        >>> one_by_one = flat(pool(conv(x))).numpy()
        >>> fused.shape, bool(np.allclose(fused, one_by_one, atol=1e-6))
        ((1, 8), True)
    """
    i = 0
    while i < len(layers):
        layer, after = layers[i], layers[i + 1] if i + 1 < len(layers) else None
        if (isinstance(layer, Conv2D) and isinstance(after, MaxPooling2D)
                and layer.activity_regularizer is None):  # its penalty needs the unpooled output
            pooled = _conv_max_pool(layer, after, x)
            if pooled is not None:
                x, i = pooled, i + 2
                continue
        x, i = layer(x, training=training), i + 1
    return x


def _conv_max_pool(conv, pool, x):
    """conv.call_with_max_pool(x, pool); in anomaly mode and while profiling, its op is
    attributed to both layers."""
    if not anomaly.is_anomaly_enabled() and profiler.current is None:
        return conv.call_with_max_pool(x, pool)
    with anomaly.layer_scope(f"{conv.name}+{pool.name}"):
        return conv.call_with_max_pool(x, pool)
