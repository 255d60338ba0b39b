"""Helpers for the native-vs-reference kernel tests: per-dtype tolerances."""

from __future__ import annotations

import numpy as np

# Relative tolerance per dtype, scaled by sqrt(length of the reduction) in assert_close.
RTOL = {np.dtype(np.float32): 2e-6, np.dtype(np.float64): 1e-14}


def assert_close(ours, oracle, reduction: int = 1, what: str = "") -> None:
    """ours matches oracle within the dtype's tolerance, for sums over `reduction` terms."""
    ours, oracle = np.asarray(ours), np.asarray(oracle)
    assert ours.shape == oracle.shape, f"{what}: shape {ours.shape} != {oracle.shape}"
    assert ours.dtype == oracle.dtype, f"{what}: dtype {ours.dtype} != {oracle.dtype}"
    if ours.size == 0:
        return
    if ours.dtype.kind in "iu":  # indices (argmax) must match exactly
        assert np.array_equal(ours, oracle), f"{what}: integer results differ"
        return
    tol = RTOL[ours.dtype] * 8 * np.sqrt(max(reduction, 1))
    scale = max(float(np.max(np.abs(oracle))), 1.0)
    gap = float(np.max(np.abs(ours.astype(np.float64) - oracle.astype(np.float64))))
    assert gap <= tol * scale, f"{what}: max gap {gap:.3g} > {tol * scale:.3g} (scale {scale:.3g})"
