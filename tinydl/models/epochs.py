"""Keras' EpochIterator: how fit, evaluate and predict cut a source's passes into epochs of steps.

    steps_per_epoch None  every epoch is one full pass (a new one each epoch); a source of
                          unknown length runs until it is exhausted, and Keras then warns
                          "Your input ran out of data" and takes the count as its length
    steps_per_epoch S     an epoch is the next S batches of the current pass: a pass of known
                          length N is continued over epochs and restarted once used up (so with
                          N = 4, S = 3 the epochs have 3, 1, 3, ... batches, and the short one
                          warns); a source that runs out early warns and starts over next epoch

on_epoch_begin / on_epoch_end of the source (a PyDataset's) are called around every epoch, and
on_epoch_end also by reset() (Keras calls it once before the first epoch).
"""

from __future__ import annotations

import warnings

OUT_OF_DATA = ("Your input ran out of data; interrupting training. Make sure that your dataset "
               "or generator can generate at least `steps_per_epoch * epochs` batches. You may "
               "need to use the `.repeat()` function when building your dataset.")


class EpochIterator:
    """The epochs of a source (data.ArraySource, a sources.py source, or a distributed shard).

    Example:
        >>> import numpy as np
        >>> from tinydl.models import data
        >>> source = data.make_source(np.zeros((10, 2)), np.zeros(10), 4, False, None, True, "fit")
        >>> [step for step, batch in EpochIterator(source).epoch()]
        [0, 1, 2]
    """

    def __init__(self, source, steps_per_epoch: int | None = None):
        self.source, self.steps_per_epoch = source, steps_per_epoch
        self._iterator, self._steps_seen = None, 0
        self._num_batches = source.num_batches

    @property
    def num_batches(self):
        """Steps per epoch: steps_per_epoch, else the source's length (None until known)."""
        return self.steps_per_epoch or self._num_batches

    def reset(self) -> None:
        """Start from a new pass (Keras calls the source's on_epoch_end here too)."""
        self._iterator, self._steps_seen = None, 0
        self._num_batches = self.source.num_batches
        self.source.on_epoch_end()

    def epoch(self):
        """(step, (x, y, sample_weight)) for the steps of one epoch (fewer when the data ran out)."""
        self.source.on_epoch_begin()
        steps = self.steps_per_epoch or self._num_batches or -1
        if steps > 0:
            if self._iterator is None or self.steps_per_epoch is None:
                self._iterator, self._steps_seen = iter(self.source.epoch()), 0
            for step in range(steps):
                if self._num_batches and self._steps_seen >= self._num_batches:
                    if self.steps_per_epoch:
                        warnings.warn(OUT_OF_DATA, stacklevel=3)
                    break
                self._steps_seen += 1
                batch = self._next(self._iterator)
                if batch is None:
                    return
                yield step, batch
            if self._num_batches and self._steps_seen >= self._num_batches:
                self._iterator, self._steps_seen = iter(self.source.epoch()), 0
        else:
            iterator = iter(self.source.epoch())
            for step in range(1 << 62):
                self._steps_seen = step + 1
                batch = self._next(iterator)
                if batch is None:
                    return
                yield step, batch
        self.source.on_epoch_end()

    def _next(self, iterator):
        """The next batch, or None when the source ran out (then as Keras: warn, forget the pass)."""
        try:
            return next(iterator)
        except StopIteration:
            if self._num_batches is None:
                self._num_batches = self._steps_seen
            warnings.warn(OUT_OF_DATA, stacklevel=4)
            self._iterator = None
            self.source.on_epoch_end()
            return None
