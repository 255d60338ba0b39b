/* conv2d_direct.h: the forward of a convolution with at most 32 filters, float, AVX-512F,
 * straight from zero-padded input rows (a ResNet's 16-filter stage and its strided
 * transitions, an image model's first layer).
 *
 * On the implicit GEMM's padded rows (conv2d.h: xp holds rows of wp pixels of C values,
 * wp = (OW - 1)*SW + KW), for output rows r < rows and pixels q < OW:
 *     y[(r*OW + q)*F + j] = act(sum_{i<KH} sum_{t<KWC} xp[((r*SH + i)*wp + q*SW)*C + t]
 *                                                   * w[(i*KWC + t)*F + j] + bias[j])
 * (KWC = KW*C, w the HWIO kernel, act relu or none). A tile of up to 24 pixels of one output
 * row keeps its 24 x 16 sums in registers over all KH*KWC products (12 pixels x 32 sums with
 * 17 to 32 filters, the last 16 masked to F - 16): the implicit GEMM instead
 * runs one GEMM per kernel row (the sums stored and reloaded between them) into a wp-wide
 * band whose padding columns it computes and drops, then copies the band out. Per element
 * the sum runs over i, then t, in order, from zero; then the bias; then relu.
 */
#ifndef TDL_CONV2D_DIRECT_H
#define TDL_CONV2D_DIRECT_H
#include "tdl_common.h"

typedef void (*tdl_conv2d_f32_direct_fn)(const float *xp, tdl_index wp, tdl_index c,
                                         tdl_index kh, tdl_index kwc, const float *w,
                                         tdl_index f, tdl_index rows, tdl_index ow,
                                         tdl_index sh, tdl_index sw, float *y,
                                         const float *bias, int relu);

/* The kernel for F filters on micro-kernel `isa` (a TDL_GEMM_* id), or NULL when there is
 * none: not AVX-512, or more than 32 filters. */
tdl_conv2d_f32_direct_fn tdl_conv2d_f32_direct(tdl_index f, int isa);

#endif
