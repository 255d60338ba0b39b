/* threads.c: the thread count used by the kernels' OpenMP regions (serial fallback). */
#include "tdl_common.h"

int tdl_threads_get(void)
{
#ifdef TDL_HAVE_OPENMP
    return omp_get_max_threads();
#else
    return 1;
#endif
}

void tdl_threads_set(int n)
{
#ifdef TDL_HAVE_OPENMP
    if (n > 0)
        omp_set_num_threads(n);
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
