"""kl_divergence for the pairs torch registers among ffnn's distributions beyond the
same-family ones of tests/test_distributions.py: values (finite or inf, as torch's) and the
gradients of both distributions' parameters, float64; every pair torch has whose families
ffnn has is registered."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ffnn
import ffnn.distributions as D
from ffnn.distributions.kl import _KL_REGISTRY
from tests.distributions.common import lib_d
from tests.test_distributions import _compare, _value

R = np.random.default_rng(51)
S = 3  # batch size of every distribution


def _pos(low=0.5, high=2.0):
    return R.uniform(low, high, S)


def _lowrank(lib, m, w, d):
    return lib_d(lib).LowRankMultivariateNormal(m, w, d)


def _binomial(lib, p):
    return lib_d(lib).Binomial(_value(np.full(S, 6.0), lib), probs=p)


FAMILIES = {  # name: (make(lib, **params), a function giving fresh parameters)
    "bernoulli": (lambda lib, p: lib_d(lib).Bernoulli(probs=p), lambda: {"p": _pos(0.1, 0.9)}),
    "beta": (lambda lib, a, b: lib_d(lib).Beta(a, b), lambda: {"a": _pos(), "b": _pos()}),
    "binomial": (_binomial, lambda: {"p": _pos(0.1, 0.9)}),
    "cauchy": (lambda lib, a, b: lib_d(lib).Cauchy(a, b),
               lambda: {"a": R.standard_normal(S), "b": _pos()}),
    "continuous_bernoulli": (lambda lib, p: lib_d(lib).ContinuousBernoulli(probs=p),
                             lambda: {"p": np.array([0.2, 0.4996, 0.8])}),
    "dirichlet": (lambda lib, a: lib_d(lib).Dirichlet(a),
                  lambda: {"a": R.uniform(0.5, 3, (S, 4))}),
    "exponential": (lambda lib, r: lib_d(lib).Exponential(r), lambda: {"r": _pos()}),
    "gamma": (lambda lib, a, b: lib_d(lib).Gamma(a, b), lambda: {"a": _pos(), "b": _pos()}),
    "geometric": (lambda lib, p: lib_d(lib).Geometric(probs=p), lambda: {"p": _pos(0.1, 0.9)}),
    "gumbel": (lambda lib, a, b: lib_d(lib).Gumbel(a, b),
               lambda: {"a": R.standard_normal(S), "b": _pos()}),
    "half_normal": (lambda lib, b: lib_d(lib).HalfNormal(b), lambda: {"b": _pos()}),
    "laplace": (lambda lib, a, b: lib_d(lib).Laplace(a, b),
                lambda: {"a": R.standard_normal(S), "b": _pos()}),
    "log_normal": (lambda lib, a, b: lib_d(lib).LogNormal(a, b),
                   lambda: {"a": R.standard_normal(S), "b": _pos()}),
    "lowrank": (_lowrank, lambda: {"m": R.standard_normal((S, 3)),
                                   "w": R.standard_normal((3, 2)), "d": _pos()}),
    "mvn": (lambda lib, m, c: lib_d(lib).MultivariateNormal(m, covariance_matrix=c),
            lambda: {"m": R.standard_normal(3),
                     "c": (lambda a: a @ a.T + np.eye(3))(R.standard_normal((3, 3)))}),
    "normal": (lambda lib, a, b: lib_d(lib).Normal(a, b),
               lambda: {"a": R.standard_normal(S), "b": _pos()}),
    "pareto": (lambda lib, b, a: lib_d(lib).Pareto(b, a),
               lambda: {"b": R.uniform(0.5, 1, S), "a": R.uniform(0.5, 4, S)}),
    "poisson": (lambda lib, r: lib_d(lib).Poisson(r), lambda: {"r": _pos(0.5, 5)}),
    "uniform": (lambda lib, a, b: lib_d(lib).Uniform(a, b),
                lambda: {"a": R.uniform(0.05, 0.3, S), "b": R.uniform(0.6, 0.95, S)}),
}
PAIRS = [
    ("beta", "beta"), ("binomial", "binomial"), ("cauchy", "cauchy"),
    ("dirichlet", "dirichlet"), ("gamma", "gamma"), ("geometric", "geometric"),
    ("gumbel", "gumbel"), ("half_normal", "half_normal"), ("poisson", "poisson"),
    ("log_normal", "log_normal"), ("lowrank", "lowrank"), ("mvn", "lowrank"),
    ("lowrank", "mvn"), ("bernoulli", "poisson"), ("beta", "exponential"), ("beta", "gamma"),
    ("beta", "normal"), ("beta", "uniform"), ("exponential", "beta"),
    ("exponential", "uniform"), ("exponential", "gamma"), ("exponential", "gumbel"),
    ("exponential", "normal"), ("gamma", "beta"), ("gamma", "uniform"),
    ("gamma", "exponential"), ("gamma", "gumbel"), ("gamma", "normal"), ("gumbel", "beta"),
    ("gumbel", "exponential"), ("gumbel", "gamma"), ("gumbel", "uniform"),
    ("gumbel", "normal"), ("laplace", "beta"), ("laplace", "exponential"),
    ("laplace", "gamma"), ("laplace", "uniform"), ("laplace", "normal"), ("normal", "beta"),
    ("normal", "exponential"), ("normal", "gamma"), ("normal", "uniform"),
    ("normal", "gumbel"), ("normal", "laplace"), ("poisson", "bernoulli"),
    ("poisson", "binomial"), ("uniform", "beta"), ("uniform", "exponential"),
    ("uniform", "gamma"), ("uniform", "gumbel"), ("uniform", "normal"), ("pareto", "pareto"),
    ("beta", "pareto"), ("exponential", "pareto"), ("gamma", "pareto"), ("gumbel", "pareto"),
    ("laplace", "pareto"), ("normal", "pareto"), ("pareto", "beta"), ("pareto", "uniform"),
    ("pareto", "exponential"), ("pareto", "gamma"), ("pareto", "normal"),
    ("uniform", "pareto"), ("continuous_bernoulli", "continuous_bernoulli"),
    ("beta", "continuous_bernoulli"), ("uniform", "continuous_bernoulli"),
    ("continuous_bernoulli", "exponential"), ("continuous_bernoulli", "normal"),
    ("continuous_bernoulli", "uniform"), ("continuous_bernoulli", "pareto"),
    ("exponential", "continuous_bernoulli"), ("gamma", "continuous_bernoulli"),
    ("pareto", "continuous_bernoulli"), ("gumbel", "continuous_bernoulli"),
    ("laplace", "continuous_bernoulli"), ("normal", "continuous_bernoulli"),
]


def _kl_of(name_p: str, name_q: str, params_p: dict, params_q: dict):
    make_p, make_q = FAMILIES[name_p][0], FAMILIES[name_q][0]

    def make(lib, **leaves):
        p = make_p(lib, **{k[2:]: v for k, v in leaves.items() if k.startswith("p_")})
        q = make_q(lib, **{k[2:]: v for k, v in leaves.items() if k.startswith("q_")})
        return p, q

    both = {**{f"p_{k}": v for k, v in params_p.items()},
            **{f"q_{k}": v for k, v in params_q.items()}}
    return make, both


@pytest.mark.parametrize("name_p, name_q", PAIRS)
def test_kl_matches_torch(name_p, name_q):
    """Trigamma-free closed forms: torch's values and gradients to 1e-10 (Beta/Dirichlet/
    Gamma/Geometric entropies hold digammas, equal to ~1e-14)."""
    make, both = _kl_of(name_p, name_q, FAMILIES[name_p][1](), FAMILIES[name_q][1]())
    _compare(make, both, lambda pq, lib: lib_d(lib).kl_divergence(*pq), rtol=1e-9)


@pytest.mark.parametrize("name_p, name_q, params_p, params_q", [
    ("uniform", "beta", {"a": np.array([-0.5, 0.1, 0.2]), "b": np.array([0.5, 1.5, 0.9])},
     {"a": _pos(), "b": _pos()}),
    ("uniform", "exponential", {"a": np.array([-0.5, 0.1, 0.0]), "b": np.array([1.0] * 3)},
     {"r": _pos()}),
    ("uniform", "gamma", {"a": np.array([-0.5, 0.1, 0.0]), "b": np.array([1.0] * 3)},
     {"a": _pos(), "b": _pos()}),
    ("beta", "uniform", {"a": _pos(), "b": _pos()},
     {"a": np.array([-0.5, 0.1, 0.0]), "b": np.array([1.0, 1.0, 0.9])}),
])
def test_kl_is_inf_where_the_supports_do_not_nest_as_torch(name_p, name_q, params_p,
                                                              params_q):
    make, both = _kl_of(name_p, name_q, params_p, params_q)
    _compare(make, both, lambda pq, lib: lib_d(lib).kl_divergence(*pq), rtol=1e-9)


def test_every_torch_pair_among_ffnn_families_is_registered():
    ours = {(p.__name__, q.__name__) for p, q in _KL_REGISTRY}
    for p, q in torch.distributions.kl._KL_REGISTRY:
        if hasattr(D, p.__name__) and hasattr(D, q.__name__):
            assert (p.__name__, q.__name__) in ours


def test_binomial_kl_with_a_larger_q_count_raises_as_torch():
    for lib in (torch, ffnn):
        d = lib_d(lib)
        p = d.Binomial(lib.tensor([2.0]), probs=lib.tensor([0.5]))
        q = d.Binomial(lib.tensor([3.0]), probs=lib.tensor([0.5]))
        with pytest.raises(NotImplementedError, match="q.total_count > p.total_count"):
            d.kl_divergence(p, q)
