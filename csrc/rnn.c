/* rnn.c: recurrent time loops, float and double (see rnn.h).
 *
 * Written once in rnn_impl.inc and instantiated here per dtype: RNN(x) is tdl_rnn_f32_x or
 * tdl_rnn_f64_x, GEMM_SERIAL and WORKSPACE_INIT the dtype's tdl_gemm_*_serial and
 * tdl_gemm_*_workspace_init, TANH and SIGMOID its activations:
 * for float tdl_rnn_tanhf and tdl_rnn_sigmoidf (rnn_math.h: no calls, so the gate loops
 * vectorize), for double libm's tanh and 0.5 * tanh(0.5 x) + 0.5 (as the NumPy reference).
 * The per-sample gate loops (static *_row functions) are compiled for AVX-512, AVX2 and
 * baseline x86-64 (GCC/clang target_clones, picked once at load time from the CPU). The
 * AVX2 and AVX-512 copies fuse multiply-adds (see the pragma below): results are the same
 * for a given CPU and thread count, and may differ in the last bits between CPUs, as the
 * GEMM's micro-kernels do.
 */
#include <math.h>
#include <string.h>

/* GCC: no trapping math in this file, so the gates' clamps (float comparisons, rnn_math.h)
 * become vector compares and blends; without it GCC keeps them scalar branches, for the
 * exception flags, and an LSTM forward ran 3x slower. Values are the same either way. Not
 * for the whole build: there it made the reference CNN's inference 2x slower (AMD EPYC
 * Zen 3). Clang ignores floating-point exceptions by default. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("no-trapping-math", "fp-contract=fast")
#endif
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

/* A call with fewer multiply-adds than this (over all its steps) runs on one thread; a
 * thread's block has at least TDL_RNN_BLOCK_MIN_ROWS samples (see rnn_impl.inc). */
#define TDL_RNN_PARALLEL_MIN_WORK (1 << 20)
#define TDL_RNN_BLOCK_MIN_ROWS 8

#define T float
#define RNN(name) tdl_rnn_f32_##name
#define GEMM_SERIAL tdl_gemm_f32_serial
#define WORKSPACE_INIT tdl_gemm_f32_workspace_init
#define TANH tdl_rnn_tanhf
#define SIGMOID tdl_rnn_sigmoidf
#include "rnn_impl.inc"
#undef T
#undef RNN
#undef GEMM_SERIAL
#undef WORKSPACE_INIT
#undef TANH
#undef SIGMOID

#define T double
#define RNN(name) tdl_rnn_f64_##name
#define GEMM_SERIAL tdl_gemm_f64_serial
#define WORKSPACE_INIT tdl_gemm_f64_workspace_init
#define TANH tanh
#define SIGMOID(x) (0.5 * tanh(0.5 * (x)) + 0.5)
#include "rnn_impl.inc"
#undef T
#undef RNN
#undef GEMM_SERIAL
#undef WORKSPACE_INIT
#undef TANH
#undef SIGMOID
