/* gemm_config.h: every GEMM blocking constant, in one place.
 *
 * A micro-kernel computes an MR x NR tile of C from an MR-row sliver of A and an NR-column
 * sliver of B. The driver's loops block the problem so that (on a core with 48 KiB L1d and
 * 2 MiB L2, the Sapphire Rapids class these were measured on):
 *   - an MR x KC sliver of A stays in L1 while the micro-kernel sweeps along a panel of B,
 *   - a KC x NC panel of packed B stays in L2,
 *   - an MC x KC block of A stays in L3 (MC large: A is read in place or packed once).
 * A long KC also means fewer passes over C (each pass reads and writes every C tile).
 * MC must be a multiple of MR and NC a multiple of NR. Measured by benchmarks/bench_gemm.py;
 * KC 256..512 and NC 512..1536 are within noise of each other, smaller KC is slower.
 */
#ifndef TDL_GEMM_CONFIG_H
#define TDL_GEMM_CONFIG_H

/* AVX-512: C rows are 2 ZMM registers wide; MR x 2 accumulators out of 32 registers. */
#define TDL_AVX512_F32_MR 12
#define TDL_AVX512_F32_NR 32
#define TDL_AVX512_F64_MR 12
#define TDL_AVX512_F64_NR 16
#define TDL_AVX512_KC 384
#define TDL_AVX512_F32_MC 3072
#define TDL_AVX512_F64_MC 1536
#define TDL_AVX512_F32_NC 1024
#define TDL_AVX512_F64_NC 512
/* ...and for C at most 16 columns wide (a convolution with 16 filters, say), where the 32-wide
 * tile would compute half zeros: rows 1 ZMM wide, 24 accumulators. */
#define TDL_AVX512_F32_NARROW_MR 24
#define TDL_AVX512_F32_NARROW_NR 16

/* AVX2 + FMA: C rows are 2 YMM registers wide; 6 x 2 accumulators out of 16 registers. */
#define TDL_AVX2_F32_MR 6
#define TDL_AVX2_F32_NR 16
#define TDL_AVX2_F64_MR 6
#define TDL_AVX2_F64_NR 8
#define TDL_AVX2_KC 384
#define TDL_AVX2_F32_MC 3072
#define TDL_AVX2_F64_MC 1536
#define TDL_AVX2_F32_NC 1024
#define TDL_AVX2_F64_NC 512

/* Portable C: small tiles the compiler can keep in (SSE2 or NEON) registers. */
#define TDL_GENERIC_MR 4
#define TDL_GENERIC_F32_NR 16
#define TDL_GENERIC_F64_NR 8
#define TDL_GENERIC_KC 256
#define TDL_GENERIC_MC 1024
#define TDL_GENERIC_NC 512

/* An operand whose rows are at most this long (in bytes) is read in place by the micro-kernel
 * instead of being packed (B when not transposed, A when transposed): narrow panels such as
 * a convolution's weights stay cache- and TLB-friendly without the copy. */
#define TDL_GEMM_IN_PLACE_MAX_LD_BYTES 2560
/* ...but not a transposed A whose rows are a multiple of TDL_GEMM_ALIASING_LD_BYTES apart
 * (its sliver would sit in a quarter or fewer of L1's sets), nor a B of rows longer than
 * TDL_GEMM_B_IN_PLACE_MAX_LD_BYTES under a C of more than TDL_GEMM_B_IN_PLACE_MAX_M rows
 * (a packed panel streams). Measured on AMD EPYC Zen 3 (AVX2; 32 KiB L1d, 512 KiB L2),
 * 1 thread, medians of 5 processes: (64 x 512) @ (512 x 512) 55 -> 68 GFLOP/s, 512^3
 * 66 -> 79, (1024 x 1152) @ (1152 x 256) 65 -> 73, the weight-gradient shape
 * (4096 x 576)^T @ (4096 x 128) 59 -> 72; C of 12-32 rows and B of 64 columns unchanged. */
#define TDL_GEMM_ALIASING_LD_BYTES 256
/* A not transposed, rows longer than TDL_GEMM_IN_PLACE_MAX_LD_BYTES: read in place too (a
 * packing copy of A cost 5-20% of a call), unless they are a multiple of this many bytes
 * apart, where a sliver's MR rows share L1's sets and an 8-way L1 (AMD Zen) cannot hold
 * them. Measured on an Intel Xeon (Sapphire Rapids class, AVX-512; 48 KiB 12-way L1d),
 * 1 thread: (64 x 784) @ (784 x 512) 172 -> 184 GFLOP/s, (64 x 784) @ (784 x 128) 154 -> 190,
 * (4096 x 1152) @ (1152 x 128) 166 -> 219, (512 x 784) @ (784 x 512) 203 -> 221; there rows
 * a multiple of 4096 bytes apart were faster in place too, but that was not measured on Zen. */
#define TDL_GEMM_A_ROWS_ALIASING_LD_BYTES 4096
#define TDL_GEMM_B_IN_PLACE_MAX_M 32
#define TDL_GEMM_B_IN_PLACE_MAX_LD_BYTES 256

/* Problems with fewer multiply-adds than this (M*N*K) run on one thread. */
#define TDL_GEMM_PARALLEL_MIN_WORK (1 << 20)

/* Threads take chunks of C rows (or columns) dynamically: about this many chunks per thread,
 * each of at least TDL_GEMM_PARALLEL_MIN_WORK multiply-adds. */
#define TDL_GEMM_CHUNKS_PER_THREAD 4
/* ...but at least this many rows (columns) when each chunk must pack B (A) for itself. */
#define TDL_GEMM_MIN_CHUNK_PACKED 384

/* Split-K (threads share the K dimension, then a fixed-order reduction) is used when C is
 * small and K is long: M*N at most this, and K at least TDL_GEMM_SPLITK_MIN_K per thread. */
#define TDL_GEMM_SPLITK_MAX_MN (192 * 192)
#define TDL_GEMM_SPLITK_MIN_K 1024

#endif
