/* pool.c: max and average pooling, float and double (see pool.h).
 *
 * Written once in pool_impl.inc and instantiated here per dtype; POOL(x) is
 * tdl_pool_f32_x or tdl_pool_f64_x.
 */
#include <string.h>
#include "pool.h"
#include "gemm.h"

/* The max-pool row loop (pool_rows.inc) is compiled for the baseline ISA and, on x86-64 with
 * GCC or clang, also with AVX2 and AVX-512F target attributes. pool_isa() picks the copy once
 * per call, as the GEMM micro-kernel is picked (tdl_gemm_kernel_id: the CPU's best, or the
 * one a test forced), so forcing a micro-kernel tests every path. */
#if defined(__x86_64__) && defined(__GNUC__)
#define TDL_POOL_HAVE_ISA_COPIES 1
#define TDL_POOL_DISPATCH(isa, name, ...)                                                 \
    ((isa) == TDL_GEMM_AVX512 ? POOL(name##_avx512)(__VA_ARGS__)                          \
     : (isa) == TDL_GEMM_AVX2 ? POOL(name##_avx2)(__VA_ARGS__) : POOL(name##_base)(__VA_ARGS__))
#else
#define TDL_POOL_HAVE_ISA_COPIES 0
#define TDL_POOL_DISPATCH(isa, name, ...) ((void)(isa), POOL(name##_base)(__VA_ARGS__))
#endif

static int pool_isa(void)
{
    return tdl_gemm_kernel_id();
}

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
