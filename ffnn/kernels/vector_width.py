"""``wide_vectors()``: the compiled function that calls it is vectorised on 512-bit registers
wherever the CPU has them.

LLVM tunes Intel's AVX-512 server cores (Skylake-SP to Emerald Rapids) to prefer 256-bit
vectors (the ``prefer-256-bit`` tuning, against the clock drop of wide instructions on the
first of them), so numba's loops run on 8 float32 lanes there. numba's target is the
process's (``NUMBA_CPU_FEATURES``: the user's own numba code and its cache keys too), not a
library's to change; LLVM's function attribute ``"prefer-vector-width"="512"`` changes it for
one function. A loop whose elements are independent computes each element by the same
instructions on any lane count (no sum is reordered: the loops allow fused multiply-adds,
nothing else of fast-math), so its values do not change, only how many it computes at once.
Where the CPU has no AVX-512 or already prefers 512-bit vectors (AMD's Zen 4), the
attribute changes nothing.

Called first in the generated element-wise kernels (``ffnn.kernels.elementwise``:
activations, losses, optimizers' updates), the softmax and logistic-loss rows and batch
norm's column sums (``ffnn._kernels``) and the products of a few rows
(``ffnn.kernels.few_rows``; its dot products, which add in SIMD lanes as BLAS's do, sum in
another order on 16 lanes than on 8, the same on every call); numbers in
``docs/benchmarks.md``.
"""

from __future__ import annotations

from numba import types
from numba.extending import intrinsic

PREFER_512 = '"prefer-vector-width"="512"'
"""The attribute as LLVM's text writes it (a string attribute: llvmlite's own set knows
only the enumerated ones, so it is added to the set as text)."""


@intrinsic
def wide_vectors(typingctx):
    """Mark the function being compiled ``PREFER_512``; computes nothing."""

    def codegen(context, builder, signature, args):
        set.add(builder.function.attributes, PREFER_512)
        return context.get_dummy_value()

    return types.void(), codegen
