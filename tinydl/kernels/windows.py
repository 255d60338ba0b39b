"""NumPy window helpers the reference kernels share: padding, views of every window, im2col, col2im.

Letters: N batch, H/W height/width, C channels, KH/KW window, OH/OW output size; pads are
(top, bottom, left, right), strides (SH, SW).
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from tinydl.kernels.shapes import padded_output_hw


def pad(x, pads, value=0.0):
    top, bottom, left, right = pads
    if not any(pads):
        return x
    return np.pad(x, ((0, 0), (top, bottom), (left, right), (0, 0)), constant_values=value)


def windows(xp, window, strides, out_hw):
    """View of every window of a padded NHWC array: (N, OH, OW, KH, KW, C), no copy."""
    win = sliding_window_view(xp, window, axis=(1, 2))           # (N, H', W', C, KH, KW)
    win = win[:, ::strides[0], ::strides[1]][:, :out_hw[0], :out_hw[1]]
    return win.transpose(0, 1, 2, 4, 5, 3)


def im2col(x, window, strides, pads):
    """Gather every receptive field of x into one row: (N*OH*OW, KH*KW*C), and (OH, OW)."""
    out_hw = padded_output_hw(x.shape[1:3], window, strides, pads)
    cols = windows(pad(x, pads), window, strides, out_hw)
    return cols.reshape(-1, window[0] * window[1] * x.shape[3]), out_hw


def col2im(cols, x_shape, window, strides, pads):
    """Scatter-add rows of patches back to an image: the adjoint of im2col.

    Args:
        cols: (N*OH*OW, KH*KW*C).
    Returns:
        (N, H, W, C).
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
