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


def _register(to_bits, from_bits, float_type, ir_float, width: int) -> None:
    """Overload ``to_bits(x)`` (float → signed int of ``width`` bits) and ``from_bits(bits)``
    (the float of the low ``width`` bits of an int64: numba's integer arithmetic is 64-bit)."""
    int_type = getattr(types, f"int{width}")

    @intrinsic
    def bits_of(typingctx, x):
        def codegen(context, builder, signature, args):
            return builder.bitcast(args[0], ir.IntType(width))

        return int_type(float_type), codegen

    @intrinsic
    def float_of(typingctx, bits):
        def codegen(context, builder, signature, args):
            low = args[0] if width == 64 else builder.trunc(args[0], ir.IntType(width))
            return builder.bitcast(low, ir_float)

        return float_type(types.int64), codegen

    overload(to_bits)(lambda x: lambda x: bits_of(x))
    overload(from_bits)(lambda bits: lambda bits: float_of(bits))


_register(special_float32.float_bits, special_float32.float_from_bits, types.float32,
          ir.FloatType(), 32)
_register(special_float64.double_bits, special_float64.double_from_bits, types.float64,
          ir.DoubleType(), 64)
