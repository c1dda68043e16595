"""StudentT, Binomial, Geometric, Multinomial, RelaxedBernoulli, RelaxedOneHotCategorical,
LowRankMultivariateNormal and MixtureSameFamily against torch.distributions (float64):
log_prob, entropy and moments with parameter gradients; samples and rsample gradients
after the same seed; shapes, expand and validation; torch.binomial's draws."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ffnn
import ffnn.distributions as D
from tests.distributions.common import check_draws_for_the_same_seed, check_shapes_and_expand
from tests.test_distributions import _compare, _leaves, _value

RNG = np.random.default_rng(41)


def _lib_d(lib):
    return torch.distributions if lib is torch else D


def _t(lib, value):
    return _value(np.asarray(value, dtype=np.float64), lib)


def _mixture(lib, w, m, s):
    d = _lib_d(lib)
    return d.MixtureSameFamily(d.Categorical(logits=w), d.Normal(m, s))


def _mixture_mvn(lib, w, m, s):
    d = _lib_d(lib)
    return d.MixtureSameFamily(d.Categorical(logits=w), d.Independent(d.Normal(m, s), 1))


CASES = {
    "student_t": (lambda lib, df, a, b: _lib_d(lib).StudentT(df, a, b),
                  {"df": np.array([0.7, 1.5, 3.0, 8.0]), "a": RNG.standard_normal(4),
                   "b": RNG.uniform(0.5, 2, 4)}, RNG.standard_normal((3, 4)) * 2),
    "binomial_probs": (lambda lib, p: _lib_d(lib).Binomial(_t(lib, [[5.0], [30.0]]), probs=p),
                       {"p": RNG.uniform(0.05, 0.95, (2, 3))},
                       RNG.integers(0, 6, (4, 2, 3)).astype(float)),
    "binomial_logits": (lambda lib, z: _lib_d(lib).Binomial(7, logits=z),
                        {"z": RNG.standard_normal((2, 3))},
                        RNG.integers(0, 8, (4, 2, 3)).astype(float)),
    "geometric_probs": (lambda lib, p: _lib_d(lib).Geometric(probs=p),
                        {"p": RNG.uniform(0.05, 0.95, (2, 3))},
                        RNG.integers(0, 9, (4, 2, 3)).astype(float)),
    "geometric_logits": (lambda lib, z: _lib_d(lib).Geometric(logits=z),
                         {"z": RNG.standard_normal((2, 3))},
                         RNG.integers(0, 9, (4, 2, 3)).astype(float)),
    "multinomial": (lambda lib, p: _lib_d(lib).Multinomial(6, probs=p),
                    {"p": RNG.uniform(0.1, 1, (2, 4))},
                    RNG.multinomial(6, [0.25] * 4, (3, 2)).astype(float)),
    "relaxed_bernoulli": (lambda lib, t, z: _lib_d(lib).RelaxedBernoulli(t, logits=z),
                          {"t": np.array(0.7), "z": RNG.standard_normal((2, 3))},
                          RNG.uniform(0.05, 0.95, (4, 2, 3))),
    "relaxed_one_hot": (lambda lib, t, p: _lib_d(lib).RelaxedOneHotCategorical(t, probs=p),
                        {"t": np.array(0.6), "p": RNG.uniform(0.1, 1, (2, 3))},
                        RNG.dirichlet(np.ones(3), (4, 2))),
    "lowrank_mvn": (lambda lib, m, w, d: _lib_d(lib).LowRankMultivariateNormal(m, w, d),
                    {"m": RNG.standard_normal((2, 3)), "w": RNG.standard_normal((3, 2)),
                     "d": RNG.uniform(0.5, 2, 3)}, RNG.standard_normal((4, 2, 3))),
    "negative_binomial": (lambda lib, r, z: _lib_d(lib).NegativeBinomial(r, logits=z),
                          {"r": RNG.uniform(0.5, 6, (2, 3)), "z": RNG.standard_normal(3)},
                          RNG.integers(0, 12, (4, 2, 3)).astype(float)),
    "negative_binomial_probs": (lambda lib, r, p: _lib_d(lib).NegativeBinomial(r, probs=p),
                                {"r": RNG.uniform(0.5, 6, 3), "p": RNG.uniform(0.05, 0.9, 3)},
                                np.array([[0.0, 3.0, 7.0], [1.0, 0.0, 12.0]])),
    "weibull": (lambda lib, b, k: _lib_d(lib).Weibull(b, k),
                {"b": RNG.uniform(0.5, 2, 3), "k": RNG.uniform(0.5, 3, (2, 3))},
                RNG.uniform(0.05, 4, (4, 2, 3))),
    "pareto": (lambda lib, b, a: _lib_d(lib).Pareto(b, a),
               {"b": RNG.uniform(0.5, 1, 3), "a": RNG.uniform(0.5, 4, (2, 3))},
               RNG.uniform(1.0, 5, (4, 2, 3))),
    "inverse_gamma": (lambda lib, a, b: _lib_d(lib).InverseGamma(a, b),
                      {"a": np.array([0.7, 1.5, 3.0]), "b": RNG.uniform(0.5, 2, 3)},
                      RNG.uniform(0.05, 4, (4, 3))),
    "continuous_bernoulli": (lambda lib, p: _lib_d(lib).ContinuousBernoulli(probs=p),
                             {"p": np.array([[0.1, 0.4995, 0.7], [0.3, 0.5004, 0.95]])},
                             RNG.uniform(0.01, 0.99, (4, 2, 3))),
    "continuous_bernoulli_logits": (lambda lib, z: _lib_d(lib).ContinuousBernoulli(logits=z),
                                    {"z": RNG.standard_normal((2, 3)) * 2},
                                    RNG.uniform(0.01, 0.99, (4, 2, 3))),
    "logistic_normal": (lambda lib, a, b: _lib_d(lib).LogisticNormal(a, b),
                        {"a": RNG.standard_normal((2, 3)), "b": RNG.uniform(0.5, 2, (2, 3))},
                        RNG.dirichlet(np.ones(4), (5, 2))),
    "kumaraswamy": (lambda lib, a, b: _lib_d(lib).Kumaraswamy(a, b),
                    {"a": np.array([0.7, 1.5, 3.0]), "b": RNG.uniform(0.5, 4, (2, 3))},
                    RNG.uniform(0.02, 0.98, (4, 2, 3))),
    "fisher_snedecor": (lambda lib, d1, d2: _lib_d(lib).FisherSnedecor(d1, d2),
                        {"d1": np.array([1.5, 3.0, 8.0]), "d2": np.array([[1.5, 3.0, 9.0],
                                                                          [5.0, 2.5, 4.5]])},
                        RNG.uniform(0.05, 5, (4, 2, 3))),
    "von_mises": (lambda lib, a, k: _lib_d(lib).VonMises(a, k),
                  {"a": RNG.uniform(-3, 3, 3),
                   "k": np.array([[1e-6, 0.5, 3.0], [3.9, 10.0, 80.0]])},
                  RNG.uniform(-3, 3, (4, 2, 3))),

    "mixture": (_mixture, {"w": RNG.standard_normal((2, 3)), "m": RNG.standard_normal((2, 3)),
                           "s": RNG.uniform(0.5, 2, (2, 3))}, RNG.standard_normal((4, 2))),
    "mixture_mvn": (_mixture_mvn, {"w": RNG.standard_normal(3),
                                   "m": RNG.standard_normal((3, 2)),
                                   "s": RNG.uniform(0.5, 2, (3, 2))},
                    RNG.standard_normal((4, 2))),
}
ENTROPY = ["student_t", "binomial_logits", "weibull", "pareto", "inverse_gamma",
           "continuous_bernoulli", "continuous_bernoulli_logits", "kumaraswamy", "geometric_probs",
           "geometric_logits", "multinomial", "lowrank_mvn"]
MOMENTS = {"student_t": ["mean", "variance", "mode"],
           "binomial_probs": ["mean", "variance", "mode"], "binomial_logits": ["mean", "mode"],
           "geometric_probs": ["mean", "variance", "mode"], "geometric_logits": ["variance"],
           "multinomial": ["mean", "variance"],
           "lowrank_mvn": ["mean", "variance", "mode", "covariance_matrix", "scale_tril",
                           "precision_matrix"],
           "negative_binomial": ["mean", "variance", "mode"],
           "negative_binomial_probs": ["mean", "variance", "mode"],
           "weibull": ["mean", "variance", "mode"], "pareto": ["mean", "variance", "mode"],
           "inverse_gamma": ["mean", "variance", "mode"],
           "continuous_bernoulli": ["mean", "variance", "stddev"],
           "continuous_bernoulli_logits": ["mean", "variance"],
           "kumaraswamy": ["mean", "variance", "mode"],
           "fisher_snedecor": ["mean", "variance", "mode"],
           "von_mises": ["mean", "variance", "mode"],
           "mixture": ["mean", "variance"], "mixture_mvn": ["mean", "variance"]}


@pytest.mark.parametrize("case", sorted(CASES))
def test_log_prob_matches_torch(case):
    make, params, value = CASES[case]
    _compare(make, params, lambda d, lib: d.log_prob(_value(value, lib)))


@pytest.mark.parametrize("case", ENTROPY)
def test_entropy_matches_torch(case):
    """StudentT's entropy gradient holds trigammas (torch's good to ~5e-10)."""
    make, params, _ = CASES[case]
    _compare(make, params, lambda d, lib: d.entropy(), rtol=1e-8)


@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")  # Pareto's inf moments
@pytest.mark.parametrize("case, moment", [(c, m) for c, ms in MOMENTS.items() for m in ms])
def test_moments_match_torch(case, moment):
    make, params, _ = CASES[case]
    _compare(make, params, lambda d, lib: getattr(d, moment))


@pytest.mark.parametrize("case", ["mixture", "continuous_bernoulli",
                                  "continuous_bernoulli_logits"])
def test_cdf_matches_torch(case):
    make, params, value = CASES[case]
    _compare(make, params, lambda d, lib: d.cdf(_value(value, lib)))
    if case != "mixture":
        quantiles = RNG.uniform(0.01, 0.99, np.shape(value))
        _compare(make, params, lambda d, lib: d.icdf(_value(quantiles, lib)))


@pytest.mark.parametrize("case", sorted(CASES))
def test_samples_and_rsample_gradients_are_torchs_for_the_same_seed(case):
    make, params, _ = CASES[case]
    check_draws_for_the_same_seed(make, params)


@pytest.mark.parametrize("case", sorted(CASES))
def test_shapes_support_and_expand_match_torch(case):
    make, params, _ = CASES[case]
    check_shapes_and_expand(make, params)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_torch_binomial_draws_are_torchs(dtype):
    """Inversion below n·p = 10, BTRS above, p > ½ by symmetry; float32 arithmetic as torch."""
    n = RNG.integers(0, 300, 2000).astype(dtype)
    p = RNG.uniform(0, 1, 2000).astype(dtype)
    p[:10], p[10:20], p[20] = 0, 1, np.nan
    torch.manual_seed(5)
    theirs = torch.binomial(torch.tensor(n), torch.tensor(p)).numpy(), torch.rand(3).numpy()
    ffnn.manual_seed(5)
    ours = ffnn.binomial(ffnn.tensor(n), ffnn.tensor(p)).numpy(), ffnn.rand(3).numpy()
    for a, b in zip(ours, theirs):
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="floating-point dtypes for count"):
        ffnn.binomial(ffnn.tensor([1, 2]), ffnn.tensor([0.5, 0.5]))


def test_mixture_density_network_step_matches_torch():
    """An MDN head (logits, means, log-scales) trained by -log_prob: the same gradients."""
    x, y = RNG.standard_normal((8, 3)), RNG.standard_normal(8)
    weight = RNG.standard_normal((3, 9)) * 0.5

    def grads(lib):
        w = _leaves({"w": weight}, lib)["w"]
        out = _value(x, lib) @ w
        logits, loc, log_scale = out[:, :3], out[:, 3:6], out[:, 6:]
        d = _lib_d(lib)
        mix = d.MixtureSameFamily(d.Categorical(logits=logits), d.Normal(loc, log_scale.exp()))
        loss = -mix.log_prob(_value(y, lib)).mean()
        loss.backward()
        return loss.item(), w.grad.numpy()

    (ours_loss, ours), (theirs_loss, theirs) = grads(ffnn), grads(torch)
    np.testing.assert_allclose(ours_loss, theirs_loss, rtol=1e-12)
    np.testing.assert_allclose(ours, theirs, rtol=1e-10)


@pytest.mark.parametrize("make, error, match", [
    (lambda lib: _lib_d(lib).StudentT(_t(lib, [-1.0])), ValueError, "df"),
    (lambda lib: _lib_d(lib).StudentT(2.0, 0.0, _t(lib, [0.0])), ValueError, "scale"),
    (lambda lib: _lib_d(lib).Binomial(_t(lib, [2.5]), probs=_t(lib, [0.5])), ValueError,
     "total_count"),
    (lambda lib: _lib_d(lib).Binomial(3, probs=_t(lib, [1.5])), ValueError, "probs"),
    (lambda lib: _lib_d(lib).Binomial(3), ValueError, "Either `probs` or `logits`"),
    (lambda lib: _lib_d(lib).Binomial(3, probs=_t(lib, [0.5])).log_prob(_t(lib, [4.0])),
     ValueError, "support"),
    (lambda lib: _lib_d(lib).Geometric(probs=_t(lib, [0.0, 0.5])), ValueError,
     "to be positive"),
    (lambda lib: _lib_d(lib).Geometric(probs=_t(lib, [0.5])).log_prob(_t(lib, [-1.0])),
     ValueError, "support"),
    (lambda lib: _lib_d(lib).Multinomial(2.5, probs=_t(lib, [0.5, 0.5])),
     NotImplementedError, "inhomogeneous"),
    (lambda lib: _lib_d(lib).Multinomial(2, probs=_t(lib, [0.5, 0.5])).log_prob(
        _t(lib, [2.0, 1.0])), ValueError, "support"),
    (lambda lib: _lib_d(lib).LowRankMultivariateNormal(_t(lib, 1.0), _t(lib, [[1.0]]),
                                                       _t(lib, [1.0])), ValueError,
     "loc must be at least one-dimensional"),
    (lambda lib: _lib_d(lib).LowRankMultivariateNormal(_t(lib, [1.0, 2.0]), _t(lib, [1.0]),
                                                       _t(lib, [1.0, 1.0])), ValueError,
     "cov_factor must be at least two-dimensional"),
    (lambda lib: _lib_d(lib).LowRankMultivariateNormal(_t(lib, [1.0, 2.0]),
                                                       _t(lib, [[1.0], [1.0]]),
                                                       _t(lib, [1.0, -1.0])), ValueError,
     "cov_diag"),
    (lambda lib: _lib_d(lib).MixtureSameFamily(_lib_d(lib).Normal(0.0, 1.0),
                                               _lib_d(lib).Normal(_t(lib, [0.0]), 1.0)),
     ValueError, "Categorical"),
    (lambda lib: _lib_d(lib).MixtureSameFamily(_lib_d(lib).Categorical(logits=_t(lib, [0, 0])),
                                               _lib_d(lib).Normal(_t(lib, [0.0] * 3), 1.0)),
     ValueError, "does not equal"),
    (lambda lib: _lib_d(lib).RelaxedBernoulli(_t(lib, 1.0), probs=_t(lib, [2.0])), ValueError,
     "probs"),
])
def test_invalid_arguments_raise_as_torch(make, error, match):
    for lib in (torch, ffnn):
        with pytest.raises(error, match=match):
            make(lib)


def test_binomial_entropy_needs_one_total_count_as_torch():
    for lib in (torch, ffnn):
        d = _lib_d(lib).Binomial(_t(lib, [2.0, 3.0]), probs=_t(lib, [0.5, 0.5]))
        with pytest.raises(NotImplementedError, match="Inhomogeneous total count"):
            d.entropy()


GPD = (lambda lib, a, b, c: _lib_d(lib).GeneralizedPareto(a, b, c),
       {"a": RNG.standard_normal(3), "b": RNG.uniform(0.5, 2, 3),
        "c": np.array([[-0.3, 0.0, 0.4], [0.2, 0.7, -0.1]])})


@pytest.mark.parametrize("what", ["mean", "variance", "mode", "entropy", "icdf", "sample"])
def test_generalized_pareto_matches_torch(what):
    make, params = GPD
    if what == "sample":
        check_draws_for_the_same_seed(make, params)
        return
    quantiles = RNG.uniform(0.01, 0.99, (4, 2, 3))
    _compare(make, params, lambda d, lib: d.icdf(_value(quantiles, lib)) if what == "icdf"
             else d.entropy() if what == "entropy" else getattr(d, what))


@pytest.mark.parametrize("what", ["log_prob", "cdf", "log_survival_function"])
def test_generalized_pareto_densities_match_torchs_float32(what):
    """torch's log_prob and cdf raise for float64 parameters (its isclose against a float32
    zero), so they are compared in float32."""
    make, params = GPD
    value = params["a"] + RNG.uniform(0.01, 1.0, (4, 2, 3))
    ours = getattr(make(ffnn, **{k: ffnn.tensor(v, dtype=ffnn.float32)
                                 for k, v in params.items()}), what)(
        ffnn.tensor(value, dtype=ffnn.float32))
    theirs = getattr(make(torch, **{k: torch.tensor(v, dtype=torch.float32)
                                    for k, v in params.items()}), what)(
        torch.tensor(value, dtype=torch.float32))
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=2e-6, atol=1e-6)


def _lkj_value(batch=(2,)):
    """Valid correlation Cholesky factors (of random correlation matrices)."""
    a = RNG.standard_normal(batch + (3, 5))
    cov = a @ np.swapaxes(a, -1, -2) + 0.5 * np.eye(3)
    d = np.sqrt(np.diagonal(cov, axis1=-2, axis2=-1))
    return np.linalg.cholesky(cov / d[..., :, None] / d[..., None, :])


def test_lkj_cholesky_matches_torch():
    """log_prob with its gradient in η; torch's samples for the same seed (Beta draws, then
    normals); shapes and expand."""
    def make(lib, eta):
        return _lib_d(lib).LKJCholesky(3, eta)

    params, value = {"eta": np.array([0.5, 2.0])}, _lkj_value()
    _compare(make, params, lambda d, lib: d.log_prob(_value(value, lib)))
    check_draws_for_the_same_seed(make, params)
    check_shapes_and_expand(make, params)
    for lib in (torch, ffnn):
        with pytest.raises(ValueError, match="dim to be an integer greater than or equal to 2"):
            _lib_d(lib).LKJCholesky(1, 1.0)


def _spd(batch=(2,)):
    a = RNG.standard_normal(batch + (3, 5))
    return a @ np.swapaxes(a, -1, -2) + np.eye(3)


WISHART = {
    "covariance": (lambda lib, df, m: _lib_d(lib).Wishart(df, covariance_matrix=m)),
    "precision": (lambda lib, df, m: _lib_d(lib).Wishart(df, precision_matrix=m)),
    "scale_tril": (lambda lib, df, m: _lib_d(lib).Wishart(df, scale_tril=m)),
}


@pytest.mark.filterwarnings("ignore:Singular sample detected")  # torch's, on every rsample
@pytest.mark.parametrize("kind", sorted(WISHART))
def test_wishart_matches_torch(kind):
    """log_prob, entropy and moments with gradients in ν and the matrix; torch's samples for
    the same seed (its second Bartlett draw, see Wishart.rsample); shapes and expand."""
    make = WISHART[kind]
    m = _spd() if kind != "scale_tril" else np.linalg.cholesky(_spd())
    params = {"df": np.array([4.5, 7.0]), "m": m}
    value = _spd((3, 2))
    _compare(make, params, lambda d, lib: d.log_prob(_value(value, lib)))
    _compare(make, params, lambda d, lib: d.entropy(), rtol=1e-8)  # trigammas in the gradient
    for moment in ("mean", "variance", "mode"):
        _compare(make, params, lambda d, lib, moment=moment: getattr(d, moment))
    check_draws_for_the_same_seed(make, params, rtol=1e-11, gradients=False)
    check_shapes_and_expand(make, params)


@pytest.mark.filterwarnings("ignore:Singular sample detected")
def test_wishart_rsample_is_differentiable_where_torchs_backward_fails():
    """torch's rsample rewrites its redraw mask in place after indexing with it, so its
    backward raises; ffnn's gradients reach ν (implicit χ² gradients) and Σ."""
    params = {"df": np.array([4.5, 7.0]), "m": _spd()}
    torch.manual_seed(0)
    theirs = WISHART["covariance"](torch, *_leaves(params, torch).values()).rsample((2,))
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        theirs.sum().backward()
    leaves = _leaves(params, ffnn)
    WISHART["covariance"](ffnn, *leaves.values()).rsample((2,)).sum().backward()
    assert all(np.isfinite(leaf.grad.numpy()).all() for leaf in leaves.values())


def test_wishart_refuses_what_torch_refuses():
    for lib in (torch, ffnn):
        eye = lib.eye(3, dtype=lib.float64)
        with pytest.raises(ValueError, match="expected to be greater than ndim - 1"):
            _lib_d(lib).Wishart(lib.tensor([2.0, 5.0], dtype=lib.float64), covariance_matrix=eye)
        with pytest.raises(AssertionError, match="Exactly one of"):
            _lib_d(lib).Wishart(5.0, covariance_matrix=eye, scale_tril=eye)
        with pytest.warns(UserWarning, match="Low df values detected"):
            _lib_d(lib).Wishart(2.5, covariance_matrix=eye)


def test_one_hot_straight_through_matches_torch():
    """rsample: torch's one-hot draws for the same seed, carrying the probabilities' gradient."""
    def make(lib, z):
        return _lib_d(lib).OneHotCategoricalStraightThrough(logits=z)

    params = {"z": RNG.standard_normal((2, 4))}
    check_draws_for_the_same_seed(make, params)
    check_shapes_and_expand(make, params)


def test_positive_semidefinite_constraint_and_transform_match_torch():
    m = RNG.standard_normal((2, 3, 3))
    singular = np.array([[1.0, 1.0], [1.0, 1.0]])
    for lib in (ffnn, torch):
        c = _lib_d(lib).constraints.positive_semidefinite
        assert c.check(lib.tensor(singular)).item() and not c.check(-lib.tensor(singular)).item()
    _compare(lambda lib, m: m, {"m": m}, lambda m, lib: _lib_d(lib).transform_to(
        _lib_d(lib).constraints.positive_semidefinite)(m))
