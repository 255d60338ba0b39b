/* rnn_math.h: sigmoid and tanh the compiler can vectorize, for the float recurrent gates.
 *
 * libm's tanhf is a function call per value, which keeps the gate loops scalar; with five
 * of them per LSTM unit and step the gates cost more than the recurrent GEMM. These are
 * straight-line float arithmetic: no calls, no tables, and selects that vectorize (bit
 * masks, and clamps by comparison, which the compiler turns into vector compares and blends
 * when it may ignore floating-point exceptions: rnn.c tells GCC so, clang does by default).
 * So a gate loop over j vectorizes (16 lanes with AVX-512). Only +, -, *, /, comparisons and
 * bit operations: the same bits for a given CPU and thread count (rnn.c lets the compiler
 * fuse a * b + c where the CPU has FMA, so AVX2/AVX-512 and baseline copies may differ in
 * the last bit; each stays within the error bound below).
 *
 *   exp(y), y clamped to [-87, 88]: 2^k * p(r), k = round(y / ln 2) (the 1.5 * 2^23 trick),
 *       r = y - k ln 2 (ln 2 split in two, Cody and Waite) in [-ln2/2, ln2/2], p the
 *       degree-7 Taylor polynomial (relative error < 1e-8), 2^k built as (k + 127) << 23.
 *   sigmoid(x) = 1 / (1 + exp(-x))             (no cancellation anywhere)
 *   tanh(x), a = |x|: a + a^3 P(a^2) below 0.625 (P of degree 4, fitted by least squares
 *       on Chebyshev nodes), else 1 - 2 / (exp(2a) + 1) with a clamped to 10 (tanh
 *       rounds to 1 in float beyond 9.01); the sign of x copied back.
 * Errors: within 3 float ulps of the exact values (tests/kernels/test_native_recurrent.py
 * checks them over a grid and the special values). NaN gives NaN; +-inf gives +-1 (tanh),
 * 1 or a tiny 1e-38 (sigmoid: its input is clamped to [-87, 88]).
 */
#ifndef TDL_RNN_MATH_H
#define TDL_RNN_MATH_H
#include <stdint.h>
#include <string.h>

static inline uint32_t tdl_rnn_bits(float x)
{
    uint32_t b;
    memcpy(&b, &x, sizeof b);
    return b;
}

static inline float tdl_rnn_from_bits(uint32_t b)
{
    float x;
    memcpy(&x, &b, sizeof x);
    return x;
}

/* lo where pick is 0, hi where it is all ones (a bit mask, not a branch). */
static inline float tdl_rnn_select(uint32_t pick, float hi, float lo)
{
    return tdl_rnn_from_bits((tdl_rnn_bits(hi) & pick) | (tdl_rnn_bits(lo) & ~pick));
}

/* x clamped to [lo, hi]; NaN stays NaN (both comparisons are false for it). */
static inline float tdl_rnn_clamp(float x, float lo, float hi)
{
    x = x < lo ? lo : x;
    return x > hi ? hi : x;
}

static inline float tdl_rnn_expf(float y)
{
    const float magic = 12582912.0f;  /* 1.5 * 2^23: adding it rounds to an integer */
    const float ln2_hi = 0.693145751953125f, ln2_lo = 1.428606765330187e-06f;
    y = tdl_rnn_clamp(y, -87.0f, 88.0f);
    const float shifted = y * 1.44269504088896341f + magic, k = shifted - magic;
    const uint32_t ki = tdl_rnn_bits(shifted) - tdl_rnn_bits(magic);
    const float r = (y - k * ln2_hi) - k * ln2_lo;
    float p = 1.0f / 5040.0f;
    p = p * r + 1.0f / 720.0f;
    p = p * r + 1.0f / 120.0f;
    p = p * r + 1.0f / 24.0f;
    p = p * r + 1.0f / 6.0f;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    return p * tdl_rnn_from_bits((ki + 127u) << 23);
}

static inline float tdl_rnn_sigmoidf(float x)
{
    return 1.0f / (1.0f + tdl_rnn_expf(-x));
}

static inline float tdl_rnn_tanhf(float x)
{
    const uint32_t sign = tdl_rnn_bits(x) & 0x80000000u;
    const float a = tdl_rnn_from_bits(tdl_rnn_bits(x) ^ sign);
    const float z = a * a;
    float p = -0.00615426f;
    p = p * z + 0.02104489f;
    p = p * z - 0.0538637f;
    p = p * z + 0.13332888f;
    p = p * z - 0.3333333f;
    const float near_zero = a + a * z * p;
    const float far = 1.0f - 2.0f / (tdl_rnn_expf(2.0f * tdl_rnn_clamp(a, -10.0f, 10.0f)) + 1.0f);
    const uint32_t small = -(uint32_t)(tdl_rnn_bits(a) < tdl_rnn_bits(0.625f));
    return tdl_rnn_from_bits(tdl_rnn_bits(tdl_rnn_select(small, near_zero, far)) | sign);
}

#endif
