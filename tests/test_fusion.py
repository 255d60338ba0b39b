"""The fusion pass (tinydl/fusion.py): models run their Conv2D -> [BatchNormalization] -> [ReLU] ->
[MaxPooling2D] and Dense -> [ReLU] runs as fused ops, with the numbers of the layers called one by
one (bit for bit, or within float32 rounding where a BatchNormalization is folded or a wide
3x3 convolution's input gradient meets a fused pool); the layers it
must not fuse are called as they are; tinydl.set_fusion(False) turns it off."""

from __future__ import annotations

import numpy as np
import pytest

import tinydl
from tinydl import fusion
from tinydl.layers import (Activation, Add, BatchNormalization, Conv2D, Dense, Flatten, Input,
                           MaxPooling2D, ReLU)
from tinydl.models import Model
from tinydl.models import Sequential
from tinydl.ops.conv import Conv2d, Conv2dMaxPool
from tinydl.ops.matmul import Dense as DenseOp
from tinydl.tensor import Tensor


def _model(activation="relu", pool=None, pool_padding="valid"):
    tinydl.utils.set_random_seed(1)
    pool = pool or MaxPooling2D((2, 2), padding=pool_padding)
    return Sequential([Conv2D(6, (3, 3), activation=activation, input_shape=(11, 13, 3)), pool,
                       Conv2D(5, (2, 2), activation="relu"), MaxPooling2D((2, 2)), Flatten(),
                       Dense(4)])


def _run(model, x, fused: bool):
    """Output and weight gradients of sum(out**2): model(x), or each layer called in turn."""
    for w in model.trainable_weights:
        w.grad = None
    h = Tensor(x)
    if fused:
        h = model(h, training=True)
    else:
        for layer in model.layers:
            h = layer(h, training=True)
    (h * h).sum().backward()
    return [h.data] + [w.grad for w in model.trainable_weights]


@pytest.mark.parametrize("activation", ("relu", None))
@pytest.mark.parametrize("pool_padding", ("valid", "same"))
def test_fused_model_equals_layer_by_layer(backend, activation, pool_padding):
    model = _model(activation, pool_padding=pool_padding)
    x = np.random.default_rng(0).standard_normal((4, 11, 13, 3)).astype(np.float32)
    fused, separate = _run(model, x, True), _run(model, x, False)
    for ours, want in zip(fused, separate):
        assert np.array_equal(ours, want)


def test_fused_kernel_runs_and_records_one_node():
    pytest.importorskip("tinydl.kernels.native", reason="check_backends records native calls")
    model = _model()
    x = np.random.default_rng(0).standard_normal((2, 11, 13, 3)).astype(np.float32)
    model(x)  # the first call builds the layers
    with tinydl.use_backend("native"), tinydl.check_backends() as gaps:
        out = model(Tensor(x))
    assert "conv2d_max_pool_forward" in gaps and "conv2d_forward" not in gaps
    node = out._node
    while node.function is not Conv2dMaxPool:
        node = node.inputs[0]._node
    assert node.function is Conv2dMaxPool


@pytest.mark.parametrize("activation, pool", [
    ("tanh", MaxPooling2D((2, 2))),                # an activation the kernel cannot fuse
    ("relu", MaxPooling2D((2, 2), strides=1)),     # overlapping windows
])
def test_unfusable_pairs_give_the_same_numbers(activation, pool):
    pytest.importorskip("tinydl.kernels.native", reason="check_backends records native calls")
    model = _model(activation, pool)
    x = np.random.default_rng(2).standard_normal((3, 11, 13, 3)).astype(np.float32)
    model(x)
    with tinydl.use_backend("native"):
        with tinydl.check_backends() as gaps:
            fused = _run(model, x, True)
        separate = _run(model, x, False)
    assert "conv2d_forward" in gaps
    for ours, want in zip(fused, separate):
        assert np.array_equal(ours, want)


def test_a_subclass_with_its_own_call_is_called():
    calls = []

    class LoudConv(Conv2D):
        def call(self, inputs, training=None):
            calls.append(inputs.shape)
            return super().call(inputs, training)

    model = Sequential([LoudConv(4, 3, activation="relu", input_shape=(8, 8, 2)),
                        MaxPooling2D(2), Activation("relu")])
    model.predict(np.zeros((2, 8, 8, 2), np.float32), verbose=0)
    model.predict(np.zeros((2, 8, 8, 2), np.float32), verbose=0)
    assert calls and calls[-1] == (2, 8, 8, 2)


def test_wrong_input_still_gets_the_conv2d_message():
    model = _model()
    model(np.zeros((1, 11, 13, 3), np.float32))
    with pytest.raises(ValueError, match="Conv2D expects input of shape"):
        model(np.zeros((1, 3, 11, 13), np.float32))


def test_a_pool_subclass_is_not_replaced_by_max_pooling():
    """A MaxPooling2D subclass that pools differently (here a min pool) keeps its own pooling."""
    from tinydl import functional

    class MinPooling2D(MaxPooling2D):
        _function = staticmethod(
            lambda x, pool, strides, padding: -functional.max_pool2d(-x, pool, strides, padding))

    model = _model("relu", MinPooling2D((2, 2)))
    x = np.random.default_rng(3).standard_normal((2, 11, 13, 3)).astype(np.float32)
    for ours, want in zip(_run(model, x, True), _run(model, x, False)):
        assert np.array_equal(ours, want)


# ----------------------------------------------------------------------------- patterns, on and off

RNG = np.random.default_rng(7)
# BatchNormalization folded into the convolution: the kernel is scaled before the convolution
# instead of the output after it, so float32 rounding differs (measured up to ~5e-7 relative).
FOLD_RTOL = 1e-5


def _stateful_bn():
    """A BatchNormalization whose moving statistics and gamma/beta are not the defaults."""
    bn = BatchNormalization()
    bn.build_for((None, None, None, 5))
    bn.gamma.assign(RNG.uniform(0.5, 1.5, 5).astype(np.float32))
    bn.beta.assign(RNG.standard_normal(5).astype(np.float32))
    bn.moving_mean.assign(RNG.standard_normal(5).astype(np.float32))
    bn.moving_variance.assign(RNG.uniform(0.5, 2.0, 5).astype(np.float32))
    return bn


PATTERNS = {  # name: (layers after the input, input shape, names of the fused steps' classes)
    "dense": (lambda: [Dense(7)], (5, 20), ["DenseStep"]),
    "dense_relu_layer": (lambda: [Dense(7), ReLU()], (5, 20), ["DenseStep"]),
    "dense_relu_activation": (lambda: [Dense(7, activation="relu"), Dense(3, activation="tanh")],
                              (5, 20), ["DenseStep", "DenseStep"]),
    "conv_relu": (lambda: [Conv2D(5, 3, activation="relu")], (2, 9, 9, 3), ["ConvStep"]),
    "conv_activation_pool": (lambda: [Conv2D(5, 3), Activation("relu"), MaxPooling2D()],
                             (2, 10, 11, 3), ["ConvStep"]),
    "conv_same_pool_same": (lambda: [Conv2D(5, 3, padding="same"), ReLU(),
                                     MaxPooling2D(padding="same")], (2, 9, 9, 3), ["ConvStep"]),
    "conv_bn_relu_pool": (lambda: [Conv2D(5, 3, use_bias=False), _stateful_bn(), ReLU(),
                                   MaxPooling2D()], (2, 10, 10, 3), ["ConvStep"]),
    "conv_bias_bn": (lambda: [Conv2D(5, 3), _stateful_bn()], (2, 8, 8, 3), ["ConvStep"]),
}


def _sequential(name):
    tinydl.utils.set_random_seed(3)
    make, shape, _ = PATTERNS[name]
    return Sequential([Input(shape[1:])] + make()), shape


def _output_and_grads(model, x, fused: bool, training):
    """model(x) and the gradients of a fixed projection of it, with fusion on or off."""
    for w in model.trainable_weights:
        w.grad = None
    with tinydl.use_fusion(fused):
        xt = Tensor(x, requires_grad=True)
        out = model(xt, training=training)
        weights = np.linspace(-1, 1, out.size, dtype=np.float32).reshape(out.shape)
        (out * Tensor(weights)).sum().backward()
    return [out.data] + [w.grad.copy() for w in model.trainable_weights] + [xt.grad]


@pytest.mark.parametrize("training", (True, False))
@pytest.mark.parametrize("name", sorted(PATTERNS))
def test_fusion_on_and_off_agree(backend, name, training):
    model, shape = _sequential(name)
    x = RNG.standard_normal(shape).astype(np.float32)
    fused = _output_and_grads(model, x, True, training)
    plain = _output_and_grads(model, x, False, training)
    folded = "bn" in name and not training
    for ours, want in zip(fused, plain):
        if folded:
            np.testing.assert_allclose(ours, want, rtol=FOLD_RTOL, atol=FOLD_RTOL * np.abs(want).max())
        else:
            np.testing.assert_array_equal(ours, want)


@pytest.mark.parametrize("training", (True, False))
def test_a_wide_conv_pool_fused_and_not_agree_to_rounding(training):
    # 16+ channels each way: unfused, the convolution's input gradient runs as a forward
    # (Winograd) convolution; fused with the pool, the col2im kernel routes the pool's
    # gradient. Outputs and weight gradients stay bit for bit; the input gradient to rounding.
    tinydl.utils.set_random_seed(3)
    model = Sequential([Input((10, 10, 16)), Conv2D(16, 3, padding="same"), ReLU(),
                        MaxPooling2D()])
    x = RNG.standard_normal((2, 10, 10, 16)).astype(np.float32)
    fused = _output_and_grads(model, x, True, training)
    plain = _output_and_grads(model, x, False, training)
    for ours, want in zip(fused[:-1], plain[:-1]):
        np.testing.assert_array_equal(ours, want)
    np.testing.assert_allclose(fused[-1], plain[-1], rtol=FOLD_RTOL,
                               atol=FOLD_RTOL * np.abs(plain[-1]).max())


@pytest.mark.parametrize("name", sorted(PATTERNS))
def test_the_pass_fuses_each_pattern(name):
    model, _ = _sequential(name)
    steps = [fusion.match(model.layers[i:i + 4], training=False) for i in range(len(model.layers))]
    assert [type(s).__name__ for s in steps if s is not None][:1] == PATTERNS[name][2][:1]


def test_dense_and_conv_record_their_fused_ops():
    model, shape = _sequential("dense_relu_layer")
    out = model(Tensor(RNG.standard_normal(shape).astype(np.float32)))
    assert out._node.function is DenseOp
    with tinydl.use_fusion(False):
        assert model(Tensor(RNG.standard_normal(shape).astype(np.float32)))._node.function \
            is not DenseOp
    model, shape = _sequential("conv_relu")
    node = model(Tensor(RNG.standard_normal(shape).astype(np.float32)))._node
    assert node.function is Conv2d and node.ctx.relu  # the ReLU ran inside the convolution


def test_batch_norm_folds_only_at_inference():
    """And in training it normalizes with the batch's statistics, the ReLU in its kernel."""
    model, _ = _sequential("conv_bn_relu_pool")
    assert fusion.match(model.layers, training=False).bn is model.layers[1]
    step = fusion.match(model.layers, training=True)   # batch statistics: BN + ReLU kernel
    assert step.bn is model.layers[1] and fusion._batch_statistics(step.bn, True)
    model.layers[1].trainable = False                  # frozen: moving statistics, folded
    assert not fusion._batch_statistics(step.bn, True)


def test_the_fold_follows_changed_weights():
    """The folded kernel is made from the weights at every call: a new moving mean is seen."""
    model, shape = _sequential("conv_bn_relu_pool")
    x = RNG.standard_normal(shape).astype(np.float32)
    before = model.predict(x, verbose=0)
    bn = model.layers[1]
    bn.moving_mean.assign(bn.moving_mean.data + 1.0)
    bn.gamma.assign(bn.gamma.data * 2.0)
    after = model.predict(x, verbose=0)
    with tinydl.use_fusion(False):
        plain = model.predict(x, verbose=0)
    assert not np.allclose(before, after)
    np.testing.assert_allclose(after, plain, rtol=FOLD_RTOL, atol=FOLD_RTOL * np.abs(plain).max())


@pytest.mark.parametrize("conv_bias, bn_affine", [(True, True), (False, False)])
def test_the_fold_without_a_graph_gives_the_recorded_folds_bits(conv_bias, bn_affine):
    """Under no_grad (predict) the fold runs on the arrays: the same numbers, bit for bit, as
    the recorded fold, whose gradients reach the kernel, bias, gamma and beta."""
    bn = BatchNormalization(center=bn_affine, scale=bn_affine)
    bn.build_for((None, 5, 5, 6))
    bn.moving_mean.assign(RNG.standard_normal(6).astype(np.float32))
    bn.moving_variance.assign(RNG.random(6).astype(np.float32) + 0.5)
    if bn_affine:
        bn.gamma.assign(RNG.standard_normal(6).astype(np.float32))
        bn.beta.assign(RNG.standard_normal(6).astype(np.float32))
    kernel = Tensor(RNG.standard_normal((3, 3, 4, 6)).astype(np.float32), requires_grad=True)
    bias = Tensor(RNG.standard_normal(6).astype(np.float32), requires_grad=True) if conv_bias else None
    recorded = fusion.fold_batch_norm(kernel, bias, bn)
    with tinydl.no_grad():
        plain = fusion.fold_batch_norm(kernel, bias, bn)
    for got, want in zip(plain, recorded):
        assert got.dtype == want.dtype and np.array_equal(got.numpy(), want.numpy())
    inv = 1 / np.sqrt(bn.moving_variance.numpy() + bn.epsilon)
    scale = inv * (bn.gamma.numpy() if bn_affine else 1)
    np.testing.assert_allclose(plain[0].numpy(), kernel.numpy() * scale, rtol=1e-6)


def _functional(branch: bool):
    tinydl.utils.set_random_seed(5)
    inputs = Input((10, 10, 3))
    h = Conv2D(4, 3)(inputs)
    h = _stateful_bn_4()(h)
    r = ReLU()(h)
    p = MaxPooling2D()(r)
    if branch:  # the ReLU's output is read twice: the chain stops before the pool
        p = Add()([p, MaxPooling2D()(r)])
    out = Dense(3, activation="relu")(Flatten()(p))
    return Model(inputs, out)


def _stateful_bn_4():
    bn = BatchNormalization()
    bn.build_for((None, None, None, 4))
    bn.moving_mean.assign(np.linspace(-1, 1, 4).astype(np.float32))
    bn.moving_variance.assign(np.linspace(0.5, 2, 4).astype(np.float32))
    return bn


@pytest.mark.parametrize("branch", (False, True))
@pytest.mark.parametrize("training", (True, False))
def test_functional_graphs_fuse_chains_and_agree(branch, training):
    model = _functional(branch)
    x = RNG.standard_normal((2, 10, 10, 3)).astype(np.float32)
    fused = _output_and_grads(model, x, True, training)
    plain = _output_and_grads(model, x, False, training)
    for ours, want in zip(fused, plain):
        np.testing.assert_allclose(ours, want, rtol=FOLD_RTOL, atol=FOLD_RTOL * np.abs(want).max())


def test_a_branch_ends_the_chain():
    model = _functional(branch=True)
    steps = fusion.plan_nodes(model._graph.nodes, model._graph.flat_outputs, training=False)
    conv = next(s for s in steps if isinstance(s, fusion.FusedNodes))
    assert [type(layer).__name__ for layer in conv.fused.layers] == \
        ["Conv2D", "BatchNormalization", "ReLU"]   # not the pool: the ReLU's output is read twice
    model = _functional(branch=False)
    steps = fusion.plan_nodes(model._graph.nodes, model._graph.flat_outputs, training=False)
    conv = next(s for s in steps if isinstance(s, fusion.FusedNodes))
    assert [type(layer).__name__ for layer in conv.fused.layers] == \
        ["Conv2D", "BatchNormalization", "ReLU", "MaxPooling2D"]


def test_set_fusion_switches_and_checks_its_argument():
    assert tinydl.fusion_enabled()
    with tinydl.use_fusion(False):
        assert not tinydl.fusion_enabled()
        model, shape = _sequential("conv_relu")
        node = model(Tensor(RNG.standard_normal(shape).astype(np.float32)))._node
        assert node.function is not Conv2d or not node.ctx.relu   # the plain Conv2D.call
    assert tinydl.fusion_enabled()
    with pytest.raises(TypeError, match=r"set_fusion: enabled must be True or False. Received: 'no'"):
        tinydl.set_fusion("no")


def test_profiler_attributes_a_fused_step_to_its_layers():
    model = Sequential([Input((8, 8, 2)), Conv2D(3, 3, name="c"), ReLU(name="r"),
                        MaxPooling2D(name="p"), Flatten(name="f"), Dense(2, name="d")])
    x = np.ones((2, 8, 8, 2), np.float32)
    model(x)
    with tinydl.profile() as prof:
        model(Tensor(x))
    layers = {event.layer for event in prof.events}
    assert "c+r+p" in layers and "d" in layers


def test_a_layer_with_an_activity_penalty_ends_the_run():
    conv = Conv2D(3, 3, activation="relu", activity_regularizer="l2")
    conv.build_for((None, 8, 8, 2))
    pool = MaxPooling2D()
    pool.build_for((None, 6, 6, 3))
    assert fusion.match([conv, pool]) is None
    plain = Conv2D(3, 3)
    plain.build_for((None, 8, 8, 2))
    relu = ReLU(activity_regularizer="l1")
    assert fusion.match([plain, relu, pool]) is None   # the ReLU's output is penalized


def _residual(relu=None, add_inputs=2, read_sum=False):
    """Input -> Conv2D 'same' -> Add([conv, input, ...]) -> relu -> Flatten -> Dense; with
    read_sum, the Add's output is also a second model output."""
    tinydl.utils.set_random_seed(7)
    inputs = Input((6, 6, 3))
    h = Conv2D(3, 3, padding="same")(inputs)
    total = Add()([h, inputs] + [inputs] * (add_inputs - 2))
    out = Dense(4)(Flatten()((relu or ReLU())(total)))
    return Model(inputs, [out, total] if read_sum else out)


def _outputs_and_grads(model, x, fused: bool, training=True):
    for w in model.trainable_weights:
        w.grad = None
    with tinydl.use_fusion(fused):
        out = model(Tensor(x), training=training)
    out = out if isinstance(out, list) else [out]
    sum(((o * o).sum() for o in out), Tensor(np.float32(0))).backward()
    return [o.data for o in out] + [w.grad for w in model.trainable_weights]


def _residual_steps(model):
    steps = fusion.plan_nodes(model._graph.nodes, model._graph.flat_outputs, training=True)
    return [s for s in steps if isinstance(s, fusion.FusedNodes)
            and isinstance(s.fused, fusion.AddReluStep)]


@pytest.mark.parametrize("training", (True, False))
def test_a_residual_add_and_relu_fuse_with_the_layers_bits(training):
    model = _residual()
    (step,) = _residual_steps(model)
    assert [type(layer).__name__ for layer in step.fused.layers] == ["Add", "ReLU"]
    assert len(step.inputs) == 2
    x = RNG.standard_normal((2, 6, 6, 3)).astype(np.float32)
    fused, plain = _outputs_and_grads(model, x, True, training), \
        _outputs_and_grads(model, x, False, training)
    for ours, want in zip(fused, plain):
        assert ours.dtype == want.dtype and np.array_equal(ours, want)


def test_the_residual_op_runs_and_its_gradient_reaches_both_inputs():
    model = _residual()
    x = Tensor(RNG.standard_normal((2, 6, 6, 3)).astype(np.float32), requires_grad=True)
    with tinydl.profile() as prof:
        model(x, training=True).sum().backward()
    assert any(e.name == "AddRelu" for e in prof.events)
    assert any(e.layer and e.layer.startswith("add") and "+re_lu" in e.layer for e in prof.events)
    with tinydl.use_fusion(False):
        x2 = Tensor(x.numpy(), requires_grad=True)
        model(x2, training=True).sum().backward()
    np.testing.assert_array_equal(x.grad, x2.grad)   # through the sum and through the conv


@pytest.mark.parametrize("case", ("relu6", "three_inputs", "sum_is_an_output", "leaky"))
def test_what_is_not_an_add_relu_pair_runs_as_its_layers(case):
    kwargs = {"relu6": {"relu": ReLU(max_value=6.0)}, "leaky": {"relu": ReLU(negative_slope=0.1)},
              "three_inputs": {"add_inputs": 3}, "sum_is_an_output": {"read_sum": True}}[case]
    model = _residual(**kwargs)
    assert _residual_steps(model) == []
    x = RNG.standard_normal((2, 6, 6, 3)).astype(np.float32)
    for ours, want in zip(_outputs_and_grads(model, x, True), _outputs_and_grads(model, x, False)):
        assert np.array_equal(ours, want)


def test_inputs_that_broadcast_take_the_layers_path():
    step = fusion.AddReluStep(Add(), ReLU())
    a = RNG.standard_normal((2, 3)).astype(np.float32)
    b = RNG.standard_normal((1, 3)).astype(np.float32)
    assert not step.accepts(a, b) and not step.accepts(a, a.astype(np.float64))
    np.testing.assert_array_equal(step(a, b).numpy(), np.maximum(a + b, 0))
    ints = np.arange(6).reshape(2, 3) - 3
    assert not step.accepts(ints, ints)
    np.testing.assert_array_equal(step(ints, ints).numpy(), np.maximum(2 * ints, 0))
