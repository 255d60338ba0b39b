"""Where fit, evaluate and predict get their batches: in-memory arrays here, other kinds in sources.py.

A source (Keras calls it a data adapter) gives one pass over its data at a time, as batches
(x, y, sample_weight) of NumPy arrays (y and sample_weight may be None), with x converted to
float32 only batch by batch (so a uint8 image set is not copied to float32 as a whole):

    ArraySource      x, y, sample_weight arrays (or lists): batches of batch_size, reshuffled
                     for each pass when shuffle
    sources.py       Python generators, PyDataset-like objects, any re-iterable of batches
                     (tf.data Datasets, torch DataLoaders, lists of batches)

make_source picks the source; epochs.EpochIterator turns passes into Keras' epochs
(steps_per_epoch). class_weight becomes per-sample weights here, as Keras computes them.
"""

from __future__ import annotations

import math

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


class ArraySource:
    """Batches of in-memory arrays. y and sample_weight may be None (predict, unweighted).

    Args:
        x: an array, or a structure of arrays of one length.
        y: the targets in the same way, or None.
        batch_size: samples per batch (the last batch may be smaller).
        shuffle: draw a new order each epoch (from tinydl's random generator).
        steps: the most batches per epoch, or None for all.
        sample_weight: per-sample weights (or one array per output), or None.

    Attributes:
        num_batches: ceil(N / batch_size). steps: the steps_per_epoch fit was given (or None;
            the epochs are cut by epochs.EpochIterator, tinydl.distributed reads it).

    Example:
        >>> source = ArraySource(np.arange(5)[:, None], np.arange(5), batch_size=2)
        >>> source.num_batches, [(xb.ravel().tolist(), yb.tolist()) for xb, yb, _ in source.epoch()]
        (3, [([0.0, 1.0], [0, 1]), ([2.0, 3.0], [2, 3]), ([4.0], [4])])
        >>> tinydl.utils.set_random_seed(0)
        >>> shuffled = ArraySource(np.arange(5)[:, None], None, batch_size=5, shuffle=True)
        >>> sorted(next(shuffled.epoch())[0].ravel().tolist())       # every sample, once
        [0.0, 1.0, 2.0, 3.0, 4.0]
    """

    def __init__(self, x, y, batch_size: int, shuffle: bool = False, steps: int | None = None,
                 sample_weight=None):
        self.x, self.y, self.sample_weight = x, y, sample_weight
        self.batch_size, self.shuffle, self.steps = batch_size, shuffle, steps
        self.size = num_samples(x)

    @property
    def num_batches(self) -> int:
        return math.ceil(self.size / self.batch_size)

    def first(self):
        """The arrays themselves: all of the data is checked before training starts."""
        return self.x, self.y, self.sample_weight

    def on_epoch_begin(self) -> None:
        pass

    def on_epoch_end(self) -> None:
        pass

    def epoch(self):
        """One pass: (x, y, sample_weight) batches, in a new random order when shuffle."""
        order = get_rng().permutation(self.size) if self.shuffle else None
        for i in range(self.num_batches):
            part = slice(i * self.batch_size, (i + 1) * self.batch_size)
            yield self.batch(part if order is None else order[part])

    def batch(self, index):
        """The batch at index (a slice or an index array) as (x, y, sample_weight)."""
        return (to_float32(take(self.x, index)),
                None if self.y is None else take(self.y, index),
                None if self.sample_weight is None else take(self.sample_weight, index))


def class_weight_to_sample_weight(y, class_weight: dict, where: str) -> np.ndarray:
    """Per-sample weights (N,) float32 from {class index: weight}, as Keras maps them: the
    class of a row of y is its argmax when y is one-hot (N, C>1), else round(y); classes
    missing from class_weight weigh 1.0.

    Args:
        y: the targets of one output: class indices (N,) or (N, 1), or one-hot (N, C).
        class_weight: {class index: weight}.
        where: the caller, for messages ('fit').

    Returns:
        The weights, float32 of shape (N,).

    Raises:
        TypeError: class_weight is not a dict.
        ValueError: y is for several outputs (Keras supports class_weight for one output).

    Example:
        >>> class_weight_to_sample_weight(np.array([0, 2, 1]), {2: 5.0}, "fit")
        array([1., 5., 1.], dtype=float32)
        >>> class_weight_to_sample_weight(np.eye(3)[[1, 1, 0]], {0: 0.5, 1: 2.0}, "fit")
        array([2. , 2. , 0.5], dtype=float32)
    """
    if not isinstance(class_weight, dict):
        raise TypeError(f"{where}: class_weight must be a dict {{class index: weight}}. "
                        f"Received: class_weight={class_weight!r}")
    if is_structure(y):
        raise ValueError(f"{where}: `class_weight` is only supported for Models with a single "
                         "output. Received targets for several outputs")
    y = np.asarray(y)
    if y.ndim > 1:
        y = np.argmax(y, axis=-1) if y.shape[-1] != 1 else np.squeeze(y, axis=-1)
    classes = np.round(y).astype(np.int64).reshape(len(y), -1)[:, 0]
    return np.array([class_weight.get(int(c), 1.0) for c in classes], dtype=np.float32)


def weights_for_outputs(sample_weight, y, where: str):
    """sample_weight checked against y: one (N,) array for every output of a model with
    several, or one array per output (the same structure as y), as Keras accepts them.

    Args:
        sample_weight: None, one array, or a structure of arrays like y.
        y: the targets (an array, or a structure of them for several outputs).
        where: the caller, for messages ('fit').

    Returns:
        None, a float32 array (one output), or a structure like y of float32 arrays.

    Raises:
        ValueError: a structure that does not match y's, or one array for several outputs
            that is not one weight per sample.

    Example:
        >>> weights_for_outputs([1, 2], np.zeros(2), "fit")
        array([1., 2.], dtype=float32)
        >>> weights_for_outputs(np.ones(2), {"a": np.zeros(2), "b": np.zeros(2)}, "fit")
        {'a': array([1., 1.], dtype=float32), 'b': array([1., 1.], dtype=float32)}
    """
    if sample_weight is None:
        return None
    if not is_structure(y):
        return as_array(sample_weight, "sample_weight").astype(np.float32, copy=False)
    if is_structure(sample_weight):
        if type(sample_weight) is not type(y) or len(sample_weight) != len(y) or (
                isinstance(y, dict) and set(y) != set(sample_weight)):
            raise ValueError(f"{where}: You should provide one `sample_weight` array per output "
                             f"in `y`; the two structures did not match. Received: "
                             f"sample_weight of {len(sample_weight)} items for y of {len(y)}")
        return tree.map_structure(lambda w: as_array(w, "sample_weight").astype(np.float32),
                                  sample_weight)
    weight = as_array(sample_weight, "sample_weight").astype(np.float32, copy=False)
    if not (weight.ndim == 1 or weight.ndim == 2 and weight.shape[1] == 1):
        raise ValueError(f"{where}: for a model with several outputs, a single sample_weight "
                         "array must hold one weight per sample, shape (N,); for other "
                         "shapes give one array per output. Received: sample_weight of shape "
                         f"{weight.shape}")
    return tree.map_structure(lambda _: weight, y)


def _check_lengths(where: str, **arrays) -> None:
    given = {name: a for name, a in arrays.items() if a is not None}
    counts = {name: num_samples(a) for name, a in given.items()}
    if len(set(counts.values())) > 1:
        found = ", ".join(f"{name} with {n} (shape {_shapes(given[name])})"
                          for name, n in counts.items())
        raise ValueError(f"{where}: x, y and sample_weight must have the same number of "
                         f"samples, got {found}")


def make_source(x, y, batch_size: int, shuffle: bool, steps, need_y: bool, where: str,
                sample_weight=None, class_weight=None):
    """The right source for x (and y, sample_weight), after checking the arguments that go with it.

    Args:
        x: arrays (or a structure of them), a generator, a PyDataset-like object, or another
            data source tinydl.models.sources accepts.
        y: the targets when x is arrays; None otherwise.
        batch_size: samples per batch (arrays only).
        shuffle: shuffle each epoch (arrays, and PyDataset's order when asked).
        steps: the most batches per epoch, or None.
        need_y: whether targets are required (fit, evaluate) or not (predict).
        where: the caller, for messages ('fit', ...).
        sample_weight: per-sample weights when x is arrays; None otherwise.
        class_weight: {class index: weight}, or None.

    Returns:
        An ArraySource, or a source of tinydl.models.sources; batches are
        (x, y, sample_weight).

    Raises:
        ValueError: x is None or empty, y or sample_weight given with a data source, y
            missing, or x, y and sample_weight of different lengths.

    Example:
        >>> type(make_source(np.zeros((4, 2)), np.zeros(4), 2, False, None, True, "fit")).__name__
        'ArraySource'
        >>> make_source(np.zeros((4, 2)), np.zeros(3), 2, False, None, True, "fit")
        Traceback (most recent call last):
        ...
        ValueError: fit: x, y and sample_weight must have the same number of samples, got x with 4 ...
    """
    if x is None:
        raise ValueError(f"{where}: x is required. Received: x=None")
    from tinydl.models import sources
    if sources.is_data_source(x):
        for name, value in (("y", y), ("sample_weight", sample_weight)):
            if value is not None:
                raise ValueError(f"{where}: when x is a {sources.kind(x)}, `{name}` should not "
                                 f"be passed; the batches of x must hold it. Received: {name} "
                                 f"of type {type(value).__name__}")
        return sources.make(x, steps, need_y, where, shuffle, class_weight)
    x = as_arrays(x, "x")
    if y is None:
        if need_y:
            raise ValueError(f"{where}: y is required when x is an array. Received: y=None")
        if sample_weight is not None or class_weight is not None:
            raise ValueError(f"{where}: sample_weight and class_weight need targets y")
    else:
        y = as_arrays(y, "y")
    if sample_weight is not None and class_weight is not None:
        raise ValueError(f"{where}: You cannot `class_weight` and `sample_weight` at the same "
                         "time: give one of them")
    if class_weight is not None:
        sample_weight = class_weight_to_sample_weight(y, class_weight, where)
    sample_weight = weights_for_outputs(sample_weight, y, where)
    _check_lengths(where, x=x, y=y, sample_weight=sample_weight)
    if num_samples(x) == 0:
        raise ValueError(f"{where}: x is empty (shape {_shapes(x)})")
    return ArraySource(x, y, batch_size, shuffle, steps, sample_weight)


def _shapes(x):
    return tree.map_structure(lambda v: v.shape, x) if is_structure(x) else x.shape


def split_validation(x, y, sample_weight, validation_split: float):
    """(x_train, y_train, w_train), (x_val, y_val, w_val): the LAST fraction of the arrays,
    taken before shuffling (Keras).

    Args:
        x: arrays, or a structure of them.
        y: the targets, or None.
        sample_weight: the sample weights, or None.
        validation_split: the fraction in [0, 1) kept for validation.

    Returns:
        ((x_train, y_train, w_train), (x_val, y_val, w_val)).

    Raises:
        ValueError: a fraction outside [0, 1), x a generator or dataset, or a split that
            leaves one side empty.

    Example:
        >>> train, val = split_validation(np.arange(10), np.arange(10) * 2, None, 0.2)
        >>> train[0].tolist(), val[0].tolist(), val[1].tolist(), val[2]
        ([0, 1, 2, 3, 4, 5, 6, 7], [8, 9], [16, 18], None)
    """
    if not isinstance(validation_split, (int, float)) or not 0.0 <= validation_split < 1.0:
        raise ValueError(f"validation_split must be a float in [0, 1). "
                         f"Received: validation_split={validation_split!r}")
    from tinydl.models import sources
    if sources.is_data_source(x):
        raise ValueError("validation_split is only supported when x and y are arrays, got a "
                         f"{type(x).__name__}; pass validation_data= instead")
    x = as_arrays(x, "x")
    y = None if y is None else as_arrays(y, "y")
    w = None if sample_weight is None else weights_for_outputs(sample_weight, y, "fit")
    size = num_samples(x)
    split_at = int(math.floor(size * (1.0 - validation_split)))
    if split_at == 0 or split_at == size:
        raise ValueError(f"validation_split={validation_split} of {size} samples leaves "
                         f"{split_at} for training and {size - split_at} for validation; "
                         "both must be non-empty")
    head, tail = slice(None, split_at), slice(split_at, None)
    def part(a, index):
        return None if a is None else take(a, index)
    return (part(x, head), part(y, head), part(w, head)), (part(x, tail), part(y, tail),
                                                          part(w, tail))
