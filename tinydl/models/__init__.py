"""Models: Sequential, a stack of layers with Keras' compile / fit / evaluate / predict / save.

    from tinydl.models import Sequential, load_model
"""

from tinydl.model_io import load_model
from tinydl.models.sequential import Sequential

__all__ = ["Sequential", "load_model"]
