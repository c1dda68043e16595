"""The compiled forms of the scalar helpers' bit casts: ``special_float32.float_bits`` /
``float_from_bits`` (float32 ↔ int32) and ``special_float64.double_bits`` /
``double_from_bits`` (float64 ↔ int64), one LLVM ``bitcast`` each (a register move that a
vectorised loop keeps on its SIMD lanes). Importing this module registers them with numba,
so that the scalar helpers calling these functions compile."""

from __future__ import annotations

from llvmlite import ir
from numba import types
from numba.extending import intrinsic, overload

from ffnn.ops import special_float32, special_float64


@intrinsic
def _bits_of_float(typingctx, x):
    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.IntType(32))

    return types.int32(types.float32), codegen


@intrinsic
def _float_of(typingctx, bits):
    """The float32 of the low 32 bits of an int64 (numba's integer arithmetic is 64-bit)."""
    def codegen(context, builder, signature, args):
        return builder.bitcast(builder.trunc(args[0], ir.IntType(32)), ir.FloatType())

    return types.float32(types.int64), codegen


@overload(special_float32.float_bits)
def _float_bits(x):
    return lambda x: _bits_of_float(x)


@overload(special_float32.float_from_bits)
def _float_from_bits(bits):
    return lambda bits: _float_of(bits)


@intrinsic
def _bits_of_double(typingctx, x):
    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.IntType(64))

    return types.int64(types.float64), codegen


@intrinsic
def _double_of(typingctx, bits):
    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.DoubleType())

    return types.float64(types.int64), codegen


@overload(special_float64.double_bits)
def _double_bits(x):
    return lambda x: _bits_of_double(x)


@overload(special_float64.double_from_bits)
def _double_from_bits(bits):
    return lambda bits: _double_of(bits)
