"""Native GEMM against reference.gemm: every size 1..70, transposes, epilogue, each micro-kernel."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from native_helpers import assert_close
from hypothesis import given, settings
from hypothesis import strategies as st

from tinydl.kernels import native, reference

DTYPES = (np.float32, np.float64)
TRANSPOSES = list(itertools.product((False, True), repeat=2))


def operands(rng, m, n, k, trans_a, trans_b, dtype):
    a = rng.standard_normal((k, m) if trans_a else (m, k)).astype(dtype)
    b = rng.standard_normal((n, k) if trans_b else (k, n)).astype(dtype)
    return a, b


def check(a, b, trans_a, trans_b, k, **kw):
    assert_close(native.gemm(a, b, trans_a, trans_b, **kw),
                 reference.gemm(a, b, trans_a, trans_b, **kw), k,
                 f"gemm {a.shape}x{b.shape} ta={trans_a} tb={trans_b} {sorted(kw)}")


@pytest.mark.parametrize("dtype", DTYPES)
def test_every_size_1_to_70(microkernel, dtype):
    """Each of M, N and K takes every value 1..70 (the others cycle), all transposes."""
    rng = np.random.default_rng(70)
    for s in range(1, 71):
        others = (s * 7) % 70 + 1, (s * 13) % 70 + 1
        for m, n, k in ((s, *others), (others[0], s, others[1]), (others[0], others[1], s)):
            trans_a, trans_b = TRANSPOSES[s % 4]
            a, b = operands(rng, m, n, k, trans_a, trans_b, dtype)
            check(a, b, trans_a, trans_b, k)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("trans_a, trans_b", TRANSPOSES)
def test_large_and_blocked(microkernel, dtype, trans_a, trans_b):
    """Sizes past every blocking constant (MC, KC, and NC for the generic kernel) and odd."""
    rng = np.random.default_rng(257)
    for m, n, k in ((257, 513, 129), (97, 2100, 301), (613, 37, 530)):
        a, b = operands(rng, m, n, k, trans_a, trans_b, dtype)
        check(a, b, trans_a, trans_b, k)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("trans_a, trans_b", TRANSPOSES)
def test_alpha_beta_bias_relu(microkernel, dtype, trans_a, trans_b):
    rng = np.random.default_rng(3)
    for m, n, k in ((1, 1, 1), (13, 35, 17), (70, 33, 300)):
        a, b = operands(rng, m, n, k, trans_a, trans_b, dtype)
        c = rng.standard_normal((m, n)).astype(dtype)
        bias = rng.standard_normal(n).astype(dtype)
        for kw in (dict(alpha=0.5), dict(beta=1.5, c=c), dict(alpha=-2.0, beta=0.25, c=c),
                   dict(bias=bias), dict(relu=True), dict(alpha=0.7, beta=-1.0, c=c, bias=bias,
                                                          relu=True)):
            check(a, b, trans_a, trans_b, k, **kw)


@pytest.mark.parametrize("trans_a, trans_b", TRANSPOSES)
def test_narrow_c_gives_the_bits_of_the_wide_tile(trans_a, trans_b):
    """AVX-512 runs a C of at most 16 columns on its 24 x 16 micro-kernel, and wider ones on
    12 x 32, with the same operations per element: the 16 columns of a narrow product are
    bit for bit the first 16 of the same product with a 17th column, and both match NumPy.
    Sizes: one sliver and several, partial edges, K past KC (two K blocks); epilogues too."""
    if "avx512" not in native.available_microkernels():
        pytest.skip("this CPU cannot run the avx512 micro-kernel")
    native.force_microkernel("avx512")
    try:
        rng = np.random.default_rng(16)
        for m, k in ((1, 1), (23, 5), (24, 64), (25, 300), (97, 400), (613, 37)):
            for n in (1, 9, 16):
                a, wide = operands(rng, m, 17, k, trans_a, trans_b, np.float32)
                narrow = wide[:n] if trans_b else np.ascontiguousarray(wide[:, :n])
                c = rng.standard_normal((m, 17)).astype(np.float32)
                bias = rng.standard_normal(17).astype(np.float32)
                for kw in ({}, dict(alpha=0.7, beta=-1.0, bias=bias, relu=True)):
                    full = dict(kw, c=c) if kw else kw
                    part = dict(kw, c=np.ascontiguousarray(c[:, :n]), bias=bias[:n]) if kw else kw
                    got = native.gemm(a, narrow, trans_a, trans_b, **part)
                    assert np.array_equal(got, native.gemm(a, wide, trans_a, trans_b,
                                                           **full)[:, :n])
                    check(a, narrow, trans_a, trans_b, k, **part)
    finally:
        native.force_microkernel("auto")


@pytest.mark.parametrize("dtype", DTYPES)
def test_in_place_or_packed_operands_give_the_same_bits(microkernel, dtype):
    """B is read in place only under a C of at most 32 rows or when its rows are at most 256
    bytes, and A^T only when its rows are not a multiple of 256 bytes apart (gemm_config.h);
    either side of each rule gives NumPy's product, and the same bits: the first 32 rows of a
    33-row product (B packed) are the 32-row product (B in place)."""
    rng = np.random.default_rng(33)
    item = np.dtype(dtype).itemsize
    for n in (256 // item, 256 // item + 1, 2560 // item, 2560 // item + 1):
        for trans_a in (False, True):
            a, b = operands(rng, 33, n, 300, trans_a, False, dtype)
            bias = rng.standard_normal(n).astype(dtype)
            check(a, b, trans_a, False, 300, bias=bias, relu=True)
            head = a[:, :32] if trans_a else a[:32]
            assert np.array_equal(native.gemm(a, b, trans_a, False)[:32],
                                  native.gemm(np.ascontiguousarray(head), b, trans_a, False))
    for m in (256 // item, 256 // item + 3):  # A^T's rows m values apart
        a, b = operands(rng, m, 40, 500, True, False, dtype)
        check(a, b, True, False, 500, alpha=0.5)


@pytest.mark.parametrize("trans_a", (False, True))
def test_a_transposed_b_gives_the_bits_of_b(microkernel, trans_a):
    """op(B) = B^T is packed by the micro-kernel's own transposing copy (AVX-512: 16 x 16
    blocks, AVX2: 8 x 8, masked for the last K % 16 or K % 8 steps; the generic kernel and
    slivers narrower than NR use the portable copy): every such product is bit for bit the one
    from B itself, stored (K, N), and NumPy's. N covers the narrow AVX-512 kernel (<= 16) and
    partial slivers; K the block tails and two K blocks; an epilogue on the last block."""
    rng = np.random.default_rng(14)
    for m, n, k in itertools.product((5, 64), (8, 16, 17, 32, 45, 100), (1, 7, 8, 9, 16, 31, 500)):
        a, bt = operands(rng, m, n, k, trans_a, True, np.float32)
        b = np.ascontiguousarray(bt.T)
        c = rng.standard_normal((m, n)).astype(np.float32)
        bias = rng.standard_normal(n).astype(np.float32)
        for kw in ({}, dict(alpha=0.7, beta=0.3, c=c, bias=bias, relu=True)):
            got = native.gemm(a, bt, trans_a, True, **kw)
            assert np.array_equal(got, native.gemm(a, b, trans_a, False, **kw)), (m, n, k, kw)
            check(a, bt, trans_a, True, k, **kw)


@pytest.mark.parametrize("dtype", (np.float32, np.float64))
def test_wide_rows_of_a_read_in_place_give_the_bits_of_packed_a(microkernel, dtype):
    """A not transposed is read in place whatever its rows' length, except rows a multiple
    of 4096 bytes apart (packed); A^T of those shapes is always packed. Both layouts feed the
    micro-kernel the same values in the same order: bit for bit the same product, with a
    partial last sliver of rows, two or three K blocks and every epilogue; and NumPy's."""
    rng = np.random.default_rng(21)
    item = np.dtype(dtype).itemsize
    for m, n, k in itertools.product((5, 64), (10, 40), (700, 4096 // item, 1500)):
        a, b = operands(rng, m, n, k, False, False, dtype)
        at = np.ascontiguousarray(a.T)
        c = rng.standard_normal((m, n)).astype(dtype)
        bias = rng.standard_normal(n).astype(dtype)
        for kw in ({}, dict(alpha=0.7, beta=0.3, c=c, bias=bias, relu=True)):
            got = native.gemm(a, b, False, False, **kw)
            assert np.array_equal(got, native.gemm(at, b, True, False, **kw)), (m, n, k, kw)
            check(a, b, False, False, k, **kw)


@pytest.mark.parametrize("trans_a, trans_b", TRANSPOSES)
def test_the_last_rows_give_the_bits_of_whole_tiles(microkernel, trans_a, trans_b):
    """A C whose rows are not a multiple of MR ends in a partial sliver (AVX-512: M = 64 is
    5 x 12 + 4, run by the 1..11-row micro-kernels, straight to C): its rows are bit for bit
    those of a product padded to whole tiles, with every epilogue and a beta of 0.3, in both
    A layouts and over two K blocks."""
    rng = np.random.default_rng(12)
    for m in list(range(1, 26)) + [64]:
        whole = -(-m // 24) * 24  # a multiple of every micro-kernel's MR
        for k in (7, 500):
            a, b = operands(rng, whole, 64, k, trans_a, trans_b, np.float32)
            head = np.ascontiguousarray(a[:, :m] if trans_a else a[:m])
            c = rng.standard_normal((whole, 64)).astype(np.float32)
            bias = rng.standard_normal(64).astype(np.float32)
            for kw in ({}, dict(alpha=0.7, beta=0.3, bias=bias, relu=True)):
                full = dict(kw, c=c) if kw else kw
                part = dict(kw, c=np.ascontiguousarray(c[:m])) if kw else kw
                got = native.gemm(head, b, trans_a, trans_b, **part)
                assert np.array_equal(got, native.gemm(a, b, trans_a, trans_b, **full)[:m])
                check(head, b, trans_a, trans_b, k, **part)


def test_beta_zero_ignores_c():
    """With beta == 0, C is not read: NaNs in it must not leak into the result."""
    a, b = np.ones((5, 3)), np.ones((3, 4))
    out = native.gemm(a, b, beta=0.0, c=np.full((5, 4), np.nan))
    assert np.array_equal(out, np.full((5, 4), 3.0))


@pytest.mark.parametrize("dtype", DTYPES)
def test_split_k_skinny(dtype, two_threads):
    """conv1's weight-gradient shape: op(A) (27, K) transposed, long K (split-K path)."""
    rng = np.random.default_rng(27)
    a, b = operands(rng, 27, 32, 9000, True, False, dtype)
    bias = rng.standard_normal(32).astype(dtype)
    check(a, b, True, False, 9000, alpha=0.5, bias=bias, relu=True)
    first = native.gemm(a, b, True, False)
    assert np.array_equal(first, native.gemm(a, b, True, False))


@pytest.mark.parametrize("trans_a, trans_b", TRANSPOSES)
def test_empty_dimensions(trans_a, trans_b):
    for m, n, k in ((0, 3, 4), (3, 0, 4), (3, 4, 0), (0, 0, 0)):
        a = np.ones((k, m) if trans_a else (m, k), np.float32)
        b = np.ones((n, k) if trans_b else (k, n), np.float32)
        out = native.gemm(a, b, trans_a, trans_b, bias=np.ones(n, np.float32))
        assert np.array_equal(out, reference.gemm(a, b, trans_a, trans_b,
                                                  bias=np.ones(n, np.float32)))


@settings(deadline=None, max_examples=60)
@given(m=st.integers(1, 70), n=st.integers(1, 70), k=st.integers(1, 70),
       trans=st.sampled_from(TRANSPOSES), dtype=st.sampled_from(DTYPES),
       kernel=st.sampled_from(("avx512", "avx2", "generic")), seed=st.integers(0, 2**16))
def test_hypothesis_sweep(m, n, k, trans, dtype, kernel, seed):
    if kernel not in native.available_microkernels():
        kernel = "generic"
    native.force_microkernel(kernel)
    try:
        rng = np.random.default_rng(seed)
        a, b = operands(rng, m, n, k, *trans, dtype)
        bias = rng.standard_normal(n).astype(dtype)
        check(a, b, *trans, k, alpha=1.5, bias=bias, relu=True)
    finally:
        native.force_microkernel("auto")


def test_force_microkernel_rejects_unknown_and_unsupported():
    with pytest.raises(ValueError, match="micro-kernel must be one of"):
        native.force_microkernel("sse9")
    for name in ("avx512", "avx2"):
        if name not in native.available_microkernels():
            with pytest.raises(ValueError, match="cannot run"):
                native.force_microkernel(name)
    assert native.info()["gemm_microkernel"] == native.available_microkernels()[0]


def test_result_does_not_depend_on_thread_count():
    """Threads own whole blocks of C, so 1 and 2 threads give bit-identical results."""
    rng = np.random.default_rng(11)
    a, b = operands(rng, 700, 300, 200, False, False, np.float32)
    previous = native.get_num_threads()
    try:
        native.set_num_threads(1)
        one = native.gemm(a, b, bias=np.ones(300, np.float32), relu=True)
        native.set_num_threads(2)
        two = native.gemm(a, b, bias=np.ones(300, np.float32), relu=True)
    finally:
        native.set_num_threads(previous)
    assert np.array_equal(one, two)
