/* dropout.c: the counter-based dropout mask (see dropout.h).
 *
 * The element loop is compiled for the baseline ISA and, on x86-64 with GCC or clang, with
 * AVX2 and AVX-512F target attributes (the compiler vectorises SplitMix64's 64-bit multiplies
 * there); TDL_DROPOUT_PICK takes the copy of tdl_gemm_kernel_id() per call, the GEMM
 * micro-kernel's choice (so forcing a micro-kernel tests every copy). All copies do the same integer arithmetic and one
 * multiply in the dtype: the same bits. 2^19 floats, 1 thread, Xeon: baseline 2.5 ms, AVX2
 * 0.69, AVX-512F 0.41 (NumPy's random mask took 1.9).
 */
#include "dropout.h"
#include "gemm.h"

#define TDL_DROPOUT_PARALLEL_MIN 65536 /* below this many elements one thread */

typedef struct {
    const void *x;
    void *out;
    uint64_t key, threshold;
    double scale;
} dropout_job;

static inline uint64_t splitmix64(uint64_t key, tdl_index i)
{
    uint64_t z = key + ((uint64_t)i + 1u) * UINT64_C(0x9E3779B97F4A7C15);
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

/* The loops over elements [lo, hi) for one dtype T and one target (suffix). */
#define TDL_DROPOUT_RANGES(suffix, target)                                                     \
    target static void dropout_f32_range_##suffix(void *arg, tdl_index lo, tdl_index hi)      \
    {                                                                                          \
        const dropout_job *j = arg;                                                            \
        const float *x = j->x;                                                                 \
        float *out = j->out;                                                                   \
        const float scale = (float)j->scale;                                                   \
        const uint64_t key = j->key, threshold = j->threshold;                                 \
        for (tdl_index i = lo; i < hi; i++)                                                    \
            out[i] = x[i] * ((splitmix64(key, i) >> 32) >= threshold ? scale : 0.0f);          \
    }                                                                                          \
    target static void dropout_f64_range_##suffix(void *arg, tdl_index lo, tdl_index hi)      \
    {                                                                                          \
        const dropout_job *j = arg;                                                            \
        const double *x = j->x;                                                                \
        double *out = j->out;                                                                  \
        const double scale = j->scale;                                                         \
        const uint64_t key = j->key, threshold = j->threshold;                                 \
        for (tdl_index i = lo; i < hi; i++)                                                    \
            out[i] = x[i] * ((splitmix64(key, i) >> 32) >= threshold ? scale : 0.0);           \
    }

TDL_DROPOUT_RANGES(base, )
#if defined(__x86_64__) && defined(__GNUC__)
TDL_DROPOUT_RANGES(avx2, __attribute__((target("avx2"))))
TDL_DROPOUT_RANGES(avx512, __attribute__((target("avx512f"))))
#define TDL_DROPOUT_PICK(dtype, isa)                                                           \
    ((isa) == TDL_GEMM_AVX512 ? dropout_##dtype##_range_avx512                                \
     : (isa) == TDL_GEMM_AVX2 ? dropout_##dtype##_range_avx2 : dropout_##dtype##_range_base)
#else
#define TDL_DROPOUT_PICK(dtype, isa) ((void)(isa), dropout_##dtype##_range_base)
#endif

static int dropout_threads(tdl_index n)
{
    return n > TDL_DROPOUT_PARALLEL_MIN ? tdl_threads_get() : 1;
}

void tdl_dropout_f32(const float *x, float *out, tdl_index n, uint64_t key, uint64_t threshold,
                     float scale)
{
    dropout_job j = {x, out, key, threshold, scale};
    tdl_parallel_for(dropout_threads(n), n, TDL_DROPOUT_PICK(f32, tdl_gemm_kernel_id()), &j);
}

void tdl_dropout_f64(const double *x, double *out, tdl_index n, uint64_t key,
                     uint64_t threshold, double scale)
{
    dropout_job j = {x, out, key, threshold, scale};
    tdl_parallel_for(dropout_threads(n), n, TDL_DROPOUT_PICK(f64, tdl_gemm_kernel_id()), &j);
}
