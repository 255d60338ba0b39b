"""Random image augmentation: RandomFlip, RandomCrop, RandomTranslation, RandomContrast and
RandomBrightness (NHWC images); RandomRotation and RandomZoom are in augmentation_affine.py.

Each is active only when called with training=True (as in fit); at inference RandomFlip and
RandomTranslation pass images unchanged and RandomCrop does its deterministic resize-crop.
The random choices are plain NumPy draws, not differentiated; the pixels are moved with
indexing ops (gathers), so gradients still flow to the inputs when they need them.

Randomness: seed=int gives the layer its own np.random.Generator (repeatable); seed=None
draws from tinydl.rng.get_rng(), which tinydl.utils.set_random_seed seeds.
"""

from __future__ import annotations

import numpy as np

from tinydl import ops
from tinydl.layers import _args
from tinydl.layers.base import Layer
from tinydl.rng import get_rng

FILL_MODES = ("reflect", "wrap", "constant", "nearest")


def _gather(x, rows, cols):
    """x (N, H, W, C), rows (N, OH) and cols (N, OW) integer arrays -> (N, OH, OW, C)."""
    batch = np.arange(x.shape[0])[:, None, None]
    return ops.getitem(x, (batch, rows[:, :, None], cols[:, None, :]))


def _fill(index, size, mode):
    """Map integer source positions (any, maybe outside [0, size)) into it, and flag the valid ones.

    reflect (d c b a | a b c d | d c b a), wrap (a b c d | a b c d), nearest (a a | a b c d | d d);
    constant keeps the flag False outside, and the caller puts fill_value there.
    """
    inside = (index >= 0) & (index < size)
    if mode == "reflect":
        index = np.mod(index, 2 * size)
        index = np.where(index < size, index, 2 * size - 1 - index)
    elif mode == "wrap":
        index = np.mod(index, size)
    return np.clip(index, 0, size - 1), (inside if mode == "constant" else np.ones_like(inside))


def bilinear_sample(x, src_rows, src_cols, fill_mode="nearest", fill_value=0.0):
    """Sample x (N, H, W, C) at fractional source positions, separably and bilinearly.

    Args:
        src_rows: (N, OH) float row coordinates; src_cols: (N, OW) float column coordinates.
        fill_mode: how positions outside the image are read (see _fill); each of the four
            neighbours is mapped on its own, and in 'constant' mode an outside one reads fill_value.

    Returns:
        (N, OH, OW, C): sum over the 4 neighbours of weight * pixel.

    Example:
        >>> x = np.arange(4.0).reshape(1, 2, 2, 1)
        >>> bilinear_sample(x, np.array([[0.5]]), np.array([[0.5]])).data[0, :, :, 0]
        array([[1.5]])
    """
    (_, h, w, _), out = x.shape, None
    r0, c0 = np.floor(src_rows), np.floor(src_cols)
    for dr, wr in ((0, 1 - (src_rows - r0)), (1, src_rows - r0)):
        rows, row_ok = _fill(r0.astype(np.int64) + dr, h, fill_mode)
        for dc, wc in ((0, 1 - (src_cols - c0)), (1, src_cols - c0)):
            cols, col_ok = _fill(c0.astype(np.int64) + dc, w, fill_mode)
            weight = (wr * row_ok)[:, :, None, None] * (wc * col_ok)[:, None, :, None]
            term = _gather(x, rows, cols) * weight.astype(x.dtype)
            if fill_mode == "constant" and fill_value != 0:
                outside = ~(row_ok[:, :, None] & col_ok[:, None, :])
                outside = outside * wr[:, :, None] * wc[:, None, :]
                term = term + (outside[..., None] * fill_value).astype(x.dtype)
            out = term if out is None else out + term
    return out


class _RandomImageLayer(Layer):
    """Shared by the random layers: the seed, the generator and the NHWC input check."""

    def __init__(self, seed=None, **kwargs):
        super().__init__(**kwargs)
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer))
                                 or seed < 0):
            raise ValueError(f"{type(self).__name__}: seed must be None or a non-negative int. "
                             f"Received: seed={seed!r}")
        self.seed = None if seed is None else int(seed)
        self._generator = None if seed is None else np.random.default_rng(seed)

    def _rng(self) -> np.random.Generator:
        return self._generator if self._generator is not None else get_rng()

    def build(self, input_shape):
        _args.check_image_input(input_shape, type(self).__name__)

    def compute_output_shape(self, input_shape):
        _args.check_image_input(input_shape, type(self).__name__)
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "seed": self.seed}


class RandomFlip(_RandomImageLayer):
    """Flip each image left-right and/or top-bottom, each with probability 1/2 (training only).

    Args:
        mode: 'horizontal' (left-right), 'vertical' (top-bottom) or 'horizontal_and_vertical'
            (default; the two flips are drawn independently per image, as Keras 2 and 3.0).
        seed: see the module docstring.

    Example:
        >>> x = np.arange(3.0, dtype=np.float32).reshape(1, 1, 3, 1)
        >>> RandomFlip("horizontal", seed=1)(x, training=False).data.ravel()
        array([0., 1., 2.], dtype=float32)
        >>> RandomFlip("horizontal", seed=1)(x, training=True).shape
        (1, 1, 3, 1)
    """

    MODES = ("horizontal", "vertical", "horizontal_and_vertical")

    def __init__(self, mode: str = "horizontal_and_vertical", seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.mode = _args.choice(mode, "mode", self.MODES, "RandomFlip")

    def call(self, inputs, training=None):
        _args.check_image_input(inputs.shape, "RandomFlip")
        if not training:
            return inputs
        n, h, w, _ = inputs.shape
        rng = self._rng()
        rows, cols = np.tile(np.arange(h), (n, 1)), np.tile(np.arange(w), (n, 1))
        if self.mode != "vertical":
            cols = np.where(rng.random((n, 1)) < 0.5, cols[:, ::-1], cols)
        if self.mode != "horizontal":
            rows = np.where(rng.random((n, 1)) < 0.5, rows[:, ::-1], rows)
        return _gather(inputs, rows, cols)

    def get_config(self):
        return {**super().get_config(), "mode": self.mode}


class RandomCrop(_RandomImageLayer):
    """Crop images to (height, width): at a random place in training, resize-crop in inference.

    Training (and the image at least height x width): one random top-left corner for the whole
    batch, drawn uniformly (as Keras). Inference, or an image smaller than the target: Keras'
    documented rule, the largest centred window with the target's aspect ratio, resized
    bilinearly (half-pixel centres) to (height, width). So a 32x32 image -> RandomCrop(24, 24)
    is the whole image shrunk to 24x24 at inference, not its centre 24x24.

    (Keras 3's current code returns inference inputs unchanged, which breaks the output shape:
    keras-team/keras issue #21868. tinydl follows the documented behaviour.)

    Shapes:
        inputs (N, H, W, C) -> (N, height, width, C), in training and inference alike.

    Example:
        >>> RandomCrop(2, 2, seed=0)(np.ones((4, 5, 5, 3), np.float32), training=True).shape
        (4, 2, 2, 3)
    """

    def __init__(self, height: int, width: int, seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.height = _args.positive_int(height, "height", "RandomCrop")
        self.width = _args.positive_int(width, "width", "RandomCrop")

    def call(self, inputs, training=None):
        _args.check_image_input(inputs.shape, "RandomCrop")
        n, h, w, _ = inputs.shape
        if training and h >= self.height and w >= self.width:
            top = int(self._rng().integers(0, h - self.height + 1))
            left = int(self._rng().integers(0, w - self.width + 1))
            return inputs[:, top:top + self.height, left:left + self.width, :]
        crop_h = max(min(h, int(w * self.height / self.width)), 1)
        crop_w = max(min(w, int(h * self.width / self.height)), 1)
        top, left = (h - crop_h) // 2, (w - crop_w) // 2
        window = inputs[:, top:top + crop_h, left:left + crop_w, :]
        if (crop_h, crop_w) == (self.height, self.width):
            return window
        rows = (np.arange(self.height) + 0.5) * crop_h / self.height - 0.5
        cols = (np.arange(self.width) + 0.5) * crop_w / self.width - 0.5
        return bilinear_sample(window, np.tile(rows, (n, 1)), np.tile(cols, (n, 1)))

    def compute_output_shape(self, input_shape):
        _args.check_image_input(input_shape, "RandomCrop")
        return (input_shape[0], self.height, self.width, input_shape[-1])

    def get_config(self):
        return {**super().get_config(), "height": self.height, "width": self.width}


def _factor_range(factor, name: str) -> tuple[float, float]:
    """A fraction f -> (-|f|, |f|); a pair (lower, upper) stays; every value in [-1, 1]."""
    values = (-abs(factor), abs(factor)) if isinstance(factor, (int, float)) \
        and not isinstance(factor, bool) else factor
    if not (isinstance(values, (tuple, list)) and len(values) == 2
            and all(isinstance(v, (int, float)) and -1 <= v <= 1 for v in values)):
        raise ValueError(f"RandomTranslation: {name} must be a number or a pair of numbers in "
                         f"[-1, 1] (fractions of the image size). Received: {name}={factor!r}")
    return float(min(values)), float(max(values))


class RandomTranslation(_RandomImageLayer):
    """Shift each image by a random fraction of its size (training only).

    Per image, dy = U(height range) * H and dx = U(width range) * W, and
    output[y, x] = input[y - dy, x - dx] (a positive dy moves the picture down).

    Args:
        height_factor, width_factor: a fraction f (range [-f, f]) or a pair (lower, upper),
            in [-1, 1].
        fill_mode: how pixels shifted in from outside are read: 'reflect' (Keras' default),
            'wrap', 'constant' (fill_value) or 'nearest'.
        interpolation: 'bilinear' (default, fractional shifts) or 'nearest' (whole pixels).
        seed: see the module docstring. fill_value: the constant for fill_mode='constant'.

    Example:
        >>> RandomTranslation(0.2, 0.2, seed=0)(np.ones((2, 8, 8, 3), np.float32), training=True).shape
        (2, 8, 8, 3)
    """

    def __init__(self, height_factor, width_factor, fill_mode: str = "reflect",
                 interpolation: str = "bilinear", seed=None, fill_value: float = 0.0, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.height_range = _factor_range(height_factor, "height_factor")
        self.width_range = _factor_range(width_factor, "width_factor")
        self.height_factor, self.width_factor = height_factor, width_factor
        self.fill_mode = _args.choice(fill_mode, "fill_mode", FILL_MODES, "RandomTranslation")
        self.interpolation = _args.choice(interpolation, "interpolation", ("bilinear", "nearest"),
                                          "RandomTranslation")
        self.fill_value = float(fill_value)

    def call(self, inputs, training=None):
        _args.check_image_input(inputs.shape, "RandomTranslation")
        if not training:
            return inputs
        n, h, w, _ = inputs.shape
        rng = self._rng()
        dy = rng.uniform(*self.height_range, size=(n, 1)) * h
        dx = rng.uniform(*self.width_range, size=(n, 1)) * w
        if self.interpolation == "nearest":
            dy, dx = np.round(dy), np.round(dx)
        rows, cols = np.arange(h)[None, :] - dy, np.arange(w)[None, :] - dx
        return bilinear_sample(inputs, rows, cols, self.fill_mode, self.fill_value)

    def get_config(self):
        def plain(f):
            return list(f) if isinstance(f, (tuple, list)) else f
        return {**super().get_config(), "height_factor": plain(self.height_factor),
                "width_factor": plain(self.width_factor), "fill_mode": self.fill_mode,
                "interpolation": self.interpolation, "fill_value": self.fill_value}


def _color_factor(factor, bounds: tuple, layer: str) -> tuple[float, float]:
    """Keras' factor rule: a number f in bounds -> (max(-|f|, low), |f|); a pair -> sorted."""
    low, high = bounds

    def number(v):
        return isinstance(v, (int, float, np.number)) and not isinstance(v, bool)
    if number(factor) and low <= factor <= high:
        return max(-abs(float(factor)), low), abs(float(factor))
    if isinstance(factor, (tuple, list)) and len(factor) == 2 and all(map(number, factor)) \
            and factor[0] <= high and factor[1] >= low:
        return tuple(sorted(float(v) for v in factor))
    raise ValueError(f"{layer}: factor must be a number (or a list of two numbers) in the range "
                     f"[{low}, {high}]. Received: factor={factor!r}")


def _value_range(value_range, layer: str) -> tuple[float, float]:
    if not (isinstance(value_range, (tuple, list)) and len(value_range) == 2):
        raise ValueError(f"{layer}: value_range must be a list of two numbers, e.g. (0, 255). "
                         f"Received: value_range={value_range!r}")
    return tuple(sorted(float(v) for v in value_range))


class _RandomColorLayer(_RandomImageLayer):
    """Shared by RandomContrast and RandomBrightness: factor, value_range and the call."""

    _bounds = (-1.0, 1.0)

    def __init__(self, factor, value_range=(0, 255), seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.factor = _color_factor(factor, self._bounds, type(self).__name__)
        self.value_range = _value_range(value_range, type(self).__name__)

    def call(self, inputs, training=None):
        _args.check_image_input(inputs.shape, type(self).__name__)
        if not training:
            return inputs
        return ops.clip(self._adjust(inputs, self._rng()), *self.value_range)

    def get_config(self):
        return {**super().get_config(), "factor": list(self.factor),
                "value_range": list(self.value_range)}


class RandomContrast(_RandomColorLayer):
    """Scale each image's distance from its per-channel mean by a random factor (training only).

    output = clip((x - mean) * c + mean, value_range), one c per image drawn uniformly from
    [1 - lower, 1 + upper], the mean over H and W of each channel.

    Args:
        factor: a number f in [0, 1], which gives (lower, upper) = (0, f), as Keras 3; or a
            pair (lower, upper).
        value_range: (low, high) the pixels may take, e.g. (0, 255) (default) or (0, 1).
        seed: see the module docstring.

    Example:
        >>> y = RandomContrast(0.5, seed=0)(np.full((2, 4, 4, 3), 7.0, np.float32), training=True)
        >>> y.shape, float(y.data.min()), float(y.data.max())
        ((2, 4, 4, 3), 7.0, 7.0)
    """

    _bounds = (0.0, 1.0)

    def _adjust(self, inputs, rng):
        scale = rng.uniform(1 - self.factor[0], 1 + self.factor[1], (inputs.shape[0], 1, 1, 1))
        mean = inputs.mean(axis=(1, 2), keepdims=True)
        return (inputs - mean) * scale.astype(inputs.dtype) + mean


class RandomBrightness(_RandomColorLayer):
    """Add a random amount to every pixel of each image (training only).

    output = clip(x + d * (high - low), value_range), one d per image drawn uniformly from
    [lower, upper].

    Args:
        factor: a number f in [-1, 1] (d in [-|f|, |f|]) or a pair (lower, upper).
        value_range: (low, high) the pixels may take; default (0, 255).
        seed: see the module docstring.

    Example:
        >>> x = np.full((2, 4, 4, 3), 100.0, np.float32)
        >>> float(RandomBrightness(0.2, seed=0)(x, training=False).data.max())
        100.0
        >>> RandomBrightness(0.2, seed=0)(x, training=True).shape
        (2, 4, 4, 3)
    """

    def _adjust(self, inputs, rng):
        delta = rng.uniform(*self.factor, (inputs.shape[0], 1, 1, 1))
        return inputs + (delta * (self.value_range[1] - self.value_range[0])).astype(inputs.dtype)
