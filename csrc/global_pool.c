/* global_pool.c: global average and max pooling, float and double (see global_pool.h).
 * Written once in global_pool_impl.inc and included per dtype T; one task per sample. */
/* GCC: no trapping math here, so the max's comparisons become vector compares and blends
 * (as in rnn.c; the values are the same). */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("no-trapping-math")
#endif
#include <string.h>

#include "global_pool.h"

/* Below this many elements in all, one thread: a team costs more than it saves. */
#define TDL_GLOBAL_POOL_PARALLEL_MIN 32768

static int gp_threads(tdl_index n, tdl_index s, tdl_index c)
{
    return (double)n * (double)s * (double)c > TDL_GLOBAL_POOL_PARALLEL_MIN ? tdl_threads_get()
                                                                            : 1;
}

typedef struct {
    const void *x, *y, *dy;
    tdl_index s, c;
    void *out;
    int failed;
} gp_job;

#define T float
#define GP(name) gp_f32_##name
#define GP_PUBLIC(name) tdl_global_pool_f32_##name
#include "global_pool_impl.inc"
#undef T
#undef GP
#undef GP_PUBLIC

#define T double
#define GP(name) gp_f64_##name
#define GP_PUBLIC(name) tdl_global_pool_f64_##name
#include "global_pool_impl.inc"
#undef T
#undef GP
#undef GP_PUBLIC
