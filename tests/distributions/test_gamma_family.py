"""Gamma, Chi2, Dirichlet and Poisson against torch.distributions (float64): log_prob,
entropy and moments with their parameter gradients; the samples torch draws after the same
seed (float32 and float64); rsample's implicit gradients (torch's ``_standard_gamma_grad`` and
``_dirichlet_grad``); shapes, expand and validation."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ffnn
import ffnn.distributions as D
from ffnn.distributions.dirichlet_grad import dirichlet_grad
from ffnn.distributions.gamma_grad import _digamma, standard_gamma_grad
from tests.distributions.common import check_shapes_and_expand
from tests.test_distributions import _compare, _leaves, _value

RNG = np.random.default_rng(21)


def _lib_d(lib):
    return torch.distributions if lib is torch else D


CASES = {
    "gamma": (lambda lib, a, b: _lib_d(lib).Gamma(a, b),
              {"a": RNG.uniform(0.2, 5, (2, 3)), "b": RNG.uniform(0.3, 3, 3)},
              np.concatenate([RNG.uniform(0.01, 6, (3, 2, 3)), np.zeros((1, 2, 3))])),
    "chi2": (lambda lib, df: _lib_d(lib).Chi2(df), {"df": RNG.uniform(0.5, 8, (2, 3))},
             RNG.uniform(0.01, 10, (4, 2, 3))),
    "dirichlet": (lambda lib, a: _lib_d(lib).Dirichlet(a), {"a": RNG.uniform(0.3, 4, (2, 4))},
                  RNG.dirichlet(np.ones(4), (3, 2))),
    "poisson": (lambda lib, r: _lib_d(lib).Poisson(r), {"r": RNG.uniform(0.1, 20, (2, 3))},
                RNG.integers(0, 25, (4, 2, 3)).astype(float)),
}


BETA = (lambda lib, a, b: _lib_d(lib).Beta(a, b),
        {"a": RNG.uniform(0.2, 8, (2, 3)), "b": RNG.uniform(0.2, 8, (2, 3))}, None)


@pytest.mark.parametrize("case", sorted(CASES))
def test_log_prob_matches_torch(case):
    make, params, value = CASES[case]
    _compare(make, params, lambda d, lib: d.log_prob(_value(value, lib)))


@pytest.mark.parametrize("case", ["gamma", "chi2", "dirichlet"])
def test_entropy_matches_torch(case):
    """The gradients hold trigammas: torch's are good to ~5e-10, ffnn's to ~1e-15."""
    make, params, _ = CASES[case]
    _compare(make, params, lambda d, lib: d.entropy(), rtol=1e-8)


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("moment", ["mean", "variance", "stddev", "mode"])
def test_moments_match_torch(case, moment):
    make, params, _ = CASES[case]
    _compare(make, params, lambda d, lib: getattr(d, moment))


def test_dirichlet_mode_at_a_corner_is_the_largest_vertex():
    a = np.array([[0.3, 0.5, 0.2], [2.0, 3.0, 0.5], [0.9, 0.1, 0.95]])
    ours = D.Dirichlet(ffnn.tensor(a)).mode.numpy()
    np.testing.assert_array_equal(ours, torch.distributions.Dirichlet(torch.tensor(a))
                                  .mode.detach().numpy())


@pytest.mark.parametrize("case", sorted(CASES))
def test_shapes_and_expand_match_torch(case):
    make, params, _ = CASES[case]
    check_shapes_and_expand(make, params)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("case", sorted(CASES))
def test_samples_are_torchs_for_the_same_seed(case, dtype):
    """torch's rejection samplers, element by element (float32 arithmetic for a float32
    Gamma, as torch's ``sample_gamma<float, double>``); then the streams stay in step."""
    make, params, _ = CASES[case]
    params = {k: v * (0.05 if case == "gamma" and k == "a" else 1) for k, v in params.items()}

    def draw(lib):
        leaves = {k: _value(v, lib).to(dtype if lib is torch else
                                       getattr(ffnn, str(dtype).split(".")[-1]))
                  for k, v in params.items()}
        lib.manual_seed(11)
        d = make(lib, **leaves)
        return d.sample((50,)).numpy(), d.sample((3,)).numpy(), lib.rand(4).numpy()

    for ours, theirs in zip(draw(ffnn), draw(torch)):
        assert ours.dtype == theirs.dtype
        np.testing.assert_array_equal(ours, theirs)


def test_standard_gamma_grad_matches_torch_in_every_branch():
    """The Taylor (x < 0.8), saddle-point (α > 8) and rational branches, on a grid."""
    alpha = np.exp(RNG.uniform(-4, 5, 4000))
    x = alpha * np.exp(RNG.uniform(-3, 1.5, 4000))
    x[:50] = alpha[:50] * RNG.uniform(0.9, 1.1, 50)
    expected = torch._standard_gamma_grad(torch.tensor(alpha), torch.tensor(x)).numpy()
    np.testing.assert_allclose(standard_gamma_grad(alpha, x), expected, rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(_digamma(alpha), torch.special.digamma(torch.tensor(alpha)),
                               rtol=1e-13)


def test_dirichlet_grad_matches_torch_in_every_branch():
    x = RNG.uniform(1e-3, 1 - 1e-3, 4000)
    alpha = np.exp(RNG.uniform(-3, 4, 4000))
    total = alpha + np.exp(RNG.uniform(-3, 4, 4000))
    expected = torch._dirichlet_grad(*(torch.tensor(v) for v in (x, alpha, total))).numpy()
    np.testing.assert_allclose(dirichlet_grad(x, alpha, total), expected, rtol=1e-12)


@pytest.mark.parametrize("case", ["gamma", "chi2", "dirichlet", "beta"])
def test_rsample_values_and_gradients_match_torch_for_the_same_seed(case):
    """Beta's rsample is the first entry of a Dirichlet's (torch's implicit gradient)."""
    make, params, _ = BETA if case == "beta" else CASES[case]
    ours_in, theirs_in = _leaves(params, ffnn), _leaves(params, torch)
    ffnn.manual_seed(4)
    torch.manual_seed(4)
    ours, theirs = make(ffnn, **ours_in).rsample((6,)), make(torch, **theirs_in).rsample((6,))
    np.testing.assert_array_equal(ours.detach().numpy(), theirs.detach().numpy())
    w = RNG.standard_normal(tuple(theirs.shape))
    (ours * ffnn.tensor(w)).sum().backward()
    (theirs * torch.tensor(w)).sum().backward()
    for name, leaf in theirs_in.items():
        np.testing.assert_allclose(ours_in[name].grad.numpy(), leaf.grad.numpy(), rtol=1e-11,
                                   err_msg=name)


def test_rsample_under_no_grad_or_without_grad_parameters_has_no_graph():
    a = ffnn.tensor([1.5, 0.4], dtype=ffnn.float64, requires_grad=True)
    with ffnn.no_grad():
        assert not D.Gamma(a, 1.0).rsample().requires_grad
    assert D.Dirichlet(a).rsample().requires_grad
    assert not D.Dirichlet(a.detach()).rsample().requires_grad


@pytest.mark.parametrize("make, match", [
    (lambda lib: _lib_d(lib).Gamma(lib.tensor([1.0, 0.0]), 1.0), "concentration"),
    (lambda lib: _lib_d(lib).Gamma(1.0, lib.tensor([-1.0])), "rate"),
    (lambda lib: _lib_d(lib).Chi2(lib.tensor([-2.0])), "df"),
    (lambda lib: _lib_d(lib).Dirichlet(lib.tensor([1.0, -0.5])), "concentration"),
    (lambda lib: _lib_d(lib).Dirichlet(lib.tensor(2.0)), "one-dimensional"),
    (lambda lib: _lib_d(lib).Poisson(lib.tensor([-0.5])), "rate"),
    (lambda lib: _lib_d(lib).Gamma(1.0, 1.0).log_prob(lib.tensor(-1.0)), "support"),
    (lambda lib: _lib_d(lib).Poisson(2.0).log_prob(lib.tensor(1.5)), "support"),
    (lambda lib: _lib_d(lib).Dirichlet(lib.ones(3)).log_prob(lib.tensor([0.5, 0.6, 0.1])),
     "support"),
])
def test_invalid_arguments_raise_as_torch(make, match):
    for lib in (torch, ffnn):
        with pytest.raises(ValueError, match=match):
            make(lib)


def test_poisson_log_prob_at_zero_rate_is_torchs():
    for value in (0.0, 2.0):
        ours = D.Poisson(ffnn.tensor([0.0, 1.0])).log_prob(ffnn.tensor(value)).numpy()
        theirs = torch.distributions.Poisson(torch.tensor([0.0, 1.0])).log_prob(
            torch.tensor(value)).numpy()
        np.testing.assert_allclose(ours, theirs, rtol=1e-6)


@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")  # the density at x = 0
def test_cdf_matches_torch():
    """P(α, βx) by ffnn's incomplete gamma (mpmath-exact to ~1e-11; torch's own is good to
    ~2e-9 where α > 20 and βx ≈ α): values, and gradients in β and x (torch has none in α)."""
    make, params, value = CASES["gamma"]
    alpha = params["a"]
    _compare(lambda lib, b, x: _lib_d(lib).Gamma(_value(alpha, lib), b).cdf(x),
             {"b": params["b"], "x": value}, lambda y, lib: y, rtol=5e-9)
    make, params, value = CASES["chi2"]
    _compare(make, params, lambda d, lib: d.cdf(_value(value, lib)).detach(), rtol=5e-9)
