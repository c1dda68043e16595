"""ExponentialFamily's Bregman forms against torch's (float64): the generic entropy
F(θ) - ⟨θ, ∇F(θ)⟩ - E[k] and the (ExponentialFamily, ExponentialFamily) KL pair, values and
parameter gradients (second-order autograd), for each family's natural parameters and log
normaliser; a user's family uses the pair; two different families raise torch's error."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.distributions.exp_family import ExponentialFamily as TorchFamily
from torch.distributions.kl import _kl_expfamily_expfamily as torch_bregman_kl

import ffnn
import ffnn.distributions as D
from ffnn.distributions.kl_families import _kl_expfamily_expfamily as bregman_kl
from tests.distributions.common import lib_d
from tests.test_distributions import _compare

R = np.random.default_rng(81)
FAMILIES = {  # name: (make, parameters of p, parameters of q)
    "normal": (lambda lib, a, b: lib_d(lib).Normal(a, b),
               *({"a": R.standard_normal(3), "b": R.uniform(0.5, 2, 3)} for _ in range(2))),
    "exponential": (lambda lib, r: lib_d(lib).Exponential(r),
                    *({"r": R.uniform(0.5, 2, 3)} for _ in range(2))),
    "bernoulli": (lambda lib, p: lib_d(lib).Bernoulli(probs=p),
                  *({"p": R.uniform(0.1, 0.9, 3)} for _ in range(2))),
    "gamma": (lambda lib, a, b: lib_d(lib).Gamma(a, b),
              *({"a": R.uniform(0.5, 3, 3), "b": R.uniform(0.5, 2, 3)} for _ in range(2))),
    "continuous_bernoulli": (lambda lib, p: lib_d(lib).ContinuousBernoulli(probs=p),
                             {"p": np.array([0.2, 0.4995, 0.8])},
                             {"p": np.array([0.6, 0.3, 0.5003])}),
    "beta": (lambda lib, a, b: lib_d(lib).Beta(a, b),
             *({"a": R.uniform(0.5, 3, 3), "b": R.uniform(0.5, 3, 3)} for _ in range(2))),
    "dirichlet": (lambda lib, a: lib_d(lib).Dirichlet(a),
                  *({"a": R.uniform(0.5, 3, (2, 4))} for _ in range(2))),
    "poisson": (lambda lib, r: lib_d(lib).Poisson(r),
                *({"r": R.uniform(0.5, 5, 3)} for _ in range(2))),
}
WITH_CARRIER = ["normal", "exponential", "bernoulli", "gamma", "continuous_bernoulli"]


def _generic_entropy(d, lib):
    return (TorchFamily if lib is torch else D.ExponentialFamily).entropy(d)


@pytest.mark.parametrize("name", WITH_CARRIER)
def test_bregman_entropy_matches_torchs_and_the_closed_form(name):
    """The gradient holds third derivatives of F (trigammas for Gamma: torch's good to ~5e-10)."""
    make, params, _ = FAMILIES[name]
    _compare(make, params, _generic_entropy, rtol=1e-8)
    d = make(ffnn, **{k: ffnn.tensor(v) for k, v in params.items()})
    np.testing.assert_allclose(D.ExponentialFamily.entropy(d).detach().numpy(),
                               d.entropy().detach().numpy(), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_bregman_kl_matches_torchs_and_the_closed_form(name):
    make, params_p, params_q = FAMILIES[name]

    def make_both(lib, **leaves):
        return (make(lib, **{k[2:]: v for k, v in leaves.items() if k[:2] == "p_"}),
                make(lib, **{k[2:]: v for k, v in leaves.items() if k[:2] == "q_"}))

    both = {**{f"p_{k}": v for k, v in params_p.items()},
            **{f"q_{k}": v for k, v in params_q.items()}}
    _compare(make_both, both, lambda pq, lib: (torch_bregman_kl if lib is torch
                                                else bregman_kl)(*pq), rtol=1e-8)
    p, q = make_both(ffnn, **{k: ffnn.tensor(v) for k, v in both.items()})
    np.testing.assert_allclose(bregman_kl(p, q).detach().numpy(),
                               D.kl_divergence(p, q).detach().numpy(), rtol=1e-9)


def test_a_users_family_uses_the_bregman_pair_and_different_families_raise_as_torch():
    """A family with only θ and F (here Exp(λ) again) gets its KL from the registry."""

    def user_family(lib):
        base = lib_d(lib).ExponentialFamily

        class Rate(base):
            arg_constraints = {}
            _mean_carrier_measure = 0

            def __init__(self, rate):
                self.rate = rate
                super().__init__(rate.shape)

            @property
            def _natural_params(self):
                return (-self.rate,)

            def _log_normalizer(self, x):
                return -(-x).log()

        return Rate

    rates = np.array([0.5, 2.0]), np.array([1.5, 0.7])
    values = []
    for lib in (ffnn, torch):
        family = user_family(lib)
        p, q = (family(lib.tensor(r)) for r in rates)
        values.append(lib_d(lib).kl_divergence(p, q).detach().numpy())
        with pytest.raises(NotImplementedError, match="different exponential families"):
            lib_d(lib).kl_divergence(lib_d(lib).Bernoulli(probs=lib.tensor(0.3)),
                                     lib_d(lib).Beta(lib.tensor(2.0), lib.tensor(1.0)))
    np.testing.assert_allclose(*values, rtol=1e-12)
