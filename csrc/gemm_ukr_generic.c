/* gemm_ukr_generic.c: the portable C micro-kernels (the reference the SIMD ones must match).
 *
 * Plain loops over a MR x NR accumulator array; with constant MR and NR the compiler keeps
 * it in vector registers (SSE2 on x86-64, NEON on arm64). One body serves both A layouts
 * (packed slivers, or rows read in place). See gemm_ukr.h for the contract.
 */
#include "gemm_config.h"
#include "gemm_ukr.h"

#define MR TDL_GENERIC_MR
#define TDL_INLINE static inline

/* A(i, p) = a[i * rs + p * cs]. */
TDL_INLINE void f32_body(tdl_index k, float alpha, const float *a, tdl_index rs, tdl_index cs,
                         const float *b, tdl_index ldb, float beta, float *c, tdl_index ldc,
                         const float *bias, int relu)
{
    enum { NR = TDL_GENERIC_F32_NR };
    float acc[MR][NR] = {{0}};
    for (tdl_index p = 0; p < k; p++, a += cs, b += ldb)
        for (int i = 0; i < MR; i++)
            for (int j = 0; j < NR; j++)
                acc[i][j] += a[i * rs] * b[j];
    for (int i = 0; i < MR; i++)
        for (int j = 0; j < NR; j++) {
            float v = alpha * acc[i][j];
            if (beta != 0.0f)
                v += beta * c[i * ldc + j];
            if (bias)
                v += bias[j];
            c[i * ldc + j] = relu && v < 0 ? 0 : v;  /* a NaN stays NaN, as in np.maximum */
        }
}

TDL_INLINE void f64_body(tdl_index k, double alpha, const double *a, tdl_index rs, tdl_index cs,
                         const double *b, tdl_index ldb, double beta, double *c, tdl_index ldc,
                         const double *bias, int relu)
{
    enum { NR = TDL_GENERIC_F64_NR };
    double acc[MR][NR] = {{0}};
    for (tdl_index p = 0; p < k; p++, a += cs, b += ldb)
        for (int i = 0; i < MR; i++)
            for (int j = 0; j < NR; j++)
                acc[i][j] += a[i * rs] * b[j];
    for (int i = 0; i < MR; i++)
        for (int j = 0; j < NR; j++) {
            double v = alpha * acc[i][j];
            if (beta != 0.0)
                v += beta * c[i * ldc + j];
            if (bias)
                v += bias[j];
            c[i * ldc + j] = relu && v < 0 ? 0 : v;  /* a NaN stays NaN, as in np.maximum */
        }
}

void tdl_gemm_f32_ukr_generic(tdl_index k, float alpha, const float *a, tdl_index cs_a,
                              const float *b, tdl_index ldb, float beta, float *c, tdl_index ldc,
                              const float *bias, int relu)
{
    f32_body(k, alpha, a, 1, cs_a, b, ldb, beta, c, ldc, bias, relu);
}

void tdl_gemm_f32_ukr_generic_rows(tdl_index k, float alpha, const float *a, tdl_index lda,
                                   const float *b, tdl_index ldb, float beta, float *c,
                                   tdl_index ldc, const float *bias, int relu)
{
    f32_body(k, alpha, a, lda, 1, b, ldb, beta, c, ldc, bias, relu);
}

void tdl_gemm_f64_ukr_generic(tdl_index k, double alpha, const double *a, tdl_index cs_a,
                              const double *b, tdl_index ldb, double beta, double *c,
                              tdl_index ldc, const double *bias, int relu)
{
    f64_body(k, alpha, a, 1, cs_a, b, ldb, beta, c, ldc, bias, relu);
}

void tdl_gemm_f64_ukr_generic_rows(tdl_index k, double alpha, const double *a, tdl_index lda,
                                   const double *b, tdl_index ldb, double beta, double *c,
                                   tdl_index ldc, const double *bias, int relu)
{
    f64_body(k, alpha, a, lda, 1, b, ldb, beta, c, ldc, bias, relu);
}
