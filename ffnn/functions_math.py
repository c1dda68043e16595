"""torch's function forms of the element-wise mathematical functions beyond the common ones
(their methods: ``ffnn.tensor_math``). As torch's, they take tensors where torch does (a
number elsewhere is torch's TypeError naming the argument) and the keyword ``out=``."""

from __future__ import annotations

import numpy as np

from ffnn.out_argument import write_out
from ffnn.tensor import Tensor
from ffnn.tensor_math import promote, require_tensor

UNARY = (
    "tan", "asin", "arcsin", "acos", "arccos", "atan", "arctan", "asinh", "arcsinh", "acosh",
    "arccosh", "atanh", "arctanh", "deg2rad", "rad2deg", "sinc", "exp2", "lgamma", "digamma",
    "erfinv", "absolute",
)
"""``torch.f(input)`` is ``input.f()``."""
BINARY = ("atan2", "arctan2", "hypot", "logaddexp", "logaddexp2", "fmax", "fmin", "nextafter",
          "ldexp")
"""``torch.f(input, other)`` is ``input.f(other)``, both tensors."""

__all__ = [*UNARY, *BINARY, "heaviside", "xlogy", "copysign", "float_power", "true_divide",
           "polygamma", "mvlgamma", "frexp", "cumprod", "logcumsumexp", "igamma", "igammac"]


def _finish(result: Tensor, out: Tensor | None, name: str) -> Tensor:
    return result if out is None else write_out(out, result, name)


def _unary_form(name: str):
    def form(input: Tensor, *, out: Tensor | None = None) -> Tensor:
        require_tensor(name, "input", 1, input)
        return _finish(getattr(input, name)(), out, name)

    form.__name__ = form.__qualname__ = name
    form.__doc__ = f"``torch.{name}(input)`` is ``input.{name}()`` (see ffnn.tensor_math)."
    return form


def _binary_form(name: str):
    def form(input: Tensor, other: Tensor, *, out: Tensor | None = None) -> Tensor:
        require_tensor(name, "input", 1, input)
        require_tensor(name, "other", 2, other)
        return _finish(getattr(input, name)(other), out, name)

    form.__name__ = form.__qualname__ = name
    form.__doc__ = (f"``torch.{name}(input, other)`` is ``input.{name}(other)`` (see "
                    "ffnn.tensor_math).")
    return form


for _name in UNARY:
    globals()[_name] = _unary_form(_name)
for _name in BINARY:
    globals()[_name] = _binary_form(_name)


def heaviside(input: Tensor, values: Tensor, *, out: Tensor | None = None) -> Tensor:
    """0 where input < 0, ``values`` where input = 0, 1 where input > 0."""
    require_tensor("heaviside", "input", 1, input)
    require_tensor("heaviside", "values", 2, values)
    return _finish(input.heaviside(values), out, "heaviside")


def _either_tensor(name: str, input: object, other: object) -> None:
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        raise TypeError(f"{name}(): expected 'input' or 'other' to be a Tensor, got "
                        f"({type(input).__name__}, {type(other).__name__})")


def xlogy(input: Tensor | float, other: Tensor | float, *, out: Tensor | None = None) -> Tensor:
    """input · ln(other), 0 where input = 0; either (not both) may be a number."""
    _either_tensor("xlogy", input, other)
    from ffnn.ops.elementwise_more import Xlogy

    return _finish(Xlogy.apply(*promote("xlogy", input, other)), out, "xlogy")


def _incomplete_gamma(name: str, input, other, out, lower: bool) -> Tensor:
    require_tensor(name, "input", 1, input)
    from ffnn.ops.incomplete_gamma import IncompleteGamma

    pair = promote(name, input, other, integers=False)
    return _finish(IncompleteGamma.apply(*pair, lower=lower), out, name)


def igamma(input: Tensor, other: Tensor | float, *, out: Tensor | None = None) -> Tensor:
    """P(a, x) = γ(a, x)/Γ(a), a = ``input``, x = ``other`` (differentiable in x only, as
    torch's)."""
    return _incomplete_gamma("igamma", input, other, out, lower=True)


def igammac(input: Tensor, other: Tensor | float, *, out: Tensor | None = None) -> Tensor:
    """Q(a, x) = 1 - P(a, x) = Γ(a, x)/Γ(a)."""
    return _incomplete_gamma("igammac", input, other, out, lower=False)


def copysign(input: Tensor, other: Tensor | float, *, out: Tensor | None = None) -> Tensor:
    """|input| with the sign of ``other`` (a tensor or a number)."""
    require_tensor("copysign", "input", 1, input)
    return _finish(input.copysign(other), out, "copysign")


def float_power(input: Tensor | float, exponent: Tensor | float, *,
                out: Tensor | None = None) -> Tensor:
    """input ** exponent in float64; either (not both) may be a number."""
    _either_tensor("float_power", input, exponent)
    if not isinstance(input, Tensor):
        base = Tensor._make(np.asarray(input, dtype=np.float64), False, None)
        return _finish(base ** exponent.to(np.float64), out, "float_power")
    return _finish(input.float_power(exponent), out, "float_power")


def true_divide(input: Tensor | float, other: Tensor | float, *,  # noqa: A002 - torch's
                out: Tensor | None = None) -> Tensor:
    """input / other, true division (alias of div)."""
    _either_tensor("true_divide", input, other)
    input, other = promote("true_divide", input, other)
    return _finish(input.div(other), out, "true_divide")


def polygamma(n: int, input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """ψ⁽ⁿ⁾(input), the n-th derivative of the digamma function."""
    require_tensor("polygamma", "input", 2, input)
    return _finish(input.polygamma(n), out, "polygamma")


def mvlgamma(input: Tensor, p: int, *, out: Tensor | None = None) -> Tensor:
    """The multivariate log-gamma function of dimension ``p``."""
    require_tensor("mvlgamma", "input", 1, input)
    return _finish(input.mvlgamma(p), out, "mvlgamma")


def frexp(input: Tensor) -> tuple[Tensor, Tensor]:
    """(mantissa, exponent) with input = mantissa · 2^exponent."""
    require_tensor("frexp", "input", 1, input)
    return input.frexp()


def cumprod(input: Tensor, dim: int, *, dtype=None, out: Tensor | None = None) -> Tensor:
    """The cumulative product along ``dim``."""
    require_tensor("cumprod", "input", 1, input)
    return _finish(input.cumprod(dim, dtype=dtype), out, "cumprod")


def logcumsumexp(input: Tensor, dim: int, *, out: Tensor | None = None) -> Tensor:
    """ln of the cumulative sum of eˣ along ``dim``."""
    require_tensor("logcumsumexp", "input", 1, input)
    return _finish(input.logcumsumexp(dim), out, "logcumsumexp")
