/* rnn_math.h: a tanh the compiler can vectorize, for the float recurrent gates (see rnn.h).
 *
 * libm's tanhf is a function call per value, which keeps the gate loops scalar; with five
 * of them per LSTM unit and step the gates cost more than the recurrent GEMM. This tanh is
 * straight-line arithmetic (no calls, no table, no data-dependent branch), so a gate loop
 * over j vectorizes, and it gives the same bits on every ISA and thread count (no FMA
 * contraction in ISO C mode, and only +, -, *, / and bit operations).
 *
 * It computes in double, for a float result: with a = min(|x|, 20),
 *   e = exp(2a) = 2^k * p(r),  k = round(2a / ln 2),  r = 2a - k ln 2 in [-ln2/2, ln2/2],
 *   p the degree-10 Taylor polynomial of exp (relative error < 3e-13 on that interval),
 *   2^k built in the exponent bits (k + 1023 << 52), k rounded by the 1.5 * 2^52 trick;
 *   tanh(a) = (e - 1) / (e + 1), and a * (1 - a^2 / 3) below 1e-5 (where e - 1 cancels);
 *   the sign of x copied back. Error: below 1e-10 relative, far under float's 6e-8 ulp.
 * NaN stays NaN (the clamp leaves bit patterns above inf's); +-inf gives +-1.
 */
#ifndef TDL_RNN_MATH_H
#define TDL_RNN_MATH_H
#include <stdint.h>
#include <string.h>

static inline uint64_t tdl_rnn_bits(double x)
{
    uint64_t b;
    memcpy(&b, &x, sizeof b);
    return b;
}

static inline double tdl_rnn_from_bits(uint64_t b)
{
    double x;
    memcpy(&x, &b, sizeof x);
    return x;
}

/* exp(y) for y in [0, 40]. */
static inline double tdl_rnn_exp_small(double y)
{
    const double magic = 6755399441055744.0;  /* 1.5 * 2^52: adding it rounds to an integer */
    const double ln2_hi = 6.93147180369123816490e-01, ln2_lo = 1.90821492927058770002e-10;
    double shifted = y * 1.44269504088896338700 + magic;
    double k = shifted - magic;
    uint64_t ki = tdl_rnn_bits(shifted) - tdl_rnn_bits(magic);
    double r = (y - k * ln2_hi) - k * ln2_lo;
    double p = 1.0 / 3628800.0;
    p = p * r + 1.0 / 362880.0;
    p = p * r + 1.0 / 40320.0;
    p = p * r + 1.0 / 5040.0;
    p = p * r + 1.0 / 720.0;
    p = p * r + 1.0 / 120.0;
    p = p * r + 1.0 / 24.0;
    p = p * r + 1.0 / 6.0;
    p = p * r + 0.5;
    p = p * r + 1.0;
    p = p * r + 1.0;
    return p * tdl_rnn_from_bits((ki + 1023u) << 52);
}

static inline float tdl_rnn_tanhf(float xf)
{
    const uint64_t sign_bit = (uint64_t)1 << 63, inf_bits = (uint64_t)0x7ff0 << 48;
    const double x = (double)xf;
    /* The selects are bit masks over bit patterns (ordered like the values for a >= 0):
     * no FP compare and no branch, which would stop the compiler vectorizing the loop. */
    uint64_t a_bits = tdl_rnn_bits(x) & ~sign_bit;
    const uint64_t clamp = tdl_rnn_bits(20.0), tiny = tdl_rnn_bits(1e-5);
    uint64_t big = -(uint64_t)((a_bits > clamp) & (a_bits <= inf_bits));  /* NaN stays NaN */
    a_bits = (clamp & big) | (a_bits & ~big);
    const double a = tdl_rnn_from_bits(a_bits), e = tdl_rnn_exp_small(2.0 * a);
    const double near_zero = a * (1.0 - a * a * (1.0 / 3.0)), ratio = (e - 1.0) / (e + 1.0);
    const uint64_t small = -(uint64_t)(a_bits < tiny);
    const uint64_t t_bits = (tdl_rnn_bits(near_zero) & small) | (tdl_rnn_bits(ratio) & ~small);
    return (float)tdl_rnn_from_bits(t_bits | (tdl_rnn_bits(x) & sign_bit));
}

#endif
