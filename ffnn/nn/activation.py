"""Activation layers: thin modules over the ops in ``ffnn.ops.activations``."""

from __future__ import annotations

import math
import numbers
import warnings

import numpy as np

from ffnn import ops
from ffnn.nn.activation_more import _written
from ffnn.nn.functional import _softmax_dim as _implicit_dim
from ffnn.nn.module import Module
from ffnn.nn.traits import declare, onnx_node
from ffnn.ops import activations as _ops
from ffnn.ops import activations_more as _more_ops
from ffnn.tensor import Tensor


def _inplace_text(module: Module, before: str = "") -> str:
    """``inplace=True`` in a module's printout when it is set, as torch prints it."""
    return f"{before}inplace=True" if getattr(module, "inplace", False) else ""


class ReLU(Module):
    """y = max(x, 0)."""

    def __init__(self, inplace: bool = False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return _written(ops.relu, input, self.inplace)

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
        return _written(lambda x: ops.leaky_relu(x, self.negative_slope), input, self.inplace)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}" + _inplace_text(self, ", ")


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
        return _written(ops.silu, input, self.inplace)

    def extra_repr(self) -> str:
        return _inplace_text(self)


class Softmax(Module):
    """yᵢ = e^{xᵢ} / Σⱼ e^{xⱼ} along ``dim``; ``dim=None`` (torch's default) is torch's legacy
    choice, with its warning: 0 for 0-, 1- and 3-d input, else 1."""

    def __init__(self, dim: int | None = None):
        super().__init__()
        self.dim = dim

    def forward(self, input: Tensor) -> Tensor:
        return ops.softmax(input, _implicit_dim("softmax", input, self.dim))

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class LogSoftmax(Softmax):
    """y = x - log Σ eˣ along ``dim`` (None: as ``Softmax``)."""

    def forward(self, input: Tensor) -> Tensor:
        return ops.log_softmax(input, _implicit_dim("log_softmax", input, self.dim))


class ELU(Module):
    """y = x if x > 0 else α(eˣ - 1)."""

    def __init__(self, alpha: float = 1.0, inplace: bool = False):
        super().__init__()
        self.alpha, self.inplace = alpha, inplace

    def forward(self, input: Tensor) -> Tensor:
        return _written(lambda x: ops.elu(x, self.alpha), input, self.inplace)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}" + _inplace_text(self, ", ")


class SELU(Module):
    """y = λ·ELU_α(x) with λ ≈ 1.0507, α ≈ 1.6733 (self-normalising)."""

    def __init__(self, inplace: bool = False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return _written(lambda x: ops.elu(x, SELU_ALPHA, SELU_SCALE), input, self.inplace)

    def extra_repr(self) -> str:
        return _inplace_text(self)


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
    """y = min(max(x, min_val), max_val); its gradient is 0 at both corners (torch's).
    ``min_value`` / ``max_value``: torch's deprecated names for the bounds (a FutureWarning)."""

    def __init__(self, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False,
                 min_value: float | None = None, max_value: float | None = None):
        super().__init__()
        min_val = _renamed("min_value", min_value, "min_val", min_val)
        max_val = _renamed("max_value", max_value, "max_val", max_val)
        if max_val <= min_val:
            raise ValueError(f"Hardtanh: max_val must be larger than min_val. Received: "
                             f"min_val={min_val}, max_val={max_val}")
        self.min_val, self.max_val, self.inplace = min_val, max_val, inplace

    def forward(self, input: Tensor) -> Tensor:
        return _written(lambda x: ops.hardtanh(x, self.min_val, self.max_val), input,
                      self.inplace)

    def extra_repr(self) -> str:
        inplace = ", inplace=True" if self.inplace else ""
        return f"min_val={self.min_val}, max_val={self.max_val}{inplace}"


def _renamed(old: str, old_value, new: str, value):
    """``old_value`` where torch's deprecated keyword ``old`` was given (with torch's
    FutureWarning), else ``value``."""
    if old_value is None:
        return value
    warnings.warn(f"keyword argument `{old}` is deprecated and renamed to `{new}`",
                  FutureWarning, stacklevel=3)
    return old_value


class ReLU6(Hardtanh):
    """y = min(max(x, 0), 6); its gradient is 0 at 0 and 6 (torch's)."""

    def __init__(self, inplace: bool = False):
        super().__init__(0.0, 6.0, inplace)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class PReLU(Module):
    """y = x if x > 0 else a·x, with the slope ``a`` learned: one for all channels or one per
    channel (axis 1), initialised to ``init``."""

    def __init__(self, num_parameters: int = 1, init: float = 0.25, device=None, dtype=None):
        super().__init__()
        from ffnn import dtypes
        from ffnn.nn.parameter import Parameter

        self.num_parameters, self.init = num_parameters, init
        self.weight = Parameter(np.full(num_parameters, init, dtypes.to_dtype(dtype)))

    def reset_parameters(self) -> None:
        """Every slope back to ``init``."""
        from ffnn import autograd

        with autograd.no_grad():
            self.weight.fill_(self.init)

    def forward(self, input: Tensor) -> Tensor:
        if self.num_parameters > 1 and (input.ndim < 2 or input.shape[1] != self.num_parameters):
            raise ValueError(f"PReLU(num_parameters={self.num_parameters}) needs input with "
                             f"{self.num_parameters} channels on axis 1. Received: shape "
                             f"{tuple(input.shape)}")
        return ops.prelu(input, self.weight)

    def extra_repr(self) -> str:
        return f"num_parameters={self.num_parameters}"


# ----- traits: config names, spec, ONNX, torch, element-wise, Net2Net, op -------------------
def _onnx_gelu(g, m, x, path):
    """Exact: 0.5·x·(1 + erf(x/√2)); tanh: 0.5·x·(1 + tanh(√(2/π)(x + 0.044715x³)))."""
    if m.approximate == "tanh":
        cube = g.node("Mul", [g.node("Mul", [x, x], path), x], path)
        inner = g.node("Add", [x, g.node("Mul", [cube, g.scalar(0.044715)], path)], path)
        core = g.node("Tanh", [g.node("Mul", [inner, g.scalar(math.sqrt(2 / math.pi))], path)],
                      path)
    else:
        core = g.node("Erf", [g.node("Mul", [x, g.scalar(1 / math.sqrt(2))], path)], path)
    half_x = g.node("Mul", [x, g.scalar(0.5)], path)
    return g.node("Mul", [half_x, g.node("Add", [core, g.scalar(1.0)], path)], path)


def _onnx_silu(g, m, x, path):
    """x·σ(x)."""
    return g.node("Mul", [x, g.node("Sigmoid", [x], path)], path)


def _onnx_leaky_relu(g, m, x, path):
    return g.node("LeakyRelu", [x], path, alpha=float(m.negative_slope))


def _onnx_softmax(op: str):
    """The node over ``dim`` (None: 1, torch's implicit choice for the [n, features] batches
    the export takes)."""
    return lambda g, m, x, path: g.node(op, [x], path, axis=1 if m.dim is None else int(m.dim))


def _dim_is_last(m) -> bool:
    return m.dim in (-1, 1)


def _softmax_options(m) -> dict | None:
    """Softmax's and LogSoftmax's op options over the features (dim -1, or 1 of a batch);
    None for another dim (the chains leave it to the layer)."""
    return {"dim": m.dim} if m.dim in (-1, 1) else None


def _clamp_range(module) -> dict:
    """Hardtanh's (and ReLU6's) op options, as its ``forward`` reads them."""
    return {"min_val": module.min_val, "max_val": module.max_val}

declare(ReLU, kind="activation", name="relu", config=(), onnx=onnx_node("Relu"), torch="ReLU",
        elementwise=True, net2net="idempotent", op=_ops.ReLU, gain="relu",
        formula=("ReLU(z) = max(z, 0)", "ReLU'(z) = [z > 0]"))
declare(GELU, kind="activation", name="gelu", aliases={"gelu_tanh": {"approximate": "tanh"},
                                               "gelu_new": {"approximate": "tanh"},
                                               "gelu_pytorch_tanh": {"approximate": "tanh"}},
        config=("approximate",), onnx=_onnx_gelu, torch="GELU", elementwise=True,
        op=_ops.GELU, op_options=lambda m: {"approximate": m.approximate},
        formula=("GELU(z) = z Φ(z)", "GELU'(z) = Φ(z) + z φ(z)"))
declare(SiLU, kind="activation", name="silu", aliases={"swish": {}}, config=(),
        onnx=_onnx_silu, torch="SiLU", elementwise=True, op=_ops.SiLU,
        formula=("SiLU(z) = z σ(z)", "SiLU'(z) = σ(z)(1 + z(1 - σ(z)))"))
declare(Tanh, kind="activation", name="tanh", config=(), onnx=onnx_node("Tanh"), torch="Tanh",
        elementwise=True, op=_ops.Tanh, gain="tanh",
        formula=("tanh(z)", "tanh'(z) = 1 - tanh²(z)"))
declare(Sigmoid, kind="activation", name="sigmoid", aliases={"logistic": {}}, config=(),
        onnx=onnx_node("Sigmoid"), torch="Sigmoid", elementwise=True, op=_ops.Sigmoid,
        formula=("σ(z) = 1/(1 + e^{-z})", "σ'(z) = σ(z)(1 - σ(z))"))
declare(LeakyReLU, kind="activation", name="leaky_relu", config=("negative_slope",),
        onnx=_onnx_leaky_relu, torch="LeakyReLU", elementwise=True, op=_ops.LeakyReLU,
        op_options=lambda m: {"negative_slope": m.negative_slope}, gain="leaky_relu",
        formula=("LeakyReLU(z) = max(z, αz)", "LeakyReLU'(z) = 1 if z > 0 else α"))
declare(Softmax, config=("dim",), onnx=_onnx_softmax("Softmax"), torch="Softmax",
        rowwise=_dim_is_last, op=_ops.Softmax, op_options=_softmax_options)
declare(LogSoftmax, config=("dim",), onnx=_onnx_softmax("LogSoftmax"), torch="LogSoftmax",
        rowwise=_dim_is_last, op=_ops.LogSoftmax, op_options=_softmax_options)
declare(ELU, config=("alpha",), torch="ELU", elementwise=True, op=_ops.ELU,
        op_options=lambda m: {"alpha": m.alpha})
declare(SELU, config=(), torch="SELU", elementwise=True, op=_ops.ELU,
        op_options=lambda m: {"alpha": SELU_ALPHA, "scale": SELU_SCALE})
declare(ReLU6, config=(), torch="ReLU6", elementwise=True, op=_more_ops.Hardtanh,
        op_options=_clamp_range)
declare(Softplus, config=("beta", "threshold"), torch="Softplus", elementwise=True,
        op=_ops.Softplus, op_options=lambda m: {"beta": m.beta, "threshold": m.threshold})
declare(Hardtanh, config=("min_val", "max_val"), torch="Hardtanh", elementwise=True,
        op=_more_ops.Hardtanh, op_options=_clamp_range)
declare(PReLU, config=("num_parameters",), shapes=lambda c: {"weight": (c["num_parameters"],)},
        torch="PReLU")
