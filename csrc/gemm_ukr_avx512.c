/* gemm_ukr_avx512.c: AVX-512F micro-kernels, 12 x 32 (float) and 12 x 16 (double), and
 * 24 x 16 (float) for C of at most 16 columns; and 1..11 x 32 (float) for the last rows.
 *
 * Each step p loads one row of packed B (two ZMM registers), broadcasts the MR values of A
 * in turn and issues 2*MR fused multiply-adds into 2*MR accumulators (24 of 32 registers).
 * The C tile's cache lines are prefetched first, so the final loads/stores do not stall.
 * One body serves both A layouts (packed slivers, or rows read in place); see gemm_ukr.h.
 * Compiled with per-function target attributes: this file needs no special flags and the
 * build runs on CPUs without AVX-512 (the dispatcher never calls these there).
 */
#include "gemm_config.h"
#include "gemm_ukr.h"

#if defined(__x86_64__)
#include <immintrin.h>

#define TDL_AVX512 __attribute__((target("avx512f")))
#define TDL_INLINE static inline __attribute__((always_inline))

/* Rows of A read in place, A(i, p) = a[i*lda + p]: base pointers q[] TDL_ROWS_PER_BASE rows
 * apart, each plus 0, 1, 2 or 3 times lda, so that 24 rows cost nine registers (12 rows six).
 * Written as a[i*lda], the rows are MR offsets from one pointer, more than there are free
 * registers, and gcc reloaded many of them from the stack at every step p: the 24 x 16 kernel
 * issued ~40 loads per 24 multiply-adds and ran at about a third of its peak. */
#define TDL_ROWS_PER_BASE 4
TDL_INLINE float row_in_place(int i, const float *const *q, tdl_index lda)
{
    return q[i / TDL_ROWS_PER_BASE][(i % TDL_ROWS_PER_BASE) * lda];
}

/* A(i, p) = a[i * rs + p * cs]; the first mr rows of the tile (mr = MR, or fewer for the
 * last sliver of C's rows: a compile-time constant in each instantiation, see f32_short). */
TDL_AVX512 TDL_INLINE void f32_body(const int mr, tdl_index k, float alpha, const float *a,
                                    tdl_index rs, tdl_index cs, const float *b, tdl_index ldb,
                                    float beta, float *c, tdl_index ldc, const float *bias,
                                    int relu)
{
    enum { MR = TDL_AVX512_F32_MR, NR = TDL_AVX512_F32_NR };
    __m512 acc[MR][2];
#pragma GCC unroll 16
    for (int i = 0; i < mr; i++) {
        acc[i][0] = acc[i][1] = _mm512_setzero_ps();
        _mm_prefetch((const char *)(c + i * ldc), _MM_HINT_T0);
        _mm_prefetch((const char *)(c + i * ldc + NR - 1), _MM_HINT_T0);
    }
    if (cs == 1) {  /* rows in place (see row_in_place) */
        const float *q[3] = {a, a, a};  /* only the bases of rows the tile has */
        for (int j = 1; j * TDL_ROWS_PER_BASE < mr; j++)
            q[j] = a + j * TDL_ROWS_PER_BASE * rs;
#pragma GCC unroll 4
        for (tdl_index p = 0; p < k; p++, b += ldb) {
            __m512 b0 = _mm512_loadu_ps(b), b1 = _mm512_loadu_ps(b + 16);
#pragma GCC unroll 16
            for (int i = 0; i < mr; i++) {
                __m512 ai = _mm512_set1_ps(row_in_place(i, q, rs));
                acc[i][0] = _mm512_fmadd_ps(ai, b0, acc[i][0]);
                acc[i][1] = _mm512_fmadd_ps(ai, b1, acc[i][1]);
            }
            for (int j = 0; j < 3; j++)
                q[j]++;
        }
    } else {
#pragma GCC unroll 4
        for (tdl_index p = 0; p < k; p++, a += cs, b += ldb) {
            __m512 b0 = _mm512_loadu_ps(b), b1 = _mm512_loadu_ps(b + 16);
#pragma GCC unroll 16
            for (int i = 0; i < mr; i++) {
                __m512 ai = _mm512_set1_ps(a[i * rs]);
                acc[i][0] = _mm512_fmadd_ps(ai, b0, acc[i][0]);
                acc[i][1] = _mm512_fmadd_ps(ai, b1, acc[i][1]);
            }
        }
    }
    __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta), zero = _mm512_setzero_ps();
    __m512 bias0 = zero, bias1 = zero;
    if (bias) {
        bias0 = _mm512_loadu_ps(bias);
        bias1 = _mm512_loadu_ps(bias + 16);
    }
#pragma GCC unroll 16
    for (int i = 0; i < mr; i++) {
        float *ci = c + i * ldc;
        __m512 r0 = _mm512_mul_ps(va, acc[i][0]), r1 = _mm512_mul_ps(va, acc[i][1]);
        if (beta != 0.0f) {
            r0 = _mm512_fmadd_ps(vb, _mm512_loadu_ps(ci), r0);
            r1 = _mm512_fmadd_ps(vb, _mm512_loadu_ps(ci + 16), r1);
        }
        if (bias) {
            r0 = _mm512_add_ps(r0, bias0);
            r1 = _mm512_add_ps(r1, bias1);
        }
        if (relu) {  /* max(0, r): a NaN in r stays NaN, as in np.maximum */
            r0 = _mm512_max_ps(zero, r0);
            r1 = _mm512_max_ps(zero, r1);
        }
        _mm512_storeu_ps(ci, r0);
        _mm512_storeu_ps(ci + 16, r1);
    }
}

/* 24 x 16: one ZMM of B per step, 24 accumulators; per element the same operations in the
 * same order as f32_body, so the same bits. */
TDL_AVX512 TDL_INLINE void f32_narrow_body(const int mr, tdl_index k, float alpha,
                                           const float *a, tdl_index rs, tdl_index cs,
                                           const float *b, tdl_index ldb, float beta, float *c,
                                           tdl_index ldc, const float *bias, int relu)
{
    enum { MR = TDL_AVX512_F32_NARROW_MR };
    __m512 acc[MR];
#pragma GCC unroll 24
    for (int i = 0; i < mr; i++) {
        acc[i] = _mm512_setzero_ps();
        _mm_prefetch((const char *)(c + i * ldc), _MM_HINT_T0);
    }
    if (cs == 1) {  /* rows in place (see row_in_place) */
        const float *q[6] = {a, a, a, a, a, a};  /* only the bases of rows the tile has */
        for (int j = 1; j * TDL_ROWS_PER_BASE < mr; j++)
            q[j] = a + j * TDL_ROWS_PER_BASE * rs;
#pragma GCC unroll 4
        for (tdl_index p = 0; p < k; p++, b += ldb) {
            __m512 b0 = _mm512_loadu_ps(b);
#pragma GCC unroll 24
            for (int i = 0; i < mr; i++)
                acc[i] = _mm512_fmadd_ps(_mm512_set1_ps(row_in_place(i, q, rs)), b0, acc[i]);
            for (int j = 0; j < 6; j++)
                q[j]++;
        }
    } else {
#pragma GCC unroll 4
        for (tdl_index p = 0; p < k; p++, a += cs, b += ldb) {
            __m512 b0 = _mm512_loadu_ps(b);
#pragma GCC unroll 24
            for (int i = 0; i < mr; i++)
                acc[i] = _mm512_fmadd_ps(_mm512_set1_ps(a[i * rs]), b0, acc[i]);
        }
    }
    __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta), zero = _mm512_setzero_ps();
    __m512 bias0 = bias ? _mm512_loadu_ps(bias) : zero;
#pragma GCC unroll 24
    for (int i = 0; i < mr; i++) {
        float *ci = c + i * ldc;
        __m512 r = _mm512_mul_ps(va, acc[i]);
        if (beta != 0.0f)
            r = _mm512_fmadd_ps(vb, _mm512_loadu_ps(ci), r);
        if (bias)
            r = _mm512_add_ps(r, bias0);
        if (relu)  /* max(0, r): a NaN in r stays NaN, as in np.maximum */
            r = _mm512_max_ps(zero, r);
        _mm512_storeu_ps(ci, r);
    }
}

TDL_AVX512 TDL_INLINE void f64_body(tdl_index k, double alpha, const double *a, tdl_index rs,
                                    tdl_index cs, const double *b, tdl_index ldb, double beta,
                                    double *c, tdl_index ldc, const double *bias, int relu)
{
    enum { MR = TDL_AVX512_F64_MR, NR = TDL_AVX512_F64_NR };
    __m512d acc[MR][2];
#pragma GCC unroll 16
    for (int i = 0; i < MR; i++) {
        acc[i][0] = acc[i][1] = _mm512_setzero_pd();
        _mm_prefetch((const char *)(c + i * ldc), _MM_HINT_T0);
        _mm_prefetch((const char *)(c + i * ldc + NR - 1), _MM_HINT_T0);
    }
#pragma GCC unroll 4
    for (tdl_index p = 0; p < k; p++, a += cs, b += ldb) {
        __m512d b0 = _mm512_loadu_pd(b), b1 = _mm512_loadu_pd(b + 8);
#pragma GCC unroll 16
        for (int i = 0; i < MR; i++) {
            __m512d ai = _mm512_set1_pd(a[i * rs]);
            acc[i][0] = _mm512_fmadd_pd(ai, b0, acc[i][0]);
            acc[i][1] = _mm512_fmadd_pd(ai, b1, acc[i][1]);
        }
    }
    __m512d va = _mm512_set1_pd(alpha), vb = _mm512_set1_pd(beta), zero = _mm512_setzero_pd();
    __m512d bias0 = zero, bias1 = zero;
    if (bias) {
        bias0 = _mm512_loadu_pd(bias);
        bias1 = _mm512_loadu_pd(bias + 8);
    }
#pragma GCC unroll 16
    for (int i = 0; i < MR; i++) {
        double *ci = c + i * ldc;
        __m512d r0 = _mm512_mul_pd(va, acc[i][0]), r1 = _mm512_mul_pd(va, acc[i][1]);
        if (beta != 0.0) {
            r0 = _mm512_fmadd_pd(vb, _mm512_loadu_pd(ci), r0);
            r1 = _mm512_fmadd_pd(vb, _mm512_loadu_pd(ci + 8), r1);
        }
        if (bias) {
            r0 = _mm512_add_pd(r0, bias0);
            r1 = _mm512_add_pd(r1, bias1);
        }
        if (relu) {  /* max(0, r): a NaN in r stays NaN, as in np.maximum */
            r0 = _mm512_max_pd(zero, r0);
            r1 = _mm512_max_pd(zero, r1);
        }
        _mm512_storeu_pd(ci, r0);
        _mm512_storeu_pd(ci + 8, r1);
    }
}

TDL_AVX512 void tdl_gemm_f32_ukr_avx512(tdl_index k, float alpha, const float *a, tdl_index cs_a,
                                        const float *b, tdl_index ldb, float beta, float *c,
                                        tdl_index ldc, const float *bias, int relu)
{
    f32_body(TDL_AVX512_F32_MR, k, alpha, a, 1, cs_a, b, ldb, beta, c, ldc, bias, relu);
}

TDL_AVX512 void tdl_gemm_f32_ukr_avx512_rows(tdl_index k, float alpha, const float *a,
                                             tdl_index lda, const float *b, tdl_index ldb,
                                             float beta, float *c, tdl_index ldc,
                                             const float *bias, int relu)
{
    f32_body(TDL_AVX512_F32_MR, k, alpha, a, lda, 1, b, ldb, beta, c, ldc, bias, relu);
}

/* The first `rows` (1 .. MR - 1) rows of a 12 x 32 tile, written straight to C: the last
 * sliver of C's rows (M = 64 is 5 x 12 + 4) without computing a whole tile aside. Per
 * element the same operations as the whole tile, so the same bits. */
TDL_AVX512 TDL_INLINE void f32_short(int rows, tdl_index k, float alpha, const float *a,
                                     tdl_index rs, tdl_index cs, const float *b, tdl_index ldb,
                                     float beta, float *c, tdl_index ldc, const float *bias,
                                     int relu)
{
    TDL_UKR_SHORT_ROWS(rows, TDL_AVX512_F32_MR, f32_body,
                       k, alpha, a, rs, cs, b, ldb, beta, c, ldc, bias, relu)
}

TDL_AVX512 void tdl_gemm_f32_ukr_avx512_short(int rows, tdl_index k, float alpha,
                                              const float *a, tdl_index cs_a, const float *b,
                                              tdl_index ldb, float beta, float *c,
                                              tdl_index ldc, const float *bias, int relu)
{
    f32_short(rows, k, alpha, a, 1, cs_a, b, ldb, beta, c, ldc, bias, relu);
}

TDL_AVX512 void tdl_gemm_f32_ukr_avx512_rows_short(int rows, tdl_index k, float alpha,
                                                   const float *a, tdl_index lda,
                                                   const float *b, tdl_index ldb, float beta,
                                                   float *c, tdl_index ldc, const float *bias,
                                                   int relu)
{
    f32_short(rows, k, alpha, a, lda, 1, b, ldb, beta, c, ldc, bias, relu);
}

TDL_AVX512 void tdl_gemm_f32_ukr_avx512_narrow(tdl_index k, float alpha, const float *a,
                                               tdl_index cs_a, const float *b, tdl_index ldb,
                                               float beta, float *c, tdl_index ldc,
                                               const float *bias, int relu)
{
    f32_narrow_body(TDL_AVX512_F32_NARROW_MR, k, alpha, a, 1, cs_a, b, ldb, beta, c, ldc, bias,
                    relu);
}

TDL_AVX512 void tdl_gemm_f32_ukr_avx512_narrow_rows(tdl_index k, float alpha, const float *a,
                                                    tdl_index lda, const float *b,
                                                    tdl_index ldb, float beta, float *c,
                                                    tdl_index ldc, const float *bias, int relu)
{
    f32_narrow_body(TDL_AVX512_F32_NARROW_MR, k, alpha, a, lda, 1, b, ldb, beta, c, ldc, bias,
                    relu);
}

/* The first `rows` (1 .. 23) rows of a 24 x 16 tile, straight to C (a C of 16 rows, such as
 * a Winograd weight gradient's 16 x 16 GEMMs, is one such sliver). */
TDL_AVX512 TDL_INLINE void f32_narrow_short(int rows, tdl_index k, float alpha, const float *a,
                                            tdl_index rs, tdl_index cs, const float *b,
                                            tdl_index ldb, float beta, float *c, tdl_index ldc,
                                            const float *bias, int relu)
{
    TDL_UKR_SHORT_ROWS(rows, TDL_AVX512_F32_NARROW_MR, f32_narrow_body,
                       k, alpha, a, rs, cs, b, ldb, beta, c, ldc, bias, relu)
}

TDL_AVX512 void tdl_gemm_f32_ukr_avx512_narrow_short(int rows, tdl_index k, float alpha,
                                                     const float *a, tdl_index cs_a,
                                                     const float *b, tdl_index ldb, float beta,
                                                     float *c, tdl_index ldc, const float *bias,
                                                     int relu)
{
    f32_narrow_short(rows, k, alpha, a, 1, cs_a, b, ldb, beta, c, ldc, bias, relu);
}

TDL_AVX512 void tdl_gemm_f32_ukr_avx512_narrow_rows_short(int rows, tdl_index k, float alpha,
                                                          const float *a, tdl_index lda,
                                                          const float *b, tdl_index ldb,
                                                          float beta, float *c, tdl_index ldc,
                                                          const float *bias, int relu)
{
    f32_narrow_short(rows, k, alpha, a, lda, 1, b, ldb, beta, c, ldc, bias, relu);
}

TDL_AVX512 void tdl_gemm_f64_ukr_avx512(tdl_index k, double alpha, const double *a, tdl_index cs_a,
                                        const double *b, tdl_index ldb, double beta, double *c,
                                        tdl_index ldc, const double *bias, int relu)
{
    f64_body(k, alpha, a, 1, cs_a, b, ldb, beta, c, ldc, bias, relu);
}

TDL_AVX512 void tdl_gemm_f64_ukr_avx512_rows(tdl_index k, double alpha, const double *a,
                                             tdl_index lda, const double *b, tdl_index ldb,
                                             double beta, double *c, tdl_index ldc,
                                             const double *bias, int relu)
{
    f64_body(k, alpha, a, lda, 1, b, ldb, beta, c, ldc, bias, relu);
}

/* ----------------------------------------------------------------- transposing B packs */

/* out[q] (q < 16) = column q of the 16 x 16 block whose rows are r[0..15]: four rounds of
 * shuffles (pairs of rows, pairs of pairs within 128-bit lanes, then lanes), 64 in all. */
TDL_AVX512 TDL_INLINE void transpose16(__m512 r[16])
{
    __m512 t[16], u[16];
    for (int i = 0; i < 16; i += 2) {
        t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
        t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
    }
    for (int g = 0; g < 16; g += 4) {  /* u[g + c], lane L: column 4L + c of rows g..g+3 */
        __m512d t0 = _mm512_castps_pd(t[g]), t1 = _mm512_castps_pd(t[g + 1]);
        __m512d t2 = _mm512_castps_pd(t[g + 2]), t3 = _mm512_castps_pd(t[g + 3]);
        u[g] = _mm512_castpd_ps(_mm512_unpacklo_pd(t0, t2));
        u[g + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(t0, t2));
        u[g + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(t1, t3));
        u[g + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(t1, t3));
    }
    for (int c = 0; c < 4; c++) {  /* column 4L + c: lane L of u[c], u[4 + c], u[8 + c], u[12 + c] */
        __m512 v0 = _mm512_shuffle_f32x4(u[c], u[4 + c], 0x44);
        __m512 v1 = _mm512_shuffle_f32x4(u[c], u[4 + c], 0xEE);
        __m512 w0 = _mm512_shuffle_f32x4(u[8 + c], u[12 + c], 0x44);
        __m512 w1 = _mm512_shuffle_f32x4(u[8 + c], u[12 + c], 0xEE);
        r[c] = _mm512_shuffle_f32x4(v0, w0, 0x88);
        r[4 + c] = _mm512_shuffle_f32x4(v0, w0, 0xDD);
        r[8 + c] = _mm512_shuffle_f32x4(v1, w1, 0x88);
        r[12 + c] = _mm512_shuffle_f32x4(v1, w1, 0xDD);
    }
}

/* dst[p*nr + j] = b[j*ldb + p] for p < kb, j < nr (nr = 16 or 32): one whole sliver of a B
 * stored (N, K), in 16 x 16 blocks; the last steps (kb % 16) with masked loads. The same
 * values as the driver's portable copy, so the same products. */
TDL_AVX512 TDL_INLINE void f32_pack_bt(const int nr, const float *b, tdl_index ldb,
                                       tdl_index kb, float *dst)
{
    for (tdl_index p = 0; p < kb; p += 16) {
        const int steps = (int)tdl_min(16, kb - p);
        const __mmask16 mask = (__mmask16)((1u << steps) - 1u);
        for (int half = 0; half < nr; half += 16) {
            __m512 r[16];
            for (int j = 0; j < 16; j++)
                r[j] = _mm512_maskz_loadu_ps(mask, b + (half + j) * ldb + p);
            transpose16(r);
            for (int q = 0; q < steps; q++)
                _mm512_storeu_ps(dst + (p + q) * nr + half, r[q]);
        }
    }
}

TDL_AVX512 void tdl_gemm_f32_pack_bt_avx512(const float *b, tdl_index ldb, tdl_index kb,
                                            float *dst)
{
    f32_pack_bt(TDL_AVX512_F32_NR, b, ldb, kb, dst);
}

TDL_AVX512 void tdl_gemm_f32_pack_bt_avx512_narrow(const float *b, tdl_index ldb, tdl_index kb,
                                                   float *dst)
{
    f32_pack_bt(TDL_AVX512_F32_NARROW_NR, b, ldb, kb, dst);
}

#endif
