/* dropout.h: inverted dropout with a counter-based mask, float and double.
 *
 *   out[i] = x[i] * (keep(i) ? scale : 0),   keep(i) = (splitmix64(key, i) >> 32) >= threshold
 *
 * splitmix64(key, i) is the (i+1)-th output of SplitMix64 (Steele, Lea and Flood, 2014) started
 * at state `key`: z = key + (i+1) * 0x9E3779B97F4A7C15, then its finalizer. Each element's
 * draw depends only on (key, i), so the mask is the same for any thread count and the
 * backward pass regenerates it from the key instead of storing it. The caller (Python)
 * draws key from the layer's generator, sets threshold = floor(rate * 2^32) (an element is
 * dropped with probability threshold / 2^32) and scale = 1 / (1 - rate) in the dtype.
 * x * 0 keeps a NaN or an infinity of x as NaN, as x * mask does in NumPy and Keras.
 * out may alias x.
 */
#ifndef TDL_DROPOUT_H
#define TDL_DROPOUT_H
#include <stdint.h>
#include "tdl_common.h"

void tdl_dropout_f32(const float *x, float *out, tdl_index n, uint64_t key, uint64_t threshold,
                     float scale);
void tdl_dropout_f64(const double *x, double *out, tdl_index n, uint64_t key,
                     uint64_t threshold, double scale);

#endif
