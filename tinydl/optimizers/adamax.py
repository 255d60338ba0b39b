"""Adamax and Nadam: Adam with an infinity-norm second moment, and Adam with Nesterov momentum."""

from __future__ import annotations

import numpy as np

from tinydl.optimizers.adagrad import checked_rate
from tinydl.optimizers.base import Optimizer, checked_epsilon


class _Betas(Optimizer):
    """Shared arguments: beta_1, beta_2 in [0, 1), epsilon > 0."""

    def __init__(self, learning_rate=0.001, beta_1: float = 0.9, beta_2: float = 0.999,
                 epsilon: float = 1e-7, **kwargs):
        owner = type(self).__name__
        self.beta_1, self.beta_2 = checked_rate(beta_1, "beta_1", owner), checked_rate(beta_2, "beta_2", owner)
        self.epsilon = checked_epsilon(epsilon, owner)
        super().__init__(learning_rate=learning_rate, **kwargs)

    def get_config(self) -> dict:
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon}


class Adamax(_Betas):
    """Adamax (Kingma & Ba, 2015, section 7.1): Adam with the infinity norm.

    At step t for a variable w with gradient g (Keras 3's formulas):

        m <- m + (g - m) * (1 - beta_1)
        u <- max(beta_2 * u, |g|)
        w <- w - lr * m / ((1 - beta_1^t) * (u + epsilon))

    Example:
        >>> w = tinydl.layers.Variable(np.array([1.0, -1.0], dtype=np.float32), name="w")
        >>> Adamax(learning_rate=0.1).apply([np.array([0.5, -2.0])], [w])
        >>> np.round(w.numpy(), 4)
        array([ 0.9, -0.9], dtype=float32)
    """

    def slot_names(self) -> tuple:
        return ("momentum", "norm")

    def update_step(self, gradient, variable, learning_rate):
        m, u = self.slot(variable, "momentum"), self.slot(variable, "norm")
        beta_1_power = np.float32(self.beta_1) ** np.float32(self.iterations + 1)
        m += (gradient - m) * np.float32(1 - self.beta_1)
        np.maximum(np.float32(self.beta_2) * u, np.abs(gradient), out=u)
        variable.data -= (learning_rate * m) / ((np.float32(1) - beta_1_power) * (u + np.float32(self.epsilon)))


class Nadam(_Betas):
    """Nadam (Dozat, 2016, "Incorporating Nesterov Momentum into Adam"), Keras 3's form with
    the momentum schedule u_t = beta_1 * (1 - 0.5 * 0.96^t).

    At step t for a variable w with gradient g, P_t = u_1 * ... * u_t:

        m <- m + (g - m) * (1 - beta_1);   v <- v + (g^2 - v) * (1 - beta_2)
        m_hat = u_{t+1} * m / (1 - P_t * u_{t+1}) + (1 - u_t) * g / (1 - P_t)
        v_hat = v / (1 - beta_2^t)
        w <- w - lr * m_hat / (sqrt(v_hat) + epsilon)

    Example:
        >>> w = tinydl.layers.Variable(np.array([1.0, -1.0], dtype=np.float32), name="w")
        >>> Nadam(learning_rate=0.1).apply([np.array([0.5, -2.0])], [w])
        >>> np.round(w.numpy(), 4)
        array([ 0.8937, -0.8937], dtype=float32)
    """

    def slot_names(self) -> tuple:
        return ("momentum", "velocity")

    @staticmethod
    def _decay(step: int) -> np.float32:
        """1 - 0.5 * 0.96^step, in float32."""
        return np.float32(1) - np.float32(0.5) * np.float32(0.96) ** np.float32(step)

    def _u(self, step: int) -> np.float32:
        return np.float32(self.beta_1) * self._decay(step)

    def _u_product(self, step: int) -> np.float32:
        """P_step = u_1 * ... * u_step in float32, one product per step in Keras' order
        ((P * beta_1) * (1 - 0.5 * 0.96^step)), carried on from the last step when it can be
        (so a product restored from a Keras file continues as Keras would continue it)."""
        cached_step, product = getattr(self, "_product_cache", (0, np.float32(1.0)))
        if cached_step > step:
            cached_step, product = 0, np.float32(1.0)
        for s in range(cached_step + 1, step + 1):
            product = (product * np.float32(self.beta_1)) * self._decay(s)
        self._product_cache = (step, product)
        return product

    # Keras keeps P_iterations as an optimizer variable, u_product; so does the state here,
    # after the slots (a state without it, as .tinydl files of older versions hold, gets the
    # product its iterations imply).
    def get_state(self) -> dict:
        return {**super().get_state(), "u_product": np.asarray(self._u_product(self.iterations), np.float32)}

    def state_spec(self, variable_shapes=None) -> dict:
        return {**super().state_spec(variable_shapes), "u_product": ("float32", ())}

    def set_state(self, state: dict) -> None:
        state = dict(state)
        if "u_product" in state:
            value = np.asarray(state["u_product"])
            if value.shape != () or value.dtype.kind != "f" or not 0.0 < float(value) <= 1.0:
                raise ValueError("Nadam.set_state: 'u_product' must be one float in (0, 1], the "
                                 f"product of the momentum schedule. Received: {value!r}")
        super().set_state(state if "u_product" in state or not self.built else
                          {**state, "u_product": np.float32(1.0)})
        if self.built:
            self._product_cache = ((self.iterations, np.float32(state["u_product"]))
                                   if "u_product" in state else (0, np.float32(1.0)))

    def update_step(self, gradient, variable, learning_rate):
        t = self.iterations + 1
        u_t, u_next = self._u(t), self._u(t + 1)
        product = self._u_product(t)
        m, v = self.slot(variable, "momentum"), self.slot(variable, "velocity")
        m += (gradient - m) * np.float32(1 - self.beta_1)
        v += (gradient * gradient - v) * np.float32(1 - self.beta_2)
        m_hat = (u_next * m) / (np.float32(1) - product * u_next) + ((np.float32(1) - u_t) * gradient) / (
            np.float32(1) - product)
        v_hat = v / (np.float32(1) - np.float32(self.beta_2) ** np.float32(t))
        variable.data -= (m_hat * learning_rate) / (np.sqrt(v_hat) + np.float32(self.epsilon))
