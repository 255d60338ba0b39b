"""Output sizes and padding for windowed ops (convolution, pooling), by Keras' rules."""

from __future__ import annotations

PADDINGS = ("valid", "same")


def normalize_pair(value, name: str) -> tuple[int, int]:
    """Turn an int or a pair of ints into a pair of positive ints.

    Raises:
        ValueError: if the value is not a positive int or a pair of them.

    Args:
        value: an int, or a pair (tuple or list) of ints.
        name: the argument's name, for the message ('strides', 'pool_size', ...).

    Returns:
        (a, b), both positive ints.

    Example:
        >>> normalize_pair(3, "kernel_size"), normalize_pair([2, 1], "strides")
        ((3, 3), (2, 1))
        >>> normalize_pair((2, 0), "strides")
        Traceback (most recent call last):
        ...
        ValueError: strides must hold positive ints, got (2, 0)
    """
    if isinstance(value, (int,)) and not isinstance(value, bool):
        pair = (value, value)
    elif isinstance(value, (tuple, list)) and len(value) == 2:
        pair = tuple(value)
    else:
        raise ValueError(f"{name} must be an int or a pair of ints, got {value!r}")
    if not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in pair):
        raise ValueError(f"{name} must hold positive ints, got {value!r}")
    return int(pair[0]), int(pair[1])


def normalize_padding(padding) -> str:
    """Check that padding is 'valid' or 'same' (any case) and return it in lower case.

    Args:
        padding: 'valid' or 'same', in any case.

    Returns:
        'valid' or 'same'.

    Raises:
        ValueError: anything else.

    Example:
        >>> normalize_padding("SAME")
        'same'
        >>> normalize_padding("full")
        Traceback (most recent call last):
        ...
        ValueError: padding must be one of ('valid', 'same'), got 'full'
    """
    if not isinstance(padding, str) or padding.lower() not in PADDINGS:
        raise ValueError(f"padding must be one of {PADDINGS}, got {padding!r}")
    return padding.lower()


def window_output(size: int, window: int, stride: int, padding: str) -> tuple[int, int, int]:
    """Output length and padding along one axis, as Keras (and TensorFlow) compute them.

    'valid': out = (size - window) // stride + 1, no padding.
    'same':  out = ceil(size / stride); the total padding max((out-1)*stride + window - size, 0)
             is split with the smaller half before and the larger half after.

    Returns:
        (out, pad_before, pad_after)

    Raises:
        ValueError: if a 'valid' window is larger than the input.

    Args:
        size: the input length.
        window: the window (kernel or pool) length.
        stride: the step between windows.
        padding: 'valid' or 'same'.

    Example:
        >>> window_output(7, 3, 2, "valid"), window_output(7, 3, 2, "same")
        ((3, 0, 0), (4, 1, 1))
        >>> window_output(6, 4, 1, "same")        # total padding 3: 1 before, 2 after
        (6, 1, 2)
    """
    if padding == "valid":
        if window > size:
            raise ValueError(
                f"window of size {window} is larger than the input size {size} with padding='valid'"
            )
        return (size - window) // stride + 1, 0, 0
    out = -(-size // stride)
    total = max((out - 1) * stride + window - size, 0)
    return out, total // 2, total - total // 2


def window_geometry(hw: tuple[int, int], window: tuple[int, int], strides: tuple[int, int],
                    padding: str) -> tuple[tuple[int, int], tuple[int, int, int, int]]:
    """Output (OH, OW) and explicit pads (top, bottom, left, right) for a 2-D window op.

    Args:
        hw: the input (H, W).
        window: (KH, KW).
        strides: (SH, SW).
        padding: 'valid' or 'same'.

    Returns:
        ((OH, OW), (top, bottom, left, right)).

    Raises:
        ValueError: a 'valid' window larger than the input.

    Example:
        >>> window_geometry((28, 28), (5, 5), (2, 2), "same")
        ((14, 14), (1, 2, 1, 2))
        >>> window_geometry((28, 28), (5, 5), (1, 1), "valid")
        ((24, 24), (0, 0, 0, 0))
    """
    oh, top, bottom = window_output(hw[0], window[0], strides[0], padding)
    ow, left, right = window_output(hw[1], window[1], strides[1], padding)
    return (oh, ow), (top, bottom, left, right)


def padded_output_hw(hw, window, strides, pads) -> tuple[int, int]:
    """(OH, OW) of a window op on an (H, W) input with explicit pads (top, bottom, left, right).

    Args:
        hw: the input (H, W).
        window: (KH, KW).
        strides: (SH, SW).
        pads: (top, bottom, left, right).

    Returns:
        (OH, OW); zero or negative when the window does not fit.

    Example:
        >>> padded_output_hw((5, 6), (3, 2), (1, 2), (1, 1, 0, 1))
        (5, 3)
    """
    return ((hw[0] + pads[0] + pads[1] - window[0]) // strides[0] + 1,
            (hw[1] + pads[2] + pads[3] - window[1]) // strides[1] + 1)
