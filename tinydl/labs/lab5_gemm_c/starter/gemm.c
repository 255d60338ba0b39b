/* Lab 5: single-precision GEMM, C = A @ B, from three loops to a packed SIMD micro-kernel.
 *
 * Every matrix is row-major float32: A is M x K, B is K x N, C is M x N and is overwritten.
 * Each gemm_* function returns 0, or TDL_NOT_IMPLEMENTED(task) while its task is not written
 * (mygemm.py turns that into Python's NotImplementedError), or TDL_NO_MEMORY.
 * Indices are computed in size_t: M * K can exceed what an int holds even when M and K do not.
 *
 * Build: python build.py (any C compiler; no setup). The blocking constants are below.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#define TDL_NOT_IMPLEMENTED(task) (-100 - (task))
#define TDL_NO_MEMORY (-2)

/* Blocking: a KC x NC panel of B stays in the L3/L2 cache, an MC x KC block of A in L2,
 * one MR x KC sliver of A and a KC x NR sliver of B in L1, an MR x NR tile of C in registers. */
#define MC 64
#define KC 256
#define NC 512
#define MR 4
#define NR 16

/* ------------------------------------------------------------------------ task 5.1 */

/* C = A @ B by the textbook triple loop: C[i][j] = sum over p of A[i][p] * B[p][j]. */
int gemm_naive(int M, int N, int K, const float *A, const float *B, float *C)
{
    return TDL_NOT_IMPLEMENTED(1);  /* Lab 5, task 1: write gemm_naive: loops i, j, p with a running sum */
}

/* ------------------------------------------------------------------------ task 5.2 */

/* C = A @ B with the loops in i, p, j order (the inner loop walks B and C along a row,
 * contiguously) and tiled in blocks of MC rows, KC depths and NC columns. */
int gemm_blocked(int M, int N, int K, const float *A, const float *B, float *C)
{
    return TDL_NOT_IMPLEMENTED(2);  /* Lab 5, task 2: write gemm_blocked: zero C, then blocks of (MC, KC, NC)
                                       and i, p, j loops inside */
}

/* ------------------------------------------------------------------------ task 5.3 */

/* Copy the mc x kc block of A at A (row stride K) into ceil(mc / MR) slivers of MR rows:
 * sliver s holds, for p = 0..kc-1, the MR values A[s*MR + 0..MR-1][p], one after the other
 * (out[s*MR*kc + p*MR + r]). Rows past mc are zeros, so the micro-kernel needs no edge code. */
static int pack_a(int mc, int kc, const float *A, int K, float *out)
{
    return TDL_NOT_IMPLEMENTED(3);  /* Lab 5, task 3: write pack_a: for each sliver, each p, MR values (zeros
                                       past mc) */
}

/* Copy the kc x nc block of B at B (row stride N) into ceil(nc / NR) slivers of NR columns:
 * sliver s holds, for p = 0..kc-1, the NR values B[p][s*NR + 0..NR-1] (zeros past nc). */
static int pack_b(int kc, int nc, const float *B, int N, float *out)
{
    return TDL_NOT_IMPLEMENTED(3);  /* Lab 5, task 3: write pack_b: for each sliver, each p, NR values (zeros
                                       past nc) */
}

/* The micro-kernel: the MR x NR tile ab = sum over p of a[p*MR + r] * b[p*NR + j], from one
 * packed sliver of A and one of B; then C[r][j] += ab[r][j] for the mr x nr corner that is
 * inside C (ldc is C's row stride). */
typedef int (*micro_kernel)(int kc, const float *a, const float *b, float *C, int ldc, int mr, int nr);

static int kernel_c(int kc, const float *a, const float *b, float *C, int ldc, int mr, int nr)
{
    return TDL_NOT_IMPLEMENTED(3);  /* Lab 5, task 3: write kernel_c: an MR x NR array of sums, the p loop
                                       outside, then add the mr x nr corner to C */
}

/* The five loops of BLIS around a micro-kernel: jc (NC columns), pc (KC depth; pack B),
 * ic (MC rows; pack A), jr (NR), ir (MR). C is zeroed first, then every tile accumulates.
 * a_pack holds MC x KC floats, b_pack KC x (NC + NR) (the caller allocates them). */
static int five_loops(int M, int N, int K, const float *A, const float *B, float *C,
                      micro_kernel kernel, float *a_pack, float *b_pack)
{
    return TDL_NOT_IMPLEMENTED(3);  /* Lab 5, task 3: write five_loops: jc, pc (pack_b), ic (pack_a), jr, ir
                                       (kernel); stop at the first non-zero status */
}

static int gemm_five_loops(int M, int N, int K, const float *A, const float *B, float *C,
                           micro_kernel kernel)
{
    float *a_pack = malloc(sizeof(float) * MC * KC);
    float *b_pack = malloc(sizeof(float) * KC * (NC + NR));
    int status = (a_pack && b_pack) ? five_loops(M, N, K, A, B, C, kernel, a_pack, b_pack) : TDL_NO_MEMORY;
    free(a_pack);
    free(b_pack);
    return status;
}

int gemm_packed(int M, int N, int K, const float *A, const float *B, float *C)
{
    return gemm_five_loops(M, N, K, A, B, C, kernel_c);
}

/* ------------------------------------------------------------------------ task 5.4 */

/* GCC's and Clang's vector extensions: a v8f is 8 floats that + and * handle at once. The
 * compiler maps it onto the machine's SIMD registers (AVX: one register; SSE and NEON: two),
 * so the same source is fast on x86 and ARM. Other compilers get the plain C kernel. */
#if (defined(__GNUC__) || defined(__clang__)) && !defined(TDL_NO_VECTOR_EXTENSIONS)
#define TDL_HAVE_VECTORS 1
typedef float v8f __attribute__((vector_size(32)));

static inline v8f load8(const float *p) { v8f v; memcpy(&v, p, sizeof v); return v; }
static inline void store8(float *p, v8f v) { memcpy(p, &v, sizeof v); }
static inline v8f splat8(float x) { v8f v = {x, x, x, x, x, x, x, x}; return v; }

/* kernel_c's contract, with the MR x NR tile in MR x 2 vector registers. */
static int kernel_simd(int kc, const float *a, const float *b, float *C, int ldc, int mr, int nr)
{
    return TDL_NOT_IMPLEMENTED(4);  /* Lab 5, task 4: write kernel_simd: acc[r][0..1] += splat8(a[p*MR + r]) *
                                       the two v8f of b[p*NR ..] */
}
#else
#define TDL_HAVE_VECTORS 0
#define kernel_simd kernel_c
#endif

int gemm_simd(int M, int N, int K, const float *A, const float *B, float *C)
{
    return gemm_five_loops(M, N, K, A, B, C, kernel_simd);
}

/* 1 when kernel_simd uses vector extensions, 0 when it is the plain C kernel. */
int gemm_has_vectors(void) { return TDL_HAVE_VECTORS; }
