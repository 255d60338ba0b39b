"""The reference kernels by name (tinydl.kernels.reference.gemm, ...): readable NumPy, the oracle.

Each reference kernel lives in its family module, tinydl/kernels/<family>.py, as
<name>_reference beside its checks and its native twin; this module gathers them under the
kernels' names, with the same signatures as tinydl.kernels.native. Arguments must arrive
checked (the entries in tinydl.backend check them), so these functions only compute.
Letters used for shapes everywhere: N batch, H/W input height/width, C input channels,
KH/KW kernel or pool window, F filters (output channels), OH/OW output height/width,
K classes. `pads` is always (top, bottom, left, right); `strides` is (SH, SW).

Example:
    >>> from tinydl.kernels import reference
    >>> reference.gemm(np.eye(2), np.ones((2, 3))).shape
    (2, 3)
"""

from __future__ import annotations

from tinydl.kernels import _registry
from tinydl.kernels.conv2d import _conv_output_grad  # noqa: F401 (docs/kernels.md reads it)
from tinydl.kernels.windows import col2im, im2col  # noqa: F401 (lab 3 and winograd use them)

# Every kernel's reference, by its name (e.g. gemm = tinydl.kernels.gemm.gemm_reference).
globals().update({name: kernel.reference for name, kernel in _registry.kernels().items()})
