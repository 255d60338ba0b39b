"""Per-thread switches (grad mode, anomaly mode) and Switch, which sets one for a block or a function.

Each Python thread has its own values (threading.local, as PyTorch's grad mode): a new thread
starts with grad recording on and anomaly mode off, whatever the thread that started it does.
So `predict` in one thread (which records no graph) never stops `fit` in another.
"""

from __future__ import annotations

import functools
import inspect
import threading


class _ThreadState(threading.local):
    """The switches of one thread; __init__ runs once in each thread that reads them."""

    def __init__(self):
        self.grad_enabled = True
        self.anomaly = False
        self.layers = []  # names of the layers whose call is running (kept in anomaly mode only)


state = _ThreadState()


class Switch:
    """Set `state.<field>` to `value` in this thread for a with-block or a decorated function.

    Subclasses name the field and the value. An instance restores what it replaced on exit,
    so blocks nest; the values it replaced are kept per thread, so even one instance shared by
    several threads restores each thread's own value. A decorated function gets a fresh
    switch per call.

    Example:
        >>> with no_grad():          # no_grad is a Switch of grad_enabled to False
        ...     y = model(x)
    """

    field = "grad_enabled"
    value = True

    def __new__(cls, func=None):
        """`@cls` with no parentheses decorates func; `cls()` makes a switch."""
        if func is None:
            return super().__new__(cls)
        return cls()(func)

    def __init__(self, func=None):
        self._saved = {}  # thread id -> values this switch replaced, innermost last

    def __enter__(self):
        saved = self._saved.setdefault(threading.get_ident(), [])
        saved.append(getattr(state, self.field))
        setattr(state, self.field, self.value)
        return self

    def __exit__(self, *exc_info) -> bool:
        saved = self._saved[threading.get_ident()]
        setattr(state, self.field, saved.pop())
        if not saved:
            del self._saved[threading.get_ident()]
        return False

    def __call__(self, func):
        """Decorate func: each call runs inside a fresh switch of the same kind."""
        check_decorated(func, type(self).__name__)

        @functools.wraps(func)
        def run(*args, **kwargs):
            with self._fresh():
                return func(*args, **kwargs)
        return run

    def _fresh(self):
        return type(self)()


def check_decorated(func, name: str) -> None:
    """TypeError for what a switch cannot decorate: non-callables and generator functions
    (whose body runs later, outside the switch)."""
    if not callable(func):
        raise TypeError(f"{name} decorates a function. Received: {func!r}")
    if inspect.isgeneratorfunction(func) or inspect.isasyncgenfunction(func):
        raise TypeError(f"{name} cannot decorate the generator function {func.__name__!r}: its "
                        f"body runs after the call returns, outside the switch. Use "
                        f"`with {name}():` inside the generator instead")
