"""TransformedDistribution, the transforms and the families torch builds from them (LogNormal,
Gumbel, HalfNormal, HalfCauchy) and Cauchy, against torch.distributions (float64): values
and parameter gradients of log_prob, cdf/icdf, entropy and moments; transforms' values,
inverses, log|det J|, domains, shapes and caching; rsample gradients for torch's noise after
the same seed; validation."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ffnn
import ffnn.distributions as D
from tests.distributions.common import check_draws_for_the_same_seed, check_shapes_and_expand
from tests.test_distributions import _compare, _leaves, _value

RNG = np.random.default_rng(31)


def _lib_d(lib):
    return torch.distributions if lib is torch else D


def _tf(lib):
    return torch.distributions.transforms if lib is torch else D.transforms


LOC, SCALE = RNG.standard_normal((2, 3)), RNG.uniform(0.4, 2, 3)
CASES = {
    "log_normal": (lambda lib, a, b: _lib_d(lib).LogNormal(a, b), {"a": LOC, "b": SCALE},
                   RNG.uniform(0.05, 5, (4, 2, 3))),
    "gumbel": (lambda lib, a, b: _lib_d(lib).Gumbel(a, b), {"a": LOC, "b": SCALE},
               RNG.standard_normal((4, 2, 3)) * 2),
    "half_normal": (lambda lib, b: _lib_d(lib).HalfNormal(b), {"b": SCALE},
                    RNG.uniform(0, 4, (4, 3))),
    "half_cauchy": (lambda lib, b: _lib_d(lib).HalfCauchy(b), {"b": SCALE},
                    RNG.uniform(0, 4, (4, 3))),
    "cauchy": (lambda lib, a, b: _lib_d(lib).Cauchy(a, b), {"a": LOC, "b": SCALE},
               RNG.standard_normal((4, 2, 3)) * 3),
    "sigmoid_normal": (lambda lib, a, b: _lib_d(lib).TransformedDistribution(
        _lib_d(lib).Normal(a, b), [_tf(lib).SigmoidTransform()]), {"a": LOC, "b": SCALE},
        RNG.uniform(0.02, 0.98, (4, 2, 3))),
    "tanh_affine_normal": (lambda lib, a, b: _lib_d(lib).TransformedDistribution(
        _lib_d(lib).Normal(a, b), [_tf(lib).TanhTransform(),
                                   _tf(lib).AffineTransform(1.0, b * 2)]),
        {"a": LOC, "b": SCALE}, RNG.uniform(0.2, 1.8, (4, 2, 3))),
    "power_exp_normal": (lambda lib, a, b: _lib_d(lib).TransformedDistribution(
        _lib_d(lib).Normal(a, b), _tf(lib).ComposeTransform(
            [_tf(lib).ExpTransform(), _tf(lib).PowerTransform(b)])), {"a": LOC, "b": SCALE},
        RNG.uniform(0.1, 3, (4, 2, 3))),
    "affine_event_mvn": (lambda lib, a, b: _lib_d(lib).TransformedDistribution(
        _lib_d(lib).Independent(_lib_d(lib).Normal(a, b), 1),
        _tf(lib).AffineTransform(a, b, event_dim=1)), {"a": LOC, "b": SCALE},
        RNG.standard_normal((4, 2, 3))),
    "softmax_normal": (lambda lib, a, b: _lib_d(lib).TransformedDistribution(
        _lib_d(lib).Normal(a, b), _tf(lib).ExpTransform().inv.inv), {"a": LOC, "b": SCALE},
        RNG.uniform(0.1, 3, (4, 2, 3))),
}
CDF = ["log_normal", "half_normal", "half_cauchy", "cauchy", "sigmoid_normal",
       "tanh_affine_normal"]
MOMENTS = {"log_normal": ["mean", "variance", "stddev", "mode"],
           "gumbel": ["mean", "variance", "stddev", "mode"],
           "half_normal": ["mean", "variance", "stddev", "mode"],
           "half_cauchy": ["mean", "variance", "mode"], "cauchy": ["mean", "variance", "mode"]}
ENTROPY = ["log_normal", "gumbel", "half_normal", "half_cauchy", "cauchy"]


@pytest.mark.parametrize("case", sorted(CASES))
def test_log_prob_matches_torch(case):
    make, params, value = CASES[case]
    _compare(make, params, lambda d, lib: d.log_prob(_value(value, lib)))


@pytest.mark.parametrize("case", CDF)
def test_cdf_and_icdf_match_torch(case):
    make, params, value = CASES[case]
    _compare(make, params, lambda d, lib: d.cdf(_value(value, lib)))
    quantiles = RNG.uniform(0.02, 0.98, np.shape(value))
    _compare(make, params, lambda d, lib: d.icdf(_value(quantiles, lib)))


@pytest.mark.parametrize("case", ENTROPY)
def test_entropy_matches_torch(case):
    make, params, _ = CASES[case]
    _compare(make, params, lambda d, lib: d.entropy())


@pytest.mark.parametrize("case, moment", [(c, m) for c, ms in MOMENTS.items() for m in ms])
def test_moments_match_torch(case, moment):
    make, params, _ = CASES[case]
    _compare(make, params, lambda d, lib: getattr(d, moment))


@pytest.mark.parametrize("case", sorted(CASES))
def test_rsample_and_sample_are_torchs_for_the_same_seed(case):
    make, params, _ = CASES[case]
    check_draws_for_the_same_seed(make, params)


@pytest.mark.parametrize("case", sorted(CASES))
def test_shapes_support_and_expand_match_torch(case):
    make, params, _ = CASES[case]
    check_shapes_and_expand(make, params)


def _float64(tf, value: float):
    """A float64 0-d tensor of the library of ``tf``. (A number becomes a float32 exponent
    in both libraries; torch then computes the gradient's p - 1 in float32, ffnn in
    float64, ~1e-8 apart.)"""
    return torch.tensor(value, dtype=torch.float64) if tf is _tf(torch) else \
        ffnn.tensor(value, dtype=ffnn.float64)


TRANSFORMS = {
    "exp": (lambda tf: tf.ExpTransform(), RNG.standard_normal((3, 4))),
    "sigmoid": (lambda tf: tf.SigmoidTransform(), RNG.standard_normal((3, 4)) * 3),
    "tanh": (lambda tf: tf.TanhTransform(), RNG.standard_normal((3, 4)) * 2),
    "power": (lambda tf: tf.PowerTransform(_float64(tf, 2.5)), RNG.uniform(0.1, 3, (3, 4))),
    "affine": (lambda tf: tf.AffineTransform(0.5, -2.0), RNG.standard_normal((3, 4))),
    "affine_event": (lambda tf: tf.AffineTransform(1.0, 3.0, event_dim=1),
                     RNG.standard_normal((3, 4))),
    "compose": (lambda tf: tf.ComposeTransform([tf.AffineTransform(0.0, 2.0),
                                                tf.SigmoidTransform(), tf.ExpTransform().inv]),
                RNG.standard_normal((3, 4))),
    "inverse_exp": (lambda tf: tf.ExpTransform().inv, RNG.uniform(0.1, 3, (3, 4))),
    "softplus": (lambda tf: tf.SoftplusTransform(), RNG.standard_normal((3, 4)) * 3),
    "stick_breaking": (lambda tf: tf.StickBreakingTransform(), RNG.standard_normal((3, 4))),
    "reshape": (lambda tf: tf.ReshapeTransform((4,), (2, 2)), RNG.standard_normal((3, 4))),
    "independent_exp": (lambda tf: tf.IndependentTransform(tf.ExpTransform(), 1),
                        RNG.standard_normal((3, 4))),
    "cat": (lambda tf: tf.CatTransform([tf.ExpTransform(), tf.identity_transform,
                                        tf.SigmoidTransform()], dim=1, lengths=[2, 1, 1]),
            RNG.standard_normal((3, 4))),
    "stack": (lambda tf: tf.StackTransform([tf.ExpTransform(), tf.TanhTransform(),
                                            tf.AffineTransform(1.0, 2.0)], dim=0),
              RNG.standard_normal((3, 4))),
    "corr_cholesky": (lambda tf: tf.CorrCholeskyTransform(), RNG.standard_normal((3, 6))),
    "normal_cdf": (lambda tf: tf.CumulativeDistributionTransform(
        (D if tf is D.transforms else torch.distributions).Normal(0.5, 2.0)),
        RNG.standard_normal((3, 4))),
}


@pytest.mark.parametrize("name", sorted(TRANSFORMS))
def test_transforms_match_torch(name):
    """y, x = f⁻¹(y), log|det J| and their gradients; domain, codomain, sign, event_dim."""
    make, x = TRANSFORMS[name]
    ours, theirs = make(D.transforms), make(torch.distributions.transforms)
    for attr in ("domain", "codomain"):
        assert repr(getattr(ours, attr)) == repr(getattr(theirs, attr))
    assert ours.bijective == theirs.bijective
    for attr in ("event_dim", "sign"):  # a value, or the same error (reshape, stick-breaking)
        try:
            expected = float(getattr(theirs, attr))
        except (ValueError, NotImplementedError) as error:
            with pytest.raises(type(error)):
                getattr(ours, attr)
        else:
            assert float(getattr(ours, attr)) == expected
    _compare(lambda lib, x: x, {"x": x}, lambda x, lib: (make(_tf(lib))(x) * 1.5).sum(-1))
    _compare(lambda lib, x: x, {"x": x},
             lambda x, lib: make(_tf(lib)).log_abs_det_jacobian(x, make(_tf(lib))(x)))
    y = make(D.transforms)(ffnn.tensor(x)).numpy()
    _compare(lambda lib, y: y, {"y": y}, lambda y, lib: make(_tf(lib)).inv(y))
    assert tuple(ours.forward_shape(x.shape)) == tuple(theirs.forward_shape(x.shape))
    assert tuple(ours.inverse_shape(y.shape)) == tuple(theirs.inverse_shape(y.shape))


@pytest.mark.parametrize("name", ["SoftmaxTransform", "AbsTransform"])
def test_softmax_and_abs_transforms_match_torch(name):  # not bijective: no sign
    x = RNG.standard_normal((3, 4))
    _compare(lambda lib, x: x, {"x": x}, lambda x, lib: getattr(_tf(lib), name)()(x) * 2)
    _compare(lambda lib, x: x, {"x": np.abs(x)},
             lambda x, lib: getattr(_tf(lib), name)().inv(x))
    ours, theirs = getattr(D.transforms, name)(), getattr(_tf(torch), name)()
    assert repr(ours.codomain) == repr(theirs.codomain)
    assert ours.bijective == theirs.bijective is False


@pytest.mark.parametrize("name", ["LowerCholeskyTransform", "PositiveDefiniteTransform"])
def test_matrix_transforms_match_torch(name):
    """Neither has a log|det J| (torch's raise NotImplementedError, as ffnn's)."""
    x = RNG.standard_normal((2, 3, 3))
    _compare(lambda lib, x: x, {"x": x}, lambda x, lib: getattr(_tf(lib), name)()(x))
    y = getattr(D.transforms, name)()(ffnn.tensor(x)).numpy()
    _compare(lambda lib, y: y, {"y": y}, lambda y, lib: getattr(_tf(lib), name)().inv(y))
    assert repr(getattr(D.transforms, name)().codomain) == \
        repr(getattr(_tf(torch), name)().codomain)
    with pytest.raises(NotImplementedError):
        getattr(D.transforms, name)().log_abs_det_jacobian(ffnn.tensor(x), ffnn.tensor(y))


def test_a_logistic_normal_built_from_stick_breaking_matches_torch():
    """Normal → StickBreakingTransform: a distribution on the simplex with event (K,) from a
    base event of K - 1 entries (torch's LogisticNormal construction)."""
    def make(lib, a, b):
        base = _lib_d(lib).Independent(_lib_d(lib).Normal(a, b), 1)
        return _lib_d(lib).TransformedDistribution(base, _tf(lib).StickBreakingTransform())

    params = {"a": RNG.standard_normal((2, 3)), "b": RNG.uniform(0.5, 2, (2, 3))}
    value = RNG.dirichlet(np.ones(4), (5, 2))
    _compare(make, params, lambda d, lib: d.log_prob(_value(value, lib)))
    check_shapes_and_expand(make, params)
    check_draws_for_the_same_seed(make, params)


def test_reshape_transform_refuses_other_shapes_as_torch():
    for tf in (D.transforms, _tf(torch)):
        with pytest.raises(ValueError, match="different numbers of elements"):
            tf.ReshapeTransform((4,), (3,))
        with pytest.raises(ValueError, match="Shape mismatch"):
            tf.ReshapeTransform((4,), (2, 2)).forward_shape((3, 5))


def test_cache_returns_the_same_tensor_and_transforms_compare_as_torch():
    tf = D.transforms
    x = ffnn.tensor([0.5, -1.0], requires_grad=True)
    cached = tf.SigmoidTransform(cache_size=1)
    y = cached(x)
    assert cached(x) is y and cached.inv(y) is x
    assert tf.SigmoidTransform()(x) is not tf.SigmoidTransform()(x)
    assert tf.ExpTransform() == tf.ExpTransform() and tf.ExpTransform() != tf.TanhTransform()
    assert tf.ExpTransform().inv == tf.ExpTransform().inv
    assert tf.AffineTransform(1.0, 2.0) == tf.AffineTransform(1.0, 2.0)
    assert tf.AffineTransform(1.0, 2.0) != tf.AffineTransform(1.0, 3.0)
    compose = tf.ComposeTransform([tf.ExpTransform(), tf.AffineTransform(0.0, -1.0)])
    assert compose.sign == -1 and compose.inv.inv is compose
    assert tf.identity_transform(x) is x
    with pytest.raises(ValueError, match="cache_size must be 0 or 1"):
        tf.ExpTransform(cache_size=2)
    assert repr(tf.ExpTransform().inv) == repr(torch.distributions.ExpTransform().inv)


def test_decreasing_transforms_flip_the_cdf_as_torch():
    make = CASES["gumbel"][0]
    value = np.array([[-1.0, 0.5, 2.0]])
    params = {"a": LOC, "b": SCALE}
    _compare(make, params, lambda d, lib: d.cdf(_value(value, lib)))


@pytest.mark.parametrize("make, match", [
    (lambda lib: _lib_d(lib).LogNormal(0.0, -1.0), "scale"),
    (lambda lib: _lib_d(lib).HalfNormal(lib.tensor([0.0])), "scale"),
    (lambda lib: _lib_d(lib).HalfCauchy(-1.0), "scale"),
    (lambda lib: _lib_d(lib).Cauchy(0.0, 0.0), "scale"),
    (lambda lib: _lib_d(lib).Gumbel(lib.tensor([0.0]), lib.tensor([-2.0])), "scale"),
    (lambda lib: _lib_d(lib).LogNormal(0.0, 1.0).log_prob(lib.tensor(-1.0)), "support"),
    (lambda lib: _lib_d(lib).HalfNormal(1.0).log_prob(lib.tensor(-1.0)), "support"),
    (lambda lib: _lib_d(lib).TransformedDistribution(_lib_d(lib).Normal(0.0, 1.0), 3),
     "transforms must be"),
    (lambda lib: _lib_d(lib).TransformedDistribution(_lib_d(lib).Normal(0.0, 1.0), [3]),
     "transforms must be"),
    (lambda lib: _lib_d(lib).TransformedDistribution(_lib_d(lib).Normal(0.0, 1.0),
                                                     _tf(lib).SoftmaxTransform()),
     "base_distribution needs"),
])
def test_invalid_arguments_raise_as_torch(make, match):
    for lib in (torch, ffnn):
        with pytest.raises(ValueError, match=match):
            make(lib)


def test_half_normal_log_prob_below_zero_is_minus_inf_without_validation():
    for lib in (ffnn, torch):
        d = _lib_d(lib).HalfNormal(lib.tensor([1.0, 2.0]), validate_args=False)
        assert np.isneginf(d.log_prob(lib.tensor([-1.0, 1.0])).detach().numpy()[0])


def test_sac_tanh_policy_log_prob_of_its_rsample_matches_torch():
    """SAC's squashed Gaussian: a = tanh(μ + σε) with a cached TanhTransform, so log_prob(a)
    inverts by the cache (no atanh of ±1); the actor loss α·log π(a) - Q(a) and its
    gradients to μ and log σ are torch's for the same seed."""
    mu, log_std = RNG.standard_normal((4, 2)), RNG.standard_normal((4, 2)) * 0.5

    def actor(lib):
        leaves = _leaves({"mu": mu, "log_std": log_std}, lib)
        d = _lib_d(lib)
        policy = d.TransformedDistribution(d.Normal(leaves["mu"], leaves["log_std"].exp()),
                                           [_tf(lib).TanhTransform(cache_size=1)])
        lib.manual_seed(3)
        action = policy.rsample()
        log_pi = policy.log_prob(action).sum(-1)
        loss = (0.2 * log_pi - action.pow(2).sum(-1)).mean()
        loss.backward()
        return loss.item(), leaves["mu"].grad.numpy(), leaves["log_std"].grad.numpy()

    for ours, theirs in zip(actor(ffnn), actor(torch)):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12)
