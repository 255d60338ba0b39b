"""Models: Sequential, a stack of layers with Keras' compile / fit / evaluate / predict.

    from tinydl.models import Sequential
"""

from tinydl.models.sequential import Sequential

__all__ = ["Sequential"]
