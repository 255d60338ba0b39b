"""Progbar: Keras' text progress bar for fit, evaluate and predict.

On a terminal it redraws one line in place with '\\r', at most every `interval` seconds
(so drawing never slows training), and ends it when the target is reached:

    12/32 [==========>...................] - ETA: 3s - loss: 0.4000 - accuracy: 0.9000
    32/32 [==============================] - 2s 60ms/step - loss: 0.3100 - accuracy: 0.9100

When the stream is not a terminal (a log file, CI, a notebook's captured output), nothing is
drawn until the end: then one line. verbose=2 writes one short line at the end, no bar.
"""

from __future__ import annotations

import sys
import time


def format_value(value) -> str:
    """A logged number as Keras prints it: 4 decimals, or scientific notation when tiny.

    Args:
        value: a number (Python, NumPy scalar or 0-d array); anything else is shown with str().

    Returns:
        The text, e.g. '0.2500' or '1.0000e-05'.

    Example:
        >>> format_value(0.25), format_value(1e-5), format_value(0), format_value("n/a")
        ('0.2500', '1.0000e-05', '0.0000', 'n/a')
    """
    try:
        value = float(value)
    except (TypeError, ValueError):
        return str(value)
    return f"{value:.4f}" if abs(value) > 1e-3 or value == 0 else f"{value:.4e}"


def format_duration(seconds: float) -> str:
    """'3s', '1:05' or '1:02:03', as Keras prints an ETA.

    Args:
        seconds: a duration; the fraction of a second is dropped.

    Returns:
        The duration as seconds, minutes:seconds, or hours:minutes:seconds.

    Example:
        >>> format_duration(3.7), format_duration(65), format_duration(3723)
        ('3s', '1:05', '1:02:03')
    """
    seconds = int(seconds)
    if seconds >= 3600:
        return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"
    if seconds >= 60:
        return f"{seconds // 60}:{seconds % 60:02d}"
    return f"{seconds}s"


def format_per_step(seconds: float, unit: str = "step") -> str:
    """Time per step: '2s/step', '60ms/step' or '850us/step'.

    Args:
        seconds: the time of one step (or one `unit`).
        unit: what was timed, e.g. 'step' or 'sample'.

    Returns:
        The time with the largest unit of s, ms, us that keeps it at least 1.

    Example:
        >>> format_per_step(2.0), format_per_step(0.06), format_per_step(8.5e-4, unit="sample")
        ('2s/step', '60ms/step', '850us/sample')
    """
    if seconds >= 1:
        return f"{seconds:.0f}s/{unit}"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.0f}ms/{unit}"
    return f"{seconds * 1e6:.0f}us/{unit}"


class Progbar:
    """A progress bar over `target` steps.

    Args:
        target: total number of steps, or None when unknown (a generator without steps).
        verbose: 1 for the bar, 2 for one line at the end, 0 for nothing.
        stream: where to write; sys.stdout (looked up when the bar is made) by default.
        interval: minimum seconds between two redraws on a terminal.
        width: characters of the bar between the brackets.
        prefix: text put before the final line when the stream is not a terminal
            (e.g. 'Epoch 3/10 - ', so that a log has one line per epoch).

    Example:
        A stream that is not a terminal gets one line, written when the target is reached:

        >>> import io
        >>> log = io.StringIO()
        >>> bar = Progbar(100, stream=log, width=10)
        >>> for step in range(1, 101):
        ...     bar.update(step, {"loss": 1.0 / step})
        >>> print(log.getvalue().strip())
        100/100 [==========] - ...s/step - loss: 0.0100
    """

    def __init__(self, target: int | None, verbose: int = 1, stream=None, interval: float = 0.15,
                 width: int = 30, prefix: str = ""):
        self.target, self.verbose = target, verbose
        self.stream = stream if stream is not None else sys.stdout
        self.interval, self.width, self.prefix = interval, width, prefix
        isatty = getattr(self.stream, "isatty", None)
        self.dynamic = bool(isatty and isatty())
        self.start = time.perf_counter()
        self._last_draw = 0.0
        self._last_length = 0
        self._finished = False

    def update(self, current: int, values: dict | None = None, finalize: bool | None = None) -> None:
        """Record that `current` steps are done, with the running values to show."""
        if self.verbose == 0 or self._finished:
            return
        if finalize is None:
            finalize = self.target is not None and current >= self.target
        now = time.perf_counter()
        if not finalize and (not self.dynamic or self.verbose != 1
                             or now - self._last_draw < self.interval):
            return
        self._last_draw = now
        line = self._line(current, values or {}, now - self.start, finalize)
        if finalize:
            self._finished = True
            if not self.dynamic:
                line = self.prefix + line
        self._write(line, finalize)

    def _line(self, current, values, elapsed, finalize) -> str:
        if self.verbose == 2:
            head = f"{current}/{self.target}" if self.target is not None else f"{current}/Unknown"
            text = f"{head} - {format_duration(elapsed)}"
        else:
            text = self._bar(current)
            per_step = elapsed / max(current, 1)
            if finalize:
                text += f" - {format_duration(elapsed)} {format_per_step(per_step)}"
            elif self.target is not None:
                text += f" - ETA: {format_duration(per_step * (self.target - current))}"
            else:
                text += f" - {format_duration(elapsed)} {format_per_step(per_step)}"
        for name, value in values.items():
            text += f" - {name}: {format_value(value)}"
        return text

    def _bar(self, current: int) -> str:
        if self.target is None:
            return f"{current:7d}/Unknown"
        digits = len(str(self.target))
        done = int(self.width * min(current, self.target) / max(self.target, 1))
        arrow = ("=" * (done - 1) + (">" if current < self.target else "=")) if done else ""
        return f"{current:{digits}d}/{self.target} [{arrow}{'.' * (self.width - done)}]"

    def _write(self, line: str, finalize: bool) -> None:
        if self.dynamic:
            padding = " " * max(self._last_length - len(line), 0)
            self._last_length = len(line)
            self.stream.write("\r" + line + padding + ("\n" if finalize else ""))
        else:
            self.stream.write(line + "\n")
        self.stream.flush()
