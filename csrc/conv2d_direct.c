/* conv2d_direct.c: the direct 16-filter forward on AVX-512F (see conv2d_direct.h). Compiled
 * with a target attribute, so the file needs no special flags; called only when the AVX-512
 * micro-kernel is in use (the CPU has it, or a test forced it). */
#include "conv2d_direct.h"
#include "gemm.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

#define TDL_AVX512 __attribute__((target("avx512f")))
#define TDL_INLINE static inline __attribute__((always_inline))
#define TDL_DIRECT_MAX_PIXELS 24

/* One tile: MP pixels (1..24 for NV = 1 vector of 16 filters, 1..12 for NV = 2; both
 * compile-time constants, so the loops unroll and only MP x NV accumulators exist) of one
 * output row, pixel p's inputs ps = SW*C values after pixel p - 1's. They are read where they
 * lie, from base pointers four pixels apart
 * (as the GEMM's rows in place, gemm_ukr_avx512.c: written as a[p*c], gcc keeps too few of
 * the 24 offsets in registers). */
TDL_AVX512 TDL_INLINE void direct_tile(const int mp, const int nv, const float *xp,
                                       tdl_index wp, tdl_index c, tdl_index ps, tdl_index kh,
                                       tdl_index kwc,
                                       const float *w, tdl_index f, const __mmask16 *mask,
                                       float *y, const float *bias, int relu)
{
    __m512 acc[TDL_DIRECT_MAX_PIXELS][2];
#pragma GCC unroll 24
    for (int p = 0; p < mp; p++)
        for (int v = 0; v < nv; v++)
            acc[p][v] = _mm512_setzero_ps();
    for (tdl_index i = 0; i < kh; i++) {
        const float *row = xp + i * wp * c;
        const float *q[6] = {row, row, row, row, row, row};
        for (int b = 1; b * 4 < mp; b++)
            q[b] = row + b * 4 * ps;
        const float *wi = w + i * kwc * f;
#pragma GCC unroll 4
        for (tdl_index t = 0; t < kwc; t++, wi += f) {
            __m512 wv[2];
            for (int v = 0; v < nv; v++)
                wv[v] = _mm512_maskz_loadu_ps(mask[v], wi + 16 * v);
#pragma GCC unroll 24
            for (int p = 0; p < mp; p++) {
                const __m512 a = _mm512_set1_ps(q[p / 4][(p % 4) * ps]);
                for (int v = 0; v < nv; v++)
                    acc[p][v] = _mm512_fmadd_ps(a, wv[v], acc[p][v]);
            }
            for (int b = 0; b < 6; b++)
                q[b]++;
        }
    }
    const __m512 zero = _mm512_setzero_ps();
    __m512 bv[2] = {zero, zero};
    for (int v = 0; v < nv; v++)
        bv[v] = bias ? _mm512_maskz_loadu_ps(mask[v], bias + 16 * v) : zero;
#pragma GCC unroll 24
    for (int p = 0; p < mp; p++) {
        for (int v = 0; v < nv; v++) {
            __m512 r = bias ? _mm512_add_ps(acc[p][v], bv[v]) : acc[p][v];
            if (relu)  /* max(0, r): a NaN stays NaN, as in np.maximum */
                r = _mm512_max_ps(zero, r);
            _mm512_mask_storeu_ps(y + p * f + 16 * v, mask[v], r);
        }
    }
}

/* A tile of n pixels, n a compile-time constant so that its loops unroll. */
#define TDL_DIRECT_CASE(n, nv)                                                                 \
    case n:                                                                                    \
        direct_tile(n, nv, xq, wp, c, ps, kh, kwc, w, f, mask, yq, bias, relu);                \
        break;

/* The band's rows, in tiles of TILE pixels (24 with NV = 1, 12 with NV = 2) and a last
 * partial one. */
#define TDL_DIRECT_ROWS(NAME, NV, TILE, CASES)                                                 \
    TDL_AVX512 static void NAME(const float *xp, tdl_index wp, tdl_index c, tdl_index kh,     \
                                tdl_index kwc, const float *w, tdl_index f, tdl_index rows,   \
                                tdl_index ow, tdl_index sh, tdl_index sw, float *y,           \
                                const float *bias, int relu)                                  \
    {                                                                                          \
        const tdl_index ps = sw * c;                                                           \
        __mmask16 mask[2];                                                                     \
        for (int v = 0; v < 2; v++) {                                                          \
            const tdl_index left = tdl_max(0, tdl_min(16, f - 16 * v));                        \
            mask[v] = (__mmask16)(left >= 16 ? 0xFFFFu : (1u << (unsigned)left) - 1u);         \
        }                                                                                      \
        for (tdl_index r = 0; r < rows; r++) {                                                 \
            for (tdl_index q0 = 0; q0 < ow; q0 += (TILE)) {                                    \
                const float *xq = xp + r * sh * wp * c + q0 * ps;                              \
                float *yq = y + (r * ow + q0) * f;                                             \
                switch (tdl_min((TILE), ow - q0)) {                                            \
                    CASES                                                                      \
                default:                                                                       \
                    direct_tile((TILE), (NV), xq, wp, c, ps, kh, kwc, w, f, mask, yq, bias,    \
                                relu);                                                         \
                }                                                                              \
            }                                                                                  \
        }                                                                                      \
    }

#define TDL_DIRECT_CASES_12(nv)                                                                \
    TDL_DIRECT_CASE(1, nv) TDL_DIRECT_CASE(2, nv) TDL_DIRECT_CASE(3, nv)                       \
    TDL_DIRECT_CASE(4, nv) TDL_DIRECT_CASE(5, nv) TDL_DIRECT_CASE(6, nv)                       \
    TDL_DIRECT_CASE(7, nv) TDL_DIRECT_CASE(8, nv) TDL_DIRECT_CASE(9, nv)                       \
    TDL_DIRECT_CASE(10, nv) TDL_DIRECT_CASE(11, nv)
TDL_DIRECT_ROWS(direct_f16, 1, 24,
                TDL_DIRECT_CASES_12(1) TDL_DIRECT_CASE(12, 1) TDL_DIRECT_CASE(13, 1)
                TDL_DIRECT_CASE(14, 1) TDL_DIRECT_CASE(15, 1) TDL_DIRECT_CASE(16, 1)
                TDL_DIRECT_CASE(17, 1) TDL_DIRECT_CASE(18, 1) TDL_DIRECT_CASE(19, 1)
                TDL_DIRECT_CASE(20, 1) TDL_DIRECT_CASE(21, 1) TDL_DIRECT_CASE(22, 1)
                TDL_DIRECT_CASE(23, 1))
TDL_DIRECT_ROWS(direct_f32, 2, 12, TDL_DIRECT_CASES_12(2))

tdl_conv2d_f32_direct_fn tdl_conv2d_f32_direct(tdl_index f, int isa)
{
    if (isa != TDL_GEMM_AVX512 || f > 32)
        return NULL;
    return f <= 16 ? direct_f16 : direct_f32;
}
#else
tdl_conv2d_f32_direct_fn tdl_conv2d_f32_direct(tdl_index f, int isa)
{
    (void)f, (void)isa;
    return NULL;
}
#endif
