"""Helpers for the native-vs-reference kernel tests: per-dtype tolerances, conv geometries."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from tinydl.kernels.shapes import window_geometry

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


@st.composite
def conv_geometries(draw):
    """(dtype, x_shape (N, H, W, C), window, strides, padding, F, (OH, OW)) of a convolution:
    windows 1..4 (non-square), strides 1..3, 'valid' or 'same', N 1..5, C 1..40, F 1..70."""
    dtype = draw(st.sampled_from((np.float32, np.float64)))
    n, c, f = draw(st.integers(1, 5)), draw(st.integers(1, 40)), draw(st.integers(1, 70))
    window = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    strides = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    h, w = draw(st.integers(1, 17)), draw(st.integers(1, 17))
    padding = draw(st.sampled_from(("valid", "same")))
    if padding == "valid" and (window[0] > h or window[1] > w):
        padding = "same"
    out_hw, _ = window_geometry((h, w), window, strides, padding)
    return dtype, (n, h, w, c), window, strides, padding, f, out_hw
