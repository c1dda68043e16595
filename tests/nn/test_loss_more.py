"""Margin, embedding, Poisson and Gaussian losses, pairwise distance and F.pad against torch:
values and gradients in float64, functional and module forms."""

import numpy as np
import pytest
import torch

import ffnn


def _signs(rng, n):
    return np.where(rng.random(n) > 0.5, 1.0, -1.0)


CASES = {
    "pairwise_distance": lambda lib, a, b, c, r: lib.nn.functional.pairwise_distance(a, b),
    "pairwise_distance_p1_keepdim": lambda lib, a, b, c, r: lib.nn.PairwiseDistance(
        1.0, keepdim=True)(a, b),
    "margin_ranking": lambda lib, a, b, c, r: lib.nn.functional.margin_ranking_loss(
        a[:, 0], b[:, 0], lib.tensor(_signs(r, 5)), margin=0.2),
    "margin_ranking_module_none": lambda lib, a, b, c, r: lib.nn.MarginRankingLoss(
        reduction="none")(a[:, 0], b[:, 0], lib.tensor(_signs(r, 5))),
    "hinge_embedding": lambda lib, a, b, c, r: lib.nn.HingeEmbeddingLoss(margin=0.5)(
        a, lib.tensor(_signs(r, (5, 4)))),
    "soft_margin": lambda lib, a, b, c, r: lib.nn.functional.soft_margin_loss(
        a, lib.tensor(_signs(r, (5, 4)))),
    "multilabel_soft_margin": lambda lib, a, b, c, r: lib.nn.MultiLabelSoftMarginLoss(
        weight=lib.tensor([1.0, 2.0, 0.5, 1.5]))(a, lib.tensor((r.random((5, 4)) > 0.5) * 1.0)),
    "cosine_embedding": lambda lib, a, b, c, r: lib.nn.functional.cosine_embedding_loss(
        a, b, lib.tensor(_signs(r, 5)), margin=0.1),
    "cosine_embedding_sum": lambda lib, a, b, c, r: lib.nn.CosineEmbeddingLoss(
        reduction="sum")(a, b, lib.tensor(_signs(r, 5))),
    "triplet_margin": lambda lib, a, b, c, r: lib.nn.TripletMarginLoss(margin=2.0)(a, b, c),
    "triplet_margin_swap_p1": lambda lib, a, b, c, r: lib.nn.functional.triplet_margin_loss(
        a, b, c, margin=3.0, p=1, swap=True, reduction="none"),
    "multi_margin": lambda lib, a, b, c, r: lib.nn.MultiMarginLoss()(
        a, lib.tensor(r.integers(0, 4, 5))),
    "multi_margin_p2_weight": lambda lib, a, b, c, r: lib.nn.functional.multi_margin_loss(
        a, lib.tensor(r.integers(0, 4, 5)), p=2, margin=0.5,
        weight=lib.tensor([1.0, 2.0, 0.5, 1.5], dtype=lib.float64)),
    "poisson_nll": lambda lib, a, b, c, r: lib.nn.PoissonNLLLoss()(
        a, lib.tensor(r.poisson(2.0, (5, 4)) * 1.0)),
    "poisson_nll_full_rates": lambda lib, a, b, c, r: lib.nn.functional.poisson_nll_loss(
        a.abs() + 0.1, lib.tensor(r.poisson(3.0, (5, 4)) * 1.0), log_input=False, full=True),
    "gaussian_nll": lambda lib, a, b, c, r: lib.nn.GaussianNLLLoss()(a, b, c.abs()),
    "gaussian_nll_full_one_var": lambda lib, a, b, c, r: lib.nn.functional.gaussian_nll_loss(
        a, b, c[:, :1].abs() * 1e-7, full=True),
    "gaussian_nll_var_one_dim_less": lambda lib, a, b, c, r: lib.nn.GaussianNLLLoss(
        reduction="sum")(a, b, c[:, 0].abs()),
    "pad_constant": lambda lib, a, b, c, r: lib.nn.functional.pad(a, (1, 2), value=0.5)
    * lib.arange(7.0),
    "pad_two_dims_crop": lambda lib, a, b, c, r: lib.nn.functional.pad(a, (-1, 1, 2, 0))
    * lib.arange(4.0),
    "pad_reflect": lambda lib, a, b, c, r: lib.nn.functional.pad(
        a.unsqueeze(0), (2, 1), mode="reflect") * lib.arange(7.0),
    "pad_replicate": lambda lib, a, b, c, r: lib.nn.functional.pad(
        a.unsqueeze(0), (3, 1), mode="replicate") * lib.arange(8.0),
    "pad_circular": lambda lib, a, b, c, r: lib.nn.functional.pad(
        a.unsqueeze(0), (1, 2), mode="circular") * lib.arange(7.0),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_torch(name):
    base = np.random.default_rng(5)
    arrays = [base.standard_normal((5, 4)) for _ in range(3)]
    results = {}
    for lib in (torch, ffnn):
        inputs = [lib.tensor(a, requires_grad=True) for a in arrays]
        value = CASES[name](lib, *inputs, np.random.default_rng(9))
        value.sum().backward()
        results[lib.__name__] = (value.detach().numpy(),
                                 [np.zeros(a.shape) if t.grad is None else t.grad.numpy()
                                  for t, a in zip(inputs, arrays)])
    np.testing.assert_allclose(results["ffnn"][0], results["torch"][0], rtol=1e-10, atol=1e-12)
    for ours, theirs in zip(results["ffnn"][1], results["torch"][1]):
        np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("options", [{}, {"p": 2}, {"weight": [1.0, 2.0, 3.0]}])
def test_multi_margin_terms_at_exactly_zero_pass_no_gradient_as_torchs(options):
    """Scores one margin apart put a hinge term at 0: torch's kernel counts only z > 0 (a
    clamp would pass the gradient there)."""
    x = np.array([[0.0, 1.0, 1.0], [2.0, 1.0, 0.0], [0.5, 0.5, 0.5]])
    grads = []
    for lib in (torch, ffnn):
        inputs = lib.tensor(x, requires_grad=True)
        kwargs = {k: lib.tensor(v, dtype=lib.float64) if k == "weight" else v
                  for k, v in options.items()}
        lib.nn.functional.multi_margin_loss(inputs, lib.tensor([1, 0, 2]), **kwargs).backward()
        grads.append(inputs.grad.numpy())
    np.testing.assert_allclose(grads[1], grads[0], rtol=1e-12, atol=0)


def test_bad_arguments_say_what_is_wrong():
    F = ffnn.nn.functional
    with pytest.raises(ValueError, match="var is of incorrect size"):
        F.gaussian_nll_loss(ffnn.ones(3, 2), ffnn.ones(3, 2), ffnn.ones(2, 3))
    with pytest.raises(ValueError, match="padding length must be even"):
        F.pad(ffnn.ones(2, 2), (1,))
    with pytest.raises(ValueError, match="only p == 1 and p == 2"):
        F.multi_margin_loss(ffnn.ones(2, 3), [0, 1], p=3)
