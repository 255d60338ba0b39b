"""ReLU treats NaN and infinities the same way in both backends (NaN passes, as np.maximum)."""

import numpy as np
import pytest

from tinydl.kernels import reference

native = pytest.importorskip("tinydl.kernels.native")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_relu_forward_and_backward_agree_on_special_values(dtype):
    x = np.array([np.nan, -1.0, 2.0, np.inf, -np.inf, 0.0, -0.0], dtype=dtype)
    np.testing.assert_array_equal(native.relu_forward(x), reference.relu_forward(x))
    y = reference.relu_forward(x)
    dy = np.array([1.0, 2.0, 3.0, np.inf, 5.0, np.nan, 7.0], dtype=dtype)
    np.testing.assert_array_equal(native.relu_backward(y, dy), reference.relu_backward(y, dy))
