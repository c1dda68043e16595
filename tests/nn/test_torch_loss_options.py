"""Loss options as torch has them: the legacy ``size_average`` / ``reduce`` flags, smooth L1,
BCE weights, ``F.normalize``, ``F.one_hot``, ``nn.Unflatten``, module traversal helpers."""

import warnings

import numpy as np
import pytest
import torch

import ffnn
import ffnn.nn as nn
import ffnn.nn.functional as F
from tests.helpers import assert_close, check_op

LEGACY = [(None, None), (True, None), (False, None), (None, True), (None, False),
          (True, True), (False, True), (True, False), (False, False)]


def _quiet(fn):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn()


@pytest.mark.parametrize("size_average, reduce", LEGACY)
@pytest.mark.parametrize("name", ["MSELoss", "L1Loss", "SmoothL1Loss", "BCELoss",
                                  "BCEWithLogitsLoss", "CrossEntropyLoss", "NLLLoss"])
def test_legacy_flags_map_as_torch(name, size_average, reduce, rng):
    ours = _quiet(lambda: getattr(nn, name)(size_average=size_average, reduce=reduce,
                                            reduction="sum"))
    theirs = _quiet(lambda: getattr(torch.nn, name)(size_average=size_average, reduce=reduce,
                                                    reduction="sum"))
    assert ours.reduction == theirs.reduction
    x = rng.uniform(0.05, 0.95, (4, 3))
    if name in ("CrossEntropyLoss", "NLLLoss"):
        y = np.array([0, 2, 1, 2])
    else:
        y = rng.uniform(0, 1, (4, 3)) if name != "BCELoss" else (rng.uniform(size=(4, 3)) > 0.5)
        y = y.astype(np.float64)
    value = ours(ffnn.tensor(x), ffnn.tensor(y))
    expected = theirs(torch.tensor(x), torch.tensor(y))
    assert_close(value.numpy(), expected.numpy())


def test_legacy_flags_in_the_functional_forms(rng):
    x, y = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    with pytest.warns(UserWarning, match="reduction='sum' instead"):
        total = F.mse_loss(ffnn.tensor(x), ffnn.tensor(y), size_average=False)
    assert_close(total.numpy(), ((x - y) ** 2).sum())
    labels = np.array([1, 0, 2, 2])
    with pytest.warns(UserWarning):
        per_sample = F.cross_entropy(ffnn.tensor(x), ffnn.tensor(labels), reduce=False)
    expected = torch.nn.functional.cross_entropy(torch.tensor(x), torch.tensor(labels),
                                                 reduction="none")
    assert_close(per_sample.numpy(), expected.numpy())
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no warning without the legacy flags
        F.mse_loss(ffnn.tensor(x), ffnn.tensor(y), reduction="sum")


@pytest.mark.parametrize("beta", [1.0, 0.3, 0.0])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_smooth_l1_loss(beta, reduction, rng):
    x, y = rng.standard_normal((5, 3)), rng.standard_normal((5, 3))
    check_op(lambda lib, a, b: lib.nn.functional.smooth_l1_loss(a, b, reduction=reduction,
                                                                beta=beta), x, y)
    module = nn.SmoothL1Loss(reduction=reduction, beta=beta)
    assert_close(module(ffnn.tensor(x), ffnn.tensor(y)).numpy(),
                 torch.nn.SmoothL1Loss(reduction=reduction, beta=beta)(
                     torch.tensor(x), torch.tensor(y)).numpy())
    with pytest.raises(ValueError, match="beta must be non-negative. Received: beta=-1"):
        nn.SmoothL1Loss(beta=-1)


def test_bce_weight_and_pos_weight(rng):
    p, y = rng.uniform(0.05, 0.95, (6, 3)), (rng.uniform(size=(6, 3)) > 0.5).astype(float)
    logits = rng.standard_normal((6, 3))
    weight, pos_weight = rng.uniform(0.5, 2, (6, 1)), rng.uniform(0.5, 3, 3)

    def weights(lib, *arrays):
        return [lib.tensor(a) for a in arrays]

    soft = rng.uniform(0.05, 0.95, (6, 3))  # the target's gradient too: inside [0, 1]
    check_op(lambda lib, a, b: lib.nn.BCELoss(weight=weights(lib, weight)[0])(a, b), p, soft)
    check_op(lambda lib, a, b: lib.nn.BCEWithLogitsLoss(pos_weight=weights(lib, pos_weight)[0])(
        a, b), logits, y)
    check_op(lambda lib, a, b: lib.nn.functional.binary_cross_entropy_with_logits(
        a, b, *weights(lib, weight), reduction="sum", pos_weight=weights(lib, pos_weight)[0]),
        logits, y)


@pytest.mark.parametrize("p, dim", [(2.0, 1), (1.0, 1), (2.0, 0)])
def test_normalize(p, dim, rng):
    x = rng.standard_normal((4, 3))
    check_op(lambda lib, a: lib.nn.functional.normalize(a, p=p, dim=dim), x)
    zero = F.normalize(ffnn.zeros(2, 3))
    assert np.all(zero.numpy() == 0)


def test_one_hot_as_torch():
    labels = [0, 2, 1, 2]
    ours = F.one_hot(ffnn.tensor(labels), num_classes=4)
    theirs = torch.nn.functional.one_hot(torch.tensor(labels), num_classes=4)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    assert ours.dtype == ffnn.int64
    assert F.one_hot(ffnn.tensor(labels)).shape == (4, 3)


def test_flatten_and_unflatten(rng):
    x = rng.standard_normal((2, 3, 4))
    check_op(lambda lib, a: lib.nn.Flatten()(a), x)
    check_op(lambda lib, a: lib.nn.Flatten(0, 1)(a), x)
    check_op(lambda lib, a: lib.nn.Unflatten(1, (2, 6))(lib.nn.Flatten()(a)), x)
    check_op(lambda lib, a: lib.nn.Unflatten(-1, (2, 2))(a), x)
    assert repr(nn.Unflatten(1, (2, 6))) == repr(torch.nn.Unflatten(1, (2, 6)))
    with pytest.raises(TypeError, match="unflattened_size must be a tuple of ints"):
        nn.Unflatten(1, 6)


def test_module_traversal_and_gradient_helpers():
    model = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Sequential(nn.Linear(3, 1)))
    reference = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.ReLU(),
                                    torch.nn.Sequential(torch.nn.Linear(3, 1)))
    assert [n for n, _ in model.named_modules()] == [n for n, _ in reference.named_modules()]
    assert [type(c).__name__ for c in model.children()] == [
        type(c).__name__ for c in reference.children()]
    seen = []

    def init(module):
        if isinstance(module, nn.Linear):
            nn.init.constant_(module.weight, 0.5)
            nn.init.zeros_(module.bias)
        seen.append(type(module).__name__)

    assert model.apply(init) is model
    assert seen == ["Linear", "ReLU", "Linear", "Sequential", "Sequential"]
    assert model(ffnn.ones(1, 2)).sum().item() == pytest.approx(1.5 * 1.0)
    model(ffnn.ones(4, 2)).sum().backward()
    model.zero_grad(set_to_none=False)
    assert all(np.all(np.asarray(p.grad) == 0) for p in model.parameters())
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())
    assert model.requires_grad_(False) is model
    assert not any(p.requires_grad for p in model.parameters())


@pytest.mark.parametrize("reduction", ["mean", "batchmean", "sum", "none"])
@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div_as_torch(reduction, log_target, rng):
    logits, target_logits = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    target = np.exp(target_logits) / np.exp(target_logits).sum(1, keepdims=True)
    target[0, 1] = 0.0  # a zero probability contributes 0
    given = np.log(target + 1e-300) if log_target else target

    def loss(lib, a):  # the target a constant (its gradient at t = 0 is undefined)
        log_probs = lib.nn.functional.log_softmax(a, dim=1)
        return lib.nn.KLDivLoss(reduction=reduction, log_target=log_target)(
            log_probs, lib.tensor(given).to(log_probs.dtype))

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch warns about reduction='mean'
        check_op(loss, logits)
    assert repr(nn.KLDivLoss()) == repr(torch.nn.KLDivLoss())
    with pytest.raises(ValueError, match="'mean', 'batchmean', 'sum' or 'none'"):
        nn.KLDivLoss(reduction="avg")


@pytest.mark.parametrize("dim", [0, 1])
def test_cosine_similarity_as_torch(dim, rng):
    a, b = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    check_op(lambda lib, x, y: lib.nn.functional.cosine_similarity(x, y, dim=dim), a, b)
    check_op(lambda lib, x, y: lib.nn.CosineSimilarity(dim=dim)(x, y), a, b)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "huber_loss"])
def test_weighted_regression_losses_as_torch(name, reduction, rng):
    """torch 2's ``weight=`` of F.mse_loss, l1_loss, huber_loss: values and the gradients of
    input and weight (mse and l1 divide a mean by Σ w, huber by the count, as torch)."""
    x, y = rng.standard_normal((4, 3)), rng.standard_normal((4, 3)) * 2
    w = rng.random((4, 3)) + 0.1
    results = []
    for lib in (torch, ffnn):
        a, b = lib.tensor(x, requires_grad=True), lib.tensor(w, requires_grad=True)
        value = getattr(lib.nn.functional, name)(a, lib.tensor(y), reduction=reduction,
                                                 weight=b)
        value.sum().backward()
        results.append((value.detach().numpy(), a.grad.numpy(), b.grad.numpy()))
    for ours, theirs in zip(results[1], results[0]):
        assert_close(ours, theirs)
    with pytest.raises(ValueError, match="Weights and input must have the same size"):
        getattr(F, name)(ffnn.tensor(x), ffnn.tensor(y), weight=ffnn.tensor(w[0]))
