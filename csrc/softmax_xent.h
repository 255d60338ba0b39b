/* softmax_xent.h: softmax + cross-entropy, fused, one pass over each row.
 *
 * Shapes: logits and probs (N, K); labels int64 (N,), each in [0, K); losses (N,).
 * Forward, per row (rows in parallel): m = max(row); e_j = exp(row_j - m) stored in probs;
 *   s = sum e_j; probs_j = e_j / s; loss = log(s) - (row[label] - m).
 * Backward: grad = probs * scale, except grad[label] = (probs[label] - 1) * scale.
 * Preconditions (checked in Python): N, K >= 1; labels in range.
 */
#ifndef TDL_SOFTMAX_XENT_H
#define TDL_SOFTMAX_XENT_H
#include "tdl_common.h"

void tdl_softmax_xent_f32_forward(const float *logits, const int64_t *labels, tdl_index n,
                                  tdl_index k, float *losses, float *probs);
void tdl_softmax_xent_f64_forward(const double *logits, const int64_t *labels, tdl_index n,
                                  tdl_index k, double *losses, double *probs);
void tdl_softmax_xent_f32_backward(const float *probs, const int64_t *labels, tdl_index n,
                                   tdl_index k, float scale, float *grad);
void tdl_softmax_xent_f64_backward(const double *probs, const int64_t *labels, tdl_index n,
                                   tdl_index k, double scale, double *grad);

#endif
