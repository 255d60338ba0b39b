"""tinydl: a small deep-learning framework: autograd over NumPy, native C kernels, a Keras-style API.

    import tinydl
    x = tinydl.Tensor([[1.0, 2.0]], requires_grad=True)
    (x * x).sum().backward()          # x.grad == [[2., 4.]]
"""

from tinydl.autograd import (AnomalyError, Function, detect_anomaly, enable_grad, is_anomaly_enabled,
                             is_grad_enabled, no_grad, set_grad_enabled)
from tinydl.backend import (backend_info, check_backends, get_backend, get_num_threads, set_backend,
                            set_num_threads, use_backend)
from tinydl.profiler import profile
from tinydl.tensor import Tensor
from tinydl import functional, utils  # noqa: E402,F401
from tinydl import (activations, callbacks, datasets, initializers, layers, losses,  # noqa: E402,F401
                    metrics, models, optimizers, regularizers)

__version__ = "0.1.0"
__all__ = [
    "Tensor", "Function", "no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled",
    "detect_anomaly", "is_anomaly_enabled", "AnomalyError", "functional", "utils",
    "activations", "callbacks", "datasets", "initializers", "layers", "losses", "metrics", "models",
    "optimizers", "regularizers",
    "set_backend", "get_backend", "use_backend", "backend_info", "check_backends",
    "set_num_threads", "get_num_threads", "profile",
]
