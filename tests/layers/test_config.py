"""get_config -> JSON -> from_config round trips for every layer, and regularizer configs."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tinydl import regularizers
from tinydl.layers import (LAYER_CLASSES, Activation, AveragePooling2D, BatchNormalization, Conv2D,
                           Dense, Dropout, Flatten, GlobalAveragePooling2D, InputLayer, Lambda,
                           MaxPooling2D, Normalization, RandomCrop, RandomFlip, RandomTranslation,
                           ReLU, Rescaling, Softmax)
from tinydl.layers import (ELU, Conv2DTranspose, Cropping2D, DepthwiseConv2D, GlobalMaxPooling2D,
                           LeakyReLU, Permute, PReLU, RandomBrightness, RandomContrast,
                           RandomRotation, RandomZoom, Reshape, SeparableConv2D, UpSampling2D,
                           TextVectorization, ZeroPadding2D)
from tinydl.layers import (GRU, LSTM, RNN, GRUCell, LSTMCell, SimpleRNNCell, StackedRNNCells,
                           AveragePooling1D, Bidirectional, Conv1D, Embedding,
                           GlobalAveragePooling1D, GlobalMaxPooling1D, LayerNormalization,
                           MaxPooling1D, MultiHeadAttention, RepeatVector, SimpleRNN,
                           SpatialDropout1D, TimeDistributed)
from tinydl.layers import (ActivityRegularization, AlphaDropout, Cropping1D, GaussianDropout,
                           GaussianNoise, GroupNormalization, Identity, Masking, SpatialDropout2D,
                           UnitNormalization, UpSampling1D, ZeroPadding1D)
from tinydl.layers import (Add, Average, Concatenate, Dot, Maximum, Minimum, Multiply, Subtract)


def double(x):
    return x * 2.0


# (layer, sample shape) with non-default arguments wherever there are some
CASES = [
    (Dense(4, activation="relu", use_bias=False, kernel_initializer="he_normal",
           kernel_regularizer=regularizers.l2(1e-4), input_shape=(6,), name="head"), (6,)),
    (Dense(3, bias_regularizer="l1_l2", trainable=False), (5,)),
    (Conv2D(4, (3, 2), strides=(2, 1), padding="same", activation="tanh",
            bias_initializer="ones", kernel_regularizer=regularizers.l1_l2(0.1, 0.2)), (7, 6, 2)),
    (MaxPooling2D((3, 2), strides=1, padding="same"), (5, 5, 2)),
    (AveragePooling2D(3, strides=(2, 1)), (7, 6, 2)),
    (GlobalAveragePooling2D(keepdims=True), (4, 4, 3)),
    (Flatten(), (3, 4)),
    (Dropout(0.25, seed=3), (8,)),
    (BatchNormalization(axis=1, momentum=0.9, epsilon=1e-4, center=False,
                        gamma_regularizer="l2", moving_variance_initializer="ones"), (3, 4)),
    (Activation("sigmoid"), (5,)),
    (ReLU(max_value=6.0, negative_slope=0.1, threshold=0.5), (5,)),
    (Softmax(axis=1), (3, 4)),
    (InputLayer(shape=(5,)), (5,)),
    (Lambda(double, output_shape=(5,)), (5,)),
    (Rescaling([0.5, 2.0], offset=-1.0), (3, 2)),
    (Normalization(axis=(1, 2)), (3, 2)),
    (Normalization(mean=[1.0, 2.0], variance=[4.0, 9.0]), (2,)),
    (RandomFlip("horizontal", seed=1), (6, 6, 2)),
    (RandomCrop(4, 3, seed=2), (6, 6, 2)),
    (RandomTranslation((-0.1, 0.2), 0.3, fill_mode="wrap", interpolation="nearest", seed=4,
                       fill_value=1.0), (6, 6, 2)),
    (GlobalMaxPooling2D(keepdims=True), (4, 4, 3)),
    (Conv2DTranspose(3, (3, 2), strides=2, padding="same", output_padding=1, activation="relu",
                     kernel_regularizer="l2"), (4, 4, 2)),
    (DepthwiseConv2D(3, depth_multiplier=2, use_bias=False, depthwise_initializer="he_normal"),
     (5, 5, 2)),
    (SeparableConv2D(4, 2, strides=2, depth_multiplier=3, pointwise_regularizer="l1"), (5, 5, 2)),
    (UpSampling2D((2, 3), interpolation="bilinear"), (3, 3, 2)),
    (ZeroPadding2D(((1, 2), (0, 3))), (3, 3, 2)),
    (Cropping2D((1, 0)), (4, 3, 2)),
    (Reshape((-1, 3)), (2, 6)),
    (Permute((2, 1)), (2, 6)),
    (LeakyReLU(0.1), (5,)),
    (ELU(0.5), (5,)),
    (PReLU(alpha_initializer="ones", shared_axes=[1, 2]), (3, 3, 2)),
    (RandomRotation((-0.1, 0.2), fill_mode="constant", interpolation="nearest", seed=5,
                    fill_value=2.0), (6, 6, 2)),
    (RandomZoom(0.2, (-0.1, 0.3), fill_mode="nearest", seed=6), (6, 6, 2)),
    (RandomContrast(0.4, value_range=(0, 1), seed=7), (6, 6, 2)),
    (RandomBrightness((-0.2, 0.1), seed=8), (6, 6, 2)),
    (TextVectorization(max_tokens=5, output_sequence_length=3, vocabulary=["a", "b"]), None),
    # sequence layers
    (Embedding(7, 3, mask_zero=True, embeddings_initializer="glorot_uniform",
               embeddings_regularizer="l2"), (5,)),
    (SimpleRNN(3, activation="relu", use_bias=False, return_sequences=True, go_backwards=True),
     (4, 2)),
    (LSTM(3, unit_forget_bias=False, recurrent_activation="tanh", dropout=0.1, seed=2,
          recurrent_regularizer="l1"), (4, 2)),
    (GRU(3, reset_after=False, return_sequences=True, recurrent_initializer="glorot_uniform"),
     (4, 2)),
    (Bidirectional(LSTM(3, return_sequences=True), merge_mode="sum"), (4, 2)),
    (RNN(LSTMCell(3, recurrent_activation="tanh"), return_sequences=True), (4, 2)),
    (RNN([SimpleRNNCell(2), GRUCell(3)], go_backwards=True), (4, 2)),
    (RNN(StackedRNNCells([SimpleRNNCell(2)])), (4, 2)),
    # cells run inside RNN (above); their own round trip: tests/layers/test_rnn_cells.py
    (SimpleRNNCell(3), None), (LSTMCell(3), None), (GRUCell(3), None),
    (StackedRNNCells([GRUCell(3)]), None),
    (TimeDistributed(Dense(3, activation="tanh")), (4, 2)),
    (Conv1D(3, 2, padding="causal", dilation_rate=2, activation="relu"), (7, 2)),
    (MaxPooling1D(3, strides=1, padding="same"), (7, 2)),
    (AveragePooling1D(2), (7, 2)),
    (GlobalMaxPooling1D(keepdims=True), (7, 2)),
    (GlobalAveragePooling1D(), (7, 2)),
    (RepeatVector(3), (2,)),
    (SpatialDropout1D(0.3, seed=1), (4, 2)),
    (Dropout(0.2, noise_shape=(None, 1, None)), (4, 2)),
    (LayerNormalization(axis=[1, 2], epsilon=1e-6, center=False), (4, 2)),
    # regularization and 1-D reshaping layers
    (GaussianNoise(0.2, seed=1), (4,)),
    (GaussianDropout(0.3, seed=2), (4,)),
    (AlphaDropout(0.1, noise_shape=(None, 1), seed=3), (4,)),
    (SpatialDropout2D(0.2, seed=4), (3, 3, 2)),
    (ActivityRegularization(l1=0.1, l2=0.01), (4,)),
    (Dense(2, activity_regularizer="l1"), (3,)),
    (ZeroPadding1D((1, 2)), (4, 2)),
    (Cropping1D(1), (4, 2)),
    (UpSampling1D(3), (4, 2)),
    (Identity(), (4,)),
    (GroupNormalization(groups=2, epsilon=1e-4, center=False), (3, 4)),
    (UnitNormalization(axis=[1, 2]), (3, 2)),
    (Masking(mask_value=-1.0), (3, 2)),
    (MultiHeadAttention(2, 3, value_dim=2, output_shape=5, dropout=0.1, seed=3), (4, 2)),
]


# merge layers: (layer, the sample shapes of its inputs)
MERGE_CASES = [
    (Add(name="plus"), [(3,), (3,), (3,)]), (Subtract(), [(2, 3), (2, 3)]),
    (Multiply(), [(4,), (4,)]), (Average(), [(4,), (4,)]), (Maximum(), [(3,), (3,)]),
    (Minimum(), [(3,), (3,)]), (Concatenate(axis=1), [(2, 3), (4, 3)]),
    (Dot(axes=-1, normalize=True), [(5,), (5,)]),
]


@pytest.mark.parametrize("layer, sample_shapes", MERGE_CASES,
                         ids=[type(c[0]).__name__ for c in MERGE_CASES])
def test_merge_layers_round_trip(layer, sample_shapes):
    rng = np.random.default_rng(0)
    xs = [rng.standard_normal((2,) + shape).astype(np.float32) for shape in sample_shapes]
    config = json.loads(json.dumps(layer.get_config()))
    clone = LAYER_CLASSES[type(layer).__name__].from_config(config)
    assert clone.get_config() == config
    np.testing.assert_array_equal(clone(xs).data, layer(xs).data)


def test_every_built_in_layer_has_a_round_trip_case():
    covered = {type(layer).__name__ for layer, _ in CASES + MERGE_CASES}
    built_in = {name for name, cls in LAYER_CLASSES.items()
                if cls.__module__.startswith("tinydl.layers")}  # models: tests/models
    assert built_in <= covered, f"no round-trip case for {sorted(built_in - covered)}"


NUMERIC_CASES = [c for c in CASES if c[1] is not None]  # strings: see test_text_vectorization.py


@pytest.mark.parametrize("layer, sample_shape", NUMERIC_CASES,
                         ids=[type(c[0]).__name__ for c in NUMERIC_CASES])
def test_round_trip_gives_same_config_and_output(layer, sample_shape):
    x = np.random.default_rng(0).standard_normal((2,) + sample_shape).astype(np.float32)
    if isinstance(layer, Embedding):
        x = np.random.default_rng(0).integers(0, layer.input_dim, (2,) + sample_shape)
    if isinstance(layer, Normalization) and layer.input_mean is None:
        layer.adapt(x * 3 + 1)
    layer.build_for((None,) + sample_shape)
    if isinstance(layer, MultiHeadAttention):  # its weights need the value's shape: self-attention
        layer.build((None,) + sample_shape, (None,) + sample_shape)
    config = layer.get_config()
    config = json.loads(json.dumps(config))            # JSON-serializable, and survives it
    cls = LAYER_CLASSES[type(layer).__name__]
    if cls is Lambda:
        clone = Lambda.from_config(config, custom_objects={"double": double})
    else:
        clone = cls.from_config(config)
    assert clone.get_config() == config
    clone.build_for((None,) + sample_shape)
    if isinstance(clone, MultiHeadAttention):
        clone.build((None,) + sample_shape, (None,) + sample_shape)
    clone.set_weights(layer.get_weights())
    args = (x,) if isinstance(layer, MultiHeadAttention) else ()  # query, value
    np.testing.assert_array_equal(clone(x, *args).data, layer(x, *args).data)
    assert clone.count_params() == layer.count_params()
    assert clone.trainable == layer.trainable


def test_config_contents_use_names_and_serialized_regularizers():
    config = CASES[0][0].get_config()
    assert config["activation"] == "relu" and config["kernel_initializer"] == "he_normal"
    assert config["kernel_regularizer"] == {"class": "L1L2", "l1": 0.0, "l2": 1e-4}
    assert config["bias_regularizer"] is None and config["input_shape"] == [6]
    assert config["name"] == "head"


def test_custom_callables_are_saved_as_none():
    config = Dense(3, activation=lambda x: x, kernel_initializer=lambda s, dtype: np.zeros(s),
                   kernel_regularizer=lambda w: (w * w).sum()).get_config()
    assert config["activation"] is None and config["kernel_initializer"] is None
    assert config["kernel_regularizer"] is None


def test_lambda_needs_its_function_back():
    config = Lambda(double).get_config()
    assert config["function"] == "double"
    with pytest.raises(ValueError, match=r"custom_objects=\{'double': your_function\}"):
        Lambda.from_config(config)


def test_regularizer_serialize_deserialize_round_trip():
    for reg in (regularizers.l1(0.3), regularizers.l2(), regularizers.l1_l2(0.1, 0.2)):
        config = regularizers.serialize(reg)
        assert json.loads(json.dumps(config)) == config
        assert regularizers.deserialize(config) == reg
        assert regularizers.get(config) == reg
    assert regularizers.serialize(None) is None and regularizers.deserialize(None) is None
    assert regularizers.serialize(lambda w: w) is None
    with pytest.raises(ValueError, match="Received: {'class': 'L3'}"):
        regularizers.deserialize({"class": "L3"})


def test_regularizer_penalty_reaches_layer_losses():
    layer = Dense(2, kernel_regularizer=regularizers.l1_l2(0.5, 0.25))
    layer.build_for((None, 3))
    k = layer.kernel.data
    (penalty,) = layer.losses
    np.testing.assert_allclose(penalty.item(), 0.5 * np.abs(k).sum() + 0.25 * (k * k).sum(),
                               rtol=1e-5)
