/* pool.h: max and average pooling over NHWC arrays, forward and backward.
 *
 * Shapes: x and dx (N, H, W, C); y, dy and argmax (N, OH, OW, C). Output (oh, ow) covers input
 * rows oh*SH - top + i (i < KH) and columns ow*SW - left + j (j < KW); only the positions
 * inside the input take part (padding never wins a max and is not counted in an average).
 * Loop nest: for n, oh (parallel) / for ow / for window rows and columns inside the input /
 * for c (the contiguous, vectorised axis). Backward passes parallelise over images, so no two
 * threads add into one dx element, and each dx element receives its contributions in output
 * order (deterministic whatever the thread count).
 *
 * Max: the first maximum of a window wins, and a NaN counts as the maximum (the first NaN;
 * as NumPy's argmax and PyTorch's max pool), so a NaN in the input reaches the output.
 * Preconditions (checked in Python): sizes >= 1; every window overlaps the input (pads are
 * smaller than the window); argmax holds h*W + w indices inside the input plane.
 */
#ifndef TDL_POOL_H
#define TDL_POOL_H
#include "tdl_common.h"

typedef struct {
    tdl_index n, h, w, c;   /* input */
    tdl_index kh, kw;       /* window */
    tdl_index sh, sw;       /* strides */
    tdl_index top, left;    /* pads before */
    tdl_index oh, ow;       /* output */
} tdl_pool_shape;

/* y = max over each window; argmax = flat index h*W + w of the first maximum (int32). */
void tdl_pool_f32_max_forward(const tdl_pool_shape *s, const float *x, float *y, int32_t *argmax);
void tdl_pool_f64_max_forward(const tdl_pool_shape *s, const double *x, double *y,
                              int32_t *argmax);
/* dx = 0, then dx[n, argmax, c] += dy[n, oh, ow, c]. */
void tdl_pool_f32_max_backward(const tdl_pool_shape *s, const float *dy, const int32_t *argmax,
                               float *dx);
void tdl_pool_f64_max_backward(const tdl_pool_shape *s, const double *dy, const int32_t *argmax,
                               double *dx);
/* y = sum over the window's inputs / their count. */
void tdl_pool_f32_avg_forward(const tdl_pool_shape *s, const float *x, float *y);
void tdl_pool_f64_avg_forward(const tdl_pool_shape *s, const double *x, double *y);
/* dx = 0, then each window's inputs get dy / count. */
void tdl_pool_f32_avg_backward(const tdl_pool_shape *s, const float *dy, float *dx);
void tdl_pool_f64_avg_backward(const tdl_pool_shape *s, const double *dy, double *dx);

#endif
