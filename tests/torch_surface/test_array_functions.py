"""The array functions (ffnn.tensor_arrays, ffnn.functions_arrays): values, shapes, dtypes and
gradients against torch, computed here in float64; named-tuple fields, edge cases, errors
of the same type as torch's, and the dtype and determinism helpers."""

import math
import warnings

import numpy as np
import pytest
import torch

import ffnn
from tests.helpers import assert_close

NAN = math.nan


def _outputs(result) -> list:
    return list(result) if isinstance(result, (tuple, list)) else [result]


def _dtype_name(dtype) -> str:
    return str(dtype).removeprefix("torch.")


def _run(lib, fn, arrays: list) -> tuple:
    """(outputs as arrays, their dtype names, the inputs' gradients) of ``fn(lib, *inputs)``
    after backward of Σ w·y over the floating outputs (w fixed by the output's shape)."""
    inputs = [lib.tensor(a, requires_grad=a.dtype.kind == "f") for a in arrays]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.cross without dim, torch.range
        outputs = _outputs(fn(lib, *inputs))
    loss = 0
    for y in outputs:
        if y.requires_grad:
            w = np.random.default_rng(y.numel()).standard_normal(tuple(y.shape))
            loss = loss + (y * lib.tensor(w)).sum()
    if not isinstance(loss, int):
        loss.backward()
    grads = [None if x.grad is None else x.grad.numpy() for x in inputs if x.requires_grad]
    return ([y.detach().numpy() for y in outputs], [_dtype_name(y.dtype) for y in outputs],
            grads)


def _close(actual: np.ndarray, expected: np.ndarray, rtol: float, what: str) -> None:
    """assert_close, NaN where torch has NaN."""
    if expected.dtype.kind == "f":
        np.testing.assert_array_equal(np.isnan(actual), np.isnan(expected), err_msg=what)
        actual, expected = np.nan_to_num(actual), np.nan_to_num(expected)
    assert_close(actual, expected, rtol=rtol, what=what)


def check(fn, *arrays, rtol: float = 1e-10) -> None:
    """``fn`` in ffnn and torch: the same values, shapes, dtypes and input gradients."""
    arrays = [np.asarray(a) for a in arrays]
    ours, theirs = _run(ffnn, fn, arrays), _run(torch, fn, arrays)
    assert ours[1] == theirs[1], f"dtypes {ours[1]} != {theirs[1]}"
    assert len(ours[0]) == len(theirs[0])
    for i, (a, b) in enumerate(zip(ours[0], theirs[0])):
        _close(a, b, rtol, f"output {i}")
    for i, (a, b) in enumerate(zip(ours[2], theirs[2])):
        assert (a is None) == (b is None), f"gradient {i}: {a} vs {b}"
        if b is not None:
            _close(a, b, rtol, f"gradient of input {i}")


def _x(rows: int = 3, cols: int = 4, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((rows, cols))


def _index(values) -> object:
    return lambda lib: lib.tensor(values)


SHAPES = {
    "tile": lambda lib, x: lib.tile(x, (2,)) * 1,
    "tile_more_dims": lambda lib, x: x.tile(2, 1, 2),
    "ravel": lambda lib, x: x.t().ravel(),
    "moveaxis_tuple": lambda lib, x: x.reshape(2, 3, 2).moveaxis((0, 1), (2, 0)),
    "moveaxis_int": lambda lib, x: lib.moveaxis(x.reshape(2, 3, 2), 0, -1),
    "swapdims": lambda lib, x: lib.swapdims(x.reshape(3, 2, 2), 0, 2),
    "swapaxes_method": lambda lib, x: x.swapaxes(0, 1),
    "diagonal": lambda lib, x: x.diagonal(),
    "diagonal_offset": lambda lib, x: lib.diagonal(x, 1),
    "diagonal_negative": lambda lib, x: x.diagonal(-1),
    "diagonal_dims": lambda lib, x: x.reshape(2, 3, 2).diagonal(0, 2, 0),
    "diagonal_empty": lambda lib, x: x.diagonal(5) * 1,
    "diag_embed": lambda lib, x: lib.diag_embed(x),
    "diag_embed_dims": lambda lib, x: x.diag_embed(1, 0, 2),
    "diag_embed_negative": lambda lib, x: x.diag_embed(-2, dim1=-1, dim2=0),
    "fliplr": lambda lib, x: lib.fliplr(x),
    "flipud": lambda lib, x: x.flipud(),
    "rot90": lambda lib, x: lib.rot90(x),
    "rot90_k2": lambda lib, x: x.rot90(2),
    "rot90_k3": lambda lib, x: x.rot90(3, [0, 1]),
    "rot90_negative": lambda lib, x: x.rot90(-1, [1, 0]),
    "rot90_3d": lambda lib, x: x.reshape(3, 2, 2).rot90(1, [0, 2]),
    "atleast_1d": lambda lib, x: lib.atleast_1d(x[0, 0]),
    "atleast_2d": lambda lib, x: lib.atleast_2d(x[0]),
    "atleast_3d": lambda lib, x: lib.atleast_3d(x[0, 0], x[0], x),
    "atleast_list": lambda lib, x: lib.atleast_2d([x[0, 0], x]),
    "column_stack": lambda lib, x: lib.column_stack([x[0], x.t(), x[1]]),
    "dstack": lambda lib, x: lib.dstack([x, x.exp()]),
    "row_stack": lambda lib, x: lib.row_stack([x[0], x, x[2]]),
    "block_diag": lambda lib, x: lib.block_diag(x, x[0], x[1, 1], x[:2, :1]),
    "broadcast_tensors": lambda lib, x: lib.broadcast_tensors(x[:, :1], x[0], x[1, 1]),
    "cartesian_prod": lambda lib, x: lib.cartesian_prod(x[0, :2], x[1, :3]),
    "cartesian_prod_three": lambda lib, x: lib.cartesian_prod(x[0, :2], x[1, :2], x[2, :3]),
    "combinations": lambda lib, x: lib.combinations(x[0]),
    "combinations_r3": lambda lib, x: lib.combinations(x[1], 3),
    "combinations_replacement": lambda lib, x: lib.combinations(x[2], 2, with_replacement=True),
    "kron": lambda lib, x: lib.kron(x[:2, :2], x[1:, 2:]),
    "kron_ranks": lambda lib, x: x[0].kron(x),
    "cross_dim": lambda lib, x: lib.cross(x.reshape(4, 3), x.reshape(4, 3).exp(), dim=-1),
    "cross_default_dim": lambda lib, x: lib.cross(x[:, :3], x[:, 1:]),
    "cross_method": lambda lib, x: x[:, :3].cross(x[:, 1:].sin(), dim=0),
    "take": lambda lib, x: lib.take(x, lib.tensor([[0, 11], [5, -1]])),
    "take_along_dim": lambda lib, x: lib.take_along_dim(x, x.argsort(1), 1),
    "take_along_dim_broadcast": lambda lib, x: x.take_along_dim(lib.tensor([[2, 1, 0, 2]]), 0),
    "take_along_dim_flat": lambda lib, x: lib.take_along_dim(x, lib.tensor([3, 0, 3])),
    "unflatten": lambda lib, x: lib.unflatten(x, 1, (2, 2)),
    "unflatten_inferred": lambda lib, x: x.unflatten(0, (-1, 1)),
    "tensor_split_sections": lambda lib, x: lib.tensor_split(x, 3, dim=1),
    "tensor_split_indices": lambda lib, x: x.tensor_split([1, 3, 2, 9], 1),
    "hsplit": lambda lib, x: lib.hsplit(x, 2),
    "vsplit": lambda lib, x: x.vsplit([1]),
    "dsplit": lambda lib, x: lib.dsplit(x.reshape(3, 2, 2), 2),
}


@pytest.mark.parametrize("name", sorted(SHAPES))
def test_shape_functions_match_torch(name):
    check(SHAPES[name], _x())


def test_vander_values_match_torch_and_gradients_finite_differences():
    """torch's vander cannot be differentiated (its backward meets an in-place change), so the
    gradient is checked by finite differences."""
    a = _x()[0]
    for kwargs in ({}, {"N": 3, "increasing": True}, {"N": 6}):
        ours, theirs = ffnn.vander(ffnn.tensor(a), **kwargs), torch.vander(torch.tensor(a),
                                                                           **kwargs)
        assert_close(ours.numpy(), theirs.numpy())
        assert ffnn.gradcheck(lambda x, k=kwargs: ffnn.vander(x, **k),
                              [ffnn.tensor(a, requires_grad=True)])


INDEX = np.array([[0, 3], [2, 1], [1, 1]])

SCATTER = {
    "scatter_src": lambda lib, x: x.scatter(1, lib.tensor(INDEX[:, :1]), x[:, 2:3] * 2),
    "scatter_function": lambda lib, x: lib.scatter(x, 1, lib.tensor([[0, 3], [2, 1], [1, 0]]),
                                                   x[:, :2].exp()),
    "scatter_value": lambda lib, x: lib.scatter(x, 0, lib.tensor([[2, 0, 1, 1]]), 1.5),
    "scatter_value_keyword": lambda lib, x: x.scatter(1, lib.tensor(INDEX), value=-1.0),
    "scatter_add": lambda lib, x: x.scatter_add(1, lib.tensor(INDEX), x[:, :2].exp()),
    "scatter_add_function": lambda lib, x: lib.scatter_add(x, 0, lib.tensor([[2, 2, 0, 1]]),
                                                           x[:1].sin()),
    "index_add": lambda lib, x: x.index_add(1, lib.tensor([0, 2, 0]), x[:, :3].sin(), alpha=2.0),
    "index_add_function": lambda lib, x: lib.index_add(x, 0, lib.tensor([2, 2]), x[:2] ** 2),
    "index_copy": lambda lib, x: x.index_copy(0, lib.tensor([2, 0]), x[:2].cos()),
    "index_copy_function": lambda lib, x: lib.index_copy(x, 1, lib.tensor([3]), x[:, :1] * 3),
    "index_fill": lambda lib, x: x.index_fill(1, lib.tensor([1, 3]), -2.0),
    "index_fill_tensor": lambda lib, x: lib.index_fill(x, 0, lib.tensor([0, 2]), x[1, 1] * 3),
    "scatter_inplace": lambda lib, x: (x * 1).scatter_(1, lib.tensor(INDEX), x[:, 1:3] ** 2),
    "scatter_add_inplace": lambda lib, x: (x * 1).scatter_add_(0, lib.tensor([[1, 1, 0, 2]]),
                                                               x[2:].exp()),
    "index_add_inplace": lambda lib, x: (x * 1).index_add_(1, lib.tensor([3, 3]), x[:, :2]),
    "index_copy_inplace": lambda lib, x: (x * 1).index_copy_(0, lib.tensor([1]), x[2:] * 5),
    "index_fill_inplace": lambda lib, x: (x * 1).index_fill_(1, lib.tensor([0]), 7.0),
    "index_fill_negative": lambda lib, x: x.detach().index_fill(1, lib.tensor([-1, 0]), 2.0),
}


@pytest.mark.parametrize("name", sorted(SCATTER))
def test_scatter_and_index_functions_match_torch(name):
    check(SCATTER[name], _x())


def test_scatter_reduce_and_inplace_without_graph():
    """reduce= has no gradient in torch (its backward raises): ffnn raises when one is
    needed rather than cut the graph."""
    index = [[0, 1], [2, 0], [1, 1]]
    for reduce in ("add", "multiply"):
        results = []
        for lib in (torch, ffnn):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # torch: the reduce argument is deprecated
                results.append(lib.ones(3, 4, dtype=lib.float64).scatter(
                    1, lib.tensor(index), lib.full((3, 2), 3.0, dtype=lib.float64),
                    reduce=reduce).numpy())
        np.testing.assert_array_equal(results[1], results[0])
    x = ffnn.ones(3, 4, requires_grad=True)
    with pytest.raises(RuntimeError, match="derivative for aten::scatter"):
        x.scatter(1, ffnn.tensor(index), 2.0, reduce="multiply")
    ours, theirs = ffnn.zeros(2, 3), torch.zeros(2, 3)
    for t, lib in ((ours, ffnn), (theirs, torch)):
        assert t.scatter_add_(1, lib.tensor([[0, 0], [2, 1]]), lib.ones(2, 2)) is t
        t.index_fill_(0, lib.tensor([1]), 4.0)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def _with_ties() -> np.ndarray:
    return np.array([[3.0, 1.0, 2.0, 1.0, 2.0, 5.0], [0.5, -1.0, 0.5, 4.0, 4.0, 4.0],
                     [2.0, 2.0, 2.0, 2.0, 1.0, 1.0]])


def _with_nan() -> np.ndarray:
    a = _x(3, 5)
    a[0, 1] = a[2, 0] = a[2, 3] = NAN
    return a


STATISTICS = {
    "median_all": lambda lib, x: x.median(),
    "median_dim": lambda lib, x: lib.median(x, 1),
    "median_keepdim": lambda lib, x: x.median(0, keepdim=True),
    "median_negative_dim": lambda lib, x: x.median(-1).values,
    "nanmedian_dim": lambda lib, x: lib.nanmedian(x, 0),
    "kthvalue": lambda lib, x: x.kthvalue(2, 1),
    "kthvalue_keepdim": lambda lib, x: lib.kthvalue(x, 3, 0, keepdim=True),
    "kthvalue_default_dim": lambda lib, x: x.kthvalue(4),
    "msort": lambda lib, x: lib.msort(x),
    "cummax": lambda lib, x: lib.cummax(x, 1),
    "cummin": lambda lib, x: x.cummin(0),
    "cummin_negative_dim": lambda lib, x: x.cummin(-1),
    "aminmax": lambda lib, x: lib.aminmax(x),
    "aminmax_dim": lambda lib, x: x.aminmax(dim=1, keepdim=True),
    "aminmax_all_keepdim": lambda lib, x: lib.aminmax(x, keepdim=True),
    "nansum": lambda lib, x: lib.nansum(x),
    "nansum_dim": lambda lib, x: x.nansum(1, keepdim=True),
    "nansum_all_keepdim": lambda lib, x: lib.nansum(x, keepdim=True),
    "nanmean": lambda lib, x: x.nanmean(),
    "nanmean_dim": lambda lib, x: lib.nanmean(x, 0),
    "nanmean_dims_keepdim": lambda lib, x: x.nanmean((0, 1), keepdim=True),
}


@pytest.mark.parametrize("name", sorted(STATISTICS))
def test_statistics_of_distinct_values_match_torch(name):
    check(STATISTICS[name], _x(3, 5))


@pytest.mark.parametrize("name", ["nanmedian_dim", "nansum", "nansum_dim", "nanmean",
                                  "nanmean_dim", "nanmean_dims_keepdim", "median_all",
                                  "median_dim", "cummax", "cummin"])
def test_statistics_with_nan_match_torch(name):
    check(STATISTICS[name], _with_nan())


def test_nanmedian_of_all_values_and_quantiles_with_nan_match_torch():
    check(lambda lib, x: x.nanmedian(), _with_nan())
    check(lambda lib, x: lib.nanquantile(x, 0.4, dim=1), _with_nan())
    check(lambda lib, x: x.nanquantile(x.new_tensor([0.25, 1.0])), _with_nan())
    check(lambda lib, x: lib.quantile(x, 0.5, dim=1), _with_nan())
    check(lambda lib, x: x[:, 1:3].nanquantile(0.5, dim=1), _with_nan())  # a row of NaN only


def test_whole_median_splits_the_gradient_over_ties_as_torch():
    check(lambda lib, x: x.median(), np.array([1.0, 2.0, 2.0, 2.0, 3.0]))
    check(lambda lib, x: x.median(), _with_ties())


@pytest.mark.parametrize("name", ["cummax", "cummin", "cummin_negative_dim", "mode", "mode_0",
                                  "mode_keepdim"])
def test_ties_pick_the_index_torch_picks(name):
    """cummax/cummin take the latest index of a tie, mode the last index of the smallest
    most frequent value: the values, indices and gradients are torch's."""
    cases = {**STATISTICS, "mode": lambda lib, x: x.mode(),
             "mode_0": lambda lib, x: lib.mode(x, 0),
             "mode_keepdim": lambda lib, x: x.mode(-1, keepdim=True)}
    check(cases[name], _with_ties())


@pytest.mark.parametrize("fn", [lambda lib, x: x.median(1), lambda lib, x: x.kthvalue(3, 1),
                                lambda lib, x: lib.median(x, 0, keepdim=True)])
def test_median_and_kthvalue_with_ties_have_torch_values(fn):
    """Among ties torch does not say which index it returns: the values agree, and the
    index points at an entry of that value, which gets the whole gradient."""
    a = _with_ties()
    ours, theirs = fn(ffnn, ffnn.tensor(a, requires_grad=True)), fn(torch, torch.tensor(a))
    np.testing.assert_array_equal(ours.values.detach().numpy(), theirs.values.numpy())
    dim = 1 if ours.values.shape[0] == 3 else 0
    picked = np.take_along_axis(a, ours.indices.numpy().reshape(
        (-1, 1) if dim else (1, -1)), dim)
    np.testing.assert_array_equal(picked.reshape(-1), ours.values.detach().numpy().reshape(-1))


@pytest.mark.parametrize("seed", range(4))
def test_kthvalue_among_ties_returns_torchs_index_and_gradient(seed):
    """torch's CPU kthvalue runs a quickselect: among entries equal to the k-th value its
    index is the one the partitioning ends on (not the stable sort's), and the gradient goes
    there; NaN counts as the largest."""
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 3, (6, 9)).astype(np.float64)
    a[rng.random(a.shape) < 0.1] = np.nan
    for k, dim in ((1, 1), (3, 1), (5, 0), (9, -1)):
        x, t = ffnn.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
        ours, theirs = x.kthvalue(k, dim), t.kthvalue(k, dim)
        np.testing.assert_array_equal(ours.indices.numpy(), theirs.indices.numpy())
        np.testing.assert_array_equal(ours.values.detach().numpy(),
                                      theirs.values.detach().numpy())
        ours.values.nansum().backward()
        theirs.values.nansum().backward()
        np.testing.assert_array_equal(x.grad.numpy(), t.grad.numpy())


QUANTILES = {
    "scalar_all": lambda lib, x, how: lib.quantile(x, 0.3, interpolation=how),
    "scalar_dim": lambda lib, x, how: x.quantile(0.75, dim=1, interpolation=how),
    "scalar_dim_keepdim": lambda lib, x, how: lib.quantile(x, 0.2, 0, True, interpolation=how),
    "scalar_all_keepdim": lambda lib, x, how: x.quantile(0.6, keepdim=True, interpolation=how),
    "vector_all": lambda lib, x, how: x.quantile(x.new_tensor([0.0, 0.1, 0.5, 1.0]),
                                                 interpolation=how),
    "vector_dim": lambda lib, x, how: lib.quantile(x, x.new_tensor([0.25, 0.9]), dim=-1,
                                                   interpolation=how),
    "vector_keepdim": lambda lib, x, how: x.quantile(x.new_tensor([0.25, 0.9]), 0,
                                                     keepdim=True, interpolation=how),
    "vector_all_keepdim": lambda lib, x, how: x.quantile(x.new_tensor([0.4, 0.5]),
                                                         keepdim=True, interpolation=how),
    "zero_dim_q": lambda lib, x, how: x.quantile(x.new_tensor(0.35), dim=1, interpolation=how),
    "nanquantile": lambda lib, x, how: lib.nanquantile(x, 0.45, dim=0, interpolation=how),
    "nanquantile_vector": lambda lib, x, how: x.nanquantile(x.new_tensor([0.1, 0.5]), dim=1,
                                                            interpolation=how),
}


@pytest.mark.parametrize("interpolation", ["linear", "lower", "higher", "midpoint", "nearest"])
@pytest.mark.parametrize("name", sorted(QUANTILES))
def test_quantiles_match_torch(name, interpolation):
    check(lambda lib, x: QUANTILES[name](lib, x, interpolation), _x(3, 5))
    if name.startswith("nanquantile"):
        check(lambda lib, x: QUANTILES[name](lib, x, interpolation), _with_nan())


def test_quantile_of_a_zero_dim_tensor_and_a_single_row():
    check(lambda lib, x: x[0, 0].quantile(0.3, dim=0), _x())
    check(lambda lib, x: x[0, 0].quantile(0.3, dim=0, keepdim=True), _x())
    check(lambda lib, x: x[0, :1].quantile(x.new_tensor([0.2, 0.8]), dim=0), _x())


CDIST = {
    "p2": lambda lib, a, b: lib.cdist(a, b),
    "p2_no_mm": lambda lib, a, b: lib.cdist(a, b, compute_mode="donot_use_mm_for_euclid_dist"),
    "p2_mm": lambda lib, a, b: lib.cdist(a, b, compute_mode="use_mm_for_euclid_dist"),
    "p1": lambda lib, a, b: lib.cdist(a, b, p=1),
    "p_half": lambda lib, a, b: lib.cdist(a, b, p=0.5),
    "p_1_5": lambda lib, a, b: lib.cdist(a, b, p=1.5),
    "p3": lambda lib, a, b: lib.cdist(a, b, p=3),
    "p_inf": lambda lib, a, b: lib.cdist(a, b, p=math.inf),
    "p0": lambda lib, a, b: lib.cdist(a, b, p=0),
    "batched": lambda lib, a, b: lib.cdist(a.reshape(2, 3, 2), b.reshape(1, 4, 2)),
}


def _cdist_inputs(rows: int = 6, others: int = 4) -> tuple:
    """Rows of x1 and x2, with a pair at distance 0 and a pair equal in one coordinate."""
    rng = np.random.default_rng(3)
    a, b = rng.standard_normal((rows, 2)), rng.standard_normal((others, 2))
    a[1] = b[2]
    a[3, 0] = b[0, 0]
    return a, b


@pytest.mark.parametrize("name", sorted(CDIST))
def test_cdist_values_and_gradients_match_torch(name):
    """Including a zero distance (gradient 0, as torch) and zero components (p < 2). The
    matrix-product form computes a zero distance as √(‖a‖² + ‖b‖² − 2a·b), whose rounding
    (~1e-16 under the root) gives ~1e-8 or 0 depending on the BLAS: 1e-7 there."""
    check(CDIST[name], *_cdist_inputs(), rtol=1e-7 if name == "p2_mm" else 1e-9)


def test_cdist_by_products_above_25_rows_matches_torch():
    """torch switches to √(|a|² − 2a·b + |b|²) past 25 rows; the rounding follows it."""
    a, b = _cdist_inputs(30, 5)
    a[1] = b[2] + 1e-3
    check(lambda lib, x, y: lib.cdist(x, y), a, b, rtol=1e-7)


DISTANCES = {
    "dist": lambda lib, x: lib.dist(x, x.flip(0)),
    "dist_p1": lambda lib, x: x.dist(x * 2, 1),
    "dist_p_1_5_zero_parts": lambda lib, x: lib.dist(x, x.clamp(min=0), 1.5),
    "dist_p3_broadcast": lambda lib, x: x.dist(x[0], p=3),
    "dist_inf": lambda lib, x: lib.dist(x, x.sin(), math.inf),
    "dist_zero": lambda lib, x: lib.dist(x, x.detach(), 2.5),
    "trapezoid": lambda lib, x: lib.trapezoid(x),
    "trapezoid_dx": lambda lib, x: lib.trapezoid(x, dx=0.5, dim=0),
    "trapezoid_x_1d": lambda lib, x: lib.trapezoid(x, x[0].exp().cumsum(0)),
    "trapezoid_x_full": lambda lib, x: lib.trapezoid(x.exp(), x, dim=0),
    "trapz": lambda lib, x: lib.trapz(x, x[1], dim=1),
    "trapz_dx": lambda lib, x: lib.trapz(x, dx=2.0),
    "cumulative_trapezoid": lambda lib, x: lib.cumulative_trapezoid(x),
    "cumulative_trapezoid_x": lambda lib, x: lib.cumulative_trapezoid(x, x[:, 0], dim=0),
    "cumulative_trapezoid_dx": lambda lib, x: lib.cumulative_trapezoid(x, dx=0.25, dim=-1),
}


@pytest.mark.parametrize("name", sorted(DISTANCES))
def test_distances_and_integrals_match_torch(name):
    check(DISTANCES[name], _x())


def test_second_derivatives_follow_the_picked_entries():
    a = _x(3, 5)
    grads = []
    for lib in (torch, ffnn):
        x = lib.tensor(a, requires_grad=True)
        y = (x.median(1).values ** 3).sum() + (x.quantile(0.3, dim=0) ** 2).sum() \
            + (lib.kthvalue(x, 2, 1).values.exp()).sum() + lib.diagonal(x).pow(3).sum()
        (g,) = lib.autograd.grad(y, x, create_graph=True)
        (g * g).sum().backward()
        grads.append(x.grad.numpy())
    assert_close(grads[1], grads[0])


# ----- integer inputs and dtypes -------------------------------------------------------
INTEGER = {
    "median": lambda lib, x: x.median(),
    "median_dim": lambda lib, x: lib.median(x, 1),
    "kthvalue": lambda lib, x: x.kthvalue(1, 0),
    "mode": lambda lib, x: lib.mode(x),
    "cummax": lambda lib, x: x.cummax(1),
    "cummin": lambda lib, x: lib.cummin(x, 0),
    "msort": lambda lib, x: x.msort(),
    "aminmax": lambda lib, x: lib.aminmax(x, dim=0),
    "nansum": lambda lib, x: lib.nansum(x, 1),
    "tile": lambda lib, x: x.tile(2),
    "kron": lambda lib, x: lib.kron(x, x[:1]),
    "diagonal": lambda lib, x: x.diagonal(1),
    "diag_embed": lambda lib, x: lib.diag_embed(x[0]),
    "rot90": lambda lib, x: x.rot90(),
    "cross": lambda lib, x: lib.cross(x[:, :3], x[:, 1:], dim=1),
    "scatter": lambda lib, x: x.scatter(1, lib.tensor(INDEX), 9),
    "scatter_add": lambda lib, x: x.scatter_add(1, lib.tensor(INDEX), x[:, :2]),
    "index_add": lambda lib, x: x.index_add(0, lib.tensor([0, 0]), x[1:], alpha=3),
    "index_fill": lambda lib, x: x.index_fill(1, lib.tensor([2]), 4),
    "block_diag": lambda lib, x: lib.block_diag(x, x.double()),
    "vander": lambda lib, x: lib.vander(x[0]),
    "vander_bool": lambda lib, x: lib.vander(x[0] > 2),
    "trapezoid": lambda lib, x: lib.trapezoid(x),
    "trapezoid_dx": lambda lib, x: lib.trapezoid(x, dx=2),
    "trapezoid_x": lambda lib, x: lib.trapezoid(x, x[0]),
    "cumulative_trapezoid": lambda lib, x: lib.cumulative_trapezoid(x),
    "combinations": lambda lib, x: lib.combinations(x[0], 3),
    "cartesian_prod": lambda lib, x: lib.cartesian_prod(x[0], x[1, :2]),
    "take": lambda lib, x: x.take(lib.tensor([1, 7])),
}


@pytest.mark.parametrize("dtype", [np.int64, np.int32])
@pytest.mark.parametrize("name", sorted(INTEGER))
def test_integer_inputs_keep_torch_dtypes(name, dtype):
    a = np.array([[3, 1, 4, 1], [5, 9, 2, 6], [5, 3, 5, 8]], dtype)
    check(INTEGER[name], a)


def test_histc_matches_torch():
    a = np.array([0.0, 0.25, 1.0, 2.0, 2.5, 3.0, 7.5, -1.0, 10.0], np.float32)
    for kwargs in ({}, {"bins": 4}, {"bins": 5, "min": 0, "max": 3}, {"bins": 3, "min": 2,
                                                                      "max": 2}):
        ours = ffnn.histc(ffnn.tensor(a), **kwargs)
        theirs = torch.histc(torch.tensor(a), **kwargs)
        assert ours.dtype == np.float32
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    np.testing.assert_array_equal(ffnn.tensor([1.0, 1.0]).histc(4).numpy(),
                                  torch.tensor([1.0, 1.0]).histc(4).numpy())


SEARCH = {
    "searchsorted": lambda lib: lib.searchsorted(lib.tensor([1.0, 2.0, 2.0, 3.0]),
                                                 lib.tensor([[2.0, 0.5], [3.5, 2.5]])),
    "searchsorted_right": lambda lib: lib.searchsorted(lib.tensor([1.0, 2.0, 2.0, 3.0]),
                                                       lib.tensor([2.0, 3.0]), right=True),
    "searchsorted_side": lambda lib: lib.searchsorted(lib.tensor([1, 2, 2, 3]),
                                                      lib.tensor([2, 9]), side="right"),
    "searchsorted_int32": lambda lib: lib.searchsorted(lib.tensor([1.0, 2.0]),
                                                       lib.tensor([1.5]), out_int32=True),
    "searchsorted_scalar": lambda lib: lib.searchsorted(lib.tensor([1.0, 2.0, 3.0]), 2),
    "searchsorted_rows": lambda lib: lib.searchsorted(
        lib.tensor([[1.0, 2.0, 3.0], [0.0, 5.0, 6.0]]), lib.tensor([[2.0, 7.0], [1.0, 5.0]])),
    "searchsorted_sorter": lambda lib: lib.searchsorted(
        lib.tensor([3.0, 1.0, 2.0]), lib.tensor([2.0, 7.0]), sorter=lib.tensor([1, 2, 0])),
    "searchsorted_mixed": lambda lib: lib.searchsorted(lib.tensor([1, 2, 3]),
                                                       lib.tensor([2.5, 0.5])),
    "bucketize": lambda lib: lib.bucketize(lib.tensor([[1.0, 5.0], [3.0, 6.0]]),
                                           lib.tensor([1.0, 3.0, 5.0])),
    "bucketize_right": lambda lib: lib.bucketize(lib.tensor([1.0, 5.0, 0.0]),
                                                 lib.tensor([1.0, 3.0, 5.0]), right=True),
    "bucketize_scalar": lambda lib: lib.bucketize(3, lib.tensor([1, 3, 5]), out_int32=True),
    "logspace": lambda lib: lib.logspace(0, 2, 3),
    "logspace_many": lambda lib: lib.logspace(-3.5, 4.25, 17, dtype=lib.float64),
    "logspace_base": lambda lib: lib.logspace(0, 3, 4, base=2),
    "logspace_one": lambda lib: lib.logspace(1, 3, 1),
    "logspace_int": lambda lib: lib.logspace(0, 2, 3, dtype=lib.int64),
    "range": lambda lib: lib.range(1, 4),
    "range_step": lambda lib: lib.range(0, 1, 0.25, dtype=lib.float64),
    "range_down": lambda lib: lib.range(4, 1, -1.5),
    "range_int": lambda lib: lib.range(1, 4, dtype=lib.int64),
    "tril_indices": lambda lib: lib.tril_indices(3, 4, 1),
    "tril_indices_square": lambda lib: lib.tril_indices(4, 4),
    "triu_indices": lambda lib: lib.triu_indices(3, 4, -1, dtype=lib.int32),
    "triu_indices_wide": lambda lib: lib.triu_indices(2, 5, 2),
}


@pytest.mark.parametrize("name", sorted(SEARCH))
def test_searches_and_factories_match_torch(name):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.range is deprecated
        ours, theirs = SEARCH[name](ffnn), SEARCH[name](torch)
    assert _dtype_name(ours.dtype) == _dtype_name(theirs.dtype)
    assert tuple(ours.shape) == tuple(theirs.shape)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-15)


def test_range_warns_as_torch():
    with pytest.warns(UserWarning, match="torch.range is deprecated"):
        ffnn.range(0, 3)


def test_named_tuples_have_torch_fields():
    a = _x(3, 5)
    ours, theirs = ffnn.tensor(a), torch.tensor(a)
    for method, args in (("median", (1,)), ("nanmedian", (0,)), ("kthvalue", (2,)),
                         ("mode", ()), ("cummax", (1,)), ("cummin", (0,))):
        mine, reference = getattr(ours, method)(*args), getattr(theirs, method)(*args)
        assert type(mine).__name__ == type(reference).__name__ == method
        assert mine._fields == ("values", "indices")
        np.testing.assert_array_equal(mine.values.numpy(), reference.values.numpy())
        np.testing.assert_array_equal(mine.indices.numpy(), reference.indices.numpy())
        assert repr(mine).startswith(f"torch.return_types.{method}(\nvalues=")
    mine, reference = ours.aminmax(dim=0), theirs.aminmax(dim=0)
    assert mine._fields == ("min", "max")
    np.testing.assert_array_equal(mine.min.numpy(), reference.min.numpy())
    np.testing.assert_array_equal(mine.max.numpy(), reference.max.numpy())
    values, indices = ffnn.tensor([3.0]).median(0)
    assert values.item() == 3.0 and indices.dtype == np.int64


def test_zero_dim_inputs_as_torch():
    for lib in (ffnn, torch):
        x = lib.tensor(3.0)
        for result in (x.median(0), x.kthvalue(1), x.mode(), x.cummax(0), x.nanmedian(0)):
            assert tuple(result.values.shape) == () and result.indices.item() == 0
        assert x.quantile(0.3, dim=0).item() == 3.0
        assert lib.atleast_3d(x).shape == (1, 1, 1)
    assert math.isnan(ffnn.tensor([]).median().item())
    assert math.isnan(ffnn.tensor([NAN, NAN]).nanmedian().item())
    assert ffnn.tensor([NAN, NAN]).nanmedian(0).indices.item() == 0


def test_median_with_nan_rows_points_at_a_nan():
    a = np.array([[1.0, NAN, 3.0, 2.0], [2.0, 1.0, 2.0, 5.0]])
    ours, theirs = ffnn.tensor(a).median(1), torch.tensor(a).median(1)
    np.testing.assert_array_equal(ours.values.numpy(), theirs.values.numpy())
    np.testing.assert_array_equal(ours.indices.numpy(), theirs.indices.numpy())


def test_broadcast_shapes_returns_a_size():
    for shapes in (((2, 1), (3,)), (2, (3, 2)), ((), (1, 4)), ()):
        ours, theirs = ffnn.broadcast_shapes(*shapes), torch.broadcast_shapes(*shapes)
        assert ours == tuple(theirs) and isinstance(ours, ffnn.Size)


def test_atleast_returns_what_torch_returns():
    for lib in (ffnn, torch):
        x = lib.tensor([1.0, 2.0])
        assert isinstance(lib.atleast_1d(x), lib.Tensor)
        assert isinstance(lib.atleast_1d([x]), tuple) and len(lib.atleast_1d([x])) == 1
        assert lib.atleast_2d() == ()
        assert [tuple(t.shape) for t in lib.atleast_3d(x, x[0])] == [(1, 2, 1), (1, 1, 1)]


def test_block_diag_and_combinations_edges():
    assert tuple(ffnn.block_diag().shape) == tuple(torch.block_diag().shape)
    assert ffnn.block_diag().dtype == np.float32
    for r in (0, 4):
        ours = ffnn.combinations(ffnn.tensor([1, 2, 3]), r)
        theirs = torch.combinations(torch.tensor([1, 2, 3]), r)
        assert tuple(ours.shape) == tuple(theirs.shape) and ours.dtype == np.int64
    assert tuple(ffnn.vander(ffnn.ones(2), N=0).shape) == (2, 0)


# ----- dtypes and determinism ----------------------------------------------------------
@pytest.mark.parametrize("name", ["float16", "float32", "float64"])
def test_finfo_matches_torch(name):
    ours, theirs = ffnn.finfo(getattr(ffnn, name)), torch.finfo(getattr(torch, name))
    for field in ("bits", "eps", "max", "min", "tiny", "smallest_normal", "resolution",
                  "dtype"):
        assert getattr(ours, field) == getattr(theirs, field), field
        assert type(getattr(ours, field)) is type(getattr(theirs, field)), field
    assert repr(ours) == repr(theirs)


def test_finfo_default_and_names():
    assert ffnn.finfo().eps == torch.finfo().eps
    assert ffnn.finfo("double").eps == torch.finfo(torch.double).eps
    previous = ffnn.get_default_dtype()
    ffnn.set_default_dtype(ffnn.float64)
    try:
        assert ffnn.finfo().dtype == "float64"
    finally:
        ffnn.set_default_dtype(previous)


@pytest.mark.parametrize("name", ["uint8", "int8", "int16", "int32", "int64"])
def test_iinfo_matches_torch(name):
    ours, theirs = ffnn.iinfo(getattr(ffnn, name)), torch.iinfo(getattr(torch, name))
    for field in ("bits", "max", "min", "dtype"):
        assert getattr(ours, field) == getattr(theirs, field), field
    assert repr(ours) == repr(theirs)


DTYPE_PAIRS = [("float16", "int64"), ("uint8", "int8"), ("bool_", "int8"), ("int32", "float32"),
               ("float32", "float64"), ("int16", "int64"), ("uint8", "bool_"),
               ("float64", "int32"), ("int32", "bool_"), ("bool_", "bool_"),
               ("float64", "float16"), ("int64", "uint8"), ("int8", "int16")]


def _torch_dtype(name: str):
    return getattr(torch, name.rstrip("_"))


@pytest.mark.parametrize("a, b", DTYPE_PAIRS)
def test_promote_types_and_can_cast_match_torch(a, b):
    ours = ffnn.promote_types(getattr(ffnn, a), getattr(ffnn, b))
    assert _dtype_name(ours) == _dtype_name(torch.promote_types(_torch_dtype(a),
                                                                _torch_dtype(b)))
    assert ffnn.can_cast(getattr(ffnn, a), getattr(ffnn, b)) == \
        torch.can_cast(_torch_dtype(a), _torch_dtype(b))


RESULT_TYPES = [
    (lambda lib: lib.tensor([1], dtype=lib.int32), lambda lib: 1.5),
    (lambda lib: lib.tensor([1], dtype=lib.int32), lambda lib: lib.tensor(1.5, dtype=lib.float64)),
    (lambda lib: lib.tensor([1.0]), lambda lib: lib.tensor(1.5, dtype=lib.float64)),
    (lambda lib: lib.tensor([True]), lambda lib: 2),
    (lambda lib: 2, lambda lib: 3.0),
    (lambda lib: 2, lambda lib: 3),
    (lambda lib: lib.tensor(1, dtype=lib.uint8), lambda lib: lib.tensor([1], dtype=lib.int8)),
    (lambda lib: lib.tensor([1], dtype=lib.uint8), lambda lib: 300),
    (lambda lib: lib.tensor(1, dtype=lib.int8), lambda lib: 2.5),
    (lambda lib: True, lambda lib: lib.tensor([1], dtype=lib.uint8)),
    (lambda lib: lib.tensor([1], dtype=lib.int16), lambda lib: lib.tensor(1, dtype=lib.int64)),
]


@pytest.mark.parametrize("i", range(len(RESULT_TYPES)))
def test_result_type_matches_torch(i):
    first, second = RESULT_TYPES[i]
    ours = ffnn.result_type(first(ffnn), second(ffnn))
    assert _dtype_name(ours) == _dtype_name(torch.result_type(first(torch), second(torch)))


def test_is_floating_point_and_is_nonzero():
    for lib in (ffnn, torch):
        assert lib.is_floating_point(lib.tensor([1.0])) and not lib.is_floating_point(
            lib.tensor([1]))
        assert lib.is_nonzero(lib.tensor([[2]])) and not lib.tensor(0.0).is_nonzero()


def test_determinism_flags_are_recorded_as_torch():
    try:
        for lib in (ffnn, torch):
            lib.use_deterministic_algorithms(True, warn_only=True)
            assert lib.are_deterministic_algorithms_enabled()
            assert lib.is_deterministic_algorithms_warn_only_enabled()
            assert lib.get_deterministic_debug_mode() == 1
            lib.set_deterministic_debug_mode("error")
            assert (lib.get_deterministic_debug_mode(),
                    lib.is_deterministic_algorithms_warn_only_enabled()) == (2, False)
            lib.set_deterministic_debug_mode(0)
            assert not lib.are_deterministic_algorithms_enabled()
    finally:
        ffnn.use_deterministic_algorithms(False)
        torch.use_deterministic_algorithms(False)


# ----- errors: the type torch raises, a message naming what was wrong ----------------------
ERRORS = {
    "quantile_q_range": (lambda lib: lib.quantile(lib.tensor([1.0, 2.0]), 1.5),
                         RuntimeError, r"q must be in the range \[0, 1\] but got 1.5"),
    "quantile_q_values": (lambda lib: lib.quantile(lib.tensor([1.0]), lib.tensor([0.5, 2.0])),
                          RuntimeError, r"q values must be in the range"),
    "quantile_q_2d": (lambda lib: lib.quantile(lib.tensor([1.0]), lib.tensor([[0.5]])),
                      RuntimeError, "q must be a scalar or 1D tensor"),
    "quantile_q_dtype": (lambda lib: lib.quantile(lib.tensor([1.0]),
                                                  lib.tensor([0.5], dtype=lib.float64)),
                         RuntimeError, "same dtype as the input"),
    "quantile_int": (lambda lib: lib.quantile(lib.tensor([1, 2]), 0.5), RuntimeError,
                     "must be either float or double"),
    "quantile_empty": (lambda lib: lib.quantile(lib.tensor([]), 0.5), RuntimeError,
                       "must be non-empty"),
    "quantile_interpolation": (lambda lib: lib.tensor([1.0]).quantile(0.5, interpolation="x"),
                               RuntimeError, "interpolation must be one of"),
    "kthvalue_k": (lambda lib: lib.tensor([1.0, 2.0]).kthvalue(3), RuntimeError,
                   "k out of range"),
    "median_empty_dim": (lambda lib: lib.tensor([]).median(0), IndexError,
                         "to have non-zero size"),
    "median_dim_range": (lambda lib: lib.ones(2, 2).median(2), IndexError,
                         "Dimension out of range"),
    "nanmean_int": (lambda lib: lib.nanmean(lib.tensor([1, 2])), RuntimeError,
                    "expected input to have floating point"),
    "scatter_index_dims": (lambda lib: lib.zeros(3, 4).scatter(1, lib.tensor([0]), 1.0),
                           RuntimeError, "same number of dimensions"),
    "scatter_index_bounds": (lambda lib: lib.zeros(3, 4).scatter(1, lib.tensor([[9]]), 1.0),
                             RuntimeError, "index 9 is out of bounds for dimension 1 with "
                                           "size 4"),
    "scatter_negative_index": (lambda lib: lib.zeros(3, 4).scatter(1, lib.tensor([[-1]]), 1.0),
                               RuntimeError, "index -1 is out of bounds"),
    "scatter_index_size": (lambda lib: lib.zeros(3, 4).scatter(
        1, lib.zeros(3, 3, dtype=lib.int64), lib.ones(3, 2)), RuntimeError,
        "no larger size than src"),
    "scatter_dtype": (lambda lib: lib.zeros(3, 4).scatter(
        1, lib.tensor([[0]]), lib.ones(1, 1, dtype=lib.float64)), RuntimeError,
        "self.dtype to be equal to src.dtype"),
    "scatter_float_index": (lambda lib: lib.zeros(3, 4).scatter(1, lib.tensor([[0.0]]), 1.0),
                            RuntimeError, "Expected dtype int64 for index"),
    "scatter_reduce": (lambda lib: lib.zeros(3, 4).scatter(1, lib.tensor([[0]]), lib.ones(1, 1),
                                                           reduce="max"),
                       RuntimeError, "reduce argument must be either add or multiply"),
    "scatter_add_number": (lambda lib: lib.zeros(3, 4).scatter_add(1, lib.tensor([[0]]), 2.0),
                           TypeError, "must be Tensor"),
    "index_add_count": (lambda lib: lib.zeros(3, 4).index_add(1, lib.tensor([0, 0]),
                                                              lib.ones(3, 3)),
                        RuntimeError, r"Number of indices \(2\)"),
    "index_add_bounds": (lambda lib: lib.zeros(3, 4).index_add(1, lib.tensor([0, 7]),
                                                               lib.ones(3, 2)),
                         RuntimeError, "index 7 is out of bounds"),
    "index_add_matrix": (lambda lib: lib.zeros(3, 4).index_add(1, lib.tensor([[0, 1]]),
                                                               lib.ones(3, 2)),
                         IndexError, "Index is supposed to be a vector"),
    "index_add_float_index": (lambda lib: lib.zeros(3, 4).index_add(1, lib.tensor([0.0]),
                                                                    lib.ones(3, 1)),
                              RuntimeError, "Expected dtype int32/int64 for index"),
    "index_add_dtype": (lambda lib: lib.zeros(3, 4).index_add(
        1, lib.tensor([1]), lib.ones(3, 1, dtype=lib.float64)), RuntimeError,
        "must have the same scalar type"),
    "index_fill_vector": (lambda lib: lib.zeros(3, 4).index_fill(1, lib.tensor([0]),
                                                                 lib.tensor([5.0, 1.0])),
                          RuntimeError, "only supports a 0-dimensional value tensor"),
    "take_bounds": (lambda lib: lib.ones(2, 2).take(lib.tensor([4])), IndexError,
                    "out of range"),
    "take_float": (lambda lib: lib.ones(2, 2).take(lib.tensor([1.0])), RuntimeError,
                   "Expected a long tensor for index"),
    "take_along_dim_ndim": (lambda lib: lib.take_along_dim(lib.ones(2, 3), lib.tensor([2]), 1),
                            RuntimeError, "same number of dimensions"),
    "diagonal_same_dims": (lambda lib: lib.ones(2, 2).diagonal(0, 1, 1), RuntimeError,
                           "diagonal dimensions cannot be identical"),
    "rot90_dims": (lambda lib: lib.ones(2, 2).rot90(1, [0]), RuntimeError,
                   "expected total rotation dims == 2"),
    "rot90_same": (lambda lib: lib.ones(2, 2).rot90(1, [1, 1]), RuntimeError,
                   "expected rotation dims to be different"),
    "rot90_1d": (lambda lib: lib.ones(2).rot90(), RuntimeError, "expected total dims >= 2"),
    "fliplr_1d": (lambda lib: lib.ones(2).fliplr(), RuntimeError, "Input must be >= 2-d"),
    "flipud_0d": (lambda lib: lib.tensor(1.0).flipud(), RuntimeError, "Input must be >= 1-d"),
    "unflatten": (lambda lib: lib.ones(2, 6).unflatten(1, (4, -1)), RuntimeError,
                  "don't multiply up to the size of dim 1"),
    "moveaxis_lengths": (lambda lib: lib.ones(2, 3, 4).moveaxis((0, 1), (1,)), RuntimeError,
                         "should contain the same number of dims"),
    "moveaxis_repeated": (lambda lib: lib.ones(2, 3, 4).moveaxis((0, 0), (1, 2)),
                          RuntimeError, "repeated dim"),
    "hsplit_divisible": (lambda lib: lib.hsplit(lib.ones(2, 4), 3), RuntimeError,
                         "is not divisible by the split_size 3"),
    "vsplit_1d": (lambda lib: lib.vsplit(lib.ones(4), 2), RuntimeError,
                  "requires a tensor with at least 2 dimension"),
    "tensor_split_zero": (lambda lib: lib.tensor_split(lib.ones(4), 0), RuntimeError,
                          "number of sections must be larger than 0"),
    "cross_no_3": (lambda lib: lib.cross(lib.ones(2, 4), lib.ones(2, 4)), RuntimeError,
                   "no dimension of size 3"),
    "cross_length": (lambda lib: lib.cross(lib.ones(2, 4), lib.ones(2, 4), dim=1),
                     RuntimeError, "dimension 1 must have length 3"),
    "cross_ndim": (lambda lib: lib.cross(lib.ones(3), lib.ones(2, 3), dim=-1), RuntimeError,
                   "same number of dimensions"),
    "block_diag_3d": (lambda lib: lib.block_diag(lib.ones(1, 1, 1)), RuntimeError,
                      "must have 2 or fewer dimensions. Input 0 has 3"),
    "cartesian_2d": (lambda lib: lib.cartesian_prod(lib.ones(2, 2)), RuntimeError,
                     "Expect a 1D vector"),
    "combinations_r": (lambda lib: lib.combinations(lib.ones(3), r=-1), RuntimeError,
                       "Expect a non-negative number, but got -1"),
    "vander_2d": (lambda lib: lib.vander(lib.ones(2, 2)), RuntimeError,
                  "x must be a one-dimensional tensor"),
    "vander_n": (lambda lib: lib.vander(lib.ones(2), N=-1), RuntimeError,
                 "N must be non-negative"),
    "broadcast_shapes": (lambda lib: lib.broadcast_shapes((2,), (3,)), RuntimeError,
                         "broadcast"),
    "broadcast_tensors": (lambda lib: lib.broadcast_tensors(lib.ones(2), lib.ones(3)),
                          RuntimeError, "broadcast"),
    "searchsorted_side": (lambda lib: lib.searchsorted(lib.ones(3), lib.ones(1), side="up"),
                          RuntimeError, "side can only be 'left' or 'right' but got up"),
    "searchsorted_opposites": (lambda lib: lib.searchsorted(lib.ones(3), lib.ones(1),
                                                            side="left", right=True),
                               RuntimeError, "side and right can't be set to opposites"),
    "searchsorted_rows": (lambda lib: lib.searchsorted(lib.ones(2, 3), lib.ones(2)),
                          RuntimeError, "first N-1 dimensions of boundaries tensor"),
    "bucketize_2d": (lambda lib: lib.bucketize(lib.ones(1), lib.ones(2, 2)), RuntimeError,
                     r"boundaries tensor must be 1 dimension, but got dim\(2\)"),
    "cdist_columns": (lambda lib: lib.cdist(lib.ones(3, 2), lib.ones(4, 3)), RuntimeError,
                      "same number of columns. X1: 2 X2: 3"),
    "cdist_1d": (lambda lib: lib.cdist(lib.ones(3), lib.ones(4)), RuntimeError,
                 "at least 2D tensors, X1 got: 1D"),
    "cdist_p": (lambda lib: lib.cdist(lib.ones(3, 2), lib.ones(4, 2), p=-1), RuntimeError,
                "non-negative p values"),
    "cdist_int": (lambda lib: lib.cdist(lib.ones(3, 2, dtype=lib.int64),
                                        lib.ones(4, 2, dtype=lib.int64)),
                  RuntimeError, "only supports floating-point dtypes"),
    "cdist_mode": (lambda lib: lib.cdist(lib.ones(3, 2), lib.ones(4, 2), compute_mode="x"),
                   ValueError, "x is not a valid value for compute_mode"),
    "dist_int": (lambda lib: lib.dist(lib.tensor([1, 2]), lib.tensor([3, 4])), RuntimeError,
                 "input dtype should be either floating point"),
    "trapezoid_x_length": (lambda lib: lib.trapezoid(lib.ones(3), lib.ones(4)), RuntimeError,
                           "one `x` value for each sample point"),
    "histc_int": (lambda lib: lib.histc(lib.tensor([1, 2])), NotImplementedError,
                  "not implemented"),
    "histc_bins": (lambda lib: lib.histc(lib.tensor([1.0]), bins=0), RuntimeError,
                   "bins must be > 0"),
    "histc_range": (lambda lib: lib.histc(lib.tensor([1.0]), bins=4, min=3, max=1),
                    RuntimeError, "max must be larger than min"),
    "histc_nan": (lambda lib: lib.histc(lib.tensor([1.0, NAN])), RuntimeError, "not finite"),
    "logspace_steps": (lambda lib: lib.logspace(0, 1, -1), RuntimeError,
                       "number of steps must be non-negative"),
    "range_step": (lambda lib: lib.range(1, 4, 0), RuntimeError, "step must be nonzero"),
    "range_sign": (lambda lib: lib.range(4, 1), RuntimeError,
                   "upper bound and lower bound inconsistent with step sign"),
    "tril_indices_row": (lambda lib: lib.tril_indices(-1, 4), RuntimeError,
                         "row must be non-negative"),
    "finfo_int": (lambda lib: lib.finfo(lib.int32), TypeError,
                  "requires a floating point input type"),
    "iinfo_float": (lambda lib: lib.iinfo(lib.float32), TypeError,
                    "requires an integer input type"),
    "iinfo_bool": (lambda lib: lib.iinfo(lib.bool), TypeError, "not supported by torch.iinfo"),
    "is_floating_point_list": (lambda lib: lib.is_floating_point([1.0]), TypeError,
                               "must be Tensor"),
    "is_nonzero_many": (lambda lib: lib.is_nonzero(lib.tensor([1.0, 2.0])), RuntimeError,
                        "more than one value is ambiguous"),
    "is_nonzero_empty": (lambda lib: lib.tensor([]).is_nonzero(), RuntimeError,
                         "no values is ambiguous"),
    "deterministic_mode": (lambda lib: lib.use_deterministic_algorithms(1), TypeError,
                           "'mode' .* must be bool"),
    "deterministic_warn_only": (lambda lib: lib.use_deterministic_algorithms(
        False, warn_only=1), TypeError, "'warn_only' must be bool"),
    "debug_mode_name": (lambda lib: lib.set_deterministic_debug_mode("loud"), RuntimeError,
                        "expected one of `default`, `warn`, `error`, but got loud"),
    "debug_mode_number": (lambda lib: lib.set_deterministic_debug_mode(3), RuntimeError,
                          "expected 0, 1, or 2, but got 3"),
    "debug_mode_type": (lambda lib: lib.set_deterministic_debug_mode(1.0), TypeError,
                        "debug_mode must be str or int"),
}


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_bad_arguments_raise_as_torch(name):
    fn, kind, message = ERRORS[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(kind):
            fn(torch)
        with pytest.raises(kind, match=message):
            fn(ffnn)


@pytest.mark.parametrize("interpolation", ["linear", "midpoint", "nearest"])
def test_float32_quantiles_stay_float32_as_torch(interpolation):
    """A float32 table's quantiles (outlier clipping) are float32, so the data stays so."""
    values = np.random.default_rng(0).standard_normal((7, 3)).astype(np.float32)
    for q in (0.9, np.array([0.1, 0.5], np.float32)):
        ours = ffnn.tensor(values).quantile(ffnn.tensor(q) if np.ndim(q) else q, dim=0,
                                            interpolation=interpolation)
        theirs = torch.tensor(values).quantile(torch.tensor(q) if np.ndim(q) else q, dim=0,
                                               interpolation=interpolation)
        assert ours.dtype == ffnn.float32 and theirs.dtype == torch.float32
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)
