"""fit's data sources other than arrays: generators, PyDataset-like objects and re-iterables of batches.

Each source gives one pass over its data at a time (epoch()), as batches (x, y, sample_weight)
of NumPy arrays, like data.ArraySource; epochs.EpochIterator cuts the passes into epochs:

    GeneratorSource  a Python generator or iterator of batches: one pass, and, as in Keras,
                     its first 2 batches (kept to check the data) replayed by every later pass
    PyDatasetSource  __getitem__(i) -> batch and __len__ (or num_batches; None = endless), with
                     optional on_epoch_begin() / on_epoch_end(): tinydl.utils.PyDataset,
                     keras.utils.PyDataset or Sequence
    IterableSource   anything else iter() can restart: a tf.data Dataset, a torch DataLoader, an
                     object whose __iter__ yields batches; num_batches from len() (or a
                     Dataset's cardinality) when known

A batch is x, (x,), (x, y) or (x, y, sample_weight) (a list counts as a tuple, as in Keras;
a dict is x); tensors of other libraries are converted to NumPy batch by batch, so TensorFlow
and PyTorch are never needed to import tinydl.
"""

from __future__ import annotations

import itertools
import warnings

import numpy as np

from tinydl import tree
from tinydl.models import data
from tinydl.rng import get_rng
from tinydl.tensor import Tensor

PEEKED_BATCHES = 2  # Keras' NUM_BATCHES_FOR_TENSOR_SPEC


def _is_library(x, names: tuple, module: str) -> bool:
    return any(c.__name__ in names and module in c.__module__ for c in type(x).__mro__)


def is_tf_dataset(x) -> bool:
    """Whether x is a tf.data Dataset (found by its class, so TensorFlow is never imported).

    Example:
        >>> is_tf_dataset(np.zeros(3)), is_tf_dataset(iter([]))
        (False, False)
    """
    return _is_library(x, ("DatasetV2", "DistributedDataset"), "tensorflow.python.")


def is_torch_dataloader(x) -> bool:
    """Whether x is a torch DataLoader (found by its class, so PyTorch is never imported).

    Example:
        >>> is_torch_dataloader([1, 2])
        False
    """
    return _is_library(x, ("DataLoader",), "torch.utils.data")


def _is_array_like(x) -> bool:
    return isinstance(x, (np.ndarray, list, tuple, dict, Tensor, str, bytes)) or (
        hasattr(x, "shape") and hasattr(x, "dtype")) or hasattr(x, "to_numpy")


def is_data_source(x) -> bool:
    """True when x gives batches (a generator, a dataset object, a re-iterable), not arrays.

    Example:
        >>> is_data_source(np.zeros((2, 3))), is_data_source([[1.0], [2.0]]), is_data_source(iter([]))
        (False, False, True)
    """
    if _is_array_like(x):
        return False
    return hasattr(x, "__iter__") or hasattr(x, "__next__") or hasattr(x, "__getitem__")


def kind(x) -> str:
    """What a data source is called in messages (Keras' words).

    Example:
        >>> class Batches:
        ...     def __len__(self):
        ...         return 1
        ...     def __getitem__(self, i):
        ...         return np.zeros((1, 1))
        >>> kind(iter([])), kind(Batches()), kind(range(3))
        ('generator', 'PyDataset', 'PyDataset')
    """
    if is_tf_dataset(x):
        return "tf.data.Dataset"
    if is_torch_dataloader(x):
        return "torch DataLoader"
    if hasattr(x, "__next__"):
        return "generator"
    if hasattr(x, "__getitem__") and not hasattr(x, "__iter__") or _is_py_dataset(x):
        return "PyDataset"
    return "iterable of batches"


def _is_py_dataset(x) -> bool:
    return hasattr(x, "__getitem__") and (hasattr(x, "__len__") or hasattr(x, "num_batches")) \
        and not is_tf_dataset(x) and not is_torch_dataloader(x)


def to_numpy(value):
    """A batch's tensors (NumPy, tinydl, TensorFlow, PyTorch, ...) as NumPy arrays.

    Example:
        >>> to_numpy((tinydl.Tensor(np.ones(2)), [np.arange(2)], None))
        (array([1., 1.]), [array([0, 1])], None)
    """
    if value is None or isinstance(value, np.ndarray):
        return value
    if isinstance(value, Tensor):
        return value.data
    if isinstance(value, (dict, list, tuple)):
        return tree.map_structure(to_numpy, value)
    if type(value).__module__.startswith("torch"):
        value = value.detach().cpu()
    return np.asarray(value.numpy() if hasattr(value, "numpy") else value)


def standardize(batch, where: str, need_y: bool, class_weight=None):
    """A batch as (x, y, sample_weight) of NumPy arrays (x float32); class_weight applied.

    Raises:
        ValueError: a tuple of more than 3 items; no targets when need_y; class_weight and
            sample_weight together.

    Example:
        >>> batch = (np.array([[1, 2]]), np.array([1]))
        >>> x, y, w = standardize(batch, "fit: the generator", need_y=True, class_weight={1: 3.0})
        >>> x.dtype, y, w
        (dtype('float32'), array([1]), array([3.], dtype=float32))
        >>> standardize(np.zeros((1, 2)), "fit: the generator", need_y=True)
        Traceback (most recent call last):
        ...
        ValueError: fit: the generator must yield (x, y) or (x, y, sample_weight) batches. ...
    """
    if isinstance(batch, list):
        batch = tuple(batch)
    if not isinstance(batch, tuple):
        batch = (batch,)
    if not 1 <= len(batch) <= 3:
        raise ValueError(f"{where}: a batch must be x, (x,), (x, y) or (x, y, sample_weight). "
                         f"Received a tuple of {len(batch)} items")
    x, y, w = (to_numpy(v) for v in batch + (None,) * (3 - len(batch)))
    if need_y and y is None:
        raise ValueError(f"{where} must yield (x, y) or (x, y, sample_weight) batches. "
                         f"Received a batch of type {type(batch[0]).__name__} with no targets")
    x = data.to_float32(data.as_arrays(x, "x"))
    y = None if y is None else data.as_arrays(y, "y")
    if class_weight is not None:
        if w is not None:
            raise ValueError(f"{where}: You cannot `class_weight` and `sample_weight` at the "
                             "same time: the batches hold sample weights")
        w = data.class_weight_to_sample_weight(y, class_weight, where)
    return x, y, data.weights_for_outputs(w, y, where)


def _warn_shuffle(what: str) -> None:
    warnings.warn(f"`shuffle=True` was passed, but will be ignored since the data `x` was "
                  f"provided as a {what}. It is expected to yield already-shuffled data.",
                  stacklevel=5)


class _Source:
    """What the sources share: batches are checked one by one; no epoch hooks by default."""

    checks_each_batch = True
    steps = None  # the steps_per_epoch fit was given (tinydl.distributed reads it)

    def __init__(self, where: str, need_y: bool, class_weight=None):
        self.where, self.need_y, self.class_weight = where, need_y, class_weight

    def _standardize(self, batch):
        return standardize(batch, self.where, self.need_y, self.class_weight)

    def on_epoch_begin(self) -> None:
        pass

    def on_epoch_end(self) -> None:
        pass


class GeneratorSource(_Source):
    """A generator's batches; its first PEEKED_BATCHES start every pass (Keras' peek_and_restore).

    Example:
        >>> source = GeneratorSource(((np.full((1, 1), i), np.full(1, i)) for i in range(3)),
        ...                          "fit: the generator", need_y=True)
        >>> [int(y[0]) for _, y, _ in source.epoch()], [int(y[0]) for _, y, _ in source.epoch()]
        ([0, 1, 2], [0, 1])
    """

    num_batches = None

    def __init__(self, generator, where: str, need_y: bool):
        super().__init__(where, need_y)
        self.generator = iter(generator)
        self.peeked = list(itertools.islice(self.generator, PEEKED_BATCHES))
        if not self.peeked:
            raise ValueError(f"{where}: the generator must yield at least one batch. Received "
                             "an empty generator")

    def first(self):
        return self._standardize(self.peeked[0])

    def epoch(self):
        return map(self._standardize, itertools.chain(self.peeked, self.generator))


def _dataset_length(dataset):
    """num_batches of a PyDataset-like object (None: endless); len() when it has no num_batches."""
    try:
        count = dataset.num_batches
    except (AttributeError, NotImplementedError):
        count = len(dataset)
    return None if count is None else int(count)


class PyDatasetSource(_Source):
    """dataset[0], dataset[1], ... (in a new random order each pass when shuffle, as Keras).

    Example:
        >>> class Squares:
        ...     def __len__(self):
        ...         return 3
        ...     def __getitem__(self, i):
        ...         return np.full((1, 1), i), np.full(1, i * i)
        >>> source = PyDatasetSource(Squares(), "fit: the PyDataset", need_y=True, shuffle=False)
        >>> source.num_batches, [int(y[0]) for _, y, _ in source.epoch()]
        (3, [0, 1, 4])
    """

    def __init__(self, dataset, where: str, need_y: bool, shuffle: bool, class_weight=None):
        super().__init__(where, need_y, class_weight)
        self.dataset, self.shuffle = dataset, shuffle
        if self.num_batches == 0:
            raise ValueError(f"{where}: the PyDataset has no batches (its length is 0)")

    @property
    def num_batches(self):
        return _dataset_length(self.dataset)

    def first(self):
        return self._standardize(self.dataset[0])

    def epoch(self):
        count = self.num_batches
        if count is None:
            indices = itertools.count()
        else:
            indices = get_rng().permutation(count) if self.shuffle else range(count)
        return (self._standardize(self.dataset[int(i)]) for i in indices)

    def on_epoch_begin(self) -> None:
        getattr(self.dataset, "on_epoch_begin", lambda: None)()

    def on_epoch_end(self) -> None:
        getattr(self.dataset, "on_epoch_end", lambda: None)()


class IterableSource(_Source):
    """iter(iterable) for every pass: a tf.data Dataset, a torch DataLoader, any re-iterable.

    Example:
        >>> class Twice:
        ...     def __iter__(self):
        ...         return iter([(np.zeros((2, 1)), np.zeros(2))] * 2)
        >>> source = IterableSource(Twice(), "fit: the iterable of batches", need_y=True)
        >>> source.num_batches, len(list(source.epoch())), len(list(source.epoch()))
        (None, 2, 2)
    """

    def __init__(self, iterable, where: str, need_y: bool, class_weight=None):
        super().__init__(where, need_y, class_weight)
        self.iterable = iterable

    @property
    def num_batches(self):
        if is_tf_dataset(self.iterable):
            count = int(self.iterable.cardinality())
            return count if count >= 0 else None
        try:
            return len(self.iterable)
        except TypeError:
            return None

    def first(self):
        for batch in self.iterable:
            return self._standardize(batch)
        raise ValueError(f"{self.where}: the {kind(self.iterable)} yielded no batches")

    def epoch(self):
        return map(self._standardize, iter(self.iterable))


def make(x, steps, need_y: bool, where: str, shuffle: bool, class_weight=None):
    """The source for a data source x (see is_data_source), with Keras' checks and warnings.

    Example:
        >>> source = make(iter([(np.zeros((2, 1)), np.zeros(2))]), 5, True, "fit", shuffle=False)
        >>> type(source).__name__, source.steps
        ('GeneratorSource', 5)
    """
    what = kind(x)
    if class_weight is not None and what in ("generator", "torch DataLoader"):
        raise ValueError(f"{where}: Argument `class_weight` is not supported for {what} inputs: "
                         "yield (x, y, sample_weight) batches instead. "
                         f"Received: class_weight={class_weight}")
    if hasattr(x, "__next__"):
        source = GeneratorSource(x, f"{where}: the generator", need_y)
    elif _is_py_dataset(x):
        source = PyDatasetSource(x, f"{where}: the PyDataset", need_y, shuffle, class_weight)
        shuffle = shuffle and source.num_batches is None
    else:
        source = IterableSource(x, f"{where}: the {what}", need_y, class_weight)
    if shuffle:
        _warn_shuffle(what)
    source.steps = steps
    return source
