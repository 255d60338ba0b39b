/* gemm.h: C = relu(alpha * op(A) @ op(B) + beta * C + bias), row-major, float and double.
 *
 * Loop nest (BLIS / Goto), around an MR x NR micro-kernel chosen at run time:
 *   for jc in [0, N) step NC:            loop 5
 *     for pc in [0, K) step KC:          loop 4 (K cut in equal blocks of at most KC)
 *       pack op(B)[pc:pc+KC, jc:jc+NC] into NR-wide slivers (zero-padded), stays in L2
 *       for ic in [0, M) step MC:        loop 3
 *         pack op(A)[ic:ic+MC, pc:pc+KC] into MR-tall slivers (zero-padded)
 *         for ir in [0, MC) step MR:     loop 2: an MR x KC sliver of A stays in L1
 *           for jr in [0, NC) step NR:   loop 1
 *             micro-kernel: C tile (MR x NR) = alpha * Ap @ Bp + beta' * C tile
 *             (on the last pc, the epilogue adds bias and applies relu while the tile is hot)
 * Narrow operands skip the packing copy: A is read in place (row by row) when not transposed
 * and its rows are short, a transposed A or an untransposed B likewise; only their partial
 * edge slivers are copied and zero-padded (see gemm_ukr.h and TDL_GEMM_IN_PLACE_MAX_LD_BYTES).
 * Threads (the pool of threads.c) claim chunks of whole rows (or columns) of C, each chunk
 * computed whole by one thread with its own packing buffers; so results do not depend on the
 * thread count or on which thread ran a chunk. When C is small and K long (e.g. a
 * convolution's weight gradient), K is cut into one part per thread instead, each part's
 * product goes to its own partial C, and the partials are summed in part order
 * (deterministic for a given thread count, whichever thread ran a part).
 *
 * Preconditions (checked in Python): M, N, K >= 1; A is (M, K) with row stride lda, or (K, M)
 * when trans_a; B is (K, N) with row stride ldb, or (N, K) when trans_b; C is (M, N) with row
 * stride ldc and is not read when beta == 0; bias is NULL or holds N values; no aliasing
 * between C and A, B or bias.
 * Returns 0, or -1 when a packing buffer could not be allocated (C is then undefined).
 */
#ifndef TDL_GEMM_H
#define TDL_GEMM_H
#include "tdl_common.h"

int tdl_gemm_f32_compute(int trans_a, int trans_b, tdl_index m, tdl_index n, tdl_index k,
                         float alpha, const float *a, tdl_index lda, const float *b, tdl_index ldb,
                         float beta, float *c, tdl_index ldc, const float *bias, int relu);
int tdl_gemm_f64_compute(int trans_a, int trans_b, tdl_index m, tdl_index n, tdl_index k,
                         double alpha, const double *a, tdl_index lda, const double *b,
                         tdl_index ldb, double beta, double *c, tdl_index ldc,
                         const double *bias, int relu);

/* Micro-kernel selection. Kernel ids: */
#define TDL_GEMM_AUTO 0
#define TDL_GEMM_GENERIC 1
#define TDL_GEMM_AVX2 2
#define TDL_GEMM_AVX512 3
/* Force one micro-kernel (TDL_GEMM_AUTO: pick from CPU features). Returns 0, or -1 when this
 * CPU cannot run it (the choice is then unchanged). A test hook, not for concurrent use. */
int tdl_gemm_force_kernel(int id);
/* Id of the micro-kernel in use now (never TDL_GEMM_AUTO). */
int tdl_gemm_kernel_id(void);
/* "avx512", "avx2" or "generic". */
const char *tdl_gemm_kernel_name(int id);

/* --- For other kernel families (conv2d) that run GEMMs inside their own parallel regions. ---
 * A workspace holds one thread's packing buffers for problems up to (max_m, max_n, max_k). */
typedef struct {
    const void *kernel;  /* the micro-kernel descriptor chosen at init */
    void *a_pack;        /* MC x KC, packed A */
    void *b_pack;        /* KC x NC, packed B */
    void *tile;          /* MR x NR, for edge tiles */
    /* keep_b (0 after init, set by the caller): the caller promises that no B it passes changes
     * while it uses this workspace, so a packed B that fits one panel (K <= KC, N <= NC) is
     * packed by the first call with that B only (a recurrent kernel's rk over its time loop). */
    int keep_b;
    const void *kept_b;  /* the B in b_pack under keep_b, NULL for none: pointer and shape */
    tdl_index kept_ldb, kept_k, kept_n;
    int kept_trans_b;
} tdl_gemm_workspace;

int tdl_gemm_f32_workspace_init(tdl_gemm_workspace *ws, tdl_index max_m, tdl_index max_n,
                                tdl_index max_k);
int tdl_gemm_f64_workspace_init(tdl_gemm_workspace *ws, tdl_index max_m, tdl_index max_n,
                                tdl_index max_k);
void tdl_gemm_workspace_free(tdl_gemm_workspace *ws);
/* The same computation as tdl_gemm_*_compute on the calling thread only. */
void tdl_gemm_f32_serial(tdl_gemm_workspace *ws, int trans_a, int trans_b, tdl_index m,
                         tdl_index n, tdl_index k, float alpha, const float *a, tdl_index lda,
                         const float *b, tdl_index ldb, float beta, float *c, tdl_index ldc,
                         const float *bias, int relu);
void tdl_gemm_f64_serial(tdl_gemm_workspace *ws, int trans_a, int trans_b, tdl_index m,
                         tdl_index n, tdl_index k, double alpha, const double *a, tdl_index lda,
                         const double *b, tdl_index ldb, double beta, double *c, tdl_index ldc,
                         const double *bias, int relu);

#endif
