"""``torch.special``: the special functions under SciPy's names, each one of ffnn's
differentiable tensor functions or a composition of them (so gradients follow), plus
Φ (``ndtr``), log Φ (``log_ndtr``), Φ⁻¹ (``ndtri``), −x log x (``entr``) and x log(1 + y)
(``xlog1py``)."""

from __future__ import annotations

import math

from ffnn import ops
from ffnn.functions_more import _as_tensor
from ffnn.tensor import Tensor

_SQRT_HALF = math.sqrt(0.5)


def expit(input) -> Tensor:
    """1 / (1 + e⁻ˣ)."""
    return _as_tensor(input).sigmoid()


def logit(input, eps: float | None = None) -> Tensor:
    """log(p / (1 − p)), p clamped to [eps, 1 − eps] when ``eps`` is given."""
    return _as_tensor(input).logit(eps)


def erf(input) -> Tensor:
    return _as_tensor(input).erf()


def erfc(input) -> Tensor:
    return _as_tensor(input).erfc()


def erfinv(input) -> Tensor:
    return _as_tensor(input).erfinv()


def exp2(input) -> Tensor:
    return _as_tensor(input).exp2()


def expm1(input) -> Tensor:
    return _as_tensor(input).expm1()


def log1p(input) -> Tensor:
    return _as_tensor(input).log1p()


def gammaln(input) -> Tensor:
    """ln |Γ(x)|."""
    return _as_tensor(input).lgamma()


def digamma(input) -> Tensor:
    """ψ(x) = d/dx ln Γ(x)."""
    return _as_tensor(input).digamma()


psi = digamma


def polygamma(n: int, input) -> Tensor:
    """ψ⁽ⁿ⁾(x)."""
    return _as_tensor(input).polygamma(n)


def multigammaln(input, p: int) -> Tensor:
    """The multivariate log-gamma function of dimension ``p``."""
    return _as_tensor(input).mvlgamma(p)


def sinc(input) -> Tensor:
    """sin(πx)/(πx), 1 at 0."""
    return _as_tensor(input).sinc()


def round(input, *, decimals: int = 0) -> Tensor:  # noqa: A001 - torch's name
    return _as_tensor(input).round(decimals=decimals)


def xlogy(input, other) -> Tensor:
    """x log y, 0 where x = 0."""
    from ffnn import functions_math  # noqa: PLC0415 - star-imported into ffnn

    return functions_math.xlogy(input, other)


def xlog1py(input, other) -> Tensor:
    """x log(1 + y), 0 where x = 0 and log(1 + y) is ±∞ (y = −1 or ∞); d/dx = log(1 + y)."""
    x, y = _as_tensor(input), _as_tensor(other)
    infinite = (x == 0) & ((y == -1) | (y == math.inf))
    return x * ops.where(infinite, 0.0, y).log1p()


def entr(input) -> Tensor:
    """−x log x for x > 0, 0 at 0, −∞ for x < 0 (the entropy of one probability);
    d/dx = −(1 + log x) for x > 0."""
    x = _as_tensor(input)
    positive = x > 0
    value = ops.where(positive, -x * ops.where(positive, x, 1.0).log(), 0.0)
    return ops.where(x < 0, -math.inf, value)


def ndtr(input) -> Tensor:
    """Φ(x) = ½ erfc(−x/√2), the standard normal distribution function."""
    x = _as_tensor(input)
    if not x.is_floating_point():
        x = x.to(_default_float())
    return (-x * _SQRT_HALF).erfc() * 0.5


def log_ndtr(input) -> Tensor:
    """log Φ(x): log1p(−Φ(−x)) for x > 0 (accurate near 0); log Φ(x) down to −20; below,
    the asymptotic series log Φ(x) = −x²/2 − log(−x) − ½ log 2π + log(1 + Σₖ (−1)ᵏ (2k−1)!!/x²ᵏ)
    (ten terms: to rounding there). Each branch sees only inputs it is finite on, so the
    gradient is finite everywhere."""
    x = _as_tensor(input)
    if not x.is_floating_point():
        x = x.to(_default_float())
    upper = (-ndtr(-ops.where(x > 0, x, 1.0))).log1p()
    middle = ndtr(ops.where((x > 0) | (x < -20), -1.0, x)).log()
    z = ops.where(x < -20, x, -30.0)
    inverse_square, series, term = 1 / (z * z), 1.0, 1.0
    for k in range(1, 11):
        term = -term * (2 * k - 1) * inverse_square
        series = series + term
    far = -z * z / 2 - (-z).log() - 0.5 * math.log(2 * math.pi) + series.log()
    return ops.where(x > 0, upper, ops.where(x < -20, far, middle))


def ndtri(input) -> Tensor:
    """Φ⁻¹(p), accurate in both tails (``ffnn.ops.special_more.ndtri``)."""
    from ffnn.ops.elementwise_more import Ndtri  # noqa: PLC0415 - loaded with its first use

    p = _as_tensor(input)
    if not p.is_floating_point():
        p = p.to(_default_float())
    return Ndtri.apply(p)


def logsumexp(input, dim, keepdim: bool = False) -> Tensor:
    return _as_tensor(input).logsumexp(dim, keepdim)


def softmax(input, dim: int, *, dtype=None) -> Tensor:
    x = _as_tensor(input)
    return (x if dtype is None else x.to(dtype)).softmax(dim)


def log_softmax(input, dim: int, *, dtype=None) -> Tensor:
    x = _as_tensor(input)
    return (x if dtype is None else x.to(dtype)).log_softmax(dim)


def _default_float():
    from ffnn import dtypes  # noqa: PLC0415

    return dtypes.get_default_dtype()


__all__ = ["expit", "logit", "erf", "erfc", "erfinv", "exp2", "expm1", "log1p", "gammaln",
           "digamma", "psi", "polygamma", "multigammaln", "sinc", "round", "xlogy", "xlog1py",
           "entr", "ndtr", "log_ndtr", "ndtri", "logsumexp", "softmax", "log_softmax",
           "gammainc", "gammaincc"]


def gammainc(input, other) -> Tensor:
    """The regularized lower incomplete gamma function P(a, x) (``torch.igamma``)."""
    from ffnn import functions_math  # noqa: PLC0415 - star-imported into ffnn

    return functions_math.igamma(_as_tensor(input), other)


def gammaincc(input, other) -> Tensor:
    """The regularized upper incomplete gamma function Q(a, x) = 1 - P(a, x)."""
    from ffnn import functions_math  # noqa: PLC0415 - star-imported into ffnn

    return functions_math.igammac(_as_tensor(input), other)
