/* batchnorm.c: batch normalization forward and backward (see batchnorm.h). The arithmetic is
 * written once in batchnorm_impl.inc and included for float and double; the names it defines
 * are spelled out in batchnorm.h. */
#include <math.h>
#include <string.h>

#include "batchnorm.h"

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
