"""Neural-network functions on Tensors: softmax, cross-entropy, convolution, pooling, dropout.

Layouts are Keras': images are NHWC (N, H, W, C), a convolution kernel is (KH, KW, C, F).
padding is 'valid' (no padding) or 'same' (output size ceil(H / stride)).
"""

from __future__ import annotations

import numpy as np

from tinydl.kernels.shapes import normalize_padding, normalize_pair, window_geometry
from tinydl.ops import relu, sigmoid, tanh  # noqa: F401  (re-exported: activations live here too)
from tinydl.ops.conv import Conv2d, Conv2dMaxPool
from tinydl.ops.elementwise import Dropout
from tinydl.ops.matmul import Dense
from tinydl.ops.loss import LogSoftmax, Softmax, SoftmaxCrossEntropy
from tinydl.ops.pool import AvgPool2d, GlobalAvgPool, GlobalMaxPool, MaxPool2d
from tinydl.rng import get_rng
from tinydl.tensor import Tensor


def _as_tensor(x) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor(x)


def softmax(x, axis: int = -1) -> Tensor:
    """exp(x) / sum(exp(x)) along axis, computed stably.

    Example:
        >>> softmax(Tensor([[1.0, 1.0, 1.0, 1.0]])).data
        array([[0.25, 0.25, 0.25, 0.25]], dtype=float32)
    """
    return Softmax.apply(_as_tensor(x), axis)


def log_softmax(x, axis: int = -1) -> Tensor:
    """log(softmax(x)) along axis, without forming softmax (stable for large logits).

    Example:
        >>> log_softmax(Tensor([[0.0, 0.0]])).data
        array([[-0.6931472, -0.6931472]], dtype=float32)
    """
    return LogSoftmax.apply(_as_tensor(x), axis)


def softmax_cross_entropy(logits, labels) -> Tensor:
    """Mean cross-entropy between softmax(logits) and integer class labels.

    Args:
        logits: (N, K) unnormalized scores.
        labels: (N,) integers in [0, K) (a NumPy array or list, not a Tensor).

    Returns:
        A scalar Tensor. Its gradient with respect to logits is (softmax - onehot) / N.

    Raises:
        TypeError: labels are not integers. ValueError: shapes differ or a label is out of range.

    Example:
        >>> loss = softmax_cross_entropy(Tensor([[0.0, 0.0], [0.0, 0.0]]), [0, 1])
        >>> round(loss.item(), 4)
        0.6931
    """
    if isinstance(labels, Tensor):
        raise TypeError("softmax_cross_entropy: labels must be a NumPy integer array or a list, "
                        "not a Tensor (Tensors hold floats)")
    labels = np.asarray(labels)
    if labels.ndim == 2 and labels.shape[1] == 1:
        labels = labels[:, 0]
    return SoftmaxCrossEntropy.apply(_as_tensor(logits), labels)


def _check_nhwc(x: Tensor, where: str) -> None:
    if x.ndim != 4:
        raise ValueError(f"{where} expects input of shape (batch, H, W, C), got {x.shape}")


def conv2d(x, kernel, bias=None, strides=1, padding: str = "valid", fused_relu: bool = False):
    """2-D convolution (cross-correlation, as in Keras and PyTorch).

    Args:
        x: (N, H, W, C). kernel: (KH, KW, C, F). bias: (F,) or None.
        strides: int or (SH, SW). padding: 'valid' or 'same'.
        fused_relu: apply max(., 0) inside the kernel (what Conv2D(activation='relu') uses).

    Returns:
        (N, OH, OW, F).

    Example:
        >>> conv2d(Tensor(np.ones((1, 5, 5, 3))), Tensor(np.ones((3, 3, 3, 8)))).shape
        (1, 3, 3, 8)
    """
    x, kernel, bias, strides, pads, _ = _conv_arguments(x, kernel, bias, strides, padding)
    return Conv2d.apply(x, kernel, bias, strides, pads, fused_relu)


def _conv_arguments(x, kernel, bias, strides, padding):
    """Normalize a convolution call; return (x, kernel, bias as Tensors, strides, pads, (OH, OW)).

    The channels of x and kernel are checked once, by the kernel (tinydl/kernels/conv2d.py)."""
    x, kernel = _as_tensor(x), _as_tensor(kernel)
    _check_nhwc(x, "conv2d")
    if kernel.ndim != 4:
        raise ValueError(f"conv2d expects a kernel of shape (KH, KW, C, F), got {kernel.shape}")
    strides = normalize_pair(strides, "strides")
    out_hw, pads = window_geometry(x.shape[1:3], kernel.shape[:2], strides,
                                   normalize_padding(padding))
    bias = None if bias is None else _as_tensor(bias)
    return x, kernel, bias, strides, pads, out_hw


def conv2d_max_pool(x, kernel, bias=None, strides=1, padding: str = "valid",
                    fused_relu: bool = False, pool_size=2, pool_padding: str = "valid") -> Tensor:
    """max_pool2d(conv2d(x, ...), pool_size) with the pool's strides == pool_size, in one node.

    The values and gradients are exactly those of the two calls. When the pool's windows tile
    the convolution's output without padding, one kernel convolves and pools a tile at a time,
    so the convolution's (N, OH, OW, F) output is never stored; the backward is
    Conv2dMaxPool's (tinydl/ops/conv.py). The fusion pass (tinydl/fusion.py) uses this for
    Conv2D -> [ReLU] -> MaxPooling2D.

    Args:
        x, kernel, bias, strides, padding, fused_relu: as in conv2d.
        pool_size: int or (PH, PW), also the pool's strides. pool_padding: 'valid' or 'same'.

    Returns:
        (N, PH', PW', F), the pooled output.

    Example:
        >>> x, k = Tensor(np.ones((1, 6, 6, 3))), Tensor(np.ones((3, 3, 3, 8)))
        >>> conv2d_max_pool(x, k, pool_size=2).shape
        (1, 2, 2, 8)
    """
    x, kernel, bias, strides, pads, out_hw = _conv_arguments(x, kernel, bias, strides, padding)
    pool = normalize_pair(pool_size, "pool_size")
    _, pool_pads = window_geometry(out_hw, pool, pool, normalize_padding(pool_padding))
    return Conv2dMaxPool.apply(x, kernel, bias, strides, pads, fused_relu, pool, pool_pads)


def dense(x, kernel, bias=None, fused_relu: bool = False) -> Tensor:
    """relu?(x @ kernel + bias) as one op: the bias and the ReLU in the GEMM's epilogue.

    Args:
        x: (N, K). kernel: (K, U). bias: (U,) or None. fused_relu: apply max(., 0).

    Returns:
        (N, U), the values of x @ kernel + bias (then relu) computed op by op.

    Example:
        >>> dense(Tensor(np.ones((2, 3), np.float32)), Tensor(np.ones((3, 4), np.float32)),
        ...       Tensor(np.full(4, -4.0, np.float32)), fused_relu=True).data
        array([[0., 0., 0., 0.],
               [0., 0., 0., 0.]], dtype=float32)
    """
    x, kernel = _as_tensor(x), _as_tensor(kernel)
    if x.ndim != 2 or kernel.ndim != 2:
        raise ValueError(f"dense expects x of shape (N, K) and kernel of shape (K, U). "
                         f"Received: x {x.shape}, kernel {kernel.shape}")
    return Dense.apply(x, kernel, None if bias is None else _as_tensor(bias), bool(fused_relu))


def _global_pool(x, op, reduce_name: str, keepdims: bool) -> Tensor:
    """op over the axes between the first and the last of x (N, ..., C); keepdims keeps them
    as 1s. The kernels take (N, S, C) of float32 or float64 with no empty axis; anything else
    takes the Tensor reduction (NumPy's semantics: an empty mean is NaN, an empty max raises)."""
    x = _as_tensor(x)
    if x.ndim < 3:
        raise ValueError(f"global pooling expects (N, ..., C) with at least one axis between, "
                         f"got shape {x.shape}")
    axes = tuple(range(1, x.ndim - 1))
    if 0 in x.shape or x.dtype not in (np.float32, np.float64):
        return getattr(x, reduce_name)(axis=axes, keepdims=keepdims)
    n, c = x.shape[0], x.shape[-1]
    y = op.apply(x.reshape(n, -1, c))
    return y.reshape(n, *([1] * len(axes)), c) if keepdims else y


def global_avg_pool(x, keepdims: bool = False) -> Tensor:
    """The mean of x (N, ..., C) over every axis but the first and the last: (N, C) (or with
    keepdims, 1s for the reduced axes). GlobalAveragePooling1D/2D without a mask.

    Example:
        >>> global_avg_pool(Tensor(np.arange(8.0).reshape(1, 2, 2, 2))).data
        array([[3., 4.]])
    """
    return _global_pool(x, GlobalAvgPool, "mean", keepdims)


def global_max_pool(x, keepdims: bool = False) -> Tensor:
    """The max of x (N, ..., C) over every axis but the first and the last; ties share the
    gradient equally. GlobalMaxPooling1D/2D.

    Example:
        >>> global_max_pool(Tensor(np.arange(8.0).reshape(1, 2, 2, 2)), keepdims=True).shape
        (1, 1, 1, 2)
    """
    return _global_pool(x, GlobalMaxPool, "max", keepdims)


def _pool_arguments(x, pool_size, strides, padding, where):
    """Check a pooling call; return (x as Tensor, pool, strides, pads)."""
    x = _as_tensor(x)
    _check_nhwc(x, where)
    pool = normalize_pair(pool_size, "pool_size")
    strides = pool if strides is None else normalize_pair(strides, "strides")
    _, pads = window_geometry(x.shape[1:3], pool, strides, normalize_padding(padding))
    return x, pool, strides, pads


def max_pool2d(x, pool_size=2, strides=None, padding: str = "valid") -> Tensor:
    """Max over each (PH, PW) window of an NHWC tensor; strides default to pool_size (Keras).

    Example:
        >>> x = Tensor(np.arange(16.0).reshape(1, 4, 4, 1))
        >>> max_pool2d(x, 2).data[0, :, :, 0]
        array([[ 5.,  7.],
               [13., 15.]])
    """
    return MaxPool2d.apply(*_pool_arguments(x, pool_size, strides, padding, "max_pool2d"))


def avg_pool2d(x, pool_size=2, strides=None, padding: str = "valid") -> Tensor:
    """Mean over each window (padding not counted); strides default to pool_size (Keras).

    Example:
        >>> x = Tensor(np.arange(16.0).reshape(1, 4, 4, 1))
        >>> avg_pool2d(x, 2).data[0, :, :, 0]
        array([[ 2.5,  4.5],
               [10.5, 12.5]])
    """
    return AvgPool2d.apply(*_pool_arguments(x, pool_size, strides, padding, "avg_pool2d"))


def dropout(x, rate: float, training: bool, rng=None) -> Tensor:
    """Zero each element with probability rate during training and scale the rest by 1/(1-rate).

    At inference (training=False) it returns x unchanged.

    Example:
        >>> x = Tensor(np.ones(4))
        >>> dropout(x, 0.5, training=False) is x
        True
        >>> sorted(set(dropout(x, 0.5, training=True, rng=np.random.default_rng(0)).data.tolist()))
        [0.0, 2.0]
    """
    if not 0.0 <= rate < 1.0:
        raise ValueError(f"dropout rate must be in [0, 1), got {rate}")
    x = _as_tensor(x)
    if not training or rate == 0.0:
        return x
    return Dropout.apply(x, rate, rng if rng is not None else get_rng())
