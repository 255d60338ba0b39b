/* embedding.c: the lookup's gather of rows, and the scatter-add of gradient rows into the
 * embedding table (see embedding.h). */
#include <string.h>

#include "embedding.h"

#define TDL_EMBEDDING_BLOCK 64          /* columns per task: a cache line or four of each row */
#define TDL_EMBEDDING_PARALLEL_MIN 65536 /* below this many values one thread is faster */

/* Column blocks [lo, hi) of dw: every id's row adds its gradient, in row order. */
#define SCATTER_ADD(T, NAME)                                                                  \
    typedef struct {                                                                          \
        const int64_t *ids;                                                                   \
        const T *dy;                                                                          \
        tdl_index m, d;                                                                       \
        T *dw;                                                                                \
    } NAME##_job;                                                                             \
    static void NAME##_blocks(void *arg, tdl_index lo, tdl_index hi)                          \
    {                                                                                         \
        const NAME##_job *jb = arg;                                                           \
        const tdl_index d = jb->d;                                                            \
        for (tdl_index b = lo; b < hi; b++) {                                                 \
            const tdl_index j0 = b * TDL_EMBEDDING_BLOCK;                                     \
            const tdl_index j1 = tdl_min(d, j0 + TDL_EMBEDDING_BLOCK);                        \
            for (tdl_index i = 0; i < jb->m; i++) {                                           \
                T *row = jb->dw + jb->ids[i] * d;                                             \
                const T *g = jb->dy + i * d;                                                  \
                for (tdl_index j = j0; j < j1; j++)                                           \
                    row[j] += g[j];                                                           \
            }                                                                                 \
        }                                                                                     \
    }                                                                                         \
    void NAME(const int64_t *ids, const T *dy, tdl_index m, tdl_index d, T *dw)              \
    {                                                                                         \
        const int threads = m * d < TDL_EMBEDDING_PARALLEL_MIN ? 1 : tdl_threads_get();      \
        NAME##_job jb = {ids, dy, m, d, dw};                                                  \
        tdl_parallel_for(threads, tdl_ceil_div(d, TDL_EMBEDDING_BLOCK), NAME##_blocks, &jb);  \
    }

/* tdl_embedding_f32_scatter_add, tdl_embedding_f64_scatter_add */
SCATTER_ADD(float, tdl_embedding_f32_scatter_add)
SCATTER_ADD(double, tdl_embedding_f64_scatter_add)

/* Rows [lo, hi) of out: each a copy of its id's row of the table. */
typedef struct {
    const char *table;
    const int64_t *ids;
    size_t row_bytes;
    char *out;
} gather_job;

static void gather_rows(void *arg, tdl_index lo, tdl_index hi)
{
    const gather_job *jb = arg;
    for (tdl_index i = lo; i < hi; i++)
        memcpy(jb->out + (size_t)i * jb->row_bytes,
               jb->table + (size_t)jb->ids[i] * jb->row_bytes, jb->row_bytes);
}

static void gather(const void *table, const int64_t *ids, tdl_index m, tdl_index d,
                   size_t item, void *out)
{
    const int threads = m * d < TDL_EMBEDDING_PARALLEL_MIN ? 1 : tdl_threads_get();
    gather_job jb = {table, ids, (size_t)d * item, out};
    tdl_parallel_for(threads, m, gather_rows, &jb);
}

void tdl_embedding_f32_gather(const float *table, const int64_t *ids, tdl_index m, tdl_index d,
                              float *out)
{
    gather(table, ids, m, d, sizeof(float), out);
}

void tdl_embedding_f64_gather(const double *table, const int64_t *ids, tdl_index m,
                              tdl_index d, double *out)
{
    gather(table, ids, m, d, sizeof(double), out);
}
