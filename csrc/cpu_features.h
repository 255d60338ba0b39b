/* cpu_features.h: which SIMD instruction sets this CPU (and its OS) can run, asked once and cached.
 *
 * On x86-64 the answer comes from cpuid (leaves 1 and 7) and xgetbv (the OS must save the
 * YMM/ZMM registers on a context switch, else AVX code faults even on an AVX CPU).
 * On any other architecture every flag is 0 and only the portable C kernels run.
 */
#ifndef TDL_CPU_FEATURES_H
#define TDL_CPU_FEATURES_H

#define TDL_CPU_AVX2 1     /* AVX2 and FMA3, with OS support for YMM state */
#define TDL_CPU_FMA 2      /* FMA3 (reported separately for info()) */
#define TDL_CPU_AVX512F 4  /* AVX-512 Foundation, with OS support for ZMM and opmask state */

/* Bit set of TDL_CPU_* flags. The first call probes the CPU; later calls return the cached
 * value (a racing first call computes the same value, so the cache needs no lock). */
int tdl_cpu_features_get(void);

#endif
