/* rnn.c: recurrent time loops, float and double (see rnn.h).
 *
 * Written once in rnn_impl.inc and instantiated here per dtype: RNN(x) is tdl_rnn_f32_x or
 * tdl_rnn_f64_x, GEMM the dtype's tdl_gemm_*_compute, TANH its libm tanh.
 */
#include <math.h>
#include <string.h>
#include "gemm.h"
#include "rnn.h"

/* Below this many gate values per step the row loops run on one thread. */
#define TDL_RNN_PARALLEL_MIN 16384

#define T float
#define RNN(name) tdl_rnn_f32_##name
#define GEMM tdl_gemm_f32_compute
#define TANH tanhf
#include "rnn_impl.inc"
#undef T
#undef RNN
#undef GEMM
#undef TANH

#define T double
#define RNN(name) tdl_rnn_f64_##name
#define GEMM tdl_gemm_f64_compute
#define TANH tanh
#include "rnn_impl.inc"
#undef T
#undef RNN
#undef GEMM
#undef TANH
