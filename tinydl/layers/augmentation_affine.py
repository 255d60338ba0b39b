"""Random affine augmentation of NHWC images: RandomRotation and RandomZoom (training only).

Both build one 2x3 matrix per image and resample through it with affine_sample, which reads
each output pixel (row y, column x) from the input at the point

    x_in = a0 * x + a1 * y + a2,    y_in = b0 * x + b1 * y + b2

as keras.ops.image.affine_transform (TensorFlow's ImageProjectiveTransformV3): the point is
first folded into the image by fill_mode, then interpolated (bilinear or nearest), and a
neighbour still outside reads fill_value. The matrix is a NumPy draw (not differentiated); the
pixels move through gathers, so gradients flow to the inputs. See augmentation.py for seeds.
"""

from __future__ import annotations

import numpy as np

from tinydl import ops
from tinydl.layers import _args
from tinydl.layers.augmentation import FILL_MODES, _RandomImageLayer

INTERPOLATIONS = ("bilinear", "nearest")


def _fold(coord, size: int, mode: str):
    """Float source coordinates folded into [0, size - 1] by fill_mode ('constant' leaves them).

    reflect (d c b a | a b c d | d c b a), wrap (a b c d | a b c d), nearest (a a | a b c d | d d).
    """
    if mode == "constant":
        return coord
    if size <= 1:
        return np.zeros_like(coord)
    if mode == "reflect":
        span = 2 * size
        low = coord + span * np.trunc(-coord / span)
        low = np.where(low < -size, low + span, -low - 1)
        high = coord - span * np.trunc(coord / span)
        high = np.where(high >= size, span - high - 1, high)
        coord = np.where(coord < 0, low, np.where(coord > size - 1, high, coord))
    elif mode == "wrap":
        period = size - 1
        low = coord + size * (np.trunc(-coord / period) + 1)
        high = coord - size * np.trunc(coord / period)
        coord = np.where(coord < 0, low, np.where(coord > size - 1, high, coord))
    return np.clip(coord, 0, size - 1)


def _read(x, rows, cols):
    """x (N, H, W, C) at integer (N, OH, OW) rows and cols, clipped into the image; and the
    (N, OH, OW, 1) mask of the positions that were inside."""
    _, h, w, _ = x.shape
    inside = (rows >= 0) & (rows < h) & (cols >= 0) & (cols < w)
    batch = np.arange(x.shape[0])[:, None, None]
    values = ops.getitem(x, (batch, np.clip(rows, 0, h - 1), np.clip(cols, 0, w - 1)))
    return values, inside[..., None].astype(x.dtype)


def affine_sample(x, matrices, interpolation="bilinear", fill_mode="reflect", fill_value=0.0):
    """Resample x (N, H, W, C) through one matrix per image (N, 6) = (a0, a1, a2, b0, b1, b2).

    Returns:
        (N, H, W, C): each output pixel read from the input at the point the matrix gives.

    Example:
        >>> x = np.arange(4.0).reshape(1, 2, 2, 1)
        >>> identity = [[1, 0, 0, 0, 1, 0]]
        >>> affine_sample(x, identity).data[0, :, :, 0]
        array([[0., 1.],
               [2., 3.]])
    """
    n, h, w, _ = x.shape
    m = np.asarray(matrices, np.float64).reshape(n, 6, 1, 1)
    ys, xs = np.meshgrid(np.arange(h, dtype=np.float64), np.arange(w, dtype=np.float64),
                         indexing="ij")
    src_x = _fold(m[:, 0] * xs + m[:, 1] * ys + m[:, 2], w, fill_mode)
    src_y = _fold(m[:, 3] * xs + m[:, 4] * ys + m[:, 5], h, fill_mode)
    if interpolation == "nearest":
        values, inside = _read(x, _round(src_y), _round(src_x))
        return values * inside + (1 - inside) * x.dtype.type(fill_value)
    y0, x0 = np.floor(src_y), np.floor(src_x)
    out = None
    for rows, wy in ((y0, 1 - (src_y - y0)), (y0 + 1, src_y - y0)):
        for cols, wx in ((x0, 1 - (src_x - x0)), (x0 + 1, src_x - x0)):
            values, inside = _read(x, rows.astype(np.int64), cols.astype(np.int64))
            weight = (wy * wx)[..., None].astype(x.dtype)
            term = values * (weight * inside) + weight * (1 - inside) * x.dtype.type(fill_value)
            out = term if out is None else out + term
    return out


def _round(coord):
    """Round half away from zero (C's round), as TensorFlow's nearest interpolation."""
    return (np.sign(coord) * np.floor(np.abs(coord) + 0.5)).astype(np.int64)


class _RandomAffine(_RandomImageLayer):
    """Shared by RandomRotation and RandomZoom: fill and interpolation options, and the call."""

    def __init__(self, fill_mode, interpolation, seed, fill_value, data_format, **kwargs):
        super().__init__(seed=seed, **kwargs)
        where = type(self).__name__
        _args.channels_last_only(data_format, 1, where)
        self.fill_mode = _args.choice(fill_mode, "fill_mode", FILL_MODES, where)
        self.interpolation = _args.choice(interpolation, "interpolation", INTERPOLATIONS, where)
        if isinstance(fill_value, bool) or not isinstance(fill_value, (int, float, np.number)):
            raise ValueError(f"{where}: fill_value must be a number. "
                             f"Received: fill_value={fill_value!r}")
        self.fill_value = float(fill_value)

    def call(self, inputs, training=None):
        _args.check_image_input(inputs.shape, type(self).__name__)
        if not training:
            return inputs
        n, h, w, _ = inputs.shape
        return affine_sample(inputs, self._matrices(n, h, w), self.interpolation,
                             self.fill_mode, self.fill_value)

    def get_config(self):
        return {**super().get_config(), "fill_mode": self.fill_mode,
                "interpolation": self.interpolation, "fill_value": self.fill_value}


def _factor_pair(factor, name: str, layer: str, low_open: bool) -> tuple[float, float]:
    """A number f -> (-|f|, |f|); a pair -> sorted; values in [-1, 1] ((-1, 1] when low_open)."""
    def ok(v):
        return isinstance(v, (int, float, np.number)) and not isinstance(v, bool) \
            and v <= 1 and (v > -1 if low_open else v >= -1)
    if ok(factor):
        return -abs(float(factor)), abs(float(factor))
    if isinstance(factor, (tuple, list)) and len(factor) == 2 and all(ok(v) for v in factor):
        low, high = sorted(float(v) for v in factor)
        return low, high
    bounds = "(-1, 1]" if low_open else "[-1, 1]"
    raise ValueError(f"{layer}: {name} must be a number or a pair of numbers in {bounds}. "
                     f"Received: {name}={factor!r}")


def _plain(factor):
    return list(factor) if isinstance(factor, (tuple, list)) else factor


class RandomRotation(_RandomAffine):
    """Rotate each image by a random angle about its centre (training only).

    Args:
        factor: a fraction of a full turn, f (angles in [-f, f] * 360 degrees) or a pair
            (lower, upper); e.g. 0.1 rotates by up to 36 degrees either way. A positive
            angle turns the picture counter-clockwise.
        fill_mode: 'reflect' (default), 'wrap', 'constant' (fill_value) or 'nearest'.
        interpolation: 'bilinear' (default) or 'nearest'.
        seed, fill_value: see augmentation.py; data_format only 'channels_last'.

    Example:
        >>> RandomRotation(0.1, seed=0)(np.ones((2, 8, 8, 3), np.float32), training=True).shape
        (2, 8, 8, 3)
    """

    def __init__(self, factor, fill_mode: str = "reflect", interpolation: str = "bilinear",
                 seed=None, fill_value: float = 0.0, data_format=None, **kwargs):
        super().__init__(fill_mode, interpolation, seed, fill_value, data_format, **kwargs)
        self.factor = _factor_pair(factor, "factor", "RandomRotation", low_open=False)
        self._factor_arg = factor

    def _matrices(self, n, h, w):
        angle = np.deg2rad(self._rng().uniform(self.factor[0] * 360, self.factor[1] * 360, n))
        cos, sin = np.cos(angle), np.sin(angle)
        cx, cy = (w - 1) / 2, (h - 1) / 2
        return np.stack([cos, -sin, cx - cx * cos + cy * sin,
                         sin, cos, cy - cx * sin - cy * cos], axis=1)

    def get_config(self):
        return {**super().get_config(), "factor": _plain(self._factor_arg)}


class RandomZoom(_RandomAffine):
    """Zoom each image in or out about its centre by a random factor (training only).

    Args:
        height_factor: f (vertical zoom in [1 - f, 1 + f]) or a pair (lower, upper), values in
            (-1, 1]: a positive value zooms out (the picture shrinks), a negative one zooms in.
        width_factor: the same for the horizontal zoom; None (default) zooms both axes by one
            factor, keeping the aspect ratio.
        fill_mode, interpolation, seed, fill_value: as in RandomRotation.

    Example:
        >>> RandomZoom(0.2, seed=0)(np.ones((2, 8, 8, 3), np.float32), training=True).shape
        (2, 8, 8, 3)
    """

    def __init__(self, height_factor, width_factor=None, fill_mode: str = "reflect",
                 interpolation: str = "bilinear", seed=None, fill_value: float = 0.0,
                 data_format=None, **kwargs):
        super().__init__(fill_mode, interpolation, seed, fill_value, data_format, **kwargs)
        self.height_range = _factor_pair(height_factor, "height_factor", "RandomZoom", True)
        self.width_range = None if width_factor is None else \
            _factor_pair(width_factor, "width_factor", "RandomZoom", True)
        self.height_factor, self.width_factor = height_factor, width_factor

    def _matrices(self, n, h, w):
        rng = self._rng()
        zoom_y = 1 + rng.uniform(*self.height_range, n)
        zoom_x = zoom_y if self.width_range is None else 1 + rng.uniform(*self.width_range, n)
        zeros = np.zeros(n)
        return np.stack([zoom_x, zeros, (w - 1) / 2 * (1 - zoom_x),
                         zeros, zoom_y, (h - 1) / 2 * (1 - zoom_y)], axis=1)

    def get_config(self):
        return {**super().get_config(), "height_factor": _plain(self.height_factor),
                "width_factor": _plain(self.width_factor)}
