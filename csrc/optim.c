/* optim.c: the fused Adam update (see optim.h), in plain C, in SSE2 for 4 floats at a time,
 * and, on a CPU with AVX-512F, 16 at a time.
 *
 * Why several loops: GCC keeps sqrtf a library call in the plain loop (it may set errno for a
 * negative argument), and a loop with a call is not vectorized. The SSE2 loop (every x86-64
 * CPU has SSE2) and the AVX-512 one do the same IEEE operations in the same order on 4 or 16
 * lanes; the vector square roots and divisions round correctly, as sqrtf and '/' do, so every
 * loop gives NumPy's bits. The plain loop does the last elements, and all of them on other
 * CPUs. The AVX-512 loop runs when the GEMM's micro-kernel in use is the AVX-512 one (the
 * CPU's best, or one a test forced), as the batch norm's copies do.
 *
 * Threads: a large variable is cut into ranges, one per task (elementwise, so the same bits
 * on any thread count). The divisions and square roots make a 4-lane pass compute-bound
 * (a 784 x 512 kernel took ~250 us, about 15% of an MLP's training step); 16 lanes and two
 * threads bring it near the memory's speed.
 */
#include <math.h>
#include "gemm.h"
#include "optim.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define TDL_OPTIM_AVX512 1
#endif

/* Below this many elements one thread does it all. */
#define TDL_OPTIM_PARALLEL_MIN 65536

#if defined(__SSE2__) || defined(_M_X64)
#include <emmintrin.h>
#define TDL_OPTIM_SSE2 1
#endif

/* Round every product and sum on its own, as NumPy does: no fused multiply-add. Clang honours
 * this pragma; GCC ignores it, and contracts nothing anyway under -std=c11 (setup.py). */
#pragma STDC FP_CONTRACT OFF

/* The scalars of one step (optim.h's names). */
typedef struct {
    float alpha, one_minus_beta_1, one_minus_beta_2, epsilon;
} adam_step;

/* np.maximum(a, b): a where a > b or a is NaN, else b (a NaN wins; for +0 and -0, b). */
static inline float max_nan(float a, float b)
{
    return (a > b || a != a) ? a : b;
}

/* Elements [i, n), one at a time. */
static void adam_plain(float *restrict w, const float *restrict g, float *restrict m,
                       float *restrict v, float *restrict v_hat, tdl_index i, tdl_index n,
                       adam_step s)
{
    for (; i < n; i++) {
        float mi = m[i] + (g[i] - m[i]) * s.one_minus_beta_1;
        float vi = v[i] + (g[i] * g[i] - v[i]) * s.one_minus_beta_2;
        m[i] = mi;
        v[i] = vi;
        if (v_hat != NULL)
            vi = v_hat[i] = max_nan(v_hat[i], vi);
        w[i] = w[i] - (mi * s.alpha) / (sqrtf(vi) + s.epsilon);
    }
}

#ifdef TDL_OPTIM_SSE2
/* max_nan on 4 lanes. */
static inline __m128 max_nan_ps(__m128 a, __m128 b)
{
    __m128 take_a = _mm_or_ps(_mm_cmpgt_ps(a, b), _mm_cmpunord_ps(a, a));
    return _mm_or_ps(_mm_and_ps(take_a, a), _mm_andnot_ps(take_a, b));
}

/* Elements [0, n - n % 4), 4 at a time: adam_plain's operations lane by lane. Returns the
 * first element it did not update. */
static tdl_index adam_sse2(float *restrict w, const float *restrict g, float *restrict m,
                           float *restrict v, float *restrict v_hat, tdl_index n, adam_step s)
{
    const __m128 alpha = _mm_set1_ps(s.alpha), epsilon = _mm_set1_ps(s.epsilon);
    const __m128 c1 = _mm_set1_ps(s.one_minus_beta_1), c2 = _mm_set1_ps(s.one_minus_beta_2);
    tdl_index i = 0;
    for (; i + 4 <= n; i += 4) {
        __m128 gi = _mm_loadu_ps(g + i), mi = _mm_loadu_ps(m + i), vi = _mm_loadu_ps(v + i);
        mi = _mm_add_ps(mi, _mm_mul_ps(_mm_sub_ps(gi, mi), c1));
        vi = _mm_add_ps(vi, _mm_mul_ps(_mm_sub_ps(_mm_mul_ps(gi, gi), vi), c2));
        _mm_storeu_ps(m + i, mi);
        _mm_storeu_ps(v + i, vi);
        if (v_hat != NULL) {
            vi = max_nan_ps(_mm_loadu_ps(v_hat + i), vi);
            _mm_storeu_ps(v_hat + i, vi);
        }
        __m128 step = _mm_div_ps(_mm_mul_ps(mi, alpha), _mm_add_ps(_mm_sqrt_ps(vi), epsilon));
        _mm_storeu_ps(w + i, _mm_sub_ps(_mm_loadu_ps(w + i), step));
    }
    return i;
}
#endif

#ifdef TDL_OPTIM_AVX512
/* Elements [0, n - n % 16), 16 at a time: adam_plain's operations lane by lane (max_nan as a
 * mask of a > b or a unordered). Returns the first element it did not update. */
__attribute__((target("avx512f"))) static tdl_index adam_avx512(
    float *restrict w, const float *restrict g, float *restrict m, float *restrict v,
    float *restrict v_hat, tdl_index n, adam_step s)
{
    const __m512 alpha = _mm512_set1_ps(s.alpha), epsilon = _mm512_set1_ps(s.epsilon);
    const __m512 c1 = _mm512_set1_ps(s.one_minus_beta_1);
    const __m512 c2 = _mm512_set1_ps(s.one_minus_beta_2);
    tdl_index i = 0;
    for (; i + 16 <= n; i += 16) {
        __m512 gi = _mm512_loadu_ps(g + i), mi = _mm512_loadu_ps(m + i);
        __m512 vi = _mm512_loadu_ps(v + i);
        mi = _mm512_add_ps(mi, _mm512_mul_ps(_mm512_sub_ps(gi, mi), c1));
        vi = _mm512_add_ps(vi, _mm512_mul_ps(_mm512_sub_ps(_mm512_mul_ps(gi, gi), vi), c2));
        _mm512_storeu_ps(m + i, mi);
        _mm512_storeu_ps(v + i, vi);
        if (v_hat != NULL) {
            __m512 a = _mm512_loadu_ps(v_hat + i);
            __mmask16 take_a = _mm512_cmp_ps_mask(a, vi, _CMP_GT_OQ)
                               | _mm512_cmp_ps_mask(a, a, _CMP_UNORD_Q);
            vi = _mm512_mask_blend_ps(take_a, vi, a);
            _mm512_storeu_ps(v_hat + i, vi);
        }
        __m512 step = _mm512_div_ps(_mm512_mul_ps(mi, alpha),
                                    _mm512_add_ps(_mm512_sqrt_ps(vi), epsilon));
        _mm512_storeu_ps(w + i, _mm512_sub_ps(_mm512_loadu_ps(w + i), step));
    }
    return i;
}
#endif

/* One range of elements with the widest loop in use, then the plain loop for the rest. */
static void adam_range(float *w, const float *g, float *m, float *v, float *v_hat,
                       tdl_index n, adam_step s, int wide)
{
    tdl_index done = 0;
#ifdef TDL_OPTIM_AVX512
    if (wide)
        done = adam_avx512(w, g, m, v, v_hat, n, s);
#endif
    (void)wide;
#ifdef TDL_OPTIM_SSE2
    done += adam_sse2(w + done, g + done, m + done, v + done, v_hat ? v_hat + done : NULL,
                      n - done, s);
#endif
    adam_plain(w, g, m, v, v_hat, done, n, s);
}

typedef struct {
    float *w, *m, *v, *v_hat;
    const float *g;
    adam_step s;
    int wide;
} adam_job;

static void adam_task(void *arg, tdl_index lo, tdl_index hi)
{
    const adam_job *j = arg;
    adam_range(j->w + lo, j->g + lo, j->m + lo, j->v + lo, j->v_hat ? j->v_hat + lo : NULL,
               hi - lo, j->s, j->wide);
}

void tdl_optim_f32_adam_update(float *w, const float *g, float *m, float *v, float *v_hat,
                               tdl_index n, float alpha, float one_minus_beta_1,
                               float one_minus_beta_2, float epsilon)
{
    adam_job j = {w, m, v, v_hat, g, {alpha, one_minus_beta_1, one_minus_beta_2, epsilon},
                  tdl_gemm_kernel_id() == TDL_GEMM_AVX512};
    const int threads = n < TDL_OPTIM_PARALLEL_MIN ? 1 : tdl_threads_get();
    tdl_parallel_for(threads, n, adam_task, &j);
}
