"""tinydl.distributed: data-parallel training over MPI (mpi4py), with Horovod's names.

    import tinydl.distributed as hvd
    hvd.init()                                                   # once, on every rank
    model.compile(optimizer=hvd.DistributedOptimizer(tinydl.optimizers.Adam(1e-3 * hvd.size())),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, batch_size=32, epochs=5)   # each rank its 1/size of the data, global metrics
    model.evaluate(x_test, y_test)             # the same: each rank a part, global metrics
    model.predict(x_test)                      # every rank gets all the predictions, in order

Run it with `mpirun -n 2 python train.py` (docs/distributed.md: a laptop, a lab, Slurm).
Importing this module never needs mpi4py; init() does, and says what to install without it.
"""

from tinydl.distributed.comm import (Average, Max, Min, Sum, allgather, allreduce, barrier,
                                     broadcast, init, is_initialized, is_main, local_rank,
                                     local_size, rank, shutdown, size)
from tinydl.distributed import callbacks  # noqa: E402
from tinydl.distributed.callbacks import (BroadcastGlobalVariablesCallback,  # noqa: E402
                                          BroadcastInitialWeights, MetricAverageCallback)
from tinydl.distributed.optimizer import (Compression, DistributedOptimizer,  # noqa: E402
                                          is_distributed, load_model)
from tinydl.distributed.sync import broadcast_optimizer_state, broadcast_weights  # noqa: E402
from tinydl.distributed.evaluation import local  # noqa: E402

broadcast_variables = broadcast_weights  # Horovod's name for it

__all__ = [
    "init", "shutdown", "is_initialized", "rank", "size", "local_rank", "local_size", "is_main",
    "allreduce", "allgather", "broadcast", "barrier", "Average", "Sum", "Min", "Max",
    "DistributedOptimizer", "Compression", "is_distributed", "load_model",
    "broadcast_weights", "broadcast_variables", "broadcast_optimizer_state",
    "callbacks", "BroadcastGlobalVariablesCallback", "BroadcastInitialWeights",
    "MetricAverageCallback", "local",
]
