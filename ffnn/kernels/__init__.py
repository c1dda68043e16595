"""Compiled element-wise kernels generated from one description each (``ElementwiseKernel``).

An optimizer's update or an activation's forward and backward is written once as a few
statements on one element; ``ffnn.kernels`` turns that text into a numba loop over the
arrays, specialised on the description's flags. The NumPy code in ``ffnn.ops`` and
``ffnn.optim`` stays the reference and the fallback (``FFNN_ACCEL=0``, or no numba).
"""

from ffnn.kernels.elementwise import ElementwiseKernel

__all__ = ["ElementwiseKernel"]
