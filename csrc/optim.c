/* optim.c: the fused Adam update (see optim.h), in plain C and in SSE2 for 4 floats at a time.
 *
 * Why two loops: GCC keeps sqrtf a library call in the plain loop (it may set errno for a
 * negative argument), and a loop with a call is not vectorized. The SSE2 loop (every x86-64
 * CPU has SSE2) does the same IEEE operations in the same order on 4 lanes; _mm_sqrt_ps
 * and _mm_div_ps round correctly, as sqrtf and '/' do, so both loops give NumPy's bits.
 * The plain loop does the last n % 4 elements, and all of them on other CPUs.
 * Serial: one pass over ~5 arrays is memory-bound, and a variable is small.
 */
#include <math.h>
#include "optim.h"

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

void tdl_optim_f32_adam_update(float *w, const float *g, float *m, float *v, float *v_hat,
                               tdl_index n, float alpha, float one_minus_beta_1,
                               float one_minus_beta_2, float epsilon)
{
    adam_step s = {alpha, one_minus_beta_1, one_minus_beta_2, epsilon};
    tdl_index done = 0;
#ifdef TDL_OPTIM_SSE2
    done = adam_sse2(w, g, m, v, v_hat, n, s);
#endif
    adam_plain(w, g, m, v, v_hat, done, n, s);
}
