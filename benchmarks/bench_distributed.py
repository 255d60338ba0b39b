"""Data-parallel scaling of the reference CNN over MPI: 1 rank vs n ranks, and where the time goes.

For each rank count n it starts `mpirun -n n` (tinydl.distributed.launch's command) running
this file as a worker. Every rank trains the demo's reference CNN (CIFAR-10 shape, 160,202
parameters) with a DistributedOptimizer(SGD) at --batch samples per rank: warm-up steps, then
--steps timed steps. Per step it records the wall time, the time inside the one fused gradient
allreduce (which includes waiting for the slowest rank), and the rest (compute: forward,
backward, update). It also times the allreduce of the same buffer alone, after a barrier.

    python benchmarks/bench_distributed.py                      # 1 and 2 ranks, 1 thread each
    python benchmarks/bench_distributed.py --ranks 1 2 4 --threads-per-rank 2 --json out.json

Scaling efficiency = throughput(n ranks) / (n x throughput(1 rank)); throughput = n x batch /
median step time. Run it on an otherwise idle machine: ranks share the cores with everything else.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

RESULT = "BENCH_DISTRIBUTED_RESULT "


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--ranks", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--batch", type=int, default=64, help="samples per rank and step")
    parser.add_argument("--steps", type=int, default=30, help="timed steps")
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--threads-per-rank", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=1800, help="seconds per rank count")
    parser.add_argument("--json", help="also write the results to this file")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


# ----------------------------------------------------------------------------- one rank

def _timed_steps(model, x, y, optimizer, steps: int) -> tuple:
    """(step seconds, allreduce seconds) per step."""
    step_times, allreduce_times = [], []
    for _ in range(steps):
        before = optimizer.gradient_aggregator.seconds
        start = time.perf_counter()
        model.train_on_batch(x, y)
        step_times.append(time.perf_counter() - start)
        allreduce_times.append(optimizer.gradient_aggregator.seconds - before)
    return step_times, allreduce_times


def _allreduce_alone(elements: int, reps: int) -> float:
    """Median seconds of one MPI_Allreduce of `elements` float32, all ranks starting together."""
    import numpy as np

    import tinydl.distributed as hvd

    comm, MPI = hvd.comm.world(), hvd.comm.mpi()
    buffer = np.ones(elements, dtype=np.float32)
    times = []
    for _ in range(reps):
        comm.Barrier()
        start = time.perf_counter()
        comm.Allreduce(MPI.IN_PLACE, buffer, op=MPI.SUM)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def worker(args) -> None:
    import numpy as np

    import tinydl
    import tinydl.distributed as hvd
    from tinydl.__main__ import build_model

    hvd.init()
    tinydl.set_num_threads(args.threads_per_rank)
    tinydl.utils.set_random_seed(0)
    model = build_model((32, 32, 3), 10)
    optimizer = hvd.DistributedOptimizer(tinydl.optimizers.SGD(0.01))
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy")
    rng = np.random.default_rng(hvd.rank())
    x = rng.random((args.batch, 32, 32, 3), dtype=np.float32)
    y = rng.integers(0, 10, args.batch)
    model.build((None, 32, 32, 3))
    hvd.broadcast_weights(model, 0)
    _timed_steps(model, x, y, optimizer, args.warmup)
    steps, allreduces = _timed_steps(model, x, y, optimizer, args.steps)
    alone = _allreduce_alone(optimizer.gradient_aggregator.elements, max(args.steps, 10))
    mine = {"step": statistics.median(steps), "allreduce": statistics.median(allreduces),
            "compute": statistics.median(s - a for s, a in zip(steps, allreduces))}
    gathered = hvd.comm.allgather_json(mine)
    if hvd.is_main():
        print(RESULT + json.dumps({
            "ranks": hvd.size(), "batch_per_rank": args.batch, "threads_per_rank":
            tinydl.get_num_threads(), "params": model.count_params(),
            "allreduce_elements": optimizer.gradient_aggregator.elements,
            "step_s": max(g["step"] for g in gathered),
            "allreduce_s": statistics.mean(g["allreduce"] for g in gathered),
            "compute_s": statistics.mean(g["compute"] for g in gathered),
            "allreduce_alone_s": alone, "per_rank": gathered}), flush=True)


# ----------------------------------------------------------------------------- the driver

def run_ranks(ranks: int, args) -> dict:
    from tinydl.distributed import launch

    command = launch.mpirun_command(ranks) + [
        sys.executable, os.path.abspath(__file__), "--worker", "--batch", str(args.batch),
        "--steps", str(args.steps), "--warmup", str(args.warmup),
        "--threads-per-rank", str(args.threads_per_rank)]
    env = {**os.environ, "OMP_NUM_THREADS": str(args.threads_per_rank)}
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=args.timeout)
    lines = [line for line in done.stdout.splitlines() if line.startswith(RESULT)]
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"{' '.join(command)} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return json.loads(lines[-1][len(RESULT):])


def report(results: list) -> None:
    base = next((r for r in results if r["ranks"] == 1), None)
    print(f"reference CNN, {results[0]['params']:,} parameters, batch {results[0]['batch_per_rank']} "
          f"per rank, {results[0]['threads_per_rank']} thread(s) per rank")
    print(f"{'ranks':>5} {'samples/s':>10} {'efficiency':>10} {'step ms':>8} {'compute ms':>10} "
          f"{'allreduce ms':>12} {'alone ms':>8}")
    for r in results:
        throughput = r["ranks"] * r["batch_per_rank"] / r["step_s"]
        r["samples_per_s"] = throughput
        if base is not None:
            base_throughput = base["batch_per_rank"] / base["step_s"]
            r["efficiency"] = throughput / (r["ranks"] * base_throughput)
        efficiency = f"{r['efficiency']:.0%}" if "efficiency" in r else "-"
        print(f"{r['ranks']:>5} {throughput:>10.1f} {efficiency:>10} {r['step_s'] * 1e3:>8.1f} "
              f"{r['compute_s'] * 1e3:>10.1f} {r['allreduce_s'] * 1e3:>12.2f} "
              f"{r['allreduce_alone_s'] * 1e3:>8.2f}")
    print("allreduce ms: time in the step's fused allreduce, including waiting for the slowest "
          "rank; alone ms: the same allreduce after a barrier")


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.worker:
        worker(args)
        return 0
    results = [run_ranks(n, args) for n in args.ranks]
    report(results)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
