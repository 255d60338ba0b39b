"""Keeping the ranks' models the same: one architecture, rank 0's weights and optimizer state.

    check_same_model(model)            every rank's weights have the same names, shapes, dtypes
    broadcast_weights(model, root)     root's weights into every rank's model (in place)
    broadcast_optimizer_state(opt, weights, root)   root's step count and slots (to resume)
    check_in_sync(model)               the trainable weights are bit-identical on all ranks
    average_non_trainable(model)       moving statistics (BatchNormalization) averaged
"""

from __future__ import annotations

import zlib

import numpy as np

from tinydl.distributed import comm


def model_spec(model) -> list:
    """[[name, shape, dtype], ...] for every weight of model, as JSON data.

    Args:
        model: a built model.

    Returns:
        One [name, shape, dtype] per weight, in model.weights order.

    Example:
        >>> model = tinydl.Sequential([tinydl.Input((3,)), tinydl.layers.Dense(2)])
        >>> [(shape, dtype) for _, shape, dtype in model_spec(model)]
        [([3, 2], 'float32'), ([2], 'float32')]
    """
    return [[w.name, list(w.shape), w.data.dtype.name] for w in model.weights]


def describe_difference(spec: list, reference: list) -> str:
    """Where one rank's model_spec first differs from rank 0's, in words.

    Args:
        spec: this rank's model_spec.
        reference: rank 0's.

    Returns:
        A clause for an error message ('it is the same' when they agree).

    Example:
        >>> ours = [["kernel", [3, 2], "float32"], ["bias", [2], "float32"]]
        >>> describe_difference(ours, ours)
        'it is the same'
        >>> describe_difference([["kernel", [4, 2], "float32"], ours[1]], ours)
        "its weight 0 is 'kernel' of shape (4, 2) float32, rank 0's is 'kernel' of shape (3, 2) float32"
        >>> describe_difference(ours[:1], ours)
        "it has 1 weights where rank 0's model has 2"
    """
    if len(spec) != len(reference):
        return f"it has {len(spec)} weights where rank 0's model has {len(reference)}"
    for i, (mine, theirs) in enumerate(zip(spec, reference)):
        if mine != theirs:
            return (f"its weight {i} is '{mine[0]}' of shape {tuple(mine[1])} {mine[2]}, rank 0's "
                    f"is '{theirs[0]}' of shape {tuple(theirs[1])} {theirs[2]}")
    return "it is the same"


def check_same_model(model, where: str, extra: dict | None = None) -> None:
    """Raise ValueError on every rank unless all ranks' models have the same weights.

    Args:
        model: this rank's model.
        where: the caller, for messages.
        extra: more JSON facts that must agree (e.g. {'steps per epoch': 20}); named in the
            error.

    Raises:
        ValueError: the model is not built, or the ranks' weights or facts differ.
        RuntimeError: init() was not called.

    Example:
        >>> check_same_model(tinydl.Sequential([tinydl.layers.Dense(2)]), "fit")
        Traceback (most recent call last):
        ...
        ValueError: fit: the model is not built yet, so there are no weights to compare and share: ...
        >>> check_same_model(model, "fit", extra={"steps per epoch": 20})   # doctest: +SKIP
    """
    if not getattr(model, "built", True):
        raise ValueError(f"{where}: the model is not built yet, so there are no weights to "
                         "compare and share: build it (model.build(input_shape)) first")
    facts = {"weights": model_spec(model), **(extra or {})}
    gathered = comm.allgather_json(facts)
    problems = []
    for r, theirs in enumerate(gathered[1:], start=1):
        if theirs["weights"] != gathered[0]["weights"]:
            problems.append(f"rank {r}'s model differs from rank 0's: "
                            + describe_difference(theirs["weights"], gathered[0]["weights"]))
        for key in extra or {}:
            if theirs[key] != gathered[0][key]:
                problems.append(f"rank {r} has {key} {theirs[key]}, rank 0 has {gathered[0][key]}")
    if problems:
        raise ValueError(f"{where}: the ranks must train the same model the same way, but "
                         + "; ".join(problems[:4]) + ". Build the same architecture on every "
                         "rank (the same script, the same arguments)")


def broadcast_weights(model, root: int = 0) -> None:
    """Copy rank root's weights into the model on every rank (after check_same_model).

    Args:
        model: a built model, the same architecture on every rank.
        root: the rank whose weights are copied.

    Raises:
        ValueError: root is not a rank, or the models differ.
        RuntimeError: init() was not called.

    Example:
        >>> model = tinydl.Sequential([tinydl.Input((3,)), tinydl.layers.Dense(2)])
        >>> broadcast_weights(model)
        Traceback (most recent call last):
        ...
        RuntimeError: tinydl.distributed is not initialized: ...
        >>> broadcast_weights(model, root=0)                   # doctest: +SKIP
    """
    root = comm.check_root(root, "broadcast_weights")
    check_same_model(model, "broadcast_weights")
    for weight in model.weights:
        buffer = weight.data if weight.data.flags.c_contiguous else weight.data.copy(order="C")
        comm.world().Bcast(buffer.reshape(-1), root=root)
        if buffer is not weight.data:
            weight.data[...] = buffer


def broadcast_optimizer_state(optimizer, variables, root: int = 0) -> None:
    """Give every rank root's optimizer state (iterations, learning rate, slots), if it has any.

    A rank whose optimizer has no state yet builds it over variables (the model's trainable
    weights, the order fit uses) first. Nothing happens when root's optimizer is not built.

    Args:
        optimizer: this rank's optimizer.
        variables: the trainable weights it updates.
        root: the sending rank.

    Raises:
        ValueError: root is not a rank, or the optimizers' states differ in layout.
        RuntimeError: init() was not called.

    Example:
        >>> broadcast_optimizer_state(tinydl.optimizers.Adam(), [])
        Traceback (most recent call last):
        ...
        RuntimeError: tinydl.distributed is not initialized: ...
        >>> broadcast_optimizer_state(model.optimizer, model.trainable_weights)   # doctest: +SKIP
    """
    root = comm.check_root(root, "broadcast_optimizer_state")
    header = None
    if comm.rank() == root and optimizer.built:
        header = [[key, list(np.shape(value)), np.asarray(value).dtype.name]
                  for key, value in optimizer.get_state().items()]
    header = comm.broadcast_json(header, root=root)
    if header is None:
        return
    if not optimizer.built:
        optimizer.build(list(variables))
    local = optimizer.get_state()
    mine = [[key, list(np.shape(value)), np.asarray(value).dtype.name] for key, value in local.items()]
    comm.agree(mine == header, f"its optimizer state {mine[:3]}... does not match rank {root}'s "
               f"{header[:3]}... (a different optimizer or model)")
    state = {}
    for key, value in local.items():
        buffer = np.array(value, order="C")  # a copy, 0-d arrays stay 0-d
        comm.world().Bcast(buffer.reshape(-1), root=root)
        state[key] = buffer
    optimizer.set_state(state)


def weights_digest(weights) -> int:
    """A CRC-32 of the weights' bytes, in order (equal digests: bit-identical weights, as a rule).

    Args:
        weights: Variables (or anything with .data arrays).

    Returns:
        The CRC-32, an int.

    Example:
        >>> model = tinydl.Sequential([tinydl.Input((3,)), tinydl.layers.Dense(2)])
        >>> before = weights_digest(model.weights)
        >>> before == weights_digest(model.weights)
        True
        >>> model.weights[1].assign(np.ones(2, np.float32))
        >>> before == weights_digest(model.weights)
        False
    """
    digest = 0
    for w in weights:
        digest = zlib.crc32(np.ascontiguousarray(w.data).view(np.uint8), digest)
    return digest


def check_in_sync(model, when: str) -> None:
    """Raise RuntimeError on every rank if the trainable weights differ between ranks.

    Args:
        model: this rank's model.
        when: when it is checked, for the message ('after epoch 3').

    Raises:
        RuntimeError: the ranks' weight digests differ, or init() was not called.

    Example:
        >>> model = tinydl.Sequential([tinydl.Input((3,)), tinydl.layers.Dense(2)])
        >>> check_in_sync(model, "after epoch 1")
        Traceback (most recent call last):
        ...
        RuntimeError: tinydl.distributed is not initialized: ...
        >>> check_in_sync(model, "after epoch 1")              # doctest: +SKIP
    """
    digests = comm.allgather_json(weights_digest(model.trainable_weights))
    if len(set(digests)) > 1:
        raise RuntimeError(f"the ranks' trainable weights are no longer the same {when} (CRC-32 "
                           f"by rank: {digests}): something updated them on one rank only (an "
                           "optimizer without DistributedOptimizer, a callback that changes the "
                           "weights on some ranks, a non-deterministic kernel)")


def average_non_trainable(model) -> None:
    """Replace each non-trainable weight (moving mean, variance, ...) by its mean over the ranks.

    Args:
        model: this rank's model.

    Raises:
        RuntimeError: init() was not called (and the model has non-trainable weights).

    Example:
        >>> average_non_trainable(tinydl.Sequential([tinydl.Input((3,)), tinydl.layers.Dense(2)]))
        >>> model = tinydl.Sequential([tinydl.Input((3,)), tinydl.layers.BatchNormalization()])
        >>> average_non_trainable(model)
        Traceback (most recent call last):
        ...
        RuntimeError: tinydl.distributed is not initialized: ...
    """
    for weight in getattr(model, "non_trainable_weights", []):
        buffer = np.ascontiguousarray(weight.data, dtype=np.float32).reshape(-1).copy()
        comm.world().Allreduce(comm.mpi().IN_PLACE, buffer, op=comm.mpi().SUM)
        weight.data[...] = (buffer / np.float32(comm.size())).reshape(weight.shape)
