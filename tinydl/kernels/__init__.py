"""Kernels: the reference (pure NumPy) and native (C) implementations of the hot loops.

Both modules define the same functions with the same signatures; tinydl.backend
validates arguments and picks one of them. Kernels know nothing of Tensor or autograd.
"""
