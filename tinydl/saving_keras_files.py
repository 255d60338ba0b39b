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
    """Write model in Keras' format when path names one; False otherwise."""
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
    """The model in a Keras file, or None when path is tinydl's own."""
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
    """Load weights from a Keras file into model; False when path is tinydl's own."""
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
