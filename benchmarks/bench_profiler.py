"""What tinydl.profile() costs, and how much of a step it accounts for, on the reference CNN.

    python benchmarks/bench_profiler.py                  # 1 and 2 threads, a fresh process each
    python benchmarks/bench_profiler.py --threads 2 --rounds 15

The issue's targets: the profiler's overhead when on stays under 5% of a reference-CNN
training step (Adam, batch 64 of 32x32x3), and its sums agree with the measured step time
within 10%. In one process per thread count, after warm-up, steps without and with a profile
are taken in turn (off, on, off, on, ...), each timed from outside with perf_counter, so a
slow spell of a shared machine hits both alike:

- overhead = the median over the pairs of (step with a profile) / (its neighbour without) - 1
  (the pairs alternate which comes first, so a drift of the machine's speed cancels); every
  profiled step opens and closes its own `with tinydl.profile():`, so the figure includes that;
- coverage = the profiler's sum over the outermost events (ops with the kernels they call,
  and kernels called outside ops, such as the optimizer's) / the step's time measured from
  outside; kernel coverage = the kernels' sum alone / the step's time;
- the same overhead in CPU time (time.process_time, which a busy machine's other processes
  disturb less than the wall clock), and estimated from the bookkeeping alone: the events of a
  step times what recording one op event with one kernel event costs (timed on a no-op), over
  the step;
- the cost when off: the ops and kernels of one step (counted by the profile) times the
  measured cost of the one check each makes (`profiler.current is not None`), over the step.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import timeit

import _child  # benchmarks/_child.py (this folder is on sys.path when run as a script)

BATCH = 64


def reference_cnn_step(threads: int):
    """The reference CNN's train_on_batch as a no-argument function, built and warmed up."""
    import numpy as np

    import tinydl
    from zoo import build

    tinydl.set_num_threads(threads)
    tinydl.utils.set_random_seed(0)
    model = build("tinydl", "reference_cnn")
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    rng = np.random.default_rng(0)
    x = rng.random((BATCH, 32, 32, 3), dtype=np.float32)
    y = rng.integers(0, 10, BATCH)
    step = lambda: model.train_on_batch(x, y)  # noqa: E731
    for _ in range(3):
        step()
    return step


def measure(threads: int, rounds: int) -> dict:
    """Run in this process: `rounds` steps off and `rounds` on, interleaved; see the module."""
    import time

    import tinydl
    from tinydl import profiler

    step = reference_cnn_step(threads)

    def plain():
        start, cpu = time.perf_counter(), time.process_time()
        step()
        off.append(time.perf_counter() - start)
        off_cpu.append(time.process_time() - cpu)

    def profiled():
        start, cpu = time.perf_counter(), time.process_time()
        with tinydl.profile() as prof:
            step()
        seconds = time.perf_counter() - start
        on_cpu.append(time.process_time() - cpu)
        on.append(seconds)
        outer.append(sum(e.seconds for e in prof.events if e.outer) / seconds)
        kernels.append(sum(e.seconds for e in prof.events if e.kind == "kernel") / seconds)
        events.append(len(prof.events))
        gaps.append(uncovered(prof))

    off, on, off_cpu, on_cpu, outer, kernels, events, gaps = [], [], [], [], [], [], [], []
    for i in range(rounds):
        for run_one in ((plain, profiled) if i % 2 == 0 else (profiled, plain)):
            run_one()
    ratios = [b / a for a, b in zip(off, on)]
    cpu_ratios = [b / a for a, b in zip(off_cpu, on_cpu)]
    check = min(timeit.repeat("profiler.current is not None", globals={"profiler": profiler},
                              number=100_000, repeat=5)) / 100_000
    median_off = statistics.median(off)
    per_pair = bookkeeping_seconds()  # one op event and one kernel event
    return {"cpu_overhead": statistics.median(cpu_ratios) - 1,
            "bookkeeping_overhead": statistics.median(events) / 2 * per_pair / median_off,
            "bookkeeping_us_per_event": 1e6 * per_pair / 2,
            "threads": threads, "rounds": rounds, "step_off_ms": 1e3 * median_off,
            "step_on_ms": 1e3 * statistics.median(on),
            "overhead": statistics.median(ratios) - 1,
            "overhead_quartiles": [q - 1 for q in statistics.quantiles(ratios, n=4)[::2]],
            "coverage": statistics.median(outer), "coverage_min": min(outer),
            "kernel_coverage": statistics.median(kernels),
            "events_per_step": statistics.median(events), "check_ns": 1e9 * check,
            "off_cost": statistics.median(events) * check / median_off,
            "gaps_ms": {where: 1e3 * statistics.median(g.get(where, 0.0) for g in gaps)
                        for where in sorted(gaps[len(gaps) // 2], key=gaps[len(gaps) // 2].get,
                                            reverse=True)[:4]}}


def uncovered(prof) -> dict:
    """{'before <event>': seconds} of the wall time outside the outermost events: where the
    Python between ops runs ('before end': after the last one)."""
    out, at = {}, prof.start
    for e in sorted((e for e in prof.events if e.outer), key=lambda e: e.start):
        key = f"before {e.name} {e.kind}"
        out[key] = out.get(key, 0.0) + max(e.start - at, 0.0)
        at = max(at, e.start + e.seconds)
    out["before end"] = max(prof.stop - at, 0.0)
    return out


def bookkeeping_seconds(calls: int = 20_000) -> float:
    """What profiling adds to one op that calls one kernel (a GEMM's arguments), timed on
    no-op functions: the minimum over 5 repeats of the mean over `calls`."""
    import time

    import numpy as np

    import tinydl
    from tinydl import profiler

    args = (np.ones((4, 3), np.float32), np.ones((3, 2), np.float32), False, False)
    result = np.ones((4, 2), np.float32)
    kernel = lambda: result  # noqa: E731
    op = lambda: profiler.record_kernel("gemm", args, "native", 1, None, kernel)  # noqa: E731
    best = []
    for _ in range(5):
        with tinydl.profile():
            start = time.perf_counter()
            for _ in range(calls):
                profiler.record_op("MatMul", "forward", "dense", op)
            seconds = time.perf_counter() - start
        start = time.perf_counter()
        for _ in range(calls):
            kernel()
        best.append((seconds - (time.perf_counter() - start)) / calls)
    return min(best)


def run(threads_list, rounds: int) -> list:
    """measure() in a fresh process per thread count; the list of their results."""
    out = []
    for threads in threads_list:
        r = _child.run_child(__file__, ["--child", threads, rounds], threads, "profiler")
        if r is not None:
            out.append(r)
            print(line(r), flush=True)
    return out


def line(r: dict) -> str:
    return (f"{r['threads']} thread(s): step {r['step_off_ms']:.1f} ms off, "
            f"{r['step_on_ms']:.1f} ms profiled: overhead {100 * r['overhead']:+.1f}% "
            f"(quartiles {100 * r['overhead_quartiles'][0]:+.1f}% "
            f"{100 * r['overhead_quartiles'][1]:+.1f}%; target < 5%), CPU time "
            f"{100 * r['cpu_overhead']:+.1f}%, bookkeeping {100 * r['bookkeeping_overhead']:.2f}% "
            f"({r['bookkeeping_us_per_event']:.1f} us an event); "
            f"ops+kernels cover {100 * r['coverage']:.1f}% of the step "
            f"(min {100 * r['coverage_min']:.1f}%, target >= 90%), kernels alone "
            f"{100 * r['kernel_coverage']:.1f}%; off: {r['events_per_step']:.0f} checks of "
            f"{r['check_ns']:.0f} ns = {100 * r['off_cost']:.4f}% of a step; outside the events "
            "(ms): " + ", ".join(f"{k} {v:.2f}" for k, v in r["gaps_ms"].items()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--rounds", type=int, default=30, help="pairs of steps off and on")
    parser.add_argument("--child", nargs=2, type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(*args.child)))
        return
    run(args.threads, args.rounds)


if __name__ == "__main__":
    sys.path.insert(0, __file__.rsplit("/", 1)[0])
    main()
