"""The kernel list, gathered from the family modules of tinydl/kernels (one module per family).

A family module (e.g. tinydl/kernels/gemm.py) ends with `KERNELS = (Kernel(...), ...)`: each
entry names a kernel and its three functions, the checked entry that ops call, the NumPy
reference and the native twin (or None: the reference then runs on both backends). Every
module of this package that defines KERNELS is a family; nothing else lists them. See
docs/kernels.md, "Adding a kernel".
"""

from __future__ import annotations

import functools
import importlib
import pkgutil
from dataclasses import dataclass
from typing import Callable

# Modules that are not families: the two facades gather from this registry, so importing
# them here would be circular (and native.py needs the extension).
_FACADES = ("reference", "native")


@dataclass(frozen=True)
class Kernel:
    """One kernel: its name, the checked entry, the reference and the native twin.

    Attributes:
        name: the kernel's name, e.g. "gemm" (also the name of entry, reference and native in
            tinydl.backend, tinydl.kernels.reference and tinydl.kernels.native).
        entry: checks the arguments (what C relies on), then calls _dispatch.run(name, ...).
        reference: the NumPy version, the oracle.
        native: the C version with reference's signature, or None when there is none yet.
        in_place: it updates its array arguments and returns None (check_backends compares
            copies).
    """

    name: str
    entry: Callable
    reference: Callable
    native: Callable | None = None
    in_place: bool = False


def family_modules() -> list:
    """The family modules of tinydl.kernels, sorted by name (so the kernel order is fixed)."""
    package = importlib.import_module("tinydl.kernels")
    names = sorted(m.name for m in pkgutil.iter_modules(package.__path__)
                   if not m.name.startswith("_") and m.name not in _FACADES)
    modules = [importlib.import_module(f"tinydl.kernels.{name}") for name in names]
    return [m for m in modules if hasattr(m, "KERNELS")]


@functools.cache
def kernels() -> dict[str, Kernel]:
    """{name: Kernel} over every family module, in module then declaration order."""
    table: dict[str, Kernel] = {}
    for module in family_modules():
        for kernel in module.KERNELS:
            if kernel.name in table:
                raise RuntimeError(f"kernel {kernel.name!r} is defined twice "
                                   f"(second time in {module.__name__})")
            table[kernel.name] = kernel
    return table
