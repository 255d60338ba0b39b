/* gemm_ukr.h: the GEMM micro-kernels, one file per instruction set.
 *
 * Every micro-kernel computes one MR x NR tile:
 *     for i < MR, j < NR:  v = alpha * sum_{p<k} A(i, p) * B(p, j)
 *                                 + (beta == 0 ? 0 : beta * c[i*ldc + j])
 *                                 + (bias ? bias[j] : 0)
 *                          c[i*ldc + j] = relu ? max(v, 0) : v
 * (bias and relu are the fused epilogue, passed on the last K block only).
 * B(p, j) = b[p*ldb + j]: NR contiguous values per step p; a packed, zero-padded sliver
 * (ldb = NR) or, for a whole sliver of a narrow B, B itself (no packing copy).
 * A comes in one of two layouts, one entry point each:
 *   tdl_gemm_<dtype>_ukr_<isa>(..., a, cs_a, ...)   A(i, p) = a[p*cs_a + i]: MR contiguous values
 *       per step; a packed sliver (cs_a = MR), or a narrow A^T read in place (cs_a = its lda)
 *   tdl_gemm_<dtype>_ukr_<isa>_rows(..., a, lda, ...) A(i, p) = a[i*lda + p]: MR rows of A read
 *       where they lie (op(A) = A: no packing copy at all)
 * Edge slivers are always copied and zero-padded first, so the micro-kernel never handles
 * edges. k >= 1. With beta == 0, c is written without being read. MR and NR per kernel are in
 * gemm_config.h.
 */
#ifndef TDL_GEMM_UKR_H
#define TDL_GEMM_UKR_H
#include "tdl_common.h"

typedef void (*tdl_gemm_f32_ukr)(tdl_index k, float alpha, const float *a, tdl_index lda,
                                 const float *b, tdl_index ldb, float beta, float *c,
                                 tdl_index ldc, const float *bias, int relu);
typedef void (*tdl_gemm_f64_ukr)(tdl_index k, double alpha, const double *a, tdl_index lda,
                                 const double *b, tdl_index ldb, double beta, double *c,
                                 tdl_index ldc, const double *bias, int relu);
/* The first `rows` (1 .. MR - 1) rows of a tile, written straight to C (an optional entry:
 * without it the driver computes the whole tile aside and keeps those rows). The A sliver is
 * the zero-padded copy of the layout's edge, read with the same strides. */
/* The body of a `_short` entry: body(r, args...) for r = rows, with each r a compile-time
 * constant so that the kernel's loops over its rows unroll (r < max, the kernel's MR; 23 at
 * most). */
#define TDL_UKR_SHORT_CASE(r, max, body, ...)                                                 \
    case r:                                                                                    \
        if ((r) < (max))                                                                       \
            body(r, __VA_ARGS__);                                                              \
        break;
#define TDL_UKR_SHORT_ROWS(rows, max, body, ...)                                              \
    switch (rows) {                                                                            \
        TDL_UKR_SHORT_CASE(1, max, body, __VA_ARGS__)                                          \
        TDL_UKR_SHORT_CASE(2, max, body, __VA_ARGS__)                                          \
        TDL_UKR_SHORT_CASE(3, max, body, __VA_ARGS__)                                          \
        TDL_UKR_SHORT_CASE(4, max, body, __VA_ARGS__)                                          \
        TDL_UKR_SHORT_CASE(5, max, body, __VA_ARGS__)                                          \
        TDL_UKR_SHORT_CASE(6, max, body, __VA_ARGS__)                                          \
        TDL_UKR_SHORT_CASE(7, max, body, __VA_ARGS__)                                          \
        TDL_UKR_SHORT_CASE(8, max, body, __VA_ARGS__)                                          \
        TDL_UKR_SHORT_CASE(9, max, body, __VA_ARGS__)                                          \
        TDL_UKR_SHORT_CASE(10, max, body, __VA_ARGS__)                                         \
        TDL_UKR_SHORT_CASE(11, max, body, __VA_ARGS__)                                         \
        TDL_UKR_SHORT_CASE(12, max, body, __VA_ARGS__)                                         \
        TDL_UKR_SHORT_CASE(13, max, body, __VA_ARGS__)                                         \
        TDL_UKR_SHORT_CASE(14, max, body, __VA_ARGS__)                                         \
        TDL_UKR_SHORT_CASE(15, max, body, __VA_ARGS__)                                         \
        TDL_UKR_SHORT_CASE(16, max, body, __VA_ARGS__)                                         \
        TDL_UKR_SHORT_CASE(17, max, body, __VA_ARGS__)                                         \
        TDL_UKR_SHORT_CASE(18, max, body, __VA_ARGS__)                                         \
        TDL_UKR_SHORT_CASE(19, max, body, __VA_ARGS__)                                         \
        TDL_UKR_SHORT_CASE(20, max, body, __VA_ARGS__)                                         \
        TDL_UKR_SHORT_CASE(21, max, body, __VA_ARGS__)                                         \
        TDL_UKR_SHORT_CASE(22, max, body, __VA_ARGS__)                                         \
        TDL_UKR_SHORT_CASE(23, max, body, __VA_ARGS__)                                         \
    default:                                                                                   \
        break;                                                                                 \
    }

typedef void (*tdl_gemm_f32_ukr_short)(int rows, tdl_index k, float alpha, const float *a,
                                       tdl_index lda, const float *b, tdl_index ldb, float beta,
                                       float *c, tdl_index ldc, const float *bias, int relu);
typedef void (*tdl_gemm_f64_ukr_short)(int rows, tdl_index k, double alpha, const double *a,
                                       tdl_index lda, const double *b, tdl_index ldb,
                                       double beta, double *c, tdl_index ldc,
                                       const double *bias, int relu);

/* A transposing pack of one whole NR-wide sliver of B stored (N, K): dst[p*NR + j] =
 * b[j*ldb + p] for p < kb, j < NR (an optional entry: without it the driver's portable copy,
 * which gives the same values). */
typedef void (*tdl_gemm_f32_pack)(const float *b, tdl_index ldb, tdl_index kb, float *dst);
typedef void (*tdl_gemm_f64_pack)(const double *b, tdl_index ldb, tdl_index kb, double *dst);
/* Portable C (any CPU). */
void tdl_gemm_f32_ukr_generic(tdl_index k, float alpha, const float *a, tdl_index cs_a,
                              const float *b, tdl_index ldb, float beta, float *c, tdl_index ldc,
                              const float *bias, int relu);
void tdl_gemm_f32_ukr_generic_rows(tdl_index k, float alpha, const float *a, tdl_index lda,
                                   const float *b, tdl_index ldb, float beta, float *c,
                                   tdl_index ldc, const float *bias, int relu);
void tdl_gemm_f64_ukr_generic(tdl_index k, double alpha, const double *a, tdl_index cs_a,
                              const double *b, tdl_index ldb, double beta, double *c,
                              tdl_index ldc, const double *bias, int relu);
void tdl_gemm_f64_ukr_generic_rows(tdl_index k, double alpha, const double *a, tdl_index lda,
                                   const double *b, tdl_index ldb, double beta, double *c,
                                   tdl_index ldc, const double *bias, int relu);

#if defined(__x86_64__)
/* AVX2 + FMA: call only when tdl_cpu_features_get() has TDL_CPU_AVX2. */
void tdl_gemm_f32_ukr_avx2(tdl_index k, float alpha, const float *a, tdl_index cs_a,
                           const float *b, tdl_index ldb, float beta, float *c, tdl_index ldc,
                           const float *bias, int relu);
void tdl_gemm_f32_ukr_avx2_rows(tdl_index k, float alpha, const float *a, tdl_index lda,
                                const float *b, tdl_index ldb, float beta, float *c, tdl_index ldc,
                                const float *bias, int relu);
void tdl_gemm_f32_ukr_avx2_short(int rows, tdl_index k, float alpha, const float *a,
                                 tdl_index cs_a, const float *b, tdl_index ldb, float beta,
                                 float *c, tdl_index ldc, const float *bias, int relu);
void tdl_gemm_f32_ukr_avx2_rows_short(int rows, tdl_index k, float alpha, const float *a,
                                      tdl_index lda, const float *b, tdl_index ldb, float beta,
                                      float *c, tdl_index ldc, const float *bias, int relu);
void tdl_gemm_f32_pack_bt_avx2(const float *b, tdl_index ldb, tdl_index kb, float *dst);
void tdl_gemm_f64_ukr_avx2(tdl_index k, double alpha, const double *a, tdl_index cs_a,
                           const double *b, tdl_index ldb, double beta, double *c, tdl_index ldc,
                           const double *bias, int relu);
void tdl_gemm_f64_ukr_avx2_rows(tdl_index k, double alpha, const double *a, tdl_index lda,
                                const double *b, tdl_index ldb, double beta, double *c,
                                tdl_index ldc, const double *bias, int relu);
/* AVX-512F: call only when tdl_cpu_features_get() has TDL_CPU_AVX512F. */
void tdl_gemm_f32_ukr_avx512(tdl_index k, float alpha, const float *a, tdl_index cs_a,
                             const float *b, tdl_index ldb, float beta, float *c, tdl_index ldc,
                             const float *bias, int relu);
void tdl_gemm_f32_ukr_avx512_rows(tdl_index k, float alpha, const float *a, tdl_index lda,
                                  const float *b, tdl_index ldb, float beta, float *c,
                                  tdl_index ldc, const float *bias, int relu);
void tdl_gemm_f32_ukr_avx512_short(int rows, tdl_index k, float alpha, const float *a,
                                   tdl_index cs_a, const float *b, tdl_index ldb, float beta,
                                   float *c, tdl_index ldc, const float *bias, int relu);
void tdl_gemm_f32_ukr_avx512_rows_short(int rows, tdl_index k, float alpha, const float *a,
                                        tdl_index lda, const float *b, tdl_index ldb,
                                        float beta, float *c, tdl_index ldc, const float *bias,
                                        int relu);
/* 24 x 16 (float): for C of at most 16 columns, same arithmetic per element as 12 x 32. */
void tdl_gemm_f32_ukr_avx512_narrow(tdl_index k, float alpha, const float *a, tdl_index cs_a,
                                    const float *b, tdl_index ldb, float beta, float *c,
                                    tdl_index ldc, const float *bias, int relu);
void tdl_gemm_f32_ukr_avx512_narrow_rows(tdl_index k, float alpha, const float *a,
                                         tdl_index lda, const float *b, tdl_index ldb,
                                         float beta, float *c, tdl_index ldc, const float *bias,
                                         int relu);
void tdl_gemm_f32_ukr_avx512_narrow_short(int rows, tdl_index k, float alpha, const float *a,
                                          tdl_index cs_a, const float *b, tdl_index ldb,
                                          float beta, float *c, tdl_index ldc, const float *bias,
                                          int relu);
void tdl_gemm_f32_ukr_avx512_narrow_rows_short(int rows, tdl_index k, float alpha,
                                               const float *a, tdl_index lda, const float *b,
                                               tdl_index ldb, float beta, float *c,
                                               tdl_index ldc, const float *bias, int relu);
void tdl_gemm_f32_pack_bt_avx512(const float *b, tdl_index ldb, tdl_index kb, float *dst);
void tdl_gemm_f32_pack_bt_avx512_narrow(const float *b, tdl_index ldb, tdl_index kb,
                                        float *dst);
void tdl_gemm_f64_ukr_avx512(tdl_index k, double alpha, const double *a, tdl_index cs_a,
                             const double *b, tdl_index ldb, double beta, double *c,
                             tdl_index ldc, const double *bias, int relu);
void tdl_gemm_f64_ukr_avx512_rows(tdl_index k, double alpha, const double *a, tdl_index lda,
                                  const double *b, tdl_index ldb, double beta, double *c,
                                  tdl_index ldc, const double *bias, int relu);
#endif

#endif
