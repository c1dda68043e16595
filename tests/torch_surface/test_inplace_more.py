"""The in-place methods of ``ffnn.tensor_inplace_more`` against torch's: the values written,
the gradient through them (on a tensor in the graph), a leaf's refusal."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ffnn

A = np.array([[0.3, -1.2, 2.5], [0.7, 0.0, -0.4]])
B = np.array([[0.5, 0.5, -1.5], [0.7, 2.0, 0.4]])
POSITIVE = np.abs(A) + 0.25
PROBABILITY = np.array([[0.1, 0.45, 0.9], [0.3, 0.75, 0.6]])

CASES = {
    # name: (in-place method, its arguments as lambdas of the library, the input, grads)
    "log1p_": ("log1p_", (), POSITIVE, True), "log2_": ("log2_", (), POSITIVE, True),
    "log10_": ("log10_", (), POSITIVE, True), "expm1_": ("expm1_", (), A, True),
    "erf_": ("erf_", (), A, True), "erfc_": ("erfc_", (), A, True),
    "rsqrt_": ("rsqrt_", (), POSITIVE, True), "reciprocal_": ("reciprocal_", (), POSITIVE, True),
    "sign_": ("sign_", (), A, True), "sgn_": ("sgn_", (), A, False),
    "sinh_": ("sinh_", (), A, True), "cosh_": ("cosh_", (), A, True),
    "trunc_": ("trunc_", (), A * 3, True), "fix_": ("fix_", (), A * 3, True),
    "frac_": ("frac_", (), A * 3, True), "logit_": ("logit_", (), PROBABILITY, True),
    "logit_eps": ("logit_", (0.2,), PROBABILITY, True),
    "nan_to_num_": ("nan_to_num_", (), np.array([[np.nan, 1.0, np.inf], [-np.inf, 2.0, 3.0]]),
                    False),
    "cumsum_": ("cumsum_", (1,), A, True), "renorm_": ("renorm_", (2, 0, 1.0), A, True),
    "tril_": ("tril_", (), A, True), "triu_": ("triu_", (1,), A, True),
    "eq_": ("eq_", (lambda lib: lib.tensor(B),), np.array([[0.5, 1, 2], [0.7, 0, 0.4]]), False),
    "ne_": ("ne_", (0.0,), A, False), "ge_": ("ge_", (lambda lib: lib.tensor(B),), A, False),
    "gt_": ("gt_", (0.3,), A, False), "le_": ("le_", (0.3,), A, False),
    "lt_": ("lt_", (lambda lib: lib.tensor(B),), A, False),
    "greater_equal_": ("greater_equal_", (0.0,), A, False),
    "not_equal_": ("not_equal_", (0.7,), A, False),
    "fmod_": ("fmod_", (0.8,), A * 3, True), "remainder_": ("remainder_", (0.8,), A * 3, True),
    "floor_divide_": ("floor_divide_", (0.8,), A * 3, False),
    "logical_and_": ("logical_and_", (lambda lib: lib.tensor(B),), A, False),
    "logical_not_": ("logical_not_", (), A, False),
    "addmm_": ("addmm_", (lambda lib: lib.tensor(B), lambda lib: lib.tensor(B.T @ A[:, :2])),
               A[:, :2], True),
    "addr_": ("addr_", (lambda lib: lib.tensor(A[:, 0]), lambda lib: lib.tensor(B[0])), A, True),
    "unsqueeze_": ("unsqueeze_", (1,), A, True), "squeeze_": ("squeeze_", (), A[:1], True),
    "t_": ("t_", (), A, True), "transpose_": ("transpose_", (0, 1), A, True),
    "swapaxes_": ("swapaxes_", (1, 0), A, True),
}


def _run(lib, name: str, grads: bool):
    method, args, values, differentiable = CASES[name]
    leaf = lib.tensor(values, requires_grad=grads)
    x = leaf * 1.0 if grads else leaf.clone()
    out = getattr(x, method)(*(a(lib) if callable(a) else a for a in args))
    assert out is x
    result = [x.detach().numpy().copy()]
    if grads:
        (x * lib.tensor(np.arange(1.0, x.numel() + 1).reshape(tuple(x.shape)))).sum().backward()
        result.append(leaf.grad.numpy().copy())
    return result


@pytest.mark.parametrize("name", sorted(CASES))
def test_in_place_methods_match_torch(name):
    differentiable = CASES[name][3]
    for grads in (False, True) if differentiable else (False,):
        for ours, theirs in zip(_run(ffnn, name, grads), _run(torch, name, grads), strict=True):
            assert ours.shape == theirs.shape
            np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-15)


def test_a_leaf_that_requires_grad_refuses_them_as_torch():
    for lib in (ffnn, torch):
        for method, args in (("log1p_", ()), ("unsqueeze_", (0,)), ("eq_", (1.0,))):
            with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
                getattr(lib.ones(2, 3, requires_grad=True), method)(*args)


@pytest.mark.parametrize("shape, wrap", [((3, 3), False), ((5, 3), False), ((5, 3), True),
                                         ((3, 5), False), ((4, 4, 4), False)])
def test_fill_diagonal_matches_torch(shape, wrap):
    values = np.arange(float(np.prod(shape))).reshape(shape)
    ours, theirs = ffnn.tensor(values), torch.tensor(values)
    ours.fill_diagonal_(-7.0, wrap=wrap)
    theirs.fill_diagonal_(-7.0, wrap=wrap)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_fill_diagonal_in_the_graph_masks_the_similarities_as_torch():
    """A contrastive loss's ``sim.fill_diagonal_(-1e9)`` before a softmax: the diagonal gets
    no gradient."""
    values = np.array([[1.0, 0.2, -0.3], [0.4, 0.9, 0.1], [-0.2, 0.5, 1.1]])
    grads = []
    for lib in (ffnn, torch):
        leaf = lib.tensor(values, requires_grad=True)
        sim = leaf * 2.0
        sim.fill_diagonal_(-1e9)
        lib.nn.functional.log_softmax(sim, dim=1)[:, 0].sum().backward()
        grads.append(leaf.grad.numpy())
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-12, atol=1e-15)
    assert np.all(np.diag(grads[0]) == 0)


def test_fill_diagonal_refuses_a_tensor_of_unequal_dims():
    with pytest.raises(RuntimeError, match="all its dimensions of equal length"):
        ffnn.zeros(2, 3, 4).fill_diagonal_(1.0)


def _through_the_diagonal(lib):
    x = lib.tensor(np.arange(12.0).reshape(3, 4))
    x.diagonal().add_(100.0)  # a ridge term on a covariance: A.diagonal().add_(eps)
    x.diagonal(offset=1).fill_(-1.0)
    lib.diagonal(x, offset=-1).mul_(2.0)
    cube = lib.tensor(np.arange(18.0).reshape(2, 3, 3))
    cube.diagonal(dim1=0, dim2=2).sub_(50.0)
    kept = x.diagonal()
    x.mul_(10.0)  # a later change of the base shows through the view taken before
    w = lib.tensor(np.arange(9.0), requires_grad=True)
    y = w.view(3, 3) * 1.0
    y.diagonal().mul_(3.0)  # in the graph: the base's gradient goes through the change
    r = lib.ones(3, 3, requires_grad=True)
    h = r * 1.0
    d = h.diagonal()
    h.mul_(2.0)  # the view's gradient follows its base's change
    ((y ** 2).sum() + (d * lib.tensor([1.0, 2.0, 3.0])).sum()).backward()
    return (x.tolist(), cube.tolist(), kept.tolist(), y.tolist(), w.grad.tolist(),
            r.grad.tolist(), x._version)


def test_diagonal_is_a_view_that_writes_reach_as_torchs():
    assert _through_the_diagonal(ffnn) == _through_the_diagonal(torch)
