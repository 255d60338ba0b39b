"""The sizes the kernels' index types can hold, checked on shapes before any array is copied.

Two limits, from the C kernels (csrc/) and the int32 argmax both backends return:

- Every size, index and offset in C is a tdl_index (int64). The largest values C computes
  are an element count times a thread number (below 2**10, tinydl.backend.MAX_THREADS),
  times an element size (8 bytes), or times 16 positions of a Winograd tile or 24 patch rows.
  So every array a kernel reads or writes, and every size it derives from its arguments (the
  output, a fused convolution's unstored output, the pads and strides), must have at most
  MAX_ELEMENTS = 2**48 elements: those products then stay below 2**62. No machine can hold
  such an array (2**48 float32 are 1 PiB); the limit refuses broadcast or strided views of
  impossible sizes, and shape arguments, before NumPy copies them or C overflows.
- A max pool's argmax is int32: the flat index h*W + w of the winner in the pooled plane
  (the input's, for max_pool2d; the convolution's output, for the fused convolution and
  pool). So that plane may hold at most ARGMAX_PLANE_MAX = 2**31 pixels (indices up to
  2**31 - 1). A larger plane used to wrap to negative indices that the scatter of
  max_pool2d_backward then wrote through, far outside dx.
"""

from __future__ import annotations

MAX_ELEMENTS = 2**48
ARGMAX_PLANE_MAX = 2**31


def check_elements(where: str, **shapes) -> None:
    """Raise ValueError when a shape has more than MAX_ELEMENTS elements, or a dimension
    larger than that (a zero elsewhere does not excuse it).

    Args:
        where: the kernel's name, for the message.
        **shapes: name=shape (a tuple of ints) of each array the kernel reads, writes or
            derives; None entries are skipped.

    Raises:
        ValueError: naming the shape that is too large.

    Example:
        >>> check_elements("gemm", output=(4096, 4096), bias=None)
        >>> check_elements("gemm", output=(2**30, 2**30))
        Traceback (most recent call last):
        ...
        ValueError: gemm: output would have 1152921504606846976 elements (shape (1073741824, 1073741824)); ...
    """
    for name, shape in shapes.items():
        if shape is None:
            continue
        count, largest = 1, 0
        for s in shape:  # Python ints: a product of NumPy ints could wrap
            s = int(s)
            count *= s
            largest = s if s > largest else largest
        if count > MAX_ELEMENTS or largest > MAX_ELEMENTS:
            shape = tuple(int(s) for s in shape)
            raise ValueError(
                f"{where}: {name} would have {count} elements (shape {shape}); the kernels "
                f"index at most {MAX_ELEMENTS} = 2**48 (tinydl.kernels.limits.MAX_ELEMENTS). "
                f"Received: {name} shape {shape}"
            )


def check_scalars(where: str, name: str, values) -> None:
    """Raise ValueError when one of the ints in values (pads, strides, a window) is larger
    than MAX_ELEMENTS: C computes with them in int64 (e.g. oh * stride - pad).

    Args:
        where: the kernel's name, for the message.
        name: what the values are ('strides', 'pads', ...).
        values: the ints.

    Raises:
        ValueError: a value above MAX_ELEMENTS.

    Example:
        >>> check_scalars("conv2d", "pads", (1, 1, 0, 0))
        >>> check_scalars("conv2d", "strides", (2**50, 1))
        Traceback (most recent call last):
        ...
        ValueError: conv2d: strides must each be at most 281474976710656 = 2**48, the kernels' index limit. ...
    """
    if any(int(v) > MAX_ELEMENTS for v in values):
        raise ValueError(f"{where}: {name} must each be at most {MAX_ELEMENTS} = 2**48, the "
                         f"kernels' index limit. Received: {tuple(values)}")


def check_argmax_plane(where: str, name: str, hw) -> None:
    """Raise ValueError when an int32 argmax cannot index a plane of hw = (H, W) pixels.

    Args:
        where: the kernel's name, for the message.
        name: what the plane is, e.g. "the input" or "the convolution's output".
        hw: (H, W) of the plane the argmax indexes (h*W + w).

    Raises:
        ValueError: H * W > ARGMAX_PLANE_MAX.

    Example:
        >>> check_argmax_plane("max_pool2d", "the input", (46340, 46340))     # just below 2**31
        >>> check_argmax_plane("max_pool2d", "the input", (65536, 32769))
        Traceback (most recent call last):
        ...
        ValueError: max_pool2d: the max pool's argmax is int32, the flat index h*W + w into the input, ...
    """
    h, w = int(hw[0]), int(hw[1])
    if h * w > ARGMAX_PLANE_MAX:
        raise ValueError(
            f"{where}: the max pool's argmax is int32, the flat index h*W + w into {name}, "
            f"so that plane may have at most {ARGMAX_PLANE_MAX} = 2**31 pixels; split the "
            f"image into tiles below that. Received: (H, W) = ({h}, {w}), H*W = {h * w}"
        )
