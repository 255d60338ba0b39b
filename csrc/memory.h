/* memory.h: how the C library keeps memory that tinydl's arrays free.
 *
 * A training step allocates and frees the same large arrays (activations, gradients, a GEMM's
 * packing buffers) every step. glibc's malloc serves an allocation above its mmap threshold
 * (128 KiB at first, raised as such blocks are freed) with a fresh mmap, and returns the
 * free top of its heap to the system beyond the trim threshold; either way the next step
 * touches new pages, and every 4 KiB page costs a fault (~0.5 us) and a zeroing: measured
 * here, 2,000-4,800 faults and 5-12 ms of a 15 ms LSTM step whenever the kernel had no huge
 * pages to give. tdl_memory_keep_freed raises both thresholds so that freed blocks stay in
 * the heap and the next step reuses them: the process keeps its peak working set resident,
 * as the allocators of TensorFlow and PyTorch keep theirs.
 */
#ifndef TDL_MEMORY_H
#define TDL_MEMORY_H

/* Serve blocks up to mmap_threshold bytes from the heap and keep up to trim_threshold bytes
 * of freed heap top. Returns 1 when the C library took both (glibc), 0 when it has no such
 * settings (then nothing changed). */
int tdl_memory_keep_freed(int mmap_threshold, int trim_threshold);

#endif
