"""Lab 5's build helper: a portable C build, the plain-C fallback of the SIMD kernel, no stale library."""

from __future__ import annotations

import ctypes
import shutil
import sys

import numpy as np
import pytest

from tinydl import labs

LAB = labs.get_lab(5)
if not any(shutil.which(cc) for cc in ("cc", "gcc", "clang")):
    pytest.skip("lab 5 builds C: no C compiler on this machine", allow_module_level=True)


@pytest.fixture
def build(monkeypatch, tmp_path):
    monkeypatch.setenv("TINYDL_LAB_BUILD_DIR", str(tmp_path / "build"))
    monkeypatch.syspath_prepend(str(LAB.solution))
    sys.modules.pop("build", None)
    import build as module
    yield module
    sys.modules.pop("build", None)


def simd(library, a, b):
    pointer = ctypes.POINTER(ctypes.c_float)
    c = np.empty((a.shape[0], b.shape[1]), np.float32)
    status = library.gemm_simd(a.shape[0], b.shape[1], a.shape[1], a.ctypes.data_as(pointer),
                               b.ctypes.data_as(pointer), c.ctypes.data_as(pointer))
    assert status == 0
    return c


@pytest.mark.parametrize("flags, vectors", [((), 1), (("-DTDL_NO_VECTOR_EXTENSIONS",), 0)])
def test_the_simd_stage_and_its_plain_c_fallback_are_both_right(build, flags, vectors):
    library = ctypes.CDLL(str(build.build(LAB.solution / "gemm.c", extra_flags=flags)))
    assert library.gemm_has_vectors() == vectors
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((37, 70)).astype(np.float32), rng.standard_normal((70, 45)).astype(np.float32)
    np.testing.assert_allclose(simd(library, a, b), a.astype(np.float64) @ b, rtol=1e-4, atol=1e-4)


def test_an_edited_source_is_rebuilt_and_an_unchanged_one_is_reused(build, tmp_path):
    source = tmp_path / "gemm.c"
    shutil.copy(LAB.solution / "gemm.c", source)
    first = build.build(source)
    assert build.build(source) == first
    source.write_text(source.read_text() + "\n/* edited */\n")
    assert build.build(source) != first and not list(first.parent.glob("*.partial"))
