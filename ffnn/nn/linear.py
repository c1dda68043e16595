"""The feed-forward (dense) layer and its trivial companions."""

from __future__ import annotations

import math

import numpy as np

from ffnn import dtypes, ops
from ffnn.errors import RuntimeValueError
from ffnn.nn import init
from ffnn.nn.module import Module
from ffnn.nn.parameter import Parameter
from ffnn.nn.traits import declare
from ffnn.tensor import Tensor


def _check_positive_int(layer: str, **values) -> None:
    for name, value in values.items():
        if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value <= 0:
            raise ValueError(
                f"{layer}: {name} must be a positive integer. Received: {name}={value!r}"
            )


class Linear(Module):
    """y = x Wᵀ + b, x of shape [..., in_features], W [out_features, in_features], b [out].

    Initialised as torch does: W ~ U(-1/√in, 1/√in) (kaiming-uniform with a = √5) and the same
    bound for b, so a state_dict moves between the two libraries unchanged.
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, dtype=None,
                 generator=None, device=None):
        super().__init__()
        _check_positive_int("Linear", in_features=in_features, out_features=out_features)
        self.in_features, self.out_features = int(in_features), int(out_features)
        dtype = dtypes.to_dtype(dtype)
        self.weight = Parameter(np.empty((out_features, in_features), dtype=dtype))
        if bias:
            self.bias = Parameter(np.empty(out_features, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters(generator)

    def reset_parameters(self, generator=None) -> None:
        init.kaiming_uniform_(self.weight, a=math.sqrt(5), generator=generator)
        if self.bias is not None:
            bound = 1 / math.sqrt(self.in_features)
            init.uniform_(self.bias, -bound, bound, generator)

    def forward(self, input: Tensor) -> Tensor:
        if not isinstance(input, Tensor):
            input = Tensor._of(input)
        if input.ndim == 0 or input.shape[-1] != self.in_features:
            features = input.shape[-1] if input.ndim else 0
            raise RuntimeValueError(
                f"Linear(in_features={self.in_features}, out_features={self.out_features}) got "
                f"input with {features} features (shape {tuple(input.shape)})"
            )
        return ops.linear(input, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


class NonDynamicallyQuantizableLinear(Linear):
    """A ``Linear`` under torch's name for ``MultiheadAttention``'s ``out_proj`` (torch keeps
    it apart for its quantization tools): the same layer, printed under that name."""


class LazyLinear(Linear):
    """A ``Linear`` whose ``in_features`` comes from its first input (torch's
    ``nn.LazyLinear``, as the d2l book writes its networks): until then the weight holds no
    values ([out_features, 0]). The first forward, or a ``load_state_dict``, gives the same
    Parameter objects their [out, in] and [out] arrays (so an optimizer made before holds
    them), initialised as ``Linear``'s, and the module becomes a ``Linear``, class and all."""

    def __init__(self, out_features: int, bias: bool = True, dtype=None, generator=None,
                 device=None):
        Module.__init__(self)
        _check_positive_int("LazyLinear", out_features=out_features)
        self.in_features, self.out_features = 0, int(out_features)
        dtype = dtypes.to_dtype(dtype)
        self.weight = Parameter(np.empty((self.out_features, 0), dtype=dtype))
        if bias:
            self.bias = Parameter(np.empty(0, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.generator = generator

    def forward(self, input: Tensor) -> Tensor:
        if not isinstance(input, Tensor):
            input = Tensor._of(input)
        if input.ndim == 0 or input.shape[-1] == 0:
            raise ValueError(f"LazyLinear(out_features={self.out_features}) needs input with "
                             f"features on its last axis. Received: shape "
                             f"{tuple(input.shape)}")
        self.materialize(input.shape[-1])
        return self.forward(input)

    def materialize(self, in_features: int) -> None:
        """Give the parameters their shapes for ``in_features`` inputs, initialise them as
        ``Linear``'s, and become a ``Linear``."""
        _check_positive_int("LazyLinear", in_features=in_features)
        dtype = self.weight._data.dtype
        self.in_features = int(in_features)
        self.weight._data = np.empty((self.out_features, self.in_features), dtype=dtype)
        if self.bias is not None:
            self.bias._data = np.empty(self.out_features, dtype=dtype)
        generator = self.__dict__.pop("generator", None)
        self.__class__ = Linear
        self.reset_parameters(generator)

    def _materialize_from(self, state: dict, prefix: str) -> None:
        """``load_state_dict``'s hook: take ``in_features`` from the weight about to be
        loaded."""
        weight = state.get(prefix + "weight")
        if weight is not None and weight.ndim == 2 and weight.shape[1] > 0:
            self.materialize(weight.shape[1])


class Identity(Module):
    """y = x."""

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, input: Tensor) -> Tensor:
        return input


class Flatten(Module):
    """Flatten dims ``start_dim``..``end_dim`` into one (default: all but the batch dim)."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, input: Tensor) -> Tensor:
        return ops.flatten(input, self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Split dim ``dim`` into ``unflattened_size`` (the inverse of Flatten): [N, 12] with
    ``Unflatten(1, (3, 4))`` → [N, 3, 4]."""

    def __init__(self, dim: int, unflattened_size):
        super().__init__()
        if isinstance(unflattened_size, int) or not all(
                isinstance(n, int) for n in unflattened_size):
            raise TypeError(f"Unflatten: unflattened_size must be a tuple of ints. Received: "
                            f"{unflattened_size!r}")
        self.dim, self.unflattened_size = dim, tuple(unflattened_size)

    def forward(self, input: Tensor) -> Tensor:
        dim = self.dim % input.ndim
        shape = input.shape[:dim] + self.unflattened_size + input.shape[dim + 1:]
        return ops.reshape(input, shape)

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"


# ----- traits: spec, ONNX, torch, row-wise ---------------------------------------------------
def _linear_config(m: Linear) -> dict:
    return {"in_features": m.in_features, "out_features": m.out_features,
            "bias": m.bias is not None}


def _linear_shapes(c: dict) -> dict:
    out = {"weight": (c["out_features"], c["in_features"])}
    return {**out, "bias": (c["out_features"],)} if c["bias"] else out


def _linear_from_torch(m) -> dict:
    return {"in_features": m.in_features, "out_features": m.out_features,
            "bias": m.bias is not None, "dtype": str(m.weight.dtype)}


def _onnx_linear(g, m, x, path):
    """y = x Wᵀ + b: MatMul with the transposed weight, then Add."""
    y = g.node("MatMul", [x, g.const(m.weight._data.T, f"{path}.weight_t")], path)
    if m.bias is not None:
        y = g.node("Add", [y, g.const(m.bias._data, f"{path}.bias")], path)
    return y


def _onnx_flatten(g, m, x, path):
    if m.end_dim != -1 or m.start_dim < 0:
        raise ValueError(
            f"ONNX export supports Flatten(start_dim>=0, end_dim=-1) only. Received: "
            f"Flatten(start_dim={m.start_dim}, end_dim={m.end_dim}) at {path!r}"
        )
    shape = g.const([0] * m.start_dim + [-1], f"{path}.shape", dtype=np.int64)
    return g.node("Reshape", [x, shape], path)


declare(Linear, config=_linear_config, shapes=_linear_shapes, onnx=_onnx_linear,
        torch="Linear", from_torch=_linear_from_torch, rowwise=True)
declare(NonDynamicallyQuantizableLinear, config=_linear_config, shapes=_linear_shapes,
        onnx=_onnx_linear, rowwise=True)  # no torch name: torch.nn.Linear maps to Linear
declare(LazyLinear, torch="LazyLinear",
        config=lambda m: {"out_features": m.out_features, "bias": m.bias is not None},
        shapes=lambda c: {"weight": (c["out_features"], 0),
                          **({"bias": (0,)} if c["bias"] else {})})
declare(Identity, name="identity", config=(),
        onnx=lambda g, m, x, path: x, torch="Identity", elementwise=True,
        formula=("z", "1"))
declare(Flatten, config=("start_dim", "end_dim"), onnx=_onnx_flatten, torch="Flatten")
declare(Unflatten, config=lambda m: {"dim": m.dim, "unflattened_size": list(m.unflattened_size)})
