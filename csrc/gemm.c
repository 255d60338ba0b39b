/* gemm.c: micro-kernel selection and the blocked, threaded GEMM driver (see gemm.h).
 *
 * The driver is written once in gemm_driver.inc and instantiated here for float and double;
 * GEMM(x) names the dtype's function, e.g. GEMM(compute) is tdl_gemm_f32_compute.
 */
#include "gemm.h"
#include "cpu_features.h"
#include "gemm_config.h"
#include "gemm_ukr.h"

/* One micro-kernel with the blocking it was tuned for. */
typedef struct {
    int id;
    int mr, nr;
    tdl_index kc, mc, nc;
    tdl_gemm_f32_ukr run;       /* A(i, p) = a[p*cs_a + i] */
    tdl_gemm_f32_ukr run_rows;  /* A(i, p) = a[i*lda + p] */
    tdl_gemm_f32_ukr_short run_short, run_rows_short;  /* the last rows; NULL: a tile aside */
    tdl_gemm_f32_pack pack_bt;  /* a whole sliver of B stored (N, K); NULL: the portable copy */
} tdl_gemm_f32_kernel;

typedef struct {
    int id;
    int mr, nr;
    tdl_index kc, mc, nc;
    tdl_gemm_f64_ukr run;
    tdl_gemm_f64_ukr run_rows;
    tdl_gemm_f64_ukr_short run_short, run_rows_short;
    tdl_gemm_f64_pack pack_bt;
} tdl_gemm_f64_kernel;

static const tdl_gemm_f32_kernel GENERIC_F32 = {
    TDL_GEMM_GENERIC, TDL_GENERIC_MR, TDL_GENERIC_F32_NR,
    TDL_GENERIC_KC, TDL_GENERIC_MC, TDL_GENERIC_NC, tdl_gemm_f32_ukr_generic,
    tdl_gemm_f32_ukr_generic_rows};
static const tdl_gemm_f64_kernel GENERIC_F64 = {
    TDL_GEMM_GENERIC, TDL_GENERIC_MR, TDL_GENERIC_F64_NR,
    TDL_GENERIC_KC, TDL_GENERIC_MC, TDL_GENERIC_NC, tdl_gemm_f64_ukr_generic,
    tdl_gemm_f64_ukr_generic_rows};
#if defined(__x86_64__)
static const tdl_gemm_f32_kernel AVX2_F32 = {
    TDL_GEMM_AVX2, TDL_AVX2_F32_MR, TDL_AVX2_F32_NR,
    TDL_AVX2_KC, TDL_AVX2_F32_MC, TDL_AVX2_F32_NC, tdl_gemm_f32_ukr_avx2,
    tdl_gemm_f32_ukr_avx2_rows, tdl_gemm_f32_ukr_avx2_short, tdl_gemm_f32_ukr_avx2_rows_short,
    tdl_gemm_f32_pack_bt_avx2};
static const tdl_gemm_f64_kernel AVX2_F64 = {
    TDL_GEMM_AVX2, TDL_AVX2_F64_MR, TDL_AVX2_F64_NR,
    TDL_AVX2_KC, TDL_AVX2_F64_MC, TDL_AVX2_F64_NC, tdl_gemm_f64_ukr_avx2,
    tdl_gemm_f64_ukr_avx2_rows};
static const tdl_gemm_f32_kernel AVX512_F32 = {
    TDL_GEMM_AVX512, TDL_AVX512_F32_MR, TDL_AVX512_F32_NR,
    TDL_AVX512_KC, TDL_AVX512_F32_MC, TDL_AVX512_F32_NC, tdl_gemm_f32_ukr_avx512,
    tdl_gemm_f32_ukr_avx512_rows, tdl_gemm_f32_ukr_avx512_short,
    tdl_gemm_f32_ukr_avx512_rows_short, tdl_gemm_f32_pack_bt_avx512};
static const tdl_gemm_f32_kernel AVX512_F32_NARROW = {
    TDL_GEMM_AVX512, TDL_AVX512_F32_NARROW_MR, TDL_AVX512_F32_NARROW_NR,
    TDL_AVX512_KC, TDL_AVX512_F32_MC, TDL_AVX512_F32_NC, tdl_gemm_f32_ukr_avx512_narrow,
    tdl_gemm_f32_ukr_avx512_narrow_rows, tdl_gemm_f32_ukr_avx512_narrow_short,
    tdl_gemm_f32_ukr_avx512_narrow_rows_short, tdl_gemm_f32_pack_bt_avx512_narrow};
static const tdl_gemm_f64_kernel AVX512_F64 = {
    TDL_GEMM_AVX512, TDL_AVX512_F64_MR, TDL_AVX512_F64_NR,
    TDL_AVX512_KC, TDL_AVX512_F64_MC, TDL_AVX512_F64_NC, tdl_gemm_f64_ukr_avx512,
    tdl_gemm_f64_ukr_avx512_rows};
#endif

/* The forced kernel id, TDL_GEMM_AUTO unless a test asked for one (tdl_gemm_force_kernel). */
static volatile int forced_kernel = TDL_GEMM_AUTO;

static int kernel_supported(int id)
{
    int features = tdl_cpu_features_get();
    switch (id) {
    case TDL_GEMM_AUTO:
    case TDL_GEMM_GENERIC:
        return 1;
#if defined(__x86_64__)
    case TDL_GEMM_AVX2:
        return (features & TDL_CPU_AVX2) != 0;
    case TDL_GEMM_AVX512:
        return (features & TDL_CPU_AVX512F) != 0;
#endif
    default:
        (void)features;
        return 0;
    }
}

int tdl_gemm_force_kernel(int id)
{
    if (!kernel_supported(id))
        return -1;
    forced_kernel = id;
    return 0;
}

int tdl_gemm_kernel_id(void)
{
    if (forced_kernel != TDL_GEMM_AUTO)
        return forced_kernel;
    if (kernel_supported(TDL_GEMM_AVX512))
        return TDL_GEMM_AVX512;
    if (kernel_supported(TDL_GEMM_AVX2))
        return TDL_GEMM_AVX2;
    return TDL_GEMM_GENERIC;
}

const char *tdl_gemm_kernel_name(int id)
{
    switch (id) {
    case TDL_GEMM_AVX512: return "avx512";
    case TDL_GEMM_AVX2: return "avx2";
    case TDL_GEMM_GENERIC: return "generic";
    default: return "auto";
    }
}

/* The micro-kernel in use for a C of n columns (AVX-512: the 24 x 16 one when n <= 16). */
static const tdl_gemm_f32_kernel *select_f32(tdl_index n)
{
    switch (tdl_gemm_kernel_id()) {
#if defined(__x86_64__)
    case TDL_GEMM_AVX512: return n <= TDL_AVX512_F32_NARROW_NR ? &AVX512_F32_NARROW : &AVX512_F32;
    case TDL_GEMM_AVX2: return &AVX2_F32;
#endif
    default: return &GENERIC_F32;
    }
}

static const tdl_gemm_f64_kernel *select_f64(tdl_index n)
{
    (void)n;
    switch (tdl_gemm_kernel_id()) {
#if defined(__x86_64__)
    case TDL_GEMM_AVX512: return &AVX512_F64;
    case TDL_GEMM_AVX2: return &AVX2_F64;
#endif
    default: return &GENERIC_F64;
    }
}

void tdl_gemm_workspace_free(tdl_gemm_workspace *ws)
{
    tdl_free(ws->a_pack);
    tdl_free(ws->b_pack);
    tdl_free(ws->tile);
    ws->a_pack = ws->b_pack = ws->tile = NULL;
}

#define T float
#define GEMM(name) tdl_gemm_f32_##name
#define SELECT_KERNEL select_f32
#include "gemm_driver.inc"
#undef T
#undef GEMM
#undef SELECT_KERNEL

#define T double
#define GEMM(name) tdl_gemm_f64_##name
#define SELECT_KERNEL select_f64
#include "gemm_driver.inc"
#undef T
#undef GEMM
#undef SELECT_KERNEL
