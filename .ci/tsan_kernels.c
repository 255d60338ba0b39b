/* tsan_kernels.c: every threaded kernel of csrc/, run for ThreadSanitizer by .ci/sanitize.
 *
 * Built with clang -fsanitize=thread -fopenmp against LLVM's libomp, and run with its Archer
 * tool (libarcher.so), which tells TSan about OpenMP's barriers and task ends; GCC's libgomp
 * is not instrumented, so with it TSan reports the runtime's own synchronisation as races.
 * No Python: the interpreter is not instrumented either.
 *
 * What it runs, each with problems above the kernels' serial thresholds (so 2 threads really
 * share the work): GEMM (rows split, columns split, split-K; every transpose; bias + ReLU
 * epilogue), the convolution forward (im2col, pointwise, Winograd), the pooled forward
 * (im2col bands, Winograd 2x2, Winograd then a 3x3 pool), both gradients (plain, with the
 * fused ReLU, through the fused pool, and the covered-pixels path), max and average pooling
 * both ways, softmax cross-entropy both ways, ReLU both ways, Adam, the recurrent time loops
 * (SimpleRNN, LSTM, GRU, with a mask, both ways) and the embedding's scatter-add; float and
 * double;
 * under every micro-kernel this CPU runs and both convolution algorithms. Before that, the
 * same work from two OS threads at once (the first calls into the library, so the one-time
 * set-ups race too) while a third changes the process-wide thread count.
 *
 * Usage: tsan_kernels [--race]. --race runs a deliberate data race instead (an unguarded
 * sum over an OpenMP loop): .ci/sanitize checks that TSan reports it, so a clean run means
 * the tool was watching. Exit status 0 when every kernel ran; TSan sets its own on a report.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conv2d.h"
#include "elementwise.h"
#include "embedding.h"
#include "gemm.h"
#include "optim.h"
#include "pool.h"
#include "rnn.h"
#include "softmax_xent.h"

/* Deterministic values in [-1, 1) (a linear congruential generator). */
static void fill_f32(float *a, tdl_index n, unsigned seed)
{
    for (tdl_index i = 0; i < n; i++) {
        seed = seed * 1664525u + 1013904223u;
        a[i] = (float)(seed >> 8) / (float)(1u << 23) - 1.0f;
    }
}

static float *new_f32(tdl_index n, unsigned seed)
{
    float *a = malloc(sizeof(float) * (size_t)n);
    if (!a) {
        fprintf(stderr, "tsan_kernels: out of memory\n");
        exit(2);
    }
    fill_f32(a, n, seed);
    return a;
}

static double *new_f64(tdl_index n, unsigned seed)
{
    float *tmp = new_f32(n, seed);
    double *a = malloc(sizeof(double) * (size_t)n);
    for (tdl_index i = 0; a && i < n; i++)
        a[i] = tmp[i];
    free(tmp);
    return a;
}

static void check(int status, const char *what)
{
    if (status != 0) {
        fprintf(stderr, "tsan_kernels: %s failed (status %d)\n", what, status);
        exit(2);
    }
}

static void run_gemm(void)
{
    const tdl_index shapes[][3] = {{256, 256, 256}, {12, 4096, 64}, {64, 64, 8192}};
    for (int s = 0; s < 3; s++) {
        tdl_index m = shapes[s][0], n = shapes[s][1], k = shapes[s][2];
        for (int t = 0; t < 4; t++) {
            int ta = t & 1, tb = t >> 1;
            float *a = new_f32(m * k, 1), *b = new_f32(k * n, 2), *c = new_f32(m * n, 3);
            float *bias = new_f32(n, 4);
            check(tdl_gemm_f32_compute(ta, tb, m, n, k, 1.0f, a, ta ? m : k, b, tb ? k : n, 0.5f,
                                       c, n, bias, 1), "gemm f32");
            free(a), free(b), free(c), free(bias);
            double *ad = new_f64(m * k, 1), *bd = new_f64(k * n, 2), *cd = new_f64(m * n, 3);
            check(tdl_gemm_f64_compute(ta, tb, m, n, k, 1.0, ad, ta ? m : k, bd, tb ? k : n, 0.0,
                                       cd, n, NULL, 0), "gemm f64");
            free(ad), free(bd), free(cd);
        }
    }
}

/* One convolution geometry through forward, pooled forward and both gradients (float). */
static void run_conv_f32(tdl_conv2d_shape s, tdl_index pool)
{
    const tdl_index xs = s.n * s.h * s.w * s.c, ws = s.kh * s.kw * s.c * s.f;
    const tdl_index ys = s.n * s.oh * s.ow * s.f;
    const tdl_index ph = s.oh / pool, pw = s.ow / pool, ps = s.n * ph * pw * s.f;
    float *x = new_f32(xs, 5), *w = new_f32(ws, 6), *bias = new_f32(s.f, 7);
    float *y = new_f32(ys, 0), *dy = new_f32(ys, 8), *dx = new_f32(xs, 0);
    float *dw = new_f32(ws, 0), *db = new_f32(s.f, 0);
    float *p = new_f32(ps, 0), *dp = new_f32(ps, 9);
    int32_t *argmax = malloc(sizeof(int32_t) * (size_t)ps);
    check(tdl_conv2d_f32_forward(&s, x, w, bias, 1, y), "conv forward");
    check(tdl_conv2d_f32_backward_input(&s, dy, w, NULL, NULL, dx), "conv input grad");
    check(tdl_conv2d_f32_backward_input(&s, dy, w, y, NULL, dx), "conv input grad, relu");
    check(tdl_conv2d_f32_backward_kernel(&s, dy, x, NULL, NULL, dw, db), "conv kernel grad");
    check(tdl_conv2d_f32_backward_kernel(&s, dy, x, y, NULL, dw, NULL), "conv kernel grad, relu");
    if (ph >= 1 && pw >= 1) {
        tdl_conv2d_pool route = {argmax, pool, pool, 0, 0, ph, pw};
        check(tdl_conv2d_f32_forward_max_pool(&s, x, w, bias, 1, pool, pool, p, argmax),
              "conv pooled forward");
        check(tdl_conv2d_f32_backward_input(&s, dp, w, p, &route, dx), "conv input grad, pool");
        check(tdl_conv2d_f32_backward_kernel(&s, dp, x, p, &route, dw, db),
              "conv kernel grad, pool");
    }
    free(x), free(w), free(bias), free(y), free(dy), free(dx), free(dw), free(db), free(p);
    free(dp), free(argmax);
}

static void run_conv_f64(tdl_conv2d_shape s)
{
    const tdl_index xs = s.n * s.h * s.w * s.c, ws = s.kh * s.kw * s.c * s.f;
    const tdl_index ys = s.n * s.oh * s.ow * s.f;
    double *x = new_f64(xs, 5), *w = new_f64(ws, 6), *y = new_f64(ys, 0), *dy = new_f64(ys, 8);
    double *dx = new_f64(xs, 0), *dw = new_f64(ws, 0), *db = new_f64(s.f, 0);
    check(tdl_conv2d_f64_forward(&s, x, w, NULL, 0, y), "conv forward f64");
    check(tdl_conv2d_f64_backward_input(&s, dy, w, NULL, NULL, dx), "conv input grad f64");
    check(tdl_conv2d_f64_backward_kernel(&s, dy, x, NULL, NULL, dw, db), "conv kernel grad f64");
    free(x), free(w), free(y), free(dy), free(dx), free(dw), free(db);
}

static void run_conv(void)
{
    /* n, h, w, c, kh, kw, f, sh, sw, top, left, oh, ow */
    const tdl_conv2d_shape shapes[] = {
        {4, 16, 16, 8, 3, 3, 16, 1, 1, 1, 1, 16, 16},   /* im2col (C < 16), 'same' */
        {4, 17, 17, 16, 3, 3, 16, 1, 1, 0, 0, 15, 15},  /* Winograd; a 2x2 pool leaves a row */
        {4, 16, 16, 64, 1, 1, 64, 1, 1, 0, 0, 16, 16},  /* pointwise: no im2col */
        {3, 20, 19, 8, 4, 2, 48, 2, 1, 1, 0, 10, 18},   /* non-square, strided */
    };
    for (int i = 0; i < 4; i++) {
        run_conv_f32(shapes[i], 2);
        run_conv_f32(shapes[i], 3);  /* Winograd's case: the forward, then the pool kernel */
        run_conv_f64(shapes[i]);
    }
}

static void run_pool_and_rest(void)
{
    tdl_pool_shape s = {8, 32, 32, 16, 3, 3, 2, 2, 1, 1, 16, 16};
    const tdl_index xs = 8 * 32 * 32 * 16, ys = 8 * 16 * 16 * 16;
    float *x = new_f32(xs, 10), *y = new_f32(ys, 0), *dy = new_f32(ys, 11), *dx = new_f32(xs, 0);
    int32_t *argmax = malloc(sizeof(int32_t) * (size_t)ys);
    tdl_pool_f32_max_forward(&s, x, y, argmax);
    tdl_pool_f32_max_backward(&s, dy, argmax, dx);
    tdl_pool_f32_avg_forward(&s, x, y);
    tdl_pool_f32_avg_backward(&s, dy, dx);
    const tdl_index n = 1024, k = 100;
    float *logits = new_f32(n * k, 12), *probs = new_f32(n * k, 0), *losses = new_f32(n, 0);
    int64_t *labels = malloc(sizeof(int64_t) * (size_t)n);
    for (tdl_index i = 0; i < n; i++)
        labels[i] = (i * 37) % k;
    tdl_softmax_xent_f32_forward(logits, labels, n, k, losses, probs);
    tdl_softmax_xent_f32_backward(probs, labels, n, k, 0.5f, logits);
    tdl_relu_f32_forward(x, dx, xs);
    tdl_relu_f32_backward(x, dx, dx, xs);
    float *m = new_f32(xs, 13), *v = new_f32(xs, 14);
    for (tdl_index i = 0; i < xs; i++)
        v[i] = v[i] * v[i];
    tdl_optim_f32_adam_update(x, dx, m, v, NULL, xs, 0.001f, 0.1f, 0.001f, 1e-7f);
    free(x), free(y), free(dy), free(dx), free(argmax), free(logits), free(probs), free(losses);
    free(labels), free(m), free(v);
}

/* The recurrent time loops (rows of a step in parallel) and the embedding's scatter-add. */
static void run_sequence(void)
{
    const tdl_rnn_shape s = {6, 64, 256};  /* T, N, U: 64 x 256 gate values per step */
    const tdl_index tn = s.t * s.n, nu = s.n * s.u, u = s.u;
    float *xw = new_f32(tn * 4 * u, 15), *rk = new_f32(u * 4 * u, 16), *h0 = new_f32(nu, 17);
    float *c0 = new_f32(nu, 18), *rb = new_f32(3 * u, 19), *dh0 = new_f32(nu, 0);
    float *dc0 = new_f32(nu, 0), *seq = new_f32(tn * 4 * u, 0), *gates = new_f32(tn * 4 * u, 0);
    float *dseq = new_f32(tn * 4 * u, 20), *dx = new_f32(tn * 4 * u, 0);
    float *dinner = new_f32(tn * 3 * u, 0);
    uint8_t *mask = malloc((size_t)tn);
    for (tdl_index i = 0; i < tn; i++)
        mask[i] = (uint8_t)(i % 7 != 3);
    check(tdl_rnn_f32_simple_forward(&s, xw, rk, h0, mask, seq), "simple rnn forward");
    check(tdl_rnn_f32_simple_backward(&s, dseq, rk, h0, seq, mask, dx, dh0), "simple rnn back");
    check(tdl_rnn_f32_lstm_forward(&s, xw, rk, h0, c0, mask, seq, gates), "lstm forward");
    check(tdl_rnn_f32_lstm_backward(&s, dseq, s.t, rk, h0, c0, seq, gates, mask, dx, dh0, dc0),
          "lstm backward");
    check(tdl_rnn_f32_gru_forward(&s, xw, rk, rb, h0, NULL, seq, gates), "gru forward");
    check(tdl_rnn_f32_gru_backward(&s, dseq, rk, h0, seq, gates, NULL, dx, dinner, dh0),
          "gru backward");
    const tdl_index m = 512, d = 300, v = 50;
    int64_t *ids = malloc(sizeof(int64_t) * (size_t)m);
    for (tdl_index i = 0; i < m; i++)
        ids[i] = (i * 13) % v;
    float *dw = new_f32(v * d, 0);
    tdl_embedding_f32_scatter_add(ids, dseq, m, d, dw);
    free(xw), free(rk), free(h0), free(c0), free(rb), free(dh0), free(dc0), free(seq);
    free(gates), free(dseq), free(dx), free(dinner), free(mask), free(ids), free(dw);
}

static void run_all(void)
{
    run_gemm();
    run_conv();
    run_pool_and_rest();
    run_sequence();
}

/* Two OS threads run every kernel at once while a third flips the process-wide count. */
static int flipping = 1;

static void *worker(void *arg)
{
    (void)arg;
    run_all();
    return NULL;
}

static void *flipper(void *arg)
{
    (void)arg;
    for (int i = 0; __atomic_load_n(&flipping, __ATOMIC_SEQ_CST); i++)
        tdl_threads_set(1 + (i & 1));
    return NULL;
}

static void run_concurrently(void)
{
    pthread_t a, b, f;
    pthread_create(&f, NULL, flipper, NULL);
    pthread_create(&a, NULL, worker, NULL);
    pthread_create(&b, NULL, worker, NULL);
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    __atomic_store_n(&flipping, 0, __ATOMIC_SEQ_CST);
    pthread_join(f, NULL);
}

/* The deliberate race of --race: every thread adds into one double, unguarded. */
static int run_race(void)
{
    double sum = 0;
#pragma omp parallel for num_threads(2) schedule(static)
    for (int i = 0; i < 100000; i++)
        sum += i;
    printf("tsan_kernels --race: sum %g\n", sum);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--race") == 0)
        return run_race();
    /* First, before anything has run: two OS threads make the first calls at once (the CPU
     * probe and the default thread count are set up by whichever comes first). */
    run_concurrently();
    printf("tsan_kernels: every kernel ran from 2 threads at once, thread count changing\n");
    const int kernels[] = {TDL_GEMM_AVX512, TDL_GEMM_AVX2, TDL_GEMM_GENERIC};
    const char *names[] = {"avx512", "avx2", "generic"};
    tdl_threads_set(2);
    for (int i = 0; i < 3; i++) {
        if (tdl_gemm_force_kernel(kernels[i]) != 0)
            continue;
        for (int algorithm = TDL_CONV_IM2COL; algorithm <= TDL_CONV_WINOGRAD; algorithm++) {
            tdl_conv2d_force_algorithm(algorithm);
            run_all();
            printf("tsan_kernels: %s, %s: every kernel ran on 2 threads\n", names[i],
                   algorithm == TDL_CONV_IM2COL ? "im2col" : "winograd");
        }
    }
    return 0;
}
