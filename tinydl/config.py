"""Keras' backend settings a program commonly calls (keras.backend.floatx(), clear_session(), ...).

tinydl computes in float32 with channels-last images (N, H, W, C); these functions report
that, accept it, and refuse anything else with a clear error rather than ignore it.
"""

from __future__ import annotations

from tinydl.keras_names import NotImplementedInTinydl

EPSILON = 1e-7


def backend() -> str:
    """The name of the backend: 'tinydl' (Keras answers 'tensorflow', 'jax', 'torch', ...)."""
    return "tinydl"


def floatx() -> str:
    """The dtype of weights and activations: 'float32'."""
    return "float32"


def set_floatx(value: str) -> None:
    """Accepts 'float32' (the only one tinydl's layers use).

    Raises:
        NotImplementedInTinydl: any other dtype.
    """
    if value != "float32":
        raise NotImplementedInTinydl(f"set_floatx({value!r}) is not implemented in tinydl: its "
                                     "layers compute in float32 only")


def image_data_format() -> str:
    """'channels_last': images are (N, H, W, C)."""
    return "channels_last"


def set_image_data_format(data_format: str) -> None:
    """Accepts 'channels_last' only.

    Raises:
        NotImplementedInTinydl: 'channels_first'.
        ValueError: any other value.
    """
    if data_format == "channels_first":
        raise NotImplementedInTinydl("set_image_data_format('channels_first') is not implemented "
                                     "in tinydl: images are (N, H, W, C)")
    if data_format != "channels_last":
        raise ValueError("data_format must be 'channels_last' or 'channels_first'. "
                         f"Received: {data_format!r}")


def epsilon() -> float:
    """The fuzz factor of losses and metrics: 1e-7."""
    return EPSILON


def clear_session(free_memory: bool = True) -> None:
    """Start layer and tensor names afresh ('dense', 'dense_1', ... begin again), as Keras."""
    from tinydl.layers import symbolic
    from tinydl.layers.base import Layer

    Layer._name_counts.clear()
    symbolic._names.clear()
