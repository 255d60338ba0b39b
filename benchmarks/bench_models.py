"""The model zoo's training and inference speed: tinydl vs PyTorch (channels_last) vs TF-Keras.

For every model of benchmarks/zoo.py, batch size and thread count, each framework is measured
in its own fresh process (warm-up, then the median of --repeats x --steps steps), the
frameworks taken in turn for --rounds rounds, and the table keeps the median per cell. The
headline is the ratio tinydl / peer (above 1: tinydl is faster); in brackets, the lowest and
highest of the rounds' own ratios (each round's frameworks ran back to back), the spread a
busy or noisy machine puts on it.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_models.py
    python benchmarks/bench_models.py --models mlp vgg_bn --batches 32 64 128 --threads 1 2
    python benchmarks/bench_models.py --busy 2     # also beside 2 busy processes (contention)

A peer that is not installed is reported as "not installed". --json writes every cell.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import _child  # benchmarks/_child.py (this folder is on sys.path when run as a script)
import zoo

FRAMEWORKS = ("tinydl", "torch", "keras")


def _data(name: str, batch: int, framework: str):
    import numpy as np

    shape, specs = zoo.MODELS[name]
    rng = np.random.default_rng(0)
    if name in zoo.TOKEN_MODELS:  # token ids below the vocabulary size
        vocabulary = specs[0][1]
        x = rng.integers(0, vocabulary, (batch, *shape))
        x = x.astype(np.float32) if framework == "tinydl" else x
        return x, rng.integers(0, specs[-1][1], batch)
    x = rng.random((batch, *shape), dtype=np.float32)
    y = rng.integers(0, specs[-1][1], batch)
    return x, y


def _runner_tinydl(name, batch, threads):
    import tinydl

    tinydl.set_num_threads(threads)
    tinydl.utils.set_random_seed(0)
    model = zoo.build("tinydl", name)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    x, y = _data(name, batch, "tinydl")
    return (lambda: model.train_on_batch(x, y)), (lambda: model.predict_on_batch(x))


def _runner_torch(name, batch, threads):
    import torch

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = zoo.build("torch", name)
    x, y = _data(name, batch, "torch")
    x, y = torch.from_numpy(x), torch.from_numpy(y)
    if x.ndim == 4:  # NHWC data -> NCHW tensors stored channels_last (PyTorch's fast CPU layout)
        model = model.to(memory_format=torch.channels_last)
        x = x.permute(0, 3, 1, 2).contiguous(memory_format=torch.channels_last)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
    loss_fn = torch.nn.CrossEntropyLoss()

    def train():
        model.train()
        optimizer.zero_grad(set_to_none=True)
        loss_fn(model(x), y).backward()
        optimizer.step()

    def infer():
        model.eval()
        with torch.no_grad():
            torch.softmax(model(x), dim=1)

    return train, infer


def _runner_keras(name, batch, threads):
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    import keras

    keras.utils.set_random_seed(0)
    model = zoo.build("keras", name)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    x, y = _data(name, batch, "keras")
    return (lambda: model.train_on_batch(x, y)), (lambda: model.predict_on_batch(x))


def measure(framework: str, name: str, batch: int, threads: int, steps: int,
            repeats: int) -> dict:
    """In this process: median seconds per train step and per inference batch, peak MiB."""
    runner = {"tinydl": _runner_tinydl, "torch": _runner_torch, "keras": _runner_keras}
    train, infer = runner[framework](name, batch, threads)

    def median_time(fn):
        for _ in range(3):
            fn()
        rounds = []
        for _ in range(repeats):
            start = time.perf_counter()
            for _ in range(steps):
                fn()
            rounds.append((time.perf_counter() - start) / steps)
        return statistics.median(rounds)

    return {"train_s": median_time(train), "infer_s": median_time(infer),
            "peak_mib": _child.peak_mib()}


def installed(framework: str) -> bool:
    module = {"tinydl": "tinydl", "torch": "torch", "keras": "keras"}[framework]
    probe = subprocess.run([sys.executable, "-c", f"import {module}"], capture_output=True)
    return probe.returncode == 0


class Busy:
    """n processes spinning in pure Python beside the measurement (a busy lab server)."""

    def __init__(self, n: int):
        self.n, self.procs = n, []

    def __enter__(self):
        self.procs = [subprocess.Popen([sys.executable, "-c", "while True: pass"])
                      for _ in range(self.n)]
        return self

    def __exit__(self, *exc):
        for p in self.procs:
            p.kill()
            p.wait()


def run_cells(models, batches, threads_list, frameworks, args, busy: int = 0) -> list:
    """Every (model, batch, threads) cell for every framework: the median over the rounds."""
    cells = []
    with Busy(busy):
        for name in models:
            for batch in batches:
                for threads in threads_list:
                    rounds = []  # per round: {framework: result} (a failed child is absent)
                    for _ in range(args.rounds):
                        rounds.append({})
                        for fw in frameworks:
                            child = ["--child", fw, name, batch, threads, args.steps, args.repeats]
                            r = _child.run_child(__file__, child, threads, f"{fw} {name}")
                            if r is not None:
                                rounds[-1][fw] = r
                    cell = {"model": name, "batch": batch, "threads": threads, "busy": busy}
                    for fw in frameworks:
                        rs = [one[fw] for one in rounds if fw in one]
                        if rs:
                            cell[fw] = {key: statistics.median(r[key] for r in rs)
                                        for key in ("train_s", "infer_s")}
                            cell[fw]["peak_mib"] = max(r["peak_mib"] for r in rs)
                        if fw != "tinydl":
                            cell.setdefault("round_ratios", {})[fw] = _round_ratios(rounds, fw)
                    cells.append(cell)
                    print_cell(cell, frameworks)
    return cells


def _round_ratios(rounds, peer: str) -> dict:
    """peer's time / tinydl's, round by round (the two measured minutes apart, not hours):
    {'train': [...], 'infer': [...]} over the rounds where both ran."""
    both = [one for one in rounds if "tinydl" in one and peer in one]
    return {mode: [one[peer][f"{mode}_s"] / one["tinydl"][f"{mode}_s"] for one in both]
            for mode in ("train", "infer")}


def _spread(values) -> str:
    return f" [{min(values):.2f}-{max(values):.2f}]" if len(values) > 1 else ""


def print_cell(cell: dict, frameworks) -> None:
    ours = cell.get("tinydl")
    parts = [f"{cell['model']:14s} b{cell['batch']:<4d} {cell['threads']}t"
             + (f" busy={cell['busy']}" if cell["busy"] else "")]
    for fw in frameworks:
        r = cell.get(fw)
        if r is None:
            parts.append(f"{fw}: failed")
            continue
        text = (f"{fw}: train {cell['batch'] / r['train_s']:7.0f} img/s, infer "
                f"{cell['batch'] / r['infer_s']:7.0f}, {r['peak_mib']:5.0f} MiB")
        if fw != "tinydl" and ours:
            spread = cell.get("round_ratios", {}).get(fw, {"train": [], "infer": []})
            text += (f" (tinydl/{fw}: train {r['train_s'] / ours['train_s']:.2f}x"
                     f"{_spread(spread['train'])}, infer {r['infer_s'] / ours['infer_s']:.2f}x"
                     f"{_spread(spread['infer'])})")
        parts.append(text)
    print(" | ".join(parts), flush=True)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=list(zoo.MODELS), choices=list(zoo.MODELS))
    parser.add_argument("--batches", type=int, nargs="+", default=[64])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--frameworks", nargs="+", default=list(FRAMEWORKS), choices=FRAMEWORKS)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--busy", type=int, default=0,
                        help="also measure beside this many busy processes (contention mode)")
    parser.add_argument("--json", help="write every cell to this file")
    parser.add_argument("--child", nargs=6, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    if args.child:
        fw, name, batch, threads, steps, repeats = args.child
        print(json.dumps(measure(fw, name, int(batch), int(threads), int(steps), int(repeats))))
        return
    frameworks = [fw for fw in args.frameworks if installed(fw)]
    for fw in set(args.frameworks) - set(frameworks):
        print(f"{fw}: not installed")
    print(f"model zoo; medians of {args.repeats} x {args.steps} steps in each of {args.rounds} "
          f"processes per cell, frameworks taken in turn; OPENBLAS_CORETYPE="
          f"{os.environ.get('OPENBLAS_CORETYPE', 'unset')}")
    cells = run_cells(args.models, args.batches, args.threads, frameworks, args)
    if args.busy:
        cells += run_cells(args.models, args.batches, args.threads, frameworks, args, args.busy)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"cells": cells, "frameworks": frameworks}, f, indent=1)


if __name__ == "__main__":
    main()
