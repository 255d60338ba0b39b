"""How a model's cost grows with its size: the seed article's question, measured.

Sweeps the width and the depth of an MLP and of the seed's five-conv CNN family (section 4.3:
3x3 'same' convs of c, 2c, 4c, 8c, 16c channels with pools between, GAP, Dense; c = 80 is
the ~10-million-parameter model) from ~10^4 to ~10^8 parameters, and for each model reports:
parameters, MACs per sample, training-step time per sample, achieved GFLOP/s (3 x forward
MACs x 2 FLOPs) as a fraction of the measured FMA peak, and peak memory split into weights,
optimizer state (Adam's two moments) and activations; the same for PyTorch when installed.
Each point runs in a fresh process; a model whose estimated memory exceeds --max-gib is
skipped with a note instead of being run.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/scaling.py --output out/
    python benchmarks/scaling.py --quick          # a few points per sweep

Writes scaling.json and, with matplotlib, scaling_time.png and scaling_memory.png (log-log,
with fitted slopes). docs/scaling.md explains the curves.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import time

import _child  # benchmarks/_child.py
import machine

MNIST, CIFAR = (784,), (32, 32, 3)


def mlp_specs(width: int, depth: int) -> list:
    return [("dense", width, "relu")] * depth + [("dense", 10, "softmax")]


def cnn_specs(c: int, blocks: int = 5) -> list:
    specs = []
    for i in range(blocks):
        specs.append(("conv", c * 2 ** i, 3, "same", True, "relu"))
        if i < blocks - 1:
            specs.append(("maxpool", 2))
    return specs + [("gap",), ("dense", 10, "softmax")]


def sweeps(quick: bool) -> list:
    """(family, knob, value, input shape, specs, batch) for every point."""
    widths = [16, 128, 1024, 4096] if quick else [16, 32, 64, 128, 256, 512, 1024, 2048, 4096,
                                                    8192]
    depths = [1, 4] if quick else [1, 2, 4, 8, 16]
    channels = [4, 16, 80] if quick else [4, 8, 16, 32, 64, 80, 128, 192]
    points = [("mlp", "width", w, MNIST, mlp_specs(w, 2), 64) for w in widths]
    points += [("mlp", "depth", d, MNIST, mlp_specs(1024, d), 64) for d in depths]
    points += [("cnn", "width", c, CIFAR, cnn_specs(c), 16) for c in channels]
    points += [("cnn", "depth", b, CIFAR, cnn_specs(32, b), 16) for b in ([2, 5] if quick
                                                                          else [1, 2, 3, 4, 5])]
    return points


def count(input_shape, specs) -> tuple:
    """(parameters, forward MACs per sample, activation floats per sample) without building."""
    params = macs = acts = 0
    shape = list(input_shape)
    for kind, *args in specs:
        if kind == "conv":
            f, k = args[0], args[1]
            params += k * k * shape[2] * f + f
            macs += shape[0] * shape[1] * k * k * shape[2] * f
            shape[2] = f
        elif kind == "maxpool":
            shape[0], shape[1] = shape[0] // args[0], shape[1] // args[0]
        elif kind == "gap":
            shape = [shape[2]]
        elif kind == "dense":
            params += shape[0] * args[0] + args[0]
            macs += shape[0] * args[0]
            shape = [args[0]]
        acts += math.prod(shape)
    return params, macs, acts


def _rss_mib() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _reset_peak() -> None:
    """Make VmHWM start again from the current RSS (Linux: clear_refs 5)."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


def measure(framework: str, input_shape, specs, batch: int, steps: int) -> dict:
    """In this process: seconds per training step, and memory: weights, optimizer state and
    the activations' peak (VmHWM during steps above the RSS after a first step)."""
    import numpy as np

    rng = np.random.default_rng(0)
    x = rng.random((batch, *input_shape), dtype=np.float32)
    y = rng.integers(0, 10, batch)
    step, state_bytes = _make_step(framework, input_shape, specs, x, y)
    step()  # builds, allocates the optimizer state, warms caches
    base = _rss_mib()
    _reset_peak()
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    params = count(input_shape, specs)[0]
    return {"step_s": statistics.median(times), "weights_mib": params * 4 / 2**20,
            "optimizer_mib": state_bytes() / 2**20,
            "activations_mib": max(_child.peak_mib() - base, 0.0), "peak_mib": _child.peak_mib()}


def _make_step(framework, input_shape, specs, x, y):
    sys.path.insert(0, os.path.dirname(__file__))
    import zoo

    if framework == "tinydl":
        model = zoo.build("tinydl", "custom", input_shape, specs)
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        return (lambda: model.train_on_batch(x, y)), \
            (lambda: sum(a.nbytes for slots in model.optimizer._slots.values() for a in slots))
    import torch

    model = zoo.build("torch", "custom", input_shape, specs)
    tx, ty = torch.from_numpy(x), torch.from_numpy(y)
    if tx.ndim == 4:
        model = model.to(memory_format=torch.channels_last)
        tx = tx.permute(0, 3, 1, 2).contiguous(memory_format=torch.channels_last)
    opt = torch.optim.Adam(model.parameters(), eps=1e-7)
    loss_fn = torch.nn.CrossEntropyLoss()

    def step():
        opt.zero_grad(set_to_none=True)
        loss_fn(model(tx), ty).backward()
        opt.step()

    def state():
        return sum(t.numel() * t.element_size() for s in opt.state.values() for t in s.values()
                   if torch.is_tensor(t) and t.ndim)

    return step, state


def run(args) -> dict:
    desc = machine.describe()
    peak = desc.get("fma_peak", {}).get("gflops_1_core" if args.threads == 1 else
                                        "gflops_all_cores")
    frameworks = ["tinydl"] + (["torch"] if desc["versions"]["torch"] != "not installed" else [])
    points = []
    for family, knob, value, shape, specs, batch in sweeps(args.quick):
        params, macs, acts = count(shape, specs)
        estimate_gib = (params * 4 * 4 + acts * batch * 4 * 6) / 2**30  # w, grad, m, v; acts
        point = {"family": family, "knob": knob, "value": value, "params": params,
                 "macs_per_sample": macs, "batch": batch}
        if estimate_gib > args.max_gib:
            point["skipped"] = f"estimated {estimate_gib:.1f} GiB > --max-gib {args.max_gib}"
            print(f"{family} {knob}={value}: {point['skipped']}")
            points.append(point)
            continue
        for fw in frameworks:
            child = ["--child", fw, json.dumps([list(shape), specs, batch, args.steps])]
            r = _child.run_child(__file__, child, args.threads, f"{fw} {family} {knob}={value}")
            if r is None:
                continue
            gflops = 3 * 2 * macs * batch / r["step_s"] / 1e9
            r.update(per_sample_ms=r["step_s"] / batch * 1e3, gflops=gflops,
                     peak_fraction=gflops / peak if peak else None)
            point[fw] = r
        points.append(point)
        print(_line(point, frameworks), flush=True)
    return {"machine": desc, "threads": args.threads, "points": points}


def _line(point, frameworks) -> str:
    text = f"{point['family']:3s} {point['knob']}={point['value']:<5} {point['params']:>11,} params " \
           f"{point['macs_per_sample']:>13,} MACs"
    for fw in frameworks:
        r = point.get(fw)
        if r:
            text += (f" | {fw} {r['per_sample_ms']:8.3f} ms/sample {r['gflops']:6.1f} GFLOP/s "
                     f"act {r['activations_mib']:7.1f} MiB opt {r['optimizer_mib']:7.1f}")
    return text


def fit_slope(xs, ys) -> float:
    """Least-squares slope of log(y) against log(x)."""
    lx, ly = [math.log(v) for v in xs], [math.log(v) for v in ys]
    mx, my = statistics.fmean(lx), statistics.fmean(ly)
    return sum((a - mx) * (b - my) for a, b in zip(lx, ly)) / sum((a - mx) ** 2 for a in lx)


def plot(result: dict, folder: str) -> list:
    """scaling_time.png and scaling_memory.png (log-log, fitted slopes); [] without matplotlib."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: no plots (pip install matplotlib)")
        return []
    written = []
    for key, ylabel, name in (("per_sample_ms", "training time per sample (ms)", "time"),
                              ("peak_mib", "peak memory (MiB)", "memory")):
        fig, ax = plt.subplots(figsize=(7, 5))
        for family in ("mlp", "cnn"):
            for fw in ("tinydl", "torch"):
                pts = [p for p in result["points"] if p["family"] == family and p["knob"] == "width"
                       and fw in p]
                if len(pts) < 2:
                    continue
                xs, ys = [p["params"] for p in pts], [p[fw][key] for p in pts]
                ax.loglog(xs, ys, "o-" if fw == "tinydl" else "s--",
                          label=f"{family} {fw} (slope {fit_slope(xs, ys):.2f})")
        ax.set_xlabel("parameters")
        ax.set_ylabel(ylabel)
        ax.legend()
        ax.grid(True, which="both", alpha=0.3)
        path = os.path.join(folder, f"scaling_{name}.png")
        fig.savefig(path, dpi=100)
        plt.close(fig)
        written.append(path)
    return written


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--max-gib", type=float, default=16.0)
    parser.add_argument("--output", default="scaling_out")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        shape, specs, batch, steps = json.loads(args.child[1])
        specs = [tuple(s) for s in specs]
        print(json.dumps(measure(args.child[0], tuple(shape), specs, batch, steps)))
        return
    os.makedirs(args.output, exist_ok=True)
    result = run(args)
    with open(os.path.join(args.output, "scaling.json"), "w") as f:
        json.dump(result, f, indent=1)
    for path in plot(result, args.output):
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
