"""``ffnn.linalg`` and torch's top-level linear-algebra functions against torch (float64):
values, batched and not; the gradient of a weighted sum of the outputs; second derivatives;
errors of torch's types; float32 kept. Outputs defined up to sign (eigenvectors, singular
vectors) enter only through sign-free functions of them (their squares)."""

import inspect
import math

import numpy as np
import pytest
import torch

import ffnn
from ffnn import functions_linalg
from ffnn.tensor_linalg import LinalgTensorMethods
from tests.helpers import assert_close


class _TopLevel:
    """``ffnn`` with the top-level functions of ``functions_linalg`` (torch's ``torch``)."""

    def __getattr__(self, name):
        return getattr(functions_linalg if name in functions_linalg.__all__ else ffnn, name)


TOP_LEVEL = _TopLevel()
LIBS = {"ffnn": (ffnn, ffnn.linalg, TOP_LEVEL), "torch": (torch, torch.linalg, torch)}


def rand(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def square(*shape, seed=0):
    """Random matrices with a dominant diagonal: well-conditioned, det of either sign."""
    return rand(*shape, seed=seed) + 3 * np.eye(shape[-1])


def spd(*shape, seed=0):
    """Symmetric positive-definite matrices."""
    a = rand(*shape, seed=seed)
    return a @ np.swapaxes(a, -1, -2) + shape[-1] * np.eye(shape[-1])


def symmetric(*shape, seed=0):
    a = rand(*shape, seed=seed)
    return a + np.swapaxes(a, -1, -2)


def tri(a, upper):
    return np.triu(a) if upper else np.tril(a)


CASES = {
    "inv": (lambda L, T, a: L.inv(a), [square(4, 4)]),
    "inv_batched": (lambda L, T, a: L.inv(a), [square(2, 3, 4, 4)]),
    "inv_ex": (lambda L, T, a: L.inv_ex(a).inverse, [square(2, 3, 3)]),
    "det": (lambda L, T, a: L.det(a), [square(4, 4)]),
    "det_batched": (lambda L, T, a: L.det(a), [square(3, 5, 5)]),
    "slogdet": (lambda L, T, a: L.slogdet(a).logabsdet, [square(2, 4, 4)]),
    "solve_matrix": (lambda L, T, a, b: L.solve(a, b), [square(4, 4), rand(4, 2, seed=1)]),
    "solve_vector": (lambda L, T, a, b: L.solve(a, b), [square(4, 4), rand(4, seed=1)]),
    "solve_batch_vector": (lambda L, T, a, b: L.solve(a, b), [square(2, 3, 3), rand(2, 3)]),
    "solve_broadcast": (lambda L, T, a, b: L.solve(a, b),
                        [square(2, 1, 3, 3), rand(4, 3, 2, seed=1)]),
    "solve_right": (lambda L, T, a, b: L.solve(a, b, left=False),
                    [square(2, 3, 3), rand(2, 4, 3, seed=1)]),
    "solve_ex": (lambda L, T, a, b: L.solve_ex(a, b).result, [square(3, 3), rand(3, 2)]),
    "solve_triangular_lower": (
        lambda L, T, a, b: L.solve_triangular(a, b, upper=False),
        [square(2, 5, 5), rand(2, 5, 3, seed=1)]),
    "solve_triangular_upper": (
        lambda L, T, a, b: L.solve_triangular(a, b, upper=True), [square(5, 5), rand(5, 2)]),
    "solve_triangular_right": (
        lambda L, T, a, b: L.solve_triangular(a, b, upper=True, left=False),
        [square(3, 4, 4), rand(3, 2, 4, seed=1)]),
    "solve_triangular_unit": (
        lambda L, T, a, b: L.solve_triangular(a, b, upper=False, unitriangular=True),
        [square(4, 4), rand(4, 3, seed=1)]),
    "solve_triangular_broadcast": (
        lambda L, T, a, b: L.solve_triangular(a, b, upper=False, left=False),
        [square(4, 4), rand(2, 3, 4, seed=1)]),
    "cholesky": (lambda L, T, a: L.cholesky(a), [spd(4, 4)]),
    "cholesky_upper": (lambda L, T, a: L.cholesky(a, upper=True), [spd(2, 3, 3)]),
    "cholesky_ex": (lambda L, T, a: L.cholesky_ex(a).L, [spd(2, 4, 4)]),
    "lstsq": (lambda L, T, a, b: L.lstsq(a, b).solution, [rand(6, 3), rand(6, 2, seed=1)]),
    "lstsq_batched_vector": (lambda L, T, a, b: L.lstsq(a, b).solution,
                             [rand(2, 5, 3), rand(2, 5, seed=1)]),
    "lstsq_wide": (lambda L, T, a, b: L.lstsq(a, b).solution, [rand(3, 5), rand(3, 2)]),
    "pinv_tall": (lambda L, T, a: L.pinv(a), [rand(2, 5, 3)]),
    "pinv_wide": (lambda L, T, a: L.pinv(a), [rand(3, 5)]),
    "pinv_rank_deficient": (lambda L, T, a, b: L.pinv(a @ b), [rand(4, 2), rand(2, 3)]),
    "pinv_hermitian": (lambda L, T, a: L.pinv(a + a.mT, hermitian=True), [rand(4, 4)]),
    "qr_tall": (lambda L, T, a: L.qr(a), [rand(2, 5, 3)]),
    "qr_square": (lambda L, T, a: L.qr(a), [rand(4, 4)]),
    "qr_wide": (lambda L, T, a: L.qr(a), [rand(2, 3, 5)]),
    "qr_complete_wide": (lambda L, T, a: L.qr(a, mode="complete"), [rand(3, 4)]),
    "qr_r": (lambda L, T, a: L.qr(a.detach(), mode="r").R, [rand(5, 3)]),  # torch: no grad
    "eigh": (lambda L, T, a: (lambda w, v: (w, v ** 2))(*L.eigh(a)), [symmetric(2, 4, 4)]),
    "eigh_upper": (lambda L, T, a: (lambda w, v: (w, v ** 2))(*L.eigh(a, UPLO="U")),
                   [rand(4, 4)]),
    "eigvalsh": (lambda L, T, a: L.eigvalsh(a), [rand(3, 5, 5)]),
    "svd_tall": (lambda L, T, a: (lambda u, s, vh: (u ** 2, s, vh ** 2))(
        *L.svd(a, full_matrices=False)), [rand(2, 5, 3)]),
    "svd_wide": (lambda L, T, a: (lambda u, s, vh: (u ** 2, s, vh ** 2))(
        *L.svd(a, full_matrices=False)), [rand(3, 5)]),
    "svd_square": (lambda L, T, a: (lambda u, s, vh: (u ** 2, s, vh ** 2))(
        *L.svd(a, full_matrices=False)), [rand(4, 4)]),
    "svd_full": (lambda L, T, a: (lambda u, s, vh: (u[..., :3] ** 2, s, vh ** 2))(
        *L.svd(a)), [rand(5, 3)]),
    "svd_mixed_gauge": (lambda L, T, a: (lambda u, s, vh: (u * s[..., None, :]) @ vh)(
        *L.svd(a, full_matrices=False)), [rand(2, 4, 3)]),
    "svdvals": (lambda L, T, a: L.svdvals(a), [rand(2, 3, 6)]),
    "matrix_exp": (lambda L, T, a: L.matrix_exp(a), [rand(2, 4, 4) * 0.3]),
    "matrix_exp_large": (lambda L, T, a: L.matrix_exp(a), [rand(3, 3) * 4]),
    "matrix_power_3": (lambda L, T, a: L.matrix_power(a, 3), [rand(2, 3, 3)]),
    "matrix_power_5": (lambda L, T, a: L.matrix_power(a, 5), [rand(3, 3) * 0.5]),
    "matrix_power_-2": (lambda L, T, a: L.matrix_power(a, -2), [square(2, 3, 3)]),
    "multi_dot": (lambda L, T, a, b, c, d: L.multi_dot([a, b, c, d]),
                  [rand(4), rand(4, 7), rand(7, 2, seed=1), rand(2, seed=2)]),
    "multi_dot_matrices": (lambda L, T, a, b, c: L.multi_dot([a, b, c]),
                           [rand(9, 2), rand(2, 8), rand(8, 3, seed=1)]),
    "cross": (lambda L, T, a, b: L.cross(a, b), [rand(4, 3), rand(4, 3, seed=1)]),
    "vecdot": (lambda L, T, a, b: L.vecdot(a, b, dim=0), [rand(3, 4), rand(3, 1, seed=1)]),
    "diagonal": (lambda L, T, a: L.diagonal(a, offset=1, dim1=0, dim2=2), [rand(3, 2, 4)]),
    "vander": (lambda L, T, x: L.vander(x, N=4), [rand(2, 3)]),
    "cond": (lambda L, T, a: L.cond(a), [rand(2, 4, 3)]),
    # torch 2.13 cannot differentiate cond(A, p) for p ≠ ±2 (its inv_ex output is changed
    # in place): the values only
    "cond_fro": (lambda L, T, a: L.cond(a.detach(), "fro"), [square(2, 3, 3)]),
    "cond_1": (lambda L, T, a: L.cond(a.detach(), 1), [square(3, 3)]),
    "tensorinv": (lambda L, T, a: L.tensorinv(a.reshape(4, 2, 2), ind=1), [square(4, 4)]),
    "tensorsolve": (lambda L, T, a, b: L.tensorsolve(a.reshape(2, 3, 6), b),
                    [square(6, 6), rand(2, 3)]),
    # torch's top-level forms
    "inverse": (lambda L, T, a: T.inverse(a), [square(2, 3, 3)]),
    "top_det": (lambda L, T, a: T.det(a), [square(3, 3)]),
    "logdet": (lambda L, T, a: T.logdet(a), [spd(2, 3, 3)]),
    "top_slogdet": (lambda L, T, a: T.slogdet(a).logabsdet, [square(3, 3)]),
    "top_cholesky": (lambda L, T, a: T.cholesky(a), [spd(3, 3)]),
    "top_cholesky_upper": (lambda L, T, a: T.cholesky(a, upper=True), [spd(3, 3)]),
    "cholesky_solve": (lambda L, T, b, f: T.cholesky_solve(b, f.tril() + 4 * T.eye(4)),
                       [rand(2, 4, 3), rand(4, 4, seed=1)]),
    "cholesky_solve_upper": (lambda L, T, b, f: T.cholesky_solve(b, f.triu() + 4 * T.eye(4),
                                                                 upper=True),
                             [rand(4, 2), rand(4, 4, seed=1)]),
    "cholesky_inverse": (lambda L, T, f: T.cholesky_inverse(f.tril() + 3 * T.eye(3)),
                         [rand(3, 3)]),
    "cholesky_inverse_upper": (lambda L, T, f: T.cholesky_inverse(f.triu() + 3 * T.eye(3),
                                                                  upper=True), [rand(3, 3)]),
    "pinverse": (lambda L, T, a: T.pinverse(a), [rand(3, 5)]),
    "top_svd": (lambda L, T, a: (lambda u, s, v: (u ** 2, s, v ** 2))(*T.svd(a)),
                [rand(4, 3)]),
    "top_svd_full": (lambda L, T, a: (lambda u, s, v: (u ** 2, s))(*T.svd(a, some=False)),
                     [rand(3, 4)]),
    "top_qr": (lambda L, T, a: T.qr(a), [rand(4, 3)]),
    "triangular_solve": (lambda L, T, b, a: T.triangular_solve(b, a).solution,
                         [rand(3, 2), square(3, 3)]),
    "triangular_solve_transpose": (
        lambda L, T, b, a: T.triangular_solve(b, a, upper=False, transpose=True).solution,
        [rand(3, 2), square(3, 3)]),
    "chain_matmul": (lambda L, T, a, b, c: T.chain_matmul(a, b, c),
                     [rand(2, 3), rand(3, 4), rand(4, 2)]),
    "top_matrix_power": (lambda L, T, a: T.matrix_power(a, 2), [rand(3, 3)]),
    "top_matrix_exp": (lambda L, T, a: T.matrix_exp(a), [rand(3, 3)]),
}

NORMS = {
    "fro": (lambda L, a: L.matrix_norm(a), rand(2, 3, 4)),
    "nuc": (lambda L, a: L.matrix_norm(a, "nuc"), rand(2, 3, 4)),
    "2": (lambda L, a: L.matrix_norm(a, 2), rand(2, 4, 3)),
    "-2": (lambda L, a: L.matrix_norm(a, -2), rand(4, 3)),
    "1": (lambda L, a: L.matrix_norm(a, 1), rand(2, 3, 4)),
    "-1": (lambda L, a: L.matrix_norm(a, -1, keepdim=True), rand(2, 3, 4)),
    "inf": (lambda L, a: L.matrix_norm(a, math.inf), rand(3, 4)),
    "-inf": (lambda L, a: L.matrix_norm(a, -math.inf, dim=(0, 2)), rand(3, 2, 4)),
    "nuc_dims": (lambda L, a: L.matrix_norm(a, "nuc", dim=(2, 0), keepdim=True),
                 rand(3, 2, 4)),
    "2_dims": (lambda L, a: L.matrix_norm(a, 2, dim=(0, -1)), rand(3, 2, 4)),
    "norm_matrix_2": (lambda L, a: L.norm(a, 2), rand(3, 4)),
    "norm_matrix_dims": (lambda L, a: L.norm(a, -2, dim=(1, 2), keepdim=True), rand(2, 3, 4)),
    "norm_nuc": (lambda L, a: L.norm(a, "nuc"), rand(3, 4)),
    "norm_inf": (lambda L, a: L.norm(a, math.inf), rand(3, 4)),
    "norm_vector_3": (lambda L, a: L.norm(a, 3, dim=1), rand(3, 4)),
    "norm_vector_1d": (lambda L, a: L.norm(a, 1), rand(5)),
    "norm_default": (lambda L, a: L.norm(a), rand(2, 3, 4)),
    "norm_dims_default": (lambda L, a: L.norm(a, dim=(0, 2)), rand(2, 3, 4)),
    "vector_norm": (lambda L, a: L.vector_norm(a, 1.5, dim=(0, 1)), rand(2, 3, 4)),
}


def weighted_sum(lib, outputs):
    """Σ wᵢ·yᵢ over the differentiable outputs, with fixed weights in [0.5, 1.5]."""
    total = 0
    for y in outputs:
        if y.requires_grad:
            weights = np.linspace(0.5, 1.5, y.numel()).reshape(tuple(y.shape))
            total = total + (y * lib.tensor(weights, dtype=lib.float64)).sum()
    return total


def run(lib_name, fn, arrays, dtype=np.float64):
    """The outputs of ``fn`` and the gradients of their weighted sum, as arrays."""
    module, linalg, top = LIBS[lib_name]
    inputs = [module.tensor(a.astype(dtype), requires_grad=True) for a in arrays]
    outputs = fn(linalg, top, *inputs)
    outputs = tuple(outputs) if isinstance(outputs, tuple) else (outputs,)
    loss = weighted_sum(module, outputs)
    if not isinstance(loss, int):
        loss.backward()
    grads = [np.zeros(a.shape) if x.grad is None else x.grad.numpy() for a, x in
             zip(arrays, inputs)]
    return [y.detach().numpy() for y in outputs], grads


@pytest.mark.filterwarnings("ignore:.*deprecated")  # torch's older forms warn
@pytest.mark.parametrize("name", CASES)
def test_values_and_gradients_match_torch(name):
    fn, arrays = CASES[name]
    (values, grads), (expected, expected_grads) = (run(lib, fn, arrays) for lib in LIBS)
    assert len(values) == len(expected)
    for i, (value, want) in enumerate(zip(values, expected)):
        assert value.dtype == want.dtype, f"{name} output {i} dtype"
        assert_close(value, want, what=f"{name} output {i}")
    for i, (grad, want) in enumerate(zip(grads, expected_grads)):
        assert_close(grad, want, what=f"{name} gradient {i}")


@pytest.mark.parametrize("name", NORMS)
def test_norms_match_torch(name):
    fn, array = NORMS[name]
    case = (lambda L, T, a: fn(L, a), [array])
    (values, grads), (expected, expected_grads) = (run(lib, *case) for lib in LIBS)
    assert_close(values[0], expected[0], what=f"{name} value")
    assert_close(grads[0], expected_grads[0], what=f"{name} gradient")


SECOND_ORDER = {
    "inv": (lambda L, a: L.inv(a), [square(2, 3, 3)]),
    "det": (lambda L, a: L.det(a), [square(3, 3)]),
    "slogdet": (lambda L, a: L.slogdet(a).logabsdet, [square(2, 3, 3)]),
    "solve": (lambda L, a, b: L.solve(a, b), [square(3, 3), rand(2, 3, 2, seed=1)]),
    "solve_triangular": (lambda L, a, b: L.solve_triangular(a, b, upper=True),
                         [square(3, 3), rand(3, 2, seed=1)]),
    "solve_triangular_right_unit": (
        lambda L, a, b: L.solve_triangular(a, b, upper=False, left=False, unitriangular=True),
        [square(3, 3), rand(2, 3, seed=1)]),
    "cholesky": (lambda L, a: L.cholesky(a @ a.mT + 3 * a.new_ones(3).diag()), [rand(3, 3)]),
    "matrix_exp": (lambda L, a: L.matrix_exp(a), [rand(3, 3) * 0.5]),
    "pinv": (lambda L, a: L.pinv(a), [rand(4, 3)]),
    "cholesky_solve": (lambda L, b, f: (torch if L is torch.linalg else functions_linalg)
                       .cholesky_solve(b, f.tril() + 3 * f.new_ones(3).diag()),
                       [rand(3, 2), rand(3, 3, seed=1)]),
}


@pytest.mark.parametrize("name", SECOND_ORDER)
def test_second_derivatives_match_torch(name):
    """d/dx of Σ w·(dL/dx)², the first gradients made with create_graph=True."""
    fn, arrays = SECOND_ORDER[name]
    found = []
    for module, linalg, _ in LIBS.values():
        inputs = [module.tensor(a, requires_grad=True) for a in arrays]
        loss = weighted_sum(module, (fn(linalg, *inputs),))
        firsts = module.autograd.grad(loss, inputs, create_graph=True)
        sum(((g ** 2) * (1.0 + i)).sum() for i, g in enumerate(firsts)).backward()
        found.append([x.grad.numpy() for x in inputs])
    for i, (ours, theirs) in enumerate(zip(*found)):
        assert_close(ours, theirs, rtol=1e-9, what=f"{name} second derivative {i}")


FINITE_DIFFERENCES = {
    "solve_triangular": (lambda a, b: ffnn.linalg.solve_triangular(a, b, upper=True,
                                                                   left=False),
                         [square(3, 3), rand(2, 3)]),
    "eigh": (lambda a: (lambda w, v: w.sum() + (v ** 2 * ffnn.tensor(rand(3, 3))).sum())(
        *ffnn.linalg.eigh(a + a.mT)), [rand(3, 3)]),
    "svd": (lambda a: (lambda u, s, vh: s.sum() + (u ** 2 * ffnn.tensor(rand(4, 3))).sum()
                       + (vh ** 2 * ffnn.tensor(rand(3, 3, seed=1))).sum())(
        *ffnn.linalg.svd(a, full_matrices=False)), [rand(4, 3)]),
    "qr": (lambda a: (lambda q, r: q.sum() + (r * r).sum())(*ffnn.linalg.qr(a)), [rand(3, 5)]),
    "cholesky": (lambda a: ffnn.linalg.cholesky(a @ a.mT + 3 * a.new_ones(3).diag()),
                 [rand(3, 3)]),
    "pinv": (lambda a: ffnn.linalg.pinv(a), [rand(3, 4)]),
    "matrix_exp": (lambda a: ffnn.linalg.matrix_exp(a), [rand(3, 3) * 3]),
    "det_singular": (lambda a: ffnn.linalg.det(a), [np.outer(rand(3), rand(3, seed=1))]),
    # the factor's lower triangle: torch's gradient treats the factor as a full matrix
    "cholesky_solve": (lambda b, f: functions_linalg.cholesky_solve(b, f.tril()),
                       [rand(3, 2), spd(3, 3)]),
}


@pytest.mark.parametrize("name", FINITE_DIFFERENCES)
def test_gradients_match_finite_differences(name):
    fn, arrays = FINITE_DIFFERENCES[name]
    assert ffnn.gradcheck(fn, [ffnn.tensor(a, requires_grad=True) for a in arrays])


def test_qr_complete_of_a_tall_matrix_has_no_gradient_as_torch():
    for lib in (ffnn, torch):
        a = lib.tensor(rand(4, 3), requires_grad=True)
        q, r = lib.linalg.qr(a, mode="complete")
        with pytest.raises(RuntimeError, match="not differentiable when mode='complete'"):
            (q.sum() + r.sum()).backward()


def test_older_forms_edges_match_torch():
    a = np.array([[0.0, 1], [1, 0]])  # det −1: logdet is NaN
    assert np.isnan(functions_linalg.logdet(ffnn.tensor(a)).item())
    assert np.isnan(torch.logdet(torch.tensor(a)).item())
    b = rand(2, 4, 3)
    ours = functions_linalg.svd(ffnn.tensor(b), compute_uv=False)
    theirs = torch.svd(torch.tensor(b), compute_uv=False)
    for x, y in zip(ours, theirs):
        assert_close(x.numpy(), y.numpy())


def test_signs_ranks_and_integer_outputs_match_torch():
    a = np.stack([square(3, 3), -square(3, 3, seed=1), np.zeros((3, 3))])
    a[0, 0] *= -1
    ours, theirs = ffnn.linalg.slogdet(ffnn.tensor(a)), torch.linalg.slogdet(torch.tensor(a))
    np.testing.assert_array_equal(ours.sign.numpy(), theirs.sign.numpy())
    assert_close(ours.logabsdet.numpy(), theirs.logabsdet.numpy())  # −inf at the zero matrix
    low_rank = rand(2, 5, 2) @ rand(2, 2, 4, seed=1)
    for kwargs in ({}, {"hermitian": True}, {"atol": 0.5}, {"rtol": 0.3}):
        m = low_rank @ np.swapaxes(low_rank, -1, -2) if kwargs.get("hermitian") else low_rank
        ours = ffnn.linalg.matrix_rank(ffnn.tensor(m), **kwargs)
        theirs = torch.linalg.matrix_rank(torch.tensor(m), **kwargs)
        assert ours.dtype == np.int64
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    ours = ffnn.linalg.lstsq(ffnn.tensor(rand(2, 6, 3)), ffnn.tensor(rand(2, 6, 2)),
                             driver="gelsd")
    theirs = torch.linalg.lstsq(torch.tensor(rand(2, 6, 3)), torch.tensor(rand(2, 6, 2)),
                                driver="gelsd")
    for field in ("solution", "residuals", "singular_values"):
        assert_close(getattr(ours, field).numpy(), getattr(theirs, field).numpy(), what=field)
    np.testing.assert_array_equal(ours.rank.numpy(), theirs.rank.numpy())
    default = ffnn.linalg.lstsq(ffnn.tensor(rand(6, 3)), ffnn.tensor(rand(6, 2)))
    assert default.residuals.shape == (0,) and default.singular_values.shape == (0,)
    assert int(default.rank.item()) == 3


def test_singular_vectors_match_torch_up_to_sign():
    a = rand(2, 5, 3)
    u, s, vh = ffnn.linalg.svd(ffnn.tensor(a))
    tu, ts, tvh = torch.linalg.svd(torch.tensor(a))
    signs = np.sign((u.numpy()[..., :3] * tu.numpy()[..., :3]).sum(-2, keepdims=True))
    assert_close(u.numpy()[..., :3] * signs, tu.numpy()[..., :3])
    assert_close(vh.numpy() * np.swapaxes(signs, -1, -2), tvh.numpy())
    w, v = ffnn.linalg.eigh(ffnn.tensor(symmetric(4, 4)))
    tw, tv = torch.linalg.eigh(torch.tensor(symmetric(4, 4)))
    signs = np.sign((v.numpy() * tv.numpy()).sum(-2, keepdims=True))
    assert_close(v.numpy() * signs, tv.numpy())
    assert_close((v @ w.diag() @ v.mT).numpy(), symmetric(4, 4))


def test_identities_hold():
    a = ffnn.tensor(rand(2, 4, 3))
    q, r = ffnn.linalg.qr(a)
    assert_close((q @ r).numpy(), a.numpy())
    assert_close((q.mT @ q).numpy(), np.broadcast_to(np.eye(3), (2, 3, 3)))
    x = ffnn.linalg.pinv(a)
    assert_close((a @ x @ a).numpy(), a.numpy())
    e = ffnn.linalg.matrix_exp(ffnn.tensor(rand(3, 3)))
    assert_close((e @ ffnn.linalg.matrix_exp(-ffnn.tensor(rand(3, 3)))).numpy(), np.eye(3))
    assert ffnn.linalg.matrix_power(ffnn.tensor(rand(2, 3, 3)), 0).numpy().tolist() == \
        np.broadcast_to(np.eye(3), (2, 3, 3)).tolist()


@pytest.mark.parametrize("name", ["inv", "det", "slogdet", "solve", "solve_triangular",
                                  "cholesky", "eigh", "svd", "qr", "pinv", "matrix_exp",
                                  "lstsq", "matrix_norm", "cholesky_solve"])
def test_float32_is_kept(name):
    a = spd(2, 3, 3).astype(np.float32)
    b = rand(2, 3, 2).astype(np.float32)
    calls = {
        "inv": lambda L, T, a, b: L.inv(a), "det": lambda L, T, a, b: L.det(a),
        "slogdet": lambda L, T, a, b: L.slogdet(a).logabsdet,
        "solve": lambda L, T, a, b: L.solve(a, b),
        "solve_triangular": lambda L, T, a, b: L.solve_triangular(a, b, upper=True),
        "cholesky": lambda L, T, a, b: L.cholesky(a),
        "eigh": lambda L, T, a, b: L.eigh(a).eigenvalues,
        "svd": lambda L, T, a, b: L.svd(a).S, "qr": lambda L, T, a, b: L.qr(a).R,
        "pinv": lambda L, T, a, b: L.pinv(a), "matrix_exp": lambda L, T, a, b: L.matrix_exp(a),
        "lstsq": lambda L, T, a, b: L.lstsq(a, b).solution,
        "matrix_norm": lambda L, T, a, b: L.matrix_norm(a, 2),
        "cholesky_solve": lambda L, T, a, b: T.cholesky_solve(b, L.cholesky(a)),
    }
    (values, grads), (expected, expected_grads) = (
        run(lib, calls[name], [a, b], np.float32) for lib in LIBS)
    assert values[0].dtype == np.float32
    assert_close(values[0], expected[0], np.float32, rtol=2e-5)
    for grad, want in zip(grads, expected_grads):
        assert grad.dtype == want.dtype
        assert_close(grad, want, np.float32, rtol=2e-4)


ERRORS = {
    "inv_singular": (lambda L, T: L.inv(T.zeros(3, 3, dtype=T.float64))),
    "inv_singular_batch": (lambda L, T: L.inv(T.stack([T.eye(2), T.tensor([[1., 2],
                                                                           [2, 4]])]))),
    "inv_non_square": (lambda L, T: L.inv(T.ones(2, 3))),
    "inv_vector": (lambda L, T: L.inv(T.ones(3))),
    "inv_integer": (lambda L, T: L.inv(T.eye(3, dtype=T.int64))),
    "inverse_singular": (lambda L, T: T.inverse(T.zeros(2, 2))),
    "det_non_square": (lambda L, T: L.det(T.ones(2, 3))),
    "solve_singular": (lambda L, T: L.solve(T.zeros(2, 3, 3), T.ones(3))),
    "solve_shapes": (lambda L, T: L.solve(T.eye(3), T.ones(4))),
    "solve_right_shapes": (lambda L, T: L.solve(T.eye(3), T.ones(3, 1), left=False)),
    "solve_dtypes": (lambda L, T: L.solve(T.eye(3, dtype=T.float64), T.ones(3, 1))),
    "solve_triangular_vector": (lambda L, T: L.solve_triangular(T.eye(3), T.ones(3),
                                                                upper=True)),
    "solve_triangular_shapes": (lambda L, T: L.solve_triangular(T.eye(3), T.ones(2, 4),
                                                                upper=True, left=False)),
    "cholesky_not_pd": (lambda L, T: L.cholesky(-T.eye(3))),
    "cholesky_not_pd_batch": (lambda L, T: L.cholesky(T.stack([T.eye(3), T.tensor(
        [[1., 2, 0], [2, 1, 0], [0, 0, 1]])]))),
    "top_cholesky_not_pd": (lambda L, T: T.cholesky(T.zeros(2, 2))),
    "cholesky_non_square": (lambda L, T: L.cholesky(T.ones(2, 3))),
    "eigh_uplo": (lambda L, T: L.eigh(T.eye(3), UPLO="X")),
    "eigh_non_square": (lambda L, T: L.eigh(T.ones(2, 3))),
    "qr_mode": (lambda L, T: L.qr(T.eye(3), mode="x")),
    "qr_vector": (lambda L, T: L.qr(T.ones(3))),
    "svd_vector": (lambda L, T: L.svd(T.ones(3))),
    "matrix_norm_order": (lambda L, T: L.matrix_norm(T.eye(3), ord=3)),
    "matrix_norm_vector": (lambda L, T: L.matrix_norm(T.ones(3))),
    "matrix_norm_dims": (lambda L, T: L.matrix_norm(T.ones(2, 3, 4), dim=(1, 1))),
    "norm_3d": (lambda L, T: L.norm(T.ones(3, 3, 3), ord=2)),
    "norm_three_dims": (lambda L, T: L.norm(T.ones(2, 3, 4), 2, dim=(0, 1, 2))),
    "matrix_power_non_square": (lambda L, T: L.matrix_power(T.ones(2, 3), 2)),
    "matrix_power_singular": (lambda L, T: L.matrix_power(T.zeros(3, 3), -1)),
    "multi_dot_one": (lambda L, T: L.multi_dot([T.eye(3)])),
    "multi_dot_shapes": (lambda L, T: L.multi_dot([T.eye(3), T.ones(2, 2)])),
    "multi_dot_3d": (lambda L, T: L.multi_dot([T.eye(3), T.ones(2, 3, 3)])),
    "lstsq_rows": (lambda L, T: L.lstsq(T.eye(3), T.ones(4, 1))),
    "cross_length": (lambda L, T: L.cross(T.ones(4), T.ones(4))),
    "vander_scalar": (lambda L, T: L.vander(T.tensor(2.0))),
    "tensorinv_shape": (lambda L, T: L.tensorinv(T.eye(4).reshape(4, 2, 2), ind=2)),
    "pinv_vector": (lambda L, T: L.pinv(T.ones(3))),
}


@pytest.mark.parametrize("name", ERRORS)
def test_errors_match_torch(name):
    fn = ERRORS[name]
    with pytest.raises(Exception) as theirs:
        fn(torch.linalg, torch)
    with pytest.raises(Exception) as ours:
        fn(ffnn.linalg, TOP_LEVEL)
    assert isinstance(ours.value, RuntimeError) == isinstance(theirs.value, RuntimeError)
    linalg_error = isinstance(theirs.value, torch.linalg.LinAlgError)
    assert isinstance(ours.value, ffnn.linalg.LinAlgError) == linalg_error, ours.value
    if linalg_error or "Incompatible" in str(theirs.value):
        assert str(ours.value) == str(theirs.value)


def test_error_path_outputs_match_torch():
    a = np.stack([np.eye(3), np.zeros((3, 3)), [[1.0, 2, 0], [2, 4, 0], [0, 0, 1]]])
    ours, theirs = ffnn.linalg.inv_ex(ffnn.tensor(a)), torch.linalg.inv_ex(torch.tensor(a))
    assert ours.info.dtype == np.int32
    np.testing.assert_array_equal(ours.info.numpy(), theirs.info.numpy())
    assert_close(ours.inverse.numpy()[0], theirs.inverse.numpy()[0])
    solved = ffnn.linalg.solve_ex(ffnn.tensor(a), ffnn.tensor(np.ones(3)))
    np.testing.assert_array_equal(solved.info.numpy(), theirs.info.numpy())
    spd_or_not = np.stack([spd(3, 3), -np.eye(3), [[1.0, 0, 0], [0, 1, 2], [0, 2, 1]]])
    ours = ffnn.linalg.cholesky_ex(ffnn.tensor(spd_or_not))
    theirs = torch.linalg.cholesky_ex(torch.tensor(spd_or_not))
    np.testing.assert_array_equal(ours.info.numpy(), theirs.info.numpy())
    assert_close(ours.L.numpy()[0], theirs.L.numpy()[0])
    with pytest.raises(ffnn.linalg.LinAlgError, match="Batch element 1"):
        ffnn.linalg.cholesky_ex(ffnn.tensor(spd_or_not), check_errors=True)
    assert issubclass(ffnn.linalg.LinAlgError, RuntimeError)


def test_singular_and_triangular_edges():
    ones = np.ones((3, 3))
    zero_pivot = np.triu(ones) - np.diag([0, 1, 0])
    ours = ffnn.linalg.solve_triangular(ffnn.tensor(zero_pivot), ffnn.tensor(ones), upper=True)
    theirs = torch.linalg.solve_triangular(torch.tensor(zero_pivot), torch.tensor(ones),
                                           upper=True)
    np.testing.assert_array_equal(np.isfinite(ours.numpy()), np.isfinite(theirs.numpy()))
    for m in ([[1.0, 2], [2, 4]], [[0.0, 0], [0, 0]]):  # det 0: torch's value, the cofactors
        x = ffnn.tensor(m, requires_grad=True)
        det = ffnn.linalg.det(x)
        det.backward()
        assert det.item() == torch.linalg.det(torch.tensor(m)).item()
        a = np.array(m)
        np.testing.assert_allclose(x.grad.numpy(), [[a[1, 1], -a[1, 0]], [-a[0, 1], a[0, 0]]],
                                   atol=1e-12)


def test_methods_call_the_functions():
    a = square(2, 3, 3)
    f, t = ffnn.tensor(a), torch.tensor(a)
    calls = [("inverse", ()), ("det", ()), ("logdet", ()), ("pinverse", ()),
             ("matrix_power", (3,)), ("matrix_exp", ()), ("slogdet", ())]
    for name, args in calls:
        ours = getattr(LinalgTensorMethods, name)(f, *args)
        theirs = getattr(t, name)(*args)
        ours, theirs = (ours[-1], theirs[-1]) if name == "slogdet" else (ours, theirs)
        assert_close(ours.numpy(), theirs.numpy(), what=name)
    s = spd(3, 3)
    factor = LinalgTensorMethods.cholesky(ffnn.tensor(s), True)
    assert_close(factor.numpy(), torch.tensor(s).cholesky(True).numpy())
    assert_close(LinalgTensorMethods.cholesky_inverse(factor, True).numpy(), np.linalg.inv(s))
    b = ffnn.tensor(rand(3, 2))
    assert_close(LinalgTensorMethods.cholesky_solve(b, factor, True).numpy(),
                 np.linalg.solve(s, b.numpy()))
    assert_close(LinalgTensorMethods.qr(f)[1].numpy(), t.qr()[1].numpy())
    assert_close(LinalgTensorMethods.svd(f)[1].numpy(), t.svd()[1].numpy())
    assert_close(LinalgTensorMethods.triangular_solve(b, ffnn.tensor(a[0]))[0].numpy(),
                 torch.tensor(b.numpy()).triangular_solve(torch.tensor(a[0]))[0].numpy())


@pytest.mark.skipif(not hasattr(ffnn, "inverse"), reason="ffnn.functions_linalg not wired yet")
def test_wired_into_ffnn_and_tensor():
    """ffnn's names are these functions (wrapped for NumPy's argument names at most)."""
    for name in functions_linalg.__all__:
        assert inspect.unwrap(getattr(ffnn, name)) is getattr(functions_linalg, name), name
    for name in ("inverse", "det", "logdet", "slogdet", "pinverse", "matrix_power",
                 "matrix_exp", "cholesky", "cholesky_solve", "cholesky_inverse", "svd", "qr",
                 "triangular_solve"):
        method = inspect.unwrap(getattr(ffnn.Tensor, name))
        assert method is getattr(LinalgTensorMethods, name), name


def test_results_print_as_torch():
    result = ffnn.linalg.slogdet(ffnn.tensor(np.eye(2)))
    assert repr(result).startswith("torch.return_types.linalg_slogdet(\nsign=")
    sign, logabsdet = result
    assert sign.item() == 1.0 and logabsdet.item() == 0.0
