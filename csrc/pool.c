/* pool.c: max and average pooling, float and double (see pool.h).
 *
 * Written once in pool_impl.inc and instantiated here per dtype; POOL(x) is
 * tdl_pool_f32_x or tdl_pool_f64_x.
 */
#include <string.h>
#include "pool.h"

/* Below this many input reads a pooling kernel runs on one thread. */
#define TDL_POOL_PARALLEL_MIN_WORK 65536

/* The window rows [*lo, *hi) of output position o that fall inside an input of length size. */
static void window_span(tdl_index o, tdl_index stride, tdl_index pad, tdl_index window,
                        tdl_index size, tdl_index *lo, tdl_index *hi)
{
    tdl_index start = o * stride - pad;
    *lo = tdl_max(start, 0);
    *hi = tdl_min(start + window, size);
}

static int pool_threads(const tdl_pool_shape *s)
{
    double work = (double)s->n * s->oh * s->ow * s->kh * s->kw * s->c;
    return work < TDL_POOL_PARALLEL_MIN_WORK ? 1 : tdl_threads_get();
}

#define T float
#define POOL(name) tdl_pool_f32_##name
#include "pool_impl.inc"
#undef T
#undef POOL

#define T double
#define POOL(name) tdl_pool_f64_##name
#include "pool_impl.inc"
#undef T
#undef POOL
