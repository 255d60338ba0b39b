"""The C extension tinydl._native, imported once: `ext` (the module, or None) and `error` (why not).

Family modules call `_extension.ext.<function>` only from their native entries, which the
dispatcher runs only when `ext` is not None. `error` is in words a student can act on
(tinydl.kernels.diagnose).
"""

from __future__ import annotations

import importlib


def _load():
    try:
        return importlib.import_module("tinydl._native"), None
    except ImportError as exc:  # not built, shadowed by the source folder, another Python, ...
        from tinydl.kernels.diagnose import native_import_problem
        return None, native_import_problem(exc)


ext, error = _load()
