"""One rank of test_inference: evaluate and predict split across the ranks, fit on generators.

    mpirun -n 2 python inference.py <out>

writes <out>/rank<r>.json (evaluate's results, the sample ids each rank's layers saw, errors)
and <out>/rank<r>.npz (predict's outputs); rank 0 also saves the model to <out>/model.tinydl,
with which the test computes the single-process answers.
"""

import json
import sys
import time

import numpy as np

import tinydl
import tinydl.distributed as hvd
from tinydl.distributed import evaluation
from tinydl.layers import Dense, Layer
from tinydl.models import Sequential

SAMPLES, BATCH = 53, 8  # an odd count: the ranks' parts differ in size, the last batch is short


class SeenIds(Layer):
    """Passes its input on; records column 0 (the sample's id) of what it saw, by mode."""

    seen = {"train": [], "test": []}

    def call(self, inputs, training=None):
        ids = np.rint(np.asarray(getattr(inputs, "data", inputs))[:, 0]).astype(int).tolist()
        self.seen["train" if training else "test"] += ids
        return inputs


def data():
    """x (SAMPLES, 4): column 0 the sample's id; binary labels."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(SAMPLES, 4)).astype(np.float32)
    x[:, 0] = np.arange(SAMPLES)
    return x, (rng.random(SAMPLES) < 0.4).astype(np.float32)[:, None]


def build(optimizer=None):
    tinydl.utils.set_random_seed(3)
    model = Sequential([SeenIds(input_shape=(4,)), Dense(6, activation="tanh"),
                        Dense(1, activation="sigmoid")])
    model.compile(optimizer=optimizer or "sgd", loss="binary_crossentropy",
                  metrics=["accuracy", tinydl.metrics.Precision(), tinydl.metrics.Recall(),
                           tinydl.metrics.AUC(num_thresholds=50)])
    return model


class Batches:
    """A PyDataset-like object: batch i is samples [i*BATCH, (i+1)*BATCH)."""

    def __init__(self, x, y):
        self.x, self.y = x, y

    def __len__(self):
        return (len(self.x) + BATCH - 1) // BATCH

    def __getitem__(self, i):
        part = slice(i * BATCH, (i + 1) * BATCH)
        return self.x[part], self.y[part]


def batches(x, y, loops=1):
    for _ in range(loops):
        for i in range(0, len(x), BATCH):
            yield x[i:i + BATCH], y[i:i + BATCH]


def weights(n):
    return np.linspace(0.2, 2.0, n).astype(np.float32)


def seen(mode):
    ids, SeenIds.seen[mode] = SeenIds.seen[mode], []
    return ids


def main(out):
    hvd.init()
    tinydl.set_num_threads(1)
    r = hvd.rank()
    x, y = data()
    model = build()
    model.predict(x[:2], verbose=0)  # builds it; the weights are the same on every rank (seed)
    seen("test")
    result = {"evaluate": {}, "seen": {}}
    for name, source in (("arrays", (x, y)), ("dataset", (Batches(x, y), None)),
                         ("generator", (batches(x, y), None))):
        result["evaluate"][name] = model.evaluate(*source, batch_size=BATCH, verbose=0,
                                                  return_dict=True)
        result["seen"]["evaluate_" + name] = seen("test")
    # one batch: rank 1 has none and joins with weight 0; sample weights travel with the slices
    result["evaluate"]["one_batch"] = model.evaluate(batches(x[:BATCH], y[:BATCH]), verbose=0,
                                                     return_dict=True)
    result["evaluate"]["weighted"] = model.evaluate(x, y, sample_weight=weights(len(x)),
                                                    batch_size=BATCH, verbose=0, return_dict=True)
    seen("test")
    predictions = {"arrays": model.predict(x, batch_size=BATCH, verbose=0),
                   "dataset": model.predict(Batches(x, y), verbose=0),
                   "generator": model.predict(batches(x, y), verbose=0),
                   "one_sample": model.predict(x[:1], verbose=0)}
    seen("test")
    if r == 0:
        model.save(f"{out}/model.tinydl")
        with hvd.local():  # rank 0 alone, on all of the data
            result["local"] = model.evaluate(x, y, batch_size=BATCH, verbose=0, return_dict=True)
            result["seen"]["local"] = seen("test")
    fit_on_generators(model, x, y, result)
    alone(r, result)
    with open(f"{out}/rank{r}.json", "w") as f:
        json.dump(result, f)
    np.savez(f"{out}/rank{r}.npz", **predictions)


def fit_on_generators(model, x, y, result):
    """fit on an endless generator (steps_per_epoch 5: the ranks share them, 2 each) and on a
    finite one of 7 batches (3 each, the last batch unused)."""
    model = build(hvd.DistributedOptimizer(tinydl.optimizers.SGD(0.1)))
    history = model.fit(batches(x, y, loops=100), steps_per_epoch=5, epochs=2, verbose=0)
    result["fit_endless"] = {"seen": seen("train"), "history": history.history,
                             "weights": [w.data.ravel().tolist() for w in model.weights]}
    history = model.fit(batches(x, y), epochs=1, verbose=0)
    result["fit_finite"] = {"seen": seen("train"), "steps": model.optimizer.iterations}


def alone(r, result):
    """Rank 0 evaluates while rank 1 does not: rank 0 must raise, not wait forever."""
    evaluation.MEET_TIMEOUT = 2.0
    if r == 0:
        model = build()
        try:
            model.evaluate(*data(), verbose=0)
        except RuntimeError as error:
            result["alone"] = str(error)
        for meeting in evaluation.abandoned:  # completed when rank 1 comes
            meeting.Wait()
    else:
        time.sleep(3.0)
        hvd.comm.world().Ibarrier().Wait()  # rank 0's meeting, so that both can finish cleanly


if __name__ == "__main__":
    main(sys.argv[1])
