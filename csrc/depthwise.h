/* depthwise.h: depthwise 2-D convolution, NHWC, float and double: forward and both gradients.
 *
 * Channel c of the input meets only its own M filters (M the depth multiplier):
 *   y[n, oh, ow, c*M + m] = sum_{i < KH, j < KW} x[n, oh*SH + i - PT, ow*SW + j - PL, c]
 *                                                 * w[i, j, c, m]
 * where a tap outside the image (in the padding) adds nothing.
 * Shapes: x (N, H, W, C), w (KH, KW, C, M), y (N, OH, OW, C*M), all C-contiguous.
 *
 * Loop nests (rows of the output in parallel; each element is written by one thread, its
 * terms summed in a fixed order, so results do not depend on the thread count):
 *   forward:          for (n, oh) rows | for ow | for i, j (taps inside the image, in order)
 *                     | for c, m: y += x * w            (order as the NumPy reference's)
 *   backward_input:   for (n, ih) rows | for iw | for i, j with ih + PT - i = oh * SH and
 *                     iw + PL - j = ow * SW inside the output | for c: dx += sum_m dy * w
 *   backward_kernel:  for each tap (i, j) (taps in parallel) | for n, oh, ow (inside the
 *                     image) | for c, m: dw[i, j] += x * dy
 *
 * Preconditions (checked in Python, tinydl/kernels/depthwise.py): every size >= 1; OH, OW
 * are the padded output sizes of H, W; PT < KH and PL < KW; no output aliases an input.
 *
 * Names: tdl_depthwise_{f32,f64}_{forward, backward_input, backward_kernel}.
 */
#ifndef TDL_DEPTHWISE_H
#define TDL_DEPTHWISE_H
#include "tdl_common.h"

typedef struct {
    tdl_index n, h, w, c, m;      /* input (N, H, W, C), depth multiplier M */
    tdl_index kh, kw, sh, sw;     /* kernel and strides */
    tdl_index pad_top, pad_left;  /* zeros before the image (the ones after follow from OH, OW) */
    tdl_index oh, ow;             /* output height and width */
} tdl_depthwise_shape;

void tdl_depthwise_f32_forward(const tdl_depthwise_shape *s, const float *x, const float *w,
                               float *y);
void tdl_depthwise_f64_forward(const tdl_depthwise_shape *s, const double *x, const double *w,
                               double *y);
void tdl_depthwise_f32_backward_input(const tdl_depthwise_shape *s, const float *dy,
                                      const float *w, float *dx);
void tdl_depthwise_f64_backward_input(const tdl_depthwise_shape *s, const double *dy,
                                      const double *w, double *dx);
void tdl_depthwise_f32_backward_kernel(const tdl_depthwise_shape *s, const float *dy,
                                       const float *x, float *dw);
void tdl_depthwise_f64_backward_kernel(const tdl_depthwise_shape *s, const double *dy,
                                       const double *x, double *dw);

#endif
