"""The compiled forms of ``ffnn.ops.special.double_bits`` / ``double_from_bits``: a float64
reinterpreted as an int64 and back, one LLVM ``bitcast`` each (a register move that a
vectorised loop keeps on its SIMD lanes). Importing this module registers them with numba,
so that the scalar helpers calling these functions compile."""

from __future__ import annotations

from llvmlite import ir
from numba import types
from numba.extending import intrinsic, overload

from ffnn.ops import special


@intrinsic
def _bits_of(typingctx, x):
    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.IntType(64))

    return types.int64(types.float64), codegen


@intrinsic
def _double_of(typingctx, bits):
    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.DoubleType())

    return types.float64(types.int64), codegen


@overload(special.double_bits)
def _double_bits(x):
    return lambda x: _bits_of(x)


@overload(special.double_from_bits)
def _double_from_bits(bits):
    return lambda bits: _double_of(bits)
