"""Layers with Keras' names, arguments and defaults; Layer is the base for your own."""

from tinydl.layers.base import LAYER_CLASSES, Layer, Variable
from tinydl.layers.core import Activation, Dense, Dropout, Flatten
