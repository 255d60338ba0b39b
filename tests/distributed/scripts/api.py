"""One rank of test_api: Horovod's names, the collectives and their errors; writes <out>/rank<r>.json.

Run as `mpirun -n 2 python api.py <out>` without OMP_NUM_THREADS (to see the default threads).
"""

import json
import os
import sys

import numpy as np

import tinydl
import tinydl.distributed as hvd
from tinydl.layers import Dense
from tinydl.models import Sequential

out = sys.argv[1]
hvd.init()
r, n = hvd.rank(), hvd.size()
result = {"rank": r, "size": n, "local_rank": hvd.local_rank(), "local_size": hvd.local_size(),
          "is_main": hvd.is_main(), "threads": tinydl.get_num_threads(),
          "native": tinydl.backend_info()["native_available"], "cpu_count": os.cpu_count(),
          "affinity": len(os.sched_getaffinity(0))}
tinydl.set_num_threads(1)


def error_of(call):
    try:
        call()
    except (ValueError, TypeError, RuntimeError) as error:
        return [type(error).__name__, str(error)]
    return None


# --------------------------------------------------------------------- collectives
mean = hvd.allreduce(np.array([r, 10.0 * r], dtype=np.float32))
result["mean"] = [mean.tolist(), mean.dtype.name]
result["sum"] = hvd.allreduce(np.arange(3, dtype=np.int64) * (r + 1), op="sum").tolist()
result["min"] = hvd.allreduce(np.array([[r, -r]], dtype=np.float64), op=hvd.Min).tolist()
result["max"] = hvd.allreduce(np.array([r, -r], dtype=np.int32), op="max").tolist()
result["tensor"] = type(hvd.allreduce(tinydl.Tensor(np.ones(2, dtype=np.float32)))).__name__
result["broadcast"] = hvd.broadcast(np.full((2, 2), float(r)), root=n - 1).tolist()
result["allgather"] = hvd.allgather(np.full((r + 1, 2), r, dtype=np.int32)).tolist()
hvd.barrier()
result["errors"] = {
    "shapes": error_of(lambda: hvd.allreduce(np.zeros(2 + r, dtype=np.float32))),
    "dtypes": error_of(lambda: hvd.broadcast(np.zeros(2, dtype=np.float32 if r else np.float64))),
    "mean_of_ints": error_of(lambda: hvd.allreduce(np.arange(3))),
    "op": error_of(lambda: hvd.allreduce(np.zeros(2), op="median")),
    "root": error_of(lambda: hvd.broadcast(np.zeros(2), root=n)),
}


# --------------------------------------------------------------------- the optimizer
class CountingComm:
    """The communicator, counting Allreduce calls and their sizes."""

    def __init__(self, comm):
        self.comm, self.allreduces = comm, []

    def Allreduce(self, send, recv=None, op=None):  # noqa: N802 (mpi4py's name)
        buffer = recv if recv is not None else send
        self.allreduces.append(int(np.asarray(buffer).size))
        return self.comm.Allreduce(send, recv, op=op)

    def __getattr__(self, name):
        return getattr(self.comm, name)


def model_for(units=10, seed=0):
    tinydl.utils.set_random_seed(seed)
    model = Sequential([Dense(16, activation="relu", input_shape=(8,)),
                        Dense(units, activation="softmax")])
    model.build((None, 8))
    return model


rng = np.random.default_rng(r)
x, y = rng.normal(size=(64, 8)).astype(np.float32), rng.integers(0, 10, size=64)
model = model_for(seed=r)  # different weights on each rank: fit must start from rank 0's
opt = hvd.DistributedOptimizer(tinydl.optimizers.SGD(0.1))
model.compile(optimizer=opt, loss="sparse_categorical_crossentropy", metrics=["accuracy"])
result["wrapped_is_sgd"] = type(model.optimizer) is tinydl.optimizers.SGD
real = hvd.comm._state["comm"]
counting = hvd.comm._state["comm"] = CountingComm(real)
model.train_on_batch(x[:16], y[:16])
result["train_on_batch_allreduces"] = counting.allreduces
result["params_plus_flags"] = model.count_params() + len(model.trainable_weights)
counting.allreduces = []
model.fit(x, y, batch_size=8, epochs=1, verbose=0)
result["fit_allreduces"] = counting.allreduces
hvd.comm._state["comm"] = real

# BroadcastGlobalVariablesCallback(root) and MetricAverageCallback
before = hvd.sync.weights_digest(model_for(seed=100 + r).weights)
other = model_for(seed=100 + r)
other.compile(optimizer=hvd.DistributedOptimizer("sgd"), loss="sparse_categorical_crossentropy")
other.fit(x, y, epochs=0, verbose=0, callbacks=[hvd.callbacks.BroadcastGlobalVariablesCallback(n - 1)])
result["digest_before"], result["digest_after"] = before, hvd.sync.weights_digest(other.weights)
initial = model_for(seed=200 + r)
result["initial_before"] = hvd.sync.weights_digest(initial.weights)
initial.compile(optimizer=hvd.DistributedOptimizer("sgd"), loss="sparse_categorical_crossentropy")
initial.fit(x, y, epochs=0, verbose=0, callbacks=[hvd.BroadcastInitialWeights()])
result["initial_after"] = hvd.sync.weights_digest(initial.weights)

# resuming: rank 0's optimizer state (as loaded from a checkpoint) reaches the fresh rank 1
adam = tinydl.optimizers.Adam()
if r == 0:
    adam.build(initial.trainable_weights)
    state = adam.get_state()
    adam.set_state({k: (np.asarray(7) if k == "iterations" else np.full_like(v, 0.5))
                    for k, v in state.items()})
hvd.broadcast_optimizer_state(adam, initial.trainable_weights, 0)
result["adam_state"] = {k: np.asarray(v).ravel()[:2].tolist() for k, v in adam.get_state().items()}

logs = {"loss": float(r), "name": "not a number"}
hvd.callbacks.MetricAverageCallback().on_epoch_end(0, logs)
result["metric_average"] = logs

# fit refuses, on every rank at once, what would make the ranks train different things
plain = model_for()
plain.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
result["errors"]["plain_optimizer"] = error_of(lambda: plain.fit(x, y, verbose=0))
mismatched = model_for(units=10 + 2 * r)
mismatched.compile(optimizer=hvd.DistributedOptimizer("sgd"), loss="sparse_categorical_crossentropy")
result["errors"]["architecture"] = error_of(lambda: mismatched.fit(x, y % 10, verbose=0))
result["mismatched_iterations"] = mismatched.optimizer.iterations


def batches():
    while True:
        yield x[:8], y[:8]


result["errors"]["steps_differ"] = error_of(
    lambda: model.fit(batches(), steps_per_epoch=2 + r, verbose=0))
with open(os.path.join(out, f"rank{r}.json"), "w") as f:
    json.dump(result, f)
