/* threads.c: the one, process-wide thread count of the kernels' OpenMP regions.
 *
 * OpenMP's own count (omp_set_num_threads) belongs to the OS thread that sets it, so a kernel
 * started from another thread would not see it. tinydl keeps its own count instead, one for
 * the whole process: every parallel region asks for num_threads(tdl_threads_get()) (or fewer,
 * for small problems). It starts as OpenMP's default for the thread that loads the extension
 * (the cores, or OMP_NUM_THREADS), capped at TDL_MAX_THREADS. Without OpenMP it is always 1.
 * The count is an atomic int: setting it while kernels run on other threads is not a data
 * race, and a kernel reads it once, when it starts.
 */
#include "tdl_common.h"

#ifdef TDL_HAVE_OPENMP
#if defined(__STDC_NO_ATOMICS__) || defined(_MSC_VER)
static volatile int count = 0;  /* 0 until set or first read */
static int load_count(void) { return count; }
static void store_count(int n) { count = n; }
static void init_count(int n) { count = count ? count : n; }
#else
#include <stdatomic.h>
static atomic_int count = 0;  /* 0 until set or first read */
static int load_count(void) { return atomic_load(&count); }
static void store_count(int n) { atomic_store(&count, n); }
static void init_count(int n)  /* the first reader sets the default; a set() wins over it */
{
    int unset = 0;
    atomic_compare_exchange_strong(&count, &unset, n);
}
#endif
#endif

int tdl_threads_get(void)
{
#ifdef TDL_HAVE_OPENMP
    int n = load_count();
    if (n > 0)
        return n;
    init_count((int)tdl_max(1, tdl_min(omp_get_max_threads(), TDL_MAX_THREADS)));
    return load_count();
#else
    return 1;
#endif
}

void tdl_threads_set(int n)
{
#ifdef TDL_HAVE_OPENMP
    if (n >= 1 && n <= TDL_MAX_THREADS)
        store_count(n);
#else
    (void)n;
#endif
}

int tdl_threads_have_openmp(void)
{
#ifdef TDL_HAVE_OPENMP
    return 1;
#else
    return 0;
#endif
}
