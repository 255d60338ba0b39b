"""tinydl._native: the Cython binding to the C kernels in csrc/.

This layer only dispatches. Typed memoryviews come in, the GIL is released and
pointers and sizes go to C. It validates nothing beyond what the memoryview
types enforce: tinydl/backend.py checks dtypes, shapes and contiguity,
tinydl/kernels/native.py allocates every output and never passes an empty array.
"""

from cython cimport floating
from libc.stdint cimport int32_t, int64_t, uint8_t, uint64_t

cdef extern from "tdl_common.h":
    ctypedef int64_t tdl_index
    int TDL_MAX_THREADS
    int tdl_threads_get() nogil
    void tdl_threads_set(int n) nogil
    int tdl_threads_have_openmp() nogil

cdef extern from "cpu_features.h":
    int TDL_CPU_AVX2, TDL_CPU_FMA, TDL_CPU_AVX512F
    int tdl_cpu_features_get() nogil

cdef extern from "elementwise.h":
    void tdl_relu_f32_forward(const float *x, float *out, tdl_index n) nogil
    void tdl_relu_f64_forward(const double *x, double *out, tdl_index n) nogil
    void tdl_relu_f32_backward(const float *y, const float *dy, float *dx, tdl_index n) nogil
    void tdl_relu_f64_backward(const double *y, const double *dy, double *dx, tdl_index n) nogil
    void tdl_add_relu_f32(const float *a, const float *b, float *out, tdl_index n) nogil
    void tdl_add_relu_f64(const double *a, const double *b, double *out, tdl_index n) nogil

cdef extern from "dropout.h":
    void tdl_dropout_f32(const float *x, float *out, tdl_index n, uint64_t key, uint64_t threshold,
                         float scale) nogil
    void tdl_dropout_f64(const double *x, double *out, tdl_index n, uint64_t key,
                         uint64_t threshold, double scale) nogil

cdef extern from "global_pool.h":
    void tdl_global_pool_f32_avg_forward(const float *x, tdl_index n, tdl_index s, tdl_index c,
                                         float *y) nogil
    void tdl_global_pool_f64_avg_forward(const double *x, tdl_index n, tdl_index s,
                                         tdl_index c, double *y) nogil
    void tdl_global_pool_f32_avg_backward(const float *dy, tdl_index n, tdl_index s,
                                          tdl_index c, float *dx) nogil
    void tdl_global_pool_f64_avg_backward(const double *dy, tdl_index n, tdl_index s,
                                          tdl_index c, double *dx) nogil
    void tdl_global_pool_f32_max_forward(const float *x, tdl_index n, tdl_index s, tdl_index c,
                                         float *y) nogil
    void tdl_global_pool_f64_max_forward(const double *x, tdl_index n, tdl_index s,
                                         tdl_index c, double *y) nogil
    int tdl_global_pool_f32_max_backward(const float *x, const float *y, const float *dy,
                                         tdl_index n, tdl_index s, tdl_index c, float *dx) nogil
    int tdl_global_pool_f64_max_backward(const double *x, const double *y, const double *dy,
                                         tdl_index n, tdl_index s, tdl_index c,
                                         double *dx) nogil

cdef extern from "batchnorm.h":
    int tdl_batchnorm_f32_forward(const float *x, tdl_index m, tdl_index c, const float *gamma,
                                  const float *beta, double epsilon, int relu, float *y,
                                  float *mean, float *var) nogil
    int tdl_batchnorm_f64_forward(const double *x, tdl_index m, tdl_index c,
                                  const double *gamma, const double *beta, double epsilon,
                                  int relu, double *y, double *mean, double *var) nogil
    int tdl_batchnorm_f32_backward(const float *dy, const float *x, const float *y,
                                   tdl_index m, tdl_index c, const float *mean,
                                   const float *var, const float *gamma, double epsilon,
                                   float *dx, float *dgamma, float *dbeta) nogil
    int tdl_batchnorm_f64_backward(const double *dy, const double *x, const double *y,
                                   tdl_index m, tdl_index c, const double *mean,
                                   const double *var, const double *gamma, double epsilon,
                                   double *dx, double *dgamma, double *dbeta) nogil

cdef extern from "gemm.h":
    int TDL_GEMM_AUTO, TDL_GEMM_GENERIC, TDL_GEMM_AVX2, TDL_GEMM_AVX512
    int tdl_gemm_force_kernel(int id) nogil
    int tdl_gemm_kernel_id() nogil
    const char *tdl_gemm_kernel_name(int id) nogil
    int tdl_gemm_f32_compute(int trans_a, int trans_b, tdl_index m, tdl_index n, tdl_index k,
                             float alpha, const float *a, tdl_index lda, const float *b,
                             tdl_index ldb, float beta, float *c, tdl_index ldc,
                             const float *bias, int relu) nogil
    int tdl_gemm_f64_compute(int trans_a, int trans_b, tdl_index m, tdl_index n, tdl_index k,
                             double alpha, const double *a, tdl_index lda, const double *b,
                             tdl_index ldb, double beta, double *c, tdl_index ldc,
                             const double *bias, int relu) nogil

cdef extern from "conv2d.h":
    ctypedef struct tdl_conv2d_shape:
        tdl_index n, h, w, c, kh, kw, f, sh, sw, top, left, oh, ow
    int tdl_conv2d_f32_forward(const tdl_conv2d_shape *s, const float *x, const float *w,
                               const float *bias, int relu, float *y) nogil
    int tdl_conv2d_f64_forward(const tdl_conv2d_shape *s, const double *x, const double *w,
                               const double *bias, int relu, double *y) nogil
    int tdl_conv2d_f32_forward_max_pool(const tdl_conv2d_shape *s, const float *x,
                                        const float *w, const float *bias, int relu,
                                        tdl_index pkh, tdl_index pkw, float *p,
                                        int32_t *argmax) nogil
    int tdl_conv2d_f64_forward_max_pool(const tdl_conv2d_shape *s, const double *x,
                                        const double *w, const double *bias, int relu,
                                        tdl_index pkh, tdl_index pkw, double *p,
                                        int32_t *argmax) nogil
    int tdl_conv2d_force_algorithm(int algorithm) nogil
    ctypedef struct tdl_conv2d_pool:
        const int32_t *argmax
        tdl_index kh, kw, top, left, ph, pw
    int tdl_conv2d_f32_backward_input(const tdl_conv2d_shape *s, const float *dy,
                                      const float *w, const float *relu_out,
                                      const tdl_conv2d_pool *pool, float *dx) nogil
    int tdl_conv2d_f64_backward_input(const tdl_conv2d_shape *s, const double *dy,
                                      const double *w, const double *relu_out,
                                      const tdl_conv2d_pool *pool, double *dx) nogil
    int tdl_conv2d_f32_backward_kernel(const tdl_conv2d_shape *s, const float *dy,
                                       const float *x, const float *relu_out,
                                       const tdl_conv2d_pool *pool, float *dw,
                                       float *db) nogil
    int tdl_conv2d_f64_backward_kernel(const tdl_conv2d_shape *s, const double *dy,
                                       const double *x, const double *relu_out,
                                       const tdl_conv2d_pool *pool, double *dw,
                                       double *db) nogil

cdef extern from "pool.h":
    ctypedef struct tdl_pool_shape:
        tdl_index n, h, w, c, kh, kw, sh, sw, top, left, oh, ow
    void tdl_pool_f32_max_forward(const tdl_pool_shape *s, const float *x, float *y,
                                  int32_t *argmax) nogil
    void tdl_pool_f64_max_forward(const tdl_pool_shape *s, const double *x, double *y,
                                  int32_t *argmax) nogil
    void tdl_pool_f32_max_backward(const tdl_pool_shape *s, const float *dy, const int32_t *argmax,
                                   float *dx) nogil
    void tdl_pool_f64_max_backward(const tdl_pool_shape *s, const double *dy, const int32_t *argmax,
                                   double *dx) nogil
    void tdl_pool_f32_avg_forward(const tdl_pool_shape *s, const float *x, float *y) nogil
    void tdl_pool_f64_avg_forward(const tdl_pool_shape *s, const double *x, double *y) nogil
    void tdl_pool_f32_avg_backward(const tdl_pool_shape *s, const float *dy, float *dx) nogil
    void tdl_pool_f64_avg_backward(const tdl_pool_shape *s, const double *dy, double *dx) nogil

cdef extern from "softmax_xent.h":
    void tdl_softmax_xent_f32_forward(const float *logits, const int64_t *labels, tdl_index n,
                                      tdl_index k, float *losses, float *probs) nogil
    void tdl_softmax_xent_f64_forward(const double *logits, const int64_t *labels,
                                      tdl_index n, tdl_index k, double *losses,
                                      double *probs) nogil
    void tdl_softmax_xent_f32_backward(const float *probs, const int64_t *labels, tdl_index n,
                                       tdl_index k, float scale, float *grad) nogil
    void tdl_softmax_xent_f64_backward(const double *probs, const int64_t *labels,
                                       tdl_index n, tdl_index k, double scale,
                                       double *grad) nogil


cdef inline void _check(int status) except *:
    if status != 0:
        raise MemoryError("tinydl native kernel: could not allocate its scratch buffers")


cdef const floating *_optional(const floating[:, :, :, ::1] a):
    """The first element's address, or NULL for None (an optional 4-d argument)."""
    if a is None:
        return NULL
    return &a[0, 0, 0, 0]


cdef const floating *_optional_vector(const floating[::1] a):
    """The first element's address, or NULL for None (an optional bias)."""
    if a is None:
        return NULL
    return &a[0]


# ----------------------------------------------------------------------------- threads, CPU

MAX_THREADS = TDL_MAX_THREADS
tdl_threads_get()  # fix the process-wide default now, from the importing thread's OpenMP default


def get_num_threads():
    """The process-wide thread count of every kernel (csrc/threads.c)."""
    return tdl_threads_get()


def set_num_threads(int n):
    """Set it for kernels started from now on, from any thread; n in [1, MAX_THREADS]."""
    tdl_threads_set(n)


def have_openmp():
    return bool(tdl_threads_have_openmp())


# ----------------------------------------------------------------------------- memory

cdef extern from "memory.h":
    int tdl_memory_keep_freed(int mmap_threshold, int trim_threshold) nogil


def memory_keep_freed(int mmap_threshold, int trim_threshold):
    """Raise malloc's mmap and trim thresholds (csrc/memory.h); True when the C library did."""
    return bool(tdl_memory_keep_freed(mmap_threshold, trim_threshold))


def cpu_features():
    """{'avx2': bool, 'fma': bool, 'avx512f': bool} for this CPU and OS."""
    cdef int f = tdl_cpu_features_get()
    return {"avx2": bool(f & TDL_CPU_AVX2), "fma": bool(f & TDL_CPU_FMA),
            "avx512f": bool(f & TDL_CPU_AVX512F)}


_GEMM_KERNELS = {"auto": TDL_GEMM_AUTO, "generic": TDL_GEMM_GENERIC, "avx2": TDL_GEMM_AVX2,
                 "avx512": TDL_GEMM_AVX512}


def gemm_force_kernel(str name):
    """Force the GEMM micro-kernel ('avx512', 'avx2', 'generic' or 'auto'): 0, or -1 if unusable."""
    return tdl_gemm_force_kernel(_GEMM_KERNELS[name])


def gemm_kernel_name():
    return tdl_gemm_kernel_name(tdl_gemm_kernel_id()).decode()


# ----------------------------------------------------------------------------- gemm
# Each entry point takes float32 or float64 arrays (Cython's fused type `floating`: one
# function, compiled for both, picked by the arrays' dtype) and calls the C kernel of that
# dtype. Scalars come as Python floats (double) and are cast to the arrays' type.

def gemm(bint trans_a, bint trans_b, tdl_index m, tdl_index n, tdl_index k, double alpha,
         const floating[:, ::1] a, const floating[:, ::1] b, double beta, floating[:, ::1] c,
         const floating[::1] bias, bint relu):
    cdef const floating *bias_ptr = _optional_vector(bias)
    cdef int status
    with nogil:
        if floating is float:
            status = tdl_gemm_f32_compute(trans_a, trans_b, m, n, k, <float>alpha, &a[0, 0],
                                          a.shape[1], &b[0, 0], b.shape[1], <float>beta,
                                          &c[0, 0], c.shape[1], bias_ptr, relu)
        else:
            status = tdl_gemm_f64_compute(trans_a, trans_b, m, n, k, alpha, &a[0, 0],
                                          a.shape[1], &b[0, 0], b.shape[1], beta, &c[0, 0],
                                          c.shape[1], bias_ptr, relu)
    _check(status)


# ----------------------------------------------------------------------------- conv2d

_CONV_ALGORITHMS = {"auto": 0, "im2col": 1, "winograd": 2, "implicit": 3}


def conv2d_force_algorithm(str name):
    """Make convolutions use 'im2col', 'winograd' or 'implicit' (where they apply) or 'auto'
    (conv2d.h)."""
    return tdl_conv2d_force_algorithm(_CONV_ALGORITHMS[name])


cdef tdl_conv2d_shape _conv_shape(Py_ssize_t *x_shape, Py_ssize_t *w_shape, tuple strides,
                                  tuple pads, tuple out_hw):
    """The C shape record from x (N, H, W, C) and w (KH, KW, C, F) shapes and (OH, OW)."""
    cdef tdl_conv2d_shape s
    s.n, s.h, s.w, s.c = x_shape[0], x_shape[1], x_shape[2], x_shape[3]
    s.kh, s.kw, s.f = w_shape[0], w_shape[1], w_shape[3]
    s.sh, s.sw = strides
    s.top, s.left = pads[0], pads[2]
    s.oh, s.ow = out_hw
    return s


cdef const tdl_conv2d_pool *_conv_pool(tdl_conv2d_pool *p, const int32_t[:, :, :, ::1] argmax,
                                       tuple geometry):
    """Fill p from the pool's argmax (N, PH, PW, F) and geometry (window, pads); NULL if none."""
    if argmax is None:
        return NULL
    window, pads = geometry
    p.argmax = &argmax[0, 0, 0, 0]
    p.kh, p.kw = window
    p.top, p.left = pads[0], pads[2]
    p.ph, p.pw = argmax.shape[1], argmax.shape[2]
    return p


def conv2d_forward(const floating[:, :, :, ::1] x, const floating[:, :, :, ::1] w,
                   const floating[::1] bias, tuple strides, tuple pads, bint relu,
                   floating[:, :, :, ::1] y):
    cdef tdl_conv2d_shape s = _conv_shape(x.shape, w.shape, strides, pads,
                                          (y.shape[1], y.shape[2]))
    cdef const floating *bias_ptr = _optional_vector(bias)
    cdef int status
    with nogil:
        if floating is float:
            status = tdl_conv2d_f32_forward(&s, &x[0, 0, 0, 0], &w[0, 0, 0, 0], bias_ptr,
                                            relu, &y[0, 0, 0, 0])
        else:
            status = tdl_conv2d_f64_forward(&s, &x[0, 0, 0, 0], &w[0, 0, 0, 0], bias_ptr,
                                            relu, &y[0, 0, 0, 0])
    _check(status)


def conv2d_max_pool_forward(const floating[:, :, :, ::1] x, const floating[:, :, :, ::1] w,
                            const floating[::1] bias, tuple strides, tuple pads, bint relu,
                            tuple pool, tuple conv_out_hw, floating[:, :, :, ::1] p,
                            int32_t[:, :, :, ::1] argmax):
    cdef tdl_conv2d_shape s = _conv_shape(x.shape, w.shape, strides, pads, conv_out_hw)
    cdef tdl_index pkh = pool[0], pkw = pool[1]
    cdef const floating *bias_ptr = _optional_vector(bias)
    cdef int status
    with nogil:
        if floating is float:
            status = tdl_conv2d_f32_forward_max_pool(&s, &x[0, 0, 0, 0], &w[0, 0, 0, 0],
                                                     bias_ptr, relu, pkh, pkw, &p[0, 0, 0, 0],
                                                     &argmax[0, 0, 0, 0])
        else:
            status = tdl_conv2d_f64_forward_max_pool(&s, &x[0, 0, 0, 0], &w[0, 0, 0, 0],
                                                     bias_ptr, relu, pkh, pkw, &p[0, 0, 0, 0],
                                                     &argmax[0, 0, 0, 0])
    _check(status)


def conv2d_backward_input(const floating[:, :, :, ::1] dy, const floating[:, :, :, ::1] w,
                          tuple strides, tuple pads, const floating[:, :, :, ::1] relu_out,
                          const int32_t[:, :, :, ::1] pool_argmax, tuple pool_geometry,
                          tuple conv_out_hw, floating[:, :, :, ::1] dx):
    cdef tdl_conv2d_shape s = _conv_shape(dx.shape, w.shape, strides, pads, conv_out_hw)
    cdef tdl_conv2d_pool p
    cdef const tdl_conv2d_pool *pool_ptr = _conv_pool(&p, pool_argmax, pool_geometry)
    cdef const floating *relu_ptr = _optional(relu_out)
    cdef int status
    with nogil:
        if floating is float:
            status = tdl_conv2d_f32_backward_input(&s, &dy[0, 0, 0, 0], &w[0, 0, 0, 0],
                                                   relu_ptr, pool_ptr, &dx[0, 0, 0, 0])
        else:
            status = tdl_conv2d_f64_backward_input(&s, &dy[0, 0, 0, 0], &w[0, 0, 0, 0],
                                                   relu_ptr, pool_ptr, &dx[0, 0, 0, 0])
    _check(status)


def conv2d_backward_kernel(const floating[:, :, :, ::1] dy, const floating[:, :, :, ::1] x,
                           tuple strides, tuple pads, const floating[:, :, :, ::1] relu_out,
                           const int32_t[:, :, :, ::1] pool_argmax, tuple pool_geometry,
                           tuple conv_out_hw, floating[:, :, :, ::1] dw, floating[::1] db):
    cdef tdl_conv2d_shape s = _conv_shape(x.shape, dw.shape, strides, pads, conv_out_hw)
    cdef tdl_conv2d_pool p
    cdef const tdl_conv2d_pool *pool_ptr = _conv_pool(&p, pool_argmax, pool_geometry)
    cdef const floating *relu_ptr = _optional(relu_out)
    cdef floating *db_ptr = NULL
    cdef int status
    if db is not None:
        db_ptr = &db[0]
    with nogil:
        if floating is float:
            status = tdl_conv2d_f32_backward_kernel(&s, &dy[0, 0, 0, 0], &x[0, 0, 0, 0],
                                                    relu_ptr, pool_ptr, &dw[0, 0, 0, 0], db_ptr)
        else:
            status = tdl_conv2d_f64_backward_kernel(&s, &dy[0, 0, 0, 0], &x[0, 0, 0, 0],
                                                    relu_ptr, pool_ptr, &dw[0, 0, 0, 0], db_ptr)
    _check(status)


# ----------------------------------------------------------------------------- pooling

cdef tdl_pool_shape _pool_shape(Py_ssize_t *x_shape, tuple pool, tuple strides, tuple pads,
                                Py_ssize_t *y_shape):
    """The C shape record from x (N, H, W, C) and y (N, OH, OW, C) shapes."""
    cdef tdl_pool_shape s
    s.n, s.h, s.w, s.c = x_shape[0], x_shape[1], x_shape[2], x_shape[3]
    s.kh, s.kw = pool
    s.sh, s.sw = strides
    s.top, s.left = pads[0], pads[2]
    s.oh, s.ow = y_shape[1], y_shape[2]
    return s


def max_pool2d_forward(const floating[:, :, :, ::1] x, tuple pool, tuple strides, tuple pads,
                       floating[:, :, :, ::1] y, int32_t[:, :, :, ::1] argmax):
    cdef tdl_pool_shape s = _pool_shape(x.shape, pool, strides, pads, y.shape)
    with nogil:
        if floating is float:
            tdl_pool_f32_max_forward(&s, &x[0, 0, 0, 0], &y[0, 0, 0, 0], &argmax[0, 0, 0, 0])
        else:
            tdl_pool_f64_max_forward(&s, &x[0, 0, 0, 0], &y[0, 0, 0, 0], &argmax[0, 0, 0, 0])


def max_pool2d_backward(const floating[:, :, :, ::1] dy, const int32_t[:, :, :, ::1] argmax,
                        floating[:, :, :, ::1] dx):
    cdef tdl_pool_shape s = _pool_shape(dx.shape, (1, 1), (1, 1), (0, 0, 0, 0), dy.shape)
    with nogil:
        if floating is float:
            tdl_pool_f32_max_backward(&s, &dy[0, 0, 0, 0], &argmax[0, 0, 0, 0],
                                      &dx[0, 0, 0, 0])
        else:
            tdl_pool_f64_max_backward(&s, &dy[0, 0, 0, 0], &argmax[0, 0, 0, 0],
                                      &dx[0, 0, 0, 0])


def avg_pool2d_forward(const floating[:, :, :, ::1] x, tuple pool, tuple strides, tuple pads,
                       floating[:, :, :, ::1] y):
    cdef tdl_pool_shape s = _pool_shape(x.shape, pool, strides, pads, y.shape)
    with nogil:
        if floating is float:
            tdl_pool_f32_avg_forward(&s, &x[0, 0, 0, 0], &y[0, 0, 0, 0])
        else:
            tdl_pool_f64_avg_forward(&s, &x[0, 0, 0, 0], &y[0, 0, 0, 0])


def avg_pool2d_backward(const floating[:, :, :, ::1] dy, tuple pool, tuple strides,
                        tuple pads, floating[:, :, :, ::1] dx):
    cdef tdl_pool_shape s = _pool_shape(dx.shape, pool, strides, pads, dy.shape)
    with nogil:
        if floating is float:
            tdl_pool_f32_avg_backward(&s, &dy[0, 0, 0, 0], &dx[0, 0, 0, 0])
        else:
            tdl_pool_f64_avg_backward(&s, &dy[0, 0, 0, 0], &dx[0, 0, 0, 0])


# ----------------------------------------------------------------------------- softmax xent

def softmax_xent_forward(const floating[:, ::1] logits, const int64_t[::1] labels,
                         floating[::1] losses, floating[:, ::1] probs):
    with nogil:
        if floating is float:
            tdl_softmax_xent_f32_forward(&logits[0, 0], &labels[0], logits.shape[0],
                                         logits.shape[1], &losses[0], &probs[0, 0])
        else:
            tdl_softmax_xent_f64_forward(&logits[0, 0], &labels[0], logits.shape[0],
                                         logits.shape[1], &losses[0], &probs[0, 0])


def softmax_xent_backward(const floating[:, ::1] probs, const int64_t[::1] labels,
                          double scale, floating[:, ::1] grad):
    with nogil:
        if floating is float:
            tdl_softmax_xent_f32_backward(&probs[0, 0], &labels[0], probs.shape[0],
                                          probs.shape[1], <float>scale, &grad[0, 0])
        else:
            tdl_softmax_xent_f64_backward(&probs[0, 0], &labels[0], probs.shape[0],
                                          probs.shape[1], scale, &grad[0, 0])


# ----------------------------------------------------------------------------- relu

def relu_forward(const floating[::1] x, floating[::1] out):
    with nogil:
        if floating is float:
            tdl_relu_f32_forward(&x[0], &out[0], x.shape[0])
        else:
            tdl_relu_f64_forward(&x[0], &out[0], x.shape[0])


def relu_backward(const floating[::1] y, const floating[::1] dy, floating[::1] dx):
    with nogil:
        if floating is float:
            tdl_relu_f32_backward(&y[0], &dy[0], &dx[0], y.shape[0])
        else:
            tdl_relu_f64_backward(&y[0], &dy[0], &dx[0], y.shape[0])


def dropout(const floating[::1] x, floating[::1] out, uint64_t key, uint64_t threshold,
            double scale):
    with nogil:
        if floating is float:
            tdl_dropout_f32(&x[0], &out[0], x.shape[0], key, threshold, <float>scale)
        else:
            tdl_dropout_f64(&x[0], &out[0], x.shape[0], key, threshold, scale)


def global_pool(const floating[:, :, ::1] x, floating[:, ::1] y, bint use_max):
    with nogil:
        if floating is float:
            if use_max:
                tdl_global_pool_f32_max_forward(&x[0, 0, 0], x.shape[0], x.shape[1],
                                                x.shape[2], &y[0, 0])
            else:
                tdl_global_pool_f32_avg_forward(&x[0, 0, 0], x.shape[0], x.shape[1],
                                                x.shape[2], &y[0, 0])
        elif use_max:
            tdl_global_pool_f64_max_forward(&x[0, 0, 0], x.shape[0], x.shape[1], x.shape[2],
                                            &y[0, 0])
        else:
            tdl_global_pool_f64_avg_forward(&x[0, 0, 0], x.shape[0], x.shape[1], x.shape[2],
                                            &y[0, 0])


def global_avg_pool_backward(const floating[:, ::1] dy, floating[:, :, ::1] dx):
    with nogil:
        if floating is float:
            tdl_global_pool_f32_avg_backward(&dy[0, 0], dx.shape[0], dx.shape[1], dx.shape[2],
                                             &dx[0, 0, 0])
        else:
            tdl_global_pool_f64_avg_backward(&dy[0, 0], dx.shape[0], dx.shape[1], dx.shape[2],
                                             &dx[0, 0, 0])


def global_max_pool_backward(const floating[:, :, ::1] x, const floating[:, ::1] y,
                             const floating[:, ::1] dy, floating[:, :, ::1] dx):
    cdef int status
    with nogil:
        if floating is float:
            status = tdl_global_pool_f32_max_backward(&x[0, 0, 0], &y[0, 0], &dy[0, 0],
                                                      x.shape[0], x.shape[1], x.shape[2],
                                                      &dx[0, 0, 0])
        else:
            status = tdl_global_pool_f64_max_backward(&x[0, 0, 0], &y[0, 0], &dy[0, 0],
                                                      x.shape[0], x.shape[1], x.shape[2],
                                                      &dx[0, 0, 0])
    _check(status)


def add_relu(const floating[::1] a, const floating[::1] b, floating[::1] out):
    with nogil:
        if floating is float:
            tdl_add_relu_f32(&a[0], &b[0], &out[0], a.shape[0])
        else:
            tdl_add_relu_f64(&a[0], &b[0], &out[0], a.shape[0])


# ----------------------------------------------------------------------------- optimizers

cdef extern from "optim.h":
    void tdl_optim_f32_adam_update(float *w, const float *g, float *m, float *v, float *v_hat,
                                   tdl_index n, float alpha, float one_minus_beta_1,
                                   float one_minus_beta_2, float epsilon) nogil


def adam_update_f32(float[::1] w, const float[::1] g, float[::1] m, float[::1] v,
                    float[::1] v_hat, float alpha, float one_minus_beta_1,
                    float one_minus_beta_2, float epsilon):
    cdef float *v_hat_ptr = NULL
    if v_hat is not None:
        v_hat_ptr = &v_hat[0]
    with nogil:
        tdl_optim_f32_adam_update(&w[0], &g[0], &m[0], &v[0], v_hat_ptr, w.shape[0], alpha,
                                  one_minus_beta_1, one_minus_beta_2, epsilon)


# ----------------------------------------------------------------------------- embedding

cdef extern from "embedding.h":
    void tdl_embedding_f32_gather(const float *table, const int64_t *ids, tdl_index m,
                                  tdl_index d, float *out) nogil
    void tdl_embedding_f64_gather(const double *table, const int64_t *ids, tdl_index m,
                                  tdl_index d, double *out) nogil
    void tdl_embedding_f32_scatter_add(const int64_t *ids, const float *dy, tdl_index m,
                                       tdl_index d, float *dw) nogil
    void tdl_embedding_f64_scatter_add(const int64_t *ids, const double *dy, tdl_index m,
                                       tdl_index d, double *dw) nogil


def embedding_forward(const floating[:, ::1] table, const int64_t[::1] ids, floating[:, ::1] out):
    with nogil:
        if floating is float:
            tdl_embedding_f32_gather(&table[0, 0], &ids[0], out.shape[0], out.shape[1],
                                     &out[0, 0])
        else:
            tdl_embedding_f64_gather(&table[0, 0], &ids[0], out.shape[0], out.shape[1],
                                     &out[0, 0])


def embedding_backward(const int64_t[::1] ids, const floating[:, ::1] dy, floating[:, ::1] dw):
    with nogil:
        if floating is float:
            tdl_embedding_f32_scatter_add(&ids[0], &dy[0, 0], dy.shape[0], dy.shape[1],
                                          &dw[0, 0])
        else:
            tdl_embedding_f64_scatter_add(&ids[0], &dy[0, 0], dy.shape[0], dy.shape[1],
                                          &dw[0, 0])


# ----------------------------------------------------------------------------- recurrent
# Time-major (T, N, ...) arrays; masks arrive as uint8 views of bool (T, N) arrays, or None.

cdef extern from "rnn.h":
    ctypedef struct tdl_rnn_shape:
        tdl_index t, n, u
    int tdl_rnn_f32_simple_forward(const tdl_rnn_shape *s, const float *xw, const float *rk,
                                   const float *h0, const uint8_t *mask, float *hs) nogil
    int tdl_rnn_f64_simple_forward(const tdl_rnn_shape *s, const double *xw, const double *rk,
                                   const double *h0, const uint8_t *mask, double *hs) nogil
    int tdl_rnn_f32_simple_backward(const tdl_rnn_shape *s, const float *dhs, const float *rk,
                                    const float *h0, const float *hs, const uint8_t *mask,
                                    float *dxw, float *dh0) nogil
    int tdl_rnn_f64_simple_backward(const tdl_rnn_shape *s, const double *dhs,
                                    const double *rk, const double *h0, const double *hs,
                                    const uint8_t *mask, double *dxw, double *dh0) nogil
    int tdl_rnn_f32_lstm_forward(const tdl_rnn_shape *s, const float *xw, const float *rk,
                                 const float *h0, const float *c0, const uint8_t *mask,
                                 float *states, float *gates) nogil
    int tdl_rnn_f64_lstm_forward(const tdl_rnn_shape *s, const double *xw, const double *rk,
                                 const double *h0, const double *c0, const uint8_t *mask,
                                 double *states, double *gates) nogil
    int tdl_rnn_f32_lstm_forward_x(const tdl_rnn_shape *s, tdl_index d, int batch_major,
                                   int last_only, const float *x, const float *w, const float *bias,
                                   const float *h0, const float *c0, const uint8_t *mask,
                                   float *states, float *gates, float *stack) nogil
    int tdl_rnn_f64_lstm_forward_x(const tdl_rnn_shape *s, tdl_index d, int batch_major,
                                   int last_only, const double *x, const double *w, const double *bias,
                                   const double *h0, const double *c0, const uint8_t *mask,
                                   double *states, double *gates, double *stack) nogil
    int tdl_rnn_f32_lstm_backward(const tdl_rnn_shape *s, const float *dstates,
                                  tdl_index dsteps, const float *rk, const float *h0,
                                  const float *c0, const float *states, const float *gates,
                                  const uint8_t *mask, float *dz, float *dh0,
                                  float *dc0) nogil
    int tdl_rnn_f64_lstm_backward(const tdl_rnn_shape *s, const double *dstates,
                                  tdl_index dsteps, const double *rk, const double *h0,
                                  const double *c0, const double *states, const double *gates,
                                  const uint8_t *mask, double *dz, double *dh0,
                                  double *dc0) nogil
    int tdl_rnn_f32_lstm_backward_x(const tdl_rnn_shape *s, tdl_index d, int batch_major,
                                    const float *dstates, tdl_index dsteps, const float *wt,
                                    const float *c0, const float *states, const float *gates,
                                    const uint8_t *mask, float *dz, float *dx, float *dh0,
                                    float *dc0) nogil
    int tdl_rnn_f64_lstm_backward_x(const tdl_rnn_shape *s, tdl_index d, int batch_major,
                                    const double *dstates, tdl_index dsteps, const double *wt,
                                    const double *c0, const double *states,
                                    const double *gates, const uint8_t *mask, double *dz,
                                    double *dx, double *dh0, double *dc0) nogil
    int tdl_rnn_f32_gru_forward(const tdl_rnn_shape *s, const float *xw, const float *rk,
                                const float *rb, const float *h0, const uint8_t *mask,
                                float *hs, float *gates) nogil
    int tdl_rnn_f64_gru_forward(const tdl_rnn_shape *s, const double *xw, const double *rk,
                                const double *rb, const double *h0, const uint8_t *mask,
                                double *hs, double *gates) nogil
    int tdl_rnn_f32_gru_backward(const tdl_rnn_shape *s, const float *dhs, const float *rk,
                                 const float *h0, const float *hs, const float *gates,
                                 const uint8_t *mask, float *dxw, float *dinner,
                                 float *dh0) nogil
    int tdl_rnn_f64_gru_backward(const tdl_rnn_shape *s, const double *dhs, const double *rk,
                                 const double *h0, const double *hs, const double *gates,
                                 const uint8_t *mask, double *dxw, double *dinner,
                                 double *dh0) nogil


cdef tdl_rnn_shape _rnn_shape(Py_ssize_t t, Py_ssize_t n, Py_ssize_t u):
    cdef tdl_rnn_shape s
    s.t, s.n, s.u = t, n, u
    return s


cdef const uint8_t *_optional_mask(const uint8_t[:, ::1] mask):
    """The mask's first byte, or NULL for None (no mask)."""
    if mask is None:
        return NULL
    return &mask[0, 0]


def simple_rnn_forward(const floating[:, :, ::1] xw, const floating[:, ::1] rk,
                       const floating[:, ::1] h0, const uint8_t[:, ::1] mask,
                       floating[:, :, ::1] hs):
    cdef tdl_rnn_shape s = _rnn_shape(xw.shape[0], xw.shape[1], rk.shape[0])
    cdef const uint8_t *m = _optional_mask(mask)
    cdef int status
    with nogil:
        if floating is float:
            status = tdl_rnn_f32_simple_forward(&s, &xw[0, 0, 0], &rk[0, 0], &h0[0, 0], m,
                                                &hs[0, 0, 0])
        else:
            status = tdl_rnn_f64_simple_forward(&s, &xw[0, 0, 0], &rk[0, 0], &h0[0, 0], m,
                                                &hs[0, 0, 0])
    _check(status)


def simple_rnn_backward(const floating[:, :, ::1] dhs, const floating[:, ::1] rk,
                        const floating[:, ::1] h0, const floating[:, :, ::1] hs,
                        const uint8_t[:, ::1] mask, floating[:, :, ::1] dxw,
                        floating[:, ::1] dh0):
    cdef tdl_rnn_shape s = _rnn_shape(dhs.shape[0], dhs.shape[1], rk.shape[0])
    cdef const uint8_t *m = _optional_mask(mask)
    cdef int status
    with nogil:
        if floating is float:
            status = tdl_rnn_f32_simple_backward(&s, &dhs[0, 0, 0], &rk[0, 0], &h0[0, 0],
                                                 &hs[0, 0, 0], m, &dxw[0, 0, 0], &dh0[0, 0])
        else:
            status = tdl_rnn_f64_simple_backward(&s, &dhs[0, 0, 0], &rk[0, 0], &h0[0, 0],
                                                 &hs[0, 0, 0], m, &dxw[0, 0, 0], &dh0[0, 0])
    _check(status)


def lstm_forward(const floating[:, :, ::1] xw, const floating[:, ::1] rk,
                 const floating[:, ::1] h0, const floating[:, ::1] c0,
                 const uint8_t[:, ::1] mask, floating[:, :, ::1] states,
                 floating[:, :, ::1] gates):
    cdef tdl_rnn_shape s = _rnn_shape(xw.shape[0], xw.shape[1], rk.shape[0])
    cdef const uint8_t *m = _optional_mask(mask)
    cdef int status
    with nogil:
        if floating is float:
            status = tdl_rnn_f32_lstm_forward(&s, &xw[0, 0, 0], &rk[0, 0], &h0[0, 0],
                                              &c0[0, 0], m, &states[0, 0, 0], &gates[0, 0, 0])
        else:
            status = tdl_rnn_f64_lstm_forward(&s, &xw[0, 0, 0], &rk[0, 0], &h0[0, 0],
                                              &c0[0, 0], m, &states[0, 0, 0], &gates[0, 0, 0])
    _check(status)


def lstm_forward_x(const floating[:, :, ::1] x, bint batch_major, const floating[:, ::1] w,
                   const floating[::1] bias, const floating[:, ::1] h0,
                   const floating[:, ::1] c0, const uint8_t[:, ::1] mask,
                   floating[:, :, ::1] states, floating[:, :, ::1] gates,
                   floating[:, ::1] stack):
    """x (T, N, D), or (N, T, D) when batch_major; w (D + U, 4U) = [kernel; rk]; bias (4U,)
    or None; gates None: last_only, states a ring of min(T, 2) steps; stack (T*N, D + U + 1)
    or None (rnn.h)."""
    cdef Py_ssize_t t_steps = x.shape[1] if batch_major else x.shape[0]
    cdef tdl_rnn_shape s = _rnn_shape(t_steps, states.shape[1], h0.shape[1])
    cdef const uint8_t *m = _optional_mask(mask)
    cdef const floating *b = NULL if bias is None else &bias[0]
    cdef floating *g = NULL if gates is None else &gates[0, 0, 0]
    cdef floating *st = NULL if stack is None else &stack[0, 0]
    cdef tdl_index d = x.shape[2]
    cdef int last_only = gates is None
    cdef int status
    with nogil:
        if floating is float:
            status = tdl_rnn_f32_lstm_forward_x(&s, d, batch_major, last_only, &x[0, 0, 0],
                                                &w[0, 0], b, &h0[0, 0], &c0[0, 0], m,
                                                &states[0, 0, 0], g, st)
        else:
            status = tdl_rnn_f64_lstm_forward_x(&s, d, batch_major, last_only, &x[0, 0, 0],
                                                &w[0, 0], b, &h0[0, 0], &c0[0, 0], m,
                                                &states[0, 0, 0], g, st)
    _check(status)


def lstm_backward(const floating[:, :, ::1] dstates, const floating[:, ::1] rk,
                  const floating[:, ::1] h0, const floating[:, ::1] c0,
                  const floating[:, :, ::1] states, const floating[:, :, ::1] gates,
                  const uint8_t[:, ::1] mask, floating[:, :, ::1] dz, floating[:, ::1] dh0,
                  floating[:, ::1] dc0):
    cdef tdl_rnn_shape s = _rnn_shape(gates.shape[0], gates.shape[1], rk.shape[0])
    cdef const uint8_t *m = _optional_mask(mask)
    cdef int status
    with nogil:
        if floating is float:
            status = tdl_rnn_f32_lstm_backward(&s, &dstates[0, 0, 0], dstates.shape[0],
                                               &rk[0, 0], &h0[0, 0],
                                               &c0[0, 0], &states[0, 0, 0], &gates[0, 0, 0], m,
                                               &dz[0, 0, 0], &dh0[0, 0], &dc0[0, 0])
        else:
            status = tdl_rnn_f64_lstm_backward(&s, &dstates[0, 0, 0], dstates.shape[0],
                                               &rk[0, 0], &h0[0, 0],
                                               &c0[0, 0], &states[0, 0, 0], &gates[0, 0, 0], m,
                                               &dz[0, 0, 0], &dh0[0, 0], &dc0[0, 0])
    _check(status)


def lstm_backward_x(const floating[:, :, ::1] dstates, const floating[:, ::1] wt,
                    const floating[:, ::1] c0, const floating[:, :, ::1] states,
                    const floating[:, :, ::1] gates, const uint8_t[:, ::1] mask,
                    bint batch_major, floating[:, :, ::1] dz, floating[:, :, ::1] dx,
                    floating[:, ::1] dh0, floating[:, ::1] dc0):
    """wt (4U, D + U) = [kernel^T | rk^T]; dx (T, N, D), or (N, T, D) when batch_major."""
    cdef tdl_rnn_shape s = _rnn_shape(gates.shape[0], gates.shape[1], c0.shape[1])
    cdef const uint8_t *m = _optional_mask(mask)
    cdef tdl_index d = dx.shape[2]
    cdef int status
    with nogil:
        if floating is float:
            status = tdl_rnn_f32_lstm_backward_x(&s, d, batch_major, &dstates[0, 0, 0],
                                                 dstates.shape[0], &wt[0, 0], &c0[0, 0],
                                                 &states[0, 0, 0], &gates[0, 0, 0], m,
                                                 &dz[0, 0, 0], &dx[0, 0, 0], &dh0[0, 0],
                                                 &dc0[0, 0])
        else:
            status = tdl_rnn_f64_lstm_backward_x(&s, d, batch_major, &dstates[0, 0, 0],
                                                 dstates.shape[0], &wt[0, 0], &c0[0, 0],
                                                 &states[0, 0, 0], &gates[0, 0, 0], m,
                                                 &dz[0, 0, 0], &dx[0, 0, 0], &dh0[0, 0],
                                                 &dc0[0, 0])
    _check(status)


def gru_forward(const floating[:, :, ::1] xw, const floating[:, ::1] rk,
                const floating[::1] rb, const floating[:, ::1] h0, const uint8_t[:, ::1] mask,
                floating[:, :, ::1] hs, floating[:, :, ::1] gates):
    cdef tdl_rnn_shape s = _rnn_shape(xw.shape[0], xw.shape[1], rk.shape[0])
    cdef const uint8_t *m = _optional_mask(mask)
    cdef int status
    with nogil:
        if floating is float:
            status = tdl_rnn_f32_gru_forward(&s, &xw[0, 0, 0], &rk[0, 0], &rb[0], &h0[0, 0], m,
                                             &hs[0, 0, 0], &gates[0, 0, 0])
        else:
            status = tdl_rnn_f64_gru_forward(&s, &xw[0, 0, 0], &rk[0, 0], &rb[0], &h0[0, 0], m,
                                             &hs[0, 0, 0], &gates[0, 0, 0])
    _check(status)


def gru_backward(const floating[:, :, ::1] dhs, const floating[:, ::1] rk,
                 const floating[:, ::1] h0, const floating[:, :, ::1] hs,
                 const floating[:, :, ::1] gates, const uint8_t[:, ::1] mask,
                 floating[:, :, ::1] dxw, floating[:, :, ::1] dinner, floating[:, ::1] dh0):
    cdef tdl_rnn_shape s = _rnn_shape(dhs.shape[0], dhs.shape[1], rk.shape[0])
    cdef const uint8_t *m = _optional_mask(mask)
    cdef int status
    with nogil:
        if floating is float:
            status = tdl_rnn_f32_gru_backward(&s, &dhs[0, 0, 0], &rk[0, 0], &h0[0, 0],
                                              &hs[0, 0, 0], &gates[0, 0, 0], m, &dxw[0, 0, 0],
                                              &dinner[0, 0, 0], &dh0[0, 0])
        else:
            status = tdl_rnn_f64_gru_backward(&s, &dhs[0, 0, 0], &rk[0, 0], &h0[0, 0],
                                              &hs[0, 0, 0], &gates[0, 0, 0], m, &dxw[0, 0, 0],
                                              &dinner[0, 0, 0], &dh0[0, 0])
    _check(status)


# ----------------------------------------------------------------------------- batch norm

cdef const floating *_optional_matrix(const floating[:, ::1] a):
    """The first element's address, or NULL for None (an optional 2-d argument)."""
    if a is None:
        return NULL
    return &a[0, 0]


def batchnorm_forward(const floating[:, ::1] x, const floating[::1] gamma,
                      const floating[::1] beta, double epsilon, bint relu, floating[:, ::1] y,
                      floating[::1] mean, floating[::1] var):
    cdef const floating *gamma_ptr = _optional_vector(gamma)
    cdef const floating *beta_ptr = _optional_vector(beta)
    cdef int status
    with nogil:
        if floating is float:
            status = tdl_batchnorm_f32_forward(&x[0, 0], x.shape[0], x.shape[1], gamma_ptr,
                                               beta_ptr, epsilon, relu, &y[0, 0], &mean[0],
                                               &var[0])
        else:
            status = tdl_batchnorm_f64_forward(&x[0, 0], x.shape[0], x.shape[1], gamma_ptr,
                                               beta_ptr, epsilon, relu, &y[0, 0], &mean[0],
                                               &var[0])
    _check(status)


def batchnorm_backward(const floating[:, ::1] dy, const floating[:, ::1] x,
                       const floating[:, ::1] y, const floating[::1] mean,
                       const floating[::1] var, const floating[::1] gamma, double epsilon,
                       floating[:, ::1] dx, floating[::1] dgamma, floating[::1] dbeta):
    cdef const floating *y_ptr = _optional_matrix(y)
    cdef const floating *gamma_ptr = _optional_vector(gamma)
    cdef int status
    with nogil:
        if floating is float:
            status = tdl_batchnorm_f32_backward(&dy[0, 0], &x[0, 0], y_ptr, x.shape[0],
                                                x.shape[1], &mean[0], &var[0], gamma_ptr,
                                                epsilon, &dx[0, 0], &dgamma[0], &dbeta[0])
        else:
            status = tdl_batchnorm_f64_backward(&dy[0, 0], &x[0, 0], y_ptr, x.shape[0],
                                                x.shape[1], &mean[0], &var[0], gamma_ptr,
                                                epsilon, &dx[0, 0], &dgamma[0], &dbeta[0])
    _check(status)


# ----------------------------------------------------------------------------- depthwise conv2d
# NHWC arrays; strides (sh, sw) and the top and left padding (pt, pl) as ints (depthwise.h).

cdef extern from "depthwise.h":
    ctypedef struct tdl_depthwise_shape:
        tdl_index n, h, w, c, m, kh, kw, sh, sw, pad_top, pad_left, oh, ow
    void tdl_depthwise_f32_forward(const tdl_depthwise_shape *s, const float *x,
                                   const float *w, float *y) nogil
    void tdl_depthwise_f64_forward(const tdl_depthwise_shape *s, const double *x,
                                   const double *w, double *y) nogil
    void tdl_depthwise_f32_backward_input(const tdl_depthwise_shape *s, const float *dy,
                                          const float *w, float *dx) nogil
    void tdl_depthwise_f64_backward_input(const tdl_depthwise_shape *s, const double *dy,
                                          const double *w, double *dx) nogil
    void tdl_depthwise_f32_backward_kernel(const tdl_depthwise_shape *s, const float *dy,
                                           const float *x, float *dw) nogil
    void tdl_depthwise_f64_backward_kernel(const tdl_depthwise_shape *s, const double *dy,
                                           const double *x, double *dw) nogil


cdef tdl_depthwise_shape _depthwise_shape(Py_ssize_t *x_shape, Py_ssize_t *w_shape,
                                          Py_ssize_t *out_shape, tuple strides,
                                          tuple pads_top_left):
    """x_shape (N, H, W, C), w_shape (KH, KW, C, M), out_shape (N, OH, OW, C*M)."""
    cdef tdl_depthwise_shape s
    s.n, s.h, s.w, s.c = x_shape[0], x_shape[1], x_shape[2], x_shape[3]
    s.kh, s.kw, s.m = w_shape[0], w_shape[1], w_shape[3]
    s.oh, s.ow = out_shape[1], out_shape[2]
    s.sh, s.sw = strides
    s.pad_top, s.pad_left = pads_top_left
    return s


def depthwise_forward(const floating[:, :, :, ::1] x, const floating[:, :, :, ::1] w,
                      floating[:, :, :, ::1] y, tuple strides, tuple pads_top_left):
    cdef tdl_depthwise_shape s = _depthwise_shape(x.shape, w.shape, y.shape, strides,
                                                  pads_top_left)
    with nogil:
        if floating is float:
            tdl_depthwise_f32_forward(&s, &x[0, 0, 0, 0], &w[0, 0, 0, 0], &y[0, 0, 0, 0])
        else:
            tdl_depthwise_f64_forward(&s, &x[0, 0, 0, 0], &w[0, 0, 0, 0], &y[0, 0, 0, 0])


def depthwise_backward_input(const floating[:, :, :, ::1] dy, const floating[:, :, :, ::1] w,
                             floating[:, :, :, ::1] dx, tuple strides, tuple pads_top_left):
    cdef tdl_depthwise_shape s = _depthwise_shape(dx.shape, w.shape, dy.shape, strides,
                                                  pads_top_left)
    with nogil:
        if floating is float:
            tdl_depthwise_f32_backward_input(&s, &dy[0, 0, 0, 0], &w[0, 0, 0, 0],
                                             &dx[0, 0, 0, 0])
        else:
            tdl_depthwise_f64_backward_input(&s, &dy[0, 0, 0, 0], &w[0, 0, 0, 0],
                                             &dx[0, 0, 0, 0])


def depthwise_backward_kernel(const floating[:, :, :, ::1] dy, const floating[:, :, :, ::1] x,
                              floating[:, :, :, ::1] dw, tuple strides, tuple pads_top_left):
    cdef tdl_depthwise_shape s = _depthwise_shape(x.shape, dw.shape, dy.shape, strides,
                                                  pads_top_left)
    with nogil:
        if floating is float:
            tdl_depthwise_f32_backward_kernel(&s, &dy[0, 0, 0, 0], &x[0, 0, 0, 0],
                                              &dw[0, 0, 0, 0])
        else:
            tdl_depthwise_f64_backward_kernel(&s, &dy[0, 0, 0, 0], &x[0, 0, 0, 0],
                                              &dw[0, 0, 0, 0])
