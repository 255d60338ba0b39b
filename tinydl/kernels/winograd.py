"""Winograd's F(2x2, 3x3) convolution in NumPy: the readable twin of csrc/conv2d_winograd.inc.

The native kernels compute a 3x3, stride-1 convolution with at least 16 input and output
channels this way (the forward, and the weight gradient; on AVX-512 with 32 filters or more).
This module shows the same arithmetic on whole arrays, for reading and for checking; the
reference backend itself convolves directly (tinydl.kernels.reference.conv2d_forward), and
both give the same numbers up to rounding.

The idea (Lavin and Gray, "Fast Algorithms for Convolutional Neural Networks", 2016): a 2x2
block of outputs of a 3x3 filter g reads a 4x4 patch d of the input. Directly that is
4 * 9 = 36 multiplies. Winograd's minimal filtering computes it with 16:

    Y = A^T [ (G g G^T) * (B^T d B) ] A          (* elementwise, on 4x4 matrices)

Over C input channels and F filters, the elementwise products summed over c are, for each of
the 16 positions xi of the 4x4 transformed tile, one matrix product:

    M[xi] (tiles x F) = V[xi] (tiles x C) @ U[xi] (C x F)

with V = B^T d B per tile and channel, and U = G g G^T per channel pair: 16 GEMMs with
2.25x fewer multiplies than the direct convolution's one.

Example:
    >>> rng = np.random.default_rng(0)
    >>> x = rng.standard_normal((2, 6, 7, 4)); w = rng.standard_normal((3, 3, 4, 5))
    >>> from tinydl.kernels import reference
    >>> direct = reference.conv2d_forward(x, w, None, (1, 1), (0, 0, 0, 0))
    >>> bool(np.allclose(conv2d_forward(x, w), direct))
    True
"""

from __future__ import annotations

import numpy as np

# Input transform B^T, filter transform G and output transform A^T of F(2x2, 3x3).
BT = np.array([[1, 0, -1, 0],
               [0, 1, 1, 0],
               [0, -1, 1, 0],
               [0, 1, 0, -1]], dtype=np.float64)
G = np.array([[1, 0, 0],
              [0.5, 0.5, 0.5],
              [0.5, -0.5, 0.5],
              [0, 0, 1]], dtype=np.float64)
AT = np.array([[1, 1, 1, 0],
               [0, 1, -1, -1]], dtype=np.float64)


def transform_filters(w):
    """U = G g G^T for every (c, f): w (3, 3, C, F) -> U (4, 4, C, F).

    Args:
        w: (3, 3, C, F) filters.

    Returns:
        U (4, 4, C, F), of w's dtype.

    Example:
        >>> w = np.zeros((3, 3, 1, 1)); w[1, 1] = 1.0              # the identity filter
        >>> transform_filters(w)[:, :, 0, 0]
        array([[ 0.  ,  0.  ,  0.  ,  0.  ],
               [ 0.  ,  0.25, -0.25,  0.  ],
               [ 0.  , -0.25,  0.25,  0.  ],
               [ 0.  ,  0.  ,  0.  ,  0.  ]])
        >>> bool(np.allclose(transform_filters(w)[:, :, 0, 0], G @ w[:, :, 0, 0] @ G.T))
        True
    """
    return np.einsum("ia,abcf,jb->ijcf", G, w, G).astype(w.dtype)


def input_tiles(x, pads=(0, 0, 0, 0)):
    """The 4x4 input patch under every 2x2 output tile, zero outside x.

    Args:
        x: (N, H, W, C). pads: (top, bottom, left, right) of the convolution.
    Returns:
        (patches (N, TH, TW, 4, 4, C), (OH, OW)): TH = ceil(OH / 2) tiles down, TW across;
        tile (i, j) covers outputs (2i, 2j) .. (2i+1, 2j+1) and reads input rows 2i - top
        .. 2i - top + 3 (the last tiles read past the output's end, which is zero padding).

    Example:
        >>> x = np.arange(25.0).reshape(1, 5, 5, 1)
        >>> patches, out_hw = input_tiles(x)
        >>> patches.shape, out_hw                    # OH = OW = 3: 2 tiles each way, the last half empty
        ((1, 2, 2, 4, 4, 1), (3, 3))
        >>> expected = np.pad(x[0, 0:4, 2:5, 0], ((0, 0), (0, 1)))    # tile (0, 1): rows 0-3, cols 2-5
        >>> bool(np.array_equal(patches[0, 0, 1, :, :, 0], expected))
        True
    """
    n, h, w, c = x.shape
    top, bottom, left, right = pads
    oh, ow = h + top + bottom - 2, w + left + right - 2
    th, tw = -(-oh // 2), -(-ow // 2)
    padded = np.zeros((n, 2 * th + 2, 2 * tw + 2, c), dtype=x.dtype)
    rows, cols = min(h, 2 * th + 2 - top), min(w, 2 * tw + 2 - left)
    padded[:, top:top + rows, left:left + cols] = x[:, :rows, :cols]
    s = padded.strides
    patches = np.lib.stride_tricks.as_strided(
        padded, (n, th, tw, 4, 4, c), (s[0], 2 * s[1], 2 * s[2], s[1], s[2], s[3]))
    return patches, (oh, ow)


def conv2d_forward(x, w, bias=None, pads=(0, 0, 0, 0), relu=False):
    """The 3x3, stride-1 convolution by F(2x2, 3x3): same result as reference.conv2d_forward.

    Args:
        x: (N, H, W, C). w: (3, 3, C, F). bias: (F,) or None. pads: (top, bottom, left, right).
    Returns:
        (N, OH, OW, F), with max(., 0) applied when relu.

    Example:
        >>> from tinydl.kernels import reference
        >>> rng = np.random.default_rng(0)
        >>> x, w, b = rng.normal(size=(2, 5, 6, 3)), rng.normal(size=(3, 3, 3, 4)), rng.normal(size=4)
        >>> pads = (1, 1, 1, 1)
        >>> direct = reference.conv2d_forward(x, w, b, (1, 1), pads, relu=True)
        >>> y = conv2d_forward(x, w, b, pads, relu=True)
        >>> y.shape, bool(np.allclose(y, direct))
        ((2, 5, 6, 4), True)
        >>> conv2d_forward(x, w[:2], b)
        Traceback (most recent call last):
        ...
        ValueError: F(2x2, 3x3) needs a 3x3 kernel, got (2, 3)
    """
    if w.shape[:2] != (3, 3):
        raise ValueError(f"F(2x2, 3x3) needs a 3x3 kernel, got {w.shape[:2]}")
    patches, (oh, ow) = input_tiles(x, pads)
    v = np.einsum("ia,ntuabc,jb->ijntuc", BT, patches, BT)       # V = B^T d B: (4, 4, N, TH, TW, C)
    u = transform_filters(w)                                     # U: (4, 4, C, F)
    m = np.einsum("ijntuc,ijcf->ijntuf", v, u)                   # the 16 GEMMs, summed over c
    y = np.einsum("ai,ijntuf,bj->ntaubf", AT, m, AT)             # Y = A^T M A: 2x2 per tile
    n, th, _, tw, _, f = y.shape
    y = y.reshape(n, 2 * th, 2 * tw, f)[:, :oh, :ow].astype(x.dtype)
    if bias is not None:
        y = y + bias
    return np.maximum(y, 0) if relu else y


def conv2d_backward_kernel(dy, x, pads=(0, 0, 0, 0)):
    """The weight gradient dW (3, 3, C, F) of the 3x3, stride-1 convolution, by F(2x2, 3x3).

    Each tile's output is Y = A^T (U * V) A, so the gradient of U is, summed over the tiles,
    dU = sum V * (A dY A^T), and dW = G^T dU G: the same 16 GEMMs, along the tiles.

    Args:
        dy: (N, OH, OW, F), the gradient of the output. x: (N, H, W, C). pads: as the forward's.

    Returns:
        dW (3, 3, C, F), of dy's dtype.

    Example:
        >>> from tinydl.kernels import reference
        >>> rng = np.random.default_rng(0)
        >>> x, dy = rng.normal(size=(2, 5, 6, 3)), rng.normal(size=(2, 3, 4, 4))
        >>> direct, _ = reference.conv2d_backward_kernel(dy, x, (3, 3), (1, 1), (0, 0, 0, 0), False)
        >>> bool(np.allclose(conv2d_backward_kernel(dy, x), direct))
        True
    """
    patches, (oh, ow) = input_tiles(x, pads)
    n, th, tw = patches.shape[:3]
    f = dy.shape[-1]
    g = np.zeros((n, 2 * th, 2 * tw, f), dtype=dy.dtype)
    g[:, :oh, :ow] = dy
    g = g.reshape(n, th, 2, tw, 2, f)                            # 2x2 gradient per tile
    v = np.einsum("ia,ntuabc,jb->ijntuc", BT, patches, BT)
    mg = np.einsum("ai,ntaubf,bj->ijntuf", AT, g, AT)            # A dY A^T: (4, 4, N, TH, TW, F)
    du = np.einsum("ijntuc,ijntuf->ijcf", v, mg)                 # the 16 GEMMs, summed over tiles
    return np.einsum("ia,ijcf,jb->abcf", G, du, G).astype(dy.dtype)
