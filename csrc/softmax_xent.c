/* softmax_xent.c: fused softmax cross-entropy, float and double (see softmax_xent.h).
 *
 * Written once in softmax_xent_impl.inc and instantiated here per dtype; XENT(x) is
 * tdl_softmax_xent_f32_x or tdl_softmax_xent_f64_x, EXP and LOG the dtype's libm functions.
 */
#include <math.h>
#include "softmax_xent.h"

/* Below this many logits the kernels run on one thread. */
#define TDL_XENT_PARALLEL_MIN 65536

#define T float
#define XENT(name) tdl_softmax_xent_f32_##name
#define EXP expf
#define LOG logf
#include "softmax_xent_impl.inc"
#undef T
#undef XENT
#undef EXP
#undef LOG

#define T double
#define XENT(name) tdl_softmax_xent_f64_##name
#define EXP exp
#define LOG log
#include "softmax_xent_impl.inc"
#undef T
#undef XENT
#undef EXP
#undef LOG
