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

/* One tile: MP pixels (a compile-time constant, 1..24) of one output row. Pixel p's inputs
 * are read where they lie, from base pointers four pixels apart (as the GEMM's rows in place,
 * gemm_ukr_avx512.c: written as a[p*c], gcc keeps too few of the 24 offsets in registers). */
TDL_AVX512 TDL_INLINE void direct_tile(const int mp, const float *xp, tdl_index wp,
                                       tdl_index c, tdl_index kh, tdl_index kwc,
                                       const float *w, tdl_index f, __mmask16 mask, float *y,
                                       const float *bias, int relu)
{
    __m512 acc[TDL_DIRECT_MAX_PIXELS];
#pragma GCC unroll 24
    for (int p = 0; p < mp; p++)
        acc[p] = _mm512_setzero_ps();
    for (tdl_index i = 0; i < kh; i++) {
        const float *row = xp + i * wp * c;
        const float *q[6] = {row, row, row, row, row, row};
        for (int b = 1; b * 4 < mp; b++)
            q[b] = row + b * 4 * c;
        const float *wi = w + i * kwc * f;
#pragma GCC unroll 4
        for (tdl_index t = 0; t < kwc; t++, wi += f) {
            const __m512 wv = _mm512_maskz_loadu_ps(mask, wi);
#pragma GCC unroll 24
            for (int p = 0; p < mp; p++)
                acc[p] = _mm512_fmadd_ps(_mm512_set1_ps(q[p / 4][(p % 4) * c]), wv, acc[p]);
            for (int b = 0; b < 6; b++)
                q[b]++;
        }
    }
    const __m512 zero = _mm512_setzero_ps();
    const __m512 bv = bias ? _mm512_maskz_loadu_ps(mask, bias) : zero;
#pragma GCC unroll 24
    for (int p = 0; p < mp; p++) {
        __m512 r = bias ? _mm512_add_ps(acc[p], bv) : acc[p];
        if (relu)  /* max(0, r): a NaN stays NaN, as in np.maximum */
            r = _mm512_max_ps(zero, r);
        _mm512_mask_storeu_ps(y + p * f, mask, r);
    }
}

/* A tile of n pixels, n a compile-time constant so that its loops unroll. */
#define TDL_DIRECT_CASE(n)                                                                     \
    case n:                                                                                    \
        direct_tile(n, xq, wp, c, kh, kwc, w, f, mask, yq, bias, relu);                        \
        break;

TDL_AVX512 static void direct_f16(const float *xp, tdl_index wp, tdl_index c, tdl_index kh,
                                  tdl_index kwc, const float *w, tdl_index f, tdl_index rows,
                                  tdl_index ow, float *y, const float *bias, int relu)
{
    const __mmask16 mask = (__mmask16)(f >= 16 ? 0xFFFFu : (1u << (unsigned)f) - 1u);
    for (tdl_index r = 0; r < rows; r++) {
        for (tdl_index q0 = 0; q0 < ow; q0 += TDL_DIRECT_MAX_PIXELS) {
            const float *xq = xp + (r * wp + q0) * c;
            float *yq = y + (r * ow + q0) * f;
            switch (tdl_min(TDL_DIRECT_MAX_PIXELS, ow - q0)) {
                TDL_DIRECT_CASE(1) TDL_DIRECT_CASE(2) TDL_DIRECT_CASE(3) TDL_DIRECT_CASE(4)
                TDL_DIRECT_CASE(5) TDL_DIRECT_CASE(6) TDL_DIRECT_CASE(7) TDL_DIRECT_CASE(8)
                TDL_DIRECT_CASE(9) TDL_DIRECT_CASE(10) TDL_DIRECT_CASE(11) TDL_DIRECT_CASE(12)
                TDL_DIRECT_CASE(13) TDL_DIRECT_CASE(14) TDL_DIRECT_CASE(15) TDL_DIRECT_CASE(16)
                TDL_DIRECT_CASE(17) TDL_DIRECT_CASE(18) TDL_DIRECT_CASE(19) TDL_DIRECT_CASE(20)
                TDL_DIRECT_CASE(21) TDL_DIRECT_CASE(22) TDL_DIRECT_CASE(23)
            default:
                direct_tile(TDL_DIRECT_MAX_PIXELS, xq, wp, c, kh, kwc, w, f, mask, yq, bias,
                            relu);
            }
        }
    }
}

tdl_conv2d_f32_direct_fn tdl_conv2d_f32_direct(tdl_index f, int isa)
{
    return isa == TDL_GEMM_AVX512 && f <= 16 ? direct_f16 : NULL;
}
#else
tdl_conv2d_f32_direct_fn tdl_conv2d_f32_direct(tdl_index f, int isa)
{
    (void)f, (void)isa;
    return NULL;
}
#endif
