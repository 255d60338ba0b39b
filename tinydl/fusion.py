"""Fusion: the one pass that runs a model's layers as fused ops, matched by pattern, and its switch.

A model's layers, read in order (Sequential's list, or a chain in a functional graph where
each output feeds exactly one next layer), are matched against these patterns, longest first:

    Conv2D -> [BatchNormalization] -> [ReLU] -> [MaxPooling2D]
    Dense  -> [ReLU]

and, in a functional graph, the end of a residual block, whose Add takes two tensors:

    Add -> ReLU

ReLU is a ReLU() layer with its default arguments, an Activation('relu') layer, or the
Conv2D's / Dense's own activation='relu' (then no layer of the pattern may sit between the
convolution and its ReLU). A matched run is computed as one fused step:

- the convolution's ReLU runs inside its kernel, and a following max pool whose windows tile
  the output (strides == pool_size) runs in the same kernel (functional.conv2d_max_pool):
  the convolution's output is never stored;
- at inference (training false, or the BatchNormalization not trainable) the
  BatchNormalization is folded into the convolution's weights: kernel * s and
  (bias - moving_mean) * s + beta, s = gamma / sqrt(moving_variance + epsilon), recomputed at
  every call from the current weights, so a changed weight is never missed. In training
  (batch statistics) the ReLU runs inside the batch-norm kernel, forward and backward
  (tinydl/kernels/batchnorm.py), and the pool after it as its own op;
- a Dense adds its bias and applies a ReLU inside the GEMM's epilogue (functional.dense), and
  its backward masks, reduces the bias gradient and runs the two GEMMs in one op;
- an Add of two tensors of one shape and the ReLU after it are one pass, max(a + b, 0), and
  one masked gradient for both inputs (ops.AddRelu): the sum is never stored.

A layer with an activity_regularizer ends the run before it (its penalty needs its own output).
Values agree with the unfused layers: bit for bit for the ReLU, pool, bias and Add epilogues;
up to float32 rounding (a relative 1e-5, the weights are multiplied before the convolution
instead of after) for the folded BatchNormalization, and for a fused max pool after a 3x3 stride-1
convolution of 16 or more channels each way with 'valid'-like pads or an output under 4x4
(unfused, its input gradient runs as a forward Winograd convolution; fused, the col2im kernel
takes the pool's routed gradient; with 'same'-like pads both run as a forward). Only layers
of exactly these classes take part (a subclass may change call), every layer must be built,
and an input with a Keras mask runs unfused. While a tinydl.profile() or anomaly mode is
active, a fused step's ops are attributed to its layers joined by '+' (e.g.
'conv2d+batch_normalization+re_lu').

Switch it off to see the plain path, layer by layer (Conv2D.call, Dense.call):

    >>> import tinydl
    >>> with tinydl.use_fusion(False):
    ...     tinydl.fusion_enabled()
    False
"""

from __future__ import annotations

import contextlib

import numpy as np

from tinydl import activations, anomaly, functional as F, ops, profiler
from tinydl.autograd import is_grad_enabled, no_grad
from tinydl.layers.activation import ReLU
from tinydl.layers.convolutional import Conv2D
from tinydl.layers.core import Activation, Dense
from tinydl.layers.masking import get_mask
from tinydl.layers.merge import Add
from tinydl.layers.normalization import BatchNormalization
from tinydl.layers.pooling import MaxPooling2D
from tinydl.layers.symbolic import KerasTensor, is_symbolic
from tinydl.ops.elementwise import AddRelu
from tinydl.ops.normalization import batch_norm_train
from tinydl.tensor import Tensor

_state = {"enabled": True}


def set_fusion(enabled: bool) -> None:
    """Run models through the fusion pass (True, the default) or layer by layer (False).

    Args:
        enabled: a bool.

    Raises:
        TypeError: enabled is not a bool.

    Example:
        >>> tinydl.set_fusion(False); tinydl.fusion_enabled()
        False
        >>> tinydl.set_fusion(True)
    """
    if not isinstance(enabled, (bool, np.bool_)):
        raise TypeError(f"set_fusion: enabled must be True or False. Received: {enabled!r}")
    _state["enabled"] = bool(enabled)


def fusion_enabled() -> bool:
    """True when models run through the fusion pass (see set_fusion).

    Example:
        >>> tinydl.fusion_enabled()
        True
    """
    return _state["enabled"]


@contextlib.contextmanager
def use_fusion(enabled: bool):
    """Context manager: run the block with fusion on or off, then restore the previous setting.

    Example:
        >>> with tinydl.use_fusion(False):
        ...     tinydl.fusion_enabled()
        False
    """
    previous = fusion_enabled()
    set_fusion(enabled)
    try:
        yield
    finally:
        _state["enabled"] = previous


# ----------------------------------------------------------------------------- the patterns

def _is_relu_layer(layer) -> bool:
    if type(layer) is ReLU:
        return layer.max_value is None and layer.negative_slope == 0.0 and layer.threshold == 0.0
    return type(layer) is Activation and layer.activation is ops.relu


def _is_channel_bn(layer) -> bool:
    """A built BatchNormalization over the channels (last axis) of NHWC images."""
    return (type(layer) is BatchNormalization and layer.built and layer.axis % 4 == 3
            and getattr(layer, "_ndim", None) == 4)


def _batch_statistics(bn, training) -> bool:
    """True when bn normalizes with the batch's statistics now (Keras' rule), else it uses its
    moving ones and folds into the convolution."""
    return bool(training) and bn.trainable


class FusedStep:
    """A run of layers computed as fused ops; called like a layer, on the first one's input.

    Attributes:
        layers: the layers it replaces, in order.
        name: their names joined by '+', the name the profiler and anomaly mode report.

    Example:
        The fused step computes what its layers compute one after the other (plain):

        >>> tinydl.utils.set_random_seed(0)
        >>> dense, relu = tinydl.layers.Dense(3), tinydl.layers.ReLU()
        >>> _ = dense.build_for((None, 4))
        >>> step = match([dense, relu])
        >>> x = np.random.default_rng(0).normal(size=(5, 4)).astype(np.float32)
        >>> step.layers == (dense, relu), step.name == dense.name + "+" + relu.name
        (True, True)
        >>> bool(np.array_equal(step(x).numpy(), step.plain(x).numpy())), step.accepts(x[:, :3])
        (True, False)
    """

    def __init__(self, layers):
        self.layers = tuple(layers)
        self.name = "+".join(layer.name for layer in self.layers)

    def __call__(self, *inputs, training=None):
        if not self.accepts(*inputs):  # the layers' own calls raise the layer's message
            return self.plain(*inputs, training=training)
        if anomaly.is_anomaly_enabled() or profiler.current is not None:
            with anomaly.layer_scope(self.name):
                return self.run(*inputs, training=training)
        return self.run(*inputs, training=training)

    def plain(self, x, training=None):
        """The layers called one after the other (the unfused path)."""
        for layer in self.layers:
            x = layer(x, training=training)
        return x

    def accepts(self, x) -> bool:
        """x is an input the fused ops take: not symbolic, no Keras mask, and (N, ..., in) of
        the first layer's kernel dtype and input size, with the rank of `self.rank`."""
        kernel = self.layers[0].kernel
        return (not is_symbolic(x) and get_mask(x) is None and getattr(x, "ndim", 0) == self.rank
                and x.shape[-1] == kernel.shape[-2] and x.dtype == kernel.dtype)


class ConvStep(FusedStep):
    """Conv2D [-> BatchNormalization (folded)] [-> ReLU] [-> MaxPooling2D], as one or two kernels.

    Example:
        At inference the BatchNormalization folds into the convolution; the result is the
        layers' own, up to float32 rounding:

        >>> tinydl.utils.set_random_seed(0)
        >>> conv, bn = tinydl.layers.Conv2D(4, 3, padding="same"), tinydl.layers.BatchNormalization()
        >>> relu, pool = tinydl.layers.ReLU(), tinydl.layers.MaxPooling2D(2)
        >>> x = np.random.default_rng(0).normal(size=(2, 6, 6, 3)).astype(np.float32)
        >>> _ = pool(relu(bn(conv(x))))                                       # builds the layers
        >>> bn.moving_mean.assign(np.full(4, 0.5, np.float32))
        >>> step = match([conv, bn, relu, pool])
        >>> type(step).__name__, len(step.layers), step.relu
        ('ConvStep', 4, True)
        >>> bool(np.allclose(step(x, training=False).numpy(), step.plain(x, training=False).numpy(),
        ...                  rtol=1e-5, atol=1e-6))
        True
    """

    rank = 4

    def __init__(self, conv, bn, relu, pool):
        super().__init__(layer for layer in (conv, bn, relu, pool) if layer is not None)
        self.conv, self.bn, self.pool = conv, bn, pool
        self.relu = relu is not None or conv.activation is ops.relu

    def run(self, x, training=None):
        conv = self.conv
        if self.bn is not None and _batch_statistics(self.bn, training):
            return self._run_batch_statistics(x)
        kernel, bias = conv.kernel, conv.bias
        if self.bn is not None:
            kernel, bias = fold_batch_norm(kernel, bias, self.bn)
        if self.pool is None:
            return F.conv2d(x, kernel, bias, conv.strides, conv.padding, fused_relu=self.relu)
        return F.conv2d_max_pool(x, kernel, bias, conv.strides, conv.padding,
                                 fused_relu=self.relu, pool_size=self.pool.pool_size,
                                 pool_padding=self.pool.padding)


    def _run_batch_statistics(self, x):
        """Training: the convolution, then the batch norm with the ReLU in its kernel (and the
        moving averages updated, as BatchNormalization.call does), then the pool."""
        conv, bn = self.conv, self.bn
        y = F.conv2d(x, conv.kernel, conv.bias, conv.strides, conv.padding)
        y, mean, var = batch_norm_train(y, bn.gamma, bn.beta, -1, bn.epsilon, relu=self.relu)
        with no_grad():
            bn._update_moving(mean, var)
        if self.pool is None:
            return y
        return F.max_pool2d(y, self.pool.pool_size, self.pool.strides, self.pool.padding)


class DenseStep(FusedStep):
    """Dense [-> ReLU]: the bias and a ReLU in the GEMM's epilogue, one op each way.

    Example:
        >>> tinydl.utils.set_random_seed(0)
        >>> dense = tinydl.layers.Dense(2, activation="relu"); _ = dense.build_for((None, 3))
        >>> x = np.random.default_rng(1).normal(size=(4, 3)).astype(np.float32)
        >>> step = DenseStep(dense, None)
        >>> expected = np.maximum(x @ dense.kernel.numpy() + dense.bias.numpy(), 0)
        >>> step.relu, bool(np.allclose(step(x).numpy(), expected, atol=1e-6))
        (True, True)
    """

    rank = 2

    def __init__(self, dense, relu):
        super().__init__(layer for layer in (dense, relu) if layer is not None)
        self.dense = dense
        self.relu = relu is not None or dense.activation is ops.relu

    def run(self, x, training=None):
        dense = self.dense
        y = F.dense(x, dense.kernel, dense.bias, fused_relu=self.relu)
        return y if self.relu else dense.activation(y)


class AddReluStep(FusedStep):
    """Add -> ReLU (a residual block's end): max(a + b, 0) in one pass each way (ops.AddRelu),
    called on the Add's two inputs; the same bits as the two layers.

    Example:
        >>> add, relu = tinydl.layers.Add(), tinydl.layers.ReLU()
        >>> step = AddReluStep(add, relu)
        >>> a, b = np.array([[1.0, -2.0]], "float32"), np.array([[-3.0, 4.0]], "float32")
        >>> step(a, b).numpy(), step.plain(a, b).numpy()
        (array([[0., 2.]], dtype=float32), array([[0., 2.]], dtype=float32))
        >>> step.accepts(a, b[:, :1])                          # broadcasting: the layers' path
        False
    """

    def __init__(self, add, relu):
        super().__init__((add, relu))

    def run(self, a, b, training=None):
        return AddRelu.apply(a, b)

    def plain(self, a, b, training=None):
        """The Add, then the ReLU (the unfused path)."""
        add, relu = self.layers
        return relu(add([a, b], training=training), training=training)

    def accepts(self, a, b) -> bool:
        """a and b are float inputs of one shape and dtype, neither symbolic nor masked."""
        return (not is_symbolic(a) and not is_symbolic(b) and get_mask(a) is None
                and get_mask(b) is None and hasattr(a, "dtype") and hasattr(b, "dtype")
                and a.dtype == b.dtype and np.dtype(a.dtype).kind == "f"
                and tuple(a.shape) == tuple(b.shape))


def fold_batch_norm(kernel, bias, bn):
    """(kernel * s, (bias - moving_mean) * s + beta), s = gamma / sqrt(moving_variance + eps).

    Args:
        kernel: Tensor (KH, KW, C, F). bias: Tensor (F,) or None. bn: a built
            BatchNormalization over the F channels.

    Returns:
        (kernel, bias) Tensors: a convolution with them equals the convolution followed by
        bn at inference, up to float32 rounding. Gradients reach kernel, bias, gamma and beta.

    Example:
        >>> bn = tinydl.layers.BatchNormalization(); _ = bn.build_for((None, 4, 4, 2))
        >>> k, b = fold_batch_norm(tinydl.Tensor(np.ones((1, 1, 3, 2), np.float32)), None, bn)
        >>> k.shape, b.shape
        ((1, 1, 3, 2), (2,))
    """
    dtype = kernel.dtype
    inv = (1.0 / np.sqrt(bn.moving_variance.data + bn.epsilon)).astype(dtype)
    mean = bn.moving_mean.data.astype(dtype)
    if not is_grad_enabled():  # predict: the same arithmetic on the arrays, no graph to record
        scale = inv if bn.gamma is None else bn.gamma.data * inv
        shift = -mean if bias is None else bias.data - mean
        shift = shift * scale if bn.beta is None else shift * scale + bn.beta.data
        return Tensor(kernel.data * scale), Tensor(shift)
    scale = Tensor(inv) if bn.gamma is None else bn.gamma * inv
    shift = Tensor(-mean) if bias is None else bias - mean
    folded_bias = shift * scale if bn.beta is None else shift * scale + bn.beta
    return kernel * scale, folded_bias


def _without_activity_penalty(layers) -> list:
    """The layers up to the first with an activity_regularizer: its penalty is computed on its
    own output in Layer.__call__, which a fused step does not run."""
    run = []
    for layer in layers:
        if getattr(layer, "activity_regularizer", None) is not None:
            break
        run.append(layer)
    return run


def match(layers, training=None) -> FusedStep | None:
    """The longest pattern at the start of the list `layers`, or None.

    Args:
        layers: the candidate run, in order (the first is the pattern's start).
        training: the call's training flag (a BatchNormalization folds only at inference).

    Example:
        >>> conv = tinydl.layers.Conv2D(4, 3, activation="relu"); _ = conv.build_for((None, 8, 8, 1))
        >>> match([conv]).name == conv.name
        True
    """
    layers = _without_activity_penalty(layers)
    first = layers[0] if layers else None
    if type(first) is Dense and first.built:
        relu = layers[1] if len(layers) > 1 and first.activation is activations.linear \
            and _is_relu_layer(layers[1]) else None
        return DenseStep(first, relu)
    if type(first) is not Conv2D or not first.built \
            or first.activation not in (ops.relu, activations.linear):
        return None
    rest = list(layers[1:4])
    bn = relu = pool = None
    if first.activation is activations.linear:
        if rest and _is_channel_bn(rest[0]):
            bn = rest.pop(0)
        if rest and _is_relu_layer(rest[0]):
            relu = rest.pop(0)
    if rest and type(rest[0]) is MaxPooling2D and rest[0].built \
            and rest[0].strides == rest[0].pool_size:
        pool = rest[0]
    if bn is relu is pool is None and first.activation is activations.linear:
        return None  # nothing to fuse: the plain Conv2D.call
    return ConvStep(first, bn, relu, pool)


def call_layers(layers, x, training=None):
    """x through each layer of the list `layers` in order (Sequential's forward pass), with
    the runs that match a pattern computed as fused steps while fusion is enabled.

    Args:
        layers: a list of layers. x: the input. training: passed to every layer call.

    Returns:
        The last layer's output.

    Example:
        >>> tinydl.utils.set_random_seed(0)
        >>> conv = tinydl.layers.Conv2D(2, 3, padding="same", activation="relu")
        >>> layers = [conv, tinydl.layers.MaxPooling2D(2), tinydl.layers.Flatten()]
        >>> x = np.random.default_rng(0).normal(size=(1, 4, 4, 1)).astype(np.float32)
        >>> with tinydl.use_fusion(False):
        ...     one_by_one = call_layers(layers, x).numpy()
        >>> fused = call_layers(layers, x).numpy()
        >>> fused.shape, bool(np.array_equal(fused, one_by_one))
        ((1, 8), True)

        An activity regularizer ends the run before its layer (its penalty needs the layer's output):

        >>> conv.activity_regularizer = tinydl.regularizers.L2(0.1)
        >>> match(layers) is None
        True
        >>> conv.activity_regularizer = None
    """
    i = 0
    while i < len(layers):
        step = match(layers[i:i + 4], training) if fusion_enabled() else None
        if step is None:
            x, i = layers[i](x, training=training), i + 1
        else:
            x, i = step(x, training=training), i + len(step.layers)
    return x


class FusedNodes:
    """A run of a functional graph's nodes computed as one fused step: inputs -> output.

    Attributes:
        fused: the FusedStep. inputs: the KerasTensors it is called on (a
            chain's one input; an Add's two). output: the KerasTensor it computes (the last
            node's output).

    Example:
        >>> from tinydl.models.functional import Graph
        >>> inp = tinydl.Input((6, 6, 1))
        >>> out = tinydl.layers.MaxPooling2D(2)(tinydl.layers.Conv2D(2, 3, activation="relu")(inp))
        >>> graph = Graph(inp, out, "demo")
        >>> (chain,) = plan_nodes(graph.nodes, graph.flat_outputs)
        >>> isinstance(chain, FusedNodes), chain.inputs == (inp,), chain.output is out
        (True, True, True)
        >>> x = np.random.default_rng(0).normal(size=(2, 6, 6, 1)).astype(np.float32)
        >>> bool(np.array_equal(chain(x).numpy(), chain.fused.plain(x).numpy()))
        True
    """

    def __init__(self, fused, inputs, output_tensor):
        self.fused, self.inputs, self.output = fused, tuple(inputs), output_tensor

    def __call__(self, *values, training=None):
        """The step's output, from the values of its inputs."""
        return self.fused(*values, training=training)


def _single_input(node):
    """The one KerasTensor node's layer is called on (positionally, without kwargs), or None."""
    if node.kwargs or len(node.args) != 1 or len(node.flat_outputs) != 1:
        return None
    return node.args[0] if node.parents and node.args[0] is node.parents[0] else None


def _chain(node, consumers, max_length=4) -> list:
    """node, then each next node that is the only user of the one before's output."""
    chain = [node]
    while len(chain) < max_length:
        users = consumers.get(id(chain[-1].flat_outputs[0]), [])
        if len(users) != 1 or users[0] is None or _single_input(users[0]) is None:
            break
        chain.append(users[0])
    return chain


def _add_relu(node, consumers):
    """(AddReluStep, the ReLU node) when node is an Add of two KerasTensors whose output only
    a default ReLU reads (and no model output is it), else None."""
    if type(node.layer) is not Add or node.kwargs or len(node.args) != 1 \
            or len(node.flat_outputs) != 1:
        return None
    pair = node.args[0]
    if not isinstance(pair, (list, tuple)) or len(pair) != 2 \
            or not all(isinstance(t, KerasTensor) for t in pair):
        return None
    users = consumers.get(id(node.flat_outputs[0]), [])
    if len(users) != 1 or users[0] is None or _single_input(users[0]) is None \
            or not _is_relu_layer(users[0].layer):
        return None
    if len(_without_activity_penalty([node.layer, users[0].layer])) != 2:
        return None
    return AddReluStep(node.layer, users[0].layer), users[0]


def plan_nodes(nodes, outputs, training=None) -> list:
    """A functional graph's nodes (in topological order) with the chains that match a pattern
    replaced by FusedNodes, placed where the chain's first node was.

    A chain continues only through a tensor that exactly one node uses, as its only argument,
    and that is not one of the model's outputs; so nothing outside the chain reads a value
    the fused step never computes.

    Args:
        nodes: the graph's nodes, in topological order. outputs: the model's output
            KerasTensors. training: the call's training flag.

    Returns:
        A list of nodes and FusedNodes; the nodes themselves while fusion is disabled.

    Example:
        >>> from tinydl.models.functional import Graph
        >>> inp = tinydl.Input((6, 6, 1))
        >>> conv_out = tinydl.layers.Conv2D(2, 3, activation="relu")(inp)
        >>> pooled = tinydl.layers.MaxPooling2D(2)(conv_out)
        >>> graph = Graph(inp, [pooled, conv_out], "demo")                 # conv_out is read outside
        >>> [type(step).__name__ for step in plan_nodes(graph.nodes, graph.flat_outputs)]
        ['FusedNodes', 'Node']
        >>> graph = Graph(inp, pooled, "demo")
        >>> [type(step).__name__ for step in plan_nodes(graph.nodes, graph.flat_outputs)]
        ['FusedNodes']
        >>> with tinydl.use_fusion(False):
        ...     len(plan_nodes(graph.nodes, graph.flat_outputs))
        2
    """
    if not fusion_enabled():
        return list(nodes)
    consumers: dict = {}
    for node in nodes:
        for parent in node.parents:
            consumers.setdefault(id(parent), []).append(node)
    for tensor in outputs:  # a model output is read by the caller: it ends every chain
        consumers.setdefault(id(tensor), []).append(None)
    steps, taken = [], set()
    for node in nodes:
        if id(node) in taken:
            continue
        residual = _add_relu(node, consumers)
        if residual is not None:
            step, relu_node = residual
            taken.add(id(relu_node))
            steps.append(FusedNodes(step, node.args[0], relu_node.flat_outputs[0]))
            continue
        step = match([n.layer for n in _chain(node, consumers)], training) \
            if _single_input(node) is not None else None
        if step is None:
            steps.append(node)
            continue
        chain = _chain(node, consumers)[:len(step.layers)]
        taken.update(id(n) for n in chain)
        steps.append(FusedNodes(step, (node.args[0],), chain[-1].flat_outputs[0]))
    return steps
