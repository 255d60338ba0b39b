/* conv2d_wgrad_small.c: the small-patch weight gradient on AVX-512F (see conv2d_wgrad_small.h).
 * Compiled with a target attribute, so the file needs no special flags; called only when the
 * AVX-512 micro-kernel is in use (the CPU has it, or a test forced it). */
#include "conv2d_wgrad_small.h"
#include "gemm.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

#define TDL_AVX512 __attribute__((target("avx512f")))

/* One kernel per (KH, KWC): KH*KWC accumulators (27 of the 32 registers at most), each FMA
 * broadcasting its input value from xp. Per element of dw the sum runs over P in order. */
#define TDL_WGRAD_SMALL(KH, KWC)                                                               \
    TDL_AVX512 static void wgrad_##KH##x##KWC(const float *xp, tdl_index wp, tdl_index c,      \
                                              const float *g, tdl_index f, tdl_index m,        \
                                              float *dw)                                       \
    {                                                                                          \
        enum { Q = (KH) * (KWC) };                                                             \
        for (tdl_index f0 = 0; f0 < f; f0 += 16) {                                             \
            const __mmask16 mask =                                                             \
                (__mmask16)(f - f0 >= 16 ? 0xFFFFu : (1u << (unsigned)(f - f0)) - 1u);         \
            __m512 acc[Q];                                                                     \
            _Pragma("GCC unroll 32") for (int q = 0; q < Q; q++) acc[q] = _mm512_setzero_ps(); \
            const float *gp = g + f0;                                                          \
            for (tdl_index p = 0; p < m; p++, gp += f) {                                       \
                const __m512 gv = _mm512_maskz_loadu_ps(mask, gp);                             \
                _Pragma("GCC unroll 4") for (int i = 0; i < (KH); i++) {                       \
                    const float *a = xp + (p + i * wp) * c;                                    \
                    _Pragma("GCC unroll 16") for (int t = 0; t < (KWC); t++)                   \
                        acc[i * (KWC) + t] =                                                   \
                            _mm512_fmadd_ps(_mm512_set1_ps(a[t]), gv, acc[i * (KWC) + t]);     \
                }                                                                              \
            }                                                                                  \
            _Pragma("GCC unroll 32") for (int q = 0; q < Q; q++) {                             \
                float *d = dw + q * f + f0;                                                    \
                _mm512_mask_storeu_ps(d, mask,                                                 \
                                      _mm512_add_ps(_mm512_maskz_loadu_ps(mask, d), acc[q]));  \
            }                                                                                  \
        }                                                                                      \
    }

TDL_WGRAD_SMALL(3, 9)
TDL_WGRAD_SMALL(3, 3)

tdl_conv2d_f32_wgrad_small_fn tdl_conv2d_f32_wgrad_small(tdl_index kh, tdl_index kwc, int isa)
{
    if (isa != TDL_GEMM_AVX512 || kh != 3)
        return NULL;
    return kwc == 9 ? wgrad_3x9 : kwc == 3 ? wgrad_3x3 : NULL;
}
#else
tdl_conv2d_f32_wgrad_small_fn tdl_conv2d_f32_wgrad_small(tdl_index kh, tdl_index kwc, int isa)
{
    (void)kh, (void)kwc, (void)isa;
    return NULL;
}
#endif
