"""Anomaly mode: name the first op, and the layer, whose forward or backward made a NaN or an Inf.

    with tinydl.detect_anomaly():
        model.fit(x, y)
    # AnomalyError: detect_anomaly: the backward of Sqrt in layer 'norm' produced 4 Inf in
    # the gradient for its input 0 (shape (8, 3)), from a finite gradient flowing into its
    # output (shape (8, 3)).

Off (the default), an op pays one flag check. On, every op checks its float inputs before its
forward and its output after it, and backward checks the gradient flowing into each node and
the gradients it returns, all with np.isfinite; each op also remembers which layer's call made
it. The first non-finite value raises AnomalyError. Like grad mode, the mode is per thread.
"""

from __future__ import annotations

import contextlib

import numpy as np

from tinydl._modes import Switch, state


class AnomalyError(FloatingPointError):
    """A NaN or Inf that detect_anomaly found.

    Attributes:
        op: the Function class name, e.g. 'Log'.
        layer: the name of the layer whose call ran the op ('outer/inner' when nested), or None
            for an op run outside any layer (a loss, your own code).
        phase: 'forward' or 'backward'.

    Example:
        >>> try:
        ...     with detect_anomaly():
        ...         tinydl.Tensor([0.0]).log()
        ... except AnomalyError as error:
        ...     print(error.op, error.layer, error.phase)
        Log None forward
    """

    def __init__(self, message: str, op: str, layer, phase: str):
        super().__init__(message)
        self.op, self.layer, self.phase = op, layer, phase


class detect_anomaly(Switch):  # noqa: N801  (PyTorch's name)
    """Check every op's values and gradients for NaN / Inf in this thread (a with-block or a
    decorator, also without parentheses); raise AnomalyError at the first one.

    Example:
        >>> with detect_anomaly():
        ...     tinydl.Tensor([-1.0]).log()
        Traceback (most recent call last):
        tinydl.anomaly.AnomalyError: detect_anomaly: the forward of Log outside any layer produced 1 NaN ...
    """

    field, value = "anomaly", True


class suspended(Switch):  # noqa: N801
    """Check nothing in the block, even inside detect_anomaly().

    For work on placeholder values, such as the zeros a layer's default compute_output_shape
    runs through call.

    Example:
        >>> with detect_anomaly():
        ...     with suspended():
        ...         print(is_anomaly_enabled(), tinydl.Tensor([0.0]).log().numpy())
        ...     print(is_anomaly_enabled())
        False [-inf]
        True
    """

    field, value = "anomaly", False


def is_anomaly_enabled() -> bool:
    """True inside detect_anomaly() in this thread.

    Example:
        >>> with detect_anomaly():
        ...     is_anomaly_enabled()
        True
    """
    return state.anomaly


@contextlib.contextmanager
def layer_scope(name: str):
    """Attribute the ops run inside the block to layer `name`.

    Used in anomaly mode and while a tinydl.profile() is active.

    Args:
        name: the layer's name.

    Example:
        >>> with layer_scope("outer"):
        ...     with layer_scope("inner"):
        ...         print(current_layer())
        outer/inner
        >>> with detect_anomaly(), layer_scope("norm"):
        ...     tinydl.Tensor([0.0]).log()
        Traceback (most recent call last):
        ...
        tinydl.anomaly.AnomalyError: detect_anomaly: the forward of Log in layer 'norm' produced 1 Inf ...
    """
    state.layers.append(name)
    try:
        yield
    finally:
        state.layers.pop()


def current_layer():
    """The running layers' names joined with '/', or None outside any layer.

    Returns:
        e.g. 'model/dense', or None.

    Example:
        >>> print(current_layer())
        None
        >>> with layer_scope("dense"):
        ...     current_layer()
        'dense'
    """
    return "/".join(state.layers) if state.layers else None


def _where(layer) -> str:
    return f"in layer '{layer}'" if layer else "outside any layer"


def _shape(value) -> tuple:
    return tuple(np.shape(value))


def non_finite(value):
    """None for a finite value (or a non-float one), else e.g. '2 NaN and 1 Inf of 12 values'.

    Args:
        value: an array, a float, or anything else (then None).

    Returns:
        None, or a description of the NaN and Inf values found.

    Example:
        >>> print(non_finite(np.ones(3)), non_finite(np.arange(3)))
        None None
        >>> non_finite(np.array([np.nan, np.inf, 1.0, np.nan])), non_finite(float("inf"))
        ('2 NaN and 1 Inf of 4 values', '1 Inf')
    """
    if isinstance(value, (float, np.floating)):
        value = np.asarray(value)
    if not isinstance(value, np.ndarray) or value.dtype.kind not in "fc":
        return None
    finite = np.isfinite(value)
    if finite.all():
        return None
    nan = int(np.isnan(value).sum())
    inf = int(value.size - finite.sum()) - nan
    found = " and ".join(f"{n} {kind}" for n, kind in ((nan, "NaN"), (inf, "Inf")) if n)
    return f"{found} of {value.size} values" if value.size > 1 else found


def check_inputs(op: str, layer, arrays) -> None:
    """AnomalyError when a float input of op holds NaN / Inf before its forward ran.

    Args:
        op: the op's name.
        layer: the layer's name, or None.
        arrays: the op's inputs.

    Raises:
        AnomalyError: an input is not finite (phase 'forward').

    Example:
        >>> check_inputs("Add", None, [np.ones(2), np.arange(2)])
        >>> check_inputs("Add", "dense", [np.ones(2), np.array([1.0, np.nan])])
        Traceback (most recent call last):
        ...
        tinydl.anomaly.AnomalyError: detect_anomaly: input 1 of Add in layer 'dense' (shape (2,)) already holds 1 NaN...
    """
    for i, value in enumerate(arrays):
        bad = non_finite(value)
        if bad:
            raise AnomalyError(
                f"detect_anomaly: input {i} of {op} {_where(layer)} (shape {_shape(value)}) "
                f"already holds {bad} before the op ran. No op checked by detect_anomaly made "
                "it, so it comes from the data, a weight, a constant, or code run before the "
                "block", op, layer, "forward")


def check_output(op: str, layer, arrays, out) -> None:
    """AnomalyError when op's forward made NaN / Inf from finite inputs.

    Args:
        op: the op's name.
        layer: the layer's name, or None.
        arrays: the op's inputs (their shapes go in the message).
        out: its output.

    Raises:
        AnomalyError: the output is not finite (phase 'forward').

    Example:
        >>> x = np.array([0.0, 1.0])
        >>> with np.errstate(divide="ignore"):
        ...     out = np.log(x)
        >>> check_output("Log", None, [x], out)
        Traceback (most recent call last):
        ...
        tinydl.anomaly.AnomalyError: detect_anomaly: the forward of Log outside any layer produced 1 Inf of 2 values ...
    """
    bad = non_finite(out)
    if bad:
        shapes = [_shape(a) for a in arrays if isinstance(a, np.ndarray)]
        raise AnomalyError(
            f"detect_anomaly: the forward of {op} {_where(layer)} produced {bad} in its output "
            f"(shape {_shape(out)}), from finite inputs of shapes {shapes}", op, layer, "forward")


def check_backward(op: str, layer, out_shape: tuple, grad, input_grads) -> None:
    """AnomalyError when the gradient flowing into op's output, or one it returned, is not finite.

    Args:
        op: the op's name.
        layer: the layer's name, or None.
        out_shape: the shape of the op's output.
        grad: the gradient flowing into the output.
        input_grads: the gradients backward returned, one per input (None for no gradient).

    Raises:
        AnomalyError: either is not finite (phase 'backward').

    Example:
        >>> check_backward("Sqrt", None, (2,), np.ones(2), [np.ones(2), None])
        >>> try:
        ...     check_backward("Sqrt", "norm", (2,), np.ones(2), [np.array([np.inf, 1.0])])
        ... except AnomalyError as error:
        ...     print(error.op, error.layer, error.phase)
        Sqrt norm backward
    """
    bad = non_finite(grad)
    if bad:
        raise AnomalyError(
            f"detect_anomaly: the gradient flowing into the output of {op} {_where(layer)} "
            f"(shape {out_shape}) holds {bad}: it is the gradient given to backward(), or a sum "
            "of finite gradients that overflowed", op, layer, "backward")
    for i, g in enumerate(input_grads):
        bad = None if g is None else non_finite(np.asarray(g))
        if bad:
            raise AnomalyError(
                f"detect_anomaly: the backward of {op} {_where(layer)} produced {bad} in the "
                f"gradient for its input {i} (shape {_shape(g)}), from a finite gradient flowing "
                f"into its output (shape {out_shape})", op, layer, "backward")
