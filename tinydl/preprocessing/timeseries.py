"""timeseries_dataset_from_array: sliding windows over a series, as Keras."""

from __future__ import annotations

import numpy as np

from tinydl.preprocessing.dataset import Dataset
from tinydl.rng import get_rng


def _positive(value, name: str, below=None) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1 \
            or (below is not None and value >= below):
        bound = "" if below is None else f" and lower than the length of the data ({below})"
        raise ValueError(f"`{name}` must be a positive int{bound}. Received: {name}={value!r}")
    return int(value)


def _bounds(start_index, end_index, length: int) -> tuple[int, int]:
    start = 0 if start_index is None else start_index
    end = length if end_index is None else end_index
    if isinstance(start, bool) or not isinstance(start, (int, np.integer)) or not 0 <= start < length:
        raise ValueError(f"`start_index` must be an int in [0, {length}) (the length of the "
                         f"data). Received: start_index={start_index!r}")
    if end_index is not None and (isinstance(end, bool) or not isinstance(end, (int, np.integer))
                                  or not start < end < length):
        raise ValueError(f"`end_index` must be an int higher than start_index ({start}) and "
                         f"lower than the length of the data ({length}). "
                         f"Received: end_index={end_index!r}")
    return int(start), int(end)


def timeseries_dataset_from_array(data, targets, sequence_length, sequence_stride=1,
                                  sampling_rate=1, batch_size=128, shuffle=False, seed=None,
                                  start_index=None, end_index=None) -> Dataset:
    """A Dataset of windows over data (T, ...): window j is data[p_j + k * sampling_rate] for
    k < sequence_length, starting at p_j = start_index + j * sequence_stride.

    Args:
        data: an array (T, ...) of time steps.
        targets: an array with one target per time step (targets[p_j] goes with window j),
            or None for windows alone.
        sequence_length: time steps per window. sequence_stride: steps between the starts
            of two windows. sampling_rate: steps between two samples inside a window.
        batch_size: windows per batch (default 128); None for single windows.
        shuffle, seed: shuffle the windows (np.random.RandomState(seed), Keras' order), and
            again every epoch.
        start_index, end_index: use data[start_index:end_index] only.

    Returns:
        A Dataset of windows (B, sequence_length, ...) (and targets (B, ...)).

    Example:
        >>> ds = timeseries_dataset_from_array(np.arange(10), None, 3, batch_size=None)
        >>> ds[1]
        array([1, 2, 3])
    """
    data = np.asarray(data)
    if data.ndim == 0:
        raise ValueError(f"`data` must be an array with a time axis first. Received shape {data.shape}")
    sequence_length = _positive(sequence_length, "sequence_length")
    sampling_rate = _positive(sampling_rate, "sampling_rate", len(data))
    sequence_stride = _positive(sequence_stride, "sequence_stride", len(data))
    if batch_size is not None:
        _positive(batch_size, "batch_size")
    start, end = _bounds(start_index, end_index, len(data))
    count = end - start - (sequence_length - 1) * sampling_rate
    if targets is not None:
        targets = np.asarray(targets)
        count = min(count, len(targets))
    starts = np.arange(0, max(count, 0), sequence_stride, dtype=np.int64)
    if shuffle:
        seed = int(get_rng().integers(1_000_000)) if seed is None else seed
        np.random.RandomState(seed).shuffle(starts)  # Keras' order for this seed
    offsets = np.arange(sequence_length) * sampling_rate
    series = data[start:end]
    target_series = None if targets is None else targets[start:end]

    def source(indices):
        first = starts[indices]
        windows = series[first[:, None] + offsets[None, :]]
        return (windows,) if target_series is None else (windows, target_series[first])
    return Dataset(source, len(starts), batch_size, shuffle, seed)
