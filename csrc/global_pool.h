/* global_pool.h: global average and max pooling over the middle axis of x (N, S, C), the
 * steps S of a sequence or the H*W pixels of an NHWC image, forward and backward.
 *
 *   avg forward   y[n, c] = (sum over s of x[n, s, c], in double, s ascending) / S
 *   avg backward  dx[n, s, c] = dy[n, c] / S   (the division in the dtype)
 *   max forward   y[n, c] = max over s of x[n, s, c]; a NaN wins (as np.max)
 *   max backward  dx[n, s, c] = (x[n, s, c] == y[n, c]) * (dy[n, c] / count[n, c]), count the
 *                 number of s where x equals y: ties share the gradient equally; every
 *                 product in the dtype, as the NumPy reference forms it (so a NaN column, with
 *                 no winner, gives NaN, and a negative share gives -0 where x lost)
 * Each sample is one task of the pool, its arithmetic the same in any task: the results do
 * not depend on the thread count.
 *
 * Preconditions (checked in Python): N, S, C >= 1; arrays C-contiguous, of the shapes above;
 * outputs do not alias inputs. Functions returning int give 0, or -1 when scratch memory
 * could not be allocated.
 */
#ifndef TDL_GLOBAL_POOL_H
#define TDL_GLOBAL_POOL_H
#include "tdl_common.h"

void tdl_global_pool_f32_avg_forward(const float *x, tdl_index n, tdl_index s, tdl_index c,
                                     float *y);
void tdl_global_pool_f64_avg_forward(const double *x, tdl_index n, tdl_index s, tdl_index c,
                                     double *y);
void tdl_global_pool_f32_avg_backward(const float *dy, tdl_index n, tdl_index s, tdl_index c,
                                      float *dx);
void tdl_global_pool_f64_avg_backward(const double *dy, tdl_index n, tdl_index s, tdl_index c,
                                      double *dx);
void tdl_global_pool_f32_max_forward(const float *x, tdl_index n, tdl_index s, tdl_index c,
                                     float *y);
void tdl_global_pool_f64_max_forward(const double *x, tdl_index n, tdl_index s, tdl_index c,
                                     double *y);
int tdl_global_pool_f32_max_backward(const float *x, const float *y, const float *dy,
                                     tdl_index n, tdl_index s, tdl_index c, float *dx);
int tdl_global_pool_f64_max_backward(const double *x, const double *y, const double *dy,
                                     tdl_index n, tdl_index s, tdl_index c, double *dx);

#endif
