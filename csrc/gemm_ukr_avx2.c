/* gemm_ukr_avx2.c: AVX2 + FMA micro-kernels, 6 x 16 (float) and 6 x 8 (double), and
 * 1..5 x 16 (float) for the last rows.
 *
 * Each step p loads one row of packed B (two YMM registers), broadcasts the MR values of A
 * in turn and issues 2*MR fused multiply-adds into 2*MR accumulators (12 of 16 registers).
 * The C tile's cache lines are prefetched first, so the final loads/stores do not stall.
 * One body serves both A layouts (packed slivers, or rows read in place); see gemm_ukr.h.
 * Compiled with per-function target attributes: this file needs no special flags and the
 * build runs on CPUs without AVX2 (the dispatcher never calls these there).
 */
#include "gemm_config.h"
#include "gemm_ukr.h"

#if defined(__x86_64__)
#include <immintrin.h>

#define TDL_AVX2 __attribute__((target("avx2,fma")))
#define TDL_INLINE static inline __attribute__((always_inline))

/* A(i, p) = a[i * rs + p * cs]; the first mr rows of the tile (mr = MR, or fewer for the
 * last sliver of C's rows: a compile-time constant in each instantiation, see f32_short). */
TDL_AVX2 TDL_INLINE void f32_body(const int mr, tdl_index k, float alpha, const float *a,
                                  tdl_index rs, tdl_index cs, const float *b, tdl_index ldb,
                                  float beta, float *c, tdl_index ldc, const float *bias,
                                  int relu)
{
    enum { MR = TDL_AVX2_F32_MR, NR = TDL_AVX2_F32_NR };
    __m256 acc[MR][2];
#pragma GCC unroll 8
    for (int i = 0; i < mr; i++) {
        acc[i][0] = acc[i][1] = _mm256_setzero_ps();
        _mm_prefetch((const char *)(c + i * ldc), _MM_HINT_T0);
        _mm_prefetch((const char *)(c + i * ldc + NR - 1), _MM_HINT_T0);
    }
#pragma GCC unroll 4
    for (tdl_index p = 0; p < k; p++, a += cs, b += ldb) {
        __m256 b0 = _mm256_loadu_ps(b), b1 = _mm256_loadu_ps(b + 8);
#pragma GCC unroll 8
        for (int i = 0; i < mr; i++) {
            __m256 ai = _mm256_set1_ps(a[i * rs]);
            acc[i][0] = _mm256_fmadd_ps(ai, b0, acc[i][0]);
            acc[i][1] = _mm256_fmadd_ps(ai, b1, acc[i][1]);
        }
    }
    __m256 va = _mm256_set1_ps(alpha), vb = _mm256_set1_ps(beta), zero = _mm256_setzero_ps();
    __m256 bias0 = zero, bias1 = zero;
    if (bias) {
        bias0 = _mm256_loadu_ps(bias);
        bias1 = _mm256_loadu_ps(bias + 8);
    }
#pragma GCC unroll 8
    for (int i = 0; i < mr; i++) {
        float *ci = c + i * ldc;
        __m256 r0 = _mm256_mul_ps(va, acc[i][0]), r1 = _mm256_mul_ps(va, acc[i][1]);
        if (beta != 0.0f) {
            r0 = _mm256_fmadd_ps(vb, _mm256_loadu_ps(ci), r0);
            r1 = _mm256_fmadd_ps(vb, _mm256_loadu_ps(ci + 8), r1);
        }
        if (bias) {
            r0 = _mm256_add_ps(r0, bias0);
            r1 = _mm256_add_ps(r1, bias1);
        }
        if (relu) {  /* max(0, r): a NaN in r stays NaN, as in np.maximum */
            r0 = _mm256_max_ps(zero, r0);
            r1 = _mm256_max_ps(zero, r1);
        }
        _mm256_storeu_ps(ci, r0);
        _mm256_storeu_ps(ci + 8, r1);
    }
}

TDL_AVX2 TDL_INLINE void f64_body(tdl_index k, double alpha, const double *a, tdl_index rs,
                                  tdl_index cs, const double *b, tdl_index ldb, double beta,
                                  double *c, tdl_index ldc, const double *bias, int relu)
{
    enum { MR = TDL_AVX2_F64_MR, NR = TDL_AVX2_F64_NR };
    __m256d acc[MR][2];
#pragma GCC unroll 8
    for (int i = 0; i < MR; i++) {
        acc[i][0] = acc[i][1] = _mm256_setzero_pd();
        _mm_prefetch((const char *)(c + i * ldc), _MM_HINT_T0);
        _mm_prefetch((const char *)(c + i * ldc + NR - 1), _MM_HINT_T0);
    }
#pragma GCC unroll 4
    for (tdl_index p = 0; p < k; p++, a += cs, b += ldb) {
        __m256d b0 = _mm256_loadu_pd(b), b1 = _mm256_loadu_pd(b + 4);
#pragma GCC unroll 8
        for (int i = 0; i < MR; i++) {
            __m256d ai = _mm256_set1_pd(a[i * rs]);
            acc[i][0] = _mm256_fmadd_pd(ai, b0, acc[i][0]);
            acc[i][1] = _mm256_fmadd_pd(ai, b1, acc[i][1]);
        }
    }
    __m256d va = _mm256_set1_pd(alpha), vb = _mm256_set1_pd(beta), zero = _mm256_setzero_pd();
    __m256d bias0 = zero, bias1 = zero;
    if (bias) {
        bias0 = _mm256_loadu_pd(bias);
        bias1 = _mm256_loadu_pd(bias + 4);
    }
#pragma GCC unroll 8
    for (int i = 0; i < MR; i++) {
        double *ci = c + i * ldc;
        __m256d r0 = _mm256_mul_pd(va, acc[i][0]), r1 = _mm256_mul_pd(va, acc[i][1]);
        if (beta != 0.0) {
            r0 = _mm256_fmadd_pd(vb, _mm256_loadu_pd(ci), r0);
            r1 = _mm256_fmadd_pd(vb, _mm256_loadu_pd(ci + 4), r1);
        }
        if (bias) {
            r0 = _mm256_add_pd(r0, bias0);
            r1 = _mm256_add_pd(r1, bias1);
        }
        if (relu) {  /* max(0, r): a NaN in r stays NaN, as in np.maximum */
            r0 = _mm256_max_pd(zero, r0);
            r1 = _mm256_max_pd(zero, r1);
        }
        _mm256_storeu_pd(ci, r0);
        _mm256_storeu_pd(ci + 4, r1);
    }
}

TDL_AVX2 void tdl_gemm_f32_ukr_avx2(tdl_index k, float alpha, const float *a, tdl_index cs_a,
                                    const float *b, tdl_index ldb, float beta, float *c,
                                    tdl_index ldc, const float *bias, int relu)
{
    f32_body(TDL_AVX2_F32_MR, k, alpha, a, 1, cs_a, b, ldb, beta, c, ldc, bias, relu);
}

TDL_AVX2 void tdl_gemm_f32_ukr_avx2_rows(tdl_index k, float alpha, const float *a, tdl_index lda,
                                         const float *b, tdl_index ldb, float beta, float *c,
                                         tdl_index ldc, const float *bias, int relu)
{
    f32_body(TDL_AVX2_F32_MR, k, alpha, a, lda, 1, b, ldb, beta, c, ldc, bias, relu);
}

/* The first `rows` (1 .. MR - 1) rows of a 6 x 16 tile, written straight to C (the last
 * sliver of C's rows); per element the same operations as the whole tile. */
TDL_AVX2 TDL_INLINE void f32_short(int rows, tdl_index k, float alpha, const float *a,
                                   tdl_index rs, tdl_index cs, const float *b, tdl_index ldb,
                                   float beta, float *c, tdl_index ldc, const float *bias,
                                   int relu)
{
    TDL_UKR_SHORT_ROWS(rows, TDL_AVX2_F32_MR, f32_body,
                       k, alpha, a, rs, cs, b, ldb, beta, c, ldc, bias, relu)
}

TDL_AVX2 void tdl_gemm_f32_ukr_avx2_short(int rows, tdl_index k, float alpha, const float *a,
                                          tdl_index cs_a, const float *b, tdl_index ldb,
                                          float beta, float *c, tdl_index ldc,
                                          const float *bias, int relu)
{
    f32_short(rows, k, alpha, a, 1, cs_a, b, ldb, beta, c, ldc, bias, relu);
}

TDL_AVX2 void tdl_gemm_f32_ukr_avx2_rows_short(int rows, tdl_index k, float alpha,
                                               const float *a, tdl_index lda, const float *b,
                                               tdl_index ldb, float beta, float *c,
                                               tdl_index ldc, const float *bias, int relu)
{
    f32_short(rows, k, alpha, a, lda, 1, b, ldb, beta, c, ldc, bias, relu);
}

TDL_AVX2 void tdl_gemm_f64_ukr_avx2(tdl_index k, double alpha, const double *a, tdl_index cs_a,
                                    const double *b, tdl_index ldb, double beta, double *c,
                                    tdl_index ldc, const double *bias, int relu)
{
    f64_body(k, alpha, a, 1, cs_a, b, ldb, beta, c, ldc, bias, relu);
}

TDL_AVX2 void tdl_gemm_f64_ukr_avx2_rows(tdl_index k, double alpha, const double *a, tdl_index lda,
                                         const double *b, tdl_index ldb, double beta, double *c,
                                         tdl_index ldc, const double *bias, int relu)
{
    f64_body(k, alpha, a, lda, 1, b, ldb, beta, c, ldc, bias, relu);
}

/* ----------------------------------------------------------------- transposing B pack */

/* r[q] (q < 8) becomes column q of the 8 x 8 block whose rows were r[0..7]. */
TDL_AVX2 TDL_INLINE void transpose8(__m256 r[8])
{
    __m256 t[8], u[8];
    for (int i = 0; i < 8; i += 2) {
        t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
        t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
    }
    for (int g = 0; g < 8; g += 4) {  /* u[g + c]: columns c and 4 + c of rows g..g+3 */
        u[g] = _mm256_shuffle_ps(t[g], t[g + 2], 0x44);
        u[g + 1] = _mm256_shuffle_ps(t[g], t[g + 2], 0xEE);
        u[g + 2] = _mm256_shuffle_ps(t[g + 1], t[g + 3], 0x44);
        u[g + 3] = _mm256_shuffle_ps(t[g + 1], t[g + 3], 0xEE);
    }
    for (int c = 0; c < 4; c++) {
        r[c] = _mm256_permute2f128_ps(u[c], u[4 + c], 0x20);
        r[4 + c] = _mm256_permute2f128_ps(u[c], u[4 + c], 0x31);
    }
}

/* dst[p*16 + j] = b[j*ldb + p] for p < kb, j < 16: one whole sliver of a B stored (N, K), in
 * 8 x 8 blocks; the last steps (kb % 8) with masked loads. The same values as the driver's
 * portable copy. */
TDL_AVX2 void tdl_gemm_f32_pack_bt_avx2(const float *b, tdl_index ldb, tdl_index kb, float *dst)
{
    enum { NR = TDL_AVX2_F32_NR };
    for (tdl_index p = 0; p < kb; p += 8) {
        const int steps = (int)tdl_min(8, kb - p);
        const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
        const __m256i mask = _mm256_cmpgt_epi32(_mm256_set1_epi32(steps), lanes);
        for (int half = 0; half < NR; half += 8) {
            __m256 r[8];
            for (int j = 0; j < 8; j++)
                r[j] = _mm256_maskload_ps(b + (half + j) * ldb + p, mask);
            transpose8(r);
            for (int q = 0; q < steps; q++)
                _mm256_storeu_ps(dst + (p + q) * NR + half, r[q]);
        }
    }
}
#endif
