"""Masks: which time steps of a sequence are real (True) and which are padding (False).

As in Keras, a mask travels with the tensor a layer returns: Embedding(mask_zero=True)
attaches `inputs != 0` to its output, and every later layer call finds it there:

    x = Embedding(1000, 16, mask_zero=True)(ids)   # x._keras_mask: (N, T) booleans
    y = LSTM(8)(x)                                  # the LSTM skips the padded steps

A layer whose call() takes a `mask` argument receives it; a layer with supports_masking
passes compute_mask(inputs, mask) on to its output; any other layer drops the mask, with a
warning (as Keras), because the layers after it would otherwise silently read padding.
"""

from __future__ import annotations

import warnings

import numpy as np

MASK_ATTRIBUTE = "_keras_mask"


def get_mask(tensor):
    """The (N, T) boolean mask attached to tensor, or None.

    Example:
        >>> x = tinydl.layers.Embedding(10, 2, mask_zero=True)(np.array([[3, 0]]))
        >>> get_mask(x)
        array([[ True, False]])
    """
    return getattr(tensor, MASK_ATTRIBUTE, None)


def set_mask(tensor, mask) -> None:
    """Attach mask (None removes it) to a Tensor a layer returned.

    Example:
        >>> x = tinydl.Tensor(np.ones((1, 2, 3)))
        >>> set_mask(x, [[1, 0]])
        >>> get_mask(x)
        array([[ True, False]])
    """
    if hasattr(tensor, "data"):
        setattr(tensor, MASK_ATTRIBUTE, None if mask is None else as_mask(mask))


def as_mask(mask) -> np.ndarray:
    """A mask given as booleans, 0/1 numbers or a Tensor, as a NumPy bool array.

    Example:
        >>> as_mask([[1, 0, 2]])
        array([[ True, False,  True]])
    """
    return np.asarray(getattr(mask, "data", mask)).astype(bool, copy=False)


def check_mask(mask, shape: tuple, layer: str):
    """mask as bool (N, T) for inputs of shape (N, T, ...), or ValueError; None stays None.

    Example:
        >>> check_mask([[1, 1, 0]], (1, 3, 8), "LSTM")
        array([[ True,  True, False]])
        >>> check_mask([[1, 1]], (1, 3, 8), "LSTM")
        Traceback (most recent call last):
            ...
        ValueError: LSTM: the mask must have shape (batch, timesteps) = (1, 3)... Received: mask of shape (1, 2)
    """
    if mask is None:
        return None
    mask = as_mask(mask)
    if mask.shape != tuple(shape[:2]):
        raise ValueError(f"{layer}: the mask must have shape (batch, timesteps) = {tuple(shape[:2])} "
                         f"for inputs of shape {tuple(shape)}. Received: mask of shape {mask.shape}")
    return mask


def masked_call(layer, inputs, args, kwargs, training, mask):
    """Run layer.call with the mask it can use; attach the output mask; warn when one is lost.

    mask: the one given to layer(inputs, mask=...), else the one attached to inputs.

    Example:
        >>> layer = tinydl.layers.LSTM(4)
        >>> layer.build_for((None, 3, 3))
        (None, 4)
        >>> ids = np.array([[5, 2, 0]])
        >>> x = tinydl.layers.Embedding(10, 3, mask_zero=True)(ids)
        >>> masked_call(layer, x, (), {}, training=False, mask=None).shape
        (1, 4)
    """
    mask = get_mask(inputs) if mask is None else as_mask(mask)
    if type(layer)._call_takes_mask:
        kwargs = {**kwargs, "mask": mask}
    outputs = layer._call(inputs, training, *args, **kwargs)
    if layer.supports_masking:
        _attach(outputs, layer.compute_mask(inputs, mask))
    elif mask is not None:
        warnings.warn(f"Layer '{layer.name}' (of type {type(layer).__name__}) was passed an input "
                      "with a mask attached to it. However, this layer does not support masking "
                      "and will therefore destroy the mask information. Downstream layers will "
                      "not see the mask.", UserWarning, stacklevel=3)
    return outputs


def _attach(outputs, masks) -> None:
    if isinstance(outputs, (list, tuple)):
        masks = masks if isinstance(masks, (list, tuple)) else [masks] + [None] * (len(outputs) - 1)
        for tensor, mask in zip(outputs, masks):
            set_mask(tensor, mask)
    else:
        set_mask(outputs, masks)
