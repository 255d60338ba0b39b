"""The demo: `python -m tinydl` trains the reference CNN on real images and reports how it did.

It builds the CIFAR-10 CNN of the Keras tutorial (Conv2D(32)-MaxPool-Conv2D(64)-MaxPool-
Conv2D(128)-MaxPool-Flatten-Dense(128)-Dense(10, softmax)), adapted to the input shape,
prints its summary, trains it with a progress bar, prints the test loss and accuracy,
saves the model and, when matplotlib is installed, plots the training curves.
By default it uses the bundled MNIST sample, so it runs offline on a fresh machine.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import time

import numpy as np

DATASETS = ("mnist_sample", "digits", "cifar10_sample", "mnist", "fashion_mnist", "cifar10")
OPTIMIZERS = ("adam", "sgd", "rmsprop", "adamw")


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="tinydl", description=__doc__.split("\n")[0])
    parser.add_argument("--dataset", choices=DATASETS, default="mnist_sample",
                        help="which data to train on (default: the bundled MNIST sample)")
    parser.add_argument("--epochs", type=_positive_int, default=5)
    parser.add_argument("--batch-size", type=_positive_int, default=64)
    parser.add_argument("--optimizer", choices=OPTIMIZERS, default="adam")
    parser.add_argument("--backend", choices=("native", "reference"), default=None,
                        help="kernels to use (default: native when built)")
    parser.add_argument("--threads", type=_thread_count, default=None,
                        help="threads for the native kernels, 1 to tinydl.backend.MAX_THREADS "
                             "(default: all cores)")
    parser.add_argument("--output", default="tinydl_output",
                        help="folder for the saved model and the plot (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--verbose", type=int, choices=(0, 1, 2), default=1)
    parser.add_argument("--distributed", action="store_true",
                        help="train data-parallel over MPI (tinydl.distributed; needs mpi4py): "
                             "under mpirun, or started through mpirun itself with --ranks ranks")
    parser.add_argument("--ranks", type=_positive_int, default=2,
                        help="ranks to start with --distributed outside mpirun (default: 2)")
    return parser.parse_args(argv)


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def _thread_count(text: str) -> int:
    from tinydl.backend import MAX_THREADS
    value = _positive_int(text)
    if value > MAX_THREADS:
        raise argparse.ArgumentTypeError(f"must be at most {MAX_THREADS} "
                                         f"(tinydl.backend.MAX_THREADS), got {text}")
    return value


def load(name: str):
    """Images as float32 NHWC in [0, 1] and integer labels (N,), for train and test."""
    module = importlib.import_module(f"tinydl.datasets.{name}")
    (x_train, y_train), (x_test, y_test) = module.load_data()
    scale = 16.0 if name == "digits" else 255.0

    def prepare(x, y):
        x = x.astype(np.float32) / scale
        return (x[..., None] if x.ndim == 3 else x), y.reshape(-1).astype(np.int64)

    return prepare(x_train, y_train), prepare(x_test, y_test)


def build_model(input_shape, classes: int):
    """The reference CNN; 'same' padding where the input is too small for 'valid' blocks."""
    from tinydl.layers import Conv2D, Dense, Flatten, MaxPooling2D
    from tinydl.models import Sequential

    padding = "valid" if min(input_shape[:2]) >= 28 else "same"
    return Sequential([
        Conv2D(32, (3, 3), activation="relu", padding=padding, input_shape=input_shape),
        MaxPooling2D((2, 2)),
        Conv2D(64, (3, 3), activation="relu", padding=padding),
        MaxPooling2D((2, 2)),
        Conv2D(128, (3, 3), activation="relu", padding=padding),
        MaxPooling2D((2, 2)),
        Flatten(),
        Dense(128, activation="relu"),
        Dense(classes, activation="softmax"),
    ])


def plot_history(history: dict, path: str) -> bool:
    """Write loss and accuracy curves to path; False when matplotlib is not installed."""
    from tinydl.utils import plot_history as plot
    try:
        plot(history, path, metrics=["loss", "accuracy"])
    except ImportError:
        return False
    return True


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.distributed:  # tinydl.distributed: the same demo on several ranks
        from tinydl.distributed import demo
        return demo.main(args, sys.argv[1:] if argv is None else list(argv))
    import tinydl
    if args.backend:
        tinydl.set_backend(args.backend)
    if args.threads:
        tinydl.set_num_threads(args.threads)
    tinydl.utils.set_random_seed(args.seed)
    info = tinydl.backend_info()
    print(f"tinydl {tinydl.__version__}: backend={info['backend']}, threads={info['threads']}")
    fallback = tinydl.backend.fallback_warning(consume=True)  # fit then stays quiet
    if fallback is not None:
        print(f"WARNING: {fallback}", file=sys.stderr, flush=True)

    (x_train, y_train), (x_test, y_test) = load(args.dataset)
    classes = int(max(y_train.max(), y_test.max())) + 1
    print(f"dataset {args.dataset}: {len(x_train)} training and {len(x_test)} test images "
          f"of shape {x_train.shape[1:]}, {classes} classes")
    model = build_model(x_train.shape[1:], classes)
    model.compile(optimizer=args.optimizer, loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    model.summary()

    start = time.perf_counter()
    history = model.fit(x_train, y_train, epochs=args.epochs, batch_size=args.batch_size,
                        validation_data=(x_test, y_test), verbose=args.verbose)
    seconds = time.perf_counter() - start
    test_loss, test_acc = model.evaluate(x_test, y_test, verbose=0)
    print(f"test loss {test_loss:.4f}, test accuracy {test_acc:.4f} "
          f"(trained {args.epochs} epochs in {seconds:.1f} s)")

    os.makedirs(args.output, exist_ok=True)
    model_path = os.path.join(args.output, f"{args.dataset}_cnn.tinydl")
    model.save(model_path)
    print(f"saved the model to {model_path}")
    plot_path = os.path.join(args.output, f"{args.dataset}_history.png")
    if plot_history(history.history, plot_path):
        print(f"wrote the training curves to {plot_path}")
    else:
        print("matplotlib is not installed: no plot (pip install matplotlib, or tinydl[plot])")
    return 0


if __name__ == "__main__":
    sys.exit(main())
