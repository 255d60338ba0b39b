"""Adagrad and Adadelta: per-coordinate step sizes from accumulated squared gradients."""

from __future__ import annotations

import numpy as np

from tinydl.optimizers.base import Optimizer, checked_epsilon


def checked_rate(value, name: str, owner: str, high_open: bool = True) -> float:
    """A decay rate in [0, 1) (or [0, 1] with high_open=False), as a float.

    Args:
        value: the rate given.
        name: the argument's name, for the message.
        owner: the optimizer's name, for the message.
        high_open: exclude 1.

    Returns:
        float(value).

    Raises:
        ValueError: a bool, a non-number, or a value outside the interval.

    Example:
        >>> checked_rate(0.9, "rho", "Adadelta"), checked_rate(1, "beta", "Ftrl", high_open=False)
        (0.9, 1.0)
        >>> checked_rate(1.0, "rho", "Adadelta")
        Traceback (most recent call last):
        ...
        ValueError: Adadelta: rho must be a float in [0, 1). Received: rho=1.0
    """
    fine = (not isinstance(value, bool) and isinstance(value, (int, float, np.floating))
            and 0 <= value and (value < 1 if high_open else value <= 1))
    if not fine:
        interval = "[0, 1)" if high_open else "[0, 1]"
        raise ValueError(f"{owner}: {name} must be a float in {interval}. Received: {name}={value!r}")
    return float(value)


class Adagrad(Optimizer):
    """Adagrad (Duchi et al., 2011, "Adaptive Subgradient Methods").

    For a variable w with gradient g (Keras 3's formulas):

        a <- a + g^2                 (a starts at initial_accumulator_value)
        w <- w - lr * g / sqrt(a + epsilon)

    Args:
        learning_rate: float or schedule; default 0.001.
        initial_accumulator_value: the accumulators' starting value, >= 0 (default 0.1).
        epsilon: stability constant, default 1e-7.
        **kwargs: weight_decay, clipnorm, clipvalue, global_clipnorm, name (see Optimizer).

    Example:
        >>> w = tinydl.layers.Variable(np.array([1.0, -1.0], dtype=np.float32), name="w")
        >>> Adagrad(learning_rate=0.1).apply([np.array([0.5, -2.0])], [w])
        >>> np.round(w.numpy(), 4)
        array([ 0.9155, -0.9012], dtype=float32)
    """

    def __init__(self, learning_rate=0.001, initial_accumulator_value: float = 0.1,
                 epsilon: float = 1e-7, **kwargs):
        value = initial_accumulator_value
        if isinstance(value, bool) or not isinstance(value, (int, float, np.floating)) or \
                not 0 <= value < float("inf"):
            raise ValueError("Adagrad: initial_accumulator_value must be a finite float >= 0. "
                             f"Received: initial_accumulator_value={value!r}")
        self.initial_accumulator_value = float(value)
        self.epsilon = checked_epsilon(epsilon, type(self).__name__)
        super().__init__(learning_rate=learning_rate, **kwargs)

    def slot_names(self) -> tuple:
        return ("accumulator",)

    def _track(self, variable) -> None:
        new = id(variable) not in self._index
        super()._track(variable)
        if new:
            self.slot(variable, "accumulator")[...] = np.float32(self.initial_accumulator_value)

    def update_step(self, gradient, variable, learning_rate):
        accumulator = self.slot(variable, "accumulator")
        accumulator += gradient * gradient
        variable.data -= learning_rate * gradient / np.sqrt(accumulator + np.float32(self.epsilon))

    def get_config(self) -> dict:
        return {**super().get_config(), "initial_accumulator_value": self.initial_accumulator_value,
                "epsilon": self.epsilon}


class Adadelta(Optimizer):
    """Adadelta (Zeiler, 2012, "ADADELTA: An Adaptive Learning Rate Method").

    For a variable w with gradient g (Keras 3's formulas; rms(x) = sqrt(x + epsilon)):

        a <- rho * a + (1 - rho) * g^2
        d = -rms(b) * g / rms(a)
        b <- rho * b + (1 - rho) * d^2
        w <- w + lr * d

    Args:
        learning_rate: float or schedule; default 0.001 (the paper's 1.0 is lr=1.0).
        rho: the decay of both running averages, in [0, 1); default 0.95.
        epsilon: stability constant, default 1e-7.
        **kwargs: weight_decay, clipnorm, clipvalue, global_clipnorm, name (see Optimizer).

    Example:
        >>> w = tinydl.layers.Variable(np.array([1.0, -1.0], dtype=np.float32), name="w")
        >>> Adadelta(learning_rate=1.0).apply([np.array([0.5, -2.0])], [w])
        >>> np.round(w.numpy(), 5)
        array([ 0.99859, -0.99859], dtype=float32)
    """

    def __init__(self, learning_rate=0.001, rho: float = 0.95, epsilon: float = 1e-7, **kwargs):
        self.rho = checked_rate(rho, "rho", type(self).__name__)
        self.epsilon = checked_epsilon(epsilon, type(self).__name__)
        super().__init__(learning_rate=learning_rate, **kwargs)

    def slot_names(self) -> tuple:
        return ("accumulated_grad", "accumulated_delta_var")

    def update_step(self, gradient, variable, learning_rate):
        rho, eps = np.float32(self.rho), np.float32(self.epsilon)
        grads = self.slot(variable, "accumulated_grad")
        deltas = self.slot(variable, "accumulated_delta_var")
        grads[...] = rho * grads + (np.float32(1) - rho) * (gradient * gradient)
        delta = -(np.sqrt(deltas + eps) * gradient) / np.sqrt(grads + eps)
        deltas[...] = rho * deltas + (np.float32(1) - rho) * (delta * delta)
        variable.data += learning_rate * delta

    def get_config(self) -> dict:
        return {**super().get_config(), "rho": self.rho, "epsilon": self.epsilon}
