"""Convolution and pooling kernels: tinydl native vs tinydl reference (NumPy) vs PyTorch.

Run from the repository root:

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_conv.py [--reps 7]

Shapes are the reference CNN's layers at batch 64 (NHWC): conv1 3x3 3->32 on 32x32,
conv2 3x3 32->64 on 15x15, conv3 3x3 64->128 on 6x6 (valid padding, with bias and ReLU
fused in the forward), and 2x2 max pooling after conv1 and conv2; "fwd+pool" is the
convolution with its 2x2 max pool, as Sequential runs Conv2D -> MaxPooling2D (one kernel in
tinydl). Each backend runs in its own subprocess per thread count; the table gives median
milliseconds per call. "native" picks its algorithm itself (Winograd F(2x2, 3x3) for conv2
and conv3's forward and weight gradient); "im2col" is native forced to im2col + GEMM.
PyTorch (channels_last, torch.nn.grad for the gradients) is skipped when not importable.
"""

from __future__ import annotations

import json

import numpy as np

import _child  # benchmarks/_child.py (this folder is on sys.path when run as a script)

BATCH = 64
CONVS = {"conv1": ((BATCH, 32, 32, 3), 32), "conv2": ((BATCH, 15, 15, 32), 64),
         "conv3": ((BATCH, 6, 6, 64), 128)}
POOLS = {"pool1": (BATCH, 30, 30, 32), "pool2": (BATCH, 13, 13, 64)}
BACKENDS = ("native", "im2col", "reference", "torch")


def cases():
    """{case name: (x, w, bias, dy)} for convs and {name: (x, dy)} for pools, float32."""
    rng = np.random.default_rng(0)
    out = {}
    for name, (shape, f) in CONVS.items():
        x = rng.standard_normal(shape).astype(np.float32)
        w = rng.standard_normal((3, 3, shape[3], f)).astype(np.float32) * 0.1
        dy = rng.standard_normal((shape[0], shape[1] - 2, shape[2] - 2, f)).astype(np.float32)
        out[name] = (x, w, rng.standard_normal(f).astype(np.float32), dy)
    for name, shape in POOLS.items():
        x = rng.standard_normal(shape).astype(np.float32)
        dy = rng.standard_normal((shape[0], shape[1] // 2, shape[2] // 2, shape[3]))
        out[name] = (x, dy.astype(np.float32))
    return out


def tinydl_calls(backend_name: str, threads: int):
    from tinydl import backend
    backend.set_backend("native" if backend_name == "im2col" else backend_name)
    backend.set_num_threads(threads)
    if backend_name == "im2col":
        from tinydl.kernels import native
        native.force_conv_algorithm("im2col")
    calls = {}
    for name, value in cases().items():
        if name.startswith("conv"):
            x, w, b, dy = value
            calls[f"{name} fwd"] = lambda x=x, w=w, b=b: backend.conv2d_forward(
                x, w, b, (1, 1), (0, 0, 0, 0), True)
            calls[f"{name} fwd+pool"] = lambda x=x, w=w, b=b: backend.conv2d_max_pool_forward(
                x, w, b, (1, 1), (0, 0, 0, 0), True, (2, 2))
            calls[f"{name} dx"] = lambda dy=dy, w=w, x=x: backend.conv2d_backward_input(
                dy, w, x.shape, (1, 1), (0, 0, 0, 0))
            calls[f"{name} dw+db"] = lambda dy=dy, x=x: backend.conv2d_backward_kernel(
                dy, x, (3, 3), (1, 1), (0, 0, 0, 0), True)
        else:
            x, dy = value
            _, argmax = backend.max_pool2d_forward(x, (2, 2), (2, 2), (0, 0, 0, 0))
            calls[f"{name} fwd"] = lambda x=x: backend.max_pool2d_forward(
                x, (2, 2), (2, 2), (0, 0, 0, 0))
            calls[f"{name} bwd"] = lambda dy=dy, a=argmax, x=x: backend.max_pool2d_backward(
                dy, a, x.shape)
    return calls


def torch_calls(threads: int):
    import torch
    import torch.nn.functional as F
    torch.set_num_threads(threads)
    calls = {}
    cl = torch.channels_last
    for name, value in cases().items():
        if name.startswith("conv"):
            x, w, b, dy = (torch.from_numpy(v) for v in value)
            x = x.permute(0, 3, 1, 2).contiguous(memory_format=cl)
            w = w.permute(3, 2, 0, 1).contiguous(memory_format=cl)
            dy = dy.permute(0, 3, 1, 2).contiguous(memory_format=cl)
            calls[f"{name} fwd"] = lambda x=x, w=w, b=b: F.relu(F.conv2d(x, w, b))
            calls[f"{name} fwd+pool"] = lambda x=x, w=w, b=b: F.max_pool2d(
                F.relu(F.conv2d(x, w, b)), 2, 2, return_indices=True)
            calls[f"{name} dx"] = lambda x=x, w=w, dy=dy: torch.nn.grad.conv2d_input(
                x.shape, w, dy)
            calls[f"{name} dw+db"] = lambda x=x, w=w, dy=dy: (
                torch.nn.grad.conv2d_weight(x, w.shape, dy), dy.sum((0, 2, 3)))
        else:
            x, dy = (torch.from_numpy(v).permute(0, 3, 1, 2).contiguous(memory_format=cl)
                     for v in value)
            xg = x.clone().requires_grad_(True)
            calls[f"{name} fwd"] = lambda x=x: F.max_pool2d(x, 2, 2, return_indices=True)
            calls[f"{name} bwd"] = lambda xg=xg, dy=dy: torch.autograd.grad(
                F.max_pool2d(xg, 2, 2), xg, dy)
    return calls


def child(backend_name: str, threads: int, reps: int) -> None:
    calls = torch_calls(threads) if backend_name == "torch" else tinydl_calls(backend_name,
                                                                               threads)
    print(json.dumps({name: 1e3 * _child.median_seconds(fn, reps)
                      for name, fn in calls.items()}))


def main() -> None:
    args = _child.kernel_bench_args(__doc__, BACKENDS)
    if args.child:
        child(args.child, args.threads[0], args.reps)
        return
    for threads in args.threads:
        print(f"\n== {threads} thread(s), batch {BATCH}, median ms of {args.reps} reps ==")
        res = {name: _child.run_kernel_child(__file__, name, threads, args.reps)
               for name in BACKENDS}
        names = next((list(r) for r in res.values() if r), [])
        print(f"{'kernel':<15} {'native':>9} {'im2col':>9} {'reference':>10} {'torch':>9} "
              f"{'ref/native':>11} {'torch/native':>13}")
        for name in names:
            ours, im2col, ref, torch = (res[b][name] if res[b] else float("nan")
                                        for b in BACKENDS)
            print(f"{name:<15} {ours:9.3f} {im2col:9.3f} {ref:10.3f} {torch:9.3f} "
                  f"{ref / ours:10.2f}x {torch / ours:12.2f}x")


if __name__ == "__main__":
    main()
