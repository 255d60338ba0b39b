"""The demo on several ranks: `python -m tinydl --distributed` (or under mpirun yourself).

Started without an MPI launcher, it starts itself again as --ranks ranks through mpirun (the
command of tinydl.distributed.launch, printed first). Each rank then trains the reference CNN
on its half (third, ...) of the data with a DistributedOptimizer; rank 0 prints and saves.
"""

from __future__ import annotations

import os
import time

from tinydl.distributed import launch


def main(args, argv: list) -> int:
    """Run the demo of tinydl.__main__ with the parsed args on all ranks; the exit code.

    Started without an MPI launcher, it relaunches itself under mpirun (launch.relaunch).

    Args:
        args: the parsed command line of `python -m tinydl --distributed` (ranks, dataset,
            epochs, batch_size, backend, threads, seed, optimizer, ...).
        argv: the raw arguments, for the relaunch.

    Returns:
        The exit code: 0 when every rank finished; 1 when there is no mpirun to start them.

    Example:
        Training on several processes is not run here (tests/distributed/test_demo.py runs it
        on 2 ranks); without mpirun on PATH, the demo says what to install and returns 1:

        >>> import os, types
        >>> saved = os.environ["PATH"]
        >>> os.environ["PATH"] = ""
        >>> main(types.SimpleNamespace(ranks=2), ["--distributed"])
        1
        >>> os.environ["PATH"] = saved
        >>> import sys, tinydl.__main__                         # doctest: +SKIP
        >>> sys.exit(tinydl.__main__.main(["--distributed", "--ranks", "2", "--epochs", "1"]))  # doctest: +SKIP
    """
    if not launch.launched_by_mpi():
        return launch.relaunch(["-m", "tinydl", *argv], args.ranks)
    import tinydl
    import tinydl.distributed as hvd
    from tinydl.__main__ import build_model, load, plot_history

    hvd.init()
    say = print if hvd.is_main() else (lambda *a, **k: None)
    if args.backend:
        tinydl.set_backend(args.backend)
    if args.threads:
        tinydl.set_num_threads(args.threads)
    tinydl.utils.set_random_seed(args.seed + hvd.rank())  # fit starts all ranks from rank 0's weights
    info = tinydl.backend_info()
    say(f"tinydl {tinydl.__version__} on {hvd.size()} ranks: backend={info['backend']}, "
        f"threads per rank={info['threads']}")
    (x_train, y_train), (x_test, y_test) = load(args.dataset)
    classes = int(max(y_train.max(), y_test.max())) + 1
    say(f"dataset {args.dataset}: {len(x_train)} training images, each rank trains on about "
        f"{len(x_train) // hvd.size()} per epoch at batch {args.batch_size} "
        f"(global batch {args.batch_size * hvd.size()})")
    model = build_model(x_train.shape[1:], classes)
    optimizer = hvd.DistributedOptimizer(tinydl.optimizers.get(args.optimizer))
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    if hvd.is_main():
        model.summary()
    start = time.perf_counter()
    history = model.fit(x_train, y_train, epochs=args.epochs, batch_size=args.batch_size,
                        validation_data=(x_test, y_test), verbose=args.verbose)
    seconds = time.perf_counter() - start
    test_loss, test_acc = model.evaluate(x_test, y_test, verbose=0)
    say(f"test loss {test_loss:.4f}, test accuracy {test_acc:.4f} (trained {args.epochs} epochs "
        f"in {seconds:.1f} s; {optimizer.gradient_aggregator.seconds:.2f} s of it in allreduce)")
    if hvd.is_main():
        _save(model, history, args, plot_history)
    return 0


def _save(model, history, args, plot_history) -> None:
    os.makedirs(args.output, exist_ok=True)
    model_path = os.path.join(args.output, f"{args.dataset}_cnn.tinydl")
    model.save(model_path)
    print(f"saved the model to {model_path}")
    plot_path = os.path.join(args.output, f"{args.dataset}_history.png")
    if plot_history(history.history, plot_path):
        print(f"wrote the training curves to {plot_path}")
