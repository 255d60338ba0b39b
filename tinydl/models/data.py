"""Where fit, evaluate and predict get their batches: arrays, generators, or PyDataset-like objects.

Every source yields (x, y) batches for one epoch at a time, with x converted to float32 only
batch by batch (so a uint8 image set is not copied to float32 as a whole):

    ArraySource      x, y NumPy arrays (or lists): batches of batch_size, reshuffled each epoch
    IteratorSource   a Python generator / iterator of (x, y) batches, steps_per_epoch per epoch
    SequenceSource   an object with __len__ and __getitem__(i) -> (x, y), and optionally
                     on_epoch_end() (Keras' PyDataset / Sequence): for data that doesn't fit in memory
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from tinydl import tree
from tinydl.rng import get_rng
from tinydl.tensor import Tensor


def _ragged(data) -> str:
    """Where the nested lists in data stop having one shape, e.g. 'item 0 has shape (3,),
    item 2 has shape (2,)'."""
    first = None
    for i, item in enumerate(data):
        try:
            item_shape = np.shape(item)
        except ValueError:
            return f"item {i} is itself ragged"
        if first is None:
            first = item_shape
        elif item_shape != first:
            return f"item 0 has shape {first}, item {i} has shape {item_shape}"
    return "its items do not nest evenly"


def as_array(data, name: str) -> np.ndarray:
    """data as a NumPy array of numbers, or an error naming the argument.

    Args:
        data: an array, a Tensor, or a (nested) list of numbers.
        name: the argument's name, for the message ('x', 'y', ...).

    Returns:
        A NumPy array with a batch axis (ndim >= 1).

    Raises:
        ValueError: a ragged list (items of different lengths), which cannot be one array,
            or a scalar.
        TypeError: anything but numbers (strings, objects).

    Example:
        >>> as_array([[1, 2], [3, 4]], "x").shape
        (2, 2)
        >>> as_array([[1, 2], [3]], "x")
        Traceback (most recent call last):
        ...
        ValueError: x is a ragged list (item 0 has shape (2,), item 1 has shape (1,)), but it must be ...
        >>> as_array(["a", "b"], "y")
        Traceback (most recent call last):
        ...
        TypeError: y must hold numbers (uint8, int or float), got dtype <U1
    """
    try:
        array = np.asarray(data.data if isinstance(data, Tensor) else data)
    except ValueError as error:
        if not isinstance(data, (list, tuple)) or "inhomogeneous" not in str(error):
            raise
        raise ValueError(f"{name} is a ragged {type(data).__name__} ({_ragged(data)}), but it must "
                         "be an array, or a list whose items all have one shape: pad or cut "
                         f"them to one length first. Received: {name} = a {type(data).__name__} "
                         f"of {len(data)} items") from None
    if array.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold numbers (uint8, int or float), got dtype {array.dtype}")
    if array.ndim == 0:
        raise ValueError(f"{name} must have a batch axis first, got a scalar")
    return array


def to_float32(x):
    """x as float32 (each array of a structure of arrays).

    Args:
        x: an array, or a list / tuple / dict of arrays.

    Returns:
        The same structure of float32 arrays (an array already float32 is returned as is).

    Example:
        >>> out = to_float32({"image": np.zeros((2, 3), np.uint8), "meta": np.ones(2)})
        >>> {k: v.dtype for k, v in out.items()}
        {'image': dtype('float32'), 'meta': dtype('float32')}
    """
    if is_structure(x):
        return tree.map_structure(to_float32, x)
    return x if x.dtype == np.float32 else x.astype(np.float32)


def is_structure(x) -> bool:
    """True for the data of a model with several inputs or outputs.

    That is a dict, or a list / tuple of arrays (a list of numbers is one array).

    Args:
        x: the data given to fit, evaluate or predict.

    Returns:
        Whether x holds several arrays.

    Example:
        >>> is_structure([np.zeros(2), np.ones(2)]), is_structure({"a": np.zeros(2)})
        (True, True)
        >>> is_structure([[1, 2], [3, 4]]), is_structure(np.zeros((2, 2)))
        (False, False)
    """
    if isinstance(x, dict):
        return True
    return isinstance(x, (list, tuple)) and len(x) > 0 and all(
        isinstance(v, (np.ndarray, Tensor, dict, list, tuple)) and not np.isscalar(v)
        and (not isinstance(v, (list, tuple)) or is_structure(v)) for v in x)


def as_arrays(x, name: str):
    """as_array for one array, or for each array of a structure (all of one length).

    Args:
        x: an array-like, or a structure of them.
        name: the argument's name, for the message.

    Returns:
        An array, or the same structure of arrays.

    Raises:
        ValueError: the arrays of a structure differ in length (or as as_array).
        TypeError: as as_array.

    Example:
        >>> [a.shape for a in as_arrays([np.zeros((4, 2)), np.arange(4)], "x")]
        [(4, 2), (4,)]
        >>> as_arrays([np.zeros((4, 2)), np.zeros(3)], "x")
        Traceback (most recent call last):
        ...
        ValueError: x: all arrays must have the same number of samples, got [(4, 2), (3,)]
    """
    if not is_structure(x):
        return as_array(x, name)
    x = tree.map_structure(lambda v: as_array(v, name), x)
    lengths = {len(v) for v in tree.flatten(x)}
    if len(lengths) > 1:
        raise ValueError(f"{name}: all arrays must have the same number of samples, got "
                         f"{[v.shape for v in tree.flatten(x)]}")
    return x


def num_samples(x) -> int:
    """The number of samples: the length of x, or of the first array of a structure.

    Args:
        x: an array, or a structure of arrays of one length.

    Returns:
        The size of the batch axis.

    Example:
        >>> num_samples(np.zeros((5, 2))), num_samples({"a": np.zeros((3, 1)), "b": np.zeros(3)})
        (5, 3)
    """
    return len(tree.flatten(x)[0]) if is_structure(x) else len(x)


def take(x, index):
    """x[index], or the same for every array of a structure.

    Args:
        x: an array, or a structure of arrays.
        index: a slice or an index array along the batch axis.

    Returns:
        The selected samples, in the structure of x.

    Example:
        >>> take({"a": np.arange(4), "b": np.arange(4) * 10}, [3, 0])
        {'a': array([3, 0]), 'b': array([30,  0])}
    """
    if is_structure(x):
        return tree.map_structure(lambda v: v[index], x)
    return x[index]


def check_batch_size(batch_size, name: str = "batch_size") -> int:
    """None -> 32 (Keras' default); otherwise a positive int.

    Args:
        batch_size: None or an int >= 1.
        name: the argument's name, for the message.

    Returns:
        The batch size as an int.

    Raises:
        ValueError: anything else (a bool, a float, 0, ...).

    Example:
        >>> check_batch_size(None), check_batch_size(np.int64(8))
        (32, 8)
        >>> check_batch_size(0)
        Traceback (most recent call last):
        ...
        ValueError: batch_size must be a positive int or None. Received: batch_size=0
    """
    if batch_size is None:
        return 32
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"{name} must be a positive int or None. Received: {name}={batch_size!r}")
    return int(batch_size)


def _is_sequence(x) -> bool:
    return (hasattr(x, "__getitem__") and hasattr(x, "__len__")
            and not isinstance(x, (np.ndarray, list, tuple, dict, Tensor)))


def _is_iterator(x) -> bool:
    return hasattr(x, "__next__") or (hasattr(x, "__iter__") and not isinstance(
        x, (np.ndarray, list, tuple, dict, Tensor)) and not _is_sequence(x))


def _split_batch(batch, where: str, need_y: bool):
    """A batch from a generator or a PyDataset as (x, y); y may be None when not needed."""
    if isinstance(batch, (tuple, list)) and len(batch) in (1, 2, 3):
        if len(batch) == 3:
            raise ValueError(f"{where} yielded (x, y, sample_weight); sample weights are not "
                             "supported: yield (x, y)")
        x, y = batch[0], batch[1] if len(batch) == 2 else None
    else:
        x, y = batch, None
    if need_y and y is None:
        raise ValueError(f"{where} must yield (x, y) batches, got {type(batch).__name__}")
    return x, y


class ArraySource:
    """Batches of in-memory arrays. y may be None (predict).

    Args:
        x: an array, or a structure of arrays of one length.
        y: the targets in the same way, or None.
        batch_size: samples per batch (the last batch may be smaller).
        shuffle: draw a new order each epoch (from tinydl's random generator).
        steps: the most batches per epoch, or None for all.

    Example:
        >>> source = ArraySource(np.arange(5)[:, None], np.arange(5), batch_size=2)
        >>> source.num_batches, [(xb.ravel().tolist(), yb.tolist()) for xb, yb in source.epoch()]
        (3, [([0.0, 1.0], [0, 1]), ([2.0, 3.0], [2, 3]), ([4.0], [4])])
        >>> tinydl.utils.set_random_seed(0)
        >>> shuffled = ArraySource(np.arange(5)[:, None], None, batch_size=5, shuffle=True)
        >>> sorted(next(shuffled.epoch())[0].ravel().tolist())       # every sample, once
        [0.0, 1.0, 2.0, 3.0, 4.0]
    """

    def __init__(self, x, y, batch_size: int, shuffle: bool = False, steps: int | None = None):
        self.x, self.y = x, y
        self.batch_size, self.shuffle, self.steps = batch_size, shuffle, steps
        self.size = num_samples(x)

    @property
    def num_batches(self) -> int:
        n = math.ceil(self.size / self.batch_size)
        return n if self.steps is None else min(n, self.steps)

    def first(self):
        """The arrays themselves: all of the data is checked before training starts."""
        return self.x, self.y

    def epoch(self):
        order = get_rng().permutation(self.size) if self.shuffle else None
        for i in range(self.num_batches):
            part = slice(i * self.batch_size, (i + 1) * self.batch_size)
            index = part if order is None else order[part]
            xb = to_float32(take(self.x, index))
            yb = None if self.y is None else take(self.y, index)
            yield xb, yb


class IteratorSource:
    """Batches pulled from one Python iterator, `steps` per epoch (all of it when None).

    first() peeks at the first batch (to build the model) and keeps it for the first epoch.

    Args:
        iterator: an iterable of (x, y) batches (or x alone when y is not needed).
        steps: batches per epoch, or None for until the iterator ends.
        need_y: whether batches must hold targets.
        where: the caller, for messages ('fit: the generator').

    Raises:
        ValueError: (from first / epoch) the iterator yields nothing, or batches without y
            when need_y, or (x, y, sample_weight).

    Example:
        >>> batches = ((np.full((2, 1), i), np.full(2, i)) for i in range(3))
        >>> source = IteratorSource(batches, steps=None, need_y=True, where="fit: the generator")
        >>> source.first()[1]
        array([0, 0])
        >>> [int(yb[0]) for _, yb in source.epoch()]
        [0, 1, 2]
    """

    checks_each_batch = True

    def __init__(self, iterator, steps: int | None, need_y: bool, where: str):
        self.iterator, self.steps, self.need_y, self.where = iter(iterator), steps, need_y, where
        self._stash = []
        self.exhausted = False

    @property
    def num_batches(self):
        return self.steps

    def _next(self):
        if self._stash:
            return self._stash.pop()
        return next(self.iterator)

    def first(self):
        """The first batch (kept, and yielded again by the next epoch)."""
        try:
            batch = self._next()
        except StopIteration:
            raise ValueError(f"{self.where} yielded no batches") from None
        self._stash.append(batch)
        return _split_batch(batch, self.where, self.need_y)

    def epoch(self):
        step = 0
        while self.steps is None or step < self.steps:
            try:
                batch = self._next()
            except StopIteration:
                self.exhausted = self.steps is not None or step == 0
                if self.exhausted:
                    warnings.warn(f"{self.where} ran out of data after {step} batches of this "
                                  "epoch; give a generator that loops forever, or steps_per_epoch "
                                  "no larger than what it yields for all epochs", stacklevel=4)
                return
            x, y = _split_batch(batch, self.where, self.need_y)
            yield to_float32(as_arrays(x, "x")), None if y is None else as_arrays(y, "y")
            step += 1


class SequenceSource:
    """Batches ds[0], ds[1], ... of a PyDataset-like object; calls on_epoch_end() after each epoch.

    Args:
        dataset: an object with __len__ and __getitem__ giving (x, y) batches.
        steps: the most batches per epoch, or None for len(dataset).
        need_y: whether batches must hold targets.
        where: the caller, for messages.

    Raises:
        ValueError: the dataset has no batches.

    Example:
        >>> class Squares:
        ...     def __len__(self):
        ...         return 3
        ...     def __getitem__(self, i):
        ...         return np.full((2, 1), i), np.full(2, i * i)
        ...     def on_epoch_end(self):
        ...         print("epoch ended")
        >>> source = SequenceSource(Squares(), steps=None, need_y=True, where="fit: the dataset")
        >>> [yb.tolist() for _, yb in source.epoch()]
        epoch ended
        [[0, 0], [1, 1], [4, 4]]
    """

    checks_each_batch = True

    def __init__(self, dataset, steps: int | None, need_y: bool, where: str):
        self.dataset, self.need_y, self.where = dataset, need_y, where
        self.steps = len(dataset) if steps is None else min(int(steps), len(dataset))
        self.exhausted = False
        if self.steps == 0:
            raise ValueError(f"{where} has no batches (len() is 0)")

    @property
    def num_batches(self) -> int:
        return self.steps

    def first(self):
        return _split_batch(self.dataset[0], self.where, self.need_y)

    def epoch(self):
        for i in range(self.steps):
            x, y = _split_batch(self.dataset[i], self.where, self.need_y)
            yield to_float32(as_arrays(x, "x")), None if y is None else as_arrays(y, "y")
        if hasattr(self.dataset, "on_epoch_end"):
            self.dataset.on_epoch_end()


def make_source(x, y, batch_size: int, shuffle: bool, steps, need_y: bool, where: str):
    """The right source for x (and y), after checking the arguments that go with it.

    Args:
        x: arrays (or a structure of them), a generator, or a PyDataset-like object.
        y: the targets when x is arrays; None otherwise.
        batch_size: samples per batch (arrays only).
        shuffle: shuffle each epoch (arrays only).
        steps: the most batches per epoch, or None.
        need_y: whether targets are required (fit, evaluate) or not (predict).
        where: the caller, for messages ('fit', ...).

    Returns:
        An ArraySource, IteratorSource or SequenceSource.

    Raises:
        ValueError: x is None or empty, y given with a generator, y missing, or x and y of
            different lengths.

    Example:
        >>> type(make_source(np.zeros((4, 2)), np.zeros(4), 2, False, None, True, "fit")).__name__
        'ArraySource'
        >>> type(make_source(iter([]), None, 2, False, None, True, "fit")).__name__
        'IteratorSource'
        >>> make_source(np.zeros((4, 2)), np.zeros(3), 2, False, None, True, "fit")
        Traceback (most recent call last):
        ...
        ValueError: fit: x and y must have the same number of samples, got x with 4 (shape (4, 2)) and y with 3 ...
    """
    if x is None:
        raise ValueError(f"{where}: x is required. Received: x=None")
    if _is_sequence(x) or _is_iterator(x):
        if y is not None:
            raise ValueError(f"{where}: when x is a generator or a dataset object it must give "
                             f"the targets too, so y must be None. Received y of type {type(y).__name__}")
        if _is_sequence(x):
            return SequenceSource(x, steps, need_y, f"{where}: the dataset")
        return IteratorSource(x, steps, need_y, f"{where}: the generator")
    x = as_arrays(x, "x")
    if y is None:
        if need_y:
            raise ValueError(f"{where}: y is required when x is an array. Received: y=None")
    else:
        y = as_arrays(y, "y")
        if num_samples(y) != num_samples(x):
            raise ValueError(f"{where}: x and y must have the same number of samples, got x with "
                             f"{num_samples(x)} (shape {_shapes(x)}) and y with {num_samples(y)} "
                             f"(shape {_shapes(y)})")
    if num_samples(x) == 0:
        raise ValueError(f"{where}: x is empty (shape {_shapes(x)})")
    return ArraySource(x, y, batch_size, shuffle, steps)


def _shapes(x):
    return tree.map_structure(lambda v: v.shape, x) if is_structure(x) else x.shape


def split_validation(x, y, validation_split: float):
    """(x_train, y_train), (x_val, y_val): the LAST fraction of the arrays, before shuffling (Keras).

    Args:
        x: arrays, or a structure of them.
        y: the targets, or None.
        validation_split: the fraction in [0, 1) kept for validation.

    Returns:
        ((x_train, y_train), (x_val, y_val)).

    Raises:
        ValueError: a fraction outside [0, 1), x a generator or dataset, or a split that
            leaves one side empty.

    Example:
        >>> (x_train, y_train), (x_val, y_val) = split_validation(np.arange(10), np.arange(10) * 2, 0.2)
        >>> x_train.tolist(), x_val.tolist(), y_val.tolist()
        ([0, 1, 2, 3, 4, 5, 6, 7], [8, 9], [16, 18])
    """
    if not isinstance(validation_split, (int, float)) or not 0.0 <= validation_split < 1.0:
        raise ValueError(f"validation_split must be a float in [0, 1). "
                         f"Received: validation_split={validation_split!r}")
    if _is_sequence(x) or _is_iterator(x):
        raise ValueError("validation_split is only supported when x and y are arrays, got a "
                         f"{type(x).__name__}; pass validation_data= instead")
    x = as_arrays(x, "x")
    y = None if y is None else as_arrays(y, "y")
    size = num_samples(x)
    split_at = int(math.floor(size * (1.0 - validation_split)))
    if split_at == 0 or split_at == size:
        raise ValueError(f"validation_split={validation_split} of {size} samples leaves "
                         f"{split_at} for training and {size - split_at} for validation; "
                         "both must be non-empty")
    head, tail = slice(None, split_at), slice(split_at, None)
    return (take(x, head), None if y is None else take(y, head)), (
        take(x, tail), None if y is None else take(y, tail))
