"""The kernel families: every kernel's reference and native twin share one signature, and the
kernel list (backend_info, check_backends, the facades) is the families' tables."""

from __future__ import annotations

import inspect

import pytest

import tinydl
from tinydl import backend
from tinydl.kernels import _registry, reference

KERNELS = _registry.kernels()


@pytest.mark.parametrize("name", sorted(n for n, k in KERNELS.items() if k.native is not None))
def test_reference_and_native_have_identical_signatures(name):
    kernel = KERNELS[name]
    assert inspect.signature(kernel.native) == inspect.signature(kernel.reference), name


@pytest.mark.parametrize("name", sorted(KERNELS))
def test_entry_takes_the_kernels_arguments(name):
    """The checked entry accepts what the reference takes, by the same names."""
    kernel = KERNELS[name]
    entry = list(inspect.signature(kernel.entry).parameters)
    assert entry == list(inspect.signature(kernel.reference).parameters), name


@pytest.mark.parametrize("name", sorted(KERNELS))
def test_facades_and_backend_expose_every_kernel_by_name(name):
    assert getattr(reference, name) is KERNELS[name].reference
    assert getattr(backend, name) is KERNELS[name].entry


def test_backend_info_lists_exactly_the_families_kernels():
    info = tinydl.backend_info()
    listed = set(info["native_kernels"]) | set(info["reference_kernels"])
    assert listed == set(KERNELS)
    if info["native_available"]:
        from tinydl.kernels import native
        with_twin = {n for n, k in KERNELS.items() if k.native is not None}
        assert set(info["native_kernels"]) == with_twin
        assert all(getattr(native, n) is KERNELS[n].native for n in with_twin)


def test_every_family_module_names_its_kernels_after_itself():
    """A family's functions are <name>, <name>_reference and <name>_native."""
    for module in _registry.family_modules():
        for kernel in module.KERNELS:
            assert kernel.entry.__name__ == kernel.name
            assert kernel.reference.__name__ == f"{kernel.name}_reference"
            assert kernel.native is None or kernel.native.__name__ == f"{kernel.name}_native"
            assert kernel.entry.__module__ == module.__name__
