"""Lab 3: the student's im2col convolution against tinydl's reference and native kernels, and the timer."""

import time

import numpy as np
import pytest

import tinydl
from tinydl import Tensor
from tinydl.kernels import reference
from tinydl.utils import gradcheck

# (x shape, kernel (KH, KW), F, strides, pads): odd sizes, non-square kernels, strides, uneven pads
CASES = [((2, 5, 5, 3), (3, 3), 4, (1, 1), (0, 0, 0, 0)),
         ((1, 6, 7, 2), (2, 3), 3, (2, 1), (1, 0, 2, 1)),
         ((3, 8, 8, 1), (3, 3), 2, (2, 2), (1, 1, 1, 1)),
         ((2, 4, 9, 5), (1, 4), 6, (1, 3), (0, 1, 0, 2)),
         ((1, 3, 3, 2), (3, 3), 1, (1, 1), (2, 2, 2, 2))]
IDS = [f"x{c[0]}-k{c[1]}-s{c[3]}-p{c[4]}" for c in CASES]


def data(case, seed=0):
    x_shape, (kh, kw), f, strides, pads = case
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(x_shape).astype(np.float32)
    w = rng.standard_normal((kh, kw, x_shape[3], f)).astype(np.float32)
    return x, w, rng.standard_normal(f).astype(np.float32), strides, pads


def native():
    if not tinydl.backend_info()["native_available"]:
        pytest.skip("the native extension is not built")
    return tinydl.use_backend("native")


@pytest.mark.task3_1
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_im2col_matches_the_reference(myconv, case):
    x, w, _, strides, pads = data(case)
    cols, out_hw = myconv.im2col(x, w.shape[:2], strides, pads)
    expected, expected_hw = reference.im2col(x, w.shape[:2], strides, pads)
    assert tuple(out_hw) == tuple(expected_hw)
    np.testing.assert_array_equal(cols, expected)


@pytest.mark.task3_2
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_conv2d_forward_matches_reference_and_native(myconv, case):
    x, w, b, strides, pads = data(case)
    y = myconv.conv2d_forward(x, w, b, strides, pads)
    np.testing.assert_allclose(y, reference.conv2d_forward(x, w, b, strides, pads), rtol=1e-5, atol=1e-5)
    with native():
        np.testing.assert_allclose(y, tinydl.backend.conv2d_forward(x, w, b, strides, pads), rtol=1e-4, atol=1e-4)


@pytest.mark.task3_2
def test_conv2d_forward_without_bias(myconv):
    x, w, _, strides, pads = data(CASES[1])
    np.testing.assert_allclose(myconv.conv2d_forward(x, w, None, strides, pads),
                               reference.conv2d_forward(x, w, None, strides, pads), rtol=1e-5, atol=1e-5)


@pytest.mark.task3_3
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_col2im_is_the_adjoint_of_im2col(myconv, case):
    # <im2col(x), c> == <x, col2im(c)> for every x and c: the definition of the adjoint.
    x, w, _, strides, pads = data(case)
    rng = np.random.default_rng(1)
    cols, _ = reference.im2col(x.astype(np.float64), w.shape[:2], strides, pads)
    c = rng.standard_normal(cols.shape)
    back = myconv.col2im(c, x.shape, w.shape[:2], strides, pads)
    assert back.shape == x.shape
    assert np.sum(cols * c) == pytest.approx(np.sum(x.astype(np.float64) * back), rel=1e-9)
    np.testing.assert_allclose(back, reference.col2im(c, x.shape, w.shape[:2], strides, pads), rtol=1e-12)


@pytest.mark.task3_4
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_input_gradient_matches_reference_and_native(myconv, case):
    x, w, _, strides, pads = data(case)
    oh, ow = reference.im2col(x, w.shape[:2], strides, pads)[1]
    dy = np.random.default_rng(2).standard_normal((x.shape[0], oh, ow, w.shape[3])).astype(np.float32)
    dx = myconv.conv2d_backward_input(dy, w, x.shape, strides, pads)
    np.testing.assert_allclose(dx, reference.conv2d_backward_input(dy, w, x.shape, strides, pads),
                               rtol=1e-5, atol=1e-5)
    with native():
        np.testing.assert_allclose(dx, tinydl.backend.conv2d_backward_input(dy, w, x.shape, strides, pads),
                                   rtol=1e-4, atol=1e-4)


@pytest.mark.task3_4
def test_input_gradient_passes_gradcheck(myconv):
    x, w, b, strides, pads = data(CASES[1])
    fn = lambda t: myconv.Conv2dFunction.apply(t, Tensor(w), Tensor(b), strides, pads)  # noqa: E731
    assert gradcheck(fn, Tensor(x))


@pytest.mark.task3_5
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_kernel_gradient_matches_reference_and_native(myconv, case):
    x, w, _, strides, pads = data(case)
    oh, ow = reference.im2col(x, w.shape[:2], strides, pads)[1]
    dy = np.random.default_rng(3).standard_normal((x.shape[0], oh, ow, w.shape[3])).astype(np.float32)
    dw, db = myconv.conv2d_backward_kernel(dy, x, w.shape[:2], strides, pads)
    ref_dw, ref_db = reference.conv2d_backward_kernel(dy, x, w.shape[:2], strides, pads, True)
    np.testing.assert_allclose(dw, ref_dw, rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(db, ref_db, rtol=1e-5, atol=1e-5)
    with native():
        nat_dw, _ = tinydl.backend.conv2d_backward_kernel(dy, x, w.shape[:2], strides, pads, True)
        np.testing.assert_allclose(dw, nat_dw, rtol=1e-4, atol=1e-3)


@pytest.mark.task3_5
def test_kernel_and_bias_gradients_pass_gradcheck(myconv):
    x, w, b, strides, pads = data(CASES[3])
    x, w, b = x[:1, :3, :6], w[:, :, :, :2], b[:2]
    fn = lambda kernel, bias: myconv.Conv2dFunction.apply(Tensor(x), kernel, bias, strides, pads)  # noqa: E731
    assert gradcheck(fn, Tensor(w), Tensor(b))


@pytest.mark.task3_6
def test_median_seconds_measures_the_median_call(myconv, monkeypatch):
    # A virtual clock that only the timed calls move, so a busy machine cannot change the answer
    clock = [100.0]
    durations = iter([0.0, 0.05, 0.05, 0.002, 0.002, 0.002])       # warm-up call first

    def call():
        clock[0] += next(durations)

    for name in ("perf_counter", "monotonic", "time"):
        monkeypatch.setattr(time, name, lambda: clock[0])
    seconds = myconv.median_seconds(call, repeats=5)
    assert seconds == pytest.approx(0.002), (f"{seconds} s: expected the median of the five timed calls "
                                             "(0.002 s), not the mean, the max or the warm-up call")


@pytest.mark.task3_6
def test_speed_table_times_mine_reference_and_native(myconv):
    table = myconv.speed_table((2, 8, 8, 3), (3, 3, 3, 4), repeats=2)
    expected = {"mine", "reference"} | ({"native"} if tinydl.backend_info()["native_available"] else set())
    assert set(table) == expected
    assert all(isinstance(s, float) and 0 < s < 10 for s in table.values()), table
