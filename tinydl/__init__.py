"""tinydl: a small deep-learning framework: autograd over NumPy, native C kernels, a Keras-style API.

    import tinydl
    x = tinydl.Tensor([[1.0, 2.0]], requires_grad=True)
    (x * x).sum().backward()          # x.grad == [[2., 4.]]

It is also Keras 3's top level, so a Keras program can start with `import tinydl as keras`:

    import tinydl as keras
    inputs = keras.Input(shape=(784,))
    outputs = keras.layers.Dense(10, activation="softmax")(inputs)
    model = keras.Model(inputs, outputs)

A Keras name tinydl lacks raises NotImplementedInTinydl, saying so (tinydl.keras_names).
"""

from tinydl.autograd import (AnomalyError, Function, detect_anomaly, enable_grad, is_anomaly_enabled,
                             is_grad_enabled, no_grad, set_grad_enabled)
from tinydl.backend import (backend_info, check_backends, get_backend, get_num_threads, set_backend,
                            set_num_threads, use_backend)
from tinydl.profiler import profile
from tinydl.tensor import Tensor
from tinydl import functional, tree, utils  # noqa: E402,F401
from tinydl import (activations, backend, callbacks, datasets, initializers, layers,  # noqa: E402,F401
                    losses, metrics, models, ops, optimizers, random, regularizers, saving)
from tinydl.layers import Input, InputLayer, Layer, Variable  # noqa: E402
from tinydl.layers.symbolic import KerasTensor  # noqa: E402
from tinydl.losses import Loss  # noqa: E402
from tinydl.metrics import Metric  # noqa: E402
from tinydl.models import Model, Sequential  # noqa: E402
from tinydl.fusion import fusion_enabled, set_fusion, use_fusion  # noqa: E402
from tinydl.optimizers import Optimizer  # noqa: E402

__version__ = "0.1.0"
__all__ = [
    "Tensor", "Function", "no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled",
    "detect_anomaly", "is_anomaly_enabled", "AnomalyError", "functional", "utils", "tree", "ops",
    "activations", "backend", "callbacks", "datasets", "initializers", "layers", "losses",
    "metrics", "models", "optimizers", "random", "regularizers", "saving",
    "Sequential", "Model", "Input", "InputLayer", "Layer", "Variable", "KerasTensor", "Loss",
    "Metric", "Optimizer",
    "set_backend", "get_backend", "use_backend", "backend_info", "check_backends",
    "set_num_threads", "get_num_threads", "profile", "set_fusion", "fusion_enabled", "use_fusion",
]


def version() -> str:
    """keras.version(): this tinydl's version.

    Returns:
        tinydl.__version__, e.g. '0.1.0'.

    Example:
        >>> version() == __version__, version().count(".") >= 1
        (True, True)
    """
    return __version__


from tinydl import keras_names  # noqa: E402

__getattr__ = keras_names.missing(__name__, "")  # a Keras name tinydl lacks: a clear error
datasets.__getattr__ = keras_names.missing(datasets.__name__, "datasets")  # datasets stays a leaf
