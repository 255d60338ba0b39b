"""Recurrent and other sequence layers: gradient checks, masks against truncated sequences,
PyTorch's nn.LSTM / nn.GRU with mapped weights, and Keras-style errors for bad arguments."""

from __future__ import annotations

import numpy as np
import pytest

import tinydl
from tinydl import Tensor, layers
from tinydl.ops.embedding import EmbeddingLookup
from tinydl.utils import gradcheck

RNG = np.random.default_rng(0)
X = RNG.standard_normal((2, 5, 3))
MASK = np.array([[True] * 5, [False, False, True, True, True]])

GRADCHECKED = [
    layers.SimpleRNN(3, return_sequences=True),
    layers.LSTM(3, return_sequences=True),
    layers.LSTM(3, go_backwards=True),
    layers.GRU(3, return_sequences=True),
    layers.GRU(3, reset_after=False),                  # step by step (no fused node)
    layers.LSTM(3, recurrent_activation="tanh"),         # step by step
]


@pytest.fixture
def reference_backend():
    with tinydl.use_backend("reference"):
        yield


@pytest.mark.parametrize("backend_name", ["native", "reference"])
def test_weight_gradients_from_one_gemm_are_those_of_one_gemm_each(backend_name):
    """The recurrent ops' dkernel = x^T dz, drecurrent = h_prev^T dz and dbias = dz summed come
    from one GEMM whose A^T stacks [x | h_prev | 1]: with the native GEMM on one thread each
    product bit for bit that of its own GEMM (on two, the bigger product may split K where a
    small one runs on one thread; NumPy's BLAS blocks by size: float32 rounding), the ones'
    row NumPy's sum to float32 rounding, for every subset asked for."""
    from itertools import product

    from tinydl.kernels import gemm
    from tinydl.ops.recurrent import _products
    rng = np.random.default_rng(3)
    t, n, d, u, g = 40, 65, 5, 6, 64  # K = 2600: on 2 threads, the GEMMs split K
    x2 = rng.standard_normal((t * n, d)).astype(np.float32)
    # x as the LSTM's backward has it: a time-major view of a batch-major array
    x3 = np.ascontiguousarray(x2.reshape(t, n, d).transpose(1, 0, 2)).transpose(1, 0, 2)
    hs = rng.standard_normal((t, n, 2 * u)).astype(np.float32)[:, :, :u]  # a strided view
    h0 = rng.standard_normal((n, u)).astype(np.float32)
    dz = rng.standard_normal((t * n, g)).astype(np.float32)
    h_prev = np.concatenate([h0[None], hs[:-1]]).reshape(-1, u)
    previous = tinydl.backend.get_num_threads()
    with tinydl.use_backend(backend_name):
        for threads in (1, 2):
            tinydl.backend.set_num_threads(threads)
            dk = gemm.gemm(x2, dz, trans_a=True)
            dr = gemm.gemm(h_prev, dz, trans_a=True)
            for want_x, want_h, sums in product((False, True), repeat=3):
                got = _products(dz, x3 if want_x else None, (hs, h0) if want_h else None, sums)
                assert (got[0] is None) != want_x and (got[1] is None) != want_h
                assert (got[2] is None) != sums
                same = np.array_equal if threads == 1 and backend_name == "native" else (
                    lambda a, b: np.allclose(a, b, rtol=1e-5, atol=1e-4))
                if want_x:
                    assert same(got[0], dk)
                if want_h:
                    assert same(got[1], dr)
                if sums:
                    np.testing.assert_allclose(got[2], dz.sum(axis=0, dtype=np.float64),
                                               rtol=1e-5, atol=1e-4)
    tinydl.backend.set_num_threads(previous)


@pytest.mark.parametrize("layer", GRADCHECKED, ids=lambda layer: layer.name)
@pytest.mark.parametrize("mask", [None, MASK], ids=["unmasked", "masked"])
def test_recurrent_gradients_match_finite_differences(layer, mask, layer_gradcheck,
                                                      reference_backend):
    layer.build_for((None, 5, 3))
    assert layer_gradcheck(_Masked(layer, mask), X, ["kernel", "recurrent_kernel", "bias"])


class _Masked:
    """layer(x, mask=mask) under the attribute swapping of layer_gradcheck."""

    def __init__(self, layer, mask):
        object.__setattr__(self, "layer", layer)
        object.__setattr__(self, "mask", mask)

    def __getattr__(self, name):
        return getattr(self.layer, name)

    def __setattr__(self, name, value):
        setattr(self.layer, name, value)

    def __call__(self, x, training=None):
        return self.layer(x, mask=self.mask, training=training)


def _in_float64(layer):
    layer.build_for((None, 5, 3))
    for name in ("kernel", "recurrent_kernel", "bias"):
        setattr(layer, name, Tensor(np.array(getattr(layer, name).data, np.float64)))
    return layer


def test_initial_state_gradients_match_finite_differences(reference_backend):
    lstm = _in_float64(layers.LSTM(3, return_sequences=True))
    h0, c0 = RNG.standard_normal((2, 3)), RNG.standard_normal((2, 3))
    assert gradcheck(lambda x, h, c: lstm(x, initial_state=[h, c], mask=MASK), X, h0, c0,
                     atol=1e-5, rtol=1e-4)
    gru = _in_float64(layers.GRU(3, return_state=True))
    assert gradcheck(lambda x, h: gru(x, initial_state=h)[1], X, h0, atol=1e-5, rtol=1e-4)


def test_embedding_lookup_gradient_matches_finite_differences(reference_backend):
    ids = np.array([[1, 3, 1], [0, 2, 3]])
    assert gradcheck(lambda table: EmbeddingLookup.apply(table, ids), RNG.standard_normal((4, 2)))


def test_embedding_lookup_gradient_through_a_transpose_matches_the_scatter_sum():
    # an RNN hands back a time-major gradient transposed to batch-major (not C-contiguous):
    # the lookup reads it in memory order, and every id's row still gets its sum
    rng = np.random.default_rng(1)
    ids = rng.integers(0, 7, (4, 9))
    table = Tensor(rng.standard_normal((7, 3)), requires_grad=True)
    upstream = rng.standard_normal((9, 4, 3))
    (EmbeddingLookup.apply(table, ids).transpose(1, 0, 2) * Tensor(upstream)).sum().backward()
    expected = np.zeros((7, 3))
    np.add.at(expected, ids, upstream.transpose(1, 0, 2))
    np.testing.assert_allclose(table.grad, expected, rtol=1e-12)


@pytest.mark.parametrize("layer, names", [
    (layers.LSTM(3, use_bias=False, return_sequences=True), ["kernel", "recurrent_kernel"]),
    (layers.GRU(3, use_bias=False), ["kernel", "recurrent_kernel"]),
    (layers.SimpleRNN(3, use_bias=False), ["kernel", "recurrent_kernel"]),
    (layers.Conv1D(2, 3, strides=2, padding="same"), ["kernel", "bias"]),
    (layers.Conv1D(2, 2, dilation_rate=2, padding="causal", activation="relu"), ["kernel", "bias"]),
    (layers.LayerNormalization(), ["gamma", "beta"]),
    (layers.LayerNormalization(axis=[1, 2]), ["gamma", "beta"]),
    (layers.TimeDistributed(layers.Dense(2)), []),
    (layers.AveragePooling1D(2, strides=1, padding="same"), []),
    (layers.GlobalAveragePooling1D(), []),
], ids=lambda v: getattr(v, "name", ""))
def test_sequence_layer_gradients_match_finite_differences(layer, names, layer_gradcheck,
                                                            reference_backend):
    layer.build_for((None, 5, 3))
    assert layer_gradcheck(layer, X, names)


def test_multi_head_attention_gradients_match_finite_differences(reference_backend):
    mha = layers.MultiHeadAttention(2, 3, value_dim=2)
    query = RNG.standard_normal((2, 4, 3))
    mha(Tensor(query), Tensor(X))
    projections = {name: pair for name, pair in mha._projections.items()}
    flat = [w for pair in projections.values() for w in pair]
    mask = RNG.random((2, 4, 5)) > 0.3

    def fn(q, v, *weights):
        mha._projections = {name: (weights[2 * i], weights[2 * i + 1])
                            for i, name in enumerate(projections)}
        return mha(q, v, attention_mask=mask)
    try:
        assert gradcheck(fn, query, X, *[np.array(w.data, np.float64) for w in flat],
                         atol=1e-5, rtol=1e-4)
    finally:
        mha._projections = projections


# ----------------------------------------------------------------------------- masks: an independent truth

@pytest.mark.parametrize("name", ["SimpleRNN", "LSTM", "GRU"])
@pytest.mark.parametrize("backend_name", ["reference", "native"])
def test_padded_steps_change_nothing_but_the_padding(name, backend_name):
    """Padding before (pre) or after (post) a sequence, with its mask, gives the final output
    of the unpadded sequence; and the LSTM on an Embedding(mask_zero) sees the same."""
    if backend_name == "native" and not tinydl.backend_info()["native_available"]:
        pytest.skip("the native extension is not built")
    layer = getattr(layers, name)(4)
    x = RNG.standard_normal((1, 3, 2)).astype(np.float32)
    zeros = np.full((1, 2, 2), 9.0, np.float32)  # padding values that would change the result
    with tinydl.use_backend(backend_name):
        alone = layer(x).data
        pre = layer(np.concatenate([zeros, x], 1), mask=np.array([[0, 0, 1, 1, 1]], bool)).data
        post = layer(np.concatenate([x, zeros], 1), mask=np.array([[1, 1, 1, 0, 0]], bool)).data
    np.testing.assert_allclose(pre, alone, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(post, alone, rtol=1e-6, atol=1e-6)


def test_embedding_mask_reaches_the_lstm_through_sequential():
    model = tinydl.models.Sequential([layers.Embedding(10, 3, mask_zero=True),
                                      layers.Dropout(0.5), layers.LSTM(4)])
    ids = np.array([[0, 0, 4, 2, 7]])
    np.testing.assert_allclose(model(ids).data, model(ids[:, 2:]).data, rtol=1e-6, atol=1e-6)


def test_a_layer_that_cannot_use_a_mask_warns_that_it_drops_it():
    x = layers.Embedding(10, 3, mask_zero=True)(np.array([[1, 0, 2]]))
    with pytest.warns(UserWarning, match="does not support masking"):
        out = layers.Flatten()(x)
    assert getattr(out, "_keras_mask", None) is None


def test_global_average_pooling_leaves_masked_steps_out():
    x = np.arange(12, dtype=np.float32).reshape(1, 4, 3)
    out = layers.GlobalAveragePooling1D()(x, mask=np.array([[True, False, True, False]]))
    np.testing.assert_allclose(out.data, x[:, [0, 2]].mean(axis=1))


# ----------------------------------------------------------------------------- PyTorch's LSTM and GRU

def _torch():
    return pytest.importorskip("torch", reason="could not import torch: it is the oracle here")


def _torch_weights(layer, torch_layer, gates_keras_to_torch):
    """Copy Keras-layout weights into torch's (gates reordered, kernels transposed)."""
    torch = _torch()
    u = layer.units

    def reorder(w):  # columns in Keras' gate order -> rows in torch's
        blocks = [w[..., k * u:(k + 1) * u] for k in range(len(gates_keras_to_torch))]
        return np.concatenate([blocks[k] for k in gates_keras_to_torch], axis=-1).T

    with torch.no_grad():
        torch_layer.weight_ih_l0.copy_(torch.tensor(reorder(layer.kernel.data)))
        torch_layer.weight_hh_l0.copy_(torch.tensor(reorder(layer.recurrent_kernel.data)))
        bias = layer.bias.data
        input_bias, recurrent_bias = (bias[0], bias[1]) if bias.ndim == 2 else (bias, 0 * bias)
        torch_layer.bias_ih_l0.copy_(torch.tensor(reorder(input_bias[None])[:, 0]))
        torch_layer.bias_hh_l0.copy_(torch.tensor(reorder(recurrent_bias[None])[:, 0]))


@pytest.mark.parametrize("name", ["LSTM", "GRU"])
def test_recurrent_outputs_and_gradients_match_pytorch(name, backend):
    torch = _torch()
    x = RNG.standard_normal((4, 6, 3)).astype(np.float32)
    ours = getattr(layers, name)(5, return_sequences=True)
    ours.build_for((None, 6, 3))
    if name == "LSTM":  # Keras i, f, c, o -> torch i, f, g, o
        theirs, order = torch.nn.LSTM(3, 5, batch_first=True), [0, 1, 2, 3]
    else:               # Keras z, r, h -> torch r, z, n
        theirs, order = torch.nn.GRU(3, 5, batch_first=True), [1, 0, 2]
    ours.bias.assign(RNG.standard_normal(ours.bias.shape).astype(np.float32))
    _torch_weights(ours, theirs, order)
    xt = Tensor(x, requires_grad=True)
    out = ours(xt)
    x_torch = torch.tensor(x, requires_grad=True)
    expected = theirs(x_torch)[0]
    np.testing.assert_allclose(out.data, expected.detach().numpy(), rtol=1e-5, atol=2e-6)
    projection = RNG.standard_normal(out.shape).astype(np.float32)
    (out * projection).sum().backward()
    (expected * torch.tensor(projection)).sum().backward()
    np.testing.assert_allclose(xt.grad, x_torch.grad.numpy(), rtol=1e-4, atol=1e-5)
    kernel_grad = ours.kernel.grad
    torch_grad = theirs.weight_ih_l0.grad.numpy().T
    u = ours.units
    torch_grad = np.concatenate([torch_grad[:, k * u:(k + 1) * u] for k in np.argsort(order)], 1)
    np.testing.assert_allclose(kernel_grad, torch_grad, rtol=1e-4, atol=1e-5)


def _keras_order(torch_grad, u, order):
    """A torch weight gradient (G*U, K) as a Keras-layout (K, G*U) one."""
    torch_grad = torch_grad.T
    return np.concatenate([torch_grad[:, k * u:(k + 1) * u] for k in np.argsort(order)], 1)


def test_lstm_last_step_path_matches_pytorch(backend):
    """LSTM without return_sequences and mask runs the fused node's last-step-only path:
    its output, final states and every gradient match torch.nn.LSTM on the same weights."""
    torch = _torch()
    x = RNG.standard_normal((3, 12, 4)).astype(np.float32)
    ours = layers.LSTM(5, return_state=True)
    ours.build_for((None, 12, 4))
    ours.bias.assign(RNG.standard_normal(ours.bias.shape).astype(np.float32))
    theirs = torch.nn.LSTM(4, 5, batch_first=True)
    _torch_weights(ours, theirs, [0, 1, 2, 3])
    xt = Tensor(x, requires_grad=True)
    out, h, c = ours(xt)
    x_torch = torch.tensor(x, requires_grad=True)
    t_out, (t_h, t_c) = theirs(x_torch)
    for got, want in ((out, t_out[:, -1]), (h, t_h[0]), (c, t_c[0])):
        np.testing.assert_allclose(got.data, want.detach().numpy(), rtol=1e-5, atol=2e-6)
    p_out, p_c = (RNG.standard_normal((3, 5)).astype(np.float32) for _ in range(2))
    ((out * p_out).sum() + (c * p_c).sum()).backward()
    ((t_out[:, -1] * torch.tensor(p_out)).sum() + (t_c[0] * torch.tensor(p_c)).sum()).backward()
    np.testing.assert_allclose(xt.grad, x_torch.grad.numpy(), rtol=1e-4, atol=1e-5)
    for got, want in ((ours.kernel.grad, theirs.weight_ih_l0.grad),
                      (ours.recurrent_kernel.grad, theirs.weight_hh_l0.grad)):
        np.testing.assert_allclose(got, _keras_order(want.numpy(), 5, [0, 1, 2, 3]),
                                   rtol=1e-4, atol=1e-5)


# ----------------------------------------------------------------------------- bad arguments

@pytest.mark.parametrize("make, error, words", [
    (lambda: layers.LSTM(0), ValueError, "units"),
    (lambda: layers.GRU(4, dropout=1.5), ValueError, "dropout"),
    (lambda: layers.SimpleRNN(4, recurrent_dropout=-0.1), ValueError, "recurrent_dropout"),
    (lambda: layers.LSTM(4, use_cudnn="yes"), ValueError, "use_cudnn"),
    (lambda: layers.Embedding(0, 4), ValueError, "input_dim"),
    (lambda: layers.Embedding(10, 2.5), ValueError, "output_dim"),
    (lambda: layers.Embedding(2 ** 25, 4), ValueError, "input_dim"),
    (lambda: layers.Conv1D(4, 3, padding="full"), ValueError, "padding"),
    (lambda: layers.Conv1D(4, 3, strides=2, dilation_rate=2), ValueError, "dilation_rate"),
    (lambda: layers.Conv1D(4, 0), ValueError, "kernel_size"),
    (lambda: layers.MaxPooling1D(pool_size=0), ValueError, "pool_size"),
    (lambda: layers.Bidirectional("lstm"), ValueError, "Received"),
    (lambda: layers.Bidirectional(layers.LSTM(2), merge_mode="max"), ValueError, "merge mode"),
    (lambda: layers.TimeDistributed(None), ValueError, "Received"),
    (lambda: layers.MultiHeadAttention(0, 4), ValueError, "num_heads"),
    (lambda: layers.MultiHeadAttention(2, 4, dropout=2.0), ValueError, "dropout"),
    (lambda: layers.LayerNormalization(axis="last"), TypeError, "axis"),
    (lambda: layers.RepeatVector(0), ValueError, "n"),
    (lambda: layers.SpatialDropout1D(1.0), ValueError, "rate"),
    (lambda: layers.Dropout(0.1, noise_shape=(None, 0)), ValueError, "noise_shape"),
])
def test_bad_arguments_raise_naming_the_argument_and_what_was_received(make, error, words):
    with pytest.raises(error, match=words) as info:
        make()
    assert "Received" in str(info.value) or error is NotImplementedError


@pytest.mark.parametrize("call, words", [
    (lambda: layers.Embedding(5, 2)(np.array([[1, 5]])), "ids must be in"),
    (lambda: layers.Embedding(5, 2)(np.array([[1.5, 2]])), "integer ids"),
    (lambda: layers.LSTM(2)(np.zeros((2, 3), np.float32)), "batch, timesteps"),
    (lambda: layers.LSTM(2)(np.zeros((2, 3, 1), np.float32),
                            initial_state=[np.zeros((2, 2))]), "initial_state"),
    (lambda: layers.GRU(2)(np.zeros((2, 3, 1), np.float32), mask=np.ones((2, 4))), "mask"),
    (lambda: layers.Conv1D(2, 5)(np.zeros((1, 3, 1), np.float32)), "longer than the input"),
    (lambda: layers.MultiHeadAttention(2, 2)(np.zeros((1, 3, 4), np.float32),
                                              np.zeros((1, 3), np.float32)), "value"),
    (lambda: layers.SpatialDropout1D(0.5)(np.zeros((2, 3), np.float32), training=True),
     "SpatialDropout1D"),
])
def test_bad_inputs_raise_clear_errors(call, words):
    with pytest.raises(ValueError, match=words):
        call()


def test_dropout_on_sequences_drops_whole_features_with_a_noise_shape():
    x = np.ones((4, 6, 5), np.float32)
    for layer in (layers.SpatialDropout1D(0.5, seed=1), layers.Dropout(0.5, (None, 1, None), seed=1)):
        out = layer(x, training=True).data
        assert np.all(out == out[:, :1])                      # the same at every step
        assert set(np.unique(out)) == {0.0, 2.0}
        np.testing.assert_array_equal(layer(x).data, x)       # inference: unchanged


def test_recurrent_dropout_trains_and_is_off_at_inference():
    layer = layers.LSTM(3, dropout=0.5, recurrent_dropout=0.5, seed=0)
    x = RNG.standard_normal((2, 4, 3)).astype(np.float32)
    a, b = layer(x).data, layer(x).data
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(layer(x, training=True).data, a)


@pytest.mark.parametrize("make, words", [
    (lambda: layers.Conv1D(5, 3, groups=2), "filters must be evenly divisible"),
    (lambda: layers.Conv1D(4, 3, groups=0), "groups"),
])
def test_conv1d_groups_bad_arguments_raise(make, words):
    with pytest.raises(ValueError, match=words):
        make()


def test_conv1d_groups_need_channels_divisible_by_groups():
    with pytest.raises(ValueError, match="input channels must be evenly divisible"):
        layers.Conv1D(4, 3, groups=2)(np.ones((1, 6, 3), np.float32))
