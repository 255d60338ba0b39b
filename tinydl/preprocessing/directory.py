"""Datasets from folders of files, as Keras: image_dataset_from_directory (needs Pillow) and
text_dataset_from_directory.

    main_directory/
        class_a/  a_1.jpg  a_2.jpg ...
        class_b/  b_1.jpg ...

Labels are inferred from the subfolder names (sorted, so class_a is 0), files are listed in
Keras' order (sorted, subfolders walked recursively), shuffled once with
np.random.RandomState(seed) and split into training and validation exactly as Keras does, so
the same seed gives the same files in each subset. Files are read when a batch is asked for.
"""

from __future__ import annotations

import os

import numpy as np

from tinydl.preprocessing.dataset import Dataset
from tinydl.rng import get_rng

IMAGE_FORMATS = (".bmp", ".gif", ".jpeg", ".jpg", ".png")
COLOR_MODES = {"grayscale": ("L", 1), "rgb": ("RGB", 3), "rgba": ("RGBA", 4)}
LABEL_MODES = ("int", "categorical", "binary", None)


# ----------------------------------------------------------------------------- indexing

def _class_folders(directory: str, class_names) -> list[str]:
    found = [d for d in sorted(os.listdir(directory))
             if os.path.isdir(os.path.join(directory, d)) and not d.startswith(".")]
    if class_names is None:
        return found
    if not set(class_names) <= set(found):
        raise ValueError("The `class_names` passed did not match the names of the "
                         f"subdirectories of the target directory. Expected: {found} (or a "
                         f"subset of it). Received: class_names={list(class_names)}")
    return list(class_names)


def _files_under(folder: str, formats: tuple, follow_links: bool) -> list[str]:
    """Files ending in formats under folder, sorted by folder then name (Keras' order)."""
    paths = []
    for root, _, files in sorted(os.walk(folder, followlinks=follow_links), key=lambda w: w[0]):
        paths += [os.path.join(root, f) for f in sorted(files) if f.lower().endswith(formats)]
    return paths


def index_directory(directory, labels, formats, class_names, shuffle, seed, follow_links):
    """(file_paths, labels int32 array or None, class_names or None), in Keras' order.

    Example:
        >>> import os, tempfile
        >>> root = tempfile.mkdtemp()
        >>> for name in ("cat/a.txt", "cat/b.txt", "dog/c.txt"):
        ...     os.makedirs(os.path.join(root, os.path.dirname(name)), exist_ok=True)
        ...     _ = open(os.path.join(root, name), "w").write("hi")
        >>> paths, labels, names = index_directory(root, "inferred", (".txt",), None, False, None, False)
        >>> [os.path.basename(p) for p in paths], labels, names
        (['a.txt', 'b.txt', 'c.txt'], array([0, 0, 1], dtype=int32), ['cat', 'dog'])
        >>> import shutil; shutil.rmtree(root)
    """
    if not isinstance(directory, (str, os.PathLike)) or not os.path.isdir(directory):
        raise ValueError(f"`directory` must be an existing folder. Received: directory={directory!r}")
    directory = os.fspath(directory)
    if labels == "inferred":
        names = _class_folders(directory, class_names)
        per_class = [_files_under(os.path.join(directory, n), formats, follow_links) for n in names]
        paths = [p for files in per_class for p in files]
        label_array = np.concatenate([np.full(len(f), i, np.int32) for i, f in enumerate(per_class)]
                                     or [np.zeros(0, np.int32)])
    else:
        if class_names is not None:
            raise ValueError("When argument `labels` is specified (or None), argument "
                             f"`class_names` cannot be specified. Received: class_names={class_names}")
        paths = _files_under(directory, formats, follow_links)
        names, label_array = None, None
        if labels is not None:
            label_array = np.asarray(labels)
            if len(label_array) != len(paths):
                raise ValueError("Expected the lengths of `labels` to match the number of files "
                                 f"in the target directory. len(labels) is {len(label_array)} "
                                 f"while we found {len(paths)} files in directory {directory}.")
            names = [str(v) for v in sorted(set(label_array.tolist()))]
    if shuffle:
        np.random.RandomState(seed).shuffle(paths)
        if label_array is not None:
            np.random.RandomState(seed).shuffle(label_array)
    return paths, label_array, names


def _check_split(validation_split, subset, shuffle, seed) -> None:
    if validation_split is not None and not (isinstance(validation_split, (int, float))
                                             and 0 <= validation_split < 1):
        raise ValueError("`validation_split` must be between 0 and 1. "
                         f"Received: validation_split={validation_split!r}")
    if bool(validation_split) != bool(subset):
        raise ValueError("If `subset` is set, `validation_split` must be set, and inversely. "
                         f"Received: validation_split={validation_split!r}, subset={subset!r}")
    if subset not in ("training", "validation", "both", None):
        raise ValueError('`subset` must be either "training", "validation" or "both". '
                         f"Received: subset={subset!r}")
    if validation_split and shuffle and seed is None:
        raise ValueError("If using `validation_split` and shuffling the data, you must provide "
                         "a `seed` argument, so that the training and validation subsets do "
                         "not overlap. Received: seed=None")


def _subset(paths, labels, validation_split, subset, verbose):
    """Keras' split: the last int(validation_split * n) files are the validation subset."""
    if not validation_split:
        return paths, labels
    cut = len(paths) - int(validation_split * len(paths))
    part = slice(None, cut) if subset == "training" else slice(cut, None)
    if verbose:
        print(f"Using {len(paths[part])} files for {subset}.")
    return paths[part], None if labels is None else labels[part]


def _encode_labels(labels, label_mode, num_classes):
    if label_mode == "binary":
        return labels.astype(np.float32)[:, None]
    if label_mode == "categorical":
        return np.eye(num_classes, dtype=np.float32)[labels]
    return labels


def _check_common(labels, label_mode, class_names) -> None:
    if labels not in ("inferred", None) and not isinstance(labels, (list, tuple, np.ndarray)):
        raise ValueError("`labels` must be 'inferred', None, or a list/tuple of integer labels, "
                         f"one per file. Received: labels={labels!r}")
    if label_mode not in LABEL_MODES:
        raise ValueError('`label_mode` argument must be one of "int", "categorical", "binary", '
                         f"or None. Received: label_mode={label_mode!r}")


def _datasets(directory, labels, label_mode, class_names, batch_size, shuffle, seed,
              validation_split, subset, follow_links, formats, what, load, verbose):
    """The Dataset (or the (training, validation) pair for subset='both') of a folder."""
    _check_common(labels, label_mode, class_names)
    if labels is None or label_mode is None:
        labels, label_mode = None, None
    _check_split(validation_split, subset, shuffle, seed)
    seed = int(get_rng().integers(1_000_000)) if seed is None else seed
    paths, label_array, names = index_directory(directory, labels, formats, class_names,
                                                shuffle, seed, follow_links)
    classes = "" if names is None else f" belonging to {len(names)} classes"
    if verbose:
        print(f"Found {len(paths)} files{classes}.")
    if label_mode == "binary" and len(names) != 2:
        raise ValueError('When passing `label_mode="binary"`, there must be exactly 2 '
                         f"class_names. Received: class_names={names}")
    subsets = ("training", "validation") if subset == "both" else (subset,)
    made = []
    for part in subsets:
        part_paths, part_labels = _subset(paths, label_array, validation_split, part, verbose)
        if not part_paths:
            raise ValueError(f"No {what} found in directory {directory}. Allowed formats: "
                             f"{formats}")
        if part_labels is not None:
            part_labels = _encode_labels(part_labels, label_mode, len(names))
        made.append(_folder_dataset(part_paths, part_labels, load, batch_size, shuffle, seed,
                                    names))
    return tuple(made) if subset == "both" else made[0]


def _folder_dataset(paths, labels, load, batch_size, shuffle, seed, names) -> Dataset:
    def source(indices):
        x = np.stack([load(paths[i]) for i in indices]) if len(indices) else None
        return (x,) if labels is None else (x, labels[indices])
    dataset = Dataset(source, len(paths), batch_size, shuffle, seed)
    dataset.class_names, dataset.file_paths = names, list(paths)
    return dataset


def _check_batch_size(batch_size) -> None:
    if batch_size is not None and (isinstance(batch_size, bool) or not isinstance(
            batch_size, (int, np.integer)) or batch_size < 1):
        raise ValueError(f"`batch_size` must be a positive int or None. "
                         f"Received: batch_size={batch_size!r}")


# ----------------------------------------------------------------------------- images

def _pillow():
    try:
        from PIL import Image
    except ImportError:
        raise ImportError("image_dataset_from_directory reads images with Pillow, which is not "
                          "installed: pip install 'tinydl[image]' (or pip install pillow)") from None
    return Image


def resize_weights(in_size: int, out_size: int, interpolation: str):
    """Rows (or columns) to read and their weights for a resize, as tf.image.resize.

    Half-pixel centres: output i reads input position (i + 0.5) * in/out - 0.5; 'bilinear'
    blends its two neighbours (clamped at the edges), 'nearest' reads floor((i + 0.5) * in/out).

    Returns:
        (low, high, weight of high): int arrays (out_size,) and a float array (out_size,).

    Example:
        >>> resize_weights(2, 4, "bilinear")
        (array([0, 0, 0, 1]), array([0, 1, 1, 1]), array([0.75, 0.25, 0.75, 0.25]))
    """
    scale = in_size / out_size
    if interpolation == "nearest":
        index = np.minimum(np.floor((np.arange(out_size) + 0.5) * scale), in_size - 1)
        index = index.astype(np.int64)
        return index, index, np.zeros(out_size)
    position = (np.arange(out_size) + 0.5) * scale - 0.5
    low = np.floor(position)
    weight = position - low
    return (np.clip(low, 0, in_size - 1).astype(np.int64),
            np.clip(low + 1, 0, in_size - 1).astype(np.int64), weight)


def resize_image(image: np.ndarray, size: tuple, interpolation: str = "bilinear") -> np.ndarray:
    """image (H, W, C) -> float32 (OH, OW, C), separably, as tf.image.resize (no antialiasing).

    Example:
        >>> image = np.array([[[0.0], [10.0]]])
        >>> resize_image(image, (1, 4))[0, :, 0]
        array([ 0. ,  2.5,  7.5, 10. ], dtype=float32)
    """
    image = image.astype(np.float32)
    rows = resize_weights(image.shape[0], size[0], interpolation)
    cols = resize_weights(image.shape[1], size[1], interpolation)
    low, high, w = rows
    image = image[low] + (image[high] - image[low]) * w[:, None, None].astype(np.float32)
    low, high, w = cols
    return image[:, low] + (image[:, high] - image[:, low]) * w[None, :, None].astype(np.float32)


def _grayscale(image) -> np.ndarray:
    """One channel, as TensorFlow's decoders make it: a JPEG's own luma (libjpeg), a colour
    PNG through libpng's fixed-point weights (9797 R + 19234 G + 3737 B) >> 15, else Pillow's."""
    if image.format == "JPEG":
        image.draft("L", image.size)
    if image.mode in ("L", "LA", "I", "I;16") or image.format != "PNG":
        return np.asarray(image.convert("L"))
    rgb = np.asarray(image.convert("RGB")).astype(np.uint32)
    gray = (9797 * rgb[..., 0] + 19234 * rgb[..., 1] + 3737 * rgb[..., 2]) >> 15
    return gray.astype(np.uint8)


def load_image(path: str, color_mode: str = "rgb", image_size=None,
               interpolation: str = "bilinear") -> np.ndarray:
    """Decode one image file into float32 (H, W, C) (resized to image_size when given).

    Example:
        >>> import os, tempfile
        >>> from PIL import Image
        >>> root = tempfile.mkdtemp()
        >>> path = os.path.join(root, "red.png")
        >>> Image.new("RGB", (4, 2), (255, 0, 0)).save(path)
        >>> image = load_image(path)
        >>> image.shape, image.dtype, image[0, 0].tolist()
        ((2, 4, 3), dtype('float32'), [255.0, 0.0, 0.0])
        >>> import shutil; shutil.rmtree(root)
    """
    image_module = _pillow()
    mode, channels = COLOR_MODES[color_mode]
    try:
        with image_module.open(path) as image:
            pixels = _grayscale(image) if mode == "L" else np.asarray(image.convert(mode))
    except (OSError, ValueError, image_module.DecompressionBombError) as error:
        raise ValueError(f"could not read the image file {path!r}: {error}") from None
    pixels = pixels.reshape(pixels.shape[0], pixels.shape[1], channels)
    if image_size is None:
        return pixels.astype(np.float32)
    return resize_image(pixels, image_size, interpolation)


def image_dataset_from_directory(directory, labels="inferred", label_mode="int",
                                 class_names=None, color_mode="rgb", batch_size=32,
                                 image_size=(256, 256), shuffle=True, seed=None,
                                 validation_split=None, subset=None, interpolation="bilinear",
                                 follow_links=False, crop_to_aspect_ratio=False,
                                 pad_to_aspect_ratio=False, data_format=None, verbose=True):
    """A Dataset of (images, labels) batches from a folder with one subfolder per class.

    Args:
        directory: the folder. labels: 'inferred' (from the subfolders), None (images only)
            or a list of integer labels, one per file in sorted path order.
        label_mode: 'int' (int32 (B,)), 'categorical' (float32 one-hot (B, K)), 'binary'
            (float32 (B, 1), exactly 2 classes) or None (no labels).
        class_names: the subfolders to use, in this order (default: all, sorted).
        color_mode: 'rgb' (3 channels), 'grayscale' (1) or 'rgba' (4).
        batch_size: images per batch (default 32); None for single images.
        image_size: (height, width) every image is resized to; default (256, 256).
        shuffle, seed: shuffle the files once (Keras' order for this seed) and every epoch.
        validation_split, subset: keep the training ('training') or last validation_split
            ('validation') part of the files, or both as a pair ('both'); needs a seed when
            shuffling.
        interpolation: 'bilinear' (default) or 'nearest', as tf.image.resize.
        follow_links: follow symbolic links to folders.

    Returns:
        A Dataset (see tinydl.preprocessing.dataset) of float32 images (B, H, W, C) in
        [0, 255] and labels; with class_names and file_paths attributes. A pair of them for
        subset='both'.

    Raises:
        ImportError: without Pillow (pip install 'tinydl[image]').
        ValueError: for bad arguments, a folder without images, or (when a batch is read) a
            file that is not an image.

    Example:
        >>> import os, tempfile
        >>> from PIL import Image
        >>> root = tempfile.mkdtemp()
        >>> for name in ("cat/a.png", "cat/b.png", "dog/c.png"):
        ...     os.makedirs(os.path.join(root, os.path.dirname(name)), exist_ok=True)
        ...     Image.new("RGB", (8, 8)).save(os.path.join(root, name))
        >>> ds = image_dataset_from_directory(root, image_size=(4, 4), batch_size=8, verbose=False)
        >>> images, labels = next(iter(ds))
        >>> ds.class_names, images.shape, sorted(labels.tolist())
        (['cat', 'dog'], (3, 4, 4, 3), [0, 0, 1])
        >>> import shutil; shutil.rmtree(root)
    """
    _pillow()
    if color_mode not in COLOR_MODES:
        raise ValueError('`color_mode` must be one of {"rgb", "rgba", "grayscale"}. '
                         f"Received: color_mode={color_mode!r}")
    size = (image_size, image_size) if isinstance(image_size, int) else image_size
    if not (isinstance(size, (tuple, list)) and len(size) == 2
            and all(isinstance(s, int) and s > 0 for s in size)):
        raise ValueError("Invalid `image_size` value. Expected a tuple of 2 positive integers. "
                         f"Received: image_size={image_size!r}")
    interpolation = interpolation.lower() if isinstance(interpolation, str) else interpolation
    if interpolation not in ("bilinear", "nearest"):
        raise ValueError("`interpolation` must be 'bilinear' or 'nearest' (tinydl does not "
                         f"implement the others). Received: interpolation={interpolation!r}")
    for name, value in (("crop_to_aspect_ratio", crop_to_aspect_ratio),
                        ("pad_to_aspect_ratio", pad_to_aspect_ratio)):
        if value:
            raise ValueError(f"`{name}=True` is not supported: images are resized to "
                             f"image_size. Received: {name}={value!r}")
    if data_format not in (None, "channels_last"):
        raise ValueError("Only data_format='channels_last' is supported. "
                         f"Received: data_format={data_format!r}")
    _check_batch_size(batch_size)
    size = tuple(int(s) for s in size)

    def load(path):
        return load_image(path, color_mode, size, interpolation)
    return _datasets(directory, labels, label_mode, class_names, batch_size, shuffle, seed,
                     validation_split, subset, follow_links, IMAGE_FORMATS, "images", load, verbose)


# ----------------------------------------------------------------------------- text

def text_dataset_from_directory(directory, labels="inferred", label_mode="int",
                                class_names=None, batch_size=32, max_length=None, shuffle=True,
                                seed=None, validation_split=None, subset=None,
                                follow_links=False, verbose=True):
    """A Dataset of (texts, labels) batches from a folder of .txt files, one subfolder per class.

    Args:
        max_length: keep at most this many characters of each text (None: all of it).
        The others: as in image_dataset_from_directory.

    Returns:
        A Dataset whose x batches are NumPy arrays of str (B,), read as UTF-8; with
        class_names and file_paths. Map it through a TextVectorization layer to train on it.

    Example:
        >>> import os, tempfile
        >>> root = tempfile.mkdtemp()
        >>> for name, text in (("pos/a.txt", "great"), ("neg/b.txt", "awful")):
        ...     os.makedirs(os.path.join(root, os.path.dirname(name)), exist_ok=True)
        ...     _ = open(os.path.join(root, name), "w").write(text)
        >>> ds = text_dataset_from_directory(root, shuffle=False, verbose=False)
        >>> texts, labels = next(iter(ds))
        >>> ds.class_names, texts.tolist(), labels.tolist()
        (['neg', 'pos'], ['awful', 'great'], [0, 1])
        >>> import shutil; shutil.rmtree(root)
    """
    if max_length is not None and (isinstance(max_length, bool) or not isinstance(
            max_length, (int, np.integer)) or max_length < 1):
        raise ValueError(f"`max_length` must be None or a positive int. "
                         f"Received: max_length={max_length!r}")
    _check_batch_size(batch_size)

    def load(path):
        with open(path, encoding="utf-8", errors="replace") as file:
            text = file.read()
        return np.asarray(text if max_length is None else text[:max_length], dtype=object)
    return _datasets(directory, labels, label_mode, class_names, batch_size, shuffle, seed,
                     validation_split, subset, follow_links, (".txt",), "text files", load, verbose)
