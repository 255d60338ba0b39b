"""Layers with Keras' names, arguments and defaults; Layer is the base for your own.

    from tinydl.layers import Conv2D, MaxPooling2D, Flatten, Dense

One family per module: core (Dense, Activation, Flatten, Dropout, SpatialDropout1D,
RepeatVector, Lambda), activation (ReLU, Softmax, LeakyReLU, ELU, PReLU), convolutional
(Conv2D, Conv2DTranspose, DepthwiseConv2D, SeparableConv2D), pooling, reshaping (Reshape,
Permute, ZeroPadding1D/2D, Cropping1D/2D, UpSampling1D/2D), normalization (BatchNormalization,
LayerNormalization), normalization_groups (GroupNormalization, UnitNormalization), mask_layer
(Masking), preprocessing (Rescaling, Normalization), augmentation (RandomFlip,
RandomCrop, RandomTranslation, RandomContrast, RandomBrightness), augmentation_affine
(RandomRotation, RandomZoom), text_vectorization (TextVectorization) and input_layer (Input,
InputLayer); for sequences embedding (Embedding), recurrent (SimpleRNN, LSTM, GRU), wrappers
(Bidirectional, TimeDistributed), conv1d (Conv1D and the 1-D pooling layers) and attention
(MultiHeadAttention), merge (Add, Concatenate, ...; add(), concatenate(), ...), regularization
(GaussianNoise, GaussianDropout, AlphaDropout, SpatialDropout2D, ActivityRegularization),
identity (Identity); Keras' aliases (MaxPool2D, Convolution2D, ...) name the same classes;
masking holds the rules by which masks travel. LAYER_CLASSES maps every
layer class name, your own subclasses included, to its class (what a saved model may name).
"""

from tinydl.layers.base import LAYER_CLASSES, Layer, Variable
from tinydl.layers.activation import ELU, LeakyReLU, PReLU, ReLU, Softmax
from tinydl.layers.attention import MultiHeadAttention
from tinydl.layers.augmentation import (RandomBrightness, RandomContrast, RandomCrop, RandomFlip,
                                        RandomTranslation)
from tinydl.layers.augmentation_affine import RandomRotation, RandomZoom
from tinydl.layers.conv1d import (AveragePooling1D, Conv1D, GlobalAveragePooling1D,
                                  GlobalMaxPooling1D, MaxPooling1D)
from tinydl.layers.convolutional import Conv2D, Conv2DTranspose, DepthwiseConv2D, SeparableConv2D
from tinydl.layers.core import (Activation, Dense, Dropout, Flatten, Lambda, RepeatVector,
                                SpatialDropout1D)
from tinydl.layers.embedding import Embedding
from tinydl.layers.identity import Identity
from tinydl.layers.input_layer import Input, InputLayer
from tinydl.layers.merge import (Add, Average, Concatenate, Dot, Maximum, Minimum, Multiply,
                                 Subtract, add, average, concatenate, dot, maximum, minimum,
                                 multiply, subtract)
from tinydl.layers.mask_layer import Masking
from tinydl.layers.normalization import BatchNormalization, LayerNormalization
from tinydl.layers.normalization_groups import GroupNormalization, UnitNormalization
from tinydl.layers.pooling import (AveragePooling2D, GlobalAveragePooling2D, GlobalMaxPooling2D,
                                   MaxPooling2D)
from tinydl.layers.preprocessing import Normalization, Rescaling
from tinydl.layers.recurrent import GRU, LSTM, SimpleRNN
from tinydl.layers.rnn_cells import RNN, GRUCell, LSTMCell, SimpleRNNCell, StackedRNNCells
from tinydl.layers.regularization import (ActivityRegularization, AlphaDropout, GaussianDropout,
                                          GaussianNoise, SpatialDropout2D)
from tinydl.layers.reshaping import (Cropping1D, Cropping2D, Permute, Reshape, UpSampling1D,
                                     UpSampling2D, ZeroPadding1D, ZeroPadding2D)
from tinydl.layers.text_vectorization import TextVectorization
from tinydl.layers.wrappers import Bidirectional, TimeDistributed

__all__ = [
    "Layer", "Variable", "LAYER_CLASSES",
    "Dense", "Activation", "Flatten", "Dropout", "Lambda", "ReLU", "Softmax",
    "Conv2D", "MaxPooling2D", "AveragePooling2D", "GlobalAveragePooling2D",
    "BatchNormalization", "Rescaling", "Normalization",
    "RandomFlip", "RandomCrop", "RandomTranslation", "Input", "InputLayer",
    # image family
    "GlobalMaxPooling2D", "Conv2DTranspose", "DepthwiseConv2D", "SeparableConv2D",
    "Reshape", "Permute", "ZeroPadding2D", "Cropping2D", "UpSampling2D",
    "LeakyReLU", "ELU", "PReLU",
    "RandomRotation", "RandomZoom", "RandomContrast", "RandomBrightness",
    "TextVectorization",
    # sequence family
    "Embedding", "SimpleRNN", "LSTM", "GRU", "RNN", "SimpleRNNCell", "LSTMCell", "GRUCell",
    "StackedRNNCells", "Bidirectional", "TimeDistributed", "Conv1D",
    "MaxPooling1D", "AveragePooling1D", "GlobalMaxPooling1D", "GlobalAveragePooling1D",
    "RepeatVector", "SpatialDropout1D", "LayerNormalization", "MultiHeadAttention",
    "Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate", "Dot",
    "add", "subtract", "multiply", "average", "maximum", "minimum", "concatenate", "dot",
    "ZeroPadding1D", "Cropping1D", "UpSampling1D", "Identity",
    # regularization family
    "GaussianNoise", "GaussianDropout", "AlphaDropout", "SpatialDropout2D", "ActivityRegularization",
    "GroupNormalization", "UnitNormalization", "Masking",
]

# Keras' other names for the same classes (keras.layers.MaxPool2D is MaxPooling2D)
MaxPool1D, MaxPool2D, AvgPool1D, AvgPool2D = MaxPooling1D, MaxPooling2D, AveragePooling1D, AveragePooling2D
GlobalMaxPool1D, GlobalMaxPool2D = GlobalMaxPooling1D, GlobalMaxPooling2D
GlobalAvgPool1D, GlobalAvgPool2D = GlobalAveragePooling1D, GlobalAveragePooling2D
Convolution1D, Convolution2D, Convolution2DTranspose = Conv1D, Conv2D, Conv2DTranspose
SeparableConvolution2D = SeparableConv2D
__all__ += ["MaxPool1D", "MaxPool2D", "AvgPool1D", "AvgPool2D", "GlobalMaxPool1D", "GlobalMaxPool2D",
            "GlobalAvgPool1D", "GlobalAvgPool2D", "Convolution1D", "Convolution2D",
            "Convolution2DTranspose", "SeparableConvolution2D"]

from tinydl import keras_names  # noqa: E402

__getattr__ = keras_names.missing(__name__, "layers")  # a Keras name tinydl lacks: a clear error
