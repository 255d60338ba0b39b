"""Lab 5: every stage of the student's C GEMM against NumPy in float64, on awkward sizes; the GFLOP/s meter."""

import itertools
import time

import numpy as np
import pytest

# Sizes that are not multiples of anything (MR = 4, NR = 16), and, in BIG, larger than the
# blocks (MC = 64, KC = 256, NC = 512), so every edge and every block boundary is crossed.
SMALL = [(1, 1, 1), (1, 7, 3), (5, 1, 2), (4, 16, 8), (5, 17, 9), (13, 31, 7), (33, 65, 129), (64, 48, 1)]
BIG = [(70, 530, 260), (129, 20, 513)]


def check(fn, shapes, seed=0):
    rng = np.random.default_rng(seed)
    for m, n, k in shapes:
        a = rng.standard_normal((m, k)).astype(np.float32)
        b = rng.standard_normal((k, n)).astype(np.float32)
        c = fn(a, b)
        assert c.shape == (m, n) and c.dtype == np.float32
        exact = a.astype(np.float64) @ b.astype(np.float64)
        scale = np.abs(a).astype(np.float64) @ np.abs(b).astype(np.float64)   # float32 rounding bound
        bad = np.abs(c - exact) > 1e-5 * scale + 1e-6
        if bad.any():
            i, j = np.argwhere(bad)[0]
            raise AssertionError(f"({m} x {k}) @ ({k} x {n}): C[{i}, {j}] is {c[i, j]}, expected "
                                 f"{exact[i, j]:.6g} ({int(bad.sum())} of {bad.size} elements wrong)")


def every_size_up_to(limit):
    return list(itertools.product(range(1, limit + 1), repeat=3))


@pytest.mark.task5_1
def test_naive_is_right_on_awkward_shapes(mygemm):
    check(mygemm.naive, SMALL + BIG[:1])


@pytest.mark.task5_1
def test_naive_is_right_for_every_size_up_to_6(mygemm):
    check(mygemm.naive, every_size_up_to(6))


@pytest.mark.task5_2
def test_blocked_is_right_across_block_boundaries(mygemm):
    check(mygemm.blocked, SMALL + BIG)


@pytest.mark.task5_2
def test_blocked_is_right_for_every_size_up_to_6(mygemm):
    check(mygemm.blocked, every_size_up_to(6))


@pytest.mark.task5_3
def test_packed_is_right_across_block_boundaries(mygemm):
    check(mygemm.packed, SMALL + BIG)


@pytest.mark.task5_3
def test_packed_is_right_for_every_size_up_to_18(mygemm):
    # Past MR = 4 and NR = 16 in every dimension: the zero padding of the packed edges.
    check(mygemm.packed, list(itertools.product((1, 3, 4, 5, 15, 16, 17, 18), repeat=3)))


@pytest.mark.task5_3
def test_packed_overwrites_c_and_does_not_touch_its_inputs(mygemm):
    rng = np.random.default_rng(3)
    a, b = rng.standard_normal((9, 20)).astype(np.float32), rng.standard_normal((20, 33)).astype(np.float32)
    a0, b0 = a.copy(), b.copy()
    first, second = mygemm.packed(a, b), mygemm.packed(a, b)
    np.testing.assert_array_equal(first, second)
    np.testing.assert_array_equal(a, a0)
    np.testing.assert_array_equal(b, b0)


@pytest.mark.task5_4
def test_simd_is_right_across_block_boundaries(mygemm):
    check(mygemm.simd, SMALL + BIG)


@pytest.mark.task5_4
def test_simd_is_right_at_every_edge(mygemm):
    check(mygemm.simd, list(itertools.product((1, 3, 4, 5, 7, 8, 9, 15, 16, 17), repeat=3)))


@pytest.mark.task5_5
def test_gflops_counts_2mnk_over_the_median_time(mygemm):
    calls = []

    def fake(a, b):                       # 20 ms per call, except a slow warm-up
        calls.append(a.shape + b.shape)
        time.sleep(0.1 if len(calls) == 1 else 0.02)

    rate = mygemm.gflops(fake, 100, 200, 300, repeats=3)
    assert len(calls) == 4, "one warm-up call, then `repeats` timed calls"
    assert calls[0] == (100, 300, 300, 200), "a is (m, k) and b is (k, n)"
    expected = 2 * 100 * 200 * 300 / 0.02 / 1e9          # 0.6 GFLOP/s
    assert 0.5 * expected < rate <= 1.05 * expected, f"{rate} GFLOP/s, expected about {expected}"


@pytest.mark.task5_5
def test_stage_table_measures_every_stage_tinydl_and_numpy(mygemm):
    table = mygemm.stage_table(n=48, repeats=1)
    assert set(table) == {"naive", "blocked", "packed", "simd", "tinydl", "numpy"}
    assert all(isinstance(v, float) and 0 < v < 1e5 for v in table.values()), table
