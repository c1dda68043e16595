"""Cumulative ops beyond ``reductions.Cumsum``: the cumulative product and the cumulative
log-sum-exp along a dim, each derivative under its forward (NumPy and tensor form)."""

from __future__ import annotations

import numpy as np

from ffnn.autograd import Op
from ffnn.backend import xp
from ffnn.ops.elementwise import constant_like


def _along(dim: int, index) -> tuple:
    return (slice(None),) * dim + (index,)


def _reverse_cumsum(a, dim: int):
    m = xp(a)
    return m.flip(m.cumsum(m.flip(a, axis=dim), axis=dim), axis=dim)


def _reverse_cumsum_graph(t, dim: int):
    reverse = _along(dim, slice(None, None, -1))
    return t[reverse].cumsum(dim)[reverse]


class Cumprod(Op):
    """yᵢ = Π_{j ≤ i} xⱼ along ``dim``;  dL/dxⱼ = Σ_{i ≥ j} dL/dyᵢ Π_{l ≤ i, l ≠ j} xₗ: that is
    Σ_{i ≥ j} dL/dyᵢ yᵢ / xⱼ before the first zero xₖ of the slice, Σ_{i ≥ k} dL/dyᵢ y'ᵢ at
    it (y' the products with xₖ taken as 1), and 0 after it. float32 is multiplied in
    float64 (torch's CPU accumulation type), unless ``wide`` is False (float16 in float32)."""

    def forward(self, x, dim=0, wide=True):
        self.x, self.dim = x, dim
        accumulate = np.float64 if wide and x.dtype == np.float32 else None
        with np.errstate(all="ignore"):
            self.out = xp(x).cumprod(x, axis=dim, dtype=accumulate).astype(x.dtype, copy=False)
        return self.out

    def backward(self, grad):
        m, x, dim = xp(grad), self.x, self.dim
        zero = x == 0
        with np.errstate(all="ignore"):
            if not zero.any():
                return (_reverse_cumsum(grad * self.out, dim) / x,)
            seen = m.cumsum(zero, axis=dim)
            before, first = seen == 0, zero & (seen == 1)
            general = _reverse_cumsum(grad * self.out, dim) / m.where(before, x, 1)
            products = m.cumprod(m.where(first, x.dtype.type(1), x), axis=dim)
            at_zero = _reverse_cumsum(grad * products, dim)
            return (m.where(before, general, m.where(first, at_zero, 0)).astype(x.dtype),)

    def backward_graph(self, grad, x):
        """Without zeros the formula above; with some, dL/dxⱼ = Eⱼ Sⱼ, Eⱼ = Π_{l < j} xₗ and
        Sⱼ = dL/dyⱼ + xⱼ₊₁ Sⱼ₊₁, a polynomial in x whose derivatives are right at zeros too."""
        dim = self.options["dim"]
        if not (x._data == 0).any():
            return (_reverse_cumsum_graph(grad * Cumprod.apply(x, dim=dim), dim) / x,)
        from ffnn.ops import shape

        n = x.shape[dim]
        one = constant_like(x, xp(x._data).ones(x.shape[:dim] + (1,) + x.shape[dim + 1:]))
        before = Cumprod.apply(x[_along(dim, slice(0, n - 1))], dim=dim)
        exclusive = shape.Concatenate.apply(one, before, dim=dim)
        suffix = [grad[_along(dim, n - 1)]]
        for j in range(n - 2, -1, -1):
            suffix.append(grad[_along(dim, j)] + x[_along(dim, j + 1)]
                          * suffix[-1])
        return (exclusive * shape.Stack.apply(*reversed(suffix), dim=dim),)


class Logcumsumexp(Op):
    """yᵢ = ln Σ_{j ≤ i} e^{xⱼ} along ``dim``;  dL/dxⱼ = Σ_{i ≥ j} dL/dyᵢ e^{xⱼ - yᵢ}, summed in
    log space with the positive and the negative dL/dyᵢ apart, so nothing overflows."""

    def forward(self, x, dim=0):
        self.x, self.dim = x, dim
        with np.errstate(all="ignore"):
            self.out = xp(x).logaddexp.accumulate(x, axis=dim)
        return self.out

    def backward(self, grad):
        m, dim = xp(grad), self.dim
        total = 0
        with np.errstate(all="ignore"):
            for sign in (1, -1):
                part = m.where(sign * grad > 0, m.log(sign * grad) - self.out, -m.inf)
                suffix = m.flip(m.logaddexp.accumulate(m.flip(part, axis=dim), axis=dim),
                                axis=dim)
                total = total + sign * m.exp(self.x + suffix)
        return (total.astype(self.x.dtype, copy=False),)

    def backward_graph(self, grad, x):
        """e^{xⱼ - c} Σ_{i ≥ j} dL/dyᵢ e^{c - yᵢ}, c = the slice's last (largest) y held
        constant: exact while the y of a slice span less than ~700 (float64)."""
        dim = self.options["dim"]
        y = Logcumsumexp.apply(x, dim=dim)
        last = y._data.take([-1], axis=dim)
        c = constant_like(x, xp(last).where(xp(last).isfinite(last), last, 0))
        return ((x - c).exp() * _reverse_cumsum_graph(grad * (c - y).exp(), dim),)
