/* batchnorm.c: batch normalization forward and backward (see batchnorm.h). The arithmetic is
 * written once in batchnorm_impl.inc and included for float and double; the names it defines
 * are spelled out in batchnorm.h. */
#include <math.h>
#include <string.h>

#include "batchnorm.h"
#include "gemm.h"

/* No multiply-add contraction (clang's default would fuse v * v + s in the AVX-512 copy only,
 * which has FMA): every copy of the row loops rounds each operation, as the baseline does. */
#pragma STDC FP_CONTRACT OFF

/* The row loops (batchnorm_rows.inc) are compiled for the baseline ISA and, on x86-64 with GCC
 * or clang, also with AVX2 and AVX-512F target attributes; bn_isa() picks the copy once per
 * call as the GEMM micro-kernel is picked (the CPU's best, or the one a test forced), so
 * forcing a micro-kernel tests every path. Baseline x86-64 is SSE2: two doubles a vector. */
#if defined(__x86_64__) && defined(__GNUC__)
#define TDL_BN_HAVE_ISA_COPIES 1
#define TDL_BN_DISPATCH(isa, name, ...)                                                      \
    ((isa) == TDL_GEMM_AVX512 ? TDL_BN_LOCAL(name##_avx512)(__VA_ARGS__)                     \
     : (isa) == TDL_GEMM_AVX2 ? TDL_BN_LOCAL(name##_avx2)(__VA_ARGS__)                       \
                              : TDL_BN_LOCAL(name##_base)(__VA_ARGS__))
#else
#define TDL_BN_HAVE_ISA_COPIES 0
#define TDL_BN_DISPATCH(isa, name, ...) ((void)(isa), TDL_BN_LOCAL(name##_base)(__VA_ARGS__))
#endif

/* Channels summed together in registers by the row loops (a multiple of every vector width). */
#define TDL_BN_CHUNK 16

static int bn_isa(void)
{
    return tdl_gemm_kernel_id();
}

#define TDL_BN_PARALLEL_MIN 32768 /* below this many elements one thread does it all */

/* The team for m*c elements, never more threads than blocks. */
static int bn_threads(tdl_index m, tdl_index c)
{
    tdl_index blocks = (m + TDL_BN_BLOCK_ROWS - 1) / TDL_BN_BLOCK_ROWS;
    int threads = m * c > TDL_BN_PARALLEL_MIN ? tdl_threads_get() : 1;
    return blocks < threads ? (int)blocks : threads;
}

/* Scratch: two (blocks, C) partial sums and the (C,) totals and coefficients, in doubles. */
typedef struct
{
    double *first, *second; /* partial sums: (blocks, C) each */
    double *coef;           /* 3 * C: per-channel values phase 3 uses */
    tdl_index blocks;
} bn_scratch;

static int bn_scratch_init(bn_scratch *s, tdl_index m, tdl_index c)
{
    s->blocks = (m + TDL_BN_BLOCK_ROWS - 1) / TDL_BN_BLOCK_ROWS;
    s->first = tdl_alloc(sizeof(double) * (size_t)(s->blocks * c) * 2 + sizeof(double) * 3 * c);
    if (s->first == NULL)
        return 1;
    s->second = s->first + s->blocks * c;
    s->coef = s->second + s->blocks * c;
    return 0;
}

/* Sum the partials of channel j over every block, in block order. */
static void bn_totals(const double *partial, tdl_index blocks, tdl_index c, tdl_index j,
                      double *total)
{
    double sum = 0.0;
    for (tdl_index b = 0; b < blocks; b++)
        sum += partial[b * c + j];
    *total = sum;
}

#define TDL_REAL float
#define TDL_BN(name) tdl_batchnorm_f32_##name
#define TDL_BN_LOCAL(name) bn_f32_##name
#include "batchnorm_impl.inc"
#undef TDL_REAL
#undef TDL_BN
#undef TDL_BN_LOCAL

#define TDL_REAL double
#define TDL_BN(name) tdl_batchnorm_f64_##name
#define TDL_BN_LOCAL(name) bn_f64_##name
#include "batchnorm_impl.inc"
#undef TDL_REAL
#undef TDL_BN
#undef TDL_BN_LOCAL
