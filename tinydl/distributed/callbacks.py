"""Horovod's Keras callbacks, by Horovod's names: start from one rank's weights, average metrics.

fit under tinydl.distributed already does both by itself (tinydl.distributed.training); these
are here so that a Horovod script runs unchanged, and for a root other than rank 0.
"""

from __future__ import annotations

from tinydl.callbacks import Callback
from tinydl.distributed import comm, sync
from tinydl.distributed.training import numeric_keys, average_logs


class BroadcastGlobalVariablesCallback(Callback):
    """At the start of training, give every rank root_rank's weights and optimizer state.

    Args:
        root_rank: the rank whose model is copied (0: the one that may have loaded a checkpoint).
        device: accepted for Horovod scripts; unused.

    Example:
        fit then leaves the start-up broadcast to it:

        >>> callback = BroadcastGlobalVariablesCallback(root_rank=1)
        >>> callback.root_rank, callback.broadcasts_weights
        (1, True)
        >>> model.fit(x, y, callbacks=[callback])              # doctest: +SKIP
    """

    broadcasts_weights = True  # so fit leaves the start-up broadcast to this callback

    def __init__(self, root_rank: int = 0, device: str = ""):
        super().__init__()
        self.root_rank = root_rank

    def on_train_begin(self, logs=None):
        sync.broadcast_weights(self.model, self.root_rank)
        optimizer = getattr(self.model, "optimizer", None)
        if optimizer is not None:
            sync.broadcast_optimizer_state(optimizer, self.model.trainable_weights, self.root_rank)


class BroadcastInitialWeights(BroadcastGlobalVariablesCallback):
    """model.fit(..., callbacks=[BroadcastInitialWeights()]): every rank starts from rank 0's model.

    Example:
        >>> BroadcastInitialWeights().root_rank
        0
    """


class MetricAverageCallback(Callback):
    """At each epoch's end, replace every number in the logs by its mean over the ranks.

    Put it before callbacks that read the logs (EarlyStopping, ReduceLROnPlateau), as with
    Horovod. Under tinydl's fit the logs are global already, so the values do not change.

    Example:
        >>> MetricAverageCallback().on_epoch_end(0, {})         # nothing to average
        >>> MetricAverageCallback().on_epoch_end(0, {"loss": 0.5})
        Traceback (most recent call last):
        ...
        RuntimeError: tinydl.distributed is not initialized: ...
    """

    def on_epoch_end(self, epoch, logs=None):
        if logs:
            keys = numeric_keys(logs)
            comm.same_everywhere(keys, "logged metrics", "MetricAverageCallback")
            average_logs(logs, keys, 1.0)
