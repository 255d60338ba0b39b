"""Layer arguments: checks with Keras-style messages, and their entries in get_config.

Every error names the layer, the argument, what was expected and echoes "Received: ...".
"""

from __future__ import annotations

import numpy as np

from tinydl import initializers, regularizers
from tinydl.kernels.shapes import PADDINGS, window_output


def _is_int(value) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def shape(value, name: str, where: str, batch: bool = False) -> tuple:
    """value as a tuple of positive ints and None (a size that may vary), as Keras' shapes.

    Args:
        value: e.g. (28, 28, 1) or (None, 8); with batch=True the first entry is the batch
            size (None or a positive int) and the rest follow the same rule.
        name: the argument, for the message, e.g. 'input_shape'.
        where: who received it, e.g. 'Dense' or "Sequential 'mlp'".

    Raises:
        ValueError: not a tuple / list, or an entry that is not None or an int >= 1 (Keras
            refuses negative sizes; a size of 0 would make an empty layer, so it is refused too).
    """
    example = "(None, 28, 28, 1)" if batch else "(28, 28, 1)"
    if not isinstance(value, (tuple, list)):
        raise ValueError(f"{where}: {name} must be a tuple of sizes, e.g. {name}={example}. "
                         f"Received: {name}={value!r}")
    for d in value:
        if d is not None and (not _is_int(d) or d < 1):
            raise ValueError(f"{where}: {name} must hold positive ints, or None for a size that "
                             f"may vary, e.g. {name}={example}; {d!r} is not. "
                             f"Received: {name}={tuple(value)!r}")
    return tuple(None if d is None else int(d) for d in value)


def positive_int(value, name: str, layer: str) -> int:
    """value as an int, or ValueError when it is not a positive int."""
    if not _is_int(value) or value < 1:
        raise ValueError(f"{layer}: {name} must be a positive int. Received: {name}={value!r}")
    return int(value)


def pair(value, name: str, layer: str) -> tuple[int, int]:
    """An int or a pair of positive ints as a pair, e.g. kernel_size=3 -> (3, 3)."""
    values = (value, value) if _is_int(value) else value
    if not (isinstance(values, (tuple, list)) and len(values) == 2
            and all(_is_int(v) and v > 0 for v in values)):
        raise ValueError(f"{layer}: {name} must be a positive int or a pair of positive ints, "
                         f"e.g. {name}=3 or {name}=(3, 3). Received: {name}={value!r}")
    return int(values[0]), int(values[1])


def padding(value, layer: str) -> str:
    """'valid' or 'same' (any case), in lower case."""
    if not isinstance(value, str) or value.lower() not in PADDINGS:
        raise ValueError(f"{layer}: padding must be one of {PADDINGS}. Received: padding={value!r}")
    return value.lower()


def choice(value, name: str, valid: tuple, layer: str):
    """value when it is one of valid, else ValueError listing them."""
    if value not in valid:
        raise ValueError(f"{layer}: {name} must be one of {valid}. Received: {name}={value!r}")
    return value


def window_shape(input_shape, window, strides, pad: str, out_channels, layer: str) -> tuple:
    """(N, H, W, C) -> (N, OH, OW, out_channels) by Keras' rules; unknown sizes stay None."""
    sizes = []
    for size, k, s in zip(input_shape[1:3], window, strides):
        if size is None:
            sizes.append(None)
            continue
        try:
            sizes.append(window_output(size, k, s, pad)[0])
        except ValueError as error:
            raise ValueError(f"{layer}: {error} (input shape {tuple(input_shape)}); use a "
                             "smaller window or padding='same'") from None
    return (input_shape[0], *sizes, out_channels)


def check_image_input(shape, layer: str, channels=None) -> None:
    """ValueError unless shape is (batch, H, W, C), with C == channels when given."""
    want = "(batch, H, W, C)" + ("" if channels is None else f" with C={channels}")
    if len(shape) != 4 or (channels is not None and shape[-1] != channels):
        raise ValueError(f"{layer} expects input of shape {want}, got {tuple(shape)}")


def weight_options_config(layer, *names) -> dict:
    """Config entries for initializers and regularizers given by attribute name prefix.

    'kernel' gives kernel_initializer (its name, or None for a custom callable) and
    kernel_regularizer (serialized, or None): see tinydl.regularizers.serialize.
    """
    config = {}
    for name in names:
        config[f"{name}_initializer"] = initializers.name_of(getattr(layer, f"{name}_initializer"))
        if hasattr(layer, f"{name}_regularizer"):
            config[f"{name}_regularizer"] = regularizers.serialize(
                regularizers.get(getattr(layer, f"{name}_regularizer")))
    return config


def check_weight_options(**options) -> None:
    """Raise now (in __init__) for unknown initializer or regularizer names, not later in build."""
    for name, value in options.items():
        module = initializers if name.endswith("initializer") else regularizers
        try:
            module.get(value)
        except ValueError as error:
            raise ValueError(f"{name}: {error}. Received: {name}={value!r}") from None


def set_weight_options(layer, **options) -> None:
    """Check initializer and regularizer options (see check_weight_options), then keep each
    as an attribute of the same name on layer."""
    check_weight_options(**options)
    for name, value in options.items():
        setattr(layer, name, value)


def channels_last_only(data_format, dilation_rate, layer: str) -> None:
    """Accept Keras' data_format and dilation_rate arguments in the one form tinydl runs:
    NHWC images ('channels_last', or None for it) and no dilation (1 or (1, 1))."""
    if data_format not in (None, "channels_last"):
        raise ValueError(f"{layer}: only data_format='channels_last' (NHWC, the default) is "
                         f"supported. Received: data_format={data_format!r}")
    if pair(dilation_rate, "dilation_rate", layer) != (1, 1):
        raise ValueError(f"{layer}: dilation_rate other than 1 is not supported. "
                         f"Received: dilation_rate={dilation_rate!r}")
