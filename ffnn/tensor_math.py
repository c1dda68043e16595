"""Tensor methods of the element-wise mathematical functions beyond the common ones
(``ffnn.functions_math`` has their function forms): tan and the inverse trigonometric and
hyperbolic functions, atan2, hypot, logaddexp, xlogy, lgamma, digamma, polygamma, erfinv,
sinc, exp2, float_power, copysign, fmax/fmin, nextafter, ldexp, frexp, heaviside, cumprod,
logcumsumexp and their aliases and in-place forms. The ops with their derivatives are in
``ffnn.ops.elementwise_more``.

dtypes follow torch: integer and bool inputs of the floating functions become the default
float dtype; two operands promote as torch promotes them (a tensor with dimensions outranks a
0-d tensor, which outranks a Python number, unless the lower one is of a higher category:
bool < integer < float).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from ffnn.tensor import Tensor


def _tensor_cls():
    from ffnn.tensor import Tensor  # noqa: PLC0415 - ffnn.tensor imports this module

    return Tensor


def _more():
    from ffnn.ops import elementwise_more  # noqa: PLC0415 - see _tensor_cls

    return elementwise_more


def _cumulative_ops():
    from ffnn.ops import cumulative  # noqa: PLC0415 - see _tensor_cls

    return cumulative


def _default_float() -> np.dtype:
    from ffnn import dtypes  # noqa: PLC0415 - see _tensor_cls

    return dtypes.get_default_dtype()


def _torch_name(dtype) -> str:
    from ffnn.tensor_inplace import _torch_name as name  # noqa: PLC0415 - see _tensor_cls

    return name(dtype)


def result_dtype(*operands) -> np.dtype:
    """torch's result dtype of tensors and Python numbers (``ffnn.result_type``'s rule over
    any number of operands; see the module docstring)."""
    from ffnn.type_promotion import result_dtype as rule  # noqa: PLC0415 - see _tensor_cls

    return rule(*operands)


def _as(operand, dtype):
    """A tensor (``.to`` keeps the graph) or a Python number as a constant tensor, of ``dtype``."""
    Tensor = _tensor_cls()
    if isinstance(operand, Tensor):
        return operand if operand._data.dtype == dtype else operand.to(dtype)
    return Tensor._make(np.asarray(operand, dtype=dtype), False, None)


def floating(x):
    """``x``, or ``x`` as the default float dtype when it holds integers or bools."""
    return x if x._data.dtype.kind == "f" else x.to(_default_float())


def promote(name: str, *operands, integers: bool = True) -> tuple:
    """The operands as tensors of torch's floating result dtype; integer results become the
    default float dtype (``integers``) or raise torch's error (``integers=False``)."""
    dtype = result_dtype(*operands)
    if dtype.kind != "f":
        if not integers:
            raise RuntimeError(f'"{name}_cpu" not implemented for \'{_torch_name(dtype)}\'')
        dtype = _default_float()
    return tuple(_as(o, dtype) for o in operands)


def require_tensor(name: str, argument: str, position: int, value: object) -> None:
    """torch's TypeError for a non-tensor where a tensor is required."""
    if not isinstance(value, _tensor_cls()):
        raise TypeError(f"{name}(): argument '{argument}' (position {position}) must be "
                        f"Tensor, not {type(value).__name__}")


def _dim(x, dim: int) -> int:
    from ffnn.ops.reductions import normalize_dim  # noqa: PLC0415 - see _tensor_cls

    return normalize_dim(dim, x.ndim)


def _cumulative(x, dim: int, op, **options):
    """``op`` along ``dim`` (a 0-d tensor taken as one entry)."""
    if x.ndim == 0:
        _dim(x, dim)
        return op.apply(x.reshape(1), dim=0, **options).reshape(())
    return op.apply(x, dim=_dim(x, dim), **options)


def _promoted_same(a, b) -> tuple:
    """Both tensors in torch's result dtype, integers kept (fmax, fmin)."""
    dtype = result_dtype(a, b)
    return _as(a, dtype), _as(b, dtype)


def _plain(values):
    return _tensor_cls()._make(np.asarray(values), False, None)




class MathTensorMethods:
    """Mixed into ``ffnn.Tensor``; ``self`` is a Tensor."""

    # ----- trigonometric and hyperbolic ------------------------------------------------
    def tan(self) -> Tensor:
        """tan x;  d/dx = 1 + tan² x."""
        return _more().Tan.apply(floating(self))

    def asin(self) -> Tensor:
        """asin x (nan outside [-1, 1]);  d/dx = 1/√(1 - x²)."""
        return _more().Asin.apply(floating(self))

    def acos(self) -> Tensor:
        """acos x (nan outside [-1, 1]);  d/dx = -1/√(1 - x²)."""
        return _more().Acos.apply(floating(self))

    def atan(self) -> Tensor:
        """atan x;  d/dx = 1/(1 + x²)."""
        return _more().Atan.apply(floating(self))

    def asinh(self) -> Tensor:
        """asinh x;  d/dx = 1/√(x² + 1)."""
        return _more().Asinh.apply(floating(self))

    def acosh(self) -> Tensor:
        """acosh x (nan below 1);  d/dx = 1/√(x² - 1)."""
        return _more().Acosh.apply(floating(self))

    def atanh(self) -> Tensor:
        """atanh x (±inf at ±1, nan beyond);  d/dx = 1/(1 - x²)."""
        return _more().Atanh.apply(floating(self))

    arcsin, arccos, arctan = asin, acos, atan
    arcsinh, arccosh, arctanh = asinh, acosh, atanh

    def atan2(self, other: Tensor) -> Tensor:
        """atan2(self, other): the angle of the point (other, self), in (-π, π]."""
        require_tensor("atan2", "other", 1, other)
        return _more().Atan2.apply(*promote("atan2", self, other))

    arctan2 = atan2

    def hypot(self, other: Tensor) -> Tensor:
        """√(self² + other²) without overflow (floating tensors only, as torch)."""
        require_tensor("hypot", "other", 1, other)
        return _more().Hypot.apply(*promote("hypot", self, other, integers=False))

    def deg2rad(self) -> Tensor:
        """x · π/180."""
        return floating(self) * (math.pi / 180)

    def rad2deg(self) -> Tensor:
        """x · 180/π."""
        return floating(self) * (180 / math.pi)

    def sinc(self) -> Tensor:
        """sin(πx)/(πx), 1 at 0 (the normalized sinc)."""
        return _more().Sinc.apply(floating(self))

    # ----- exponentials and logarithms -------------------------------------------------
    def exp2(self) -> Tensor:
        """2ˣ;  d/dx = 2ˣ ln 2."""
        return _more().Exp2.apply(floating(self))

    def logaddexp(self, other: Tensor) -> Tensor:
        """ln(eˣ + eʸ) without overflow (floating tensors only, as torch)."""
        require_tensor("logaddexp", "other", 1, other)
        pair = promote("logaddexp", self, other, integers=False)
        return _more().LogAddExp.apply(*pair, base2=False)

    def logaddexp2(self, other: Tensor) -> Tensor:
        """log₂(2ˣ + 2ʸ) without overflow (floating tensors only, as torch)."""
        require_tensor("logaddexp2", "other", 1, other)
        pair = promote("logaddexp2", self, other, integers=False)
        return _more().LogAddExp.apply(*pair, base2=True)

    def xlogy(self, other: Tensor | float) -> Tensor:
        """self · ln(other), 0 where self = 0 (nan where other is nan); ``other`` may be a
        number."""
        return _more().Xlogy.apply(*promote("xlogy", self, other))

    def float_power(self, exponent: Tensor | float) -> Tensor:
        """self ** exponent computed in float64 (the result is float64 whatever the inputs)."""
        Tensor = _tensor_cls()
        if isinstance(exponent, Tensor):
            exponent = exponent.to(np.float64)
        elif not isinstance(exponent, (int, float)):
            raise TypeError("float_power(): argument 'exponent' must be Tensor or Number, not "
                            f"{type(exponent).__name__}")
        return self.to(np.float64) ** (float(exponent)
                                       if isinstance(exponent, (int, float)) else exponent)

    def ldexp(self, other: Tensor) -> Tensor:
        """self · 2^other (computed as torch: self * pow(2.0, other))."""
        require_tensor("ldexp", "other", 1, other)
        scaled, power = promote("ldexp", self, 2.0 ** floating(other))
        return scaled * power

    def frexp(self) -> tuple:
        """(mantissa, exponent) with self = mantissa · 2^exponent, ½ ≤ |mantissa| < 1 (0 for
        0); the exponent is int32. Floating tensors only."""
        if self._data.dtype.kind != "f":
            raise RuntimeError("torch.frexp() only supports floating-point dtypes")
        exponent = np.frexp(self._data)[1].astype(np.int32)
        from ffnn import return_types  # noqa: PLC0415 - see _tensor_cls

        return return_types.frexp(_more().Frexp.apply(self), _plain(exponent))

    # ----- special functions -------------------------------------------------------------
    def lgamma(self) -> Tensor:
        """ln|Γ(x)| (+inf at 0, -1, -2, …);  d/dx = ψ(x)."""
        return _more().Lgamma.apply(floating(self))

    def digamma(self) -> Tensor:
        """ψ(x) = d/dx ln Γ(x);  d/dx = ψ⁽¹⁾(x) (trigamma)."""
        return _more().Polygamma.apply(floating(self), n=0)

    def polygamma(self, n: int) -> Tensor:
        """ψ⁽ⁿ⁾(x), the n-th derivative of the digamma function (n ≥ 0)."""
        if int(n) != n or n < 0:
            raise RuntimeError("polygamma(n, x) does not support negative n.")
        return _more().Polygamma.apply(floating(self), n=int(n))

    def mvlgamma(self, p: int) -> Tensor:
        """The multivariate log-gamma: Σ_{i<p} ln Γ(x - i/2) + p(p-1)/4 · ln π."""
        if p < 1:
            raise RuntimeError("p has to be greater than or equal to 1")
        x = floating(self)
        if not bool(np.all(x._data > (p - 1) / 2)):
            raise RuntimeError("All elements must be greater than (p-1)/2")
        offsets = _plain(np.arange(p, dtype=x._data.dtype) / 2)
        return (x.unsqueeze(-1) - offsets).lgamma().sum(-1) + p * (p - 1) / 4 * math.log(math.pi)

    def erfinv(self) -> Tensor:
        """erf⁻¹(x) (±inf at ±1, nan outside);  d/dx = √π/2 · e^{erfinv(x)²}."""
        return _more().Erfinv.apply(floating(self))

    # ----- sign, extremes, neighbours ------------------------------------------------------
    def absolute(self) -> Tensor:
        """|x| (alias of abs)."""
        return self.abs()

    def true_divide(self, other: Tensor | float) -> Tensor:
        """self / other, true division (alias of div; torch's result dtype)."""
        dividend, divisor = promote("true_divide", self, other)
        return dividend.div(divisor)

    def copysign(self, other: Tensor | float) -> Tensor:
        """|self| with the sign of ``other`` (a tensor or a number); d/dself = ±1, 0 at 0."""
        return _more().Copysign.apply(*promote("copysign", self, other))

    def fmax(self, other: Tensor) -> Tensor:
        """The element-wise maximum, ignoring a NaN when the other entry is a number."""
        require_tensor("fmax", "other", 1, other)
        return _more().FMax.apply(*_promoted_same(self, other), smallest=False)

    def fmin(self, other: Tensor) -> Tensor:
        """The element-wise minimum, ignoring a NaN when the other entry is a number."""
        require_tensor("fmin", "other", 1, other)
        return _more().FMax.apply(*_promoted_same(self, other), smallest=True)

    def nextafter(self, other: Tensor) -> Tensor:
        """The next floating-point value after self towards other."""
        require_tensor("nextafter", "other", 1, other)
        return _more().NextAfter.apply(*promote("nextafter", self, other, integers=False))

    def heaviside(self, values: Tensor) -> Tensor:
        """0 where self < 0, ``values`` where self = 0, 1 where self > 0 (same dtypes)."""
        require_tensor("heaviside", "values", 1, values)
        if self._data.dtype != values._data.dtype:
            raise RuntimeError("heaviside is not yet implemented for tensors with different "
                               "dtypes")
        return _more().Heaviside.apply(self, values)

    # ----- cumulative ----------------------------------------------------------------------
    def cumprod(self, dim: int, *, dtype=None) -> Tensor:
        """yᵢ = Π_{j ≤ i} xⱼ along ``dim`` (integers and bools give int64, as torch)."""
        from ffnn.tensor import in_dtype

        x = self if dtype is None else self.to(dtype)
        if x._data.dtype.kind in "iub":
            axis = _dim(x, dim)
            return in_dtype(_plain(np.cumprod(x._data.astype(np.int64), axis=axis) if x.ndim
                                   else x._data.astype(np.int64)), dtype)
        if x._data.dtype == np.float16:  # multiplied in float32, as torch's
            return _cumulative(x.to(np.float32), dim, _cumulative_ops().Cumprod,
                               wide=False).to(np.float16)
        return _cumulative(x, dim, _cumulative_ops().Cumprod)

    def logcumsumexp(self, dim: int) -> Tensor:
        """yᵢ = ln Σ_{j ≤ i} e^{xⱼ} along ``dim`` (floating tensors only, as torch)."""
        if self._data.dtype.kind != "f":
            raise RuntimeError('"logcumsumexp_out_cpu" not implemented for '
                               f"'{_torch_name(self._data.dtype)}'")
        return _cumulative(self, dim, _cumulative_ops().Logcumsumexp)

    # ----- in place --------------------------------------------------------------------------
    def tan_(self) -> Tensor:
        return self._inplace(lambda t: t.tan())

    def asin_(self) -> Tensor:
        return self._inplace(lambda t: t.asin())

    def acos_(self) -> Tensor:
        return self._inplace(lambda t: t.acos())

    def atan_(self) -> Tensor:
        return self._inplace(lambda t: t.atan())

    def asinh_(self) -> Tensor:
        return self._inplace(lambda t: t.asinh())

    def acosh_(self) -> Tensor:
        return self._inplace(lambda t: t.acosh())

    def atanh_(self) -> Tensor:
        return self._inplace(lambda t: t.atanh())

    arcsin_, arccos_, arctan_ = asin_, acos_, atan_
    arcsinh_, arccosh_, arctanh_ = asinh_, acosh_, atanh_

    def atan2_(self, other: Tensor) -> Tensor:
        return self._inplace(lambda t, o: t.atan2(o), other)

    arctan2_ = atan2_

    def hypot_(self, other: Tensor) -> Tensor:
        return self._inplace(lambda t, o: t.hypot(o), other)

    def deg2rad_(self) -> Tensor:
        return self._inplace(lambda t: t.deg2rad())

    def rad2deg_(self) -> Tensor:
        return self._inplace(lambda t: t.rad2deg())

    def sinc_(self) -> Tensor:
        return self._inplace(lambda t: t.sinc())

    def exp2_(self) -> Tensor:
        return self._inplace(lambda t: t.exp2())

    def xlogy_(self, other: Tensor | float) -> Tensor:
        return self._inplace(lambda t, o: t.xlogy(o), other)

    def float_power_(self, exponent: Tensor | float) -> Tensor:
        """self ← self ** exponent in float64; self must be float64, as torch requires."""
        if self._data.dtype != np.float64:
            raise RuntimeError(f"the base given to float_power_ has dtype "
                               f"{_torch_name(self._data.dtype)} but the operation's result "
                               "requires dtype Double")
        return self._inplace(lambda t, e: t.float_power(e), exponent)

    def ldexp_(self, other: Tensor) -> Tensor:
        return self._inplace(lambda t, o: t.ldexp(o), other)

    def lgamma_(self) -> Tensor:
        return self._inplace(lambda t: t.lgamma())

    def digamma_(self) -> Tensor:
        return self._inplace(lambda t: t.digamma())

    def polygamma_(self, n: int) -> Tensor:
        return self._inplace(lambda t: t.polygamma(n))

    def mvlgamma_(self, p: int) -> Tensor:
        return self._inplace(lambda t: t.mvlgamma(p))

    def erfinv_(self) -> Tensor:
        return self._inplace(lambda t: t.erfinv())

    def absolute_(self) -> Tensor:
        return self.abs_()

    def true_divide_(self, other: Tensor | float) -> Tensor:
        return self._inplace(lambda t, o: t.true_divide(o), other)

    def copysign_(self, other: Tensor | float) -> Tensor:
        return self._inplace(lambda t, o: t.copysign(o), other)

    def nextafter_(self, other: Tensor) -> Tensor:
        return self._inplace(lambda t, o: t.nextafter(o), other)

    def heaviside_(self, values: Tensor) -> Tensor:
        return self._inplace(lambda t, v: t.heaviside(v), values)

    def cumprod_(self, dim: int, *, dtype=None) -> Tensor:
        return self._inplace(lambda t: t.cumprod(dim, dtype=dtype))
