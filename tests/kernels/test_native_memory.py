"""malloc keeps the blocks tinydl's steps free (tinydl/kernels/_extension.py, csrc/memory.h):
a step that makes and drops big arrays reuses the last step's pages instead of faulting in
fresh ones. Each case runs in a fresh interpreter, since the setting is made at import."""

from __future__ import annotations

import os
import platform
import subprocess
import sys

import pytest

from tinydl.kernels import native

# A step's worth of big temporaries (3 x 12 MiB), made and dropped; NumPy's huge pages are
# switched off so that every fresh 4 KiB page faults. Prints (setting taken, faults per step).
PROGRAM = """
import resource
import numpy as np
core = getattr(np, "_core", None) or np.core
core.multiarray._set_madvise_hugepage(False)
import tinydl
from tinydl.kernels import _extension

def faults():
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt

def step():
    arrays = [np.ones((12 << 20) // 8) for _ in range(3)]
    del arrays

step(); step()
start = faults()
for _ in range(10):
    step()
print(_extension.keeps_freed_memory, (faults() - start) / 10)
"""


def _run(**env):
    done = subprocess.run([sys.executable, "-c", PROGRAM], capture_output=True, text=True,
                          env={**os.environ, **env}, check=True)
    taken, faults = done.stdout.split()
    return taken == "True", float(faults)


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc's malloc settings")
@pytest.mark.skipif("asan" in os.environ.get("LD_PRELOAD", ""),
                    reason="AddressSanitizer replaces malloc (and ignores its settings)")
def test_a_step_reuses_the_memory_the_last_step_freed():
    assert native.info()["keeps_freed_memory"] in (True, False)
    taken, faults = _run()
    assert taken, "glibc took neither threshold"
    untuned_taken, untuned = _run(TINYDL_KEEP_FREED_MEMORY="0")
    assert not untuned_taken
    # 36 MiB of fresh 4 KiB pages is ~9,000 faults; kept memory faults (almost) none
    assert untuned > 2000, f"the untuned run did not fault as expected ({untuned} per step)"
    assert faults < 50, f"{faults} page faults per step with freed memory kept"
