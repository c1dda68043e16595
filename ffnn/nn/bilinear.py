"""The bilinear layer: y_o = x₁ᵀ W_o x₂ + b_o for x₁ [*, in1], x₂ [*, in2], W [out, in1, in2].

Computed as one product and one reduction, u = x₁ · W' ([*, out·in2], W' = W with in1 first)
then y_o = Σⱼ u_oj x₂ⱼ, so the derivatives are the products' and the sum's:
dL/dx₁ = Σ_o dL/dy_o W_o x₂, dL/dx₂ = Σ_o dL/dy_o W_oᵀ x₁, dL/dW_o = dL/dy_o x₁ x₂ᵀ (summed
over the rows), dL/db = Σ dL/dy.
"""

from __future__ import annotations

import math

import numpy as np

from ffnn import dtypes
from ffnn.nn import init
from ffnn.nn.module import Module
from ffnn.nn.parameter import Parameter
from ffnn.tensor import Tensor


def bilinear(input1: Tensor, input2: Tensor, weight: Tensor, bias: Tensor | None = None
             ) -> Tensor:
    """y [*, out] = x₁ᵀ W_o x₂ + b_o (the module docstring)."""
    if tuple(input1.shape[:-1]) != tuple(input2.shape[:-1]):
        raise RuntimeError("bilinear(): input batch dimensions do not match: got "
                           f"{list(input1.shape[:-1])} and {list(input2.shape[:-1])}")
    out, in1, in2 = weight.shape
    for name, x, size in (("input1", input1, in1), ("input2", input2, in2)):
        if x.shape[-1] != size:
            raise RuntimeError(f"bilinear(): {name} size does not match weight size: got "
                               f"{x.shape[-1]} but expected {size}")
    lead = tuple(input1.shape[:-1])
    x1, x2 = input1.reshape(-1, in1), input2.reshape(-1, in2)
    u = (x1 @ weight.permute(1, 0, 2).reshape(in1, out * in2)).reshape(-1, out, in2)
    y = (u * x2.unsqueeze(1)).sum(-1)
    if bias is not None:
        y = y + bias
    return y.reshape(lead + (out,))


class Bilinear(Module):
    """``bilinear`` with W [out, in1, in2] and b [out] drawn from U(−1/√in1, 1/√in1), as
    torch's."""

    def __init__(self, in1_features: int, in2_features: int, out_features: int,
                 bias: bool = True, device=None, dtype=None) -> None:
        super().__init__()
        self.in1_features, self.in2_features, self.out_features = (
            in1_features, in2_features, out_features)
        dtype = dtypes.to_dtype(dtype)
        self.weight = Parameter(np.empty((out_features, in1_features, in2_features), dtype))
        if bias:
            self.bias = Parameter(np.empty(out_features, dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self, generator=None) -> None:
        bound = 1 / math.sqrt(self.in1_features)
        init.uniform_(self.weight, -bound, bound, generator)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound, generator)

    def forward(self, input1: Tensor, input2: Tensor) -> Tensor:
        return bilinear(input1, input2, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
                f"out_features={self.out_features}, bias={self.bias is not None}")

