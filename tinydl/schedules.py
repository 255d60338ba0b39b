"""Learning-rate schedules: functions of the optimizer's step count, with Keras' names and formulas.

An optimizer given a schedule as its learning_rate asks it for the rate before every update,
passing the number of updates done so far (0 for the first), as Keras does:

    lr = ExponentialDecay(0.1, decay_steps=1000, decay_rate=0.96)
    opt = tinydl.optimizers.SGD(learning_rate=lr)      # 0.1, then 0.1 * 0.96 ** (1/1000), ...

Also reachable as tinydl.optimizers.schedules.
"""

from __future__ import annotations

import math


def _positive(value, name: str, owner: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or \
            not 0 < value < math.inf:
        raise ValueError(f"{owner}: {name} must be a positive finite number. "
                         f"Received: {name}={value!r}")
    return float(value)


def _in_range(value, name: str, owner: str, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or \
            not low <= value <= high:
        raise ValueError(f"{owner}: {name} must be a number in [{low}, {high}]. "
                         f"Received: {name}={value!r}")
    return float(value)


class LearningRateSchedule:
    """Base class: subclass it and define __call__(step) -> float and get_config().

    Example:
        >>> class Halving(LearningRateSchedule):
        ...     def __call__(self, step):
        ...         return 0.1 * 0.5 ** (step // 100)
    """

    def __call__(self, step: int) -> float:
        raise NotImplementedError(f"{type(self).__name__} must define __call__(step)")

    def get_config(self) -> dict:
        raise NotImplementedError(f"{type(self).__name__} must define get_config()")

    @classmethod
    def from_config(cls, config: dict):
        return cls(**config)


class ExponentialDecay(LearningRateSchedule):
    """lr(step) = initial_learning_rate * decay_rate ** (step / decay_steps).

    With staircase=True the exponent is floor(step / decay_steps): the rate drops in steps.

    Args:
        initial_learning_rate: the rate at step 0.
        decay_steps: steps over which the rate is multiplied by decay_rate once.
        decay_rate: the factor, e.g. 0.96.
        staircase: decay at whole multiples of decay_steps only.

    Example:
        >>> ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5)(20)
        0.025
    """

    def __init__(self, initial_learning_rate: float, decay_steps: int, decay_rate: float,
                 staircase: bool = False, name: str = "ExponentialDecay"):
        owner = "ExponentialDecay"
        self.initial_learning_rate = _positive(initial_learning_rate, "initial_learning_rate", owner)
        self.decay_steps = _positive(decay_steps, "decay_steps", owner)
        self.decay_rate = _positive(decay_rate, "decay_rate", owner)
        self.staircase, self.name = bool(staircase), name

    def __call__(self, step: int) -> float:
        p = float(step) / self.decay_steps
        if self.staircase:
            p = math.floor(p)
        return self.initial_learning_rate * self.decay_rate ** p

    def get_config(self) -> dict:
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "decay_rate": self.decay_rate,
                "staircase": self.staircase, "name": self.name}


class InverseTimeDecay(LearningRateSchedule):
    """lr(step) = initial_learning_rate / (1 + decay_rate * step / decay_steps) (floored if staircase).

    Example:
        >>> InverseTimeDecay(0.1, decay_steps=10, decay_rate=1.0)(10)
        0.05
    """

    def __init__(self, initial_learning_rate: float, decay_steps: int, decay_rate: float,
                 staircase: bool = False, name: str = "InverseTimeDecay"):
        owner = "InverseTimeDecay"
        self.initial_learning_rate = _positive(initial_learning_rate, "initial_learning_rate", owner)
        self.decay_steps = _positive(decay_steps, "decay_steps", owner)
        self.decay_rate = _in_range(decay_rate, "decay_rate", owner, 0.0, math.inf)
        self.staircase, self.name = bool(staircase), name

    def __call__(self, step: int) -> float:
        p = float(step) / self.decay_steps
        if self.staircase:
            p = math.floor(p)
        return self.initial_learning_rate / (1.0 + self.decay_rate * p)

    def get_config(self) -> dict:
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "decay_rate": self.decay_rate,
                "staircase": self.staircase, "name": self.name}


class PiecewiseConstantDecay(LearningRateSchedule):
    """values[0] until boundaries[0], values[1] until boundaries[1], ..., values[-1] after.

    A step equal to a boundary still gets the earlier value (Keras: step <= boundary).

    Example:
        >>> schedule = PiecewiseConstantDecay(boundaries=[10, 20], values=[0.1, 0.01, 0.001])
        >>> schedule(5), schedule(15), schedule(25)
        (0.1, 0.01, 0.001)
    """

    def __init__(self, boundaries, values, name: str = "PiecewiseConstant"):
        owner = "PiecewiseConstantDecay"
        if len(values) != len(boundaries) + 1:
            raise ValueError(f"PiecewiseConstantDecay: values must have one more element than "
                             f"boundaries. Received: {len(boundaries)} boundaries, {len(values)} values")
        for v in values:  # learning rates
            _positive(v, "each of values", owner)
        for b in boundaries:
            _in_range(b, "each of boundaries", owner, -math.inf, math.inf)
        self.boundaries, self.values, self.name = list(boundaries), list(values), name

    def __call__(self, step: int) -> float:
        for boundary, value in zip(self.boundaries, self.values):
            if step <= boundary:
                return float(value)
        return float(self.values[-1])

    def get_config(self) -> dict:
        return {"boundaries": self.boundaries, "values": self.values, "name": self.name}


class CosineDecay(LearningRateSchedule):
    """Cosine decay (Loshchilov & Hutter 2017, "SGDR") from initial_learning_rate to alpha * it.

    lr(step) = initial * ((1 - alpha) * 0.5 * (1 + cos(pi * min(step, decay_steps) / decay_steps)) + alpha)

    Example:
        >>> schedule = CosineDecay(0.1, decay_steps=100)
        >>> schedule(0), round(schedule(50), 6), schedule(100)
        (0.1, 0.05, 0.0)
    """

    def __init__(self, initial_learning_rate: float, decay_steps: int, alpha: float = 0.0,
                 name: str = "CosineDecay"):
        owner = "CosineDecay"
        self.initial_learning_rate = _positive(initial_learning_rate, "initial_learning_rate", owner)
        self.decay_steps = _positive(decay_steps, "decay_steps", owner)
        self.alpha, self.name = _in_range(alpha, "alpha", owner, 0.0, 1.0), name

    def __call__(self, step: int) -> float:
        fraction = min(float(step), self.decay_steps) / self.decay_steps
        cosine = 0.5 * (1.0 + math.cos(math.pi * fraction))
        return self.initial_learning_rate * ((1.0 - self.alpha) * cosine + self.alpha)

    def get_config(self) -> dict:
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "alpha": self.alpha, "name": self.name}


__all__ = ["LearningRateSchedule", "ExponentialDecay", "InverseTimeDecay",
           "PiecewiseConstantDecay", "CosineDecay"]
