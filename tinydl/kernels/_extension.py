"""The C extension tinydl._native, imported once: `ext` (the module, or None) and `error` (why not).

Family modules call `_extension.ext.<function>` only from their native entries, which the
dispatcher runs only when `ext` is not None. `error` is in words a student can act on
(tinydl.kernels.diagnose).
"""

from __future__ import annotations

import importlib
import os

# Freed blocks up to 32 MiB (glibc's largest mmap threshold) stay in the heap, and up to
# 1 GiB of freed heap top is kept: a training step reuses the last step's memory instead of
# faulting in fresh pages (csrc/memory.h). TINYDL_KEEP_FREED_MEMORY=0 leaves malloc as it was.
KEEP_FREED = {"mmap_threshold": 32 << 20, "trim_threshold": 1 << 30}


def _load():
    try:
        return importlib.import_module("tinydl._native"), None
    except ImportError as exc:  # not built, shadowed by the source folder, another Python, ...
        from tinydl.kernels.diagnose import native_import_problem
        return None, native_import_problem(exc)


def _keep_freed_memory(module) -> bool:
    """Apply KEEP_FREED unless TINYDL_KEEP_FREED_MEMORY is '0'; True when it took effect."""
    if module is None or os.environ.get("TINYDL_KEEP_FREED_MEMORY", "1").strip() == "0":
        return False
    return module.memory_keep_freed(**KEEP_FREED)


ext, error = _load()
keeps_freed_memory = _keep_freed_memory(ext)
