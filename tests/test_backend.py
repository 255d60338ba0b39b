"""Backend selection (set/get/use_backend, TINYDL_BACKEND, backend_info), check_backends, a silent
import, and agreement of the two backends on a small end-to-end computation."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys

import numpy as np
import pytest

import tinydl
import tinydl.functional as F
from tinydl import Tensor
from tinydl import backend as dispatch  # the module; `backend` is the fixture
from tinydl.kernels import _registry
from tinydl.ops.normalization import batch_norm_train
from tinydl.ops import image as image_ops
from tinydl.optimizers import Adam
from tinydl.utils import gradcheck

NATIVE = tinydl.backend_info()["native_available"]
needs_native = pytest.mark.skipif(not NATIVE, reason="the native extension tinydl._native is not built")


def run_python(code: str, **env_changes) -> subprocess.CompletedProcess:
    """Run `python -c code` in a fresh interpreter with the environment changed as given (None removes)."""
    env = dict(os.environ)
    for key, value in env_changes.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)


# ----------------------------------------------------------------------------- selection

def test_set_and_get_backend(backend):
    assert tinydl.get_backend() == backend
    other = "reference" if backend == "native" else ("native" if NATIVE else "reference")
    tinydl.set_backend(other)
    assert tinydl.get_backend() == other
    assert tinydl.backend_info()["backend"] == other


def test_use_backend_restores_the_previous_one_even_after_an_error(backend):
    with tinydl.use_backend("reference"):
        assert tinydl.get_backend() == "reference"
    assert tinydl.get_backend() == backend
    with pytest.raises(ZeroDivisionError):
        with tinydl.use_backend("reference"):
            raise ZeroDivisionError
    assert tinydl.get_backend() == backend


def test_use_backend_with_a_bad_name_changes_nothing(backend):
    with pytest.raises(ValueError, match="backend must be one of"):
        with tinydl.use_backend("gpu"):
            pass
    assert tinydl.get_backend() == backend


def test_backend_info_keys_and_consistency(backend):
    info = tinydl.backend_info()
    assert {"backend", "native_available", "native_kernels", "reference_kernels", "threads"} <= set(info)
    assert info["backend"] == backend
    assert isinstance(info["native_available"], bool)
    assert isinstance(info["threads"], int) and info["threads"] >= 1
    native, ref = set(info["native_kernels"]), set(info["reference_kernels"])
    assert native <= set(dispatch.KERNELS)
    if backend == "native":
        assert native.isdisjoint(ref) and native | ref == set(dispatch.KERNELS)
        assert native, "the native backend should implement at least one kernel"
    else:
        assert ref == set(dispatch.KERNELS)
    if not info["native_available"]:
        assert info["native_kernels"] == [] and "native_error" in info


def test_num_threads():
    before = tinydl.get_num_threads()
    assert before >= 1
    for bad in (0, -2, 1.5, True, "2"):
        with pytest.raises(ValueError,
                           match="number of threads must be a positive int, at most 1024 .*Received: "):
            tinydl.set_num_threads(bad)
    if NATIVE:
        try:
            tinydl.set_num_threads(1)
            assert tinydl.get_num_threads() == 1
        finally:
            tinydl.set_num_threads(before)


# ----------------------------------------------------------------------------- import time

@pytest.mark.parametrize("name", ["reference"] + (["native"] if NATIVE else []))
def test_tinydl_backend_env_var_is_honoured_at_import(name):
    result = run_python("import tinydl; print(tinydl.get_backend())", TINYDL_BACKEND=name)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == name


def test_default_backend_without_env_var():
    result = run_python("import tinydl; print(tinydl.get_backend())", TINYDL_BACKEND=None)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ("native" if NATIVE else "reference")


def test_env_var_is_case_insensitive_and_a_bad_value_fails_clearly():
    assert run_python("import tinydl; print(tinydl.get_backend())",
                      TINYDL_BACKEND=" Reference ").stdout.strip() == "reference"
    result = run_python("import tinydl", TINYDL_BACKEND="cuda")
    assert result.returncode != 0
    assert "backend must be one of ('reference', 'native'), got 'cuda'" in result.stderr


def test_importing_tinydl_prints_nothing():
    result = run_python("import tinydl, tinydl.functional, tinydl.utils", TINYDL_BACKEND=None,
                        PYTHONWARNINGS="default")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "" and result.stderr == ""


# ----------------------------------------------------------------------------- check_backends

def every_kernel_once(dtype=np.float32):
    from tinydl.ops.elementwise import AddRelu
    """A computation that runs each kernel at least once."""
    rng = np.random.default_rng(0)
    x = Tensor(rng.standard_normal((2, 6, 6, 2)).astype(dtype), requires_grad=True)
    k = Tensor(rng.standard_normal((3, 3, 2, 3)).astype(dtype), requires_grad=True)
    w = Tensor(rng.standard_normal((12, 4)).astype(dtype), requires_grad=True)
    h = F.conv2d(x, k, padding="same").relu()                          # conv2d_*, relu_*
    h, _, _ = batch_norm_train(h, None, None, -1, 1e-3)                 # batchnorm_*
    h = F.max_pool2d(h, 2) + F.avg_pool2d(h, 2)                         # (2, 3, 3, 3)
    h = AddRelu.apply(h, h * 0.5 - 0.25)                                # add_relu
    h = F.dropout(h, 0.25, training=True, rng=np.random.default_rng(1))  # dropout
    h = F.avg_pool2d(h, (2, 1), strides=1).reshape(2, -1)               # (2, 2, 3, 3) -> (2, 18)
    logits = h[:, :12] @ w                                              # gemm
    pooled = F.conv2d_max_pool(x, k, pool_size=2, fused_relu=True)      # conv2d_max_pool_*
    logits = logits + pooled.reshape(2, -1)[:, :4]
    loss = F.softmax_cross_entropy(logits, np.array([1, 3]))            # softmax_xent_*
    loss = loss + _sequence_kernels_once(rng, dtype)
    depthwise = image_ops.depthwise_conv2d(x, k[:, :, :, :1], strides=2, padding="same")  # depthwise_*
    loss = loss + depthwise.sum()
    loss = loss + F.global_avg_pool(x).sum() + F.global_max_pool(x).sum()  # global_*_pool*
    loss.backward()
    Adam().apply([w.grad], [w])                                         # adam_update
    return loss


def _sequence_kernels_once(rng, dtype):
    """embedding_backward and the recurrent kernels (forward and backward), as a scalar."""
    from tinydl.ops.embedding import EmbeddingLookup
    from tinydl.ops.recurrent import GRUSequence, LSTMSequence, SimpleRNNSequence
    table = Tensor(rng.standard_normal((5, 3)).astype(dtype), requires_grad=True)
    x = EmbeddingLookup.apply(table, np.array([[1, 4], [1, 0]]))          # (2, 2, 3)
    mask = np.array([[True, True], [False, True]])

    def weights(gates):
        return [Tensor(rng.standard_normal(s).astype(dtype), requires_grad=True)
                for s in ((3, gates * 2), (2, gates * 2))]
    h0 = Tensor(np.zeros((2, 2), dtype))
    total = SimpleRNNSequence.apply(x, *weights(1), None, h0, mask).sum()
    total = total + LSTMSequence.apply(x, *weights(4), None, h0, h0, None).sum()  # lstm_*_x
    # inputs that need no gradient: lstm_backward, without dx
    total = total + LSTMSequence.apply(Tensor(x.data), *weights(4), None, h0, h0, None).sum()
    # the loop over given projections, which no op calls since LSTMSequence projects inside it
    states, _ = tinydl.backend.lstm_forward(rng.standard_normal((2, 2, 8)).astype(dtype),
                                            weights(4)[1].data, h0.data, h0.data, mask)
    total = total + float(states.sum())
    return total + GRUSequence.apply(x, *weights(3), None, h0, mask).sum()


@needs_native
def test_check_backends_records_per_kernel_gaps_under_native():
    with tinydl.use_backend("native"):
        with tinydl.check_backends() as gaps:
            every_kernel_once()
        assert set(gaps) == set(tinydl.backend_info()["native_kernels"])
        assert all(isinstance(v, float) and 0.0 <= v < 1e-5 for v in gaps.values()), gaps
        recorded = dict(gaps)
        every_kernel_once()  # after the block nothing more is recorded
        assert gaps == recorded


def test_check_backends_records_nothing_under_reference():
    with tinydl.use_backend("reference"):
        with tinydl.check_backends() as gaps:
            every_kernel_once()
    assert gaps == {}


@needs_native
def test_check_backends_reports_a_native_kernel_that_disagrees(monkeypatch):
    """The gap is real: a native kernel that is off by 1% shows a gap of about 0.01."""
    name = tinydl.backend_info()["native_kernels"][0]
    kernel = _registry.kernels()[name]
    honest = kernel.native

    def off_by_one_percent(*args):
        out = honest(*args)
        return tuple(o * 1.01 if isinstance(o, np.ndarray) else o for o in out) \
            if isinstance(out, tuple) else out * 1.01

    monkeypatch.setitem(_registry.kernels(), name, dataclasses.replace(kernel, native=off_by_one_percent))
    with tinydl.use_backend("native"):
        with tinydl.check_backends() as gaps:
            every_kernel_once()
    assert gaps[name] == pytest.approx(0.01, rel=0.05)


# ----------------------------------------------------------------------------- both backends agree

def end_to_end(x, k, b, w, labels):
    """conv -> relu -> max pool -> reshape -> matmul -> softmax cross-entropy."""
    h = F.conv2d(x, k, b, strides=1, padding="same").relu()
    h = F.max_pool2d(h, 2)
    h = h.reshape(h.shape[0], -1)
    return F.softmax_cross_entropy(h @ w, labels)


def end_to_end_inputs(dtype):
    rng = np.random.default_rng(42)
    return (rng.standard_normal((3, 6, 6, 2)).astype(dtype),
            (rng.standard_normal((3, 2, 2, 4)) * 0.5).astype(dtype),
            (rng.standard_normal(4) * 0.1).astype(dtype),
            (rng.standard_normal((36, 5)) * 0.3).astype(dtype),
            np.array([0, 4, 2]))


def loss_and_grads(name):
    x, k, b, w, labels = end_to_end_inputs(np.float32)
    with tinydl.use_backend(name):
        leaves = [Tensor(a, requires_grad=True) for a in (x, k, b, w)]
        loss = end_to_end(*leaves, labels)
        loss.backward()
    return loss.item(), [t.grad for t in leaves]


@needs_native
def test_both_backends_agree_end_to_end():
    loss_ref, grads_ref = loss_and_grads("reference")
    loss_nat, grads_nat = loss_and_grads("native")
    assert np.isfinite(loss_ref)
    assert loss_nat == pytest.approx(loss_ref, rel=1e-5)
    for g_nat, g_ref in zip(grads_nat, grads_ref):
        assert g_nat.dtype == np.float32
        np.testing.assert_allclose(g_nat, g_ref, rtol=1e-4, atol=1e-6)


def test_end_to_end_float32_matches_float64_and_gradcheck(backend):
    """The float32 run agrees with a float64 run, and the whole pipeline passes gradcheck."""
    loss32, grads32 = loss_and_grads(backend)
    x, k, b, w, labels = end_to_end_inputs(np.float64)
    leaves = [Tensor(a, requires_grad=True) for a in (x, k, b, w)]
    loss64 = end_to_end(*leaves, labels)
    loss64.backward()
    assert loss32 == pytest.approx(loss64.item(), rel=1e-5)
    for g32, leaf in zip(grads32, leaves):
        np.testing.assert_allclose(g32, leaf.grad, rtol=1e-3, atol=1e-5)
    assert gradcheck(lambda *ts: end_to_end(*ts, labels), x, k, b, w)
