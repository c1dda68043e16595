"""Integer and signed-zero edges of element-wise arithmetic, against torch: integer powers
with negative tensor exponents, ``%`` / ``remainder`` / ``fmod`` with infinite divisors and
signed zeros, ``fmin`` / ``fmax`` / ``clamp`` on ties of zeros, comparisons of integer
tensors with numbers beyond their dtype (torch wraps them), ``clamp`` bounds beyond an
integer dtype (torch raises), and integer division by zero (torch raises). Each case runs
under both libraries (ffnn with NumPy's warnings as errors) and must give torch's dtype,
values, zero signs, or error type and message."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import torch

import ffnn

INF = math.inf
NAN = math.nan


def _u8(lib):
    return lib.tensor([1, 44, 255], dtype=lib.uint8)


def _i8(lib):
    return lib.tensor([1, -24, 127, -128], dtype=lib.int8)


def _ipow(lib):
    x = lib.tensor([2, 1, -1, 0])
    x **= lib.tensor([-1, -2, -3, -1])
    return x


def _ifloordiv(lib):
    x = lib.tensor([5, 3])
    x //= 0
    return x


def _imod(lib):
    x = lib.tensor([5.0, -5.0, -4.0])
    x %= INF
    return x


POWERS = {
    "tensor_exponent": lambda t: t.tensor([2, 1, -1, 0]) ** t.tensor([-1, -2, -3, -1]),
    "pow_function": lambda t: t.pow(t.tensor([2, 1, -1]), t.tensor([-2, -2, -2])),
    "int8_zero_base": lambda t: t.tensor([0, -1, 1, 5], dtype=t.int8) ** t.tensor(
        [-3, -3, -4, 2], dtype=t.int8),
    "reflected_base": lambda t: (-1) ** t.tensor([-1, -2, 1]),
    "number_base": lambda t: t.pow(2, t.tensor([-1, 0, 3])),
    "zero_d_exponent": lambda t: t.tensor([2, -1]) ** t.tensor(-1),
    "pow_": lambda t: t.tensor([2, -1]).pow_(t.tensor([-1, -1])),
    "ipow": _ipow,
    "bool_base": lambda t: t.tensor([True, False]) ** t.tensor([-1, -1]),
    "number_exponent_raises": lambda t: t.tensor([2, 1]) ** -1,
}

REMAINDERS = {
    "mod_inf": lambda t: t.tensor([1.0, -1.0, 0.0, -0.0]) % INF,
    "mod_minus_inf": lambda t: t.tensor([1.0, -1.0, 0.0, -0.0]).remainder(-INF),
    "remainder_infs": lambda t: t.remainder(t.tensor([1.0, -1.0, 0.0, -0.0, INF, -INF]),
                                            t.tensor([INF, -INF, -INF, INF, 2.0, INF])),
    "fmod_inf": lambda t: t.fmod(t.tensor([1.0, -1.0, -0.0, INF]), INF),
    "fmod_infs": lambda t: t.fmod(t.tensor([1.0, -1.0, 0.0, INF]),
                                  t.tensor([-INF, INF, -INF, 2.0])),
    "reflected_mod": lambda t: 5.0 % t.tensor([INF, -INF, 2.0, -2.0]),
    "imod_inf": _imod,
    "mod_zero_float": lambda t: t.tensor([3.0, -3.0]) % 0.0,
    "fmod_zeros": lambda t: t.fmod(t.tensor([-0.0, -4.0, 4.0, 0.0]), 2.0),
    "fmod_negative": lambda t: t.tensor([-0.0, -4.0, 4.0, 0.0], dtype=t.float64).fmod(-2.0),
    "remainder_zeros": lambda t: t.remainder(t.tensor([-0.0, -4.0, 4.0, 0.0]), -2.0),
    "mod_zeros": lambda t: t.tensor([-0.0, -4.0, 4.0, 0.0]) % t.tensor([2.0, 2.0, -2.0, 2.0]),
    "remainder_": lambda t: t.tensor([-0.0, -4.0, 4.0]).remainder_(2.0),
    "float16": lambda t: t.remainder(t.tensor([-4.0, 5.5, -5.5], dtype=t.float16),
                                     t.tensor([2.0, INF, INF], dtype=t.float16)),
    "integer_by_float": lambda t: t.tensor([5, -7]) % 2.5,
    "uint8_wraps_divisor": lambda t: t.tensor([5, 50], dtype=t.uint8) % 300,
}

ZEROS = {
    "fmin": lambda t: t.fmin(t.tensor([0.0, -0.0, NAN, 1.0]), t.tensor([-0.0, 0.0, 1.0, NAN])),
    "fmax": lambda t: t.fmax(t.tensor([0.0, -0.0, NAN, NAN]), t.tensor([-0.0, 0.0, 1.0, NAN])),
    "fmax_method": lambda t: t.tensor([0.0, -0.0]).fmax(t.tensor(-0.0)),
    "clamp_min_zero": lambda t: t.clamp(t.tensor([0.0, -0.0, -2.0]), min=0.0),
    "clamp_min_minus_zero": lambda t: t.clamp(t.tensor([0.0, -0.0, -2.0]), min=-0.0),
    "clamp_max_zero": lambda t: t.tensor([0.0, -0.0, 2.0]).clamp(max=0.0),
    "clamp_max_minus_zero": lambda t: t.tensor([0.0, -0.0, 2.0]).clip(max=-0.0),
    "clamp_both": lambda t: t.tensor([0.0, -0.0, 2.0, NAN]).clamp_(-0.0, 1.0),
}

COMPARED = {
    "uint8_lt_300": lambda t: _u8(t) < 300,
    "uint8_eq_minus_1": lambda t: _u8(t) == -1,
    "uint8_ne_minus_1": lambda t: _u8(t) != -1,
    "int8_gt_1000": lambda t: _i8(t) > 1000,
    "int8_ge_1000": lambda t: _i8(t) >= 1000,
    "int8_le_minus_1000": lambda t: _i8(t) <= -1000,
    "int64_lt_2_63": lambda t: t.tensor([1, -2]) < 2**63,
    "reflected": lambda t: 300 > _u8(t),
    "functions": lambda t: [f(_u8(t), 300) for f in (t.eq, t.ne, t.lt, t.le, t.gt, t.ge)],
    "methods": lambda t: [_i8(t).lt(1000), _i8(t).ge(-1000), _u8(t).eq(556)],
    "in_place": lambda t: [_u8(t).lt_(300), _i8(t).eq_(1000)],
    "zero_d_tensor": lambda t: _u8(t) < t.tensor(300),
    "zero_d_float64": lambda t: t.tensor([0.1]) <= t.tensor(0.1, dtype=t.float64),
    "integer_with_float": lambda t: t.tensor([16777217]) == 16777216.0,
    "beyond_64_bits": lambda t: _u8(t) < 2**64,
}

CLAMPED = {
    "uint8_max_300": lambda t: t.clamp(_u8(t), max=300),
    "int8_min_minus_1000": lambda t: t.clamp(_i8(t), min=-1000),
    "clamp_": lambda t: _u8(t).clamp_(max=300),
    "clip": lambda t: _u8(t).clip(max=256),
    "clamp_min": lambda t: _u8(t).clamp_min(-256),
    "int64_max_2_63": lambda t: t.clamp(t.tensor([1, 2]), max=2**63),
    "uint8_min_minus_1_wraps": lambda t: t.clamp(_u8(t), min=-1),
    "int8_bounds_in_range": lambda t: t.clip(_i8(t), -128, 127),
    "tensor_bound_wraps": lambda t: t.clamp(_u8(t), max=t.tensor(300)),
    "tensor_bounds_wrap": lambda t: t.clamp(_u8(t), t.tensor(-1), t.tensor(300)),
}

DIVIDED = {
    "floordiv_zero": lambda t: t.tensor([5, 3]) // 0,
    "mod_zero": lambda t: t.tensor([5, 3]) % 0,
    "fmod_zero": lambda t: t.fmod(t.tensor([5, 3]), 0),
    "remainder_zero": lambda t: t.remainder(t.tensor([5, 3]), 0),
    "floor_divide_tensor": lambda t: t.floor_divide(t.tensor([5, 3]), t.tensor([1, 0])),
    "reflected_floordiv": lambda t: 5 // t.tensor([1, 0]),
    "reflected_mod": lambda t: 5 % t.tensor([1, 0]),
    "uint8_mod": lambda t: t.tensor([5], dtype=t.uint8) % 0,
    "by_false": lambda t: t.tensor([5]) % t.tensor([False]),
    "fmod_": lambda t: t.tensor([5]).fmod_(0),
    "remainder_": lambda t: t.tensor([[5]]).remainder_(t.tensor([0])),
    "ifloordiv": _ifloordiv,
    "bools": lambda t: t.tensor([True]) // t.tensor([True]),
    "float_floordiv_zero": lambda t: t.tensor([5.0, -3.0, 0.0]) // 0,
    "integer_floordiv_float_zero": lambda t: t.tensor([5, 3]) // 0.0,
}


def _outcome(lib, case):
    """What ``case(lib)`` gives: a list of (dtype, values, zero signs), or the error's type and
    first line (ffnn runs with NumPy's warnings as errors)."""
    try:
        with warnings.catch_warnings():
            if lib is ffnn:
                warnings.simplefilter("error")
            result = case(lib)
    except Exception as error:  # noqa: BLE001 - the error is the outcome
        return error
    results = result if isinstance(result, list) else [result]
    return [(str(r.dtype).replace("torch.", ""), np.asarray(r.tolist())) for r in results]


def _check(case) -> None:
    ours, theirs = _outcome(ffnn, case), _outcome(torch, case)
    if isinstance(theirs, Exception):
        assert isinstance(ours, type(theirs)), f"torch raised {theirs!r}, ffnn gave {ours!r}"
        assert str(ours).splitlines()[0] == str(theirs).splitlines()[0]
        return
    assert not isinstance(ours, Exception), f"ffnn raised {ours!r}"
    assert [dtype for dtype, _ in ours] == [dtype for dtype, _ in theirs]
    for (_, mine), (_, value) in zip(ours, theirs):
        np.testing.assert_array_equal(mine, value)
        if value.dtype.kind == "f":
            np.testing.assert_array_equal(np.signbit(mine), np.signbit(value))


@pytest.mark.parametrize("name", list(POWERS))
def test_integer_powers_with_negative_exponents_as_torch(name):
    _check(POWERS[name])


@pytest.mark.parametrize("name", list(REMAINDERS))
def test_remainder_and_fmod_of_infinities_and_zeros_as_torch(name):
    _check(REMAINDERS[name])


@pytest.mark.parametrize("name", list(ZEROS))
def test_fmin_fmax_and_clamp_keep_the_first_zero_on_a_tie_as_torch(name):
    _check(ZEROS[name])


@pytest.mark.parametrize("name", list(COMPARED))
def test_comparisons_in_the_pairs_dtype_as_torch(name):
    _check(COMPARED[name])


@pytest.mark.parametrize("name", list(CLAMPED))
def test_integer_clamp_bounds_as_torch(name):
    _check(CLAMPED[name])


@pytest.mark.parametrize("name", list(DIVIDED))
def test_integer_division_by_zero_raises_as_torch(name):
    _check(DIVIDED[name])


@pytest.mark.parametrize("name", ["remainder", "fmod"])
def test_remainder_and_fmod_gradients_as_torch(name):
    grads = []
    for lib in (torch, ffnn):
        a = lib.tensor([5.5, -3.25, 7.0, 1.0, 1.0], requires_grad=True)
        b = lib.tensor([2.0, 2.0, -3.0, INF, 0.1], requires_grad=True)  # 1 // 0.1 is 9
        getattr(lib, name)(a, b).sum().backward()
        grads.append([a.grad.tolist(), b.grad.tolist()])
    assert grads[1] == grads[0]
