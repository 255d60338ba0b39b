/* tdl_common.h: shared definitions for tinydl's C kernels (index type, threading helpers). */
#ifndef TDL_COMMON_H
#define TDL_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

/* Every size and index in the kernels is a signed 64-bit integer (NumPy's intp on 64-bit). */
typedef int64_t tdl_index;

#ifdef TDL_HAVE_OPENMP
#include <omp.h>
#endif

/* The most threads tdl_threads_set accepts (tinydl.backend.MAX_THREADS checks it in Python).
 * Far above any core count tinydl runs on; more threads than cores only adds switching, and
 * each thread costs OpenMP a stack and the kernels a few MiB of scratch (GEMM packing
 * buffers, a partial weight gradient). It also bounds the index products the kernels form
 * with a thread number (rows * t / threads), see tinydl.backend.MAX_ELEMENTS. */
#define TDL_MAX_THREADS 1024

/* Threads a parallel region may use: the process-wide count (threads.c), the same from every
 * OS thread; 1 when built without OpenMP. Every parallel kernel passes it (or fewer, for small
 * problems) to tdl_parallel_run as its worker count. */
int tdl_threads_get(void);
/* Set the process-wide count for kernels started from now on, from any thread; n outside
 * [1, TDL_MAX_THREADS] is ignored (Python refuses it first). Ignored without OpenMP. */
void tdl_threads_set(int n);
/* 1 when built with OpenMP, else 0. */
int tdl_threads_have_openmp(void);

/* The thread pool (threads.c). A job is `tasks` calls fn(ctx, task, worker), task in
 * [0, tasks), each on one thread; worker in [0, workers) numbers the thread running it (0 is
 * the caller) so a task can use that thread's scratch, and no two tasks run on one worker at
 * once. Tasks are claimed dynamically, so which worker runs which task varies from run to run:
 * a task's result must depend only on its number (tasks write disjoint outputs, or their own
 * partial sums that the caller then reduces in a fixed order). The call returns when every
 * task is done; the caller never waits for a helper that has not started (a busy machine's
 * descheduled thread), only for tasks already claimed. A run from inside a task, or while
 * another thread's job runs, runs every task on the calling thread (worker 0). */
typedef void (*tdl_task_fn)(void *ctx, tdl_index task, int worker);
void tdl_parallel_run(int workers, tdl_index tasks, tdl_task_fn fn, void *ctx);

/* fn(ctx, lo, hi) over [0, n) cut into about workers * TDL_RANGES_PER_THREAD equal ranges,
 * on the pool; for loops whose iterations are independent. */
#define TDL_RANGES_PER_THREAD 4
typedef void (*tdl_range_fn)(void *ctx, tdl_index lo, tdl_index hi);
void tdl_parallel_for(int workers, tdl_index n, tdl_range_fn fn, void *ctx);

/* Raise a failure flag that tasks on several threads may set at once (read after the run). */
static inline void tdl_flag_set(int *flag)
{
#if defined(__GNUC__) || defined(__clang__)
    __atomic_store_n(flag, 1, __ATOMIC_RELAXED);
#else
    *(volatile int *)flag = 1;
#endif
}

/* Cache-line (64-byte) aligned scratch memory, owned by one call; NULL when out of memory. */
static inline void *tdl_alloc(size_t bytes)
{
    if (bytes > SIZE_MAX - 63)
        return NULL;
    bytes = (bytes + 63) / 64 * 64;
#if defined(_MSC_VER)
    return _aligned_malloc(bytes ? bytes : 64, 64);
#else
    return aligned_alloc(64, bytes ? bytes : 64);
#endif
}

static inline void tdl_free(void *p)
{
#if defined(_MSC_VER)
    _aligned_free(p);
#else
    free(p);
#endif
}

/* Keeps short copy loops as loops: GCC would otherwise call memcpy/memset for each one. */
#if defined(__GNUC__) && !defined(__clang__)
#define TDL_NO_LIBCALLS __attribute__((optimize("no-tree-loop-distribute-patterns")))
#else
#define TDL_NO_LIBCALLS
#endif

static inline tdl_index tdl_min(tdl_index a, tdl_index b) { return a < b ? a : b; }
static inline tdl_index tdl_max(tdl_index a, tdl_index b) { return a > b ? a : b; }
static inline tdl_index tdl_ceil_div(tdl_index a, tdl_index b) { return (a + b - 1) / b; }
static inline tdl_index tdl_gcd(tdl_index a, tdl_index b)
{
    while (b) {
        tdl_index r = a % b;
        a = b;
        b = r;
    }
    return a;
}

#endif
