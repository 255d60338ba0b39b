"""Anomaly mode: detect_anomaly names the first op and layer whose forward or backward made a
NaN or Inf, with the shapes; off, nothing is checked or recorded."""

from __future__ import annotations

import threading

import numpy as np
import pytest

import tinydl
from tinydl import AnomalyError, Tensor
from tinydl.layers import Conv2D, Dense, Lambda, MaxPooling2D
from tinydl.models import Sequential
from tinydl.utils import set_random_seed

pytestmark = pytest.mark.filterwarnings("ignore:.*encountered in:RuntimeWarning")


def test_forward_that_makes_a_nan_is_named_with_its_layer_and_shapes():
    set_random_seed(0)
    model = Sequential([Dense(4, kernel_initializer="ones", input_shape=(3,)),
                        Lambda(lambda t: t.log(), name="log"), Dense(2)])
    x = -np.ones((5, 3), np.float32)
    with tinydl.detect_anomaly(), pytest.raises(AnomalyError) as caught:
        model.predict(x, verbose=0)
    error = caught.value
    assert (error.op, error.layer, error.phase) == ("Log", "log", "forward")
    assert str(error) == ("detect_anomaly: the forward of Log in layer 'log' produced 20 NaN of "
                          "20 values in its output (shape (5, 4)), from finite inputs of shapes "
                          "[(5, 4)]")
    assert isinstance(error, FloatingPointError)


def test_backward_that_makes_an_inf_is_named_with_its_layer():
    """|t| as sqrt(t * t): finite forward everywhere, but d sqrt / du = 1 / (2 sqrt(u)) is
    Inf at u = 0, and Sqrt's backward is the first to produce it."""
    set_random_seed(0)
    model = Sequential([Dense(3, input_shape=(3,), use_bias=False),
                        Lambda(lambda t: (t * t).sqrt(), name="norm"), Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    x = np.zeros((4, 3), np.float32)
    with tinydl.detect_anomaly(), pytest.raises(AnomalyError) as caught:
        model.train_on_batch(x, np.ones((4, 1), np.float32))
    error = caught.value
    assert (error.op, error.layer, error.phase) == ("Sqrt", "norm", "backward")
    assert "Inf of 12 values in the gradient for its input 0 (shape (4, 3))" in str(error)
    assert "flowing into its output (shape (4, 3))" in str(error)


def test_non_finite_data_is_reported_as_an_input_no_op_made():
    model = Sequential([Dense(2, input_shape=(3,), name="first")])
    x = np.ones((2, 3), np.float32)
    x[1, 2] = np.inf
    with tinydl.detect_anomaly(), pytest.raises(AnomalyError) as caught:
        model.predict(x, verbose=0)
    error = caught.value
    assert (error.op, error.layer) == ("Dense", "first")  # the fused x @ kernel + bias op
    assert "input 0 of Dense in layer 'first' (shape (2, 3)) already holds 1 Inf of 6 values" \
        in str(error)
    with tinydl.use_fusion(False), tinydl.detect_anomaly(), pytest.raises(AnomalyError) as caught:
        model.predict(x, verbose=0)
    assert (caught.value.op, caught.value.layer) == ("MatMul", "first")


def test_ops_outside_any_layer_and_fused_layer_pairs_are_named():
    with tinydl.detect_anomaly(), pytest.raises(AnomalyError, match="outside any layer") as caught:
        Tensor([1.0, 0.0]) / Tensor([1.0, 0.0])
    assert caught.value.layer is None and caught.value.op == "Div"
    model = Sequential([Conv2D(2, 3, input_shape=(6, 6, 1), name="c"),
                        MaxPooling2D(2, name="p")])
    model.layers[0].kernel.assign(np.full((3, 3, 1, 2), np.nan, np.float32))
    with tinydl.detect_anomaly(), pytest.raises(AnomalyError) as caught:
        model.predict(np.ones((1, 6, 6, 1), np.float32), verbose=0)
    assert (caught.value.op, caught.value.layer) == ("Conv2dMaxPool", "c+p")  # one fused node
    assert "input 1 of" in str(caught.value) and "(shape (3, 3, 1, 2))" in str(caught.value)


def test_the_gradient_given_to_backward_is_checked():
    x = Tensor([1.0, 2.0], requires_grad=True)
    with tinydl.detect_anomaly():
        y = x * 2
        with pytest.raises(AnomalyError, match="the gradient given to backward"):
            y.backward(np.array([1.0, np.nan], np.float32))


def test_off_nothing_is_checked_or_recorded():
    x = Tensor([-1.0], requires_grad=True)
    with np.errstate(invalid="ignore"):
        y = x.log()
    assert np.isnan(y.data[0]) and not hasattr(y._node.ctx, "layer")
    with tinydl.detect_anomaly():
        z = x * 2
    assert z._node.ctx.layer is None and not tinydl.is_anomaly_enabled()


def test_anomaly_mode_is_per_thread_and_works_as_a_decorator():
    seen = []
    with tinydl.detect_anomaly():
        thread = threading.Thread(target=lambda: seen.append(tinydl.is_anomaly_enabled()))
        thread.start()
        thread.join(timeout=30)
        assert tinydl.is_anomaly_enabled()
    assert seen == [False]

    @tinydl.autograd.detect_anomaly
    def log_of(values):
        return Tensor(values).log()
    with pytest.raises(AnomalyError, match="forward of Log"):
        log_of([-1.0])
    assert tinydl.autograd.detect_anomaly is tinydl.detect_anomaly


def test_building_a_layer_inside_anomaly_mode_does_not_check_the_shape_probe():
    """A Lambda's output shape is found by calling it on zeros: log(0) = -inf there is not
    an anomaly of the data."""
    with tinydl.detect_anomaly():
        model = Sequential([Lambda(lambda t: t.log(), input_shape=(3,), name="log")])
        assert model.output_shape == (None, 3) and tinydl.is_anomaly_enabled()
        with pytest.raises(AnomalyError, match="forward of Log in layer 'log'"):
            model.predict(np.zeros((2, 3), np.float32), verbose=0)
