"""The element-wise mathematical functions of ffnn.tensor_math / ffnn.functions_math (tan,
asin …, atan2, hypot, logaddexp, xlogy, lgamma, digamma, polygamma, erfinv, cumprod,
logcumsumexp …): values, first and second derivatives, dtypes, broadcasting, in-place forms
and errors, each against torch computed here (float64 unless said)."""

import numpy as np
import pytest
import torch

import ffnn
from ffnn.ops import special
from tests.helpers import assert_close

INF, NAN = np.inf, np.nan


def _array(t) -> np.ndarray:
    return t.detach().numpy() if hasattr(t, "detach") else np.asarray(t)


def assert_same(ours, theirs, rtol: float = 1e-10, what: str = "value") -> None:
    """Same dtype and shape, NaN and ±inf at the same places, and each finite entry within
    rtol · (1 + |expected|) (``assert_close`` on the entries scaled by that)."""
    ours, theirs = _array(ours), _array(theirs)
    assert str(ours.dtype) == str(theirs.dtype), f"{what}: dtype {ours.dtype} != {theirs.dtype}"
    assert ours.shape == theirs.shape, f"{what}: shape {ours.shape} != {theirs.shape}"
    np.testing.assert_array_equal(np.isnan(ours), np.isnan(theirs), err_msg=f"{what}: NaNs")
    infinite = np.isinf(theirs)
    np.testing.assert_array_equal(ours[infinite], theirs[infinite], err_msg=f"{what}: infs")
    finite = np.isfinite(theirs)
    assert np.isfinite(ours[finite]).all(), f"{what}: non-finite where torch is finite"
    scale = 1 + np.abs(theirs[finite])
    assert_close(ours[finite] / scale, theirs[finite] / scale, ours.dtype, rtol, what)


def _run(fn, arrays, lib, grad: bool = True):
    """fn(lib, *tensors) and the gradients of Σ w · fn (w fixed) with respect to each input."""
    xs = [lib.tensor(a, requires_grad=grad) for a in arrays]
    y = fn(lib, *xs)
    if not grad:
        return y, []
    w = np.random.default_rng(1).uniform(0.5, 1.5, tuple(y.shape))
    with np.errstate(invalid="ignore"):  # a sum over inf and -inf entries: NaN, no warning
        loss = (y * lib.tensor(w)).sum()
    loss.backward()
    return y, [x.grad for x in xs]


def check(fn, *arrays, rtol: float = 1e-10, grad_rtol: float | None = None,
          grad: bool = True) -> None:
    """Values and gradients of ``fn`` in ffnn and torch agree."""
    arrays = [np.asarray(a, dtype=np.float64) for a in arrays]
    ours, our_grads = _run(fn, arrays, ffnn, grad)
    theirs, their_grads = _run(fn, arrays, torch, grad)
    assert_same(ours, theirs, rtol)
    for i, (a, b) in enumerate(zip(our_grads, their_grads)):
        assert a is not None, f"input {i}: no gradient"
        assert_same(a, b, grad_rtol or rtol, f"gradient of input {i}")


# ----- one input ---------------------------------------------------------------------------
UNIT = [-1.0, -0.999, -0.7, -0.0, 0.0, 1e-9, 0.3, 0.9, 1.0]
UNARY = {
    "tan": [-1.5, -1.2, -0.3, 0.0, 0.5, 1.4, 4.0],
    "asin": UNIT, "arcsin": UNIT + [1.5, -2.0],
    "acos": UNIT, "arccos": UNIT + [1.5],
    "atan": [-1e3, -2.0, -0.0, 0.0, 0.4, 7.0, 1e10],
    "arctan": [-1e3, -2.0, 0.4, 7.0],
    "asinh": [-1e5, -3.0, -0.1, 0.0, 1e-8, 2.0, 1e8],
    "arcsinh": [-3.0, 0.5],
    "acosh": [1.0, 1.0 + 1e-9, 1.5, 10.0, 1e6, 0.5],
    "arccosh": [1.5, 10.0],
    "atanh": UNIT + [1.5],
    "arctanh": [-0.5, 0.2],
    "deg2rad": [-720.0, -90.0, 0.0, 45.0, 180.0],
    "rad2deg": [-7.0, 0.0, np.pi / 4, 3.0],
    "sinc": [-2.5, -1.5, -1.0, 0.0, 1e-9, 0.25, 1.0, 2.0, 3.7],
    "exp2": [-1100.0, -3.0, -0.5, 0.0, 0.5, 10.0, 1025.0],
    "lgamma": [-3.5, -2.5, -2.0, -0.5, -0.0, 0.0, 1e-8, 0.5, 1.0, 1.5, 2.0, 2.5, 7.3, 30.0],
    "erfinv": [-1.0, -0.999999, -0.5, -0.0, 0.0, 1e-10, 0.3, 0.9, 0.99, 1 - 1e-12, 1.0, 1.5],
    "absolute": [-2.5, -0.0, 0.0, 3.0],
}


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_values_and_gradients_match_torch(name):
    check(lambda lib, x: getattr(lib, name)(x), UNARY[name])
    check(lambda lib, x: getattr(x, name)(), UNARY[name])


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_lgamma_at_large_and_negative_arguments():
    check(lambda lib, x: x.lgamma(), [100.5, 1e6, 1e20, 1e306, -100.5, -7.25, -1e-8, -1e300,
                                      INF, -INF, NAN])


DIGAMMA = [-3.5, -2.7, -0.5, -1e-8, 1e-8, 0.3, 1.0, 1.4616321449683622, 2.5, 9.9, 10.0, 30.0,
           1e6, 1e20]


def test_digamma_values_and_gradient_match_torch():
    """The gradient is trigamma, whose torch values are good to ~5e-10 only (see
    test_polygamma_is_accurate, against mpmath)."""
    check(lambda lib, x: lib.digamma(x), DIGAMMA, grad_rtol=1e-8)
    check(lambda lib, x: x.digamma(), [-0.0, 0.0, -1.0, -2.0, 3.0], grad=False)


@pytest.mark.parametrize("n", [1, 2, 3, 5])
def test_polygamma_values_and_gradients_match_torch(n):
    rtol = 1e-8 if n == 1 else 1e-10  # torch's trigamma: ~5e-10 (its own series, 3 terms)
    grad_rtol = 1e-8 if n == 0 else 1e-10
    check(lambda lib, x: lib.polygamma(n, x), DIGAMMA[:-2], rtol=rtol, grad_rtol=grad_rtol)
    poles = [0.0, -0.0] if n == 1 else [0.0, -0.0, -2.0]  # torch's trigamma(-2): 1.6e32
    check(lambda lib, x: x.polygamma(n), poles, grad=False)


def test_polygamma_is_accurate():
    mpmath = pytest.importorskip("mpmath")
    xs = np.array([-9.99, -3.5, -0.5, 1e-3, 0.3, 1.0, 2.5, 6.0, 9.5, 25.0, 1e4])
    for n in range(4):
        ours = ffnn.polygamma(n, ffnn.tensor(xs)).numpy()
        exact = np.array([float(mpmath.polygamma(n, v)) for v in xs])
        np.testing.assert_allclose(ours, exact, rtol=1e-13, err_msg=f"n = {n}")


def test_erfinv_is_accurate_near_one_and_without_scipy(monkeypatch):
    xs = np.concatenate([1 - np.logspace(-16, -1, 40), -np.logspace(-300, -0.01, 40),
                         np.linspace(-0.99, 0.99, 41)])
    expected = torch.erfinv(torch.tensor(xs)).numpy()
    np.testing.assert_allclose(ffnn.erfinv(ffnn.tensor(xs)).numpy(), expected, rtol=1e-14)
    monkeypatch.setattr(special, "use_scipy", False)  # ffnn's own erf and erfc
    np.testing.assert_allclose(ffnn.erfinv(ffnn.tensor(xs)).numpy(), expected, rtol=1e-12)


@pytest.mark.parametrize("p", [1, 2, 3])
def test_mvlgamma_matches_torch(p):
    check(lambda lib, x: lib.mvlgamma(x, p), [1.2, 2.5, 7.0, 30.0])
    check(lambda lib, x: x.mvlgamma(p), [1.5, 4.0])


def test_frexp_matches_torch():
    values = np.array([8.0, 0.3, 0.0, -5.0, 1e-310, 3e300, -0.75, INF, NAN])
    ours, theirs = ffnn.frexp(ffnn.tensor(values)), torch.frexp(torch.tensor(values))
    assert type(ours).__name__ == "frexp" and ours[0] is ours.mantissa
    assert_same(ours.mantissa, theirs.mantissa, 0)
    assert_same(ours.exponent, theirs.exponent, 0)
    mantissa, exponent = ffnn.tensor(values[:4], dtype=ffnn.float32).frexp()
    assert_same(mantissa, torch.tensor(values[:4], dtype=torch.float32).frexp()[0], 0)
    check(lambda lib, x: lib.frexp(x).mantissa * x, [8.0, 0.3, -5.0, 100.0])


# ----- two inputs ---------------------------------------------------------------------------
SIGNED = [0.0, -0.0, 1.0, -1.0, 0.0, -0.0, 2.5, -INF, INF, NAN]
SIGNED_OTHER = [0.0, 0.0, -0.0, -0.0, 3.0, -3.0, 2.5, 1.0, INF, 1.0]
XLOGY_X = [0.0, 0.0, 0.0, 1.0, 2.0, -1.0, NAN, 0.0, 3.0]
XLOGY_Y = [0.0, 1.0, -1.0, 0.0, 0.5, 2.0, 1.0, NAN, INF]
BINARY = {
    "atan2": (SIGNED[:-3], SIGNED_OTHER[:-3]),
    "arctan2": ([1.0, -2.0], [0.5, -3.0]),
    "hypot": ([0.0, 3.0, -4.0, 1e200, 1e-200], [0.0, 4.0, 3.0, 1e200, 0.0]),
    "logaddexp": ([-INF, 0.0, 1000.0, -50.0, 2.0, INF], [-INF, 0.0, 999.0, 3.0, -INF, 1.0]),
    "logaddexp2": ([-INF, 0.0, 1000.0, -50.0, 2.0], [-INF, 0.0, 999.0, 3.0, -INF]),
    "xlogy": (XLOGY_X, XLOGY_Y),
    "copysign": (SIGNED, SIGNED_OTHER[::-1]),
    "fmax": ([1.0, 2.0, NAN, NAN, 3.0, -0.0], [1.0, 1.0, 2.0, NAN, NAN, 0.0]),
    "fmin": ([1.0, 2.0, NAN, NAN, 3.0, -0.0], [1.0, 1.0, 2.0, NAN, NAN, 0.0]),
    "nextafter": ([1.0, 2.0, 0.0, 5.0, -1.0, 0.0], [3.0, 0.0, 0.0, 5.0, 1.0, -1.0]),
    "ldexp": ([1.0, -3.0, 0.5, 7.0], [1.0, 2.0, -3.0, 0.5]),
    "float_power": ([2.0, 0.5, 3.0, 1.5], [3.0, -2.0, 0.5, 0.0]),
    "true_divide": ([1.0, -3.0, 0.0, 7.0], [4.0, 2.0, 5.0, -0.5]),
}


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_values_and_gradients_match_torch(name):
    a, b = BINARY[name]
    check(lambda lib, x, y: getattr(lib, name)(x, y), a, b)
    check(lambda lib, x, y: getattr(x, name)(y), a, b)


def test_signed_zeros_of_atan2_and_copysign():
    a, b = np.array(SIGNED), np.array(SIGNED_OTHER)
    for name in ("atan2", "copysign"):
        ours = getattr(ffnn, name)(ffnn.tensor(a), ffnn.tensor(b)).numpy()
        theirs = getattr(torch, name)(torch.tensor(a), torch.tensor(b)).numpy()
        np.testing.assert_array_equal(np.signbit(ours), np.signbit(theirs), err_msg=name)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # ops.pow: NaN of (-1.2) ** 0.5
@pytest.mark.parametrize("name", ["atan2", "hypot", "logaddexp", "logaddexp2", "xlogy",
                                  "copysign", "fmax", "fmin", "nextafter", "ldexp",
                                  "float_power"])
def test_binary_broadcasting(name, rng):
    a, b = rng.uniform(0.2, 2.0, (3, 1)), rng.uniform(-2.0, 2.0, (4,))
    b[1] = a[2, 0]  # a tie for fmax, fmin and nextafter
    check(lambda lib, x, y: getattr(lib, name)(x, y), a, b)
    check(lambda lib, x, y: getattr(lib, name)(y, x), a, b)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # ops.pow: 0 ** -0.5
def test_numbers_where_torch_takes_them():
    x = [0.0, 0.5, 2.0]
    check(lambda lib, t: lib.xlogy(2, t) + lib.xlogy(t, 3.0) + t.xlogy(0.5), x)
    check(lambda lib, t: lib.copysign(t, -1.0) + t.copysign(2), x)
    check(lambda lib, t: lib.float_power(t, 2) + lib.float_power(2, t) + t.float_power(0.5), x)
    check(lambda lib, t: lib.true_divide(3, t + 1) + t.true_divide(2), x)


def test_heaviside_values_and_no_derivative():
    x, values = [-1.5, -0.0, 0.0, 2.0, NAN], [0.5]
    for lib in (ffnn, torch):
        got = lib.heaviside(lib.tensor(x), lib.tensor(values))
        assert_same(got, torch.heaviside(torch.tensor(x), torch.tensor(values)), 0)
        ints = lib.tensor([1, 0, -1]).heaviside(lib.tensor([7]))
        assert_same(ints, torch.tensor([1, 7, 0]), 0)
    x = ffnn.tensor(x, requires_grad=True)
    y = x.heaviside(ffnn.tensor(values))
    assert y.requires_grad
    with pytest.raises(RuntimeError, match="derivative for aten::heaviside is not implemented"):
        y.sum().backward()


# ----- cumulative ----------------------------------------------------------------------------
ZEROS = np.array([[2.0, 0.0, 3.0, 0.0, 5.0], [1.0, 2.0, -3.0, 0.5, 5.0],
                  [0.0, 1.0, 2.0, 3.0, 4.0], [1.5, 2.0, 3.0, 4.0, 0.0]])


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_cumprod_values_and_gradients_with_zeros(dim):
    check(lambda lib, x: lib.cumprod(x, dim), ZEROS)
    check(lambda lib, x: x.cumprod(dim=dim), ZEROS * 0.7 + 0.1)


def test_cumprod_dtypes_and_zero_dim():
    ints = [[1, 2, 3], [0, 4, 5]]
    for args, kwargs in (((ints,), {}), (([True, False, True],), {})):
        ours = ffnn.cumprod(ffnn.tensor(*args), 0, **kwargs)
        assert_same(ours, torch.cumprod(torch.tensor(*args), 0, **kwargs), 0)
    assert_same(ffnn.tensor(ints).cumprod(1, dtype=ffnn.float32),
                torch.tensor(ints).cumprod(1, dtype=torch.float32), 0)
    check(lambda lib, x: lib.cumprod(x, -1), 3.0)
    check(lambda lib, x: lib.logcumsumexp(x, 0), 3.0)


LOGCUMSUMEXP = np.array([[-INF, 0.0, 1.0, 700.0, -700.0], [-3.0, -2.0, -1.0, 0.5, 0.0],
                         [1e3, 1e3, -1e3, 2e3, 0.0]])


@pytest.mark.parametrize("dim", [0, 1])
def test_logcumsumexp_values_and_gradients(dim):
    check(lambda lib, x: lib.logcumsumexp(x, dim) * lib.tensor([1.0, -2.0, 0.5, 3.0, -1.0]),
          LOGCUMSUMEXP)
    check(lambda lib, x: x.logcumsumexp(dim) ** 2, LOGCUMSUMEXP[1:2] * 0.5)


# ----- second derivatives ----------------------------------------------------------------------
def _second(fn, arrays, lib):
    """d/dx Σ v · (d/dx Σ w · fn) with create_graph, for each input."""
    xs = [lib.tensor(a, requires_grad=True) for a in arrays]
    y = fn(lib, *xs)
    w = lib.tensor(np.random.default_rng(2).uniform(0.5, 1.5, tuple(y.shape)))
    first = lib.autograd.grad((y * w).sum(), xs, create_graph=True)
    v = [lib.tensor(np.random.default_rng(3 + i).uniform(-1, 1, a.shape))
         for i, a in enumerate(arrays)]
    total = sum((g * vi).sum() for g, vi in zip(first, v))
    return first, lib.autograd.grad(total, xs)


SECOND = {
    "tan": (lambda lib, x: x.tan(), [[-1.2, 0.3, 1.0]]),
    "asin_acos": (lambda lib, x: x.asin() * x.acos(), [[-0.9, 0.1, 0.6]]),
    "atan_asinh": (lambda lib, x: lib.atan(x) + lib.asinh(x * 2), [[-2.0, 0.1, 3.0]]),
    "acosh_atanh": (lambda lib, x: lib.acosh(x + 2) * lib.atanh(x / 2), [[-0.9, 0.1, 1.5]]),
    "exp2_sinc": (lambda lib, x: x.exp2() + lib.sinc(x), [[-1.5, 0.3, 2.0]]),
    "erfinv": (lambda lib, x: x.erfinv(), [[-0.99, -0.2, 0.0, 0.7]]),
    "lgamma": (lambda lib, x: lib.lgamma(x), [[-2.5, 0.3, 4.0]]),
    "digamma": (lambda lib, x: x.digamma(), [[-2.5, 0.3, 4.0, 12.0]]),
    "atan2_hypot": (lambda lib, x, y: lib.atan2(x, y) * lib.hypot(x, y),
                    [[0.5, -1.0, 2.0], [1.5, 0.3, -2.0]]),
    "logaddexp": (lambda lib, x, y: lib.logaddexp(x, y) ** 2 + lib.logaddexp2(y, x),
                  [[0.5, -1.0, 2.0], [1.5, 0.3, -20.0]]),
    "xlogy": (lambda lib, x, y: lib.xlogy(x, y) * x + lib.xlogy(x, y.exp() - 1),
              [[0.0, 0.0, 2.0, -1.0], [0.5, -0.5, 3.0, 2.0]]),
    "copysign_fmax": (lambda lib, x, y: lib.copysign(x, y) * lib.fmax(x, y) + lib.fmin(x, y) ** 2,
                      [[0.5, -1.0, 2.0], [1.5, 0.3, -2.0]]),
    "ldexp": (lambda lib, x, y: lib.ldexp(x, y) * x, [[0.5, -1.0, 2.0], [1.5, 0.3, -2.0]]),
    "cumprod": (lambda lib, x: x.cumprod(1), [ZEROS * 0.7 + 0.1]),
    "cumprod_zeros": (lambda lib, x: lib.cumprod(x, 1), [ZEROS]),
    "cumprod_zeros_dim0": (lambda lib, x: lib.cumprod(x, 0), [ZEROS]),
    "logcumsumexp": (lambda lib, x: lib.logcumsumexp(x, 1) ** 2, [LOGCUMSUMEXP[1:] * 0.01]),
    "logcumsumexp_large": (lambda lib, x: lib.logcumsumexp(x, 1)
                           * lib.tensor([1.0, -2.0, 0.5, 3.0]),
                           [[[750.0, 760.0, 740.0, 770.0], [-3.0, -2.0, -1.0, 0.5]]]),
}


@pytest.mark.parametrize("name", sorted(SECOND))
def test_second_derivatives_match_torch(name):
    fn, arrays = SECOND[name]
    arrays = [np.asarray(a, dtype=np.float64) for a in arrays]
    ours, theirs = _second(fn, arrays, ffnn), _second(fn, arrays, torch)
    rtol = 1e-8 if name in ("lgamma", "digamma") else 1e-10  # torch's trigamma (see above)
    for kind, a, b in zip(("first", "second"), ours, theirs):
        for i, (ga, gb) in enumerate(zip(a, b)):
            assert_same(ga, gb, rtol, f"{kind} derivative, input {i}")


def test_sinc_second_derivative_at_zero_is_exact():
    """torch's is NaN there (its slope is masked after a 0/0); ffnn's is sinc''(0) = -π²/3."""
    x = ffnn.tensor([0.0, 0.5], dtype=ffnn.float64, requires_grad=True)
    (slope,) = ffnn.autograd.grad(x.sinc().sum(), x, create_graph=True)
    (curvature,) = ffnn.autograd.grad(slope.sum(), x)
    assert slope.numpy()[0] == 0
    expected = torch.func.grad(torch.func.grad(lambda t: torch.sinc(t)))(torch.tensor(0.5,
                                                                                 dtype=torch.float64))
    np.testing.assert_allclose(curvature.numpy(), [-np.pi**2 / 3, expected.item()], rtol=1e-12)


# ----- dtypes -----------------------------------------------------------------------------------
FLOATING = ["tan", "asin", "acos", "atan", "asinh", "acosh", "atanh", "deg2rad", "rad2deg",
            "sinc", "exp2", "lgamma", "digamma", "erfinv"]


@pytest.mark.parametrize("name", FLOATING)
def test_integer_and_float32_inputs(name):
    for values in ([1, 2, 0], [True, False, True]):
        ours, theirs = getattr(ffnn, name)(ffnn.tensor(values)), getattr(torch, name)(
            torch.tensor(values))
        assert_same(ours, theirs, 1e-5, "integer input")
    x = np.array([0.9, 0.25, -0.5, 1.75, 3.0], dtype=np.float32)
    check32 = [(getattr(ffnn, name)(ffnn.tensor(x)), getattr(torch, name)(torch.tensor(x)))]
    for ours, theirs in check32:
        assert_same(ours, theirs, 1e-5, "float32 input")


DTYPES = [("int64", "int64"), ("int64", "float32"), ("float32", "float32"),
          ("float32", "float64"), ("bool", "bool"), ("float32", "float64 0-d"),
          ("int64", "float64 0-d"), ("float64", "float32")]


@pytest.mark.parametrize("name", ["atan2", "xlogy", "copysign", "fmax", "fmin", "ldexp",
                                  "float_power", "true_divide", "hypot", "logaddexp",
                                  "nextafter"])
def test_binary_result_dtypes(name):
    for first, second in DTYPES:
        outcomes = []
        for lib in (torch, ffnn):
            a = lib.tensor([1, 0, 2]).to(getattr(lib, first))
            b = lib.tensor(2 if "0-d" in second else [3, 1, 1]).to(
                getattr(lib, second.split()[0]))
            try:
                outcomes.append(getattr(lib, name)(a, b))
            except RuntimeError as error:
                outcomes.append(str(error))
        theirs, ours = outcomes
        if isinstance(theirs, str):
            assert ours == theirs, (first, second)
        else:
            assert_same(ours, theirs, 1e-6, f"{first}, {second}")


def test_float_power_is_float64_and_cumprod_keeps_float32():
    x = np.array([0.5, 2.0, 3.0], dtype=np.float32)
    assert_same(ffnn.float_power(ffnn.tensor(x), 2), torch.float_power(torch.tensor(x), 2))
    assert_same(ffnn.tensor(x).cumprod(0), torch.tensor(x).cumprod(0), 1e-6)
    assert_same(ffnn.tensor(x).logcumsumexp(0), torch.tensor(x).logcumsumexp(0), 1e-6)


# ----- in place, out= and errors ----------------------------------------------------------------
INPLACE = {
    "tan_": (), "asin_": (), "acos_": (), "atan_": (), "asinh_": (), "atanh_": (),
    "arcsin_": (), "arctan_": (), "exp2_": (), "sinc_": (), "deg2rad_": (), "rad2deg_": (),
    "lgamma_": (), "digamma_": (), "erfinv_": (), "absolute_": (), "polygamma_": (2,),
    "atan2_": ("other",), "arctan2_": ("other",), "hypot_": ("other",), "xlogy_": ("other",),
    "copysign_": ("other",), "nextafter_": ("other",), "ldexp_": ("other",),
    "true_divide_": ("other",), "cumprod_": (1,), "float_power_": (1.5,),
}


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # ops.pow: (-0.6) ** 1.5 is NaN
@pytest.mark.parametrize("name", sorted(INPLACE))
def test_in_place_forms(name):
    a = np.array([[0.3, -0.6, 0.9], [0.1, 0.5, -0.2]])
    other = np.array([0.7, -1.5, 2.0])

    binary = "other" in INPLACE[name]

    def fn(lib, x, y=None):
        args = [y if arg == "other" else arg for arg in INPLACE[name]]
        z = x * 1
        assert getattr(z, name)(*args) is z
        return z * 2

    if name in ("asinh_", "atanh_"):  # torch has no derivative for these in-place forms
        assert_same(fn(ffnn, ffnn.tensor(a)), fn(torch, torch.tensor(a)))
    elif binary:
        check(fn, a, other)
    else:
        check(fn, a, grad_rtol=1e-8 if name == "digamma_" else None)  # torch's trigamma
    z = ffnn.tensor(a)
    getattr(z, name)(*[ffnn.tensor(other) if arg == "other" else arg for arg in INPLACE[name]])
    assert_same(z, fn(torch, torch.tensor(a), torch.tensor(other)).detach() / 2)


def test_in_place_errors_as_torch():
    with pytest.raises(RuntimeError, match="can't be cast to the desired output type Long"):
        ffnn.tensor([1, 2]).tan_()
    with pytest.raises(RuntimeError, match="has dtype Float but the operation's result "
                                           "requires dtype Double"):
        ffnn.tensor([1.0, 2.0]).float_power_(2)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        ffnn.tensor([0.5], requires_grad=True).erfinv_()


def test_out_keyword():
    out = ffnn.empty(3, dtype=ffnn.float64)
    x = ffnn.tensor([0.1, 0.2, 0.3], dtype=ffnn.float64)
    assert ffnn.tan(x, out=out) is out and np.allclose(out.numpy(), np.tan(x.numpy()))
    assert ffnn.atan2(x, x, out=out) is out and np.allclose(out.numpy(), np.pi / 4)
    assert ffnn.cumprod(x, 0, out=out) is out and np.allclose(out.numpy(), [0.1, 0.02, 0.006])


ERRORS = [
    (lambda: ffnn.tan([1.0]), TypeError, r"tan\(\): argument 'input' \(position 1\) must be "
                                         "Tensor, not list"),
    (lambda: ffnn.atan2(ffnn.tensor([1.0]), 2), TypeError,
     r"atan2\(\): argument 'other' \(position 2\) must be Tensor, not int"),
    (lambda: ffnn.tensor([1.0]).hypot(2.0), TypeError, "argument 'other' .* not float"),
    (lambda: ffnn.heaviside(ffnn.tensor([1.0]), 0.5), TypeError, "argument 'values'"),
    (lambda: ffnn.xlogy(2, 3), TypeError, "xlogy"),
    (lambda: ffnn.polygamma(1, 2.0), TypeError, "argument 'input' \\(position 2\\)"),
    (lambda: ffnn.hypot(ffnn.tensor([1]), ffnn.tensor([2])), RuntimeError,
     "\"hypot_cpu\" not implemented for 'Long'"),
    (lambda: ffnn.logcumsumexp(ffnn.tensor([1, 2]), 0), RuntimeError,
     "\"logcumsumexp_out_cpu\" not implemented for 'Long'"),
    (lambda: ffnn.heaviside(ffnn.tensor([1.0]), ffnn.tensor([1.0], dtype=ffnn.float64)),
     RuntimeError, "different dtypes"),
    (lambda: ffnn.polygamma(-1, ffnn.tensor([1.0])), RuntimeError, "negative n"),
    (lambda: ffnn.frexp(ffnn.tensor([1, 2])), RuntimeError, "only supports floating-point"),
    (lambda: ffnn.mvlgamma(ffnn.tensor([0.2]), 2), RuntimeError, r"greater than \(p-1\)/2"),
    (lambda: ffnn.cumprod(ffnn.tensor([1.0]), 1), IndexError, "Dimension out of range"),
]


@pytest.mark.parametrize("index", range(len(ERRORS)))
def test_bad_input_raises_as_torch(index):
    call, error, message = ERRORS[index]
    with pytest.raises(error, match=message):
        call()


def test_names_are_exported():
    for name in ("tan", "arcsin", "atan2", "xlogy", "lgamma", "erfinv", "cumprod",
                 "logcumsumexp", "heaviside", "frexp", "polygamma", "true_divide"):
        assert name in ffnn.__all__ and callable(getattr(ffnn, name))


@pytest.mark.parametrize("name", ["tan", "asin", "acos", "atan", "asinh", "atanh", "sinc",
                                  "exp2", "lgamma", "digamma", "erfinv", "deg2rad",
                                  "rad2deg"])
def test_a_zero_dimensional_tensor_gives_torchs_zero_dimensional_result(name):
    ours = getattr(ffnn, name)(ffnn.tensor(0.3, dtype=ffnn.float64))
    theirs = getattr(torch, name)(torch.tensor(0.3, dtype=torch.float64))
    assert tuple(ours.shape) == () and ours.dtype == np.float64
    assert_close(ours.numpy(), theirs.numpy(), rtol=1e-12, what=name)
