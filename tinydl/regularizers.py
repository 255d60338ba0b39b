"""Weight penalties added to the training loss: L1, L2 and both (Keras' formulas)."""

from __future__ import annotations

from tinydl import ops


class L1L2:
    """penalty(w) = l1 * sum(|w|) + l2 * sum(w^2)."""

    def __init__(self, l1: float = 0.0, l2: float = 0.0):
        self.l1, self.l2 = float(l1), float(l2)

    def __call__(self, weight):
        penalty = 0.0
        if self.l1:
            penalty = ops.abs(weight).sum() * self.l1
        if self.l2:
            penalty = (weight * weight).sum() * self.l2 + penalty
        return penalty

    def get_config(self) -> dict:
        return {"l1": self.l1, "l2": self.l2}


def l1(l1: float = 0.01) -> L1L2:  # noqa: E741
    """L1 penalty l1 * sum(|w|); Keras' default factor 0.01."""
    return L1L2(l1=l1)


def l2(l2: float = 0.01) -> L1L2:
    """L2 penalty l2 * sum(w^2); Keras' default factor 0.01."""
    return L1L2(l2=l2)


def l1_l2(l1: float = 0.01, l2: float = 0.01) -> L1L2:  # noqa: E741
    return L1L2(l1=l1, l2=l2)


L1, L2 = l1, l2


def get(identifier):
    """None, a callable, or one of 'l1', 'l2', 'l1_l2'."""
    if identifier is None or callable(identifier):
        return identifier
    names = {"l1": l1, "l2": l2, "l1_l2": l1_l2}
    if isinstance(identifier, str) and identifier in names:
        return names[identifier]()
    raise ValueError(f"unknown regularizer {identifier!r}; valid: None, a callable, {sorted(names)}")
