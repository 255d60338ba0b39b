"""Lion: the sign of an interpolated momentum as the step (Chen et al., 2023)."""

from __future__ import annotations

import numpy as np

from tinydl.optimizers.adagrad import checked_rate
from tinydl.optimizers.base import Optimizer


class Lion(Optimizer):
    """Lion (Chen et al., 2023, "Symbolic Discovery of Optimization Algorithms").

    For a variable w with gradient g (Keras 3's formulas):

        w <- w - lr * sign(beta_1 * m + (1 - beta_1) * g)
        m <- beta_2 * m + (1 - beta_2) * g

    Args:
        learning_rate: float or schedule; default 0.001 (use 3-10x smaller than for Adam).
        beta_1: in (0, 1], default 0.9. beta_2: in [0, 1), default 0.99.
        **kwargs: weight_decay, clipnorm, clipvalue, global_clipnorm, name (see Optimizer).

    Example:
        >>> w = tinydl.layers.Variable(np.array([1.0, -1.0], dtype=np.float32), name="w")
        >>> Lion(learning_rate=0.1).apply([np.array([0.5, -2.0])], [w])
        >>> np.round(w.numpy(), 4)
        array([ 0.9, -0.9], dtype=float32)
    """

    def __init__(self, learning_rate=0.001, beta_1: float = 0.9, beta_2: float = 0.99, **kwargs):
        self.beta_1 = checked_rate(beta_1, "beta_1", "Lion", high_open=False)
        if self.beta_1 == 0:
            raise ValueError("Lion: beta_1 must be in (0, 1]; 0 makes it SignSGD. Received: beta_1=0")
        self.beta_2 = checked_rate(beta_2, "beta_2", "Lion")
        super().__init__(learning_rate=learning_rate, **kwargs)

    def slot_names(self) -> tuple:
        return ("momentum",)

    def update_step(self, gradient, variable, learning_rate):
        m = self.slot(variable, "momentum")
        beta_1, beta_2 = np.float32(self.beta_1), np.float32(self.beta_2)
        variable.data -= learning_rate * np.sign(m * beta_1 + gradient * (np.float32(1) - beta_1))
        m[...] = m * beta_2 + gradient * (np.float32(1) - beta_2)

    def get_config(self) -> dict:
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2}
