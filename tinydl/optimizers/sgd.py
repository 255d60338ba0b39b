"""SGD: gradient descent with optional (Nesterov) momentum, in Keras' velocity form."""

from __future__ import annotations

import numpy as np

from tinydl.optimizers.base import Optimizer


class SGD(Optimizer):
    """Stochastic gradient descent, with momentum (Polyak, 1964) and Nesterov momentum
    (Sutskever et al., 2013, "On the importance of initialization and momentum").

    Update of a variable w with gradient g (Keras 3's formulas, lr the learning rate):

        momentum == 0:   w <- w - lr * g
        momentum > 0:    v <- momentum * v - lr * g;   w <- w + v
        nesterov:        v <- momentum * v - lr * g;   w <- w + momentum * v - lr * g

    Args:
        learning_rate: float or schedule; Keras' default 0.01.
        momentum: in [0, 1]; 0 is plain gradient descent.
        nesterov: use Nesterov momentum.
        **kwargs: weight_decay, clipnorm, clipvalue, global_clipnorm, name (see Optimizer).

    Example:
        >>> w = tinydl.layers.Variable(np.array([1.0, -1.0], dtype=np.float32), name="w")
        >>> opt = SGD(learning_rate=0.1, momentum=0.9)
        >>> opt.apply([np.array([1.0, 2.0])], [w])
        >>> np.round(w.numpy(), 4)
        array([ 0.9, -1.2], dtype=float32)
    """

    def __init__(self, learning_rate=0.01, momentum: float = 0.0, nesterov: bool = False, **kwargs):
        if isinstance(momentum, bool) or not isinstance(momentum, (int, float)) or not 0 <= momentum <= 1:
            raise ValueError(f"SGD: momentum must be a float in [0, 1]. Received: momentum={momentum!r}")
        self.momentum, self.nesterov = float(momentum), bool(nesterov)
        super().__init__(learning_rate=learning_rate, **kwargs)

    def slot_names(self) -> tuple:
        return ("momentum",) if self.momentum != 0 else ()

    def update_step(self, gradient, variable, learning_rate):
        if self.momentum == 0:
            variable.data -= learning_rate * gradient
            return
        v = self.slot(variable, "momentum")
        momentum = np.float32(self.momentum)
        v *= momentum
        v -= learning_rate * gradient
        if self.nesterov:
            variable.data += momentum * v - learning_rate * gradient
        else:
            variable.data += v

    def get_config(self) -> dict:
        return {**super().get_config(), "momentum": self.momentum, "nesterov": self.nesterov}
