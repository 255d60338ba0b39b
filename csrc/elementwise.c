/* elementwise.c: ReLU forward and backward, and add_relu (see elementwise.h). */
#include "elementwise.h"

#define TDL_PARALLEL_MIN 32768 /* below this many elements a thread team costs more than it saves */

/* The team for n elements: the process-wide count (tdl_threads_get), or 1 when n is small. */
static int relu_threads(tdl_index n)
{
    return n > TDL_PARALLEL_MIN ? tdl_threads_get() : 1;
}

/* The arrays of one call: forward reads a (x), backward a (y) and b (dy), add_relu a and b. */
typedef struct {
    const void *a, *b;
    void *out;
} relu_job;

static void relu_f32_forward_range(void *arg, tdl_index lo, tdl_index hi)
{
    const relu_job *j = arg;
    const float *x = j->a;
    float *out = j->out;
    for (tdl_index i = lo; i < hi; i++)
        out[i] = (x[i] > 0.0f || x[i] != x[i]) ? x[i] : 0.0f; /* NaN passes, as in np.maximum */
}

static void relu_f64_forward_range(void *arg, tdl_index lo, tdl_index hi)
{
    const relu_job *j = arg;
    const double *x = j->a;
    double *out = j->out;
    for (tdl_index i = lo; i < hi; i++)
        out[i] = (x[i] > 0.0 || x[i] != x[i]) ? x[i] : 0.0;
}

static void relu_f32_backward_range(void *arg, tdl_index lo, tdl_index hi)
{
    const relu_job *j = arg;
    const float *y = j->a, *dy = j->b;
    float *dx = j->out;
    for (tdl_index i = lo; i < hi; i++) {
        float g = dy[i]; /* load unconditionally so the select vectorizes (no branch per element) */
        dx[i] = y[i] > 0.0f ? g : 0.0f;
    }
}

static void relu_f64_backward_range(void *arg, tdl_index lo, tdl_index hi)
{
    const relu_job *j = arg;
    const double *y = j->a, *dy = j->b;
    double *dx = j->out;
    for (tdl_index i = lo; i < hi; i++) {
        double g = dy[i];
        dx[i] = y[i] > 0.0 ? g : 0.0;
    }
}

/* The sum rounded to the dtype first, then the ReLU's select: np.maximum(a + b, 0)'s bits. */
static void add_relu_f32_range(void *arg, tdl_index lo, tdl_index hi)
{
    const relu_job *j = arg;
    const float *a = j->a, *b = j->b;
    float *out = j->out;
    for (tdl_index i = lo; i < hi; i++) {
        float v = a[i] + b[i];
        out[i] = (v > 0.0f || v != v) ? v : 0.0f; /* NaN passes, as in np.maximum */
    }
}

static void add_relu_f64_range(void *arg, tdl_index lo, tdl_index hi)
{
    const relu_job *j = arg;
    const double *a = j->a, *b = j->b;
    double *out = j->out;
    for (tdl_index i = lo; i < hi; i++) {
        double v = a[i] + b[i];
        out[i] = (v > 0.0 || v != v) ? v : 0.0;
    }
}

void tdl_relu_f32_forward(const float *x, float *out, tdl_index n)
{
    relu_job j = {x, NULL, out};
    tdl_parallel_for(relu_threads(n), n, relu_f32_forward_range, &j);
}

void tdl_relu_f64_forward(const double *x, double *out, tdl_index n)
{
    relu_job j = {x, NULL, out};
    tdl_parallel_for(relu_threads(n), n, relu_f64_forward_range, &j);
}

void tdl_relu_f32_backward(const float *y, const float *dy, float *dx, tdl_index n)
{
    relu_job j = {y, dy, dx};
    tdl_parallel_for(relu_threads(n), n, relu_f32_backward_range, &j);
}

void tdl_relu_f64_backward(const double *y, const double *dy, double *dx, tdl_index n)
{
    relu_job j = {y, dy, dx};
    tdl_parallel_for(relu_threads(n), n, relu_f64_backward_range, &j);
}

void tdl_add_relu_f32(const float *a, const float *b, float *out, tdl_index n)
{
    relu_job j = {a, b, out};
    tdl_parallel_for(relu_threads(n), n, add_relu_f32_range, &j);
}

void tdl_add_relu_f64(const double *a, const double *b, double *out, tdl_index n)
{
    relu_job j = {a, b, out};
    tdl_parallel_for(relu_threads(n), n, add_relu_f64_range, &j);
}
