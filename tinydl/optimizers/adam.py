"""Adam and AdamW: adaptive moment estimation, with Keras 3's exact arithmetic."""

from __future__ import annotations

import math

import numpy as np

from tinydl import backend
from tinydl.optimizers.base import Optimizer, checked_epsilon


class Adam(Optimizer):
    """Adam (Kingma & Ba, 2015, "Adam: A Method for Stochastic Optimization").

    At step t = iterations + 1, for a variable w with gradient g (Keras 3's formulas):

        alpha = lr * sqrt(1 - beta_2 ** t) / (1 - beta_1 ** t)     # bias correction folded in
        m <- m + (g - m) * (1 - beta_1)                             # = beta_1 m + (1 - beta_1) g
        v <- v + (g^2 - v) * (1 - beta_2)
        w <- w - alpha * m / (sqrt(v) + epsilon)

    epsilon is added outside the bias correction ("epsilon hat" in the paper, just before
    its section 2.1), so it matters more than in PyTorch's form. With amsgrad (Reddi et al.,
    2018) the running maximum v_hat = max(v_hat, v) replaces v in the last line.

    The three lines run as one pass per variable, tinydl.backend.adam_update (C on the
    native backend). Its reference, tinydl.kernels.reference.adam_update, is these
    formulas in NumPy, operation by operation in float32, and both give the same bits.

    Args:
        learning_rate: float or schedule; default 0.001.
        beta_1, beta_2: decay rates of the first and second moment estimates.
        epsilon: the stability constant; Keras' default 1e-7.
        amsgrad: use the AMSGrad variant.
        **kwargs: weight_decay, clipnorm, clipvalue, global_clipnorm, name (see Optimizer).

    Example:
        >>> w = tinydl.layers.Variable(np.array([1.0, -1.0], dtype=np.float32), name="w")
        >>> Adam(learning_rate=0.1).apply([np.array([0.5, -2.0])], [w])
        >>> np.round(w.numpy(), 4)
        array([ 0.9, -0.9], dtype=float32)
    """

    def __init__(self, learning_rate=0.001, beta_1: float = 0.9, beta_2: float = 0.999,
                 epsilon: float = 1e-7, amsgrad: bool = False, **kwargs):
        for name, value in (("beta_1", beta_1), ("beta_2", beta_2)):
            if not 0 <= value < 1:
                raise ValueError(f"{type(self).__name__}: {name} must be in [0, 1). "
                                 f"Received: {name}={value!r}")
        self.beta_1, self.beta_2 = float(beta_1), float(beta_2)
        self.epsilon, self.amsgrad = checked_epsilon(epsilon, type(self).__name__), bool(amsgrad)
        super().__init__(learning_rate=learning_rate, **kwargs)

    def slot_names(self) -> tuple:
        return ("momentum", "velocity") + (("velocity_hat",) if self.amsgrad else ())

    def update_step(self, gradient, variable, learning_rate):
        t = self.iterations + 1
        alpha = np.float32(float(learning_rate) * math.sqrt(1 - self.beta_2 ** t)
                           / (1 - self.beta_1 ** t))
        w = variable.data
        # The kernel updates arrays in place and only C-contiguous ones (a Variable built
        # from a transposed array is not): update a C copy and write it back.
        target = w if w.flags.c_contiguous else np.ascontiguousarray(w)
        backend.adam_update(target, np.ascontiguousarray(gradient, dtype=np.float32),
                            self.slot(variable, "momentum"), self.slot(variable, "velocity"),
                            self.slot(variable, "velocity_hat") if self.amsgrad else None,
                            alpha, np.float32(1 - self.beta_1), np.float32(1 - self.beta_2),
                            np.float32(self.epsilon))
        if target is not w:
            w[...] = target

    def get_config(self) -> dict:
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2,
                "epsilon": self.epsilon, "amsgrad": self.amsgrad}


class AdamW(Adam):
    """AdamW (Loshchilov & Hutter, 2019, "Decoupled Weight Decay Regularization").

    Adam with weight decay applied to the weights, not added to the gradient. Before each
    Adam step (Keras 3's order):

        w <- w - w * weight_decay * lr

    then the Adam update above. Keras' default weight_decay is 0.004.

    Example:
        >>> w = tinydl.layers.Variable(np.array([1.0, -1.0], dtype=np.float32), name="w")
        >>> AdamW(learning_rate=0.1, weight_decay=0.5).apply([np.array([0.5, -2.0])], [w])
        >>> np.round(w.numpy(), 4)
        array([ 0.85, -0.85], dtype=float32)
    """

    def __init__(self, learning_rate=0.001, weight_decay: float = 0.004, beta_1: float = 0.9,
                 beta_2: float = 0.999, epsilon: float = 1e-7, amsgrad: bool = False, **kwargs):
        if weight_decay is None:
            raise ValueError("AdamW: weight_decay must be a float. Received: weight_decay=None")
        super().__init__(learning_rate=learning_rate, beta_1=beta_1, beta_2=beta_2,
                         epsilon=epsilon, amsgrad=amsgrad, weight_decay=weight_decay, **kwargs)
