"""torch's older ``nn.utils.weight_norm`` and ``nn.utils.spectral_norm``: the normalised
weight recomputed by a forward pre-hook from parameters of the module itself (``weight_g``
and ``weight_v``; ``weight_orig`` with the buffers ``weight_u`` and ``weight_v``), and
``remove_weight_norm`` / ``remove_spectral_norm`` to fold it back into one parameter. The
math is ``parametrizations``' (weight norm W = g·v/‖v‖; spectral norm W/σ, σ = uᵀ W v after
power iterations, here v ← normalize(Wᵀu) first, as torch's hook does it).
"""

from __future__ import annotations

import warnings

from ffnn import creation
from ffnn.autograd import no_grad
from ffnn.nn import functional as F
from ffnn.nn.hooks import drop as drop_hook
from ffnn.nn.module import Module
from ffnn.nn.parameter import Parameter
from ffnn.nn.utils.parametrizations import norm_except_dim, weight_norm_of
from ffnn.tensor import Tensor


def _hooks_of(module: Module) -> list:
    return list(module.__dict__.get("_forward_pre_hooks", {}).values())


class WeightNorm:
    """The forward pre-hook of ``weight_norm``: ``module.<name>`` = g · v/‖v‖."""

    def __init__(self, name: str, dim: int) -> None:
        self.name, self.dim = name, dim

    def compute_weight(self, module: Module) -> Tensor:
        return weight_norm_of(getattr(module, self.name + "_v"),
                              getattr(module, self.name + "_g"), self.dim)

    def __call__(self, module: Module, inputs) -> None:
        setattr(module, self.name, self.compute_weight(module))

    def remove(self, module: Module) -> None:
        weight = self.compute_weight(module)
        delattr(module, self.name)
        del module._parameters[self.name + "_g"], module._parameters[self.name + "_v"]
        setattr(module, self.name, Parameter(weight.detach().numpy().copy()))


def weight_norm(module: Module, name: str = "weight", dim: int | None = 0) -> Module:
    """Parameters ``<name>_g`` = ‖W‖ (over every axis but ``dim``; ``None``: all) and
    ``<name>_v`` = W in place of W, which is recomputed before each forward."""
    warnings.warn("torch.nn.utils.weight_norm is deprecated in favor of "
                  "torch.nn.utils.parametrizations.weight_norm.", FutureWarning, stacklevel=2)
    if any(isinstance(h, WeightNorm) and h.name == name for h in _hooks_of(module)):
        raise RuntimeError(f"Cannot register two weight_norm hooks on the same parameter {name}")
    hook = WeightNorm(name, -1 if dim is None else dim)
    weight = getattr(module, name)
    del module._parameters[name]
    module.register_parameter(name + "_g", Parameter(
        norm_except_dim(weight, 2, hook.dim).detach().numpy().copy()))
    module.register_parameter(name + "_v", Parameter(weight.detach().numpy().copy()))
    setattr(module, name, hook.compute_weight(module))
    module.register_forward_pre_hook(hook)
    return module


def _remove_hook(module: Module, kind: type, name: str, what: str) -> Module:
    hooks = module.__dict__.get("_forward_pre_hooks", {})
    for key, hook in list(hooks.items()):
        if isinstance(hook, kind) and hook.name == name:
            hook.remove(module)
            drop_hook(module, "_forward_pre_hooks", key)
            return module
    raise ValueError(f"{what} of '{name}' not found in {module}")


def remove_weight_norm(module: Module, name: str = "weight") -> Module:
    """Fold ``weight_norm`` back into one parameter ``<name>`` (its current value)."""
    return _remove_hook(module, WeightNorm, name, "weight_norm")


class SpectralNorm:
    """The forward pre-hook of ``spectral_norm``: ``module.<name>`` = W/σ(W), with power
    iterations in training mode."""

    def __init__(self, name: str, n_power_iterations: int, dim: int, eps: float) -> None:
        if n_power_iterations <= 0:
            raise ValueError("Expected n_power_iterations to be positive, but got "
                             f"n_power_iterations={n_power_iterations}")
        self.name, self.n_power_iterations, self.dim, self.eps = (
            name, n_power_iterations, dim, eps)

    def reshape_weight_to_matrix(self, weight: Tensor) -> Tensor:
        if self.dim != 0:
            weight = weight.permute(self.dim, *(d for d in range(weight.ndim) if d != self.dim))
        return weight.reshape(weight.shape[0], -1)

    def compute_weight(self, module: Module, do_power_iteration: bool) -> Tensor:
        weight = getattr(module, self.name + "_orig")
        u, v = getattr(module, self.name + "_u"), getattr(module, self.name + "_v")
        matrix = self.reshape_weight_to_matrix(weight)
        if do_power_iteration:
            with no_grad():
                for _ in range(self.n_power_iterations):
                    v.copy_(F.normalize(matrix.T @ u, dim=0, eps=self.eps))
                    u.copy_(F.normalize(matrix @ v, dim=0, eps=self.eps))
            u, v = u.clone(), v.clone()
        return weight / (u * (matrix @ v)).sum()

    def __call__(self, module: Module, inputs) -> None:
        setattr(module, self.name, self.compute_weight(module, module.training))

    def remove(self, module: Module) -> None:
        with no_grad():
            weight = self.compute_weight(module, do_power_iteration=False)
        for suffix in ("", "_u", "_v", "_orig"):
            delattr(module, self.name + suffix)
        module.register_parameter(self.name, Parameter(weight.detach().numpy().copy()))


def spectral_norm(module: Module, name: str = "weight", n_power_iterations: int = 1,
                  eps: float = 1e-12, dim: int | None = None) -> Module:
    """Parameter ``<name>_orig`` and buffers ``<name>_u``, ``<name>_v`` in place of W, which
    is recomputed as W/σ(W) before each forward."""
    if any(isinstance(h, SpectralNorm) and h.name == name for h in _hooks_of(module)):
        raise RuntimeError(f"Cannot register two spectral_norm hooks on the same parameter "
                           f"{name}")
    hook = SpectralNorm(name, n_power_iterations, 0 if dim is None else dim, eps)
    weight = module._parameters[name]
    with no_grad():
        rows, columns = hook.reshape_weight_to_matrix(weight).shape
        u = F.normalize(creation.normal(0.0, 1.0, (rows,), dtype=weight.dtype), dim=0,
                        eps=hook.eps)
        v = F.normalize(creation.normal(0.0, 1.0, (columns,), dtype=weight.dtype), dim=0,
                        eps=hook.eps)
    delattr(module, name)
    module.register_parameter(name + "_orig", weight)
    setattr(module, name, weight.detach())
    module.register_buffer(name + "_u", u)
    module.register_buffer(name + "_v", v)
    module.register_forward_pre_hook(hook)
    return module


def remove_spectral_norm(module: Module, name: str = "weight") -> Module:
    """Fold ``spectral_norm`` back into one parameter ``<name>`` (W/σ with the kept u, v)."""
    return _remove_hook(module, SpectralNorm, name, "spectral_norm")
