/* conv2d.c: convolution by tiled im2col + GEMM or by Winograd F(2x2, 3x3), float and double
 * (see conv2d.h).
 *
 * The kernels are written once in conv2d_impl.inc and instantiated here per dtype;
 * CONV(x) is tdl_conv2d_f32_x or tdl_conv2d_f64_x, GEMM(x) the matching GEMM entry.
 */
#include <string.h>
#include "conv2d.h"
#include "conv2d_direct.h"
#include "conv2d_wgrad_small.h"
#include "gemm.h"
#include "gemm_config.h"
#include "pool.h"

/* Target size of one thread's patch-matrix tile (it stays in L2 next to the packed panels). */
#define TDL_CONV_TILE_BYTES (192 * 1024)
/* Spare values at the end of a patch-matrix tile: im2col copies runs in blocks of 8. */
#define TDL_CONV_COPY_SLACK 8
/* Below this many multiply-adds a convolution runs on one thread. */
#define TDL_CONV_PARALLEL_MIN_WORK (1 << 20)

/* True when cols would be x itself: a 1x1 window, unit strides, no padding. */
static int is_pointwise(const tdl_conv2d_shape *s)
{
    return s->kh == 1 && s->kw == 1 && s->sh == 1 && s->sw == 1 && s->top == 0 && s->left == 0
           && s->oh == s->h && s->ow == s->w;
}

static int conv_threads(const tdl_conv2d_shape *s)
{
    double work = (double)s->n * s->oh * s->ow * s->kh * s->kw * s->c * s->f;
    return work < TDL_CONV_PARALLEL_MIN_WORK ? 1 : tdl_threads_get();
}

/* The tile loops (conv2d_tiles.inc) are compiled for the baseline ISA and, on x86-64 with
 * GCC or clang, also with AVX2 and AVX-512F target attributes. conv_isa() picks the copy
 * once per call: the same choice as the GEMM micro-kernel (tdl_gemm_kernel_id: the CPU's
 * best, or the one a test forced), so forcing a micro-kernel tests every path. */
#if defined(__x86_64__) && defined(__GNUC__)
#define TDL_CONV_HAVE_ISA_COPIES 1
#else
#define TDL_CONV_HAVE_ISA_COPIES 0
#endif

static int conv_isa(void)
{
    return tdl_gemm_kernel_id();
}

/* Winograd F(2x2, 3x3) for the forward and the weight gradient (conv2d_winograd.inc): 3x3
 * windows, unit strides, and enough channels that the 16 small GEMMs, not the transforms,
 * dominate. */
#define TDL_CONV_WINO_MIN_CHANNELS 16
/* ...and for the weight gradient on the AVX-512 micro-kernels at least this many filters: its
 * 16 GEMMs are (C x F) sums over the tiles, and with 16 or 24 filters (the 24 x 16 kernel, or
 * 12 x 32 with a third of it unused) they run at a fraction of the im2col GEMM's rate. Xeon
 * (AVX-512), batch 64, 3x3 'same': 32x32 16->16 10.6-12.6 ms by Winograd against 4.3 by
 * im2col on 1 thread (6.2 against 2.2 on 2), 32x32 32->16 13 against 7-8, 16x16 24->24 5.0
 * against 3.7; with 32 or more filters Winograd stays ahead (32x32 32->32 11.0 against 14.0,
 * 16x16 64->64 8.9 against 14.9). With the AVX2 kernel (6 x 16) Winograd wins from 16 filters
 * (32x32 16->16 4.7 against 5.4, 16x16 24->24 2.7 against 3.6, forced on the same Xeon). */
#define TDL_CONV_WINO_GRAD_MIN_FILTERS_AVX512 32
/* Target size of one chunk's transformed tiles (V and M), per thread. */
#define TDL_CONV_WINO_CHUNK_BYTES (384 * 1024)
/* ...but at least this many tiles per weight-gradient chunk when dU is large (see
 * CONV(wino_chunk_grad)). */
#define TDL_CONV_WINO_GRAD_MIN_TILES 96

/* The algorithm, TDL_CONV_AUTO unless a test forced one (tdl_conv2d_force_algorithm). */
static volatile int forced_algorithm = TDL_CONV_AUTO;

int tdl_conv2d_force_algorithm(int algorithm)
{
    if (algorithm != TDL_CONV_AUTO && algorithm != TDL_CONV_IM2COL
        && algorithm != TDL_CONV_WINOGRAD && algorithm != TDL_CONV_IMPLICIT)
        return -1;
    forced_algorithm = algorithm;
    return 0;
}

static int winograd_applies(const tdl_conv2d_shape *s)
{
    return s->kh == 3 && s->kw == 3 && s->sh == 1 && s->sw == 1;
}

static int use_winograd(const tdl_conv2d_shape *s)
{
    if (forced_algorithm != TDL_CONV_AUTO)
        return forced_algorithm == TDL_CONV_WINOGRAD && winograd_applies(s);
    return winograd_applies(s) && s->c >= TDL_CONV_WINO_MIN_CHANNELS
           && s->f >= TDL_CONV_WINO_MIN_CHANNELS;
}

/* The implicit GEMM (CONV(implicit) and CONV(implicit_grad_part) in conv2d_impl.inc): unit
 * strides; no patch matrix, each GEMM reads the padded input rows in place. */
static int implicit_applies(const tdl_conv2d_shape *s)
{
    return s->sh == 1 && s->sw == 1;
}

/* The forward only when forced: it was no clear gain over the better of im2col and Winograd
 * (Xeon, AVX-512, 1 thread, batch 64, 3x3 'same': 32x32 16->16 3.6 ms against 3.8 by Winograd
 * and 4.0 by im2col, within the noise; 16x16 32->32 3.5 against 2.4 by Winograd). */
static int use_implicit(const tdl_conv2d_shape *s)
{
    if (forced_algorithm != TDL_CONV_AUTO)
        return forced_algorithm == TDL_CONV_IMPLICIT && implicit_applies(s);
    return 0;
}

/* The direct forward (conv2d_direct.h: float, AVX-512, at most 32 filters) on the implicit
 * GEMM's bands, taken by default, ahead of Winograd and im2col, for a window other than 1x1
 * (any strides) over at most TDL_CONV_DIRECT_MAX_CHANNELS input channels into at most 16
 * filters, or over at most TDL_CONV_DIRECT_WIDE_MAX_CHANNELS into 17 to 32. AMD EPYC Zen 4
 * (AVX-512), batch 64, 'same' pads, 1 / 2 threads, before (Winograd from 16 channels, else
 * im2col) -> direct: 32x32 16->16 3x3 5.3 -> 4.0 / 2.5 -> 1.8 ms, 16x16 16->16 1.11 -> 0.86,
 * 8x8 0.31 -> 0.21, 32x32 8->16 2.7 -> 2.1, 32x32 3->16 1.44 -> 0.70, 5x5 3.2 -> 1.7, 28x28
 * 1->16 0.91 -> 0.26, 14x14 16->8 0.97 -> 0.62; 32x32 3->32 1.86 -> 1.31 / 0.98 -> 0.66,
 * 3->24 2.13 -> 1.30, 28x28 1->32 0.79 -> 0.42. Not taken: 32x32 32->16 7.6 / 3.4 against
 * 7.2 / 3.6 (a tie) and 16x16 64->16 3.0 -> 3.4 (Winograd's 2.25x fewer multiplies win with
 * more channels), 32x32 8->32 3.8 -> 4.3 / 2.0 -> 1.6, 16x16 16->32 1.28 (Winograd) -> 1.55;
 * a 1x1 window stays the plain GEMM (0.47 against 0.57). The same rule with strides (2, 2),
 * against im2col, 'same' pads, 1 / 2 threads: 32x32 16->16 3x3 1.03 -> 0.90 / 0.59 -> 0.52 ms,
 * 3->32 0.51 -> 0.36, 3->16 0.37 -> 0.21, 64x64 3->32 7x7 8.5 -> 7.2 / 4.7 -> 4.0; not taken
 * 32x32 16->32 3x3 1.80 -> 1.95 / 0.98 -> 0.93, and 1x1 windows within noise. */
#define TDL_CONV_DIRECT_MAX_CHANNELS 16
#define TDL_CONV_DIRECT_WIDE_MAX_CHANNELS 4

/* Whether the float forward runs the direct kernel: where it exists (AVX-512, F <= 32), when
 * forced ('implicit') or by the rule above. */
static int direct_takes(const tdl_conv2d_shape *s)
{
    if (tdl_conv2d_f32_direct(s->f, conv_isa()) == NULL)
        return 0;
    if (forced_algorithm != TDL_CONV_AUTO)
        return forced_algorithm == TDL_CONV_IMPLICIT;
    const tdl_index max_c = s->f <= 16 ? TDL_CONV_DIRECT_MAX_CHANNELS
                                       : TDL_CONV_DIRECT_WIDE_MAX_CHANNELS;
    return s->kh * s->kw > 1 && s->c <= max_c;
}

/* The weight gradient, where it would otherwise be im2col (it is asked after Winograd), with
 * at most 16 filters (the 24 x 16 AVX-512 kernel, the 6 x 16 AVX2 one: one sliver of
 * columns) and at least one whole sliver of rows of A per kernel row (KW*C >= MR). Its GEMMs
 * then sum over the pixels with no patch matrix written and read back (KH*KW copies of the
 * input). Xeon, batch 64, 3x3 'same', 1 / 2 threads, im2col -> implicit: AVX-512 32x32 16->16
 * 4.4 -> 2.9 / 2.2 -> 1.5 ms, 32x32 32->16 7.8 -> 5.3 / 3.2 -> 2.6, 32x32 8->16 2.6 -> 1.5,
 * 16x16 16->16 1.09 -> 0.74; 3->16 (KW*C = 9 < 24) 2.7 -> 5.3, so not taken (the small-patch
 * kernel below takes it). AVX2 (forced on the same Xeon) 32x32 3->16 2.6 -> 2.0, 8->16 3.7 ->
 * 2.7. The generic kernel keeps im2col. */
static int use_implicit_kernel_grad(const tdl_conv2d_shape *s)
{
    if (forced_algorithm != TDL_CONV_AUTO)
        return use_implicit(s);
    const int isa = conv_isa();
    const tdl_index mr = isa == TDL_GEMM_AVX512 ? TDL_AVX512_F32_NARROW_MR
                         : isa == TDL_GEMM_AVX2 ? TDL_AVX2_F32_MR : 0;
    return implicit_applies(s) && mr && s->f <= TDL_AVX512_F32_NARROW_NR
           && s->kw * s->c >= mr;
}

/* The small-patch weight gradient (conv2d_wgrad_small.h: float, AVX-512, 3 x KW*C = 3 x 9 or
 * 3 x 3) on the implicit GEMM's bands, in place of its GEMMs: unit strides, at most this many
 * filters (a pass over the band per 16), unless im2col or Winograd is forced. Xeon, batch 64,
 * 3x3 'same', 1 / 2 threads, im2col -> small-patch kernel: 32x32 3->16 4.3 -> 0.72 / 2.2 ->
 * 0.38 ms, 3->32 2.7 -> 1.6 / 1.3 -> 0.73, 3->64 3.0 -> 2.7 / 2.1 -> 1.4, 1->32 2.0 -> 0.79,
 * 16x16 3->16 0.93 -> 0.16. */
#define TDL_CONV_WGRAD_SMALL_MAX_FILTERS 64

static int small_patch_kernel_grad(const tdl_conv2d_shape *s)
{
    return (forced_algorithm == TDL_CONV_AUTO || forced_algorithm == TDL_CONV_IMPLICIT)
           && implicit_applies(s) && s->f <= TDL_CONV_WGRAD_SMALL_MAX_FILTERS;
}

/* Target bytes of one implicit-GEMM band: its padded input rows and its output rows. */
#define TDL_CONV_IMPLICIT_BAND_BYTES (192 * 1024)

/* For the weight gradient too (on AVX-512 with at least TDL_CONV_WINO_GRAD_MIN_FILTERS_AVX512
 * filters), unless a max pool follows whose windows are not the 2x2 tiles. */
static int use_winograd_kernel_grad(const tdl_conv2d_shape *s, const tdl_conv2d_pool *pool)
{
    if (forced_algorithm == TDL_CONV_AUTO && conv_isa() == TDL_GEMM_AVX512
        && s->f < TDL_CONV_WINO_GRAD_MIN_FILTERS_AVX512)
        return 0;
    return use_winograd(s)
           && (!pool || (pool->kh == 2 && pool->kw == 2 && pool->top == 0 && pool->left == 0));
}

/* Output-pixel tiles are the GEMM's M: a multiple of every micro-kernel's MR (12, 6, 4), so
 * that only the very last tile ends in a partial, zero-padded sliver of rows. */
#define TDL_CONV_TILE_ROW_MULTIPLE 12

static tdl_index whole_slivers(tdl_index rows)
{
    return tdl_ceil_div(rows, TDL_CONV_TILE_ROW_MULTIPLE) * TDL_CONV_TILE_ROW_MULTIPLE;
}

/* Rows per tile: about TDL_CONV_TILE_BYTES of patches, and a tile count that is a multiple
 * of the thread count (so a static schedule is balanced). */
static tdl_index tile_rows(tdl_index rows, tdl_index row_bytes, int threads)
{
    tdl_index per_tile = tdl_max(16, TDL_CONV_TILE_BYTES / tdl_max(row_bytes, 1));
    tdl_index tiles = tdl_ceil_div(rows, per_tile);
    tiles = tdl_ceil_div(tiles, threads) * threads;
    return tdl_max(1, tdl_ceil_div(rows, tiles));
}

/* Small maps with many channels (a 2x2 or 4x4 map, 256-512 channels): a tile of ~192 KiB of
 * patches is then only a few dozen rows, and each GEMM call would pack the whole weight
 * matrix again (input gradient: w^T is too wide to read in place) or read and write the whole
 * weight-gradient partial (weight gradient: the tile rows are the GEMM's K). Such tiles get
 * at least this many rows (the rows there are, if fewer): the pass over the weights is then
 * amortised over ~400 rows of multiply-adds instead of ~20. */
#define TDL_CONV_MIN_AMORTISED_ROWS 384
/* A weight-gradient partial larger than this does not stay in L2 between tiles. */
#define TDL_CONV_PARTIAL_CACHED_BYTES (512 * 1024)

/* per_tile, or at least TDL_CONV_MIN_AMORTISED_ROWS (at most `available`, whole slivers)
 * when each tile makes a pass over the weights. */
static tdl_index amortised_rows(tdl_index per_tile, tdl_index available, int weight_pass)
{
    if (!weight_pass)
        return per_tile;
    return tdl_max(per_tile, whole_slivers(tdl_min(TDL_CONV_MIN_AMORTISED_ROWS, available)));
}

#define T float
#define CONV(name) tdl_conv2d_f32_##name
#define GEMM(name) tdl_gemm_f32_##name
#define MAX_POOL tdl_pool_f32_max_forward
#define WGRAD_SMALL_FN tdl_conv2d_f32_wgrad_small_fn
#define WGRAD_SMALL_PICK(s) tdl_conv2d_f32_wgrad_small((s)->kh, (s)->kw * (s)->c, conv_isa())
#define DIRECT_FN tdl_conv2d_f32_direct_fn
#define DIRECT_PICK(s) tdl_conv2d_f32_direct((s)->f, conv_isa())
#define DIRECT_TAKES(s) direct_takes(s)
#include "conv2d_impl.inc"
#undef T
#undef CONV
#undef GEMM
#undef MAX_POOL
#undef WGRAD_SMALL_FN
#undef WGRAD_SMALL_PICK
#undef DIRECT_FN
#undef DIRECT_PICK
#undef DIRECT_TAKES

#define T double
#define CONV(name) tdl_conv2d_f64_##name
#define GEMM(name) tdl_gemm_f64_##name
#define MAX_POOL tdl_pool_f64_max_forward
/* The small-patch weight gradient is float only. */
typedef void (*tdl_conv2d_f64_wgrad_small_fn)(const double *xp, tdl_index wp, tdl_index c,
                                               const double *g, tdl_index f, tdl_index m,
                                               double *dw);
#define WGRAD_SMALL_FN tdl_conv2d_f64_wgrad_small_fn
#define WGRAD_SMALL_PICK(s) ((void)(s), (tdl_conv2d_f64_wgrad_small_fn)NULL)
/* ...and so is the direct forward. */
typedef void (*tdl_conv2d_f64_direct_fn)(const double *xp, tdl_index wp, tdl_index c,
                                         tdl_index kh, tdl_index kwc, const double *w,
                                         tdl_index f, tdl_index rows, tdl_index ow,
                                         tdl_index sh, tdl_index sw, double *y,
                                         const double *bias, int relu);
#define DIRECT_FN tdl_conv2d_f64_direct_fn
#define DIRECT_PICK(s) ((void)(s), (tdl_conv2d_f64_direct_fn)NULL)
#define DIRECT_TAKES(s) ((void)(s), 0)
#include "conv2d_impl.inc"
#undef T
#undef CONV
#undef GEMM
#undef MAX_POOL
#undef WGRAD_SMALL_FN
#undef WGRAD_SMALL_PICK
#undef DIRECT_FN
#undef DIRECT_PICK
#undef DIRECT_TAKES
