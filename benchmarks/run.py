"""Every benchmark in one run: kernels, the model zoo and the scale study, with a report.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/run.py --output bench_out
    python benchmarks/run.py --quick                 # a short run (under 5 minutes on 2 cores)
    python benchmarks/run.py --only gemm models      # some of: gemm, conv, models, scaling, profiler

Each measurement runs in a fresh process per library and thread count (the thread count set
before any library starts its pool), after warm-up; the libraries are taken in turn for
--rounds rounds, and the report gives the median and the spread (min-max over the rounds).
Writes OUTPUT/results.json and OUTPUT/report.md: the machine (CPU, features, cores, measured
FMA peak and copy bandwidth), library versions, the environment variables that matter, and
ratios as the headline (tinydl / PyTorch, tinydl / TF-Keras, tinydl / NumPy's BLAS). A peer
that is not installed is reported as "not installed". benchmarks/README.md explains it all.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time

import _child
import bench_conv
import bench_gemm
import bench_models
import bench_profiler
import machine
import scaling

HERE = os.path.dirname(os.path.abspath(__file__))
PARTS = ("gemm", "conv", "models", "scaling", "profiler")


def spread(values: list) -> dict:
    return {"median": statistics.median(values), "min": min(values), "max": max(values),
            "n": len(values)}


def kernel_rounds(script: str, libraries, threads_list, rounds: int, reps: int) -> dict:
    """{threads: {library: {case: spread}}} from the kernel script's child mode, libraries in turn."""
    out = {}
    for threads in threads_list:
        runs = {lib: [] for lib in libraries}
        for _ in range(rounds):
            for lib in libraries:
                r = _child.run_kernel_child(script, lib, threads, reps)
                if r is not None:
                    runs[lib].append(r)
        out[threads] = {lib: {case: spread([r[case] for r in rs]) for case in rs[0]}
                        for lib, rs in runs.items() if rs}
    return out


def run_gemm(args, installed) -> dict:
    libs = [lib for lib in bench_gemm.LIBRARIES if lib != "torch" or installed["torch"]]
    return kernel_rounds(bench_gemm.__file__, libs, args.threads, args.rounds, args.reps)


def run_conv(args, installed) -> dict:
    libs = [b for b in bench_conv.BACKENDS if b != "torch" or installed["torch"]]
    return kernel_rounds(bench_conv.__file__, libs, args.threads, args.rounds, args.reps)


def run_models(args, installed) -> dict:
    frameworks = [fw for fw in bench_models.FRAMEWORKS if installed[fw]]
    models = ["reference_cnn"] if args.quick else list(bench_models.zoo.MODELS)
    opts = argparse.Namespace(rounds=args.rounds, steps=3 if args.quick else 5,
                              repeats=3 if args.quick else 5)
    cells = bench_models.run_cells(models, [64], args.threads, frameworks, opts)
    if not args.quick:
        cells += bench_models.run_cells(models, [64], args.threads, frameworks, opts, busy=2)
    return {"frameworks": frameworks, "cells": cells}


def run_scaling(args, installed) -> dict:
    opts = argparse.Namespace(quick=args.quick, threads=1, steps=2 if args.quick else 3,
                              max_gib=16.0)
    result = scaling.run(opts)
    result["plots"] = scaling.plot(result, args.output)
    return result


def run_profiler(args, installed) -> list:
    return bench_profiler.run(args.threads, rounds=10 if args.quick else 30)


def headline(results: dict) -> list:
    """Markdown lines: the ratios that matter, one table per part."""
    lines = []
    for threads, libs in results.get("gemm", {}).items():
        if "tinydl" in libs and "numpy" in libs:
            ours, blas = libs["tinydl"], libs["numpy"]
            lines += [f"\n### SGEMM, {threads} thread(s): GFLOP/s (median, min-max)\n",
                      "| shape | tinydl | NumPy BLAS | tinydl / BLAS |", "|---|---:|---:|---:|"]
            for case in ours:
                lines.append(f"| {case} | {_fmt(ours[case])} | {_fmt(blas[case])} | "
                             f"{ours[case]['median'] / blas[case]['median']:.2f}x |")
    for threads, libs in results.get("conv", {}).items():
        if "native" in libs:
            lines += [f"\n### Convolution kernels, {threads} thread(s): ms per call\n",
                      "| kernel | native | reference | PyTorch | reference / native | "
                      "PyTorch / native |", "|---|---:|---:|---:|---:|---:|"]
            for case, r in libs["native"].items():
                ref, torch = libs.get("reference", {}).get(case), libs.get("torch", {}).get(case)
                lines.append(f"| {case} | {_fmt(r)} | {_fmt(ref)} | {_fmt(torch)} | "
                             f"{_ratio(ref, r)} | {_ratio(torch, r)} |")
    models = results.get("models")
    if models:
        lines += ["\n### Model zoo, batch 64: tinydl's speed / the peer's (above 1: tinydl faster)\n",
                  "| model | threads | busy | train img/s | vs PyTorch train | vs PyTorch infer | "
                  "vs TF-Keras train | vs TF-Keras infer | peak MiB (tinydl / torch) |",
                  "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for c in models["cells"]:
            ours = c.get("tinydl")
            if not ours:
                continue
            row = [c["model"], str(c["threads"]), str(c["busy"]), f"{c['batch'] / ours['train_s']:.0f}"]
            for peer in ("torch", "keras"):
                p = c.get(peer)
                row += [f"{p['train_s'] / ours['train_s']:.2f}x" if p else "not installed",
                        f"{p['infer_s'] / ours['infer_s']:.2f}x" if p else "not installed"]
            torch_mib = c["torch"]["peak_mib"] if c.get("torch") else float("nan")
            row.append(f"{ours['peak_mib']:.0f} / {torch_mib:.0f}")
            lines.append("| " + " | ".join(row) + " |")
    if results.get("scaling"):
        lines += ["\n### Scale study (1 thread)\n", "| family | knob | params | MACs/sample | "
                  "tinydl ms/sample | % of FMA peak | PyTorch ms/sample |", "|---|---|---:|---:|---:|---:|---:|"]
        for p in results["scaling"]["points"]:
            t, pt = p.get("tinydl"), p.get("torch")
            frac = f"{100 * t['peak_fraction']:.0f}%" if t and t.get("peak_fraction") else "-"
            ours = f"{t['per_sample_ms']:.3f}" if t else p.get("skipped", "failed")
            peer = f"{pt['per_sample_ms']:.3f}" if pt else "-"
            lines.append(f"| {p['family']} | {p['knob']}={p['value']} | {p['params']:,} | "
                         f"{p['macs_per_sample']:,} | {ours} | {frac} | {peer} |")
    if results.get("profiler"):
        lines += ["\n### Profiler on the reference CNN's training step (batch 64)\n",
                  "| threads | step ms | overhead (wall) | overhead (CPU time) | bookkeeping | "
                  "ops+kernels / step | kernels / step |", "|---:|---:|---:|---:|---:|---:|---:|"]
        for r in results["profiler"]:
            lines.append(f"| {r['threads']} | {r['step_off_ms']:.1f} | {100 * r['overhead']:+.1f}% | "
                         f"{100 * r['cpu_overhead']:+.1f}% | {100 * r['bookkeeping_overhead']:.2f}% | "
                         f"{100 * r['coverage']:.1f}% | {100 * r['kernel_coverage']:.1f}% |")
    return lines


def _fmt(s) -> str:
    if not s:
        return "not installed"
    return f"{s['median']:.2f} ({s['min']:.2f}-{s['max']:.2f})"


def _ratio(num, den) -> str:
    return f"{num['median'] / den['median']:.2f}x" if num and den else "-"


def report(results: dict) -> str:
    m = results["machine"]
    peak = m.get("fma_peak", {})
    lines = ["# tinydl benchmark report", "",
             f"- when: {results['when']}, took {results['seconds']:.0f} s ("
             + ", ".join(f"{k} {v:.0f} s" for k, v in results.get("part_seconds", {}).items())
             + f"), rounds {results['rounds']}",
             f"- CPU: {m['cpu']} ({m['machine']}, {m['cores']} cores), features: "
             f"{', '.join(m['cpu_features']) or 'unknown'}",
             f"- FMA peak (float32, measured): {peak.get('gflops_1_core', '?')} GFLOP/s on one core, "
             f"{peak.get('gflops_all_cores', '?')} on all ({peak.get('isa', '?')})",
             f"- copy bandwidth: {m.get('memory_bandwidth_gbs', '?')} GB/s; BLAS: {m['blas']}",
             "- versions: " + ", ".join(f"{k} {v}" for k, v in m["versions"].items()),
             "- environment: " + ", ".join(f"{k}={v}" for k, v in m["env"].items())]
    if m["env"].get("OPENBLAS_CORETYPE", "unset") != "unset":
        lines.append("- **warning**: OPENBLAS_CORETYPE is set, which slows NumPy's BLAS: rerun "
                     "with `env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE`")
    return "\n".join(lines + headline(results)) + "\n"


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a short run")
    parser.add_argument("--only", nargs="+", choices=PARTS, default=list(PARTS))
    parser.add_argument("--output", default="bench_out")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--rounds", type=int, default=None, help="default 1 quick, 3 otherwise")
    parser.add_argument("--reps", type=int, default=None, help="kernel repetitions per process")
    args = parser.parse_args(argv)
    args.rounds = args.rounds or (1 if args.quick else 3)
    args.reps = args.reps or (3 if args.quick else 7)
    os.makedirs(args.output, exist_ok=True)
    start = time.time()
    results = {"when": time.strftime("%Y-%m-%d %H:%M:%S"), "rounds": args.rounds,
               "threads": args.threads, "quick": args.quick, "machine": machine.describe()}
    results["part_seconds"] = {"machine": time.time() - start}
    installed = {fw: bench_models.installed(fw) for fw in bench_models.FRAMEWORKS}
    for fw, ok in installed.items():
        if not ok:
            print(f"{fw}: not installed (its columns say so)")
    runners = {"gemm": run_gemm, "conv": run_conv, "models": run_models, "scaling": run_scaling,
               "profiler": run_profiler}
    for part in args.only:
        print(f"== {part}", flush=True)
        part_start = time.time()
        results[part] = runners[part](args, installed)
        results["part_seconds"][part] = time.time() - part_start
        print(f"   ({part}: {results['part_seconds'][part]:.0f} s)", flush=True)
    results["seconds"] = time.time() - start
    with open(os.path.join(args.output, "results.json"), "w") as f:
        json.dump(results, f, indent=1, default=str)
    with open(os.path.join(args.output, "report.md"), "w") as f:
        f.write(report(results))
    print(f"wrote {args.output}/results.json and {args.output}/report.md "
          f"({results['seconds']:.0f} s)")


if __name__ == "__main__":
    sys.path.insert(0, HERE)
    main()
