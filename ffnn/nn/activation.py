"""Activation layers: thin modules over the ops in ``ffnn.ops.activations``."""

from __future__ import annotations

import numbers

import numpy as np

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
        if isinstance(negative_slope, bool) or not isinstance(negative_slope, numbers.Real):
            raise TypeError("LeakyReLU: negative_slope must be a number. Received: "
                            f"negative_slope={negative_slope!r}")
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


class ELU(Module):
    """y = x if x > 0 else α(eˣ - 1)."""

    def __init__(self, alpha: float = 1.0, inplace: bool = False):
        super().__init__()
        self.alpha = alpha

    def forward(self, input: Tensor) -> Tensor:
        return ops.elu(input, self.alpha)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}"


class SELU(Module):
    """y = λ·ELU_α(x) with λ ≈ 1.0507, α ≈ 1.6733 (self-normalising)."""

    def __init__(self, inplace: bool = False):
        super().__init__()

    def forward(self, input: Tensor) -> Tensor:
        return ops.elu(input, SELU_ALPHA, SELU_SCALE)


SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


class Softplus(Module):
    """y = log(1 + e^{βx}) / β, linear where βx > threshold."""

    def __init__(self, beta: float = 1.0, threshold: float = 20.0):
        super().__init__()
        self.beta, self.threshold = beta, threshold

    def forward(self, input: Tensor) -> Tensor:
        return ops.softplus(input, self.beta, self.threshold)

    def extra_repr(self) -> str:
        return f"beta={self.beta}, threshold={self.threshold}"


class Hardtanh(Module):
    """y = min(max(x, min_val), max_val)."""

    def __init__(self, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False):
        super().__init__()
        if max_val <= min_val:
            raise ValueError(f"Hardtanh: max_val must be larger than min_val. Received: "
                             f"min_val={min_val}, max_val={max_val}")
        self.min_val, self.max_val = min_val, max_val

    def forward(self, input: Tensor) -> Tensor:
        return ops.clamp(input, self.min_val, self.max_val)

    def extra_repr(self) -> str:
        return f"min_val={self.min_val}, max_val={self.max_val}"


class ReLU6(Hardtanh):
    """y = min(max(x, 0), 6)."""

    def __init__(self, inplace: bool = False):
        super().__init__(0.0, 6.0)

    def extra_repr(self) -> str:
        return ""


class PReLU(Module):
    """y = x if x > 0 else a·x, with the slope ``a`` learned: one for all channels or one per
    channel (axis 1), initialised to ``init``."""

    def __init__(self, num_parameters: int = 1, init: float = 0.25, dtype=None):
        super().__init__()
        from ffnn import dtypes
        from ffnn.nn.parameter import Parameter

        self.num_parameters = num_parameters
        self.weight = Parameter(np.full(num_parameters, init, dtypes.to_dtype(dtype)))

    def forward(self, input: Tensor) -> Tensor:
        if self.num_parameters > 1 and (input.ndim < 2 or input.shape[1] != self.num_parameters):
            raise ValueError(f"PReLU(num_parameters={self.num_parameters}) needs input with "
                             f"{self.num_parameters} channels on axis 1. Received: shape "
                             f"{tuple(input.shape)}")
        return ops.prelu(input, self.weight)

    def extra_repr(self) -> str:
        return f"num_parameters={self.num_parameters}"
