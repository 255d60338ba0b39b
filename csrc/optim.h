/* optim.h: fused optimizer updates, one pass over a variable and its slots, in place.
 *
 * Adam (Kingma & Ba, 2015), in Keras 3's form, for one variable of n elements (flat):
 *
 *   for i in [0, n):
 *       m[i] = m[i] + (g[i] - m[i]) * one_minus_beta_1
 *       v[i] = v[i] + (g[i] * g[i] - v[i]) * one_minus_beta_2
 *       if v_hat:  v_hat[i] = max(v_hat[i], v[i])      (AMSGrad; a NaN in either wins)
 *       w[i] = w[i] - (m[i] * alpha) / (sqrt(v or v_hat[i]) + epsilon)
 *
 * alpha is the step size with the bias correction folded in (see tinydl/optimizers/adam.py).
 * The results are bit-identical to the NumPy formula in tinydl/kernels/reference.py: every
 * operation is one IEEE float operation in the same order, never fused (no FMA contraction).
 *
 * Preconditions (checked in Python): n >= 1; each pointer holds n contiguous floats; the
 * arrays do not overlap; v_hat is NULL unless AMSGrad is on.
 */
#ifndef TDL_OPTIM_H
#define TDL_OPTIM_H
#include "tdl_common.h"

/* IN: g, alpha, one_minus_beta_1, one_minus_beta_2, epsilon.  IN/OUT: w, m, v, v_hat. */
void tdl_optim_f32_adam_update(float *w, const float *g, float *m, float *v, float *v_hat,
                               tdl_index n, float alpha, float one_minus_beta_1,
                               float one_minus_beta_2, float epsilon);

#endif
