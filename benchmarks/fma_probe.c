/* The machine's single-precision FMA peak, measured: independent FMA chains in registers.
 *
 * Prints one line: "<isa> <GFLOP/s>" for one thread (run one copy per core for the total).
 * The chains are independent (12 accumulators, more than latency x throughput on current
 * x86 and Arm cores), so the loop runs at the FMA units' throughput, not their latency.
 * The widest ISA this CPU has is chosen at run time; a portable C loop otherwise.
 * Build: cc -O2 fma_probe.c -o fma_probe   (benchmarks/machine.py does it for you)
 */
#include <stdio.h>
#include <time.h>

#define CHAINS 12
#define ITERS 20000000L

/* The chains must live in registers: without a full unroll of the loop over them, -O2 keeps
 * acc[] on the stack and each FMA waits for a store and a load (4x under the peak on Zen 4). */
#if defined(__clang__)
#define UNROLLED _Pragma("unroll")
#elif defined(__GNUC__)
#define UNROLLED _Pragma("GCC unroll 16")
#else
#define UNROLLED
#endif

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>

__attribute__((target("avx512f"))) static float run_avx512(long iters) {
    __m512 acc[CHAINS], a = _mm512_set1_ps(0.999999f), b = _mm512_set1_ps(1e-7f);
    for (int i = 0; i < CHAINS; i++) acc[i] = _mm512_set1_ps((float)i);
    for (long n = 0; n < iters; n++)
        UNROLLED for (int i = 0; i < CHAINS; i++) acc[i] = _mm512_fmadd_ps(acc[i], a, b);
    float sum = 0;
    for (int i = 0; i < CHAINS; i++) sum += _mm512_reduce_add_ps(acc[i]);
    return sum;
}

__attribute__((target("avx2,fma"))) static float run_avx2(long iters) {
    __m256 acc[CHAINS], a = _mm256_set1_ps(0.999999f), b = _mm256_set1_ps(1e-7f);
    for (int i = 0; i < CHAINS; i++) acc[i] = _mm256_set1_ps((float)i);
    for (long n = 0; n < iters; n++)
        UNROLLED for (int i = 0; i < CHAINS; i++) acc[i] = _mm256_fmadd_ps(acc[i], a, b);
    float out[8], sum = 0;
    for (int i = 0; i < CHAINS; i++) {
        _mm256_storeu_ps(out, acc[i]);
        for (int j = 0; j < 8; j++) sum += out[j];
    }
    return sum;
}
#endif

/* portable: 4-wide vectors of the compiler's vector extension (SSE/NEON or scalar code) */
typedef float v4 __attribute__((vector_size(16)));

static float run_generic(long iters) {
    v4 acc[CHAINS], a = {0.999999f, 0.999999f, 0.999999f, 0.999999f}, b = {1e-7f, 1e-7f, 1e-7f, 1e-7f};
    for (int i = 0; i < CHAINS; i++) acc[i] = (v4){(float)i, (float)i, (float)i, (float)i};
    for (long n = 0; n < iters; n++)
        UNROLLED for (int i = 0; i < CHAINS; i++) acc[i] = acc[i] * a + b;
    float sum = 0;
    for (int i = 0; i < CHAINS; i++) sum += acc[i][0] + acc[i][1] + acc[i][2] + acc[i][3];
    return sum;
}

int main(void) {
    const char *isa = "generic";
    int lanes = 4;
    float (*run)(long) = run_generic;
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) {
        isa = "avx512"; lanes = 16; run = run_avx512;
    } else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
        isa = "avx2"; lanes = 8; run = run_avx2;
    }
#endif
    run(ITERS / 20); /* warm up: clocks and the vector units' power state */
    double best = 0;
    for (int rep = 0; rep < 3; rep++) {
        double t0 = now();
        volatile float sink = run(ITERS);
        double seconds = now() - t0;
        (void)sink;
        double gflops = 2.0 * lanes * CHAINS * (double)ITERS / seconds / 1e9;
        if (gflops > best) best = gflops;
    }
    printf("%s %.1f\n", isa, best);
    return 0;
}
