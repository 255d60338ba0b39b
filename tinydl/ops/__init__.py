"""tinydl.ops is keras.ops: differentiable ops on Tensors, arrays and numbers, by Keras' names.

    import tinydl as keras
    from tinydl import ops
    y = ops.softmax(ops.matmul(x, w), axis=-1)     # x, w: Tensors or NumPy arrays; y: a Tensor
    ops.convert_to_numpy(y)                        # back to a NumPy array

The ops live by family: keras_core.py (dtypes, convert_to_tensor, cast), keras_numpy.py (math,
comparisons, reductions), keras_array.py (creation, shapes, linear algebra), keras_nn.py
(activations, one_hot, cross-entropies). Each applies Functions (forward beside backward) from
elementwise.py, reduce.py, movement.py, matmul.py and loss.py. operators.py holds what Tensor's
operators call (sub, mul, div, neg, pow, getitem, flatten); those names stay here too.
On KerasTensors (a functional model's symbolic tensors) each op records a graph node instead
of computing (keras_symbolic.py, keras_op_layer.py). A Keras op that tinydl lacks raises an
AttributeError (and NotImplementedError) saying so.
"""

from __future__ import annotations

import difflib

from tinydl.ops.keras_array import *  # noqa: F401,F403
from tinydl.ops.keras_array import __all__ as _array_names
from tinydl.ops.keras_core import (cast, convert_to_numpy, convert_to_tensor, dtype,  # noqa: F401
                                   is_tensor, ndim, result_type, shape, size, stop_gradient)
from tinydl.ops.keras_nn import *  # noqa: F401,F403
from tinydl.ops.keras_nn import __all__ as _nn_names
from tinydl.ops.keras_numpy import *  # noqa: F401,F403
from tinydl.ops.keras_numpy import __all__ as _numpy_names
from tinydl.ops import keras_symbolic as _symbolic
from tinydl.ops.operators import div, flatten, getitem, mul, neg, pow, sub  # noqa: A004

_core_names = ["cast", "convert_to_numpy", "convert_to_tensor", "dtype", "is_tensor", "ndim",
               "shape", "size", "stop_gradient"]
KERAS_NAMES = tuple(sorted(_core_names + _array_names + _nn_names + _numpy_names))
# beside Keras' ops: keras.backend.result_type, and the names Tensor's operators use
__all__ = list(KERAS_NAMES) + ["result_type", "div", "flatten", "getitem", "mul", "neg", "pow",
                               "sub"]


# on KerasTensors an op records a node of the functional graph (tinydl.ops.keras_symbolic)
for _name in __all__:
    if _name not in _symbolic.NOT_SYMBOLIC:
        globals()[_name] = _symbolic.symbolic_aware(globals()[_name], _symbolic._OP_NAMES.get(
            _name, _name))
del _name


class NotImplementedInTinydl(AttributeError, NotImplementedError):
    """A Keras name tinydl does not provide (an AttributeError, so hasattr() is False).

    Example:
        >>> hasattr(tinydl.ops, "fft2")
        False
        >>> tinydl.ops.matmull
        Traceback (most recent call last):
        ...
        tinydl.ops.NotImplementedInTinydl: keras.ops.matmull is not implemented in tinydl (...). Did you mean matmul...?
    """


def __getattr__(name: str):
    if name.startswith("__"):
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    close = difflib.get_close_matches(name, __all__, n=3)
    hint = f" Did you mean {' or '.join(close)}?" if close else ""
    raise NotImplementedInTinydl(
        f"keras.ops.{name} is not implemented in tinydl (tinydl.ops has {len(KERAS_NAMES)} of "
        f"Keras' ops, listed in docs/keras_ops.md).{hint}")
