"""Build tinydl's native extension: our C kernels in csrc/ behind a thin Cython binding.

The build never uses -march=native: CPU-specific micro-kernels carry their own
target attributes and are picked at run time, so one build runs on any x86-64
(or non-x86) CPU. OpenMP is used when the compiler supports it; without it the
kernels run serially and the build still succeeds.
"""
import glob
import os
import shlex
import sys
import tempfile

import numpy
from Cython.Build import cythonize
from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

OPENMP_PROBE = "#include <omp.h>\nint main(void) { return omp_get_max_threads() > 0 ? 0 : 1; }\n"


def _environment_link_flags():
    """The flags from the environment that the extension's own link step gets (distutils adds
    LDFLAGS and CFLAGS to it) but its executable linker does not: without them a probe
    compiled with, say, CFLAGS=-fsanitize=address fails to link, and the build goes serial."""
    return shlex.split(os.environ.get("LDFLAGS", "")) + shlex.split(os.environ.get("CFLAGS", ""))


def _compiler_accepts(compiler, compile_flags, link_flags):
    """Return True when `compiler` builds and links a small OpenMP program with these flags
    (and the environment's, as the extension is linked)."""
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "probe.c")
        with open(src, "w") as f:
            f.write(OPENMP_PROBE)
        try:
            objects = compiler.compile([src], output_dir=tmp, extra_postargs=compile_flags)
            compiler.link_executable(objects, os.path.join(tmp, "probe"),
                                     extra_postargs=link_flags + _environment_link_flags())
        except Exception:
            return False
    return True


def _openmp_flags(compiler):
    """Find the OpenMP flags this compiler understands: (compile, link), or ([], []) for none."""
    if os.environ.get("TINYDL_NO_OPENMP"):
        return [], []
    if compiler.compiler_type == "msvc":
        return ["/openmp"], []
    candidates = [(["-fopenmp"], ["-fopenmp"])]
    if sys.platform == "darwin":  # Apple clang with Homebrew's libomp (`brew install libomp`)
        for prefix in _libomp_prefixes():
            candidates.append((["-Xpreprocessor", "-fopenmp", f"-I{prefix}/include"],
                               [f"-L{prefix}/lib", "-lomp", f"-Wl,-rpath,{prefix}/lib"]))
        candidates.append((["-Xpreprocessor", "-fopenmp"], ["-lomp"]))
    for cflags, lflags in candidates:
        if _compiler_accepts(compiler, cflags, lflags):
            return cflags, lflags
    return [], []


def _libomp_prefixes():
    """Where Homebrew keeps libomp (Apple silicon, Intel), when it is installed there."""
    return [p for p in ("/opt/homebrew/opt/libomp", "/usr/local/opt/libomp")
            if os.path.isfile(os.path.join(p, "include", "omp.h"))]


class BuildExt(build_ext):
    """build_ext that adds OpenMP flags when the compiler supports them."""

    def build_extensions(self):
        cflags, lflags = _openmp_flags(self.compiler)
        if not cflags:
            print("tinydl: OpenMP not available; the native kernels will run on one thread")
        for ext in self.extensions:
            ext.extra_compile_args += cflags
            ext.extra_link_args += lflags
            if cflags:
                ext.define_macros.append(("TDL_HAVE_OPENMP", "1"))
        super().build_extensions()


def _native_extension():
    is_msvc_like = sys.platform == "win32"
    compile_args = [] if is_msvc_like else ["-O3", "-std=c11", "-fno-strict-aliasing",
                                             "-Wno-unknown-pragmas"]
    return Extension(
        "tinydl._native",
        sources=["tinydl/_native.pyx"] + sorted(glob.glob("csrc/*.c")),
        # headers and the per-dtype .inc bodies: editing one rebuilds the extension
        depends=sorted(glob.glob("csrc/*.h") + glob.glob("csrc/*.inc")),
        include_dirs=["csrc", numpy.get_include()],
        define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
        extra_compile_args=compile_args,
    )


setup(
    ext_modules=cythonize(
        [_native_extension()],
        compiler_directives={
            "language_level": 3,
            "boundscheck": False,
            "wraparound": False,
            "cdivision": True,
            "initializedcheck": False,
        },
    ),
    cmdclass={"build_ext": BuildExt},
)
