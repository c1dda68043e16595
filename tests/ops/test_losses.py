"""Every loss with reduction mean/sum/none against torch and finite differences; cross-entropy
options and their combinations; stability for logits of ±1e4."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import ffnn
from tests.helpers import assert_close, check_op, randn, seeds, shapes, to_torch

REDUCTIONS = ["mean", "sum", "none"]


def F(lib):  # noqa: N802 - the usual alias
    return lib.nn.functional


@pytest.mark.parametrize("reduction", REDUCTIONS)
@settings(max_examples=8)
@given(shape=shapes(1, 3), seed=seeds)
def test_regression_losses(reduction, shape, seed):
    x, y = randn(seed, *shape), randn(seed + 1, *shape)
    y = np.where(np.abs(np.abs(x - y) - 1.0) < 0.02, y + 0.1, y)  # off Huber's kink
    check_op(lambda lib, a, b: F(lib).mse_loss(a, b, reduction=reduction), x, y)
    check_op(lambda lib, a, b: F(lib).l1_loss(a, b, reduction=reduction), x, y)
    check_op(lambda lib, a, b: F(lib).huber_loss(a, b, reduction=reduction), x, y)
    check_op(lambda lib, a, b: F(lib).huber_loss(a, b, reduction=reduction, delta=0.5),
             x, np.where(np.abs(np.abs(x - y) - 0.5) < 0.02, y + 0.1, y))


@st.composite
def classification(draw):
    n, c = draw(st.integers(1, 5)), draw(st.integers(2, 5))
    seed = draw(seeds)
    labels = np.random.default_rng(seed).integers(0, c, n)
    return n, c, seed, labels


CE_OPTIONS = [
    {},
    {"weight": True},
    {"ignore_index": 1},
    {"label_smoothing": 0.2},
    {"weight": True, "ignore_index": 0},
    {"weight": True, "label_smoothing": 0.1},
    {"ignore_index": 1, "label_smoothing": 0.3},
    {"weight": True, "ignore_index": 2, "label_smoothing": 0.25},
]


def _ce(reduction, options, weights):
    def fn(lib, x, t):
        kwargs = dict(options)
        if kwargs.pop("weight", False):
            kwargs["weight"] = lib.tensor(weights, dtype=x.dtype)
        return F(lib).cross_entropy(x, t, reduction=reduction, **kwargs)

    return fn


@pytest.mark.parametrize("options", CE_OPTIONS, ids=str)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@settings(max_examples=5)
@given(case=classification())
def test_cross_entropy_with_indices(options, reduction, case):
    n, c, seed, labels = case
    if "ignore_index" in options and reduction == "mean" and not (labels != options[
            "ignore_index"]).any():
        labels = np.full(n, (options["ignore_index"] + 1) % c)  # torch gives nan for 0/0
    weights = np.random.default_rng(seed).uniform(0.5, 2.0, c)
    check_op(_ce(reduction, options, weights), 3 * randn(seed, n, c), labels)


@pytest.mark.parametrize("options", [{}, {"weight": True}, {"label_smoothing": 0.2},
                                     {"weight": True, "label_smoothing": 0.1}], ids=str)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@settings(max_examples=6)
@given(case=classification())
def test_cross_entropy_with_probabilities(options, reduction, case):
    n, c, seed, _ = case
    probs = np.random.default_rng(seed).dirichlet(np.ones(c), n)
    weights = np.random.default_rng(seed).uniform(0.5, 2.0, c)
    check_op(_ce(reduction, options, weights), 3 * randn(seed, n, c), probs)


def test_cross_entropy_unbatched_input():
    check_op(lambda lib, x, t: F(lib).cross_entropy(x, t), randn(0, 4), np.array(2))
    check_op(lambda lib, x, t: F(lib).cross_entropy(x, t, reduction="none"), randn(0, 4),
             np.array(2))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
@settings(max_examples=6)
@given(case=classification())
def test_nll_loss(reduction, weighted, case):
    n, c, seed, labels = case
    weights = np.random.default_rng(seed).uniform(0.5, 2.0, c)

    def fn(lib, x, t):
        w = lib.tensor(weights, dtype=x.dtype) if weighted else None
        return F(lib).nll_loss(F(lib).log_softmax(x, dim=1), t, weight=w, reduction=reduction)

    check_op(fn, randn(seed, n, c), labels)
    ignore = int(labels[0])
    if reduction != "mean" or (labels != ignore).any():
        check_op(lambda lib, x, t: F(lib).nll_loss(x, t, ignore_index=ignore,
                                                   reduction=reduction), randn(seed, n, c), labels)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
@settings(max_examples=6)
@given(shape=shapes(1, 3), seed=seeds)
def test_bce(reduction, weighted, shape, seed):
    rng = np.random.default_rng(seed)
    p, y, w = rng.uniform(0.05, 0.95, shape), rng.uniform(0, 1, shape), rng.uniform(0.5, 2, shape)

    def fn(lib, a, b):
        weight = lib.tensor(w, dtype=a.dtype) if weighted else None
        return F(lib).binary_cross_entropy(a, b, weight=weight, reduction=reduction)

    check_op(fn, p, y)


def test_bce_of_saturated_probabilities_is_clamped_without_warnings():
    """p = 0 or 1 exactly (a saturated sigmoid): logs clamped at -100, as torch, and no
    NumPy divide-by-zero warning."""
    p = np.array([0.0, 1.0, 1.0, 0.0, 0.5])
    y = np.array([1.0, 0.0, 1.0, 0.0, 1.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ours = ffnn.nn.functional.binary_cross_entropy(ffnn.tensor(p), ffnn.tensor(y),
                                                       reduction="none")
    theirs = torch.nn.functional.binary_cross_entropy(torch.tensor(p), torch.tensor(y),
                                                      reduction="none")
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12)
    assert ours.numpy()[:2].tolist() == [100.0, 100.0]


@pytest.mark.parametrize("p, y, argument", [
    ([0.5, 0.5], [0.0, 2.0], "target"), ([0.5, 0.5], [-0.5, 1.0], "target"),
    ([0.5, 0.5], [0.0, np.nan], "target"), ([1.5, 0.5], [0.0, 1.0], "input"),
    ([0.5, np.nan], [0.0, 1.0], "input"), ([1.5, 0.5], [0.0, 2.0], "input")])
def test_bce_refuses_what_torch_refuses(p, y, argument):
    """Probabilities or targets outside [0, 1], or NaN: torch raises (the input checked
    first), and so does ffnn, naming the same argument; a target of 2 was taken silently."""
    with pytest.raises(RuntimeError, match=f"all elements of {argument} should be"):
        torch.nn.functional.binary_cross_entropy(torch.tensor(p), torch.tensor(y))
    with pytest.raises(RuntimeError, match=f"all elements of {argument} should be between "
                                           "0 and 1 .*Received"):
        ffnn.nn.functional.binary_cross_entropy(ffnn.tensor(p), ffnn.tensor(y))
    with pytest.raises(RuntimeError, match=f"all elements of {argument}"):
        ffnn.nn.BCELoss()(ffnn.tensor(p), ffnn.tensor(y))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("options", [{}, {"weight": True}, {"pos_weight": True},
                                     {"weight": True, "pos_weight": True}], ids=str)
@settings(max_examples=5)
@given(n=st.integers(1, 4), c=st.integers(1, 4), seed=seeds)
def test_bce_with_logits(reduction, options, n, c, seed):
    rng = np.random.default_rng(seed)
    x, y = 3 * rng.standard_normal((n, c)), rng.uniform(0, 1, (n, c))
    w, q = rng.uniform(0.5, 2, (n, c)), rng.uniform(0.5, 3, c)

    def fn(lib, a, b):
        kwargs = {}
        if options.get("weight"):
            kwargs["weight"] = lib.tensor(w, dtype=a.dtype)
        if options.get("pos_weight"):
            kwargs["pos_weight"] = lib.tensor(q, dtype=a.dtype)
        return F(lib).binary_cross_entropy_with_logits(a, b, reduction=reduction, **kwargs)

    check_op(fn, x, y)


LARGE_REGRESSION_LOSSES = {
    "mse": lambda lib: F(lib).mse_loss,
    "l1": lambda lib: F(lib).l1_loss,
    "huber": lambda lib: F(lib).huber_loss,
    "huber_delta": lambda lib: lambda a, b, reduction: F(lib).huber_loss(
        a, b, reduction=reduction, delta=0.5),
    "smooth_l1_beta": lambda lib: lambda a, b, reduction: F(lib).smooth_l1_loss(
        a, b, reduction=reduction, beta=2.0),
}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", sorted(LARGE_REGRESSION_LOSSES))
def test_regression_losses_on_large_arrays(name, dtype, reduction):
    """From ``accel.MIN_SIZE`` elements (one compiled pass where numba is at hand): the loss
    and both gradients against torch; differences of 0, exactly ±δ, and large enough that a
    float32 square is inf, as torch's."""
    rng = np.random.default_rng(4)
    x, y = rng.standard_normal((2, 96, 50)) * 3
    y.flat[:4] = x.flat[:4] + [0.0, 0.5, -0.5, 1.0]
    for special in ([], [3e19, -2e19]):
        x.flat[4:4 + len(special)] = special
        _matches_torch(LARGE_REGRESSION_LOSSES[name], (x, y), dtype, reduction)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", [(1,), (1, 1), (3, 7), (5, 2, 3)])
def test_mse_on_small_arrays(shape, dtype, reduction):
    """Below ``accel.MIN_SIZE`` elements too (MSE's compiled pass takes any size): the loss
    and both gradients against torch, under an upstream gradient other than 1 (the mean's
    factor g/N taken as a Python float), with a difference of 0 and, where there are two
    elements or more, one whose float32 square is inf, as torch's."""
    rng = np.random.default_rng(6)
    x, y = rng.standard_normal((2, *shape)) * 3
    y.flat[0] = x.flat[0]
    for special in ([], [3e19] if x.size > 1 else []):
        x.flat[1:1 + len(special)] = special
        _matches_torch(lambda lib: F(lib).mse_loss, (x, y), dtype, reduction, large=False,
                       upstream=0.37)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_bce_on_large_arrays(dtype, reduction):
    """From ``accel.MIN_SIZE`` elements: BCE on probabilities (0 and 1 among them) and both
    gradients against torch (the target's is ±inf at 0 and 1, as torch's)."""
    rng = np.random.default_rng(5)
    p = rng.uniform(0, 1, (64, 80))
    p.flat[:4] = [0.0, 1.0, 1e-9, 1 - 1e-7]
    _matches_torch(lambda lib: F(lib).binary_cross_entropy, (p, rng.uniform(0, 1, p.shape)),
                   dtype, reduction)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_bce_with_logits_on_large_arrays(dtype, reduction):
    """From ``accel.MIN_SIZE`` elements (the compiled kernels, where numba is at hand): the
    loss and both gradients against torch, logits from -1e4 to 1e4 and targets in [0, 1]."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((64, 80)) * 6
    x.flat[:7] = [1e4, -1e4, 0.0, 80.0, -80.0, 1e-30, -0.5]
    _matches_torch(lambda lib: F(lib).binary_cross_entropy_with_logits,
                   (x, rng.uniform(0, 1, x.shape)), dtype, reduction)


def _matches_torch(loss_of, arrays, dtype, reduction, large: bool = True,
                   upstream: float = 1.0) -> None:
    """``loss_of(lib)(input, target, reduction=…)``, its value and both gradients (through the
    sum for 'none', times ``upstream``) against torch's, on arrays of at least
    ``accel.MIN_SIZE`` elements (unless not ``large``)."""
    assert arrays[0].size >= ffnn.accel.MIN_SIZE or not large
    ours = [ffnn.tensor(a.astype(dtype), requires_grad=True) for a in arrays]
    theirs = [to_torch(a.astype(dtype), True) for a in arrays]
    loss = loss_of(ffnn)(*ours, reduction=reduction)
    ref = loss_of(torch)(*theirs, reduction=reduction)
    assert loss.dtype == ours[0].dtype
    _assert_close_or_both_inf(loss.data, ref.detach().numpy(), dtype)
    ((loss.sum() if reduction == "none" else loss) * upstream).backward()
    ((ref.sum() if reduction == "none" else ref) * upstream).backward()
    for a, b in zip(ours, theirs):
        _assert_close_or_both_inf(a.grad, b.grad.numpy(), dtype)


def _assert_close_or_both_inf(actual, expected, dtype) -> None:
    """Infinite (same signs) and NaN in the same places, and ``assert_close`` on the rest."""
    actual, expected = np.asarray(actual), np.asarray(expected)
    np.testing.assert_array_equal(np.isnan(actual), np.isnan(expected))
    np.testing.assert_array_equal(np.isposinf(actual), np.isposinf(expected))
    np.testing.assert_array_equal(np.isneginf(actual), np.isneginf(expected))
    finite = np.isfinite(expected)
    if finite.any():
        assert_close(actual[finite], expected[finite], dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", ["ce", "ce_probs", "bce_logits", "bce_logits_pos"])
def test_losses_stable_for_huge_logits(name, dtype):
    x = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 5.0], [1e3, -1e3, -1e4]], dtype)
    labels, probs = np.array([1, 0, 2]), np.eye(3, dtype=dtype)[[1, 0, 2]]
    targets = np.array([[1, 0, 1], [0, 1, 0], [1, 0.5, 0]], dtype)
    q = np.array([2.0, 0.5, 3.0], dtype)
    fns = {
        "ce": lambda lib, a: F(lib).cross_entropy(a, lib.tensor(labels)),
        "ce_probs": lambda lib, a: F(lib).cross_entropy(a, lib.tensor(probs)),
        "bce_logits": lambda lib, a: F(lib).binary_cross_entropy_with_logits(
            a, lib.tensor(targets)),
        "bce_logits_pos": lambda lib, a: F(lib).binary_cross_entropy_with_logits(
            a, lib.tensor(targets), pos_weight=lib.tensor(q)),
    }
    ours, theirs = ffnn.tensor(x, requires_grad=True), to_torch(x, True)
    loss, ref = fns[name](ffnn, ours), fns[name](torch, theirs)
    loss.backward()
    ref.backward()
    assert np.isfinite(loss.item()) and np.isfinite(ours.grad).all()
    assert_close(loss.data, ref.detach().numpy(), dtype)
    assert_close(ours.grad, theirs.grad.numpy(), dtype)


def test_loss_dtype_is_input_dtype():
    for dtype in (np.float32, np.float64):
        x = ffnn.tensor(np.zeros((2, 3), dtype), requires_grad=True)
        assert F(ffnn).cross_entropy(x, ffnn.tensor([0, 1])).dtype == dtype
        assert F(ffnn).mse_loss(x, np.ones((2, 3))).dtype == dtype
