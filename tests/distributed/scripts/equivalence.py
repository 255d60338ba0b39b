"""One rank of test_training: SGD on a small CNN, recording the weights after every step.

    mpirun -n 2 python equivalence.py <out> <shuffle 0|1>

writes <out>/rank<r>.npz (weights: steps x P, the flat weights after each step), <out>/rank<r>.json
(history, the indices each rank trained on in each epoch), and through ModelCheckpoint and
CSVLogger files named after the rank, which must exist for rank 0 only. train() is also run
in one plain process by the test, at batch 64: the reference.
"""

import json
import os
import sys

import numpy as np

import tinydl
from tinydl.layers import Conv2D, Dense, Flatten
from tinydl.models import Sequential

SAMPLES, EPOCHS = {False: (1280, 1), True: (650, 2)}, {False: 1, True: 2}


def data(samples: int):
    """Random 8x8 images; column 0 of each image's first row is the sample's index."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(samples, 8, 8, 1)).astype(np.float32)
    y = rng.integers(0, 10, size=samples)
    return x, y


class Recorder(tinydl.callbacks.Callback):
    """The flat weights after every training step, and the logs on_train_end got."""

    def __init__(self):
        super().__init__()
        self.steps, self.final = [], None

    def on_train_end(self, logs=None):
        self.final = dict(logs or {})

    def on_train_batch_end(self, batch, logs=None):
        self.steps.append(np.concatenate([w.data.ravel() for w in self.model.weights]))


def train(batch_size: int, shuffle: bool, optimizer=None, callbacks=(), verbose=0):
    """The model after SGD from seed 7; (model, recorder, history)."""
    tinydl.utils.set_random_seed(7)
    model = Sequential([Conv2D(4, (3, 3), activation="relu", input_shape=(8, 8, 1)), Flatten(),
                        Dense(16, activation="relu"), Dense(10, activation="softmax")])
    model.compile(optimizer=optimizer or tinydl.optimizers.SGD(0.1),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    samples, _ = SAMPLES[shuffle]
    x, y = data(samples)
    recorder = Recorder()
    history = model.fit(x, y, batch_size=batch_size, epochs=EPOCHS[shuffle], shuffle=shuffle,
                        callbacks=[recorder, *callbacks], verbose=verbose)
    return model, recorder, history


def main(out: str, shuffle: bool) -> None:
    import tinydl.distributed as hvd
    from tinydl.distributed.data import ArrayShard
    from tinydl.models.data import ArraySource

    hvd.init()
    r = hvd.rank()
    writers = [tinydl.callbacks.ModelCheckpoint(os.path.join(out, f"ckpt-rank{r}-{{epoch}}.tinydl")),
               tinydl.callbacks.CSVLogger(os.path.join(out, f"log-rank{r}.csv"))]
    model, recorder, history = train(32, shuffle, hvd.DistributedOptimizer(tinydl.optimizers.SGD(0.1)),
                                     writers, verbose=2)
    samples, _ = SAMPLES[shuffle]
    shard = ArrayShard(ArraySource(np.arange(samples)[:, None], None, 32, shuffle), r, hvd.size())
    seen = [[int(i) for xb, *_ in shard.epoch() for i in xb[:, 0]] for _ in range(2)]
    np.savez(os.path.join(out, f"rank{r}.npz"), weights=np.stack(recorder.steps))
    with open(os.path.join(out, f"rank{r}.json"), "w") as f:
        json.dump({"history": history.history, "seen": seen, "final": recorder.final}, f)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2] == "1")
