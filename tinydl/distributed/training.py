"""What fit does differently under tinydl.distributed: its two hooks, and the callbacks they add.

fit calls shard_sources before it makes its callbacks and join_fit after; both do nothing
unless init() was called and there is more than one rank. Then:

    shard_sources   each rank gets its part of the data (tinydl.distributed.data)
    join_fit        checks, on every rank at once, that the models, the steps per epoch and the
                    optimizer agree (DistributedOptimizer is required); gives every rank rank
                    0's weights and optimizer state (unless a BroadcastGlobalVariablesCallback
                    will, from its root); keeps the progress bar, ModelCheckpoint and
                    CSVLogger on rank 0 only; and adds two callbacks:
        GlobalLogs      first in the list, so that every other callback sees global figures:
                        the logs of each batch become those of all ranks' samples together
                        (tinydl.distributed.results: metric states summed across ranks); at
                        each epoch's end it also averages the moving statistics and checks the
                        weights are still the same everywhere
        AgreeToStop     last: when a callback stopped training on some rank, all ranks stop
"""

from __future__ import annotations

import warnings

import numpy as np

from tinydl import callbacks as keras_callbacks
from tinydl.distributed import comm, data, launch, sync
from tinydl.distributed.results import global_results, numeric_keys
from tinydl.distributed.optimizer import is_distributed

RANK_ZERO_ONLY = (keras_callbacks.ProgbarLogger, keras_callbacks.ModelCheckpoint,
                  keras_callbacks.CSVLogger)


def active() -> bool:
    """Whether fit trains over several ranks: init() was called and size() > 1.

    Returns:
        False without init() (fit then trains alone, as usual).

    Example:
        >>> active()
        False
    """
    return comm.is_initialized() and comm.size() > 1


def shard_sources(model, source, val_source):
    """fit's (training, validation) sources for this rank; the same sources when not distributed.

    Args:
        model: the model being trained.
        source: fit's training source.
        val_source: its validation source, or None.

    Returns:
        (training, validation), each this rank's part (see tinydl.distributed.data).

    Example:
        >>> from tinydl.models.data import ArraySource
        >>> source = ArraySource(np.arange(4)[:, None], np.arange(4), batch_size=2)
        >>> shard_sources(None, source, None) == (source, None)            # not distributed
        True
    """
    if not active():
        _warn_if_launched_without_init()
        return source, val_source
    return data.shard_training(source), data.shard_validation(val_source)


def join_fit(model, callback_list, source, val_source) -> None:
    """Make every rank start from the same point and report the same figures (see the module).

    On several ranks it checks that the models and steps agree and that the optimizer is a
    DistributedOptimizer, broadcasts rank 0's weights and optimizer state (unless a
    BroadcastGlobalVariablesCallback will), keeps rank-0-only callbacks on rank 0, and adds
    GlobalLogs and AgreeToStop. Without init() it does nothing.

    Args:
        model: the model being trained.
        callback_list: fit's CallbackList (changed in place).
        source: this rank's training source.
        val_source: its validation source, or None.

    Raises:
        ValueError: the models or steps differ between ranks, or the optimizer is not a
            DistributedOptimizer.

    Example:
        >>> from tinydl.callbacks import CallbackList
        >>> hooks = CallbackList([tinydl.callbacks.History()])
        >>> join_fit(None, hooks, None, None)                  # not distributed: nothing changes
        >>> [type(cb).__name__ for cb in hooks.callbacks]
        ['History']
    """
    if not active():
        return
    sync.check_same_model(model, "fit", extra={
        "steps per epoch": source.steps_per_epoch,
        "a DistributedOptimizer": is_distributed(model.optimizer)})
    if not is_distributed(model.optimizer):
        raise ValueError(f"fit on {comm.size()} ranks: the optimizer must average the gradients "
                         "of all ranks, or each rank trains a model of its own: compile with "
                         "optimizer=tinydl.distributed.DistributedOptimizer(optimizer). "
                         f"Received: optimizer={model.optimizer!r}")
    if not any(getattr(cb, "broadcasts_weights", False) for cb in callback_list.callbacks):
        sync.broadcast_weights(model, 0)  # else a BroadcastGlobalVariablesCallback(root) does it
        sync.broadcast_optimizer_state(model.optimizer, model.trainable_weights, 0)
    kept = [cb for cb in callback_list.callbacks
            if comm.is_main() or not isinstance(cb, RANK_ZERO_ONLY)]
    added = GlobalLogs(source, val_source), AgreeToStop()
    for cb in added:
        cb.set_model(model)
    callback_list.callbacks = [added[0]] + kept + [added[1]]


def _warn_if_launched_without_init() -> None:
    ranks = launch.launched_ranks()
    if ranks > 1 and not comm.is_initialized():
        warnings.warn(f"fit: this process is one of {ranks} started by an MPI launcher, but "
                      "tinydl.distributed.init() was not called, so each of them trains its own "
                      "model on all the data; call tinydl.distributed.init() at the top of the "
                      "script to train one model together", RuntimeWarning, stacklevel=4)


def average_logs(logs: dict, keys: list, weight: float) -> None:
    """logs[k] <- sum over ranks of weight * logs[k] / sum of weight, for k in keys (in place).

    Args:
        logs: this rank's logs.
        keys: the keys to average.
        weight: this rank's weight (its samples this epoch).

    Raises:
        RuntimeError: init() was not called.

    Example:
        >>> logs = {"loss": 0.5}
        >>> average_logs(logs, ["loss"], 32)
        Traceback (most recent call last):
        ...
        RuntimeError: tinydl.distributed is not initialized: ...
        >>> average_logs(logs, ["loss"], 32 if rank() == 0 else 16)   # doctest: +SKIP
    """
    values = np.array([weight * float(logs[k]) for k in keys] + [float(weight)], dtype=np.float64)
    comm.world().Allreduce(comm.mpi().IN_PLACE, values, op=comm.mpi().SUM)
    if values[-1] > 0:
        for k, total in zip(keys, values[:-1]):
            logs[k] = float(total / values[-1])


class GlobalLogs(keras_callbacks.Callback):
    """Turns each rank's logs into the global ones, before any other callback sees them.

    Batch logs are averaged weighted by each rank's samples so far this epoch, validation
    logs by each rank's validation samples; at each epoch's end the non-trainable weights are
    averaged and the trainable ones checked to be in sync. join_fit adds it on several ranks.

    Args:
        train: this rank's training Shard.
        validation: its validation Shard, or None.

    Example:
        >>> from tinydl.models.data import ArraySource
        >>> from tinydl.distributed.data import Shard
        >>> hook = GlobalLogs(Shard(ArraySource(np.zeros((4, 1)), None, 2)), None)
        >>> hook.on_train_batch_end(0, {})                     # nothing to average
        >>> hook.on_train_batch_end(0, {"loss": 0.5})         # doctest: +SKIP
    """

    def __init__(self, train, validation):
        super().__init__()
        self.train, self.validation = train, validation
        self._last_train: dict = {}  # the global logs of the last training batch

    def _keys(self, logs: dict, where: str) -> list:
        keys = numeric_keys(logs)
        comm.same_everywhere(keys, "logged metrics", where)
        return keys

    def on_train_batch_end(self, batch, logs=None):
        if logs:
            self._last_train = global_results(self.model, logs, self.train.samples, "fit",
                                              check=batch == 0)
            logs.update(self._last_train)

    def on_epoch_end(self, epoch, logs=None):
        logs = logs if logs is not None else {}
        self._keys(logs, "fit (end of epoch)")
        # each hook gets its own copy of the logs (as in Keras): the epoch's training figures
        # are the global ones of its last batch again; the val_ figures are global already
        # (evaluation.global_logs, at the end of validation)
        logs.update({k: v for k, v in self._last_train.items() if k in logs})
        sync.average_non_trainable(self.model)
        sync.check_in_sync(self.model, f"after epoch {epoch + 1}")


class AgreeToStop(keras_callbacks.Callback):
    """When any rank's callbacks set model.stop_training, every rank stops at the same step.

    join_fit adds it last, after the callbacks that may stop training (EarlyStopping, ...).

    Example:
        >>> hook = AgreeToStop()
        >>> hook.set_model(tinydl.Sequential())
        >>> hook.on_epoch_end(0)
        Traceback (most recent call last):
        ...
        RuntimeError: tinydl.distributed is not initialized: ...
    """

    def _agree(self) -> None:
        flag = np.array([1.0 if self.model.stop_training else 0.0])
        comm.world().Allreduce(comm.mpi().IN_PLACE, flag, op=comm.mpi().MAX)
        self.model.stop_training = bool(flag[0])

    def on_train_batch_end(self, batch, logs=None):
        self._agree()

    def on_epoch_end(self, epoch, logs=None):
        self._agree()
