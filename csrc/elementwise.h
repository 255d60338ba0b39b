/* elementwise.h: ReLU forward and backward, and the residual sum's ReLU, over flat float arrays.
 *
 * Preconditions (checked in Python): all pointers hold n contiguous elements;
 * out may alias x (forward), dy (backward) or a or b (add_relu).
 */
#ifndef TDL_ELEMENTWISE_H
#define TDL_ELEMENTWISE_H
#include "tdl_common.h"

/* out[i] = max(x[i], 0) */
void tdl_relu_f32_forward(const float *x, float *out, tdl_index n);
void tdl_relu_f64_forward(const double *x, double *out, tdl_index n);
/* dx[i] = y[i] > 0 ? dy[i] : 0   (y is the forward output) */
void tdl_relu_f32_backward(const float *y, const float *dy, float *dx, tdl_index n);
void tdl_relu_f64_backward(const double *y, const double *dy, double *dx, tdl_index n);
/* out[i] = max(a[i] + b[i], 0)   (a residual block's Add -> ReLU in one pass) */
void tdl_add_relu_f32(const float *a, const float *b, float *out, tdl_index n);
void tdl_add_relu_f64(const double *a, const double *b, double *out, tdl_index n);

#endif
