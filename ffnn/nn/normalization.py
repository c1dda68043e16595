"""Normalisation layers and dropout."""

from __future__ import annotations

import numpy as np

from ffnn import autograd, dtypes
from ffnn.errors import RuntimeValueError
from ffnn.nn import functional as F
from ffnn.nn.module import Module
from ffnn.nn.parameter import Parameter
from ffnn.nn.traits import declare
from ffnn.ops import norms as _norm_ops
from ffnn.tensor import Tensor


def register_norm_state(module: Module, num_features: int, dtype, affine: bool,
                        track_running_stats: bool, bias: bool = True) -> None:
    """A per-feature norm's state, torch's names: γ = ``weight`` (ones) and β = ``bias``
    (zeros) when ``affine`` (else None), and ``running_mean`` (zeros), ``running_var`` (ones)
    and ``num_batches_tracked`` buffers when ``track_running_stats`` (else None)."""
    if affine:
        module.weight = Parameter(np.ones(num_features, dtype))
        if bias:
            module.bias = Parameter(np.zeros(num_features, dtype))
        else:
            module.register_parameter("bias", None)
    else:
        module.register_parameter("weight", None)
        module.register_parameter("bias", None)
    if track_running_stats:
        module.register_buffer("running_mean", np.zeros(num_features, dtype))
        module.register_buffer("running_var", np.ones(num_features, dtype))
        module.register_buffer("num_batches_tracked", np.array(0, dtype=np.int64))
    else:
        module.running_mean = module.running_var = module.num_batches_tracked = None


def reset_affine(module: Module) -> None:
    """A norm layer's γ back to ones and β to zeros (those it has), in place, outside any
    graph: torch's ``reset_parameters`` of the norms."""
    with autograd.no_grad():
        if getattr(module, "weight", None) is not None:
            module.weight.fill_(1.0)
        if getattr(module, "bias", None) is not None:
            module.bias.zero_()


class _NormBase(Module):
    """The base of the layers that normalise with running statistics (torch's name, so that
    ``isinstance(m, nn.modules.batchnorm._NormBase)`` finds them)."""

    def reset_parameters(self) -> None:
        """Running statistics reset, γ ones and β zeros (torch's)."""
        self.reset_running_stats()
        reset_affine(self)

    def reset_running_stats(self) -> None:
        if self.track_running_stats:
            self.running_mean[...] = 0
            self.running_var[...] = 1
            self.num_batches_tracked[...] = 0


class _BatchNorm(_NormBase):
    """The batch norms' base (torch's name, for ``isinstance`` checks in programs' inits)."""


class BatchNorm1d(_BatchNorm):
    """y = γ (x - μ)/√(σ² + ε) + β over the batch (and length) axes of [N, C] or [N, C, L].

    Training: batch statistics, and running_mean/running_var (unbiased) updated with
    ``momentum`` (None: cumulative average); eval: the running statistics. Buffers and their
    names are torch's (``running_mean``, ``running_var``, ``num_batches_tracked``).
    ``frozen = True`` (set by ``ffnn.finetune.freeze``) keeps the running statistics in use
    and unchanged even in training mode, as a frozen feature extractor needs.
    """

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True, dtype=None,
                 device=None, *, bias: bool = True):
        super().__init__()
        if not isinstance(num_features, int) or num_features <= 0:
            raise ValueError(
                f"BatchNorm1d: num_features must be a positive integer. Received: {num_features!r}"
            )
        dtype = dtypes.to_dtype(dtype)
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        self.frozen = False
        register_norm_state(self, num_features, dtype, affine, track_running_stats, bias)

    def forward(self, input: Tensor) -> Tensor:
        if input.ndim not in (2, 3) or input.shape[1] != self.num_features:
            raise RuntimeValueError(
                f"BatchNorm1d(num_features={self.num_features}) expects input of shape "
                f"[N, {self.num_features}] or [N, {self.num_features}, L]. Received: shape "
                f"{tuple(input.shape)}"
            )
        training = self.training and not self.frozen
        use_batch_stats = training or not self.track_running_stats
        if training and self.track_running_stats:
            count_batch(self)
        return F.batch_norm(
            input, self.running_mean, self.running_var,
            self.weight, self.bias, training=use_batch_stats, momentum=self.momentum,
            eps=self.eps, num_batches_tracked=self.num_batches_tracked,
        )

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, bias={self.bias is not None}, "
                f"track_running_stats={self.track_running_stats}")


_MISSING = object()


def buffer_of(module: Module, name: str):
    """``getattr(module, name)`` for a buffer, read from the module's buffers directly (a
    third of ``Module.__getattr__``'s cost, which a small batch norm pays several times a
    step); the attribute where it is not a registered buffer."""
    found = vars(module)["_buffers"].get(name, _MISSING)
    return getattr(module, name) if found is _MISSING or name in vars(module) else found


def count_batch(module: BatchNorm1d) -> None:
    """``module.num_batches_tracked += 1``, straight on its array (in place, the tensor's
    version bumped as the Tensor op bumps it): the op's dispatch cost more than a small
    batch norm's forward."""
    counter = buffer_of(module, "num_batches_tracked")
    data = getattr(counter, "_data", None)
    if type(data) is np.ndarray and data.dtype.kind in "iu" and data.flags.writeable:
        data += 1
        autograd.bump_version(counter)
    else:
        module.num_batches_tracked += 1


class LayerNorm(Module):
    """y = (x - μ)/√(σ² + ε) · γ + β over the trailing ``normalized_shape`` axes."""

    def __init__(self, normalized_shape, eps: float = 1e-5, elementwise_affine: bool = True,
                 bias: bool = True, dtype=None, device=None):
        super().__init__()
        self.normalized_shape = (
            (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
        )
        self.eps, self.elementwise_affine = eps, elementwise_affine
        dtype = dtypes.to_dtype(dtype)
        if elementwise_affine:
            self.weight = Parameter(np.ones(self.normalized_shape, dtype))
            if bias:
                self.bias = Parameter(np.zeros(self.normalized_shape, dtype))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def forward(self, input: Tensor) -> Tensor:
        return F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def reset_parameters(self) -> None:
        reset_affine(self)

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}, bias={self.bias is not None}")


class RMSNorm(Module):
    """y = x / √(mean(x²) + ε) · γ over the trailing ``normalized_shape`` axes
    (ε = None: the dtype's machine epsilon, as torch)."""

    def __init__(self, normalized_shape, eps: float | None = None,
                 elementwise_affine: bool = True, dtype=None, device=None):
        super().__init__()
        self.normalized_shape = (
            (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
        )
        self.eps, self.elementwise_affine = eps, elementwise_affine
        if elementwise_affine:
            self.weight = Parameter(np.ones(self.normalized_shape, dtypes.to_dtype(dtype)))
        else:
            self.register_parameter("weight", None)

    def forward(self, x: Tensor) -> Tensor:  # torch's name for the input here
        return F.rms_norm(x, self.normalized_shape, self.weight, self.eps)

    def reset_parameters(self) -> None:
        reset_affine(self)

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}")


class _DropoutNd(Module):
    """The dropout layers' base (torch's name): the probability ``p`` (checked, 0 ≤ p ≤ 1),
    ``inplace``, and the ``generator`` the masks come from (None: the global seed)."""

    def __init__(self, p: float = 0.5, inplace: bool = False, generator=None):
        super().__init__()
        F.check_dropout_probability(p)
        self.p, self.inplace, self.generator = p, inplace, generator

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


class Dropout(_DropoutNd):
    """Training: zero each element with probability p and scale the rest by 1/(1-p);
    eval: identity. Masks come from ``generator`` or the global seed."""

    def forward(self, input: Tensor) -> Tensor:
        if self.inplace and self.training and self.p > 0:
            return input._inplace(lambda x: F.dropout(x, self.p, True, generator=self.generator))
        return F.dropout(input, self.p, self.training, generator=self.generator)


# ----- traits: spec, ONNX, torch, row-wise, Net2Net -----------------------------------------
def _dtype(m: Module):
    """The floating dtype of the module's tensors (None when it holds none)."""
    return next((a.dtype for a in m.state_dict().values() if a.dtype.kind == "f"), None)


def _batchnorm_shapes(c: dict) -> dict:
    n = c["num_features"]
    out = {"weight": (n,), "bias": (n,)} if c["affine"] else {}
    if c["track_running_stats"]:
        out.update(running_mean=(n,), running_var=(n,), num_batches_tracked=())
    return out


def _onnx_batch_norm(g, m, x, path):
    """y = γ (x - running_mean)/√(running_var + ε) + β over axis 1 (eval)."""
    if not m.track_running_stats:
        raise ValueError(
            f"ONNX export of BatchNorm1d needs running statistics; {path!r} was built with "
            "track_running_stats=False"
        )
    c = m.num_features
    weight = m.weight._data if m.weight is not None else np.ones(c)
    bias = m.bias._data if m.bias is not None else np.zeros(c)
    inputs = [x, g.const(weight, f"{path}.weight"), g.const(bias, f"{path}.bias"),
              g.const(m.running_mean.numpy(), f"{path}.running_mean"),
              g.const(m.running_var.numpy(), f"{path}.running_var")]
    return g.node("BatchNormalization", inputs, path, epsilon=float(m.eps))


def _batchnorm_rowwise(m: BatchNorm1d) -> bool:
    """Running statistics only: each row normalised on its own."""
    return m.track_running_stats and (not m.training or m.frozen)


declare(BatchNorm1d, config=("num_features", "eps", "momentum", "affine",
                             "track_running_stats"),
        shapes=_batchnorm_shapes, onnx=_onnx_batch_norm, torch="BatchNorm1d",
        rowwise=_batchnorm_rowwise, net2net="batch_norm",
        resize=lambda m, n: BatchNorm1d(n, m.eps, m.momentum, m.affine, m.track_running_stats,
                                        dtype=_dtype(m)))


def _layernorm_config(m: LayerNorm) -> dict:
    return {"normalized_shape": list(m.normalized_shape), "eps": m.eps,
            "elementwise_affine": m.elementwise_affine, "bias": m.bias is not None}


def _layernorm_shapes(c: dict) -> dict:
    shape = tuple(c["normalized_shape"])
    if not c["elementwise_affine"]:
        return {}
    return {"weight": shape, "bias": shape} if c.get("bias", True) else {"weight": shape}


def _onnx_layer_norm(g, m, x, path):
    shape = m.normalized_shape
    weight = m.weight._data if m.weight is not None else np.ones(shape)
    inputs = [x, g.const(weight, f"{path}.weight")]
    if m.bias is not None:
        inputs.append(g.const(m.bias._data, f"{path}.bias"))
    return g.node("LayerNormalization", inputs, path, axis=-len(shape), epsilon=float(m.eps))


def _norm_from_torch(m) -> dict:
    out = {"normalized_shape": m.normalized_shape, "eps": m.eps,
           "elementwise_affine": m.elementwise_affine,
           "dtype": str(m.weight.dtype) if m.elementwise_affine else None}
    if hasattr(m, "bias"):  # LayerNorm; RMSNorm has no bias
        out["bias"] = m.bias is not None
    return out


declare(LayerNorm, config=_layernorm_config, shapes=_layernorm_shapes, onnx=_onnx_layer_norm,
        torch="LayerNorm", from_torch=_norm_from_torch, rowwise=True, net2net="feature_norm",
        op=_norm_ops.LayerNorm,
        op_options=lambda m: {"normalized_ndim": len(m.normalized_shape), "eps": m.eps},
        resize=lambda m, n: LayerNorm(n, m.eps, m.elementwise_affine, m.bias is not None,
                                      dtype=_dtype(m)))


def _onnx_rms_norm(g, m, x, path):
    """y = x / √(mean(x²) + ε) · γ over the trailing normalized_shape axes."""
    k = len(m.normalized_shape)
    eps = m.eps if m.eps is not None else float(np.finfo(g.dtype).eps)
    mean_sq = g.node("ReduceMean", [g.node("Mul", [x, x], path)], path,
                     axes=list(range(-k, 0)), keepdims=1)
    rms = g.node("Sqrt", [g.node("Add", [mean_sq, g.scalar(float(eps))], path)], path)
    y = g.node("Div", [x, rms], path)
    if m.weight is not None:
        y = g.node("Mul", [y, g.const(m.weight._data, f"{path}.weight")], path)
    return y


declare(RMSNorm, config=("normalized_shape", "eps", "elementwise_affine"),
        shapes=lambda c: {"weight": tuple(c["normalized_shape"])} if c["elementwise_affine"]
        else {},
        onnx=_onnx_rms_norm, torch="RMSNorm", from_torch=_norm_from_torch, rowwise=True,
        net2net="feature_norm",
        resize=lambda m, n: RMSNorm(n, m.eps, m.elementwise_affine, dtype=_dtype(m)))
declare(Dropout, config=("p",), onnx=lambda g, m, x, path: x, torch="Dropout",
        elementwise=True, rowwise=lambda m: not m.training or m.p == 0)
