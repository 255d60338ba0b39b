"""Single images with Keras' names: load_img, img_to_array, array_to_img, save_img (Pillow).

Pillow is an optional extra (pip install 'tinydl[image]'); without it these functions raise an
ImportError that says so. Arrays are (H, W, C) ('channels_last', tinydl's layout) or (C, H, W)
with data_format='channels_first'; images are Pillow Image objects.
"""

from __future__ import annotations

import io
import os
import pathlib
import tempfile
import warnings

import numpy as np

INTERPOLATIONS = ("nearest", "bilinear", "bicubic", "hamming", "box", "lanczos")
COLOR_MODES = {"grayscale": "L", "rgb": "RGB", "rgba": "RGBA"}


def _pillow(what: str):
    try:
        from PIL import Image
    except ImportError:
        raise ImportError(f"{what} needs Pillow, which is not installed: pip install 'tinydl[image]' "
                          "(or pip install pillow)") from None
    return Image


def _data_format(data_format) -> str:
    if data_format not in (None, "channels_last", "channels_first"):
        raise ValueError("data_format must be 'channels_last' or 'channels_first'. "
                         f"Received: data_format={data_format!r}")
    return data_format or "channels_last"


def _center_crop_box(size: tuple, target: tuple) -> tuple:
    """The largest centred (left, top, right, bottom) box of the target's aspect ratio."""
    (width, height), (target_width, target_height) = size, target
    crop_width = min(width, height * target_width // target_height)
    crop_height = min(height, width * target_height // target_width)
    left, top = (width - crop_width) // 2, (height - crop_height) // 2
    return left, top, left + crop_width, top + crop_height


def load_img(path, color_mode: str = "rgb", target_size=None, interpolation: str = "nearest",
             keep_aspect_ratio: bool = False):
    """Read an image file into a Pillow Image, converted to color_mode and resized.

    Args:
        path: a path (str, bytes, pathlib.Path) or an io.BytesIO.
        color_mode: 'grayscale', 'rgb' or 'rgba' (16- and 32-bit grayscale files stay so).
        target_size: None, or (height, width) to resize to.
        interpolation: Pillow's resampling: 'nearest', 'bilinear', 'bicubic', 'hamming', 'box'
            or 'lanczos'.
        keep_aspect_ratio: crop the centre to the target's aspect ratio before resizing.

    Raises:
        ImportError: Pillow is not installed. ValueError: a bad color_mode, interpolation or
        target_size. TypeError: path of another type.

    Example:
        >>> import io
        >>> from PIL import Image
        >>> buffer = io.BytesIO()
        >>> Image.new("RGB", (6, 4), (255, 0, 0)).save(buffer, format="PNG")
        >>> img = load_img(io.BytesIO(buffer.getvalue()), target_size=(2, 3))
        >>> img.size, img.mode
        ((3, 2), 'RGB')
    """
    Image = _pillow("load_img")
    if color_mode not in COLOR_MODES:
        raise ValueError(f"color_mode must be one of {sorted(COLOR_MODES)}. Received: color_mode={color_mode!r}")
    if interpolation not in INTERPOLATIONS:
        raise ValueError(f"interpolation must be one of {INTERPOLATIONS}. Received: interpolation={interpolation!r}")
    if isinstance(path, io.BytesIO):
        img = Image.open(path)
    elif isinstance(path, (str, bytes, pathlib.Path)):
        with open(path, "rb") as file:
            img = Image.open(io.BytesIO(file.read()))
    else:
        raise TypeError(f"path should be a path or an io.BytesIO. Received: {type(path).__name__}")
    mode = COLOR_MODES[color_mode]
    if img.mode != mode and not (mode == "L" and img.mode in ("I;16", "I")):
        img = img.convert(mode)
    if target_size is not None:
        if (not isinstance(target_size, (tuple, list)) or len(target_size) != 2
                or not all(isinstance(d, (int, np.integer)) and d > 0 for d in target_size)):
            raise ValueError(f"target_size must be (height, width) of positive ints. Received: {target_size!r}")
        size = (int(target_size[1]), int(target_size[0]))
        if img.size != size:
            resample = getattr(Image.Resampling, interpolation.upper())
            box = _center_crop_box(img.size, size) if keep_aspect_ratio else None
            img = img.resize(size, resample, box=box)
    return img


def img_to_array(img, data_format=None, dtype=None) -> np.ndarray:
    """A Pillow Image (or anything array-like) as a float32 array (H, W, C); grayscale gets C = 1.

    Example:
        >>> from PIL import Image
        >>> img_to_array(Image.new("L", (3, 2), 7)).shape
        (2, 3, 1)
    """
    data_format = _data_format(data_format)
    x = np.asarray(img, dtype=dtype or "float32")
    if x.ndim == 2:
        x = x[None] if data_format == "channels_first" else x[..., None]
    elif x.ndim == 3:
        x = x.transpose(2, 0, 1) if data_format == "channels_first" else x
    else:
        raise ValueError(f"img_to_array expects a 2-D or 3-D image. Received: shape={x.shape}")
    return x


def array_to_img(x, data_format=None, scale: bool = True, dtype=None):
    """A 3-D array (H, W, C) as a Pillow Image: C = 1 grayscale, 3 RGB, 4 RGBA.

    With scale=True the values are stretched to [0, 255] (minimum to 0, maximum to 255).

    Example:
        >>> img = array_to_img(np.array([[[0.0], [0.5]], [[1.0], [0.25]]]))
        >>> img.mode, list(img.getdata())
        ('L', [0, 127, 255, 63])
    """
    Image = _pillow("array_to_img")
    x = np.array(x, dtype=dtype or "float32")
    if x.ndim != 3:
        raise ValueError(f"array_to_img expects one image of rank 3. Received: shape={x.shape}")
    if _data_format(data_format) == "channels_first":
        x = x.transpose(1, 2, 0)
    if scale:
        x -= x.min()
        if x.max() != 0:
            x /= x.max()
        x *= 255
    channels = x.shape[2]
    if channels in (3, 4):
        return Image.fromarray(x.astype("uint8"), {3: "RGB", 4: "RGBA"}[channels])
    if channels == 1:
        if x.max() > 255:  # a 32-bit grayscale image
            return Image.fromarray(x[:, :, 0].astype("int32"), "I")
        return Image.fromarray(x[:, :, 0].astype("uint8"), "L")
    raise ValueError(f"array_to_img: images have 1, 3 or 4 channels. Received: {channels} (shape {x.shape})")


def save_img(path, x, data_format=None, file_format=None, scale: bool = True, **kwargs) -> None:
    """Write an array (H, W, C) as an image file, atomically (a failed write leaves no file).

    The format comes from file_format, else from the path's suffix ('jpg' is JPEG); an RGBA
    image saved as JPEG is converted to RGB with a warning, as Keras does.

    Example:
        >>> import os, tempfile
        >>> path = os.path.join(tempfile.mkdtemp(), "x.png")
        >>> save_img(path, np.zeros((2, 3, 3)))
        >>> load_img(path).size
        (3, 2)
    """
    if file_format is None and isinstance(path, (str, pathlib.Path)):
        file_format = pathlib.Path(path).suffix[1:].lower() or None
    if file_format and file_format.lower() == "jpg":
        file_format = "jpeg"
    img = array_to_img(x, data_format=data_format, scale=scale)
    if img.mode == "RGBA" and file_format == "jpeg":
        warnings.warn("The JPEG format does not support RGBA images, converting to RGB.", stacklevel=2)
        img = img.convert("RGB")
    if not isinstance(path, (str, pathlib.Path)):
        img.save(path, format=file_format, **kwargs)  # a file object: written as it is
        return
    folder = os.path.dirname(os.path.abspath(path))
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=".tinydl-img-")
    try:
        with os.fdopen(handle, "wb") as file:
            img.save(file, format=file_format, **kwargs)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.remove(temporary)
        raise
