"""Models: Sequential (a stack of layers) and Model (functional or subclassed), with Keras'
compile / fit / evaluate / predict / save.

    from tinydl.models import Model, Sequential, load_model
"""

from tinydl.model_io import load_model, save_model
from tinydl.models.cloning import clone_model
from tinydl.models.model import Functional, Model
from tinydl.models.sequential import Sequential

__all__ = ["Model", "Functional", "Sequential", "load_model", "save_model", "clone_model"]

from tinydl import keras_names  # noqa: E402

__getattr__ = keras_names.missing(__name__, "models")  # a Keras name tinydl lacks: a clear error
