/* elementwise.c: ReLU forward and backward (see elementwise.h). */
#include "elementwise.h"

#define TDL_PARALLEL_MIN 32768 /* below this many elements a thread team costs more than it saves */

/* The team for n elements: the process-wide count (tdl_threads_get), or 1 when n is small. */
static int relu_threads(tdl_index n)
{
    return n > TDL_PARALLEL_MIN ? tdl_threads_get() : 1;
}

void tdl_relu_f32_forward(const float *x, float *out, tdl_index n)
{
    const int threads = relu_threads(n);
    (void)threads; /* unused without OpenMP */
#pragma omp parallel for schedule(static) num_threads(threads) if (threads > 1)
    for (tdl_index i = 0; i < n; i++)
        out[i] = (x[i] > 0.0f || x[i] != x[i]) ? x[i] : 0.0f; /* NaN passes, as in np.maximum */
}

void tdl_relu_f64_forward(const double *x, double *out, tdl_index n)
{
    const int threads = relu_threads(n);
    (void)threads; /* unused without OpenMP */
#pragma omp parallel for schedule(static) num_threads(threads) if (threads > 1)
    for (tdl_index i = 0; i < n; i++)
        out[i] = (x[i] > 0.0 || x[i] != x[i]) ? x[i] : 0.0;
}

void tdl_relu_f32_backward(const float *y, const float *dy, float *dx, tdl_index n)
{
    const int threads = relu_threads(n);
    (void)threads; /* unused without OpenMP */
#pragma omp parallel for schedule(static) num_threads(threads) if (threads > 1)
    for (tdl_index i = 0; i < n; i++)
    {
        float g = dy[i]; /* load unconditionally so the select vectorizes (no branch per element) */
        dx[i] = y[i] > 0.0f ? g : 0.0f;
    }
}

void tdl_relu_f64_backward(const double *y, const double *dy, double *dx, tdl_index n)
{
    const int threads = relu_threads(n);
    (void)threads; /* unused without OpenMP */
#pragma omp parallel for schedule(static) num_threads(threads) if (threads > 1)
    for (tdl_index i = 0; i < n; i++)
    {
        double g = dy[i];
        dx[i] = y[i] > 0.0 ? g : 0.0;
    }
}
