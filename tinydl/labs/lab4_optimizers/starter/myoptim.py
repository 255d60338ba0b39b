"""Lab 4: optimizers in NumPy, step for step the arithmetic of tinydl's (and Keras 3's).

Each optimizer updates a list of float32 arrays in place: `opt.step(params, grads)`. State
(velocities, moments) lives in lists beside the parameters, created at the first step.
"""

from __future__ import annotations

import math

import numpy as np

import tinydl


class Optimizer:
    """What the optimizers share: the learning rate, the step count t, zeroed state per parameter."""

    def __init__(self, learning_rate: float):
        self.learning_rate = float(learning_rate)
        self.t = 0                       # steps taken so far
        self.state = None                # {name: [array per parameter]}, made at the first step

    def zeros(self, params, *names) -> None:
        """Create zeroed state arrays `names` for params (at the first step only)."""
        if self.state is None:
            self.state = {name: [np.zeros_like(p) for p in params] for name in names}

    def step(self, params: list, grads: list) -> None:
        """Update every array of params in place from the gradient of the same position."""
        raise NotImplementedError


# ----------------------------------------------------------------------------- task 4.1

class SGD(Optimizer):
    """w <- w - lr g; with momentum m: v <- m v - lr g, then w <- w + v (Nesterov: w <- w + m v - lr g)."""

    def __init__(self, learning_rate: float = 0.01, momentum: float = 0.0, nesterov: bool = False):
        super().__init__(learning_rate)
        self.momentum, self.nesterov = float(momentum), bool(nesterov)

    def step(self, params, grads):
        raise NotImplementedError('Lab 4, task 1: write SGD.step: plain, momentum and Nesterov updates '
                                  '(self.zeros(params, "velocity"))')
        self.t += 1


# ----------------------------------------------------------------------------- task 4.2

class RMSprop(Optimizer):
    """v <- rho v + (1 - rho) g^2; step = lr g / sqrt(v + eps); w <- w - step (momentum: mom <- m mom + step)."""

    def __init__(self, learning_rate: float = 0.001, rho: float = 0.9, momentum: float = 0.0,
                 epsilon: float = 1e-7):
        super().__init__(learning_rate)
        self.rho, self.momentum, self.epsilon = float(rho), float(momentum), float(epsilon)

    def step(self, params, grads):
        raise NotImplementedError('Lab 4, task 2: write RMSprop.step: note epsilon inside the square root '
                                  "(Keras' form)")
        self.t += 1


# ----------------------------------------------------------------------------- task 4.3

class Adam(Optimizer):
    """Adam with Keras' arithmetic: bias corrections folded into the step size, epsilon outside the sqrt."""

    def __init__(self, learning_rate: float = 0.001, beta_1: float = 0.9, beta_2: float = 0.999,
                 epsilon: float = 1e-7):
        super().__init__(learning_rate)
        self.beta_1, self.beta_2, self.epsilon = float(beta_1), float(beta_2), float(epsilon)

    def step(self, params, grads):
        raise NotImplementedError('Lab 4, task 3: write Adam.step: alpha = lr sqrt(1 - b2^t) / (1 - b1^t) '
                                  'with t counted from 1')
        self.t += 1


# ----------------------------------------------------------------------------- task 4.4

class AdamW(Adam):
    """Adam, after a decoupled weight decay of every parameter: w <- w - w * weight_decay * lr."""

    def __init__(self, learning_rate: float = 0.001, weight_decay: float = 0.004, **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.weight_decay = float(weight_decay)

    def step(self, params, grads):
        raise NotImplementedError('Lab 4, task 4: write AdamW.step: decay each parameter in place, then '
                                  'super().step')


# ----------------------------------------------------------------------------- task 4.5

def digits_problem():
    """Softmax regression on the bundled digits (1,797 8x8 images): (initial params, loss_and_grads).

    params is [W (64, 10), b (10,)], float32; loss_and_grads(params) returns the mean
    cross-entropy over all images and the gradients [dW, db] (a full batch: no noise).
    """
    (x, y), _ = tinydl.datasets.digits.load_data()
    x = x.reshape(len(x), -1).astype(np.float32) / 16.0
    y = y.astype(np.int64)

    def loss_and_grads(params):
        w, b = params
        logits = x @ w + b
        logits -= logits.max(axis=1, keepdims=True)
        log_probs = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
        d_logits = np.exp(log_probs)
        d_logits[np.arange(len(y)), y] -= 1
        d_logits /= len(y)
        return float(-log_probs[np.arange(len(y)), y].mean()), [x.T @ d_logits, d_logits.sum(axis=0)]

    rng = np.random.default_rng(0)
    params = [(0.01 * rng.standard_normal((64, 10))).astype(np.float32), np.zeros(10, np.float32)]
    return params, loss_and_grads


def optimizers() -> dict:
    """The optimizers compared on digits_problem, by name (learning rates that suit it)."""
    return {"sgd": SGD(0.5), "momentum": SGD(0.5, momentum=0.9), "nesterov": SGD(0.5, momentum=0.9, nesterov=True),
            "rmsprop": RMSprop(0.01), "adam": Adam(0.01), "adamw": AdamW(0.01, weight_decay=0.01)}


def loss_curves(steps: int = 100) -> dict:
    """{name: [loss before step 1, ..., loss before step `steps`]} for each of optimizers().

    Every optimizer starts from the same initial params (a fresh copy each).
    """
    raise NotImplementedError('Lab 4, task 5: write loss_curves: per optimizer, fresh params, then `steps` x '
                              '(loss_and_grads, step)')


def plot_curves(curves: dict, path) -> bool:
    """Plot the curves (log-scale loss against step) into the image file `path`.

    Returns False, and draws nothing, when matplotlib is not installed (it is optional).
    """
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    raise NotImplementedError('Lab 4, task 5: write plot_curves: one line per optimizer, a log-scale y axis, '
                              'a legend, savefig(path)')

# A starter file: some imports are for the code you will write.
# ruff: noqa: F401, F841
