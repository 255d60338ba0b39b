"""Every public name of tinydl has a docstring with an example, and every example runs.

The public modules are found, not listed: every module of the package whose dotted name has no
part starting with "_" (the labs' student packages, tinydl.labs.lab*, are exercises, not API).
Their public names are __all__, or without one the functions and classes a module defines
whose names do not start with "_". Each needs a docstring with a `>>>` example, and the
examples of every module run here as doctests, so they cannot rot; so do those of
tinydl.__all__ (modules there need a docstring). A name a package only re-exports is checked
where it is defined. Examples that need an MPI job are marked +SKIP, saying why
(tinydl/distributed/comm.py::init); those about an optional package skip with it.
"""

from __future__ import annotations

import doctest
import importlib
import inspect
import pkgutil
import sys

import numpy as np
import pytest

import tinydl
from tinydl import backend


def public_modules() -> list:
    """The dotted names of tinydl's public modules, tinydl itself first."""
    names = ["tinydl"]
    for info in pkgutil.walk_packages(tinydl.__path__, "tinydl."):
        if any(p.startswith("_") for p in info.name.split(".")[1:]) or info.name.startswith("tinydl.labs.lab"):
            continue
        names.append(info.name)
    return names


ENFORCED = public_modules()
# Modules whose examples are about an optional package or the C extension: they skip without it.
REQUIRES = {"tinydl.saving_h5": "h5py", "tinydl.plotting": "matplotlib"}
NATIVE_ONLY = {"tinydl.kernels.native"}
DOCTESTED = ENFORCED + ["tinydl.labs._starters", "tinydl.datasets._files"]
FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


def _import(module_name: str):
    """The module, or a skip when it is about something missing here."""
    if module_name in REQUIRES:
        pytest.importorskip(REQUIRES[module_name])
    if module_name in NATIVE_ONLY and backend._native is None:
        pytest.skip(f"{module_name} needs the C extension, which did not import here")
    return importlib.import_module(module_name)


def defined_names(module) -> list:
    """__all__, and the public functions and classes the module defines (in or out of __all__)."""
    own = [n for n, obj in vars(module).items() if not n.startswith("_")
           and (inspect.isfunction(obj) or inspect.isclass(obj)) and obj.__module__ == module.__name__]
    names = list(getattr(module, "__all__", [])) + [n for n in own if n not in getattr(module, "__all__", [])]
    return [n for n in names if inspect.isfunction(getattr(module, n)) or inspect.isclass(getattr(module, n))]


def callables_of(module_name):
    """(qualified name, object) of the module's public functions and classes."""
    if module_name in NATIVE_ONLY and backend._native is None:
        return
    module = importlib.import_module(module_name)
    for name in defined_names(module):
        yield f"{module_name}.{name}", getattr(module, name)


TOP_LEVEL = [(f"tinydl.{n}", getattr(tinydl, n)) for n in tinydl.__all__]
ENFORCED_CALLABLES = [item for m in ENFORCED for item in callables_of(m)]


@pytest.mark.parametrize("name, obj", TOP_LEVEL, ids=[n for n, _ in TOP_LEVEL])
def test_every_name_in_tinydl_all_has_a_docstring_and_callables_an_example(name, obj):
    doc = inspect.getdoc(obj)
    assert doc and doc.strip(), f"{name} has no docstring"
    if not inspect.ismodule(obj):
        assert ">>>" in doc, f"{name}'s docstring has no example (a >>> line)"
        module = sys.modules[obj.__module__]
        finder, runner = doctest.DocTestFinder(recurse=False), doctest.DocTestRunner(optionflags=FLAGS)
        for test in finder.find(obj, name, module=module, globs={**vars(module), "tinydl": tinydl, "np": np}):
            with np.errstate(all="ignore"):          # detect_anomaly's examples make a NaN on purpose
                runner.run(test)
        assert runner.failures == 0, f"{name}'s example fails"


@pytest.mark.parametrize("name, obj", ENFORCED_CALLABLES, ids=[n for n, _ in ENFORCED_CALLABLES])
def test_public_functions_and_classes_of_every_module_have_examples(name, obj):
    doc = inspect.getdoc(obj)
    assert doc and ">>>" in doc, f"{name} needs a docstring with an example (a >>> line)"


def _defines_callables(module) -> bool:
    return any(getattr(getattr(module, name), "__module__", None) == module.__name__
               for name in defined_names(module))


def _switches() -> tuple:
    """What an example may change only inside a `with` (or must set back)."""
    if backend._native is None:
        return tinydl.get_backend(), tinydl.get_num_threads(), tinydl.fusion_enabled()
    from tinydl.kernels import native
    forced = native.get_conv_algorithm(), native.info()["gemm_microkernel"]
    return (tinydl.get_backend(), tinydl.get_num_threads(), tinydl.fusion_enabled()) + forced


@pytest.mark.parametrize("module_name", DOCTESTED)
def test_the_examples_of_every_public_module_run(module_name):
    module = _import(module_name)
    previous = _switches()
    with np.errstate(all="ignore"):          # detect_anomaly's examples make a NaN on purpose
        result = doctest.testmod(module, extraglobs={"tinydl": tinydl, "np": np}, optionflags=FLAGS,
                                 report=True, verbose=False)
    assert _switches() == previous, \
        "an example changed the backend, the thread count, the fusion switch or a forced kernel"
    assert not tinydl.distributed.is_initialized(), "an example left tinydl.distributed initialized"
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples of {module_name} fail"
    if _defines_callables(module):
        assert result.attempted > 0, f"{module_name} defines functions or classes but runs no example"


def test_the_public_modules_are_found():
    """Discovery finds the package's modules, old and new (it must not silently find none)."""
    for name in ("tinydl.tensor", "tinydl.layers.core", "tinydl.models.loops", "tinydl.kernels.reference",
                 "tinydl.distributed.comm", "tinydl.saving_zip", "tinydl.ops.conv", "tinydl.callbacks"):
        assert name in ENFORCED
    assert not any(name.startswith("tinydl.labs.lab") or "._" in name for name in ENFORCED)
