/* rnn.c: recurrent time loops, float and double (see rnn.h).
 *
 * Written once in rnn_impl.inc and instantiated here per dtype: RNN(x) is tdl_rnn_f32_x or
 * tdl_rnn_f64_x, GEMM the dtype's tdl_gemm_*_compute, TANH and SIGMOID its activations:
 * for float tdl_rnn_tanhf and tdl_rnn_sigmoidf (rnn_math.h: no calls, so the gate loops
 * vectorize), for double libm's tanh and 0.5 * tanh(0.5 x) + 0.5 (as the NumPy reference).
 * The per-sample gate loops (static *_row functions) are compiled for AVX-512, AVX2 and
 * baseline x86-64 (GCC/clang target_clones, picked once at load time from the CPU); the
 * arithmetic is the same on each (no FMA contraction in ISO C), so are the results.
 */
#include <math.h>
#include <string.h>
#include "gemm.h"
#include "rnn.h"
#include "rnn_math.h"

/* No clones under ThreadSanitizer: their ifunc resolvers run while the dynamic loader
 * relocates, before TSan's runtime is set up, and TSan's instrumentation of them crashes
 * (clang 14). The one default version is the same code, so the race checks still hold. */
#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define TDL_NO_TARGET_CLONES 1
#endif
#endif
#if defined(__SANITIZE_THREAD__)
#define TDL_NO_TARGET_CLONES 1
#endif

#if defined(__x86_64__) && defined(__has_attribute) && !defined(TDL_NO_TARGET_CLONES)
#if __has_attribute(target_clones) && !defined(__APPLE__)
#define TDL_RNN_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#endif
#endif
#ifndef TDL_RNN_CLONES
#define TDL_RNN_CLONES
#endif

/* Below this many gate values per step the row loops run on one thread. */
#define TDL_RNN_PARALLEL_MIN 16384

#define T float
#define RNN(name) tdl_rnn_f32_##name
#define GEMM tdl_gemm_f32_compute
#define TANH tdl_rnn_tanhf
#define SIGMOID tdl_rnn_sigmoidf
#include "rnn_impl.inc"
#undef T
#undef RNN
#undef GEMM
#undef TANH
#undef SIGMOID

#define T double
#define RNN(name) tdl_rnn_f64_##name
#define GEMM tdl_gemm_f64_compute
#define TANH tanh
#define SIGMOID(x) (0.5 * tanh(0.5 * (x)) + 0.5)
#include "rnn_impl.inc"
#undef T
#undef RNN
#undef GEMM
#undef TANH
#undef SIGMOID
