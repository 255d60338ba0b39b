/* rnn.h: the time loops of SimpleRNN, LSTM and GRU, forward and backward through time.
 *
 * Everything is time-major and C-contiguous: T steps, N samples, U units.
 *   xw  (T, N, G*U)  input projections x_t @ kernel + bias of every step (one GEMM, by the caller)
 *   rk  (U, G*U)     recurrent kernel; G = 1 (SimpleRNN), 4 (LSTM: i, f, c, o), 3 (GRU: z, r, h)
 *   mask (T, N)      uint8 or NULL: where mask[t, n] == 0, step t keeps sample n's states
 * Loop nest, forward: for t in [0, T): z_t = xw_t + h_{t-1} @ rk (a GEMM), then the gates
 *   row by row. Backward: for t from T-1 down: the gates' derivatives row by row give dz_t,
 *   then dh_{t-1} += dz_t @ rk^T (rk^T made once per call). The carried gradient dh lives in
 *   dh0 (and dc in dc0) and is the initial state's gradient at the end.
 * Threads: samples never meet in a recurrence, so the batch is cut into blocks of rows, one
 *   task each, and a task runs the whole time loop for its rows with serial GEMMs: one
 *   parallel region per call, no barrier per step.
 * sigmoid(x) = 0.5 * tanh(0.5 * x) + 0.5 (no overflow), as in the NumPy reference
 * (tinydl/kernels/reference_recurrent.py), which states every formula.
 * Results do not depend on the thread count (a row's arithmetic is the same in any block).
 *
 * Preconditions (checked in Python): T, N, U >= 1; arrays as above; outputs do not alias inputs.
 * Functions returning int give 0, or -1 when scratch memory could not be allocated.
 *
 * Names: tdl_rnn_{f32,f64}_{simple_forward, simple_backward, lstm_forward, lstm_forward_x,
 * lstm_backward, lstm_backward_x, gru_forward, gru_backward}.
 */
#ifndef TDL_RNN_H
#define TDL_RNN_H
#include "tdl_common.h"

typedef struct {
    tdl_index t, n, u;  /* time steps, samples, units */
} tdl_rnn_shape;

/* hs (T, N, U): h_t = tanh(xw_t + h_{t-1} @ rk). */
int tdl_rnn_f32_simple_forward(const tdl_rnn_shape *s, const float *xw, const float *rk,
                               const float *h0, const uint8_t *mask, float *hs);
int tdl_rnn_f64_simple_forward(const tdl_rnn_shape *s, const double *xw, const double *rk,
                               const double *h0, const uint8_t *mask, double *hs);
/* dxw (T, N, U) and dh0 (N, U) from dhs (T, N, U). */
int tdl_rnn_f32_simple_backward(const tdl_rnn_shape *s, const float *dhs, const float *rk,
                                const float *h0, const float *hs, const uint8_t *mask,
                                float *dxw, float *dh0);
int tdl_rnn_f64_simple_backward(const tdl_rnn_shape *s, const double *dhs, const double *rk,
                                const double *h0, const double *hs, const uint8_t *mask,
                                double *dxw, double *dh0);

/* states (T, N, 2U) = [h_t | c_t], gates (T, N, 4U) = [i | f | g | o] (activated). */
int tdl_rnn_f32_lstm_forward(const tdl_rnn_shape *s, const float *xw, const float *rk,
                             const float *h0, const float *c0, const uint8_t *mask,
                             float *states, float *gates);
int tdl_rnn_f64_lstm_forward(const tdl_rnn_shape *s, const double *xw, const double *rk,
                             const double *h0, const double *c0, const uint8_t *mask,
                             double *states, double *gates);
/* The same from the inputs x instead of their projections: z_t = [x_t | h_{t-1}] @ w + bias,
 * with w (D + U, 4U) = [kernel; rk] stacked and bias (4U) or NULL, one GEMM per step (no
 * (T, N, 4U) projection pass before the loop). x is (T, N, D), or (N, T, D) when batch_major
 * (a layer's batch-major input read in place). Results equal lstm_forward's on
 * x @ kernel + bias up to float rounding (each z sums over D and U in one GEMM).
 * last_only (inference of a layer that returns its last state): states holds min(T, 2) steps,
 * step t at t % 2, so the last at (T - 1) % 2, and gates is not written (may be NULL).
 * stack (T*N, D + U + 1), or NULL: row t*N + n gets [x_t[n] | h_{t-1}[n] | 1], the A of each
 * step's GEMM kept (in place of a per-block scratch) for the weight gradient, whose A^T it
 * is (dkernel, drecurrent and dbias from one GEMM, stack^T @ dz). Not with last_only. */
int tdl_rnn_f32_lstm_forward_x(const tdl_rnn_shape *s, tdl_index d, int batch_major,
                               int last_only, const float *x, const float *w,
                               const float *bias, const float *h0, const float *c0,
                               const uint8_t *mask, float *states, float *gates, float *stack);
int tdl_rnn_f64_lstm_forward_x(const tdl_rnn_shape *s, tdl_index d, int batch_major,
                               int last_only, const double *x, const double *w,
                               const double *bias,
                               const double *h0, const double *c0, const uint8_t *mask,
                               double *states, double *gates, double *stack);
/* dz (T, N, 4U), dh0, dc0 (N, U) from dstates (dsteps, N, 2U): dsteps is T, or 1 when only
 * the last step has a gradient (a layer returning its last state: the others' are 0). */
int tdl_rnn_f32_lstm_backward(const tdl_rnn_shape *s, const float *dstates, tdl_index dsteps,
                              const float *rk, const float *h0, const float *c0,
                              const float *states, const float *gates, const uint8_t *mask,
                              float *dz, float *dh0, float *dc0);
int tdl_rnn_f64_lstm_backward(const tdl_rnn_shape *s, const double *dstates, tdl_index dsteps,
                              const double *rk, const double *h0, const double *c0,
                              const double *states, const double *gates, const uint8_t *mask,
                              double *dz, double *dh0, double *dc0);

/* The same and dx (T, N, D), or (N, T, D) when batch_major: dx_t = dz_t @ kernel^T from the
 * step's one GEMM with wt (4U, D + U) = [kernel^T | rk^T], which also gives dz_t @ rk^T (no
 * pass over dz after the loop). dz, dh0 and dc0 are lstm_backward's. */
int tdl_rnn_f32_lstm_backward_x(const tdl_rnn_shape *s, tdl_index d, int batch_major,
                                const float *dstates, tdl_index dsteps, const float *wt,
                                const float *c0, const float *states, const float *gates,
                                const uint8_t *mask, float *dz, float *dx, float *dh0,
                                float *dc0);
int tdl_rnn_f64_lstm_backward_x(const tdl_rnn_shape *s, tdl_index d, int batch_major,
                                const double *dstates, tdl_index dsteps, const double *wt,
                                const double *c0, const double *states, const double *gates,
                                const uint8_t *mask, double *dz, double *dx, double *dh0,
                                double *dc0);

/* GRU, reset_after: hs (T, N, U), gates (T, N, 4U) = [z | r | hh | inner_h]; rb (3U,). */
int tdl_rnn_f32_gru_forward(const tdl_rnn_shape *s, const float *xw, const float *rk,
                            const float *rb, const float *h0, const uint8_t *mask, float *hs,
                            float *gates);
int tdl_rnn_f64_gru_forward(const tdl_rnn_shape *s, const double *xw, const double *rk,
                            const double *rb, const double *h0, const uint8_t *mask,
                            double *hs, double *gates);
/* dxw, dinner (T, N, 3U) and dh0 (N, U) from dhs (T, N, U). */
int tdl_rnn_f32_gru_backward(const tdl_rnn_shape *s, const float *dhs, const float *rk,
                             const float *h0, const float *hs, const float *gates,
                             const uint8_t *mask, float *dxw, float *dinner, float *dh0);
int tdl_rnn_f64_gru_backward(const tdl_rnn_shape *s, const double *dhs, const double *rk,
                             const double *h0, const double *hs, const double *gates,
                             const uint8_t *mask, double *dxw, double *dinner, double *dh0);

#endif
