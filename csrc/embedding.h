/* embedding.h: the gradient of an embedding lookup, a scatter-add of rows.
 *
 * Shapes: ids int64 (M,), each in [0, V); dy (M, D); dw (V, D), zeroed by the caller.
 * Loop nest: for each block of columns (blocks in parallel, so no two threads write one
 *   element): for m in [0, M): dw[ids[m], block] += dy[m, block].
 * Each element receives its terms in the order of m, as NumPy's np.add.at adds them, so the
 * result is the same bit for bit, for every thread count.
 * Preconditions (checked in Python): M, D >= 1; ids in range; dw does not alias dy.
 */
#ifndef TDL_EMBEDDING_H
#define TDL_EMBEDDING_H
#include "tdl_common.h"

void tdl_embedding_f32_scatter_add(const int64_t *ids, const float *dy, tdl_index m,
                                   tdl_index d, float *dw);
void tdl_embedding_f64_scatter_add(const int64_t *ids, const double *dy, tdl_index m,
                                   tdl_index d, double *dw);

#endif
