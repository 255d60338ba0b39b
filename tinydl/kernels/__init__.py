"""Kernels: one module per family (gemm, conv2d, pool, ...) with its checks, reference and native twin.

A family module holds, for each of its kernels, the checked entry (what tinydl.backend
re-exports and ops call), the NumPy reference (<name>_reference) and the C twin through
tinydl._native (<name>_native) with the same signature, and ends with a KERNELS table that
tinydl.kernels._registry gathers. Kernels know nothing of Tensor or autograd. See
docs/kernels.md, "Adding a kernel".
"""
