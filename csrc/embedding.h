/* embedding.h: an embedding lookup, a gather of rows, and its gradient, a scatter-add of rows.
 *
 * Gather: out[m, :] = table[ids[m], :] for m in [0, M), ranges of m in parallel (a copy: the
 *   same bits on any thread count). Preconditions: M, D >= 1; ids in [0, V); out (M, D) does
 *   not alias table.
 * Scatter-add:
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

void tdl_embedding_f32_gather(const float *table, const int64_t *ids, tdl_index m,
                              tdl_index d, float *out);
void tdl_embedding_f64_gather(const double *table, const int64_t *ids, tdl_index m,
                              tdl_index d, double *out);
void tdl_embedding_f32_scatter_add(const int64_t *ids, const float *dy, tdl_index m,
                                   tdl_index d, float *dw);
void tdl_embedding_f64_scatter_add(const int64_t *ids, const double *dy, tdl_index m,
                                   tdl_index d, double *dw);

#endif
