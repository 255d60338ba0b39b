/* tdl_common.h: shared definitions for tinydl's C kernels (index type, threading helpers). */
#ifndef TDL_COMMON_H
#define TDL_COMMON_H

#include <stddef.h>
#include <stdint.h>

/* Every size and index in the kernels is a signed 64-bit integer (matches NumPy's intp on 64-bit). */
typedef int64_t tdl_index;

#ifdef TDL_HAVE_OPENMP
#include <omp.h>
#endif

/* Number of threads a parallel region may use; 1 when built without OpenMP. */
int tdl_threads_get(void);
/* Set the thread count for later parallel regions (ignored without OpenMP). */
void tdl_threads_set(int n);
/* 1 when built with OpenMP, else 0. */
int tdl_threads_have_openmp(void);

#endif
