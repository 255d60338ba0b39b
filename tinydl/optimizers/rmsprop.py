"""RMSprop: divide the gradient by a running root-mean-square of recent gradients."""

from __future__ import annotations

import numpy as np

from tinydl.optimizers.base import Optimizer, checked_epsilon


class RMSprop(Optimizer):
    """RMSprop (Hinton, 2012, Coursera "Neural Networks for Machine Learning", lecture 6e).

    For a variable w with gradient g (Keras 3's formulas; note epsilon is *inside* the sqrt):

        v <- rho * v + (1 - rho) * g^2
        centered:   a <- rho * a + (1 - rho) * g;   d = v - a^2 + epsilon
        otherwise:  d = v + epsilon
        step = lr * g / sqrt(d)
        momentum > 0:  mom <- momentum * mom + step;  w <- w - mom
        otherwise:     w <- w - step

    Args:
        learning_rate: float or schedule; default 0.001.
        rho: decay of the running average of squared gradients.
        momentum: plain (not Nesterov) momentum; 0 for none.
        epsilon: stability constant, default 1e-7.
        centered: normalize by the estimated variance instead of the second moment.
        **kwargs: weight_decay, clipnorm, clipvalue, global_clipnorm, name (see Optimizer).

    Example:
        >>> w = tinydl.layers.Variable(np.array([1.0, -1.0], dtype=np.float32), name="w")
        >>> RMSprop(learning_rate=0.01).apply([np.array([0.5, -2.0])], [w])
        >>> np.round(w.numpy(), 4)
        array([ 0.9684, -0.9684], dtype=float32)
    """

    def __init__(self, learning_rate=0.001, rho: float = 0.9, momentum: float = 0.0,
                 epsilon: float = 1e-7, centered: bool = False, **kwargs):
        if not 0 <= rho < 1:
            raise ValueError(f"RMSprop: rho must be in [0, 1). Received: rho={rho!r}")
        if not 0 <= momentum <= 1:
            raise ValueError(f"RMSprop: momentum must be in [0, 1]. Received: momentum={momentum!r}")
        self.rho, self.momentum = float(rho), float(momentum)
        self.epsilon, self.centered = checked_epsilon(epsilon, type(self).__name__), bool(centered)
        super().__init__(learning_rate=learning_rate, **kwargs)

    def slot_names(self) -> tuple:
        return (("velocity",) + (("momentum",) if self.momentum > 0 else ())
                + (("average_gradient",) if self.centered else ()))

    def update_step(self, gradient, variable, learning_rate):
        rho = np.float32(self.rho)
        v = self.slot(variable, "velocity")
        v *= rho
        v += np.float32(1 - self.rho) * gradient * gradient
        if self.centered:
            a = self.slot(variable, "average_gradient")
            a *= rho
            a += np.float32(1 - self.rho) * gradient
            denominator = v - a * a + np.float32(self.epsilon)
        else:
            denominator = v + np.float32(self.epsilon)
        step = learning_rate * gradient / np.sqrt(denominator)
        if self.momentum > 0:
            mom = self.slot(variable, "momentum")
            mom *= np.float32(self.momentum)
            mom += step
            variable.data -= mom
        else:
            variable.data -= step

    def get_config(self) -> dict:
        return {**super().get_config(), "rho": self.rho, "momentum": self.momentum,
                "epsilon": self.epsilon, "centered": self.centered}
