"""Reference kernels: readable NumPy versions of every hot loop, and the oracle for the native ones.

Each function here has a twin of the same name and signature in tinydl.kernels.native.
Arguments arrive already checked by tinydl.backend (dtypes agree, shapes fit, arrays are
C-contiguous), so these functions only compute. Letters used for shapes everywhere:
N batch, H/W input height/width, C input channels, KH/KW kernel or pool window,
F filters (output channels), OH/OW output height/width, K classes.
`pads` is always (top, bottom, left, right); `strides` is (SH, SW).
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from tinydl.kernels.limits import check_argmax_plane
from tinydl.kernels.shapes import padded_output_hw
from tinydl.kernels.depthwise import (  # noqa: F401  (the depthwise family's twins)
    depthwise_conv2d_backward_input_reference as depthwise_conv2d_backward_input,
    depthwise_conv2d_backward_kernel_reference as depthwise_conv2d_backward_kernel,
    depthwise_conv2d_forward_reference as depthwise_conv2d_forward)
from tinydl.kernels.reference_recurrent import (  # noqa: F401  (the recurrent family's twins)
    gru_backward, gru_forward, lstm_backward, lstm_forward, simple_rnn_backward,
    simple_rnn_forward)


# ----------------------------------------------------------------------------- matmul

def gemm(a, b, trans_a=False, trans_b=False, alpha=1.0, beta=0.0, c=None, bias=None, relu=False):
    """General matrix multiply: relu(alpha * op(a) @ op(b) + beta * c + bias).

    Args:
        a: (M, K), or (K, M) when trans_a.
        b: (K, N), or (N, K) when trans_b.
        c: (M, N) or None; read only when beta != 0.
        bias: (N,) or None, added to every row.
        relu: apply max(., 0) at the end (a fused epilogue in the native kernel).

    Returns:
        A new (M, N) array.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> a, b, bias = rng.normal(size=(3, 4)), rng.normal(size=(5, 4)), rng.normal(size=5)
        >>> out = gemm(a, b, trans_b=True, alpha=2.0, bias=bias, relu=True)
        >>> out.shape, bool(np.allclose(out, np.maximum(2.0 * a @ b.T + bias, 0)))
        ((3, 5), True)
    """
    op_a = a.T if trans_a else a
    op_b = b.T if trans_b else b
    out = op_a @ op_b
    if alpha != 1.0:
        out *= alpha
    if c is not None and beta != 0.0:
        out += beta * c
    if bias is not None:
        out += bias
    if relu:
        np.maximum(out, 0, out=out)
    return out


# ----------------------------------------------------------------------------- conv2d

def _pad(x, pads, value=0.0):
    top, bottom, left, right = pads
    if not any(pads):
        return x
    return np.pad(x, ((0, 0), (top, bottom), (left, right), (0, 0)), constant_values=value)


def _windows(xp, window, strides, out_hw):
    """View of every window of a padded NHWC array: (N, OH, OW, KH, KW, C), no copy."""
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
    cols = _windows(_pad(x, pads), window, strides, out_hw)
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


def conv2d_forward(x, w, bias, strides, pads, relu=False):
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
        >>> y = conv2d_forward(x, w, bias, strides, pads)
        >>> xp = np.pad(x, ((0, 0), (1, 1), (0, 1), (0, 0)))
        >>> windows = sliding_window_view(xp, (3, 2), axis=(1, 2))[:, :, ::2]    # (N, OH, OW, C, KH, KW)

        >>> y.shape, bool(np.allclose(y, np.einsum("nhwcij,ijcf->nhwf", windows, w) + bias))
        ((2, 5, 3, 4), True)
    """
    kh, kw, c, f = w.shape
    cols, (oh, ow) = im2col(x, (kh, kw), strides, pads)
    y = gemm(cols, w.reshape(kh * kw * c, f), bias=bias, relu=relu)
    return y.reshape(x.shape[0], oh, ow, f)


def conv2d_max_pool_forward(x, w, bias, strides, pads, relu, pool):
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
        >>> p, argmax = conv2d_max_pool_forward(x, w, None, (1, 1), (1, 1, 1, 1), True, (2, 2))
        >>> z = np.maximum(conv2d_forward(x, w, None, (1, 1), (1, 1, 1, 1)), 0)    # (2, 5, 7, 4)
        >>> p.shape, bool(np.allclose(p, z[:, :4, :6].reshape(2, 2, 2, 3, 2, 4).max(axis=(2, 4))))
        ((2, 2, 3, 4), True)
        >>> winners = np.take_along_axis(z.reshape(2, -1, 4), argmax.reshape(2, -1, 4), axis=1)
        >>> bool(np.array_equal(winners.reshape(p.shape), p))           # argmax: flat oh * OW + ow
        True
    """
    out_hw = padded_output_hw(x.shape[1:3], w.shape[:2], strides, pads)
    check_argmax_plane("conv2d_max_pool", "the convolution's output", out_hw)
    y = conv2d_forward(x, w, bias, strides, pads, relu)
    return max_pool2d_forward(y, pool, pool, (0, 0, 0, 0))


def _conv_output_grad(dy, relu_out, pool_argmax, conv_out_shape):
    """The gradient at the convolution's output, from the dy the gradient kernels receive.

    With relu_out, dy is first masked by the fused ReLU (relu_backward). With pool_argmax, dy
    belongs to the max pool that followed the convolution and goes back through it
    (max_pool2d_backward) to the (N, OH, OW, F) output. The ReLU may be undone before the pool
    because the two commute: max_pool(relu(z)) == relu(max_pool(z)), so relu_out is then the
    pool's output.
    """
    if relu_out is not None:
        dy = relu_backward(relu_out, dy)
    if pool_argmax is not None:
        dy = max_pool2d_backward(dy, pool_argmax, conv_out_shape)
    return dy


def conv2d_backward_input(dy, w, x_shape, strides, pads, relu_out=None, pool_argmax=None,
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
        >>> dx = conv2d_backward_input(dy, w, x.shape, strides, pads)

        The input gradient is the adjoint of the convolution: <conv(x), dy> = <x, dx>.

        >>> y = conv2d_forward(x, w, None, strides, pads)
        >>> dx.shape, bool(np.isclose((y * dy).sum(), (x * dx).sum()))
        ((2, 5, 6, 3), True)
    """
    kh, kw, c, f = w.shape
    out_hw = padded_output_hw(x_shape[1:3], (kh, kw), strides, pads)
    dy = _conv_output_grad(dy, relu_out, pool_argmax, (x_shape[0], *out_hw, f))
    dcols = gemm(dy.reshape(-1, f), w.reshape(kh * kw * c, f), trans_b=True)
    return col2im(dcols, x_shape, (kh, kw), strides, pads)


def conv2d_backward_kernel(dy, x, kernel_hw, strides, pads, with_bias, relu_out=None,
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
        >>> dw, db = conv2d_backward_kernel(dy, x, (3, 2), strides, pads, True)

        The convolution is linear in its kernel too, so <conv(x, w), dy> = <w, dw>:

        >>> y = conv2d_forward(x, w, None, strides, pads)
        >>> dw.shape, bool(np.isclose((y * dy).sum(), (w * dw).sum())), bool(np.allclose(db, dy.sum(axis=(0, 1, 2))))
        ((3, 2, 3, 4), True, True)
    """
    f = dy.shape[3]
    cols, out_hw = im2col(x, kernel_hw, strides, pads)
    dy = _conv_output_grad(dy, relu_out, pool_argmax, (x.shape[0], *out_hw, f))
    dy2 = dy.reshape(-1, f)
    dw = gemm(cols, dy2, trans_a=True).reshape(kernel_hw[0], kernel_hw[1], x.shape[3], f)
    db = dy2.sum(axis=0) if with_bias else None
    return dw, db


# ----------------------------------------------------------------------------- pooling

def max_pool2d_forward(x, pool, strides, pads):
    """Max pooling. Padded positions never win (they hold -inf).

    Args:
        x: (N, H, W, C).
    Returns:
        (y, argmax): y (N, OH, OW, C); argmax int32 (N, OH, OW, C), the flat index h*W + w
        in x's plane of the element that won.
    Raises:
        ValueError: H*W > 2**31, more pixels than an int32 argmax can index.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> x = rng.normal(size=(2, 4, 6, 3))
        >>> y, argmax = max_pool2d_forward(x, (2, 2), (2, 2), (0, 0, 0, 0))
        >>> y.shape, bool(np.array_equal(y, x.reshape(2, 2, 2, 3, 2, 3).max(axis=(2, 4))))
        ((2, 2, 3, 3), True)
        >>> winners = np.take_along_axis(x.reshape(2, -1, 3), argmax.reshape(2, -1, 3), axis=1)
        >>> argmax.dtype, bool(np.array_equal(winners.reshape(y.shape), y))     # argmax: flat h * W + w
        (dtype('int32'), True)
    """
    n, h, w, c = x.shape
    check_argmax_plane("max_pool2d", "the input", (h, w))  # the int32 below must not wrap
    out_hw = padded_output_hw((h, w), pool, strides, pads)
    win = _windows(_pad(x, pads, -np.inf), pool, strides, out_hw)   # (N, OH, OW, KH, KW, C)
    win = win.reshape(n, out_hw[0], out_hw[1], pool[0] * pool[1], c)
    local = win.argmax(axis=3)                                       # (N, OH, OW, C)
    y = np.take_along_axis(win, local[:, :, :, None, :], axis=3)[:, :, :, 0, :]
    # local index -> row and column in x
    oh_idx = np.arange(out_hw[0])[None, :, None, None]
    ow_idx = np.arange(out_hw[1])[None, None, :, None]
    row = oh_idx * strides[0] - pads[0] + local // pool[1]
    col = ow_idx * strides[1] - pads[2] + local % pool[1]
    return np.ascontiguousarray(y), (row * w + col).astype(np.int32)


def max_pool2d_backward(dy, argmax, x_shape):
    """Send each output gradient back to the input element that won its window.

    Args:
        dy: (N, OH, OW, C). argmax: int32 (N, OH, OW, C) from max_pool2d_forward.
    Returns:
        dx: (N, H, W, C); overlapping windows add up.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> x = rng.normal(size=(2, 4, 6, 3))
        >>> y, argmax = max_pool2d_forward(x, (2, 2), (2, 2), (0, 0, 0, 0))
        >>> dy = rng.normal(size=y.shape)
        >>> dx = max_pool2d_backward(dy, argmax, x.shape)

        Each gradient lands on its window's winner, so <dx, x> = <dy, y> and a quarter of dx is set:

        >>> dx.shape, bool(np.isclose((dx * x).sum(), (dy * y).sum())), int((dx != 0).sum()), dy.size
        ((2, 4, 6, 3), True, 36, 36)
    """
    n, h, w, c = x_shape
    dx = np.zeros((n, h * w, c), dtype=dy.dtype)
    batch = np.arange(n)[:, None, None, None]
    chan = np.arange(c)[None, None, None, :]
    np.add.at(dx, (np.broadcast_to(batch, dy.shape), argmax, np.broadcast_to(chan, dy.shape)), dy)
    return dx.reshape(x_shape)


def _avg_counts(x_shape, pool, strides, pads, dtype):
    """How many real (unpadded) inputs each window covers: (1, OH, OW, 1)."""
    ones = np.ones((1, x_shape[1], x_shape[2], 1), dtype=dtype)
    out_hw = padded_output_hw(x_shape[1:3], pool, strides, pads)
    return _windows(_pad(ones, pads), pool, strides, out_hw).sum(axis=(3, 4))


def avg_pool2d_forward(x, pool, strides, pads):
    """Average pooling over the real inputs of each window (padding is not counted, as in Keras).

    Args:
        x: (N, H, W, C).
    Returns:
        (N, OH, OW, C).

    Example:
        >>> x = np.arange(9.0).reshape(1, 3, 3, 1)
        >>> y = avg_pool2d_forward(x, (2, 2), (2, 2), (0, 1, 0, 1))

        Padding is not counted: the last window holds one real input, x[0, 2, 2].

        >>> y[0, :, :, 0]
        array([[2. , 3.5],
               [6.5, 8. ]])
        >>> float(x[0, :2, :2, 0].mean())
        2.0
    """
    out_hw = padded_output_hw(x.shape[1:3], pool, strides, pads)
    sums = _windows(_pad(x, pads), pool, strides, out_hw).sum(axis=(3, 4))
    return sums / _avg_counts(x.shape, pool, strides, pads, x.dtype)


def avg_pool2d_backward(dy, x_shape, pool, strides, pads):
    """Spread each output gradient evenly over the real inputs of its window.

    Args:
        dy: (N, OH, OW, C).
    Returns:
        dx: (N, H, W, C).

    Example:
        >>> rng = np.random.default_rng(0)
        >>> x = rng.normal(size=(2, 5, 5, 3))
        >>> dy = rng.normal(size=(2, 3, 3, 3))
        >>> dx = avg_pool2d_backward(dy, x.shape, (2, 2), (2, 2), (0, 1, 0, 1))

        The adjoint of the (linear) forward: <avg_pool(x), dy> = <x, dx>.

        >>> y = avg_pool2d_forward(x, (2, 2), (2, 2), (0, 1, 0, 1))
        >>> dx.shape, bool(np.isclose((y * dy).sum(), (x * dx).sum()))
        ((2, 5, 5, 3), True)
    """
    share = dy / _avg_counts(x_shape, pool, strides, pads, dy.dtype)
    n, oh, ow, c = dy.shape
    cols = np.broadcast_to(share[:, :, :, None, None, :], (n, oh, ow, pool[0], pool[1], c))
    return col2im(np.ascontiguousarray(cols), x_shape, pool, strides, pads)


# ----------------------------------------------------------------------------- softmax cross-entropy

def softmax_xent_forward(logits, labels):
    """Softmax and cross-entropy in one stable pass (log-sum-exp with the row max subtracted).

    Args:
        logits: (N, K). labels: int64 (N,), each in [0, K).
    Returns:
        (losses, probs): losses (N,) = logsumexp(row) - row[label]; probs (N, K) = softmax(row).

    Example:
        >>> logits = np.array([[2.0, 1.0, 0.1], [0.5, 2.5, -1.0]])
        >>> labels = np.array([0, 2])
        >>> losses, probs = softmax_xent_forward(logits, labels)
        >>> expected = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
        >>> bool(np.allclose(probs, expected)), bool(np.allclose(losses, -np.log(expected[[0, 1], labels])))
        (True, True)
    """
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_norm = np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    log_probs = shifted - log_norm
    losses = -log_probs[np.arange(len(labels)), labels]
    return losses, np.exp(log_probs)


def softmax_xent_backward(probs, labels, scale):
    """Gradient of scale * sum(losses) with respect to the logits: (probs - onehot) * scale.

    For the mean loss over a batch of N, scale = upstream_gradient / N.

    Args:
        probs: (N, K) from softmax_xent_forward. labels: int64 (N,). scale: a float.
    Returns:
        (N, K).

    Example:
        >>> probs = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]])
        >>> labels = np.array([0, 1])
        >>> grad = softmax_xent_backward(probs, labels, 0.5)                 # the mean over N = 2
        >>> grad, bool(np.allclose(grad, (probs - np.eye(3)[labels]) * 0.5))
        (array([[-0.15,  0.1 ,  0.05], [ 0.05, -0.45,  0.4 ]]), True)
    """
    grad = probs.copy()
    grad[np.arange(len(labels)), labels] -= 1.0
    grad *= scale
    return grad


# ----------------------------------------------------------------------------- relu

def relu_forward(x):
    """max(x, 0), elementwise. Any shape.

    Example:
        >>> out = relu_forward(np.array([[-1.5, 0.0, 2.0]]))
        >>> out
        array([[0., 0., 2.]])
    """
    return np.maximum(x, 0)


def relu_backward(y, dy):
    """dy where the forward output y was positive, else 0. Any shape (y and dy alike).

    Example:
        >>> y, dy = np.array([0.0, 2.0, 0.0, 1.0]), np.array([5.0, 7.0, -1.0, 3.0])
        >>> dx = relu_backward(y, dy)
        >>> dx
        array([0., 7., 0., 3.])
    """
    return np.where(y > 0, dy, 0).astype(dy.dtype, copy=False)


# ----------------------------------------------------------------------------- optimizers

def adam_update(w, g, m, v, v_hat, alpha, one_minus_beta_1, one_minus_beta_2, epsilon):
    """One Adam step (Kingma & Ba, 2015), in place on w, m, v and v_hat. Returns None.

    Elementwise, in Keras 3's form (c1 = 1 - beta_1, c2 = 1 - beta_2):

        m <- m + (g - m) * c1            # = beta_1 m + (1 - beta_1) g: running mean of g
        v <- v + (g * g - v) * c2        # = beta_2 v + (1 - beta_2) g^2: running mean of g^2
        v_hat <- max(v_hat, v)           # AMSGrad (Reddi et al., 2018) only; then v = v_hat
        w <- w - (m * alpha) / (sqrt(v) + epsilon)

    alpha = lr * sqrt(1 - beta_2^t) / (1 - beta_1^t) carries step t's bias correction. These
    NumPy operations, in this order and in float32, define the result: the native kernel
    gives the same bits.

    Args:
        w: the variable, any shape, float32. (A float64 w works too: only its last
            subtraction is then done in float64.)
        g: its gradient, w's shape, float32.
        m, v: the first and second moment estimates, w's shape, float32.
        v_hat: the running maximum of v (w's shape, float32), or None without AMSGrad.
        alpha, one_minus_beta_1, one_minus_beta_2, epsilon: np.float32 scalars.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> w, g = rng.normal(size=5).astype(np.float32), rng.normal(size=5).astype(np.float32)
        >>> m, v = np.zeros(5, np.float32), np.zeros(5, np.float32)
        >>> w0 = w.copy()
        >>> adam_update(w, g, m, v, None, np.float32(0.01), np.float32(0.1), np.float32(0.001), np.float32(1e-7))

        After one step from zero moments, m = 0.1 g and v = 0.001 g^2:

        >>> bool(np.allclose(m, 0.1 * g)), bool(np.allclose(v, 0.001 * g * g))
        (True, True)
        >>> bool(np.allclose(w, w0 - 0.01 * m / (np.sqrt(v) + 1e-7)))
        True
    """
    m += (g - m) * one_minus_beta_1
    v += (g * g - v) * one_minus_beta_2
    if v_hat is not None:
        np.maximum(v_hat, v, out=v_hat)
        v = v_hat
    w -= (m * alpha) / (np.sqrt(v) + epsilon)


# ----------------------------------------------------------------------------- embedding

def embedding_backward(ids, dy, input_dim):
    """Gradient of an embedding lookup: dW (input_dim, D) with dW[ids[m]] += dy[m], m in order.

    Args:
        ids: int64 (M,), each in [0, input_dim). dy: (M, D), the gradient of the looked-up rows.

    Example:
        >>> ids, dy = np.array([1, 0, 1]), np.arange(6.0).reshape(3, 2)      # M = 3 lookups, D = 2
        >>> dw = embedding_backward(ids, dy, 3)

        Row 1 gets the gradients of lookups 0 and 2, row 0 that of lookup 1, row 2 nothing:

        >>> dw
        array([[2., 3.],
               [4., 6.],
               [0., 0.]])
    """
    dw = np.zeros((input_dim, dy.shape[1]), dtype=dy.dtype)
    np.add.at(dw, ids, dy)
    return dw
