"""The writes into positions (ffnn.tensor_writes: index_put, masked_scatter, scatter_reduce,
put, slice/select/diagonal_scatter) and torch's other names (ffnn.tensor_aliases: subtract,
divide with rounding, bitwise and integer functions, isin, unique_consecutive, histogram,
unfold, strides): values, dtypes and gradients against torch computed here in float64, the
in-place forms' version counters, and errors of torch's types."""

import math
import warnings

import numpy as np
import pytest
import torch

import ffnn
from tests.helpers import assert_close

INF, NAN = math.inf, math.nan


def _outputs(result) -> list:
    return list(result) if isinstance(result, (tuple, list)) else [result]


def _run(lib, fn, arrays: list) -> tuple:
    """(outputs as arrays, their dtype names, the inputs' gradients) of ``fn(lib, *inputs)``
    after backward of Σ w·y over the outputs that require grad."""
    inputs = [lib.tensor(a, requires_grad=a.dtype.kind == "f") for a in arrays]
    outputs = _outputs(fn(lib, *inputs))
    loss = 0
    for y in outputs:
        if y.requires_grad:
            w = np.random.default_rng(y.numel()).standard_normal(tuple(y.shape))
            loss = loss + (y * lib.tensor(w, dtype=y.dtype)).sum()
    if not isinstance(loss, int):
        loss.backward()
    grads = [None if x.grad is None else x.grad.numpy() for x in inputs if x.requires_grad]
    return ([y.detach().numpy() for y in outputs],
            [str(y.dtype).removeprefix("torch.") for y in outputs], grads)


def _close(actual: np.ndarray, expected: np.ndarray, what: str) -> None:
    if expected.dtype.kind == "f":
        np.testing.assert_array_equal(np.isnan(actual), np.isnan(expected), err_msg=what)
        actual, expected = np.nan_to_num(actual), np.nan_to_num(expected)
    assert_close(actual, expected, rtol=1e-10, what=what)


def check(fn, *arrays) -> None:
    """``fn`` in ffnn and torch: the same values, shapes, dtypes and input gradients."""
    arrays = [np.asarray(a) for a in arrays]
    ours, theirs = _run(ffnn, fn, arrays), _run(torch, fn, arrays)
    assert ours[1] == theirs[1], f"dtypes {ours[1]} != {theirs[1]}"
    assert len(ours[0]) == len(theirs[0])
    for i, (a, b) in enumerate(zip(ours[0], theirs[0])):
        _close(a, b, f"output {i}")
    for i, (a, b) in enumerate(zip(ours[2], theirs[2])):
        assert (a is None) == (b is None), f"gradient {i}: {a} vs {b}"
        if b is not None:
            _close(a, b, f"gradient of input {i}")


def _x(*shape, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape or (3, 4))


def _long(values):
    return lambda lib: lib.tensor(values)


# ----- writes ------------------------------------------------------------------------------
ROWS, COLS = _long([2, 0]), _long([1, -1])
MASK = [[True, False, True, False], [False, False, False, False], [True, True, False, True]]
SCATTER_INDEX = [[0, 1, 0], [2, 2, 1], [3, 3, 3]]

WRITES = {
    "index_put_rows": lambda lib, x, v: x.index_put((ROWS(lib),), v[0]),
    "index_put_points": lambda lib, x, v: lib.index_put(x, (ROWS(lib), COLS(lib)), v[1, :2]),
    "index_put_scalar": lambda lib, x, v: x.index_put([ROWS(lib), COLS(lib)], v[2, 2]),
    "index_put_accumulate": lambda lib, x, v: x.index_put(
        (lib.tensor([0, 2, 0, 0]), lib.tensor([1, 3, 1, -3])), v[0] * 2, accumulate=True),
    "index_put_accumulate_rows": lambda lib, x, v: x.index_put(
        (lib.tensor([1, 1, -2]),), v[:1], accumulate=True),
    "index_put_mask": lambda lib, x, v: x.index_put((lib.tensor(MASK),), v.reshape(-1)[:5]),
    "index_put_row_mask": lambda lib, x, v: x.index_put(
        (lib.tensor([True, False, True]), lib.tensor([3, 0])), v[1, :2], accumulate=True),
    "index_put_inplace": lambda lib, x, v: (x * 1).index_put_((ROWS(lib),), v[0].exp()),
    "index_put_inplace_function": lambda lib, x, v: lib.index_put_(
        x * 1, (ROWS(lib), COLS(lib)), v[1, :2], accumulate=True),
    "masked_scatter": lambda lib, x, v: x.masked_scatter(lib.tensor(MASK), v),
    "masked_scatter_broadcast": lambda lib, x, v: lib.masked_scatter(
        x, lib.tensor([False, True, True, False]), v[1:]),
    "masked_scatter_self_broadcast": lambda lib, x, v: x[0].masked_scatter(
        lib.tensor([[True], [False], [True]]), v),
    "masked_scatter_inplace": lambda lib, x, v: (x * 1).masked_scatter_(
        lib.tensor(MASK[2]), v.sin()),
    "put": lambda lib, x, v: x.put(lib.tensor([[0, 5], [-1, 7]]), v[0]),
    "put_accumulate": lambda lib, x, v: lib.put(x, lib.tensor([3, 3, -9, 0]), v[1],
                                                accumulate=True),
    "put_inplace": lambda lib, x, v: (x * 1).put_(lib.tensor([2, 11]), v[2, :2]),
    "slice_scatter": lambda lib, x, v: x.slice_scatter(v[:, :2], 1, 0, 4, 2),
    "slice_scatter_function": lambda lib, x, v: lib.slice_scatter(x, v[1:], start=-2),
    "slice_scatter_end": lambda lib, x, v: x.slice_scatter(v[:, 1:3], dim=-1, start=1, end=3),
    "slice_scatter_empty": lambda lib, x, v: x.slice_scatter(v[:, :0], 1, 10),
    "select_scatter": lambda lib, x, v: x.select_scatter(v[0], 0, -1),
    "select_scatter_function": lambda lib, x, v: lib.select_scatter(x, v[:, 1], 1, 2),
    "diagonal_scatter": lambda lib, x, v: x.diagonal_scatter(v[0, :3]),
    "diagonal_scatter_above": lambda lib, x, v: lib.diagonal_scatter(x, v[1, :3], 1),
    "diagonal_scatter_below": lambda lib, x, v: x.diagonal_scatter(v[2, :2], -1),
    "diagonal_scatter_far": lambda lib, x, v: x.diagonal_scatter(v[2, :0], 5),
    "diagonal_scatter_3d_apart": lambda lib, x, v: x.reshape(2, 3, 2).diagonal_scatter(
        v.reshape(3, 2, 2)[:, :, 0], 0, 0, 2),
    "diagonal_scatter_3d_next": lambda lib, x, v: x.reshape(2, 3, 2).diagonal_scatter(
        v.reshape(2, 6)[:, :2], 1, 2, 1),
    "diagonal_scatter_3d_reversed": lambda lib, x, v: lib.diagonal_scatter(
        x.reshape(3, 2, 2), v.reshape(2, 6)[:, :2], 0, 2, 0),
}


@pytest.mark.parametrize("name", sorted(WRITES))
def test_writes_match_torch(name):
    check(WRITES[name], _x(), _x(3, 4, seed=1))


@pytest.mark.parametrize("reduce", ["sum", "prod", "mean", "amax", "amin"])
@pytest.mark.parametrize("include_self", [True, False])
def test_scatter_reduce_values_and_gradients_match_torch(reduce, include_self):
    def fn(lib, x, src):
        return x.scatter_reduce(1, lib.tensor(SCATTER_INDEX), src, reduce,
                                include_self=include_self)

    check(fn, _x(3, 5), _x(3, 3, seed=2))
    check(lambda lib, x, src: lib.scatter_reduce(x, 0, lib.tensor([[1, 0, 1, 1]]), src, reduce,
                                                 include_self=include_self), _x(), _x(1, 4))


TIES = np.array([[1.0, 5.0, 0.0, 4.0], [2.0, -1.0, 3.0, 4.0]])
TIED_SRC = np.array([[5.0, 5.0, 2.0, 0.0], [-1.0, 0.0, 0.0, 7.0]])
TIED_INDEX = [[1, 1, 2, 3], [1, 2, 2, 2]]


@pytest.mark.parametrize("reduce", ["amax", "amin", "prod", "mean"])
@pytest.mark.parametrize("include_self", [True, False])
def test_scatter_reduce_with_ties_and_zeros_splits_gradients_as_torch(reduce, include_self):
    """amax/amin share the gradient among equal entries; prod's gradient through zeros (one
    zero in src or self, two zeros at one position) is torch's."""
    check(lambda lib, x, src: (x * 1).scatter_reduce_(1, lib.tensor(TIED_INDEX), src, reduce,
                                                      include_self=include_self),
          TIES, TIED_SRC)


@pytest.mark.parametrize("reduce", ["sum", "prod", "mean", "amax", "amin"])
@pytest.mark.parametrize("include_self", [True, False])
def test_scatter_reduce_of_integers_matches_torch(reduce, include_self):
    """Integer means round down, as torch's (-1 / 2 → -1); the value src larger than index."""
    x = np.array([[-1, 4, 7, -3], [2, 0, -5, 9]])
    src = np.array([[0, -2, 3, 5, 8], [1, 1, -7, 2, 8], [4, 4, 4, 4, 4]])
    check(lambda lib, a, s: a.scatter_reduce(1, lib.tensor(TIED_INDEX), s, reduce,
                                             include_self=include_self), x, src)


def test_scatter_reduce_second_derivatives_match_torch():
    """The gradient of sum, mean, amax and amin is linear in the upstream gradient, so it can
    be differentiated again; prod's cannot in ffnn and says so."""
    for reduce in ("sum", "mean", "amax"):
        grads = []
        for lib in (torch, ffnn):
            x = lib.tensor(_x(3, 5), requires_grad=True)
            src = lib.tensor(_x(3, 3, seed=2), requires_grad=True)
            y = x.scatter_reduce(1, lib.tensor(SCATTER_INDEX), src, reduce, include_self=False)
            g = lib.tensor(_x(3, 5, seed=4), requires_grad=True)
            gx, gs = lib.autograd.grad((y * g).sum(), [x, src], create_graph=True)
            (gx.sin().sum() + (gs ** 2).sum()).backward()
            grads.append(g.grad.numpy())
        assert_close(grads[1], grads[0], what=reduce)
    x = ffnn.tensor(_x(3, 5), requires_grad=True)
    y = x.scatter_reduce(1, ffnn.tensor(SCATTER_INDEX), ffnn.tensor(_x(3, 3)), "prod")
    with pytest.raises(NotImplementedError, match="scatter_reduce.reduce='prod'"):
        ffnn.autograd.grad(y.sum(), [x], create_graph=True)


IN_PLACE_WRITES = (
    lambda lib, t: t.index_put_((lib.tensor([1]),), lib.tensor(2.0, dtype=t.dtype)),
    lambda lib, t: t.masked_scatter_(t > 1, lib.ones(12, dtype=t.dtype)),
    lambda lib, t: t.scatter_reduce_(0, lib.tensor([[0]]), t[:1, :1] + 1, "sum"),
    lambda lib, t: t.put_(lib.tensor([0]), lib.ones(1, dtype=t.dtype)),
)


def test_in_place_writes_bump_the_version_and_guard_saved_tensors_as_torch():
    for lib in (torch, ffnn):
        a = lib.zeros(3, 4, dtype=lib.float64)
        for write in IN_PLACE_WRITES:
            version = a._version
            assert write(lib, a) is a
            assert a._version == version + 1, lib.__name__
        leaf = lib.ones(3, dtype=lib.float64, requires_grad=True)
        with pytest.raises(RuntimeError, match="leaf Variable"):
            leaf.put_(lib.tensor([0]), lib.ones(1, dtype=lib.float64))
        b = leaf * 1
        saved = b.exp()  # saves its output: changing b's input is fine, changing exp's output
        saved.index_put_((lib.tensor([0]),), lib.tensor(3.0, dtype=lib.float64))
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            saved.sum().backward()


def test_index_put_into_a_view_reaches_the_base_as_torch():
    results = []
    for lib in (torch, ffnn):
        x = lib.tensor(_x(), requires_grad=True)
        y = x * 1
        y[1].index_put_((lib.tensor([0, 2]),), x[0, :2] * 3)
        (y * lib.tensor(_x(seed=5))).sum().backward()
        results.append((y.detach().numpy(), x.grad.numpy()))
    for a, b in zip(results[1], results[0]):
        assert_close(a, b)


def test_scatter_casts_src_to_the_tensors_dtype_as_torch():
    for name in ("slice_scatter", "select_scatter", "diagonal_scatter"):
        args = {"slice_scatter": (0,), "select_scatter": (0, 1), "diagonal_scatter": ()}[name]
        src = {"slice_scatter": np.ones((3, 4)), "select_scatter": np.ones(4),
               "diagonal_scatter": np.ones(3)}[name]
        ours = getattr(ffnn.zeros(3, 4), name)(ffnn.tensor(src), *args)
        theirs = getattr(torch.zeros(3, 4), name)(torch.tensor(src), *args)
        assert ours.dtype == np.float32 and theirs.dtype == torch.float32
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


# ----- arithmetic under other names ----------------------------------------------------------
ARITHMETIC = {
    "subtract": lambda lib, x, y: x.subtract(y, alpha=2),
    "subtract_function": lambda lib, x, y: lib.subtract(x, 1.5),
    "subtract_inplace": lambda lib, x, y: (x * 1).subtract_(y.exp(), alpha=-0.5),
    "rsub": lambda lib, x, y: lib.rsub(x, y),
    "rsub_alpha": lambda lib, x, y: lib.rsub(x, 2.0, alpha=3),
    "multiply": lambda lib, x, y: lib.multiply(x, y) + x.multiply(2),
    "multiply_inplace": lambda lib, x, y: (x * 1).multiply_(y),
    "divide": lambda lib, x, y: lib.divide(x, y),
    "divide_trunc": lambda lib, x, y: lib.divide(x * 5, y, rounding_mode="trunc"),
    "divide_floor": lambda lib, x, y: x.divide(y * 0.3, rounding_mode="floor"),
    "divide_floor_number": lambda lib, x, y: x.divide(0.1, rounding_mode="floor") + y,
    "divide_trunc_broadcast": lambda lib, x, y: x.divide(y[0] / 3, rounding_mode="trunc"),
    "divide_inplace": lambda lib, x, y: (x * 1).divide_(y, rounding_mode="floor") + x,
    "divide_zero": lambda lib, x, y: lib.divide(x, y * 0, rounding_mode="floor"),
    "negative": lambda lib, x, y: lib.negative(x) * y,
    "negative_inplace": lambda lib, x, y: (x * y).negative_(),
}


@pytest.mark.parametrize("name", sorted(ARITHMETIC))
def test_arithmetic_aliases_match_torch(name):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check(ARITHMETIC[name], _x(), _x(seed=1))


INTEGERS = {
    "divide_trunc": lambda lib, a, b: lib.divide(a, b, rounding_mode="trunc"),
    "divide_floor": lambda lib, a, b: a.divide(b, rounding_mode="floor"),
    "divide_floor_int32": lambda lib, a, b: a.int().divide(3, rounding_mode="floor"),
    "divide_trunc_float_number": lambda lib, a, b: a.divide(2.5, rounding_mode="trunc"),
    "divide_true": lambda lib, a, b: lib.divide(a, b),
    "divide_inplace": lambda lib, a, b: a.clone().divide_(b, rounding_mode="trunc"),
    "subtract_alpha": lambda lib, a, b: lib.subtract(a, b, alpha=3),
    "rsub": lambda lib, a, b: lib.rsub(a, 7, alpha=2),
    "rsub_float": lambda lib, a, b: lib.rsub(a, 2.5),
    "negative_inplace": lambda lib, a, b: lib.negative_(a.clone()),
    "bitwise_and": lambda lib, a, b: a.bitwise_and(b),
    "bitwise_or": lambda lib, a, b: lib.bitwise_or(a, b.int()),
    "bitwise_xor": lambda lib, a, b: lib.bitwise_xor(a.int(), 6),
    "bitwise_not": lambda lib, a, b: lib.bitwise_not(a),
    "bitwise_bool": lambda lib, a, b: lib.bitwise_xor(a > 0, b > 0),
    "bitwise_not_bool": lambda lib, a, b: (a > 0).bitwise_not(),
    "bitwise_bool_int": lambda lib, a, b: lib.bitwise_and(a > 0, 3),
    "bitwise_number_first": lambda lib, a, b: lib.bitwise_or(12, a),
    "left_shift": lambda lib, a, b: a.bitwise_left_shift(b.abs()),
    "right_shift": lambda lib, a, b: lib.bitwise_right_shift(a, b.abs()),
    "shift_far": lambda lib, a, b: [a << 70, a >> 70, a << -1, a >> -1, a.int() >> 40],
    "shift_int8": lambda lib, a, b: [a.to(lib.int8) << 7, a.to(lib.int8) >> 9,
                                     a.to(lib.uint8) << 3],
    "shift_bool": lambda lib, a, b: lib.bitwise_left_shift(a > 0, 2),
    "operators": lambda lib, a, b: [a ^ b, 5 ^ a, 5 & a, a << 2, 3 << b.abs(), a >> 1,
                                    100 >> b.abs(), (a > 0) ^ (b > 0)],
    "gcd": lambda lib, a, b: lib.gcd(a, b),
    "lcm": lambda lib, a, b: a.lcm(b),
    "gcd_zero": lambda lib, a, b: [lib.gcd(a * 0, b * 0), lib.lcm(a, b * 0)],
    "gcd_promoted": lambda lib, a, b: lib.gcd(a.int(), b),
    "inplace": lambda lib, a, b: [a.clone().bitwise_and_(b), a.clone().bitwise_or_(3),
                                  a.clone().bitwise_xor_(b), a.clone().bitwise_not_(),
                                  a.clone().bitwise_left_shift_(2),
                                  a.clone().bitwise_right_shift_(b.abs()),
                                  a.clone().gcd_(b), lib.lcm_(a.clone(), b)],
}


@pytest.mark.parametrize("name", sorted(INTEGERS))
def test_integer_functions_match_torch(name):
    check(INTEGERS[name], np.array([-7, 7, 5, -5, 12, 0, -9]),
          np.array([2, -2, 3, 3, -8, 5, 6]))


def test_in_place_operators_change_the_tensor_as_torch():
    results = []
    for lib in (torch, ffnn):
        a = lib.tensor([12, -7, 5, 0])
        alias, version = a, a._version
        a &= 6
        a |= lib.tensor([1, 2, 4, 8])
        a ^= 3
        a <<= 2
        a >>= 1
        assert a is alias and a._version == version + 5
        results.append(a.numpy().copy())
    np.testing.assert_array_equal(results[1], results[0])


def test_rounded_division_has_a_zero_gradient_for_both_inputs():
    """torch: div with a rounding mode backpropagates zeros, to the divisor too."""
    for lib in (torch, ffnn):
        x = lib.tensor(_x(), requires_grad=True)
        y = lib.tensor(_x(4, seed=1), requires_grad=True)
        (x.divide(y, rounding_mode="floor") * 3).sum().backward()
        assert not x.grad.numpy().any() and not y.grad.numpy().any()
        assert x.grad.shape == (3, 4) and y.grad.shape == (4,)


# ----- tests, isin, unique_consecutive -----------------------------------------------------
SPECIAL = np.array([-0.0, 0.0, -1.5, INF, -INF, NAN, 2.0])

TESTS = {
    "signbit": lambda lib, x: lib.signbit(x),
    "signbit_int": lambda lib, x: [x.long().signbit(), (x > 0).signbit()],
    "isneginf": lambda lib, x: [lib.isneginf(x), x.isposinf()],
    "isinf_int": lambda lib, x: [lib.isneginf(x[:3].long()), lib.isposinf(x[:3] > 0)],
    "isreal": lambda lib, x: [lib.isreal(x), x.long().isreal(), (x > 0).isreal()],
    "isin": lambda lib, x: lib.isin(x, lib.tensor([2.0, NAN, -1.5])),
    "isin_invert": lambda lib, x: lib.isin(x, lib.tensor([0.0, INF]), invert=True),
    "isin_number": lambda lib, x: [lib.isin(x, 2.0), lib.isin(2.0, x), lib.isin(0.5, x)],
    "isin_mixed_dtypes": lambda lib, x: lib.isin(lib.tensor([[1, 2], [3, 4]]),
                                                 lib.tensor([2.0, 4.5, 1.0])),
    "isin_unique": lambda lib, x: lib.isin(lib.tensor([3, 1, 2]), lib.tensor([2, 5]),
                                           assume_unique=True),
}


@pytest.mark.parametrize("name", sorted(TESTS))
def test_tests_and_isin_match_torch(name):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check(lambda lib, x: TESTS[name](lib, x.detach()), SPECIAL)


RUNS = np.array([[1, 1, 2], [1, 1, 2], [3, 3, 4], [1, 1, 2]])
UNIQUE = {
    "flat": lambda lib, m: lib.unique_consecutive(m),
    "all": lambda lib, m: m.unique_consecutive(return_inverse=True, return_counts=True),
    "counts": lambda lib, m: lib.unique_consecutive(m.t(), return_counts=True),
    "rows": lambda lib, m: m.unique_consecutive(return_inverse=True, return_counts=True,
                                                dim=0),
    "columns": lambda lib, m: lib.unique_consecutive(m, True, True, -1),
    "float_nan": lambda lib, m: lib.unique_consecutive(lib.tensor([1.0, NAN, NAN, 2.0, 2.0]),
                                                       return_counts=True),
    "empty": lambda lib, m: lib.unique_consecutive(lib.tensor([]), return_inverse=True,
                                                   return_counts=True),
    "zero_dim": lambda lib, m: m[0, 0].unique_consecutive(return_inverse=True,
                                                          return_counts=True),
}


@pytest.mark.parametrize("name", sorted(UNIQUE))
def test_unique_consecutive_matches_torch(name):
    check(UNIQUE[name], RUNS)


def test_unique_consecutive_returns_a_plain_tuple_as_torch():
    for lib in (torch, ffnn):
        found = lib.tensor([1, 1, 2]).unique_consecutive(return_inverse=True)
        assert type(found) is tuple and len(found) == 2


# ----- histogram, bincount ---------------------------------------------------------------
HISTOGRAMS = {
    "bins": lambda lib, x: lib.histogram(x, 4),
    "range": lambda lib, x: lib.histogram(x, 5, range=(-1.0, 1.0)),
    "edges": lambda lib, x: lib.histogram(x, lib.tensor([-2.0, -0.5, 0.0, 0.3, 1.5],
                                                        dtype=x.dtype)),
    "weight_density": lambda lib, x: x.histogram(6, weight=x.abs(), density=True),
    "density": lambda lib, x: lib.histogram(x, bins=3, density=True),
    "constant": lambda lib, x: lib.histogram(x * 0 + 1, 4),
    "equal_range": lambda lib, x: lib.histogram(x, 2, range=(1.0, 1.0)),
    "empty": lambda lib, x: lib.histogram(x[:0], 4),
    "matrix": lambda lib, x: lib.histogram(x.reshape(3, 4), 3),
}


@pytest.mark.parametrize("name", sorted(HISTOGRAMS))
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_histogram_matches_torch(name, dtype):
    x = _x(12).astype(dtype)
    x[3] = x.max()  # an entry on the last edge
    ours, theirs = HISTOGRAMS[name](ffnn, ffnn.tensor(x)), HISTOGRAMS[name](torch,
                                                                          torch.tensor(x))
    assert type(ours).__name__ == type(theirs).__name__ == "histogram"
    assert (ours.hist is ours[0], ours.bin_edges is ours[1]) == (True, True)
    for a, b in zip(ours, theirs):
        assert str(a.dtype) == str(b.dtype).removeprefix("torch.")
        assert_close(a.numpy(), b.numpy(), rtol=1e-6 if dtype == "float32" else 1e-12)
    assert repr(ours).startswith("torch.return_types.histogram(\nhist=tensor(")


def test_bincount_method_matches_torch():
    for args in ((), (None, 6)):
        ours = ffnn.tensor([1, 1, 3, 0]).bincount(*args)
        np.testing.assert_array_equal(ours.numpy(), torch.tensor([1, 1, 3, 0]).bincount(
            *args).numpy())
    weights = np.array([0.5, 1.0, 2.0])
    ours = ffnn.tensor([1, 1, 3]).bincount(ffnn.tensor(weights))
    assert_close(ours.numpy(), torch.tensor([1, 1, 3]).bincount(torch.tensor(weights)).numpy())


# ----- unfold, memory layout ---------------------------------------------------------------
UNFOLDS = {
    "overlapping": lambda lib, x: x.unfold(2, 2, 1),
    "middle": lambda lib, x: x.unfold(1, 2, 2),
    "first": lambda lib, x: x.unfold(0, 2, 1).exp(),
    "negative_dim": lambda lib, x: x.unfold(-1, 4, 3),
    "empty_window": lambda lib, x: x.unfold(2, 0, 1) * 1,
    "zero_dim": lambda lib, x: x[0, 0, 0].unfold(0, 1, 1),
}


@pytest.mark.parametrize("name", sorted(UNFOLDS))
def test_unfold_values_and_gradients_match_torch(name):
    check(UNFOLDS[name], _x(2, 3, 4))


LAYOUTS = {
    "contiguous": lambda t: t,
    "transposed": lambda t: t.transpose(0, 2),
    "sliced": lambda t: t[:, 1:],
    "stepped": lambda t: t[1, 1:, ::2],
    "row": lambda t: t[1],
    "expanded": lambda t: t[None].expand(2, 2, 3, 4),
    "unsqueezed": lambda t: t.unsqueeze(1),
    "flat": lambda t: t.reshape(-1)[5:],
}


@pytest.mark.parametrize("name", sorted(LAYOUTS))
def test_strides_offsets_and_sizes_match_torch(name):
    ours = LAYOUTS[name](ffnn.arange(24.0).reshape(2, 3, 4))
    theirs = LAYOUTS[name](torch.arange(24.0).reshape(2, 3, 4))
    assert ours.stride() == theirs.stride()
    assert [ours.stride(d) for d in range(ours.ndim)] == [theirs.stride(d) for d in
                                                          range(theirs.ndim)]
    assert ours.storage_offset() == theirs.storage_offset()
    assert (ours.nbytes, ours.itemsize, ours.element_size()) == (
        theirs.nbytes, theirs.itemsize, theirs.element_size())


def test_data_ptr_tells_shared_memory_as_torch():
    for lib in (torch, ffnn):
        a = lib.arange(12.0).reshape(3, 4)
        assert a.data_ptr() == a.view(12).data_ptr() == a.detach().data_ptr()
        assert a.data_ptr() == a.data.data_ptr() == a[0].data_ptr()
        assert a.clone().data_ptr() != a.data_ptr()
        assert a[1].data_ptr() == a.data_ptr() + a.stride(0) * a.element_size()
        assert lib.from_numpy(a.numpy()).data_ptr() == a.data_ptr()


def test_new_empty_has_the_shape_and_dtype_asked_as_torch():
    for lib in (torch, ffnn):
        base = lib.ones(2, dtype=lib.float64)
        assert base.new_empty(2, 3).shape == (2, 3) and base.new_empty(2, 3).dtype == base.dtype
        assert base.new_empty((4,), dtype=lib.int32).dtype == lib.int32
        assert base.new_empty([0, 2]).shape == (0, 2)
        assert base.new_empty(3, requires_grad=True).requires_grad


# ----- errors: the type torch raises, a message naming what was wrong -----------------------
def _float(lib):
    return lib.arange(12.0).reshape(3, 4)


ERRORS = {
    "index_put_dtype": (lambda lib: _float(lib).index_put((ROWS(lib),), lib.tensor(
        1.0, dtype=lib.float64)), RuntimeError, "dtypes match, got Float for the destination"),
    "index_put_float_index": (lambda lib: _float(lib).index_put((lib.tensor([0.0]),),
                                                                lib.tensor(1.0)),
                              IndexError, "must be long, int, byte or bool"),
    "index_put_too_many": (lambda lib: _float(lib).index_put((ROWS(lib),) * 3, lib.tensor(1.0)),
                           IndexError, r"too many indices for tensor of dimension 2 \(got 3\)"),
    "index_put_bounds": (lambda lib: _float(lib).index_put((lib.tensor([5]),), lib.tensor(1.0)),
                         IndexError, "index 5 is out of bounds for dimension 0 with size 3"),
    "index_put_negative_bounds": (lambda lib: _float(lib).index_put((ROWS(lib), _long([-5])(
        lib)), lib.tensor(1.0)), IndexError, "index -5 is out of bounds for dimension 1"),
    "index_put_shape": (lambda lib: _float(lib).index_put((ROWS(lib),), lib.ones(3)),
                        RuntimeError, r"value tensor of shape \[3\] cannot be broadcast to "
                                      r"indexing result of shape \[2, 4\]"),
    "index_put_number": (lambda lib: _float(lib).index_put((ROWS(lib),), 1.0), TypeError,
                         "'values' .position 2. must be Tensor, not float"),
    "index_put_tensor_indices": (lambda lib: _float(lib).index_put(ROWS(lib), lib.tensor(1.0)),
                                 TypeError, "must be tuple of Tensors, not Tensor"),
    "index_put_none": (lambda lib: _float(lib).index_put((None, ROWS(lib)), lib.tensor(1.0)),
                       TypeError, "expected Tensor as element 0"),
    "index_put_mask_shape": (lambda lib: _float(lib).index_put((lib.tensor([True, False]),),
                                                               lib.tensor(1.0)),
                             IndexError, r"mask \[2\] at index 0 does not match"),
    "masked_scatter_mask_dtype": (lambda lib: _float(lib).masked_scatter(
        _float(lib), lib.ones(12)), RuntimeError, "only supports boolean masks"),
    "masked_scatter_dtype": (lambda lib: _float(lib).masked_scatter(
        _float(lib) > 5, lib.ones(12, dtype=lib.float64)), RuntimeError, "same dtypes"),
    "masked_scatter_short": (lambda lib: _float(lib).masked_scatter(_float(lib) > 5,
                                                                    lib.ones(3)),
                             RuntimeError, "Number of elements of source < number of ones"),
    "masked_scatter_shape": (lambda lib: _float(lib).masked_scatter(
        lib.tensor([True, False, True]), lib.ones(12)),
                             RuntimeError, r"size of tensor a \(4\) must match the size of "
                                           r"tensor b \(3\) at non-singleton dimension 1"),
    "masked_scatter_number": (lambda lib: _float(lib).masked_scatter(_float(lib) > 5, 1.0),
                              TypeError, "must be Tensor, not float"),
    "scatter_reduce_name": (lambda lib: _float(lib).scatter_reduce(
        1, lib.tensor(TIED_INDEX), lib.ones(2, 4), "maximum"), RuntimeError,
                            "reduce argument must be either sum, prod, mean, amax or amin"),
    "scatter_reduce_dtype": (lambda lib: _float(lib).scatter_reduce(
        1, lib.tensor(TIED_INDEX), lib.ones(2, 4, dtype=lib.float64), "sum"), RuntimeError,
                             "Expected self.dtype to be equal to src.dtype"),
    "scatter_reduce_bounds": (lambda lib: _float(lib).scatter_reduce(
        1, lib.tensor([[4]]), lib.ones(1, 1), "amax"), RuntimeError,
                              "index 4 is out of bounds for dimension 1 with size 4"),
    "scatter_reduce_rank": (lambda lib: _float(lib).scatter_reduce(
        1, lib.tensor([1]), lib.ones(1, 1), "sum"), RuntimeError, "same number of dimensions"),
    "scatter_reduce_src": (lambda lib: _float(lib).scatter_reduce(
        1, lib.tensor([[1]]), 1.0, "sum"), TypeError, "'src' .position 3. must be Tensor"),
    "put_bounds": (lambda lib: _float(lib).put(lib.tensor([0, 12]), lib.ones(2)), IndexError,
                   "out of range: tried to access index 12 on a tensor of 12 elements"),
    "put_numel": (lambda lib: _float(lib).put(lib.tensor([0, 1]), lib.ones(3)), IndexError,
                  r"source.numel\(\) = 3, index.numel\(\) = 2"),
    "put_dtype": (lambda lib: _float(lib).put(lib.tensor([0]), lib.ones(1, dtype=lib.float64)),
                  RuntimeError, "self.dtype = Float and source.dtype = Double"),
    "put_index_dtype": (lambda lib: _float(lib).put(lib.tensor([0.0]), lib.ones(1)),
                        RuntimeError, "Expected a long tensor for index, but got Float"),
    "slice_scatter_shape": (lambda lib: _float(lib).slice_scatter(lib.ones(2, 2)), RuntimeError,
                            r"src size = \[2, 2\], slice size = \[3, 4\]"),
    "slice_scatter_step": (lambda lib: _float(lib).slice_scatter(lib.ones(3, 4), 0, 0, 3, 0),
                           RuntimeError, "slice step must be positive"),
    "select_scatter_index": (lambda lib: _float(lib).select_scatter(lib.ones(4), 0, 3),
                             IndexError, "select... index 3 out of range for tensor of size"),
    "select_scatter_shape": (lambda lib: _float(lib).select_scatter(lib.ones(3), 0, 1),
                             RuntimeError, r"src size = \[3\], slice size = \[4\]"),
    "diagonal_scatter_shape": (lambda lib: _float(lib).diagonal_scatter(lib.ones(4)),
                               RuntimeError, r"src size = \[4\], slice size = \[3\]"),
    "diagonal_scatter_dims": (lambda lib: _float(lib).diagonal_scatter(lib.ones(3), 0, 1, -1),
                              RuntimeError, "diagonal dimensions cannot be identical"),
    "divide_mode": (lambda lib: lib.divide(_float(lib), 2, rounding_mode="round"),
                    RuntimeError, "rounding_mode to be one of None, 'trunc', or 'floor'"),
    "divide_int_by_zero": (lambda lib: lib.divide(lib.tensor([3, 4]), 0, rounding_mode="floor"),
                           RuntimeError, "ZeroDivisionError"),
    "divide_bool": (lambda lib: lib.divide(lib.tensor([True]), True, rounding_mode="trunc"),
                    NotImplementedError, "not implemented for 'Bool'"),
    "divide_inplace_int": (lambda lib: lib.tensor([3, 4]).divide_(lib.tensor([2, 2])),
                           RuntimeError, "result type Float can't be cast to the desired "
                                         "output type Long"),
    "subtract_bools": (lambda lib: lib.subtract(lib.tensor([True]), lib.tensor([False])),
                       RuntimeError, "with two bool tensors is not supported"),
    "subtract_float_alpha": (lambda lib: lib.tensor([3]).subtract(lib.tensor([1]), alpha=0.5),
                             RuntimeError, "alpha must not be a floating point number"),
    "rsub_float_alpha": (lambda lib: lib.rsub(lib.tensor([3]), 2, alpha=1.5), RuntimeError,
                         "alpha must not be a floating point number"),
    "negative_bool": (lambda lib: lib.negative(lib.tensor([True])), RuntimeError,
                      "Negation, the `-` operator, on a bool tensor is not supported"),
    "bitwise_float": (lambda lib: lib.bitwise_and(_float(lib), _float(lib)),
                      NotImplementedError, "\"bitwise_and_cpu\" not implemented for 'Float'"),
    "bitwise_float_number": (lambda lib: lib.tensor([3]).bitwise_or(1.5), NotImplementedError,
                             "\"bitwise_or_cpu\" not implemented for 'Float'"),
    "bitwise_not_float": (lambda lib: _float(lib).bitwise_not(), NotImplementedError,
                          "\"bitwise_not_cpu\" not implemented for 'Float'"),
    "shift_float": (lambda lib: _float(lib) << 1, NotImplementedError,
                    "\"lshift_cpu\" not implemented for 'Float'"),
    "shift_bools": (lambda lib: lib.tensor([True]) >> lib.tensor([True]), NotImplementedError,
                    "\"rshift_cpu\" not implemented for 'Bool'"),
    "bitwise_inplace_bool": (lambda lib: lib.tensor([True]).bitwise_xor_(lib.tensor([2])),
                             RuntimeError, "result type Long can't be cast to the desired "
                                           "output type Bool"),
    "gcd_float": (lambda lib: lib.gcd(_float(lib), _float(lib)), NotImplementedError,
                  "\"gcd_cpu\" not implemented for 'Float'"),
    "lcm_bool": (lambda lib: lib.lcm(lib.tensor([True]), lib.tensor([True])),
                 NotImplementedError, "\"lcm_cpu\" not implemented for 'Bool'"),
    "gcd_number": (lambda lib: lib.gcd(lib.tensor([4]), 2), TypeError,
                   "'other' .position 2. must be Tensor, not int"),
    "isin_numbers": (lambda lib: lib.isin(2, 2), TypeError, "isin.. received an invalid"),
    "isin_bool": (lambda lib: lib.isin(lib.tensor([True]), lib.tensor([1])), RuntimeError,
                  "Unsupported input type encountered for isin..: Bool"),
    "unique_consecutive_dim": (lambda lib: lib.tensor([[1, 2]]).unique_consecutive(dim=2),
                               IndexError, "Dimension out of range"),
    "histogram_int": (lambda lib: lib.histogram(lib.tensor([1, 2]), 2), NotImplementedError,
                      "\"histogramdd\" not implemented for 'Long'"),
    "histogram_bins": (lambda lib: lib.histogram(_float(lib), 0), RuntimeError,
                       "bins must be > 0, but got 0"),
    "histogram_range": (lambda lib: lib.histogram(_float(lib), 2, range=(3.0, 1.0)),
                        RuntimeError, "min should not exceed max, but got min 3 max 1"),
    "histogram_infinite": (lambda lib: lib.histogram(_float(lib), 2, range=(0.0, INF)),
                           RuntimeError, r"range \[0, inf\] is not finite"),
    "histogram_bins_list": (lambda lib: lib.histogram(_float(lib), [0.0, 1.0]), TypeError,
                            "histogram"),
    "histogram_edges_dtype": (lambda lib: lib.histogram(_float(lib), lib.tensor(
        [0.0, 1.0], dtype=lib.float64)), RuntimeError, "should have the same dtype"),
    "histogram_weight": (lambda lib: lib.histogram(_float(lib), 2, weight=lib.ones(3)),
                         RuntimeError, "weight tensor is provided it should have the same "
                                       "shape"),
    "unfold_size": (lambda lib: _float(lib).unfold(1, 5, 1), RuntimeError,
                    "maximum size for tensor at dimension 1 is 4 but size is 5"),
    "unfold_step": (lambda lib: _float(lib).unfold(1, 2, 0), RuntimeError,
                    "step is 0 but must be > 0"),
    "unfold_negative_size": (lambda lib: _float(lib).unfold(1, -1, 1), RuntimeError,
                             "size is -1 but must be >= 0"),
    "unfold_dim": (lambda lib: _float(lib).unfold(2, 1, 1), IndexError, "Dimension out of range"),
    "stride_dim": (lambda lib: _float(lib).stride(2), IndexError, "Dimension out of range"),
}


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_bad_arguments_raise_as_torch(name):
    fn, kind, message = ERRORS[name]
    with pytest.raises(kind):
        fn(torch)
    with pytest.raises(kind, match=message):
        fn(ffnn)


@pytest.mark.parametrize("mode", ["trunc", "floor"])
def test_div_takes_torchs_rounding_mode(mode):
    for a, b in (([7, -7, 9], 2), ([7.5, -7.5, 1.0], [2.0, 2.0, -0.3])):
        def other(lib, b=b):
            return lib.tensor(b) if isinstance(b, list) else b

        theirs = torch.div(torch.tensor(a), other(torch), rounding_mode=mode).numpy()
        ours = [ffnn.div(ffnn.tensor(a), other(ffnn), rounding_mode=mode).numpy(),
                ffnn.tensor(a).div(other(ffnn), rounding_mode=mode).numpy()]
        if theirs.dtype.kind == "f":
            ours.append(ffnn.tensor(a).div_(other(ffnn), rounding_mode=mode).numpy())
        for value in ours:
            np.testing.assert_array_equal(value, theirs)
            assert value.dtype == theirs.dtype
