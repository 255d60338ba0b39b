/* embedding.c: scatter-add of gradient rows into the embedding table (see embedding.h). */
#include "embedding.h"

#define TDL_EMBEDDING_BLOCK 64          /* columns per task: a cache line or four of each row */
#define TDL_EMBEDDING_PARALLEL_MIN 65536 /* below this many values one thread is faster */

#define SCATTER_ADD(T, NAME)                                                                  \
    void NAME(const int64_t *ids, const T *dy, tdl_index m, tdl_index d, T *dw)              \
    {                                                                                         \
        const tdl_index blocks = tdl_ceil_div(d, TDL_EMBEDDING_BLOCK);                        \
        const int threads = m * d < TDL_EMBEDDING_PARALLEL_MIN ? 1 : tdl_threads_get();      \
        (void)threads;                                                                        \
        _Pragma("omp parallel for schedule(static) num_threads(threads) if (threads > 1)")    \
        for (tdl_index b = 0; b < blocks; b++) {                                              \
            const tdl_index j0 = b * TDL_EMBEDDING_BLOCK;                                     \
            const tdl_index j1 = tdl_min(d, j0 + TDL_EMBEDDING_BLOCK);                        \
            for (tdl_index i = 0; i < m; i++) {                                               \
                T *row = dw + ids[i] * d;                                                     \
                const T *g = dy + i * d;                                                      \
                for (tdl_index j = j0; j < j1; j++)                                           \
                    row[j] += g[j];                                                           \
            }                                                                                 \
        }                                                                                     \
    }

SCATTER_ADD(float, tdl_embedding_f32_scatter_add)
SCATTER_ADD(double, tdl_embedding_f64_scatter_add)
