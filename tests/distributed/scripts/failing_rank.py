"""A rank that raises in the middle of fit: `mpirun -n 2 python failing_rank.py <out> <where>`.

where = 'step': rank 1 raises at its 4th training step while rank 0 waits for it in the
gradient allreduce; 'architecture': rank 1 builds a different model (fit refuses at start-up,
on every rank). Neither exception is caught, so every rank must be aborted; rank 0 writes
<out>/finished only if it got through fit, which it must not.
"""

import os
import sys

import numpy as np

import tinydl
import tinydl.distributed as hvd
from tinydl.layers import Dense
from tinydl.models import Sequential

out, where = sys.argv[1], sys.argv[2]
hvd.init()


class FailOnRank1(tinydl.callbacks.Callback):
    def on_train_batch_begin(self, batch, logs=None):
        if hvd.rank() == 1 and batch == 3:
            raise ValueError("rank 1 fails on purpose at batch 3")


units = 12 if where == "architecture" and hvd.rank() == 1 else 10
model = Sequential([Dense(16, activation="relu", input_shape=(8,)), Dense(units, activation="softmax")])
model.compile(optimizer=hvd.DistributedOptimizer("sgd"), loss="sparse_categorical_crossentropy")
x = np.random.default_rng(0).normal(size=(512, 8)).astype(np.float32)
y = np.arange(512) % 10
model.fit(x, y, batch_size=8, epochs=3, verbose=0, callbacks=[FailOnRank1()])
open(os.path.join(out, f"finished-rank{hvd.rank()}"), "w").close()
