"""Activation layers: thin modules over the ops in ``ffnn.ops.activations``."""

from __future__ import annotations

from ffnn import ops
from ffnn.nn.module import Module
from ffnn.tensor import Tensor


def _apply(op, input: Tensor, inplace: bool) -> Tensor:
    """``op(input)``, written into ``input`` itself when ``inplace`` (as torch's modules)."""
    return input._inplace(op) if inplace else op(input)


class ReLU(Module):
    """y = max(x, 0)."""

    def __init__(self, inplace: bool = False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return _apply(ops.relu, input, self.inplace)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class LeakyReLU(Module):
    """y = x if x > 0 else negative_slope · x."""

    def __init__(self, negative_slope: float = 0.01, inplace: bool = False):
        super().__init__()
        self.negative_slope, self.inplace = negative_slope, inplace

    def forward(self, input: Tensor) -> Tensor:
        return _apply(lambda x: ops.leaky_relu(x, self.negative_slope), input, self.inplace)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"


class Sigmoid(Module):
    """y = 1 / (1 + e⁻ˣ)."""

    def forward(self, input: Tensor) -> Tensor:
        return ops.sigmoid(input)


class Tanh(Module):
    """y = tanh x."""

    def forward(self, input: Tensor) -> Tensor:
        return ops.tanh(input)


class GELU(Module):
    """y = x Φ(x) (``approximate='tanh'``: the tanh formula)."""

    def __init__(self, approximate: str = "none"):
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(
                f"GELU: approximate must be 'none' or 'tanh'. Received: {approximate!r}"
            )
        self.approximate = approximate

    def forward(self, input: Tensor) -> Tensor:
        return ops.gelu(input, self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class SiLU(Module):
    """y = x σ(x) (also called swish)."""

    def __init__(self, inplace: bool = False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return _apply(ops.silu, input, self.inplace)


class Softmax(Module):
    """yᵢ = e^{xᵢ} / Σⱼ e^{xⱼ} along ``dim``."""

    def __init__(self, dim: int = -1):
        super().__init__()
        self.dim = dim

    def forward(self, input: Tensor) -> Tensor:
        return ops.softmax(input, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class LogSoftmax(Softmax):
    """y = x - log Σ eˣ along ``dim``."""

    def forward(self, input: Tensor) -> Tensor:
        return ops.log_softmax(input, self.dim)
