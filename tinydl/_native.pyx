"""tinydl._native: the Cython binding to the C kernels in csrc/.

This layer only dispatches. Typed memoryviews come in, the GIL is released and
pointers and sizes go to C. It validates nothing beyond what the memoryview
types enforce: tinydl/backend.py checks dtypes, shapes and contiguity and
allocates every output before calling here.
"""

cdef extern from "tdl_common.h":
    ctypedef long long tdl_index
    int tdl_threads_get() nogil
    void tdl_threads_set(int n) nogil
    int tdl_threads_have_openmp() nogil

cdef extern from "elementwise.h":
    void tdl_relu_f32_forward(const float *x, float *out, tdl_index n) nogil
    void tdl_relu_f64_forward(const double *x, double *out, tdl_index n) nogil
    void tdl_relu_f32_backward(const float *y, const float *dy, float *dx, tdl_index n) nogil
    void tdl_relu_f64_backward(const double *y, const double *dy, double *dx, tdl_index n) nogil


def get_num_threads():
    return tdl_threads_get()


def set_num_threads(int n):
    tdl_threads_set(n)


def have_openmp():
    return bool(tdl_threads_have_openmp())


def relu_forward_f32(const float[::1] x, float[::1] out):
    with nogil:
        tdl_relu_f32_forward(&x[0], &out[0], x.shape[0])


def relu_forward_f64(const double[::1] x, double[::1] out):
    with nogil:
        tdl_relu_f64_forward(&x[0], &out[0], x.shape[0])


def relu_backward_f32(const float[::1] y, const float[::1] dy, float[::1] dx):
    with nogil:
        tdl_relu_f32_backward(&y[0], &dy[0], &dx[0], y.shape[0])


def relu_backward_f64(const double[::1] y, const double[::1] dy, double[::1] dx):
    with nogil:
        tdl_relu_f64_backward(&y[0], &dy[0], &dx[0], y.shape[0])
