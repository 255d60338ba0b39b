"""NumPy window helpers the reference kernels share: padding, views of every window, im2col, col2im.

Letters: N batch, H/W height/width, C channels, KH/KW window, OH/OW output size; pads are
(top, bottom, left, right), strides (SH, SW).
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from tinydl.kernels.shapes import padded_output_hw


def pad(x, pads, value=0.0):
    """x (N, H, W, C) padded with `value` by pads (top, bottom, left, right); x itself for no pads.

    Example:
        >>> x = np.ones((1, 2, 3, 1))
        >>> xp = pad(x, (1, 0, 2, 1), value=-1.0)
        >>> xp.shape, float(xp[0, 0, 0, 0]), float(xp[0, 1, 2, 0]), pad(x, (0, 0, 0, 0)) is x
        ((1, 3, 6, 1), -1.0, 1.0, True)
    """
    top, bottom, left, right = pads
    if not any(pads):
        return x
    return np.pad(x, ((0, 0), (top, bottom), (left, right), (0, 0)), constant_values=value)


def windows(xp, window, strides, out_hw):
    """View of every window of a padded NHWC array: (N, OH, OW, KH, KW, C), no copy.

    Example:
        >>> xp = np.arange(1 * 4 * 5 * 2.0).reshape(1, 4, 5, 2)
        >>> win = windows(xp, (2, 3), (2, 2), (2, 2))
        >>> win.shape, bool(np.array_equal(win[0, 1, 1], xp[0, 2:4, 2:5]))    # window at (1, 1)
        ((1, 2, 2, 2, 3, 2), True)
    """
    win = sliding_window_view(xp, window, axis=(1, 2))           # (N, H', W', C, KH, KW)
    win = win[:, ::strides[0], ::strides[1]][:, :out_hw[0], :out_hw[1]]
    return win.transpose(0, 1, 2, 4, 5, 3)


def im2col(x, window, strides, pads):
    """Gather every receptive field of x into one row: (N*OH*OW, KH*KW*C), and (OH, OW).

    Args:
        x: (N, H, W, C).
        window: (KH, KW).
        strides: (SH, SW).
        pads: (top, bottom, left, right).

    Returns:
        (cols (N*OH*OW, KH*KW*C), (OH, OW)); row n*OH*OW + oh*OW + ow holds the window at
        (oh, ow) in (KH, KW, C) order, zeros where it covers padding.

    Example:
        >>> x = np.arange(2 * 3 * 4 * 2.0).reshape(2, 3, 4, 2)
        >>> cols, out_hw = im2col(x, (2, 2), (1, 2), (0, 0, 0, 0))
        >>> cols.shape, out_hw
        ((8, 8), (2, 2))
        >>> bool(np.array_equal(cols[1], x[0, 0:2, 2:4].ravel()))      # n = 0, oh = 0, ow = 1
        True
    """
    out_hw = padded_output_hw(x.shape[1:3], window, strides, pads)
    cols = windows(pad(x, pads), window, strides, out_hw)
    return cols.reshape(-1, window[0] * window[1] * x.shape[3]), out_hw


def col2im(cols, x_shape, window, strides, pads):
    """Scatter-add rows of patches back to an image: the adjoint of im2col.

    Args:
        cols: (N*OH*OW, KH*KW*C).
    Returns:
        (N, H, W, C).

    Example:
        col2im is im2col's adjoint: <im2col(x), cols> = <x, col2im(cols)>.

        >>> rng = np.random.default_rng(0)
        >>> x = rng.normal(size=(2, 5, 4, 3))
        >>> patches, _ = im2col(x, (3, 2), (2, 1), (1, 1, 0, 1))
        >>> cols = rng.normal(size=patches.shape)
        >>> back = col2im(cols, x.shape, (3, 2), (2, 1), (1, 1, 0, 1))
        >>> back.shape, bool(np.isclose((patches * cols).sum(), (x * back).sum()))
        ((2, 5, 4, 3), True)
    """
    n, h, w, c = x_shape
    (kh, kw), (sh, sw) = window, strides
    oh, ow = padded_output_hw((h, w), window, strides, pads)
    cols = cols.reshape(n, oh, ow, kh, kw, c)
    top, bottom, left, right = pads
    xp = np.zeros((n, h + top + bottom, w + left + right, c), dtype=cols.dtype)
    for i in range(kh):
        for j in range(kw):
            xp[:, i:i + sh * oh:sh, j:j + sw * ow:sw, :] += cols[:, :, :, i, j, :]
    return np.ascontiguousarray(xp[:, top:top + h, left:left + w, :])
