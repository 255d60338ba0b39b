/* cpu_features.c: cpuid + xgetbv probe behind tdl_cpu_features_get() (see cpu_features.h). */
#include "cpu_features.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>

static unsigned long long read_xcr0(void)
{
    unsigned int lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((unsigned long long)hi << 32) | lo;
}

static int probe(void)
{
    unsigned int eax, ebx, ecx, edx;
    if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx))
        return 0;
    int has_fma = (ecx >> 12) & 1, has_osxsave = (ecx >> 27) & 1, has_avx = (ecx >> 28) & 1;
    if (!has_osxsave || !has_avx)
        return 0;
    unsigned long long xcr0 = read_xcr0();
    int os_ymm = (xcr0 & 0x6) == 0x6;     /* XMM and YMM state */
    int os_zmm = (xcr0 & 0xe6) == 0xe6;   /* plus opmask, ZMM_Hi256, Hi16_ZMM */
    if (!os_ymm || __get_cpuid_max(0, 0) < 7)
        return 0;
    __cpuid_count(7, 0, eax, ebx, ecx, edx);
    int has_avx2 = (ebx >> 5) & 1, has_avx512f = (ebx >> 16) & 1;
    int flags = 0;
    if (has_fma)
        flags |= TDL_CPU_FMA;
    if (has_avx2 && has_fma)
        flags |= TDL_CPU_AVX2;
    if (has_avx512f && os_zmm && (flags & TDL_CPU_AVX2))
        flags |= TDL_CPU_AVX512F;
    return flags;
}
#else
static int probe(void) { return 0; }
#endif

/* The probe's answer, -1 until the first call. Atomic: the first calls may come from several
 * threads at once (ThreadSanitizer saw two kernels started together race on it); each
 * stores the same answer. */
#if defined(__STDC_NO_ATOMICS__) || defined(_MSC_VER)
static volatile int cached = -1;
#define LOAD_CACHED() (cached)
#define STORE_CACHED(flags) (cached = (flags))
#else
#include <stdatomic.h>
static atomic_int cached = -1;
#define LOAD_CACHED() atomic_load(&cached)
#define STORE_CACHED(flags) atomic_store(&cached, (flags))
#endif

int tdl_cpu_features_get(void)
{
    int flags = LOAD_CACHED();
    if (flags < 0) {
        flags = probe();
        STORE_CACHED(flags);
    }
    return flags;
}
