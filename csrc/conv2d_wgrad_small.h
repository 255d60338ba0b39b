/* conv2d_wgrad_small.h: the weight gradient of a unit-stride convolution whose patch is small
 * (3x3 windows over 3- or 1-channel input: the first layer of an image model), float, AVX-512F.
 *
 * On the implicit GEMM's grid (conv2d.h): for grid rows P < m,
 *     dw[(i*KWC + t)*F + j] += sum_P xp[(P + i*wp)*C + t] * g[P*F + j]   (i < KH, t < KWC)
 * with dw (KH*KWC x F) held in KH*KWC registers of 16 filters while the m pixels stream by (a
 * pass per 16 filters). As a GEMM this is (KH*KWC x m) @ (m x F) with KH*KWC = 27 or 9 rows:
 * a fraction of any micro-kernel's tile, and im2col copies each pixel's 27 values first.
 */
#ifndef TDL_CONV2D_WGRAD_SMALL_H
#define TDL_CONV2D_WGRAD_SMALL_H
#include "tdl_common.h"

typedef void (*tdl_conv2d_f32_wgrad_small_fn)(const float *xp, tdl_index wp, tdl_index c,
                                               const float *g, tdl_index f, tdl_index m,
                                               float *dw);

/* The kernel for KH kernel rows of KWC = KW*C values on micro-kernel `isa` (a TDL_GEMM_* id),
 * or NULL when there is none: not AVX-512, or a patch other than 3 x 9 and 3 x 3. */
tdl_conv2d_f32_wgrad_small_fn tdl_conv2d_f32_wgrad_small(tdl_index kh, tdl_index kwc, int isa);

#endif
