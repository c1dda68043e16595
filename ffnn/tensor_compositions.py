"""torch's tensor methods that are sums of products and statistics over the differentiable
ops (``addmv``, ``addr``, ``baddbmm``, ``addbmm``, ``cov``, ``corrcoef``, ``renorm``,
``diagflat``, ``sum_to_size``, ``hardshrink``): each a composition, so its gradient is the
ops' (torch's formulas, the same numbers); ``ffnn.functions_compositions`` has the function
forms."""

from __future__ import annotations

import warnings

import numpy as np


def _ops():
    from ffnn import ops

    return ops


def _integer_factors(beta, alpha, dtype: np.dtype, strict: bool) -> tuple:
    """β and α for tensors of ``dtype``: with integer tensors, a float factor raises where
    torch's op checks it (``strict``: addr) and is truncated where torch's truncates it
    (addmm, addmv, baddbmm, addbmm)."""
    if dtype.kind not in "iub":
        return beta, alpha
    for name, value in (("beta", beta), ("alpha", alpha)):
        if strict and isinstance(value, float):
            raise RuntimeError(f"For integral input tensors, argument {name} must not be a "
                               "floating point number.")
    return int(beta), int(alpha)


def scaled_sum(input, product, beta, alpha, strict: bool = False):  # noqa: A002 - torch's
    """β·input + α·product broadcast together; with β = 0 the input is not read (NaN and inf
    in it do not reach the result), as torch's add*-family says."""
    beta, alpha = _integer_factors(beta, alpha, input.dtype, strict)
    scaled = product if alpha == 1 else alpha * product
    if beta == 0:  # the input's gradient is 0, as torch's, through a choice it never wins
        from ffnn.tensor_more import _plain

        return _ops().where(_plain(np.ones((), bool)), scaled, input)
    return (input if beta == 1 else beta * input) + scaled


def _need_dims(name: str, argument: str, tensor, ndim: int) -> None:
    if tensor.ndim != ndim:
        raise RuntimeError(f"{name}: {argument} must be a {ndim}-D tensor, got a "
                           f"{tensor.ndim}-D tensor of shape {tuple(tensor.shape)}")


def _covariance_weights(x, fweights, aweights):
    """w = fweights · aweights over the N observations (None where neither is given), each
    checked as torch checks it: 1-D, N entries, non-negative, fweights of integers."""
    count = x.shape[-1]
    weights = None
    for name, given in (("fweights", fweights), ("aweights", aweights)):
        if given is None:
            continue
        values = given.numpy()
        if given.ndim > 1:
            raise RuntimeError(f"cov(): expected {name} to have one or fewer dimensions but "
                               f"got {name} with {given.ndim} dimensions")
        if given.numel() != count:
            raise RuntimeError(f"cov(): expected {name} to have the same numel as there are "
                               f"observations in the input but got {given.numel()} != {count}")
        if name == "fweights" and values.dtype.kind not in "iu":
            raise RuntimeError(f"cov(): expected fweights to have integral dtype but got "
                               f"fweights with {values.dtype} dtype")
        if (values < 0).any():
            raise RuntimeError(f"cov(): {name} cannot have negative values")
        weights = given if weights is None else weights * given
    return weights


def _floating(x):
    from ffnn.dtypes import get_default_dtype

    return x if x.dtype.kind == "f" else x.to(get_default_dtype())


class CompositionTensorMethods:
    """Mixed into ``Tensor``."""

    def addmv(self, mat, vec, *, beta=1, alpha=1):
        """β·self + α·(mat @ vec) for mat [n, m], vec [m]."""
        _need_dims("addmv", "mat", mat, 2)
        _need_dims("addmv", "vec", vec, 1)
        return scaled_sum(self, mat @ vec, beta, alpha)

    def addr(self, vec1, vec2, *, beta=1, alpha=1):
        """β·self + α·(vec1 ⊗ vec2) for vec1 [n], vec2 [m]."""
        _need_dims("addr", "vec1", vec1, 1)
        _need_dims("addr", "vec2", vec2, 1)
        return scaled_sum(self, vec1.outer(vec2), beta, alpha, strict=True)

    def baddbmm(self, batch1, batch2, *, beta=1, alpha=1):
        """β·self + α·(batch1 @ batch2) for batch1 [b, n, m], batch2 [b, m, p]: one product
        per batch entry."""
        _need_dims("baddbmm", "batch1", batch1, 3)
        _need_dims("baddbmm", "batch2", batch2, 3)
        return scaled_sum(self, batch1.bmm(batch2), beta, alpha)

    def addbmm(self, batch1, batch2, *, beta=1, alpha=1):
        """β·self + α·Σᵢ batch1[i] @ batch2[i] for batch1 [b, n, m], batch2 [b, m, p]."""
        _need_dims("addbmm", "batch1", batch1, 3)
        _need_dims("addbmm", "batch2", batch2, 3)
        return scaled_sum(self, batch1.bmm(batch2).sum(0), beta, alpha)

    def cov(self, *, correction: int = 1, fweights=None, aweights=None):
        """The covariance of the variables (rows) over the observations (columns) of a 2-D
        tensor (one variable for a 1-D one: a 0-d result). With w = fweights · aweights,
        x̄ = Σ w x / Σ w and C = (x − x̄)(w (x − x̄))ᵀ / (Σ w − correction · Σ w·aweights / Σ w)
        (N − correction without weights; 0 degrees of freedom or fewer: 0, with torch's
        warning)."""
        if self.ndim > 2:
            raise RuntimeError(f"cov(): expected input to have two or fewer dimensions but got "
                               f"an input with {self.ndim} dimensions")
        x = _floating(self if self.ndim == 2 else self.reshape(1, -1))
        weights = _covariance_weights(x, fweights, aweights)
        if weights is None:
            total, mean = x.shape[1], x.mean(1, keepdim=True)
            dof = total - correction
        else:
            weights = weights.to(x.dtype)
            total = weights.sum()
            mean = (x * weights).sum(1, keepdim=True) / total
            dof = total if correction == 0 else (
                total - correction if aweights is None else
                total - correction * (weights * aweights.to(x.dtype)).sum() / total)
        centred = x - mean
        product = centred @ (centred if weights is None else centred * weights).mT
        if float(dof) > 0:
            return (product / dof).squeeze()
        warnings.warn("cov(): degrees of freedom is <= 0. Correction should be strictly less "
                      "than the number of observations.", RuntimeWarning, stacklevel=2)
        with np.errstate(divide="ignore", invalid="ignore"):
            return (product / (0 * dof)).squeeze()

    def corrcoef(self):
        """Pearson's correlation of the rows: C / (σ σᵀ) from ``cov``, clipped to [−1, 1]
        (a 1-D tensor's: c / c)."""
        c = self.cov()
        if c.ndim == 0:
            return c / c
        deviation = c.diagonal().sqrt()
        return (c / deviation[:, None] / deviation[None, :]).clamp(-1, 1)

    def renorm(self, p: float, dim: int, maxnorm: float):
        """Each slice along ``dim`` whose p-norm (over its other dims) exceeds ``maxnorm``
        scaled to norm ``maxnorm``: x · maxnorm / (‖x‖ₚ + 1e-7); the others as they are."""
        from ffnn.linalg import vector_norm

        if p <= 0:
            raise RuntimeError(f"renorm: non-positive-norm not supported, got p={p}")
        if maxnorm < 0:
            raise RuntimeError(f"renorm: expected maxnorm to be >= 0 but got {maxnorm}")
        if self.ndim <= 1:
            raise RuntimeError(f"renorm: input needs at least 2 dimensions, got {self.ndim} "
                               "dimensions")
        from ffnn.ops.reductions import normalize_dim

        axis = normalize_dim(dim, self.ndim)
        others = tuple(d for d in range(self.ndim) if d != axis)
        norm = vector_norm(self, p, dim=others, keepdim=True)
        factor = _ops().where(norm > maxnorm, maxnorm / (norm + 1e-7), 1.0)
        return self * factor.to(self.dtype)

    def diagflat(self, offset: int = 0):
        """A 2-D tensor with the flattened input on its ``offset`` diagonal."""
        return self.reshape(-1).diag(offset)

    def sum_to_size(self, *args, size=None):
        """The sum of self down to ``size``, which must broadcast to self's shape (the sums
        a broadcast's gradient takes)."""
        from ffnn.tensor import _shape_args

        shape = _shape_args(args, size)
        lead = self.ndim - len(shape)
        if lead < 0 or any(s not in (1, t) for s, t in zip(shape, self.shape[lead:])):
            raise RuntimeError(f"size {{{', '.join(map(str, shape))}}} is not expandable to "
                               f"size {{{', '.join(map(str, self.shape))}}}.")
        dims = tuple(range(lead)) + tuple(
            lead + i for i, s in enumerate(shape) if s == 1 and self.shape[lead + i] != 1)
        if not dims:
            return self
        out = self.sum(dim=dims, keepdim=True)
        return out.reshape(shape) if lead else out

    def hardshrink(self, lambd: float = 0.5):
        """x where |x| > λ, else 0."""
        from ffnn.nn.activation_more import hardshrink

        return hardshrink(self, lambd)
