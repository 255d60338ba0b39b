"""Keras' backend settings a program commonly calls (keras.backend.floatx(), clear_session(), ...).

tinydl computes in float32 with channels-last images (N, H, W, C); these functions report
that, accept it, and refuse anything else with a clear error rather than ignore it.
"""

from __future__ import annotations

from tinydl.keras_names import NotImplementedInTinydl

EPSILON = 1e-7


def backend() -> str:
    """The name of the backend: 'tinydl' (Keras answers 'tensorflow', 'jax', 'torch', ...).

    Returns:
        'tinydl'.

    Example:
        >>> backend()
        'tinydl'
    """
    return "tinydl"


def floatx() -> str:
    """The dtype of weights and activations: 'float32'.

    Returns:
        'float32', the dtype tinydl's layers create their weights in.

    Example:
        >>> floatx(), tinydl.layers.Dense(2)(np.ones((1, 3), "float32")).numpy().dtype
        ('float32', dtype('float32'))
    """
    return "float32"


def set_floatx(value: str) -> None:
    """Accepts 'float32' (the only one tinydl's layers use).

    Args:
        value: the dtype name.

    Raises:
        NotImplementedInTinydl: any other dtype.

    Example:
        >>> set_floatx("float32")
        >>> set_floatx("float16")
        Traceback (most recent call last):
        ...
        tinydl.keras_names.NotImplementedInTinydl: set_floatx('float16') is not implemented in tinydl: ...
    """
    if value != "float32":
        raise NotImplementedInTinydl(f"set_floatx({value!r}) is not implemented in tinydl: its "
                                     "layers compute in float32 only")


def image_data_format() -> str:
    """'channels_last': images are (N, H, W, C).

    Returns:
        'channels_last'.

    Example:
        >>> image_data_format()
        'channels_last'
    """
    return "channels_last"


def set_image_data_format(data_format: str) -> None:
    """Accepts 'channels_last' only.

    Args:
        data_format: 'channels_last' (accepted) or 'channels_first' (refused).

    Raises:
        NotImplementedInTinydl: 'channels_first'.
        ValueError: any other value.

    Example:
        >>> set_image_data_format("channels_last")
        >>> set_image_data_format("channels_first")
        Traceback (most recent call last):
        ...
        tinydl.keras_names.NotImplementedInTinydl: set_image_data_format('channels_first') is not ...
        >>> set_image_data_format("nhwc")
        Traceback (most recent call last):
        ...
        ValueError: data_format must be 'channels_last' or 'channels_first'. Received: 'nhwc'
    """
    if data_format == "channels_first":
        raise NotImplementedInTinydl("set_image_data_format('channels_first') is not implemented "
                                     "in tinydl: images are (N, H, W, C)")
    if data_format != "channels_last":
        raise ValueError("data_format must be 'channels_last' or 'channels_first'. "
                         f"Received: {data_format!r}")


def epsilon() -> float:
    """The fuzz factor of losses and metrics: 1e-7.

    Returns:
        1e-7, as keras.config.epsilon().

    Example:
        >>> epsilon()
        1e-07
    """
    return EPSILON


def clear_session(free_memory: bool = True) -> None:
    """Start layer and tensor names afresh ('dense', 'dense_1', ... begin again), as Keras.

    Args:
        free_memory: accepted for Keras' signature; there are no caches to free.

    Example:
        >>> _ = tinydl.layers.Dense(1), tinydl.layers.Dense(1)
        >>> clear_session()
        >>> tinydl.layers.Dense(1).name
        'dense'
    """
    from tinydl.layers import symbolic
    from tinydl.layers.base import Layer

    Layer._name_counts.clear()
    symbolic._names.clear()


def set_epsilon(value: float) -> None:
    """Accepts 1e-7 (tinydl's losses and metrics use that fuzz factor throughout).

    Raises:
        NotImplementedInTinydl: any other value.

    Example:
        >>> set_epsilon(1e-7)
    """
    if value != EPSILON:
        raise NotImplementedInTinydl(f"set_epsilon({value!r}) is not implemented in tinydl: its losses and "
                                     f"metrics use epsilon={EPSILON}")


def is_keras_tensor(x) -> bool:
    """True for a symbolic tensor of a functional graph (what Input() and layers on it return).

    Example:
        >>> import tinydl
        >>> is_keras_tensor(tinydl.Input((3,))), is_keras_tensor(tinydl.Tensor([1.0]))
        (True, False)
    """
    from tinydl.layers import symbolic
    return symbolic.is_symbolic(x) and not isinstance(x, (list, tuple, dict))


def standardize_dtype(dtype) -> str:
    """A dtype's Keras name ('float32', 'int64', ...) from a name, a NumPy dtype or a Python type.

    Example:
        >>> standardize_dtype(float), standardize_dtype("int32")
        ('float32', 'int32')
    """
    from tinydl.ops.keras_core import standardize_dtype as standardize
    if isinstance(dtype, str) and dtype == "bfloat16":  # a name tinydl knows, without computing in it
        return dtype
    return standardize(dtype)


def result_type(*dtypes) -> str:
    """The dtype Keras gives an op on operands of these dtypes (see tinydl.ops.result_type).

    Example:
        >>> result_type("int32", "float32")
        'float32'
    """
    from tinydl.ops.keras_core import result_type as result
    return result(*dtypes)


def is_float_dtype(dtype) -> bool:
    """True for a floating dtype.

    Example:
        >>> is_float_dtype("float16"), is_float_dtype("int8")
        (True, False)
    """
    return standardize_dtype(dtype).startswith(("float", "bfloat"))


def is_int_dtype(dtype) -> bool:
    """True for a signed or unsigned integer dtype.

    Example:
        >>> is_int_dtype("uint8"), is_int_dtype("bool")
        (True, False)
    """
    return standardize_dtype(dtype).startswith(("int", "uint"))


_UIDS: dict = {}


def get_uid(prefix: str = "") -> int:
    """1, 2, 3, ... on successive calls with the same prefix (Keras' counter for unique names).

    Example:
        >>> get_uid("example_prefix"), get_uid("example_prefix")
        (1, 2)
    """
    _UIDS[prefix] = _UIDS.get(prefix, 0) + 1
    return _UIDS[prefix]
