"""``torch.nn.utils.parametrizations``: weight normalisation and spectral normalisation as
parametrizations (``ffnn.nn.utils.parametrize``).

Weight norm (Salimans and Kingma, 2016): W = g · v/‖v‖, the norm over every axis but
``dim`` (``dim=None``: over all of W, one g); originals ``original0`` = g, ``original1`` = v.
Spectral norm (Miyato et al., 2018): W / σ(W), σ the largest singular value of W as a
matrix (its ``dim`` axis first, the rest flattened), estimated by power iteration on kept
unit vectors u, v: in training mode each forward runs ``n_power_iterations`` of
u ← normalize(W v), v ← normalize(Wᵀ u) (no gradient), then σ = uᵀ W v (gradient to W).
"""

from __future__ import annotations

from ffnn import creation
from ffnn.autograd import no_grad
from ffnn.nn import functional as F
from ffnn.nn.module import Module
from ffnn.nn.utils import parametrize
from ffnn.tensor import Tensor


def norm_except_dim(v: Tensor, pow: float = 2, dim: int = 0) -> Tensor:
    """‖v‖ over every axis but ``dim``, shaped to broadcast against v (``dim=-1``: the
    norm of all of v, a 0-d tensor), as torch's."""
    if dim == -1:
        return v.norm(pow)
    axes = tuple(axis for axis in range(v.ndim) if axis != dim)
    if pow == 2:
        return (v * v).sum(dim=axes, keepdim=True).sqrt()
    return (v.abs() ** pow).sum(dim=axes, keepdim=True) ** (1.0 / pow)


def weight_norm_of(v: Tensor, g: Tensor, dim: int) -> Tensor:
    """W = v · (g / ‖v‖), the norm over every axis but ``dim`` (torch's ``_weight_norm``)."""
    return v * (g / norm_except_dim(v, 2, dim))


class _WeightNorm(Module):
    def __init__(self, dim: int | None) -> None:
        super().__init__()
        self.dim = -1 if dim is None else dim

    def forward(self, weight_g: Tensor, weight_v: Tensor) -> Tensor:
        return weight_norm_of(weight_v, weight_g, self.dim)

    def right_inverse(self, weight: Tensor) -> tuple[Tensor, Tensor]:
        return norm_except_dim(weight, 2, self.dim), weight


def weight_norm(module: Module, name: str = "weight", dim: int | None = 0) -> Module:
    """``module.<name>`` = g · v/‖v‖ with g and v learned (the module docstring)."""
    parametrize.register_parametrization(module, name, _WeightNorm(dim), unsafe=True)
    return module


def _normalize(x: Tensor, eps: float) -> Tensor:
    return F.normalize(x, dim=0, eps=eps)


class _SpectralNorm(Module):
    def __init__(self, weight: Tensor, n_power_iterations: int = 1, dim: int = 0,
                 eps: float = 1e-12) -> None:
        super().__init__()
        ndim = weight.ndim
        if dim >= ndim or dim < -ndim:
            raise IndexError("Dimension out of range (expected to be in range of "
                             f"[-{ndim}, {ndim - 1}] but got {dim})")
        if n_power_iterations <= 0:
            raise ValueError("Expected n_power_iterations to be positive, but got "
                             f"n_power_iterations={n_power_iterations}")
        self.dim, self.eps = dim % ndim, eps
        if ndim > 1:
            self.n_power_iterations = n_power_iterations
            rows, columns = self._matrix(weight).shape
            with no_grad():
                u = creation.normal(0.0, 1.0, (rows,), dtype=weight.dtype)
                v = creation.normal(0.0, 1.0, (columns,), dtype=weight.dtype)
                self.register_buffer("_u", _normalize(u, eps))
                self.register_buffer("_v", _normalize(v, eps))
            self._power_method(self._matrix(weight), 15)

    def _matrix(self, weight: Tensor) -> Tensor:
        """W with its ``dim`` axis first, the others flattened: [rows, columns]."""
        if self.dim != 0:
            weight = weight.permute(self.dim, *(d for d in range(weight.ndim) if d != self.dim))
        return weight.reshape(weight.shape[0], -1)

    def _power_method(self, matrix: Tensor, iterations: int) -> None:
        with no_grad():
            for _ in range(iterations):
                self._u.copy_(_normalize(matrix @ self._v, self.eps))
                self._v.copy_(_normalize(matrix.T @ self._u, self.eps))

    def forward(self, weight: Tensor) -> Tensor:
        if weight.ndim == 1:
            return _normalize(weight, self.eps)
        matrix = self._matrix(weight)
        if self.training:
            self._power_method(matrix, self.n_power_iterations)
        u, v = self._u.clone(), self._v.clone()
        return weight / (u * (matrix @ v)).sum()

    def right_inverse(self, value: Tensor) -> Tensor:
        return value


def spectral_norm(module: Module, name: str = "weight", n_power_iterations: int = 1,
                  eps: float = 1e-12, dim: int | None = None) -> Module:
    """``module.<name>`` = W / σ(W), σ by power iteration (the module docstring)."""
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    parametrize.register_parametrization(
        module, name, _SpectralNorm(weight, n_power_iterations, 0 if dim is None else dim, eps))
    return module
