/* conv2d.h: 2-D convolution (cross-correlation) NHWC x HWIO, forward and both gradients.
 *
 * Shapes: x (N, H, W, C), w (KH, KW, C, F), y and dy (N, OH, OW, F), bias (F).
 * With pads (top, left) and strides (SH, SW), output (oh, ow) reads input rows
 * oh*SH - top + i (i < KH) and columns ow*SW - left + j (j < KW); outside the input is zero.
 *
 * Method: im2col + GEMM in tiles. The R = N*OH*OW output pixels are cut into tiles of rows;
 * for each tile one thread gathers the patch matrix cols (rows x KH*KW*C, about 192 KiB, in
 * its own buffer, so it stays in L2) and runs the serial GEMM on it (which reads cols and w2
 * in place, without packing copies, when their rows are short):
 *   forward:          y[tile]  = relu(cols @ w2 + bias)        w2 = w as (KH*KW*C, F)
 *                     tiles handed out dynamically; a tile's result never depends on the thread
 *   backward input:   dcols    = dy[tile] @ w2^T, then scatter-added into dx (col2im);
 *                     w2^T is transposed once per call (the GEMM then reads it in place);
 *                     threads take groups of whole images, so no two threads write one dx
 *                     element, and each element receives its terms in output-pixel order;
 *                     after a max pool that leaves output rows or columns uncovered, only
 *                     the covered pixels (nonzero gradient) go through the GEMM
 *   backward kernel:  dw_t    += cols^T @ dy[tile] over the thread's rows, db_t += sum of dy
 *                     rows; then dw = sum of dw_t in thread order (deterministic per count).
 * A 1x1 kernel with unit strides and no padding skips im2col (cols is x itself).
 * A 3x3 kernel with unit strides and at least 16 input and output channels computes the
 * forward and the weight gradient (on AVX-512 with at least 32 filters) by Winograd's
 * F(2x2, 3x3) instead (conv2d_winograd.inc): 16 GEMMs over 2x2 output tiles, 2.25x fewer
 * multiplies; the input gradient stays im2col.
 * With unit strides there is a third way, the implicit GEMM (CONV(implicit) in conv2d_impl.inc),
 * which the weight gradient takes with at most 16 filters on the AVX-512 and AVX2 kernels
 * (conv2d.c, use_implicit_kernel_grad): a band of output rows of one image is copied once,
 * zero-padded (wp = OW + KW - 1 columns), into xp; output pixel (r, q) is then GEMM row
 * P = r*wp + q, and kernel row i's KW*C products read KW*C contiguous values of xp at
 * (P + i*wp)*C, so A is xp itself with rows C apart. Per kernel row one GEMM: the forward adds
 * them into a wp-wide output band (its padding columns are dropped), the weight gradient sums
 * dw[i] += A_i^T @ dy over the band, with dy laid on the same grid (zero in the padding
 * columns). No patch matrix (KH*KW copies of the input) is written and read back. For a 3x3
 * window over 3 or 1 channels (float, AVX-512) the weight gradient's GEMMs are replaced by the
 * small-patch kernel (conv2d_wgrad_small.h), dw held in registers; for at most 32 filters
 * (float, AVX-512) the forward's GEMMs by the direct kernel (conv2d_direct.h), which the
 * forward takes by default with a window other than 1x1 (any strides) over at most 16
 * channels into at most 16 filters, or at most 4 channels into 32 (conv2d.c, direct_takes).
 * The per-tile loops (im2col, col2im, building the output gradient) are plain C compiled once
 * per instruction set (conv2d_tiles.inc) and picked per call like the GEMM micro-kernel.
 * Forward and input-gradient tiles are whole multiples of 12 rows (every micro-kernel's MR
 * divides 12), so only the last tile ends in a zero-padded partial sliver.
 *
 * Preconditions (checked in Python): every size >= 1 (N, H, W, C, F, OH, OW), pads >= 0;
 * arrays C-contiguous; outputs do not alias inputs.
 * Each returns 0, or -1 when scratch memory could not be allocated.
 */
#ifndef TDL_CONV2D_H
#define TDL_CONV2D_H
#include "tdl_common.h"

typedef struct {
    tdl_index n, h, w, c;     /* input */
    tdl_index kh, kw, f;      /* kernel window and filters */
    tdl_index sh, sw;         /* strides */
    tdl_index top, left;      /* pads before (pads after are implied by oh, ow) */
    tdl_index oh, ow;         /* output */
} tdl_conv2d_shape;

int tdl_conv2d_f32_forward(const tdl_conv2d_shape *s, const float *x, const float *w,
                           const float *bias, int relu, float *y);
int tdl_conv2d_f64_forward(const tdl_conv2d_shape *s, const double *x, const double *w,
                           const double *bias, int relu, double *y);

/* The forward followed by a max pool whose pkh x pkw windows tile the output without padding
 * (strides == window, pads 0): p and argmax (N, PH, PW, F), PH = OH / pkh, PW = OW / pkw,
 * exactly max_pool(forward(...)) (the pool's first-max rule; argmax = oh*OW + ow), but y is
 * never stored: tiles are whole bands of pkh output rows of one image, and each tile is
 * pooled straight from a per-thread buffer while it is in cache. Output rows the pool does
 * not read (OH % pkh of them per image) are not computed. Requires OH >= pkh, OW >= pkw. */
int tdl_conv2d_f32_forward_max_pool(const tdl_conv2d_shape *s, const float *x, const float *w,
                                    const float *bias, int relu, tdl_index pkh, tdl_index pkw,
                                    float *p, int32_t *argmax);
int tdl_conv2d_f64_forward_max_pool(const tdl_conv2d_shape *s, const double *x,
                                    const double *w, const double *bias, int relu,
                                    tdl_index pkh, tdl_index pkw, double *p, int32_t *argmax);

/* The algorithm of the forward and the weight gradient: im2col + GEMM, or, for 3x3 windows
 * with unit strides and at least 16 input and output channels, Winograd F(2x2, 3x3)
 * (conv2d_winograd.inc; in the pooled forward when the pool is 2x2, in the weight gradient
 * when it has at least 32 filters on AVX-512 and, after a pool, when its windows are the 2x2
 * tiles). The input gradient is always im2col.
 * tdl_conv2d_force_algorithm picks one for every later call (Winograd still only where it
 * applies); returns 0, or -1 for an unknown id. A test hook, not for concurrent use.
 * Winograd's transforms add and subtract inputs, so an infinite input can give NaN where
 * the direct sum gives an infinity (inf - inf); finite inputs differ by rounding only. */
/* TDL_CONV_IMPLICIT forces the implicit GEMM for every unit-stride forward (and pooled forward:
 * the forward, then the pool) and weight gradient, and the direct kernel for every float
 * forward it applies to (AVX-512, at most 32 filters, any strides); others stay im2col. */
#define TDL_CONV_AUTO 0
#define TDL_CONV_IM2COL 1
#define TDL_CONV_WINOGRAD 2
#define TDL_CONV_IMPLICIT 3
int tdl_conv2d_force_algorithm(int algorithm);

/* A max pool that read the convolution's output y (N, OH, OW, F) with windows that tile it
 * (strides == window, so every y element is in at most one window). */
typedef struct {
    const int32_t *argmax;  /* (N, PH, PW, F): the winner's flat index oh*OW + ow in y's plane */
    tdl_index kh, kw;       /* window (= strides) */
    tdl_index top, left;    /* pads before */
    tdl_index ph, pw;       /* pooled output */
} tdl_conv2d_pool;

/* The gradients take relu_out and pool, each possibly NULL.
 * relu_out, when the forward fused a ReLU, is its output, of dy's shape: dy is first masked to
 * dy where relu_out > 0, else 0 (the ReLU backward).
 * pool, when the convolution's output went into a max pool: dy (and relu_out) are then the
 * pool's (N, PH, PW, F) gradient (and output; max pooling commutes with the ReLU), and the
 * convolution's output gradient is dy routed to each window's argmax, zero elsewhere (the
 * max pool's backward).
 * Either way the conv-output gradient is built one tile of rows at a time, in a small
 * per-thread buffer, just before the GEMM reads it: it is never stored whole. */
int tdl_conv2d_f32_backward_input(const tdl_conv2d_shape *s, const float *dy, const float *w,
                                  const float *relu_out, const tdl_conv2d_pool *pool,
                                  float *dx);
int tdl_conv2d_f64_backward_input(const tdl_conv2d_shape *s, const double *dy, const double *w,
                                  const double *relu_out, const tdl_conv2d_pool *pool,
                                  double *dx);

/* db may be NULL (no bias gradient). */
int tdl_conv2d_f32_backward_kernel(const tdl_conv2d_shape *s, const float *dy, const float *x,
                                   const float *relu_out, const tdl_conv2d_pool *pool,
                                   float *dw, float *db);
int tdl_conv2d_f64_backward_kernel(const tdl_conv2d_shape *s, const double *dy, const double *x,
                                   const double *relu_out, const tdl_conv2d_pool *pool,
                                   double *dw, double *db);

#endif
