"""Training curves from a History: tinydl.utils.plot_history (matplotlib, an optional extra)."""

from __future__ import annotations


def plot_history(history, path=None, metrics=None):
    """Plot each metric of a fit against the epoch, training and validation side by side.

    Args:
        history: the History that fit returned, or its .history dict
            ({'loss': [...], 'val_loss': [...], 'accuracy': [...], ...}).
        path: where to save the picture (.png, .svg, .pdf); None returns the figure unsaved.
        metrics: the metric names to plot, one panel each; by default every key of the
            history that is not a 'val_' one.

    Returns:
        The matplotlib Figure.

    Raises:
        ImportError: matplotlib is not installed (pip install "tinydl[plot]").
        ValueError: an empty history, or a metric it does not hold.

    Example:
        >>> fig = plot_history({"loss": [1.0, 0.5], "val_loss": [1.1, 0.7], "mae": [0.9, 0.4]})
        >>> [(ax.get_title(), [line.get_label() for line in ax.get_lines()]) for ax in fig.axes]
        [('loss', ['train loss', 'validation loss']), ('mae', ['train mae'])]
        >>> plot_history({"loss": [1.0]}, metrics=["accuracy"])
        Traceback (most recent call last):
        ...
        ValueError: plot_history: metrics ['accuracy'] are not in the history (it holds ['loss'])
    """
    try:
        from matplotlib.figure import Figure
        from matplotlib.ticker import MaxNLocator
    except ImportError as exc:
        raise ImportError("plot_history needs matplotlib: pip install matplotlib "
                          "(or pip install \"tinydl[plot]\")") from exc
    logs = getattr(history, "history", history)
    if not isinstance(logs, dict) or not logs:
        raise ValueError(f"plot_history: history must be a History or a non-empty dict of lists, "
                         f"Received: {history!r}")
    names = list(metrics) if metrics is not None else [k for k in logs if not k.startswith("val_")]
    missing = [n for n in names if n not in logs]
    if missing or not names:
        raise ValueError(f"plot_history: metrics {missing or names} are not in the history "
                         f"(it holds {sorted(logs)})")
    fig = Figure(figsize=(5 * len(names), 4))  # no pyplot: the user's backend stays untouched
    for ax, name in zip(fig.subplots(1, len(names), squeeze=False)[0], names):
        epochs = range(1, len(logs[name]) + 1)
        ax.plot(epochs, logs[name], "o-", label=f"train {name}")
        if f"val_{name}" in logs:
            ax.plot(range(1, len(logs[f"val_{name}"]) + 1), logs[f"val_{name}"], "s--",
                    label=f"validation {name}")
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_title(name)
        ax.legend()
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=100)
    return fig
