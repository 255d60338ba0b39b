"""Fuzz of the public API: random shapes and values through functional ops, layers and models
give the same values and gradients on the native backend as on the reference one.

The reference backend (NumPy) is the oracle. float32 cases use multiples of 1/2 and weights
of 1/8 (dyadic numbers): convolutions and matrix products are then exact in float32 on both
backends, so max-pool ties are broken on the same element and the comparison never trips over
a near-tie that rounding resolved differently; float64 cases use normal values. Some cases are
large enough to run multi-threaded (GEMM and convolution above 2**20 multiply-adds, pools
above 65,536 reads). The normal suite runs a few examples (the hypothesis profile); the
sanitizer run of .ci/sanitize runs many more under ASan and UBSan, on 1 and 2 threads.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinydl
import tinydl.functional as F
from tinydl import Tensor
from tinydl.layers import (AveragePooling2D, Conv2D, Dense, Flatten, GlobalAveragePooling2D,
                           MaxPooling2D)
from tinydl.models import Sequential

pytestmark = pytest.mark.skipif(not tinydl.backend_info()["native_available"],
                                reason="compares the native backend with the reference one")

TOLERANCE = {np.dtype(np.float32): 1e-4, np.dtype(np.float64): 1e-10}
OPS = ("conv2d", "conv2d_max_pool", "max_pool2d", "avg_pool2d", "matmul", "dense",
       "softmax_cross_entropy", "relu")


def values(rng, shape, dtype, step=0.5, high=4):
    """float32: multiples of step in [-high, high] (exact sums); float64: normal values."""
    if dtype == np.float32:
        return (rng.integers(-high, high + 1, shape) * step).astype(np.float32)
    return rng.standard_normal(shape)


def assert_agree(ours, oracle, what):
    """Same shape and dtype; values within the dtype's tolerance of max |oracle| (or 1)."""
    ours, oracle = np.asarray(ours), np.asarray(oracle)
    assert ours.shape == oracle.shape and ours.dtype == oracle.dtype, what
    if ours.size == 0:
        return
    same_nan = np.array_equal(np.isnan(ours), np.isnan(oracle))
    assert same_nan, f"{what}: NaN in different places"
    finite = ~np.isnan(oracle)
    scale = max(float(np.max(np.abs(oracle[finite]), initial=0.0)), 1.0)
    gap = float(np.max(np.abs(ours[finite].astype(np.float64) - oracle[finite]), initial=0.0))
    assert gap <= TOLERANCE[ours.dtype] * scale, f"{what}: gap {gap:.3g} (scale {scale:.3g})"


def on_each_backend(fn):
    """{'native': fn(), 'reference': fn()}, each run on its backend."""
    results = {}
    for name in ("native", "reference"):
        with tinydl.use_backend(name):
            results[name] = fn()
    return results


def compare(results, names):
    for name, ours, oracle in zip(names, results["native"], results["reference"]):
        assert_agree(ours, oracle, name)


# ----------------------------------------------------------------------------- functional ops

@st.composite
def op_cases(draw):
    """(op, dtype, seed, geometry dict) with small shapes, and some large (threaded) ones."""
    op = draw(st.sampled_from(OPS))
    dtype = draw(st.sampled_from((np.float32, np.float64)))
    large = draw(st.sampled_from((False, False, True)))
    n = draw(st.integers(8, 16) if large else st.integers(1, 3))
    side = (lambda: draw(st.integers(16, 28))) if large else (lambda: draw(st.integers(1, 9)))
    geometry = dict(
        n=n, h=side(), w=side(), c=draw(st.integers(8, 24) if large else st.integers(1, 5)),
        f=draw(st.integers(16, 48) if large else st.integers(1, 6)),
        window=(draw(st.integers(1, 4)), draw(st.integers(1, 4))),
        strides=(draw(st.integers(1, 3)), draw(st.integers(1, 3))),
        padding=draw(st.sampled_from(("valid", "same"))), relu=draw(st.booleans()),
        bias=draw(st.booleans()), pool=(draw(st.integers(1, 3)), draw(st.integers(1, 3))),
        pool_padding=draw(st.sampled_from(("valid", "same"))),
        k=draw(st.integers(100, 400) if large else st.integers(1, 20)),
    )
    if large and draw(st.booleans()):  # what the auto choice computes by Winograd
        geometry.update(window=(3, 3), strides=(1, 1), c=max(geometry["c"], 16))
    if geometry["padding"] == "valid" and (geometry["window"][0] > geometry["h"]
                                           or geometry["window"][1] > geometry["w"]):
        geometry["padding"] = "same"
    return op, dtype, draw(st.integers(0, 2**32 - 1)), geometry


def output_hw(g):
    """(OH, OW) of the convolution in g."""
    if g["padding"] == "same":
        return -(-g["h"] // g["strides"][0]), -(-g["w"] // g["strides"][1])
    return ((g["h"] - g["window"][0]) // g["strides"][0] + 1,
            (g["w"] - g["window"][1]) // g["strides"][1] + 1)


def pool_fits(hw, pool, padding):
    return padding == "same" or (pool[0] <= hw[0] and pool[1] <= hw[1])


def run_op(op, dtype, seed, g):
    """The op's output and the gradients of sum(output * r) w.r.t. every input, as arrays."""
    rng = np.random.default_rng(seed)
    x = values(rng, (g["n"], g["h"], g["w"], g["c"]), dtype)
    kernel = values(rng, (*g["window"], g["c"], g["f"]), dtype, step=0.125, high=8)
    bias = values(rng, (g["f"],), dtype) if g["bias"] else None
    inputs = [Tensor(a, requires_grad=True) for a in (x, kernel, bias) if a is not None]
    xt, kt = inputs[0], inputs[1]
    bt = inputs[2] if bias is not None else None
    conv = dict(strides=g["strides"], padding=g["padding"], fused_relu=g["relu"])
    if op == "conv2d":
        out = F.conv2d(xt, kt, bt, **conv)
    elif op == "conv2d_max_pool":
        out = F.conv2d_max_pool(xt, kt, bt, pool_size=g["pool"], pool_padding=g["pool_padding"],
                                **conv)
    elif op == "max_pool2d":
        inputs = [xt]
        out = F.max_pool2d(xt, g["pool"], g["strides"], g["pool_padding"])
    elif op == "avg_pool2d":
        inputs = [xt]
        out = F.avg_pool2d(xt, g["pool"], g["strides"], g["pool_padding"])
    elif op in ("matmul", "dense"):
        a = Tensor(values(rng, (g["n"] * g["h"], g["k"]), dtype), requires_grad=True)
        b = Tensor(values(rng, (g["k"], g["f"]), dtype, step=0.125, high=8), requires_grad=True)
        inputs = [a, b]
        out = a @ b
        if op == "dense":
            inputs.append(bt if bt is not None else Tensor(np.zeros(g["f"], dtype),
                                                           requires_grad=True))
            out = F.relu(out + inputs[-1]) if g["relu"] else out + inputs[-1]
    elif op == "softmax_cross_entropy":
        logits = Tensor(values(rng, (g["n"] * g["h"], g["k"] + 1), dtype) * 3, requires_grad=True)
        inputs = [logits]
        out = F.softmax_cross_entropy(logits, rng.integers(0, g["k"] + 1, g["n"] * g["h"]))
    else:
        inputs = [xt]
        out = F.relu(xt - dtype(0.25))
    cotangent = values(rng, out.shape, dtype)
    (out * Tensor(cotangent)).sum().backward()
    return [out.data] + [t.grad for t in inputs]


def op_applies(op, g):
    """Whether the drawn geometry is valid for op (else the case is skipped by assume)."""
    if op == "conv2d_max_pool":
        return pool_fits(output_hw(g), g["pool"], g["pool_padding"])
    if op in ("max_pool2d", "avg_pool2d"):
        return pool_fits((g["h"], g["w"]), g["pool"], g["pool_padding"])
    return True


@given(op_cases())
def test_functional_ops_agree_across_backends(case):
    op, dtype, seed, geometry = case
    if not op_applies(op, geometry):
        return
    results = on_each_backend(lambda: run_op(op, dtype, seed, geometry))
    names = [f"{op} output"] + [f"{op} gradient {i}" for i in range(len(results["native"]) - 1)]
    compare(results, names)


# ----------------------------------------------------------------------------- models

@st.composite
def model_cases(draw):
    """A small CNN description: conv (+ pool) (+ conv) -> flatten or global pool -> dense."""
    h, w = draw(st.integers(3, 12)), draw(st.integers(3, 12))
    return dict(
        seed=draw(st.integers(0, 2**32 - 1)), n=draw(st.integers(1, 6)), hw=(h, w),
        c=draw(st.integers(1, 4)), filters=draw(st.integers(1, 8)),
        kernel=(draw(st.integers(1, 3)), draw(st.integers(1, 3))),
        strides=draw(st.integers(1, 2)), padding=draw(st.sampled_from(("valid", "same"))),
        activation=draw(st.sampled_from(("relu", None))),
        pool=draw(st.sampled_from(("max", "avg", None))),
        pool_padding=draw(st.sampled_from(("valid", "same"))),
        second_conv=draw(st.booleans()), head=draw(st.sampled_from(("flatten", "global"))),
        units=draw(st.integers(1, 12)), classes=draw(st.integers(2, 5)),
    )


def build_model(case):
    """The Sequential model of case, with dyadic weights (exact sums in float32)."""
    tinydl.utils.set_random_seed(case["seed"] % 2**31)
    layers = [Conv2D(case["filters"], case["kernel"], strides=case["strides"],
                     padding=case["padding"],
                     activation=case["activation"], input_shape=(*case["hw"], case["c"]))]
    if case["pool"] == "max":
        layers.append(MaxPooling2D(2, padding=case["pool_padding"]))
    elif case["pool"] == "avg":
        layers.append(AveragePooling2D(2, padding=case["pool_padding"]))
    if case["second_conv"]:
        layers.append(Conv2D(3, (2, 2), padding="same", activation="relu"))
    layers.append(Flatten() if case["head"] == "flatten" else GlobalAveragePooling2D())
    layers += [Dense(case["units"], activation="relu"), Dense(case["classes"])]
    model = Sequential(layers)
    model.compile(optimizer=tinydl.optimizers.SGD(learning_rate=0.05),
                  loss=tinydl.losses.SparseCategoricalCrossentropy(from_logits=True))
    rng = np.random.default_rng(case["seed"])
    model.build((None, *case["hw"], case["c"]))
    model.set_weights([values(rng, w.shape, np.float32, step=0.125, high=4)
                       for w in model.get_weights()])
    return model


def train_and_predict(case):
    """Predictions, the two losses of two SGD steps and the weights after them."""
    rng = np.random.default_rng(case["seed"] + 1)
    x = values(rng, (case["n"], *case["hw"], case["c"]), np.float32)
    y = rng.integers(0, case["classes"], case["n"])
    model = build_model(case)
    before = model.predict(x, verbose=0)
    losses = [model.train_on_batch(x, y) for _ in range(2)]
    return [before, np.array(losses, dtype=np.float32)] + model.get_weights()


def model_fits(case):
    """A 'valid' 2x2 pool must fit the first convolution's output."""
    if case["padding"] == "same":
        side = [-(-s // case["strides"]) for s in case["hw"]]
    else:
        side = [(s - k) // case["strides"] + 1 for s, k in zip(case["hw"], case["kernel"])]
    return not (case["pool"] and case["pool_padding"] == "valid" and min(side) < 2)


@given(model_cases())
def test_models_train_and_predict_alike_on_both_backends(case):
    if not model_fits(case):
        return
    results = on_each_backend(lambda: train_and_predict(case))
    names = ["predictions", "losses"] + [f"weight {i}" for i in range(len(results["native"]) - 2)]
    compare(results, names)
