"""Which file is Keras' and which is tinydl's: the dispatch behind save, load_model and weights.

    save('x.keras')             Keras 3's zip (tinydl.saving_keras_zip), Keras loads it;
    save('x.h5' / 'x.hdf5')     Keras' legacy HDF5 (tinydl.saving_legacy_h5), Keras 3 and
                                TF 2's Keras load it;
    save('x.tinydl')            tinydl's own format (tinydl.saving), unchanged;
    save_weights('x.weights.h5') Keras 3's weights layout; other names as before.

Loading looks at the content, not only the name: a '.keras' zip holding tinydl.json, and an
'.h5' holding /tinydl.json, are files of tinydl's own format (tinydl 0.1 wrote those) and
load as before; Keras' files load through the Keras readers. Each function returns a falsy
value when the file is not Keras', so that tinydl's own code path runs.
"""

from __future__ import annotations

import os

KERAS_SUFFIX, WEIGHTS_SUFFIX, H5_SUFFIXES = ".keras", ".weights.h5", (".h5", ".hdf5")


def _name(path) -> str:
    return os.fspath(path).lower()


def save_model(model, path) -> bool:
    """Write model in Keras' format when path names one; False otherwise.

    Args:
        model: a built model.
        path: '.keras' (Keras 3's zip) or '.h5' / '.hdf5' (Keras' legacy HDF5); any other
            name is left to tinydl's own format.

    Returns:
        True when the file was written here.

    Example:
        >>> import os, tempfile
        >>> folder = tempfile.mkdtemp()
        >>> model = tinydl.Sequential([tinydl.Input((3,)), tinydl.layers.Dense(2)])
        >>> save_model(model, os.path.join(folder, "m.keras")), save_model(model, os.path.join(folder, "m.tinydl"))
        (True, False)
        >>> sorted(os.listdir(folder))
        ['m.keras']
    """
    name = _name(path)
    if name.endswith(KERAS_SUFFIX):
        from tinydl import saving_keras_model
        saving_keras_model.save_model(model, path)
        return True
    if name.endswith(H5_SUFFIXES):
        from tinydl import saving_legacy_h5
        saving_legacy_h5.save_model(model, path)
        return True
    return False


def save_weights(model, path) -> bool:
    """Write the weights in Keras 3's '.weights.h5' layout when path names one; False otherwise.

    Args:
        model: a built model.
        path: the file.

    Returns:
        True when the file was written here.

    Example:
        >>> import os, tempfile
        >>> folder = tempfile.mkdtemp()
        >>> model = tinydl.Sequential([tinydl.Input((3,)), tinydl.layers.Dense(2)])
        >>> save_weights(model, os.path.join(folder, "w.weights.h5"))
        True
        >>> save_weights(model, os.path.join(folder, "w.tinydl"))
        False
        >>> sorted(os.listdir(folder))
        ['w.weights.h5']
    """
    if _name(path).endswith(WEIGHTS_SUFFIX):
        from tinydl import saving_keras_model
        saving_keras_model.save_weights(model, path)
        return True
    return False


def _is_tinydl_h5(path) -> bool:
    """True when path is an HDF5 file of tinydl's own layout (a /tinydl.json dataset), or
    not HDF5 at all (tinydl's reader then says what is wrong)."""
    from tinydl import saving, saving_h5
    h5py = saving._h5py()
    saving.check_regular_file(path)
    try:
        with h5py.File(path, "r") as h5:
            return saving_h5.DOCUMENT in h5 or "tinydl" in h5.attrs
    except (OSError, RuntimeError, TypeError, ValueError, KeyError):
        return True


def _legacy(path) -> bool:
    from tinydl import saving_legacy_h5
    try:
        return saving_legacy_h5.is_legacy(path)
    except (OSError, RuntimeError, TypeError, ValueError, KeyError):
        return False


def load_model(path, custom_objects, compile: bool, limit: int):
    """The model in a Keras file, or None when path is tinydl's own.

    Args:
        path: the file.
        custom_objects: {name: class} of the user's layers and models, or None.
        compile: restore the compile settings and optimizer state.
        limit: the most bytes the weights may take.

    Returns:
        The model, or None (tinydl's own reader then loads path).

    Raises:
        ModelFileError: a Keras file that is damaged, hostile or too large.

    Example:
        >>> import os, tempfile
        >>> folder = tempfile.mkdtemp()
        >>> model = tinydl.Sequential([tinydl.Input((3,)), tinydl.layers.Dense(2)])
        >>> model.save(os.path.join(folder, "m.keras"))
        >>> model.save(os.path.join(folder, "m.tinydl"))
        >>> loaded = load_model(os.path.join(folder, "m.keras"), None, True, 2**20)
        >>> [bool(np.array_equal(a, b)) for a, b in zip(loaded.get_weights(), model.get_weights())]
        [True, True]
        >>> load_model(os.path.join(folder, "m.tinydl"), None, True, 2**20) is None
        True
    """
    name = _name(path)
    if name.endswith(KERAS_SUFFIX):
        from tinydl import saving_keras_zip
        if os.path.isfile(path) and saving_keras_zip.is_keras_zip(path):
            from tinydl import saving_keras_model
            return saving_keras_model.load_model(path, custom_objects, compile, limit)
    elif name.endswith(H5_SUFFIXES):
        from tinydl import saving_legacy_h5
        if not _is_tinydl_h5(path):
            return saving_legacy_h5.load_model(path, custom_objects, compile, limit)
        if _legacy(path):
            saving_legacy_h5.verify_keras_part(path, limit)
    return None


def load_weights(model, path, max_bytes, by_name: bool, skip_mismatch: bool) -> bool:
    """Load weights from a Keras file into model; False when path is tinydl's own.

    Args:
        model: a built model of the file's architecture.
        path: the file.
        max_bytes: the most bytes the weights may take (None: the default limit).
        by_name: match a legacy '.h5' file's layers by name, not by order.
        skip_mismatch: with by_name, skip layers whose weights do not fit.

    Returns:
        True when the weights were loaded here.

    Raises:
        ValueError: by_name or skip_mismatch for a file that is not Keras' legacy '.h5'.
        ModelFileError: the file does not fit the model, or is damaged.

    Example:
        >>> import os, tempfile
        >>> path = os.path.join(tempfile.mkdtemp(), "w.weights.h5")
        >>> model = tinydl.Sequential([tinydl.Input((3,)), tinydl.layers.Dense(2)])
        >>> model.save_weights(path)
        >>> other = tinydl.Sequential([tinydl.Input((3,)), tinydl.layers.Dense(2)])
        >>> load_weights(other, path, None, False, False)
        True
        >>> [bool(np.array_equal(a, b)) for a, b in zip(other.get_weights(), model.get_weights())]
        [True, True]
        >>> load_weights(other, path, None, True, False)
        Traceback (most recent call last):
        ...
        ValueError: load_weights: by_name and skip_mismatch apply to Keras' legacy '.h5' files, not Keras 3
        weights files. Received: '...w.weights.h5'
    """
    name = _name(path)
    if name.endswith(KERAS_SUFFIX):
        from tinydl import saving_keras_zip
        if not (os.path.isfile(path) and saving_keras_zip.is_keras_zip(path)):
            return False
    elif not name.endswith(H5_SUFFIXES) or (_is_tinydl_h5(path) and not (
            (by_name or skip_mismatch) and _legacy(path))):
        if by_name or skip_mismatch:
            raise ValueError("load_weights: by_name and skip_mismatch apply to Keras' legacy "
                             f"'.h5' files. Received: '{os.fspath(path)}'")
        return False
    from tinydl import saving_legacy_h5
    if saving_legacy_h5.is_legacy(path):
        saving_legacy_h5.load_weights(model, path, max_bytes, by_name, skip_mismatch)
        return True
    if by_name or skip_mismatch:
        raise ValueError("load_weights: by_name and skip_mismatch apply to Keras' legacy '.h5' "
                         f"files, not Keras 3 weights files. Received: '{os.fspath(path)}'")
    from tinydl import saving_keras_model
    saving_keras_model.load_weights(model, path, max_bytes)
    return True
