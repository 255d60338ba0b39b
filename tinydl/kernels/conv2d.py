"""2-D convolution NHWC x HWIO, and the convolution fused with a max pool: checks, reference, native.
"""

from __future__ import annotations

import numpy as np

from tinydl.kernels import _dispatch
from tinydl.kernels._checks import (
    remember_argmax, argmax_in_range, float_arrays, check_ndim, check_shape, check_window,
    check_image_shape, conv_output_shape)
from tinydl.kernels._extension import ext as _ext
from tinydl.kernels._registry import Kernel
from tinydl.kernels.limits import check_argmax_plane, check_elements
from tinydl.kernels.shapes import padded_output_hw
from tinydl.kernels.windows import im2col, col2im  # noqa: F401 (col2im: the adjoint, for readers)
from tinydl.kernels.pool import (max_pool2d_backward_native, max_pool2d_backward_reference,
                                 max_pool2d_forward_reference)
from tinydl.kernels.relu import relu_backward_native, relu_backward_reference
from tinydl.kernels.gemm import gemm_reference


# -------------------------------------------------------------- checked entries

def _conv_checks(where, x_shape, w_shape, strides, pads):
    if x_shape[3] != w_shape[2]:
        raise ValueError(
            f"{where}: kernel expects {w_shape[2]} input channels (kernel shape (KH, KW, C, F) = "
            f"{tuple(w_shape)}), but the input has {x_shape[3]} (input shape {tuple(x_shape)})"
        )
    check_window(where, x_shape[1:3], w_shape[:2], strides, pads)


def conv2d_forward(x, w, bias, strides, pads, relu=False):
    """NHWC convolution with an HWIO kernel; see tinydl.kernels.conv2d.conv2d_forward_reference.

    Args:
        As tinydl.kernels.conv2d.conv2d_forward_reference,
        the NumPy twin that defines the result; here every argument is checked
        (dtype, ndim, shapes, windows, ranges) before any kernel runs.

    Returns:
        As tinydl.kernels.conv2d.conv2d_forward_reference,
        computed by the backend in use (get_backend()).

    Raises:
        ValueError: shapes, windows, strides, pads or indices that do not fit (the
            message names the argument and what it received).
        TypeError: arrays that are not float32 or float64, or of different dtypes.

    Example:
        >>> from numpy.lib.stride_tricks import sliding_window_view
        >>> rng = np.random.default_rng(0)
        >>> x, w, bias = rng.normal(size=(2, 5, 6, 3)), rng.normal(size=(3, 2, 3, 4)), rng.normal(size=4)
        >>> strides, pads = (1, 2), (1, 1, 0, 1)                         # pads: top, bottom, left, right
        >>> y = conv2d_forward(x, w, bias, strides, pads)
        >>> xp = np.pad(x, ((0, 0), (1, 1), (0, 1), (0, 0)))
        >>> windows = sliding_window_view(xp, (3, 2), axis=(1, 2))[:, :, ::2]    # (N, OH, OW, C, KH, KW)

        >>> y.shape, bool(np.allclose(y, np.einsum("nhwcij,ijcf->nhwf", windows, w) + bias))
        ((2, 5, 3, 4), True)
        >>> conv2d_forward(x[..., :2], w, bias, strides, pads)
        Traceback (most recent call last):
        ...
        ValueError: conv2d: kernel expects 3 input channels (kernel shape (KH, KW, C, F) = (3, 2, 3, 4)), but ...
    """
    x, w, bias = float_arrays("conv2d", x=x, w=w, bias=bias)
    check_ndim("conv2d", "x", x, 4, "(N, H, W, C)")
    check_ndim("conv2d", "kernel", w, 4, "(KH, KW, C, F)")
    _conv_checks("conv2d", x.shape, w.shape, strides, pads)
    if bias is not None:
        check_shape("conv2d", "bias", bias, (w.shape[3],))
    check_elements("conv2d", output=conv_output_shape(x.shape, w.shape[:2], strides, pads,
                                                    w.shape[3]))
    return _dispatch.run("conv2d_forward", x, w, bias, tuple(strides), tuple(pads), bool(relu))


def conv2d_max_pool_forward(x, w, bias, strides, pads, relu, pool):
    """conv2d_forward then a max pool with windows `pool` tiling its output (strides == pool,
    no padding): (p, argmax), see tinydl.kernels.conv2d.conv2d_max_pool_forward_reference.

    Args:
        As tinydl.kernels.conv2d.conv2d_max_pool_forward_reference,
        the NumPy twin that defines the result; here every argument is checked
        (dtype, ndim, shapes, windows, ranges) before any kernel runs.

    Returns:
        As tinydl.kernels.conv2d.conv2d_max_pool_forward_reference,
        computed by the backend in use (get_backend()).

    Raises:
        ValueError: shapes, windows, strides, pads or indices that do not fit (the
            message names the argument and what it received).
        TypeError: arrays that are not float32 or float64, or of different dtypes.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> x, w = rng.normal(size=(2, 5, 6, 3)), rng.normal(size=(3, 2, 3, 4))
        >>> p, argmax = conv2d_max_pool_forward(x, w, None, (1, 1), (1, 1, 1, 1), True, (2, 2))
        >>> z = np.maximum(conv2d_forward_reference(x, w, None, (1, 1), (1, 1, 1, 1)), 0)    # (2, 5, 7, 4)
        >>> p.shape, bool(np.allclose(p, z[:, :4, :6].reshape(2, 2, 2, 3, 2, 4).max(axis=(2, 4))))
        ((2, 2, 3, 4), True)
        >>> winners = np.take_along_axis(z.reshape(2, -1, 4), argmax.reshape(2, -1, 4), axis=1)
        >>> bool(np.allclose(winners.reshape(p.shape), p))           # argmax: flat oh * OW + ow
        True
    """
    where = "conv2d_max_pool"
    x, w, bias = float_arrays(where, x=x, w=w, bias=bias)
    check_ndim(where, "x", x, 4, "(N, H, W, C)")
    check_ndim(where, "kernel", w, 4, "(KH, KW, C, F)")
    _conv_checks(where, x.shape, w.shape, strides, pads)
    if bias is not None:
        check_shape(where, "bias", bias, (w.shape[3],))
    pool = tuple(int(k) for k in pool)
    if len(pool) != 2 or min(pool) < 1:
        raise ValueError(f"{where}: pool must be 2 positive ints (PH, PW), got {pool}")
    conv_out = conv_output_shape(x.shape, w.shape[:2], strides, pads, w.shape[3])
    check_window(where, conv_out[1:3], pool, pool, (0, 0, 0, 0))
    check_elements(where, convolution_output=conv_out,  # its scratch holds whole pool bands
                   patch_band=(pool[0] * conv_out[2], w.shape[0] * w.shape[1] * w.shape[2]))
    check_argmax_plane(where, "the convolution's output", conv_out[1:3])
    p, argmax = _dispatch.run("conv2d_max_pool_forward", x, w, bias, tuple(strides), tuple(pads),
                     bool(relu), pool)
    return p, remember_argmax(argmax, conv_out[1] * conv_out[2])


def _check_pool_route(where, conv_out_shape, dy, pool_argmax, pool_geometry):
    """Check the optional max pool after a convolution; return (argmax, geometry) or (None, None).

    The pool's windows must tile the convolution's output (strides == window) and dy must have
    the pool's output shape; argmax must be int32 of that shape holding indices of the plane.
    """
    if pool_argmax is None:
        if pool_geometry is not None:
            raise ValueError(f"{where}: pool_geometry was given without pool_argmax; pass both "
                             "(the max pool's argmax and its (window, pads)) or neither")
        return None, None
    if pool_geometry is None or len(pool_geometry) != 2:
        raise ValueError(f"{where}: pool_geometry must be (window, pads) of the max pool, got "
                         f"{pool_geometry!r}")
    window = tuple(int(k) for k in pool_geometry[0])
    pads = tuple(int(p) for p in pool_geometry[1])
    check_window(where, conv_out_shape[1:3], window, window, pads)
    if pads[0] >= window[0] or pads[1] >= window[0] or pads[2] >= window[1] \
            or pads[3] >= window[1]:
        raise ValueError(f"{where}: pool pads {pads} must be smaller than the window {window}")
    pooled = conv_output_shape(conv_out_shape, window, window, pads, conv_out_shape[3])
    check_shape(where, "dy", dy, pooled)
    check_argmax_plane(where, "the convolution's output", conv_out_shape[1:3])
    pool_argmax = np.asarray(pool_argmax)
    if pool_argmax.dtype != np.int32 or pool_argmax.shape != dy.shape:
        raise ValueError(f"{where}: pool_argmax must be int32 of shape {dy.shape}, "
                         f"got {pool_argmax.dtype} {pool_argmax.shape}")
    plane = conv_out_shape[1] * conv_out_shape[2]
    if not argmax_in_range(pool_argmax, plane, trust_own=True):
        raise ValueError(f"{where}: pool_argmax holds indices outside the convolution's output "
                         f"plane (OH*OW = {plane})")
    return np.ascontiguousarray(pool_argmax), (window, pads)


def _check_gradient_route(where, conv_out, dy, relu_out, pool_argmax, pool_geometry):
    """Check how dy reaches a conv gradient kernel: directly (dy has the conv output's shape)
    or through a fused max pool; relu_out, when given, has dy's shape. Returns the pool route."""
    check_elements(where, convolution_output=conv_out)
    pool_argmax, pool_geometry = _check_pool_route(where, conv_out, dy, pool_argmax,
                                                   pool_geometry)
    if pool_argmax is None:
        check_shape(where, "dy", dy, conv_out)
    if relu_out is not None:
        check_shape(where, "relu_out", relu_out, dy.shape)
    return pool_argmax, pool_geometry


def conv2d_backward_input(dy, w, x_shape, strides, pads, relu_out=None, pool_argmax=None,
                          pool_geometry=None):
    """Gradient of conv2d with respect to x: (N, H, W, C).

    relu_out is the forward's output y (N, OH, OW, F) when it fused a ReLU, else None; with
    it, dy is masked to dy where y > 0 inside the kernel (no separate relu_backward pass).
    pool_argmax and pool_geometry=(window, pads) describe a max pool that followed the
    convolution (strides == window): dy and relu_out are then the pool's gradient and output,
    and the kernel routes dy to the argmax itself (no max_pool2d_backward pass).

    Args:
        As tinydl.kernels.conv2d.conv2d_backward_input_reference,
        the NumPy twin that defines the result; here every argument is checked
        (dtype, ndim, shapes, windows, ranges) before any kernel runs.

    Returns:
        As tinydl.kernels.conv2d.conv2d_backward_input_reference,
        computed by the backend in use (get_backend()).

    Raises:
        ValueError: shapes, windows, strides, pads or indices that do not fit (the
            message names the argument and what it received).
        TypeError: arrays that are not float32 or float64, or of different dtypes.

    Example:
        >>> from numpy.lib.stride_tricks import sliding_window_view
        >>> rng = np.random.default_rng(0)
        >>> x, w, bias = rng.normal(size=(2, 5, 6, 3)), rng.normal(size=(3, 2, 3, 4)), rng.normal(size=4)
        >>> strides, pads = (1, 2), (1, 1, 0, 1)                         # pads: top, bottom, left, right
        >>> dy = rng.normal(size=(2, 5, 3, 4))
        >>> dx = conv2d_backward_input(dy, w, x.shape, strides, pads)

        The input gradient is the adjoint of the convolution: <conv(x), dy> = <x, dx>.

        >>> y = conv2d_forward(x, w, None, strides, pads)
        >>> dx.shape, bool(np.isclose((y * dy).sum(), (x * dx).sum()))
        ((2, 5, 6, 3), True)
        >>> conv2d_backward_input(dy[:, :4], w, x.shape, strides, pads)
        Traceback (most recent call last):
        ...
        ValueError: conv2d_backward_input: dy must have shape (2, 5, 3, 4), ...
    """
    where = "conv2d_backward_input"
    dy, w, relu_out = float_arrays(where, dy=dy, w=w, relu_out=relu_out)
    x_shape = check_image_shape(where, x_shape)
    check_ndim(where, "kernel", w, 4, "(KH, KW, C, F)")
    check_ndim(where, "dy", dy, 4, "(N, OH, OW, F)")
    _conv_checks(where, x_shape, w.shape, strides, pads)
    conv_out = conv_output_shape(x_shape, w.shape[:2], strides, pads, w.shape[3])
    pool_argmax, pool_geometry = _check_gradient_route(where, conv_out, dy, relu_out,
                                                       pool_argmax, pool_geometry)
    return _dispatch.run(where, dy, w, x_shape, tuple(strides), tuple(pads), relu_out, pool_argmax,
                pool_geometry)


def conv2d_backward_kernel(dy, x, kernel_hw, strides, pads, with_bias, relu_out=None,
                           pool_argmax=None, pool_geometry=None):
    """Gradients of conv2d with respect to kernel (KH, KW, C, F) and bias (F,) or None.

    relu_out, pool_argmax, pool_geometry: as in conv2d_backward_input.

    Args:
        As tinydl.kernels.conv2d.conv2d_backward_kernel_reference,
        the NumPy twin that defines the result; here every argument is checked
        (dtype, ndim, shapes, windows, ranges) before any kernel runs.

    Returns:
        As tinydl.kernels.conv2d.conv2d_backward_kernel_reference,
        computed by the backend in use (get_backend()).

    Raises:
        ValueError: shapes, windows, strides, pads or indices that do not fit (the
            message names the argument and what it received).
        TypeError: arrays that are not float32 or float64, or of different dtypes.

    Example:
        >>> from numpy.lib.stride_tricks import sliding_window_view
        >>> rng = np.random.default_rng(0)
        >>> x, w, bias = rng.normal(size=(2, 5, 6, 3)), rng.normal(size=(3, 2, 3, 4)), rng.normal(size=4)
        >>> strides, pads = (1, 2), (1, 1, 0, 1)                         # pads: top, bottom, left, right
        >>> dy = rng.normal(size=(2, 5, 3, 4))
        >>> dw, db = conv2d_backward_kernel(dy, x, (3, 2), strides, pads, True)

        The convolution is linear in its kernel too, so <conv(x, w), dy> = <w, dw>:

        >>> y = conv2d_forward(x, w, None, strides, pads)
        >>> dw.shape, bool(np.isclose((y * dy).sum(), (w * dw).sum())), bool(np.allclose(db, dy.sum(axis=(0, 1, 2))))
        ((3, 2, 3, 4), True, True)
    """
    where = "conv2d_backward_kernel"
    dy, x, relu_out = float_arrays(where, dy=dy, x=x, relu_out=relu_out)
    kernel_hw = tuple(int(s) for s in kernel_hw)
    check_ndim(where, "x", x, 4, "(N, H, W, C)")
    check_ndim(where, "dy", dy, 4, "(N, OH, OW, F)")
    check_window(where, x.shape[1:3], kernel_hw, strides, pads)
    conv_out = conv_output_shape(x.shape, kernel_hw, strides, pads, dy.shape[-1])
    check_elements(where, kernel_gradient=(*kernel_hw, x.shape[3], dy.shape[-1]))
    pool_argmax, pool_geometry = _check_gradient_route(where, conv_out, dy, relu_out,
                                                       pool_argmax, pool_geometry)
    return _dispatch.run(where, dy, x, kernel_hw, tuple(strides), tuple(pads), bool(with_bias), relu_out,
                pool_argmax, pool_geometry)


# ------------------------------------------------------------ reference (NumPy)

def conv2d_forward_reference(x, w, bias, strides, pads, relu=False):
    """2-D convolution (cross-correlation, as in Keras), by im2col and one matrix multiply.

    Args:
        x: (N, H, W, C). w: (KH, KW, C, F). bias: (F,) or None.
    Returns:
        (N, OH, OW, F), with max(., 0) applied when relu.

    Example:
        >>> from numpy.lib.stride_tricks import sliding_window_view
        >>> rng = np.random.default_rng(0)
        >>> x, w, bias = rng.normal(size=(2, 5, 6, 3)), rng.normal(size=(3, 2, 3, 4)), rng.normal(size=4)
        >>> strides, pads = (1, 2), (1, 1, 0, 1)                         # pads: top, bottom, left, right
        >>> y = conv2d_forward_reference(x, w, bias, strides, pads)
        >>> xp = np.pad(x, ((0, 0), (1, 1), (0, 1), (0, 0)))
        >>> windows = sliding_window_view(xp, (3, 2), axis=(1, 2))[:, :, ::2]    # (N, OH, OW, C, KH, KW)

        >>> y.shape, bool(np.allclose(y, np.einsum("nhwcij,ijcf->nhwf", windows, w) + bias))
        ((2, 5, 3, 4), True)
    """
    kh, kw, c, f = w.shape
    cols, (oh, ow) = im2col(x, (kh, kw), strides, pads)
    y = gemm_reference(cols, w.reshape(kh * kw * c, f), bias=bias, relu=relu)
    return y.reshape(x.shape[0], oh, ow, f)


def conv2d_max_pool_forward_reference(x, w, bias, strides, pads, relu, pool):
    """A convolution followed by a max pool whose windows tile its output (strides == pool,
    no padding): the two kernels one after the other.

    Args:
        x: (N, H, W, C). w: (KH, KW, C, F). bias: (F,) or None. pool: (PH, PW).
    Returns:
        (p (N, OH // PH, OW // PW, F), argmax int32 of p's shape: flat oh*OW + ow of each
        window's first maximum in the convolution's output plane).

    Example:
        >>> rng = np.random.default_rng(0)
        >>> x, w = rng.normal(size=(2, 5, 6, 3)), rng.normal(size=(3, 2, 3, 4))
        >>> p, argmax = conv2d_max_pool_forward_reference(x, w, None, (1, 1), (1, 1, 1, 1), True, (2, 2))
        >>> z = np.maximum(conv2d_forward_reference(x, w, None, (1, 1), (1, 1, 1, 1)), 0)    # (2, 5, 7, 4)
        >>> p.shape, bool(np.allclose(p, z[:, :4, :6].reshape(2, 2, 2, 3, 2, 4).max(axis=(2, 4))))
        ((2, 2, 3, 4), True)
        >>> winners = np.take_along_axis(z.reshape(2, -1, 4), argmax.reshape(2, -1, 4), axis=1)
        >>> bool(np.allclose(winners.reshape(p.shape), p))           # argmax: flat oh * OW + ow
        True
    """
    out_hw = padded_output_hw(x.shape[1:3], w.shape[:2], strides, pads)
    check_argmax_plane("conv2d_max_pool", "the convolution's output", out_hw)
    y = conv2d_forward_reference(x, w, bias, strides, pads, relu)
    return max_pool2d_forward_reference(y, pool, pool, (0, 0, 0, 0))


def _conv_output_grad(dy, relu_out, pool_argmax, conv_out_shape,
                      relu_backward=relu_backward_reference,
                      pool_backward=max_pool2d_backward_reference):
    """The gradient at the convolution's output, from the dy the gradient kernels receive.

    With relu_out, dy is first masked by the fused ReLU (relu_backward). With pool_argmax, dy
    belongs to the max pool that followed the convolution and goes back through it
    (max_pool2d_backward) to the (N, OH, OW, F) output. The ReLU may be undone before the pool
    because the two commute: max_pool(relu(z)) == relu(max_pool(z)), so relu_out is then the
    pool's output. The reference kernels by default; the native input gradient passes its own.
    """
    if relu_out is not None:
        dy = relu_backward(relu_out, dy)
    if pool_argmax is not None:
        dy = pool_backward(dy, pool_argmax, conv_out_shape)
    return dy


def conv2d_backward_input_reference(dy, w, x_shape, strides, pads, relu_out=None, pool_argmax=None,
                          pool_geometry=None):
    """Gradient of conv2d with respect to its input.

    Args:
        dy: (N, OH, OW, F), or (N, PH, PW, F) with pool_argmax. w: (KH, KW, C, F).
        x_shape: (N, H, W, C).
        relu_out: dy's shape, or None. When the forward fused a ReLU, its output y: dy is
            first masked to dy where y > 0, else 0 (the ReLU backward; see relu_backward).
        pool_argmax: int32 (N, PH, PW, F) or None. When the convolution's output went into a
            max pool whose windows tile it (strides == window), that pool's argmax: dy and
            relu_out are then the pool's gradient and output, and the convolution's output
            gradient is max_pool2d_backward(masked dy, pool_argmax, (N, OH, OW, F)).
        pool_geometry: (window, pads) of that pool, or None. Not needed here (argmax says
            where each gradient goes); the native kernel uses it to find a pixel's window.
    Returns:
        dx: (N, H, W, C).

    Example:
        >>> from numpy.lib.stride_tricks import sliding_window_view
        >>> rng = np.random.default_rng(0)
        >>> x, w, bias = rng.normal(size=(2, 5, 6, 3)), rng.normal(size=(3, 2, 3, 4)), rng.normal(size=4)
        >>> strides, pads = (1, 2), (1, 1, 0, 1)                         # pads: top, bottom, left, right
        >>> dy = rng.normal(size=(2, 5, 3, 4))
        >>> dx = conv2d_backward_input_reference(dy, w, x.shape, strides, pads)

        The input gradient is the adjoint of the convolution: <conv(x), dy> = <x, dx>.

        >>> y = conv2d_forward(x, w, None, strides, pads)
        >>> dx.shape, bool(np.isclose((y * dy).sum(), (x * dx).sum()))
        ((2, 5, 6, 3), True)
    """
    kh, kw, c, f = w.shape
    out_hw = padded_output_hw(x_shape[1:3], (kh, kw), strides, pads)
    dy = _conv_output_grad(dy, relu_out, pool_argmax, (x_shape[0], *out_hw, f))
    dcols = gemm_reference(dy.reshape(-1, f), w.reshape(kh * kw * c, f), trans_b=True)
    return col2im(dcols, x_shape, (kh, kw), strides, pads)


def conv2d_backward_kernel_reference(dy, x, kernel_hw, strides, pads, with_bias, relu_out=None,
                           pool_argmax=None, pool_geometry=None):
    """Gradients of conv2d with respect to its kernel and bias.

    Args:
        dy: (N, OH, OW, F), or (N, PH, PW, F) with pool_argmax. x: (N, H, W, C).
        kernel_hw: (KH, KW).
        relu_out, pool_argmax, pool_geometry: as in conv2d_backward_input.
    Returns:
        (dw, db): dw (KH, KW, C, F); db (F,), or None when not with_bias.

    Example:
        >>> from numpy.lib.stride_tricks import sliding_window_view
        >>> rng = np.random.default_rng(0)
        >>> x, w, bias = rng.normal(size=(2, 5, 6, 3)), rng.normal(size=(3, 2, 3, 4)), rng.normal(size=4)
        >>> strides, pads = (1, 2), (1, 1, 0, 1)                         # pads: top, bottom, left, right
        >>> dy = rng.normal(size=(2, 5, 3, 4))
        >>> dw, db = conv2d_backward_kernel_reference(dy, x, (3, 2), strides, pads, True)

        The convolution is linear in its kernel too, so <conv(x, w), dy> = <w, dw>:

        >>> y = conv2d_forward(x, w, None, strides, pads)
        >>> dw.shape, bool(np.isclose((y * dy).sum(), (w * dw).sum())), bool(np.allclose(db, dy.sum(axis=(0, 1, 2))))
        ((3, 2, 3, 4), True, True)
    """
    f = dy.shape[3]
    cols, out_hw = im2col(x, kernel_hw, strides, pads)
    dy = _conv_output_grad(dy, relu_out, pool_argmax, (x.shape[0], *out_hw, f))
    dy2 = dy.reshape(-1, f)
    dw = gemm_reference(cols, dy2, trans_a=True).reshape(kernel_hw[0], kernel_hw[1], x.shape[3], f)
    db = dy2.sum(axis=0) if with_bias else None
    return dw, db


# ------------------------------------------- native (C, through tinydl._native)

def conv2d_forward_native(x, w, bias, strides, pads, relu=False):
    """x (N, H, W, C) conv w (KH, KW, C, F) [+ bias (F,)] [relu] -> (N, OH, OW, F).

    Args:
        As tinydl.kernels.conv2d.conv2d_forward_reference,
        already checked and made C-contiguous by tinydl.backend.conv2d_forward;
        float32 or float64 (one C kernel per dtype).

    Returns:
        As tinydl.kernels.conv2d.conv2d_forward_reference
        (its result, to rounding).

    Example:
        >>> from numpy.lib.stride_tricks import sliding_window_view
        >>> rng = np.random.default_rng(0)
        >>> x, w, bias = rng.normal(size=(2, 5, 6, 3)), rng.normal(size=(3, 2, 3, 4)), rng.normal(size=4)
        >>> strides, pads = (1, 2), (1, 1, 0, 1)                         # pads: top, bottom, left, right
        >>> y = conv2d_forward_native(x, w, bias, strides, pads)
        >>> xp = np.pad(x, ((0, 0), (1, 1), (0, 1), (0, 0)))
        >>> windows = sliding_window_view(xp, (3, 2), axis=(1, 2))[:, :, ::2]    # (N, OH, OW, C, KH, KW)

        >>> y.shape, bool(np.allclose(y, np.einsum("nhwcij,ijcf->nhwf", windows, w) + bias))
        ((2, 5, 3, 4), True)
    """
    oh, ow = padded_output_hw(x.shape[1:3], w.shape[:2], strides, pads)
    if x.size == 0 or w.size == 0 or oh <= 0 or ow <= 0:
        return conv2d_forward_reference(x, w, bias, strides, pads, relu)
    y = np.empty((x.shape[0], oh, ow, w.shape[3]), dtype=x.dtype)
    _ext.conv2d_forward(x, w, bias, tuple(strides), tuple(pads), relu, y)
    return y


def conv2d_max_pool_forward_native(x, w, bias, strides, pads, relu, pool):
    """max_pool(conv2d_forward(...), pool, strides=pool, no pads), the conv output never stored.

    Returns (p (N, OH // PH, OW // PW, F), argmax int32 of p's shape, flat oh*OW + ow).

    Args:
        As tinydl.kernels.conv2d.conv2d_max_pool_forward_reference,
        already checked and made C-contiguous by tinydl.backend.conv2d_max_pool_forward;
        float32 or float64 (one C kernel per dtype).

    Returns:
        As tinydl.kernels.conv2d.conv2d_max_pool_forward_reference
        (its result, to rounding).

    Example:
        >>> rng = np.random.default_rng(0)
        >>> x, w = rng.normal(size=(2, 5, 6, 3)), rng.normal(size=(3, 2, 3, 4))
        >>> p, argmax = conv2d_max_pool_forward_native(x, w, None, (1, 1), (1, 1, 1, 1), True, (2, 2))
        >>> z = np.maximum(conv2d_forward_reference(x, w, None, (1, 1), (1, 1, 1, 1)), 0)    # (2, 5, 7, 4)
        >>> p.shape, bool(np.allclose(p, z[:, :4, :6].reshape(2, 2, 2, 3, 2, 4).max(axis=(2, 4))))
        ((2, 2, 3, 4), True)
        >>> winners = np.take_along_axis(z.reshape(2, -1, 4), argmax.reshape(2, -1, 4), axis=1)
        >>> bool(np.allclose(winners.reshape(p.shape), p))           # argmax: flat oh * OW + ow
        True
    """
    oh, ow = padded_output_hw(x.shape[1:3], w.shape[:2], strides, pads)
    if x.size == 0 or w.size == 0 or oh < pool[0] or ow < pool[1]:
        return conv2d_max_pool_forward_reference(x, w, bias, strides, pads, relu, pool)
    p = np.empty((x.shape[0], oh // pool[0], ow // pool[1], w.shape[3]), dtype=x.dtype)
    argmax = np.empty(p.shape, dtype=np.int32)
    _ext.conv2d_max_pool_forward(x, w, bias, tuple(strides), tuple(pads), relu, tuple(pool),
                                 (oh, ow), p, argmax)
    return p, argmax


def conv2d_backward_input_native(dy, w, x_shape, strides, pads, relu_out=None, pool_argmax=None,
                          pool_geometry=None):
    """dy (N, OH, OW, F) [, relu_out] [, pooled: see reference] -> dx (N, H, W, C).

    Args:
        As tinydl.kernels.conv2d.conv2d_backward_input_reference,
        already checked and made C-contiguous by tinydl.backend.conv2d_backward_input;
        float32 or float64 (one C kernel per dtype).

    Returns:
        As tinydl.kernels.conv2d.conv2d_backward_input_reference
        (its result, to rounding).

    Example:
        >>> from numpy.lib.stride_tricks import sliding_window_view
        >>> rng = np.random.default_rng(0)
        >>> x, w, bias = rng.normal(size=(2, 5, 6, 3)), rng.normal(size=(3, 2, 3, 4)), rng.normal(size=4)
        >>> strides, pads = (1, 2), (1, 1, 0, 1)                         # pads: top, bottom, left, right
        >>> dy = rng.normal(size=(2, 5, 3, 4))
        >>> dx = conv2d_backward_input_native(dy, w, x.shape, strides, pads)

        The input gradient is the adjoint of the convolution: <conv(x), dy> = <x, dx>.

        >>> y = conv2d_forward(x, w, None, strides, pads)
        >>> dx.shape, bool(np.isclose((y * dy).sum(), (x * dx).sum()))
        ((2, 5, 6, 3), True)
    """
    if dy.size == 0 or w.size == 0 or 0 in x_shape:
        return conv2d_backward_input_reference(dy, w, x_shape, strides, pads, relu_out,
                                               pool_argmax, pool_geometry)
    out_hw = padded_output_hw(x_shape[1:3], w.shape[:2], strides, pads)
    if _input_grad_is_forward(w, strides, pads, x_shape[1:3], out_hw, pool_argmax is not None):
        if pool_argmax is not None:  # the pool's gradient routed to the conv output first
            dy = _conv_output_grad(dy, relu_out, pool_argmax, (x_shape[0], *out_hw, w.shape[3]),
                                   relu_backward_native, max_pool2d_backward_native)
            relu_out = None
        return _input_grad_as_forward(dy, w, pads, relu_out)
    dx = np.empty(x_shape, dtype=dy.dtype)
    _ext.conv2d_backward_input(dy, w, tuple(strides), tuple(pads), relu_out, pool_argmax,
                               pool_geometry, out_hw, dx)
    return dx


def _input_grad_is_forward(w, strides, pads, in_hw, out_hw, pooled: bool) -> bool:
    """Whether _input_grad_as_forward takes this input gradient: a 3x3 window, unit strides,
    pads of at most 2, at least 16 input and output channels (where the forward convolution
    runs Winograd), an output of at least 4x4 pixels, and no algorithm forced to 'im2col'
    (which keeps the col2im kernel). After a fused max pool, also an output at least as large
    as the input ('same'-like pads), the pool's gradient then routed to the convolution's
    output first.

    Measured (AMD EPYC Zen 4, batch 64, 'same' unless said, ms at 1 / 2 threads, col2im ->
    as a forward): pooled 16x16 32->64 6.2 -> 3.8 / 3.3 -> 2.7, 8x8 64->128 6.2 -> 3.3 /
    3.4 -> 2.2, 4x4 128->256 6.2 -> 3.3 / 3.6 -> 3.1, 30x30 32->32 13.1 -> 8.2 / 7.3 -> 5.1;
    but 'valid' (the pool skips the pixels the convolution lost) 15x15 32->64 3.6 -> 3.7 /
    1.9 -> 2.5, 6x6 64->128 1.6 -> 1.8 / 1.0 -> 1.4; and at 2x2 pixels (64 Winograd tiles:
    one chunk, one thread) 256->512 pooled 8.4 -> 7.6 / 5.7 -> 8.4, unpooled 7.4 -> 7.1 /
    5.2 -> 6.9."""
    from tinydl.kernels import native  # the forced algorithm (a test and benchmark hook)

    if pooled and out_hw[0] * out_hw[1] < in_hw[0] * in_hw[1]:
        return False
    return (tuple(strides) == (1, 1) and w.shape[:2] == (3, 3) and max(pads) <= 2
            and min(w.shape[2:]) >= 16 and min(out_hw) >= 4
            and native.get_conv_algorithm() != "im2col")


def _input_grad_as_forward(dy, w, pads, relu_out):
    """The input gradient of a stride-1 3x3 convolution, as the forward convolution it is: dy
    (masked by relu_out > 0 when the ReLU was fused), padded by 2 - p on each side, convolved
    with w turned by 180 degrees and its in and out channels swapped. So it runs on the forward
    kernel (Winograd F(2x2, 3x3)): measured 1.1-1.9x faster than the col2im input-gradient
    kernel on 16-128-channel layers, batch 64 (AMD EPYC Zen 4, 1 and 2 threads); training
    steps of the zoo's vgg_bn and seed_cnn5 about 1.1x faster, resnet_small's unchanged."""
    if relu_out is not None:
        dy = np.multiply(dy, relu_out > 0, dtype=dy.dtype)
    turned = np.ascontiguousarray(w[::-1, ::-1].transpose(0, 1, 3, 2))
    return conv2d_forward_native(dy, turned, None, (1, 1), tuple(2 - p for p in pads))


def conv2d_backward_kernel_native(dy, x, kernel_hw, strides, pads, with_bias, relu_out=None,
                           pool_argmax=None, pool_geometry=None):
    """dy (N, OH, OW, F), x (N, H, W, C) [, relu_out] [, pooled] -> (dw, db (F,) or None).

    Args:
        As tinydl.kernels.conv2d.conv2d_backward_kernel_reference,
        already checked and made C-contiguous by tinydl.backend.conv2d_backward_kernel;
        float32 or float64 (one C kernel per dtype).

    Returns:
        As tinydl.kernels.conv2d.conv2d_backward_kernel_reference
        (its result, to rounding).

    Example:
        >>> from numpy.lib.stride_tricks import sliding_window_view
        >>> rng = np.random.default_rng(0)
        >>> x, w, bias = rng.normal(size=(2, 5, 6, 3)), rng.normal(size=(3, 2, 3, 4)), rng.normal(size=4)
        >>> strides, pads = (1, 2), (1, 1, 0, 1)                         # pads: top, bottom, left, right
        >>> dy = rng.normal(size=(2, 5, 3, 4))
        >>> dw, db = conv2d_backward_kernel_native(dy, x, (3, 2), strides, pads, True)

        The convolution is linear in its kernel too, so <conv(x, w), dy> = <w, dw>:

        >>> y = conv2d_forward(x, w, None, strides, pads)
        >>> dw.shape, bool(np.isclose((y * dy).sum(), (w * dw).sum())), bool(np.allclose(db, dy.sum(axis=(0, 1, 2))))
        ((3, 2, 3, 4), True, True)
    """
    if dy.size == 0 or x.size == 0:
        return conv2d_backward_kernel_reference(dy, x, kernel_hw, strides, pads, with_bias,
                                                relu_out, pool_argmax, pool_geometry)
    out_hw = padded_output_hw(x.shape[1:3], kernel_hw, strides, pads)
    dw = np.empty((kernel_hw[0], kernel_hw[1], x.shape[3], dy.shape[3]), dtype=dy.dtype)
    db = np.empty(dy.shape[3], dtype=dy.dtype) if with_bias else None
    _ext.conv2d_backward_kernel(dy, x, tuple(strides), tuple(pads), relu_out, pool_argmax,
                                pool_geometry, out_hw, dw, db)
    return dw, db


# --------------------------------------------------------- the family's kernels

KERNELS = (
    Kernel("conv2d_forward", entry=conv2d_forward,
           reference=conv2d_forward_reference,
           native=conv2d_forward_native),
    Kernel("conv2d_max_pool_forward", entry=conv2d_max_pool_forward,
           reference=conv2d_max_pool_forward_reference,
           native=conv2d_max_pool_forward_native),
    Kernel("conv2d_backward_input", entry=conv2d_backward_input,
           reference=conv2d_backward_input_reference,
           native=conv2d_backward_input_native),
    Kernel("conv2d_backward_kernel", entry=conv2d_backward_kernel,
           reference=conv2d_backward_kernel_reference,
           native=conv2d_backward_kernel_native),
)
