"""Training and inference speed of the reference CIFAR-10 CNN: tinydl vs PyTorch, one table.

The model is the one of the Keras tutorial (160,202 parameters): Conv2D(32)-MaxPool-Conv2D(64)-
MaxPool-Conv2D(128)-MaxPool-Flatten-Dense(128)-Dense(10, softmax), Adam, sparse categorical
cross-entropy, batch 64 of 32x32x3 images. For each implementation and thread count a fresh
process times `train_on_batch` (forward, backward, Adam update) and inference, after warm-up,
and reports the median of several repetitions and the process's peak resident memory.

Run (NumPy's OpenBLAS is used by the reference backend; do not let these slow it):
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_train_step.py

Each row runs in --rounds fresh processes, the rows taken in turn, and the table keeps the
median, so a slow spell of a shared machine does not land on one row only.

PyTorch rows appear when torch is importable (pip install torch); they are skipped otherwise.
"""

from __future__ import annotations

import argparse
import json
import os

import _child  # benchmarks/_child.py (this folder is on sys.path when run as a script)

BATCH = 64


def _tinydl_runner(backend: str, threads: int, steps: int):
    import numpy as np

    import tinydl
    from tinydl.layers import Conv2D, Dense, Flatten, MaxPooling2D
    from tinydl.models import Sequential

    tinydl.set_backend(backend)
    tinydl.set_num_threads(threads)
    tinydl.utils.set_random_seed(0)
    model = Sequential([
        Conv2D(32, (3, 3), activation="relu", input_shape=(32, 32, 3)), MaxPooling2D((2, 2)),
        Conv2D(64, (3, 3), activation="relu"), MaxPooling2D((2, 2)),
        Conv2D(128, (3, 3), activation="relu"), MaxPooling2D((2, 2)),
        Flatten(), Dense(128, activation="relu"), Dense(10, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    rng = np.random.default_rng(0)
    x = rng.random((BATCH, 32, 32, 3), dtype=np.float32)
    y = rng.integers(0, 10, BATCH)
    return (lambda: model.train_on_batch(x, y)), (lambda: model.predict_on_batch(x))


def _torch_runner(layout: str, threads: int, steps: int):
    import torch
    from torch import nn

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(3, 32, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(32, 64, 3), nn.ReLU(),
        nn.MaxPool2d(2), nn.Conv2d(64, 128, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
        nn.Linear(512, 128), nn.ReLU(), nn.Linear(128, 10))
    x = torch.rand(BATCH, 3, 32, 32)
    y = torch.randint(0, 10, (BATCH,))
    if layout == "channels_last":
        model = model.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
    loss_fn = nn.CrossEntropyLoss()

    def train():
        optimizer.zero_grad(set_to_none=True)
        loss_fn(model(x), y).backward()
        optimizer.step()

    def infer():
        with torch.no_grad():
            torch.softmax(model(x), dim=1)

    return train, infer


def measure(impl: str, variant: str, threads: int, steps: int, repeats: int) -> dict:
    """Run in this process: median seconds per train step and per inference batch."""
    import time

    import numpy as np

    make = _tinydl_runner if impl == "tinydl" else _torch_runner
    train, infer = make(variant, threads, steps)

    def median_time(fn):
        for _ in range(3):
            fn()
        rounds = []
        for _ in range(repeats):
            start = time.perf_counter()
            for _ in range(steps):
                fn()
            rounds.append((time.perf_counter() - start) / steps)
        return float(np.median(rounds))

    train_s = median_time(train)
    infer_s = median_time(infer)
    return {"train_s": train_s, "infer_s": infer_s, "peak_mib": _child.peak_mib()}


def _run_child(impl, variant, threads, steps, repeats) -> dict | None:
    args = ["--child", impl, variant, threads, steps, repeats]
    return _child.run_child(__file__, args, threads, f"{impl} {variant}")


def _have_torch() -> bool:
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--steps", type=int, default=10, help="steps per repetition")
    parser.add_argument("--repeats", type=int, default=5, help="repetitions (the median is kept)")
    parser.add_argument("--rounds", type=int, default=3,
                        help="fresh processes per implementation, taken in turn (the median "
                             "is kept): a slow spell of the machine then hits every row alike")
    parser.add_argument("--child", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        impl, variant, threads, steps, repeats = args.child
        print(json.dumps(measure(impl, variant, int(threads), int(steps), int(repeats))))
        return

    rows = [("tinydl", "native"), ("tinydl", "reference")]
    if _have_torch():
        rows += [("torch", "channels_last"), ("torch", "nchw")]
    else:
        print("PyTorch is not installed: its rows are skipped (pip install torch to compare)")
    print(f"reference CNN, batch {BATCH}; medians of {args.repeats} x {args.steps} steps in "
          f"each of {args.rounds} processes per row, taken in turn; "
          f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', 'unset')}")
    header = f"{'implementation':28s} {'threads':>7s} {'train img/s':>12s} {'infer img/s':>12s} " \
             f"{'peak MiB':>9s} {'train vs torch-CL':>18s} {'vs reference':>13s}"
    print(header)
    for threads in args.threads:
        results = _rounds(rows, threads, args)
        torch_cl = results.get(("torch", "channels_last"))
        reference = results.get(("tinydl", "reference"))
        for (impl, variant), r in results.items():
            ratio = f"{torch_cl['train_s'] / r['train_s']:.2f}x" if torch_cl else "-"
            vs_ref = f"{reference['train_s'] / r['train_s']:.2f}x" if reference else "-"
            print(f"{impl + ' ' + variant:28s} {threads:7d} {BATCH / r['train_s']:12.0f} "
                  f"{BATCH / r['infer_s']:12.0f} {r['peak_mib']:9.0f} {ratio:>18s} "
                  f"{vs_ref:>13s}")


def _rounds(rows, threads: int, args) -> dict:
    """{row: median over the rounds of each process's train_s and infer_s, max peak_mib}."""
    import numpy as np

    runs: dict = {row: [] for row in rows}
    for _ in range(args.rounds):
        for row in rows:
            r = _run_child(*row, threads, args.steps, args.repeats)
            if r is not None:
                runs[row].append(r)
    return {row: {"train_s": float(np.median([r["train_s"] for r in rs])),
                  "infer_s": float(np.median([r["infer_s"] for r in rs])),
                  "peak_mib": max(r["peak_mib"] for r in rs)}
            for row, rs in runs.items() if rs}


if __name__ == "__main__":
    main()
