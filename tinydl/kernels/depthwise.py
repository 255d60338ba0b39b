"""Depthwise 2-D convolution (N, H, W, C) x (KH, KW, C, M): its checks, NumPy reference and native twin.

One kernel family in one module. tinydl.backend's depthwise_conv2d_* entries call the
check_* functions here (what the C kernels rely on), then run the reference (`*_reference`,
re-exported by tinydl.kernels.reference under the kernel names) or the native twin
(`*_native`, re-exported by tinydl.kernels.native), which hands the arrays to csrc/depthwise.c.
Both twins take the same arguments:

    forward(x (N, H, W, C), w (KH, KW, C, M), strides (SH, SW), pads (top, bottom, left, right))
        -> y (N, OH, OW, C*M)
    backward_input(dy (N, OH, OW, C*M), w, x_shape, strides, pads) -> dx (N, H, W, C)
    backward_kernel(dy, x, kernel_hw (KH, KW), strides, pads) -> dw (KH, KW, C, M)
"""

from __future__ import annotations

import numpy as np

from tinydl.kernels.shapes import padded_output_hw

# ----------------------------------------------------------------------------- checks


def _checks(where: str, x_shape, w, strides, pads) -> tuple:
    """The output shape (N, OH, OW, C*M), after checking w against x_shape and the window."""
    from tinydl import backend  # the shared check helpers (imported late: backend imports us)

    backend._check_ndim(where, "kernel", w, 4, "(KH, KW, C, M)")
    if x_shape[3] != w.shape[2]:
        raise ValueError(f"{where}: the kernel {tuple(w.shape)} (KH, KW, C, M) expects "
                         f"C={w.shape[2]} input channels, but the input {tuple(x_shape)} has "
                         f"{x_shape[3]}")
    backend._check_window(where, x_shape[1:3], w.shape[:2], strides, pads)
    return backend._conv_out_shape(x_shape, w.shape[:2], strides, pads, w.shape[2] * w.shape[3])


def check_forward(x, w, strides, pads) -> None:
    """Raise ValueError unless x (N, H, W, C) and w (KH, KW, C, M) fit strides and pads.

    Example:
        >>> check_forward(np.ones((1, 4, 4, 2)), np.ones((3, 3, 2, 1)), (1, 1), (0, 0, 0, 0))
        >>> check_forward(np.ones((1, 4, 4, 3)), np.ones((3, 3, 2, 1)), (1, 1), (0, 0, 0, 0))
        Traceback (most recent call last):
        ...
        ValueError: ...
    """
    from tinydl import backend

    backend._check_ndim("depthwise_conv2d", "x", x, 4, "(N, H, W, C)")
    _checks("depthwise_conv2d", x.shape, w, strides, pads)


def check_backward_input(dy, w, x_shape, strides, pads) -> tuple:
    """Check dy against the forward output shape; return x_shape as a tuple of ints.

    Example:
        >>> dy, w = np.ones((1, 2, 2, 2)), np.ones((3, 3, 2, 1))
        >>> check_backward_input(dy, w, [1, 4, 4, 2], (1, 1), (0, 0, 0, 0))
        (1, 4, 4, 2)
    """
    from tinydl import backend

    where = "depthwise_conv2d_backward_input"
    x_shape = backend._check_image_shape(where, x_shape)
    backend._check_shape(where, "dy", dy, _checks(where, x_shape, w, strides, pads))
    return x_shape


def check_backward_kernel(dy, x, kernel_hw, strides, pads) -> tuple:
    """Check dy (N, OH, OW, C*M) against x and the window; return kernel_hw as ints.

    Example:
        >>> dy, x = np.ones((1, 2, 2, 4)), np.ones((1, 4, 4, 2))
        >>> check_backward_kernel(dy, x, [3, 3], (1, 1), (0, 0, 0, 0))
        (3, 3)
    """
    from tinydl import backend

    where = "depthwise_conv2d_backward_kernel"
    backend._check_ndim(where, "x", x, 4, "(N, H, W, C)")
    backend._check_ndim(where, "dy", dy, 4, "(N, OH, OW, C*M)")
    kernel_hw = tuple(int(s) for s in kernel_hw)
    backend._check_window(where, x.shape[1:3], kernel_hw, strides, pads)
    if dy.shape[3] % x.shape[3]:
        raise ValueError(f"{where}: dy's channels {dy.shape[3]} must be a multiple of x's "
                         f"{x.shape[3]} (C*M)")
    backend._check_shape(where, "dy", dy, backend._conv_out_shape(x.shape, kernel_hw, strides,
                                                                  pads, dy.shape[3]))
    return kernel_hw


# ----------------------------------------------------------------------------- reference


def _pad(x, pads):
    top, bottom, left, right = pads
    return np.pad(x, ((0, 0), (top, bottom), (left, right), (0, 0))) if any(pads) else x


def _taps(xp, i, j, strides, out_hw):
    """The input pixels kernel tap (i, j) meets at every output position: (N, OH, OW, C)."""
    (sh, sw), (oh, ow) = strides, out_hw
    return xp[:, i:i + sh * (oh - 1) + 1:sh, j:j + sw * (ow - 1) + 1:sw, :]


def depthwise_conv2d_forward_reference(x, w, strides, pads):
    """Depthwise convolution: each input channel c is convolved with its own M filters.

    y[n, oh, ow, c*M + m] = sum_{i, j} xp[n, oh*SH + i, ow*SW + j, c] * w[i, j, c, m]
    (xp is x padded by pads). One vectorized multiply-add per kernel tap (KH*KW of them).

    Args:
        x: (N, H, W, C). w: (KH, KW, C, M), M the depth multiplier.
        strides: (SH, SW). pads: (top, bottom, left, right).

    Returns:
        (N, OH, OW, C*M).

    Example:
        >>> x, w = np.ones((1, 3, 3, 2)), np.ones((2, 2, 2, 1))
        >>> depthwise_conv2d_forward_reference(x, w, (1, 1), (0, 0, 0, 0))[0, :, :, 0]
        array([[4., 4.],
               [4., 4.]])
    """
    kh, kw, c, m = w.shape
    out_hw = padded_output_hw(x.shape[1:3], (kh, kw), strides, pads)
    xp = _pad(x, pads)
    y = np.zeros((x.shape[0], *out_hw, c, m), dtype=x.dtype)
    for i in range(kh):
        for j in range(kw):
            y += _taps(xp, i, j, strides, out_hw)[..., None] * w[i, j]
    return y.reshape(x.shape[0], *out_hw, c * m)


def depthwise_conv2d_backward_input_reference(dy, w, x_shape, strides, pads):
    """Gradient of depthwise_conv2d_forward with respect to x: (N, H, W, C).

    Args:
        dy: (N, OH, OW, C*M). w: (KH, KW, C, M). x_shape: (N, H, W, C).

    Example:
        >>> rng = np.random.default_rng(0)
        >>> x, w = rng.normal(size=(2, 5, 5, 3)), rng.normal(size=(3, 3, 3, 2))
        >>> dy = rng.normal(size=(2, 3, 3, 6))
        >>> dx = depthwise_conv2d_backward_input_reference(dy, w, x.shape, (2, 2), (1, 1, 1, 1))
        >>> y = depthwise_conv2d_forward_reference(x, w, (2, 2), (1, 1, 1, 1))
        >>> dx.shape, bool(np.isclose((y * dy).sum(), (x * dx).sum()))   # the adjoint of the forward
        ((2, 5, 5, 3), True)
    """
    kh, kw, c, m = w.shape
    n, h, wd, _ = x_shape
    top, bottom, left, right = pads
    out_hw = dy.shape[1:3]
    dy = dy.reshape(n, *out_hw, c, m)
    dxp = np.zeros((n, h + top + bottom, wd + left + right, c), dtype=dy.dtype)
    for i in range(kh):
        for j in range(kw):
            _taps(dxp, i, j, strides, out_hw)[...] += (dy * w[i, j]).sum(axis=-1)
    return np.ascontiguousarray(dxp[:, top:top + h, left:left + wd, :])


def depthwise_conv2d_backward_kernel_reference(dy, x, kernel_hw, strides, pads):
    """Gradient of depthwise_conv2d_forward with respect to w: (KH, KW, C, M).

    Args:
        dy: (N, OH, OW, C*M). x: (N, H, W, C). kernel_hw: (KH, KW).

    Example:
        >>> rng = np.random.default_rng(0)
        >>> x, w = rng.normal(size=(2, 5, 5, 3)), rng.normal(size=(3, 3, 3, 2))
        >>> dy = rng.normal(size=(2, 3, 3, 6))
        >>> dw = depthwise_conv2d_backward_kernel_reference(dy, x, (3, 3), (2, 2), (1, 1, 1, 1))
        >>> y = depthwise_conv2d_forward_reference(x, w, (2, 2), (1, 1, 1, 1))
        >>> dw.shape, bool(np.isclose((y * dy).sum(), (w * dw).sum()))   # the forward is linear in w
        ((3, 3, 3, 2), True)
    """
    n, _, _, c = x.shape
    out_hw = dy.shape[1:3]
    dy = dy.reshape(n, *out_hw, c, dy.shape[3] // c)
    xp = _pad(x, pads)
    dw = np.empty((*kernel_hw, c, dy.shape[4]), dtype=dy.dtype)
    for i in range(kernel_hw[0]):
        for j in range(kernel_hw[1]):
            dw[i, j] = np.einsum("nhwc,nhwcm->cm", _taps(xp, i, j, strides, out_hw), dy)
    return dw


# ----------------------------------------------------------------------------- native
# Arguments arrive checked and C-contiguous (tinydl.backend); these allocate the outputs and
# call csrc/depthwise.c through tinydl._native. Empty arrays never reach C.


def _top_left(pads) -> tuple:
    return int(pads[0]), int(pads[2])


def depthwise_conv2d_forward_native(x, w, strides, pads):
    """As depthwise_conv2d_forward_reference, in C (tdl_depthwise_*_forward).

    Example:
        >>> rng = np.random.default_rng(1)
        >>> x = rng.normal(size=(2, 6, 5, 3)).astype(np.float32)
        >>> w = rng.normal(size=(3, 2, 3, 2)).astype(np.float32)
        >>> mine = depthwise_conv2d_forward_native(x, w, (2, 1), (1, 1, 0, 1))
        >>> bool(np.allclose(mine, depthwise_conv2d_forward_reference(x, w, (2, 1), (1, 1, 0, 1)), atol=1e-4))
        True
    """
    from tinydl import _native

    kh, kw, c, m = w.shape
    out_hw = padded_output_hw(x.shape[1:3], (kh, kw), strides, pads)
    if x.size == 0 or w.size == 0 or 0 in out_hw:
        return depthwise_conv2d_forward_reference(x, w, strides, pads)
    y = np.empty((x.shape[0], *out_hw, c * m), dtype=x.dtype)
    _native.depthwise_forward(x, w, y, tuple(int(s) for s in strides), _top_left(pads))
    return y


def depthwise_conv2d_backward_input_native(dy, w, x_shape, strides, pads):
    """As depthwise_conv2d_backward_input_reference, in C (tdl_depthwise_*_backward_input).

    Example:
        >>> rng = np.random.default_rng(1)
        >>> w, dy = rng.normal(size=(3, 3, 2, 2)).astype(np.float32), rng.normal(size=(1, 2, 2, 4)).astype(np.float32)
        >>> mine = depthwise_conv2d_backward_input_native(dy, w, (1, 4, 4, 2), (1, 1), (0, 0, 0, 0))
        >>> bool(np.allclose(mine, depthwise_conv2d_backward_input_reference(dy, w, (1, 4, 4, 2), (1, 1), (0, 0, 0, 0)),
        ...                  atol=1e-4))
        True
    """
    from tinydl import _native

    if dy.size == 0 or w.size == 0 or 0 in x_shape:
        return depthwise_conv2d_backward_input_reference(dy, w, x_shape, strides, pads)
    dx = np.empty(tuple(x_shape), dtype=dy.dtype)
    _native.depthwise_backward_input(dy, w, dx, tuple(int(s) for s in strides), _top_left(pads))
    return dx


def depthwise_conv2d_backward_kernel_native(dy, x, kernel_hw, strides, pads):
    """As depthwise_conv2d_backward_kernel_reference, in C (tdl_depthwise_*_backward_kernel).

    Example:
        >>> rng = np.random.default_rng(1)
        >>> x, dy = rng.normal(size=(1, 4, 4, 2)).astype(np.float32), rng.normal(size=(1, 2, 2, 4)).astype(np.float32)
        >>> mine = depthwise_conv2d_backward_kernel_native(dy, x, (3, 3), (1, 1), (0, 0, 0, 0))
        >>> bool(np.allclose(mine, depthwise_conv2d_backward_kernel_reference(dy, x, (3, 3), (1, 1), (0, 0, 0, 0)),
        ...                  atol=1e-4))
        True
    """
    from tinydl import _native

    if dy.size == 0 or x.size == 0:
        return depthwise_conv2d_backward_kernel_reference(dy, x, kernel_hw, strides, pads)
    c = x.shape[3]
    dw = np.empty((*kernel_hw, c, dy.shape[3] // c), dtype=dy.dtype)
    _native.depthwise_backward_kernel(dy, x, dw, tuple(int(s) for s in strides),
                                      _top_left(pads))
    return dw
