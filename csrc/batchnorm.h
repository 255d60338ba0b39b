/* batchnorm.h: batch normalization over the channels of an (M, C) array (M = N*H*W of an
 * NHWC tensor), training statistics and the backward, each with an optional fused ReLU.
 *
 * Functions (the same for f64 with double):
 *   tdl_batchnorm_f32_forward   y = relu?(x * scale + shift), and the batch mean and var
 *   tdl_batchnorm_f32_backward  dx, dgamma, dbeta from dy (masked where y == 0 when y is given)
 *
 * Loop nest (both kernels, three phases, two of them parallel regions):
 *   1. for each block b of TDL_BN_BLOCK_ROWS rows (parallel over runs of blocks):
 *          for r in block, for j < C: partial[b][j] += f(x[r, j])    (in double)
 *   2. for each channel j (on the calling thread):
 *          total[j] = sum over b = 0, 1, ... of partial[b][j]        (always in that order)
 *   3. for each row r (parallel over runs of blocks), j < C: the elementwise output.
 * The blocks are fixed by M alone, and every sum runs in one fixed order, so the results are
 * bit-identical for any thread count (and from one run to the next).
 *
 * Forward (biased variance, as Keras):
 *   d = x - x[0, j] (shifted by the first row, for a well-conditioned one-pass variance):
 *   mean[j] = x[0, j] + sum_r d / M,  var[j] = sum_r d^2 / M - (sum_r d / M)^2   (double)
 *   inv = 1 / sqrt(var + epsilon), scale = gamma * inv, shift = beta - mean * scale
 * Backward, with g = dy (or dy where y > 0) and xc = x - mean:
 *   dbeta = sum_r g,  dgamma = inv * sum_r g * xc
 *   dx = a * g + b + c * xc,  a = gamma * inv, b = -a * dbeta / M, c = -a * inv * dgamma / M
 *
 * Preconditions (checked in Python, tinydl/kernels/batchnorm.py): m >= 1, c >= 1, every array
 * C-contiguous of the stated shape; gamma/beta (C,) or NULL (1 and 0); y NULL or (M, C); dgamma
 * and dbeta may be NULL; epsilon > 0. Returns 0, or 1 when the scratch could not be allocated.
 */
#ifndef TDL_BATCHNORM_H
#define TDL_BATCHNORM_H
#include "tdl_common.h"

#define TDL_BN_BLOCK_ROWS 64 /* rows per partial sum: fixed, so sums do not depend on threads */

int tdl_batchnorm_f32_forward(const float *x, tdl_index m, tdl_index c, const float *gamma,
                              const float *beta, double epsilon, int relu, float *y,
                              float *mean, float *var);
int tdl_batchnorm_f64_forward(const double *x, tdl_index m, tdl_index c, const double *gamma,
                              const double *beta, double epsilon, int relu, double *y,
                              double *mean, double *var);
int tdl_batchnorm_f32_backward(const float *dy, const float *x, const float *y, tdl_index m,
                               tdl_index c, const float *mean, const float *var,
                               const float *gamma, double epsilon, float *dx, float *dgamma,
                               float *dbeta);
int tdl_batchnorm_f64_backward(const double *dy, const double *x, const double *y, tdl_index m,
                               tdl_index c, const double *mean, const double *var,
                               const double *gamma, double epsilon, double *dx,
                               double *dgamma, double *dbeta);

#endif
