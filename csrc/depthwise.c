/* depthwise.c: depthwise 2-D convolution, float and double (see depthwise.h).
 *
 * Written once in depthwise_impl.inc and instantiated here per dtype: DW(x) is
 * tdl_depthwise_f32_x or tdl_depthwise_f64_x.
 */
#include <string.h>
#include "depthwise.h"

/* Below this many multiply-adds a call runs on one thread. */
#define TDL_DEPTHWISE_PARALLEL_MIN 32768

#define T float
#define DW(name) tdl_depthwise_f32_##name
#include "depthwise_impl.inc"
#undef T
#undef DW

#define T double
#define DW(name) tdl_depthwise_f64_##name
#include "depthwise_impl.inc"
#undef T
#undef DW
