"""Lab 5's build helper (given): compile gemm.c into a shared library with the system C compiler.

    python build.py            # compiles (or reuses) the library and prints its path

Nothing to install: it runs `cc` (or $CC, gcc, clang) with -O3, adding -march=native (this
machine's SIMD instructions: the library is for this computer only) when the compiler takes
it. The library is cached under the temporary folder by a hash of the source and the flags,
so an edited gemm.c is always rebuilt and an unchanged one never is.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
BASE_FLAGS = ["-O3", "-std=c99", "-fPIC", "-shared"]
FAST_FLAGS = ["-march=native"]


def compiler() -> str:
    """The C compiler: $CC, else the first of cc, gcc, clang on the PATH."""
    for name in [os.environ.get("CC")] + ["cc", "gcc", "clang"]:
        if name and shutil.which(name.split()[0]):
            return name
    raise RuntimeError("no C compiler found: install one (Linux: `sudo apt install build-essential`; "
                       "macOS: `xcode-select --install`) or set CC")


def build_dir() -> Path:
    folder = Path(os.environ.get("TINYDL_LAB_BUILD_DIR") or Path(tempfile.gettempdir()) / "tinydl-lab5")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _compile(cc: str, source: Path, flags: list, target: Path) -> subprocess.CompletedProcess:
    partial = target.with_name(f"{target.name}.{os.getpid()}.partial")
    done = subprocess.run(cc.split() + flags + [str(source), "-o", str(partial)],
                          capture_output=True, text=True)
    if done.returncode == 0:
        os.replace(partial, target)          # atomic: a half-written library is never loaded
    else:
        partial.unlink(missing_ok=True)
    return done


def build(source=HERE / "gemm.c", extra_flags=()) -> Path:
    """Compile source (if not already built); return the shared library's path.

    Raises:
        RuntimeError: no compiler, or the source does not compile (with the compiler's errors).
    """
    source = Path(source)
    cc = compiler()
    suffix = ".dylib" if sys.platform == "darwin" else (sysconfig.get_config_var("SHLIB_SUFFIX") or ".so")
    for flags in (BASE_FLAGS + FAST_FLAGS + list(extra_flags), BASE_FLAGS + list(extra_flags)):
        digest = hashlib.sha256(source.read_bytes() + " ".join([cc] + flags).encode()).hexdigest()[:16]
        target = build_dir() / f"libgemm_{digest}{suffix}"
        if target.exists():
            return target
        done = _compile(cc, source, flags, target)
        if done.returncode == 0:
            return target
        if FAST_FLAGS[0] not in done.stderr:  # a real error in gemm.c, not a flag the compiler lacks
            break
    raise RuntimeError(f"{source.name} does not compile ({cc} {' '.join(flags)}):\n{done.stderr.strip()}")


if __name__ == "__main__":
    print(build())
