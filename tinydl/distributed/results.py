"""The global figures: metrics over every rank's data, and every rank's predictions in order.

    global_results      a metric whose state adds up across ranks (a Mean's total and count,
                        a confusion metric's counts) is computed from the sum of every rank's
                        state, so Precision, Recall and AUC come out as over all the data; any
                        other number in the logs is the mean over ranks weighted by samples
                        (exact for a mean over samples; a custom Metric can name its summable
                        state attributes in `summable_state` to be exact too)
    gather_predictions  every rank's predicted batches, on every rank, sorted by their
                        place in the whole epoch (the shards' positions)

Both are collective: every rank calls them at the same point.
"""

from __future__ import annotations

import copy
import warnings

import numpy as np

from tinydl import metrics, tree
from tinydl.distributed import comm
from tinydl.models import data

_warned: set = set()  # the metric types warned about once already


def summed_state(metric) -> tuple | None:
    """The names of a metric's state attributes that add up across ranks, or None if unknown.

    Args:
        metric: a tinydl.metrics.Metric.

    Returns:
        A tuple of attribute names (its summable_state when it declares one), or None.

    Example:
        >>> summed_state(tinydl.metrics.Mean()), summed_state(tinydl.metrics.AUC())
        (('total', 'count'), ('counts',))
        >>> class Median(tinydl.metrics.Metric):
        ...     def result(self):
        ...         return 0.0
        >>> print(summed_state(Median()))                      # not summable: averaged instead
        None
    """
    declared = getattr(metric, "summable_state", None)
    if declared is not None:
        return tuple(declared)
    if isinstance(metric, metrics.Mean):
        return ("total", "count")
    if isinstance(metric, metrics._ConfusionMetric):
        return ("counts",)
    return None


def numeric_keys(logs: dict) -> list:
    """The keys of logs whose values are numbers, sorted.

    Args:
        logs: a dict of logs.

    Returns:
        The sorted keys of int and float values (bools excluded).

    Example:
        >>> numeric_keys({"loss": 0.5, "accuracy": np.float32(0.9), "note": "x", "stopped": True, "n": 3})
        ['accuracy', 'loss', 'n']
    """
    return sorted(k for k, v in logs.items()
                  if isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool))


def global_results(model, logs: dict, weight: float, where: str, check: bool = True) -> dict:
    """logs over all ranks (see the module): a new dict.

    Args:
        model: the model whose metrics made logs (model.metrics, in the same order everywhere).
        logs: this rank's {name: value}.
        weight: the samples behind this rank's logs (0 for a rank without data).
        where: the caller, for error messages.
        check: check first that every rank has the same metrics and log keys (one more
            small collective); fit does it on its first batch only.

    Returns:
        A new dict of the global values.

    Raises:
        RuntimeError: init() was not called.
        ValueError: the ranks' metrics or log keys differ (with check).

    Example:
        >>> model = tinydl.Sequential([tinydl.Input((2,)), tinydl.layers.Dense(1)])
        >>> model.compile("sgd", "mse")
        >>> global_results(model, {"loss": 0.5}, 32, "evaluate")
        Traceback (most recent call last):
        ...
        RuntimeError: tinydl.distributed is not initialized: ...
        >>> global_results(model, {"loss": 0.5 + rank()}, 32, "evaluate")   # doctest: +SKIP
        {'loss': 1.0}
    """
    known = [(m, names) for m in model.metrics if (names := summed_state(m)) is not None]
    states = [np.ravel(np.asarray(getattr(m, n), np.float64)) for m, names in known for n in names]
    keys = numeric_keys(logs)
    if check:
        comm.same_everywhere([keys, [type(m).__name__ for m, _ in known],
                              [int(s.size) for s in states]], "metrics and logged figures", where)
    weighted = [weight * float(logs[k]) for k in keys] + [float(weight)]
    vector = np.concatenate(states + [np.array(weighted, np.float64)])
    comm.world().Allreduce(comm.mpi().IN_PLACE, vector, op=comm.mpi().SUM)
    merged, offset = {}, 0
    for metric, names in known:
        total = copy.copy(metric)
        for name in names:
            shape = np.shape(getattr(metric, name))
            chunk = vector[offset:offset + int(np.prod(shape, dtype=np.int64))]
            offset += chunk.size
            setattr(total, name, float(chunk[0]) if shape == () else chunk.reshape(shape))
        result = total.result()
        merged.update(result if isinstance(result, dict) else {metric.name: result})
    out, averaged = dict(logs), vector[offset:]
    for k in logs:
        if k in merged:
            value = getattr(merged[k], "data", merged[k])
            out[k] = float(np.asarray(value)) if np.ndim(value) == 0 else value
    for k, total in zip(keys, averaged[:-1]):
        if k not in merged and averaged[-1] > 0:
            out[k] = float(total / averaged[-1])
            _warn_averaged(model, k, where)
    return out


def _warn_averaged(model, key: str, where: str) -> None:
    for m in model.metrics:
        if m.name == key and type(m) not in _warned:
            _warned.add(type(m))
            warnings.warn(f"{where}: metric '{key}' ({type(m).__name__}) has no known summable "
                          "state, so its global value is the mean of the ranks' values weighted "
                          "by their samples: exact only for a mean over samples. Give the class "
                          "a summable_state tuple naming its state attributes that add up "
                          "across ranks", RuntimeWarning, stacklevel=3)


def gather_predictions(model, outputs: list, positions: list, first) -> list:
    """Every rank's predicted batches (structures of arrays (n, ...)), sorted by position.

    Args:
        outputs: this rank's batches, in its order (possibly none).
        positions: each of them's place in the whole epoch (the same kind on every rank).
        first: the x of the data's first batch, to find the outputs' structure on a rank
            that predicted nothing.

    Returns:
        Every rank's batches, in epoch order (a list of structures of arrays).

    Raises:
        RuntimeError: init() was not called.

    Example:
        >>> model = tinydl.Sequential([tinydl.Input((2,)), tinydl.layers.Dense(1)])
        >>> gather_predictions(model, [np.zeros((2, 1))], [0], np.zeros((2, 2)))
        Traceback (most recent call last):
        ...
        RuntimeError: tinydl.distributed is not initialized: ...
        >>> len(gather_predictions(model, [np.zeros((2, 1))], [rank()], np.zeros((2, 2))))  # doctest: +SKIP
        2
    """
    template = outputs[0] if outputs else _template(model, first)
    local = [tree.flatten(batch) for batch in outputs]
    rows = [int(np.shape(leaves[0])[0]) for leaves in local]
    layout = comm.allgather_json([list(positions[:len(outputs)]), rows])
    columns = []
    for k, leaf in enumerate(tree.flatten(template)):
        mine = (np.concatenate([leaves[k] for leaves in local]) if local else
                np.empty((0,) + np.shape(leaf)[1:], np.asarray(leaf).dtype))
        columns.append(comm.allgather(mine))
    pieces, start = [], 0
    for rank_positions, rank_rows in layout:
        for position, n in zip(rank_positions, rank_rows):
            pieces.append((position, start, start + n))
            start += n
    pieces.sort()
    return [tree.pack_sequence_as(template, [c[a:b] for c in columns]) for _, a, b in pieces]


def _template(model, first):
    """The model's outputs on the first sample of first: their structure, shapes and dtypes."""
    from tinydl.autograd import no_grad
    one = data.to_float32(data.take(data.as_arrays(first, "x"), slice(0, 1)))
    with no_grad():
        out = model.predict_step((one,))
    return tree.map_structure(lambda t: np.asarray(getattr(t, "data", t)), out)
