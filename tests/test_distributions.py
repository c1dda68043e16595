"""ffnn.distributions against torch.distributions (float64): values and parameter gradients
of log_prob, entropy, moments, cdf/icdf and kl_divergence on the same parameters; shapes;
reparameterised gradients for the same noise; argument validation; sample statistics with
wide margins; a VAE step and a REINFORCE gradient."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import ffnn
import ffnn.distributions as D
from tests.helpers import assert_close

RNG = np.random.default_rng(7)


def _lower(n: int, batch=()) -> np.ndarray:
    """Lower-triangular matrices with a positive diagonal."""
    a = np.tril(RNG.standard_normal(batch + (n, n)) * 0.5)
    idx = np.arange(n)
    a[..., idx, idx] = 0.5 + np.abs(a[..., idx, idx])
    return a


def _spd(n: int, batch=()) -> np.ndarray:
    lower = _lower(n, batch)
    return lower @ np.swapaxes(lower, -2, -1) + 0.1 * np.eye(n)


def _leaves(params: dict, lib) -> dict:
    """Float arrays → grad-requiring float64 leaves of ``lib``; others → constants."""
    out = {}
    for name, a in params.items():
        a = np.asarray(a)
        grad = a.dtype.kind == "f"
        if lib is torch:
            out[name] = torch.tensor(a, requires_grad=grad)
        else:
            out[name] = ffnn.tensor(a, requires_grad=grad)
    return out


def _value(array, lib):
    array = np.asarray(array)
    return torch.tensor(array) if lib is torch else ffnn.tensor(array)


def _assert_same(actual, expected, what: str = "value", rtol: float = 1e-10) -> None:
    """Equal shapes, the same inf/NaN entries, and close finite entries."""
    actual, expected = np.asarray(actual), np.asarray(expected)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape}"
    finite = np.isfinite(expected)
    np.testing.assert_array_equal(actual[~finite], expected[~finite], err_msg=what)
    assert_close(actual[finite], expected[finite], rtol=rtol, what=what)


def _compare(make, params: dict, fn, grad: bool = True, rtol: float = 1e-10) -> None:
    """``fn(make(lib, **leaves), lib)`` in both libraries: equal values and, when the result
    has a graph, equal gradients of every parameter for a fixed upstream gradient."""
    ours_in, theirs_in = _leaves(params, ffnn), _leaves(params, torch)
    ours = fn(make(ffnn, **ours_in), ffnn)
    theirs = fn(make(torch, **theirs_in), torch)
    _assert_same(ours.detach().numpy(), theirs.detach().numpy(), "value", rtol)
    if not grad or not theirs.requires_grad:
        return
    w = np.random.default_rng(3).standard_normal(tuple(theirs.shape))
    ours.backward(ffnn.tensor(w))
    theirs.backward(torch.tensor(w))
    for name, leaf in theirs_in.items():
        if leaf.requires_grad and leaf.grad is not None:
            assert ours_in[name].grad is not None, f"no gradient for {name}"
            _assert_same(ours_in[name].grad.numpy(), leaf.grad.numpy(), f"grad of {name}",
                         rtol)


def _lib_d(lib):
    return torch.distributions if lib is torch else D


# ----- the distributions, each with parameters, a valid value and quantiles ------------------
CASES = {
    "normal": (lambda lib, a, b: _lib_d(lib).Normal(a, b),
               {"a": RNG.standard_normal(3), "b": RNG.uniform(0.5, 2, 3)},
               RNG.standard_normal((4, 3))),
    "laplace": (lambda lib, a, b: _lib_d(lib).Laplace(a, b),
                {"a": RNG.standard_normal(3), "b": RNG.uniform(0.5, 2, 3)},
                RNG.standard_normal((4, 3))),
    "exponential": (lambda lib, r: _lib_d(lib).Exponential(r),
                    {"r": RNG.uniform(0.5, 2, (2, 3))}, RNG.uniform(0, 3, (2, 3))),
    "uniform": (lambda lib, a, b: _lib_d(lib).Uniform(a, b),
                {"a": RNG.uniform(-2, -1, 3), "b": RNG.uniform(1, 2, 3)},
                RNG.uniform(-1, 1, (5, 3))),
    "bernoulli_probs": (lambda lib, p: _lib_d(lib).Bernoulli(probs=p),
                        {"p": RNG.uniform(0.05, 0.95, (2, 3))},
                        RNG.integers(0, 2, (2, 3)).astype(float)),
    "bernoulli_logits": (lambda lib, z: _lib_d(lib).Bernoulli(logits=z),
                         {"z": RNG.standard_normal((2, 3)) * 2},
                         RNG.integers(0, 2, (2, 3)).astype(float)),
    "categorical_probs": (lambda lib, p: _lib_d(lib).Categorical(probs=p),
                          {"p": RNG.uniform(0.1, 1, (2, 4))}, RNG.integers(0, 4, (3, 2))),
    "categorical_logits": (lambda lib, z: _lib_d(lib).Categorical(logits=z),
                           {"z": RNG.standard_normal((2, 4))}, RNG.integers(0, 4, (3, 2))),
    "one_hot": (lambda lib, z: _lib_d(lib).OneHotCategorical(logits=z),
                {"z": RNG.standard_normal((2, 4))}, np.eye(4)[RNG.integers(0, 4, (3, 2))]),
    "mvn_scale_tril": (lambda lib, m, s: _lib_d(lib).MultivariateNormal(m, scale_tril=s),
                       {"m": RNG.standard_normal((2, 3)), "s": _lower(3)},
                       RNG.standard_normal((4, 2, 3))),
    "mvn_covariance": (lambda lib, m, c: _lib_d(lib).MultivariateNormal(m, covariance_matrix=c),
                       {"m": RNG.standard_normal(3), "c": _spd(3, (2,))},
                       RNG.standard_normal((4, 2, 3))),
    "mvn_precision": (lambda lib, m, c: _lib_d(lib).MultivariateNormal(m, precision_matrix=c),
                      {"m": RNG.standard_normal(3), "c": _spd(3)},
                      RNG.standard_normal((4, 3))),
    "beta": (lambda lib, a, b: _lib_d(lib).Beta(a, b),
             {"a": RNG.uniform(0.3, 4, (2, 3)), "b": RNG.uniform(0.3, 4, (2, 3))},
             RNG.uniform(0.05, 0.95, (4, 2, 3))),
    "independent": (lambda lib, a, b: _lib_d(lib).Independent(_lib_d(lib).Normal(a, b), 1),
                    {"a": RNG.standard_normal((2, 3)), "b": RNG.uniform(0.5, 2, (2, 3))},
                    RNG.standard_normal((4, 2, 3))),
}
CONTINUOUS_CDF = ["normal", "laplace", "exponential", "uniform"]


@pytest.mark.parametrize("case", sorted(CASES))
def test_log_prob_matches_torch(case):
    make, params, value = CASES[case]
    _compare(make, params, lambda d, lib: d.log_prob(_value(value, lib)))


@pytest.mark.parametrize("case", sorted(CASES))
def test_entropy_matches_torch(case):
    """Beta's entropy gradient holds trigammas, which torch computes to ~5e-10 (against
    mpmath; ffnn's to 1e-15: ``test_beta_entropy_gradient_matches_mpmath``)."""
    make, params, _ = CASES[case]
    _compare(make, params, lambda d, lib: d.entropy(), rtol=1e-8 if case == "beta" else 1e-10)


def test_beta_entropy_gradient_matches_mpmath():
    """d H / d β = −(β − 1) ψ′(β) + (α + β − 2) ψ′(α + β), by mpmath to 50 digits."""
    mpmath = pytest.importorskip("mpmath")
    a, b = np.array([0.4, 2.5, 7.0]), np.array([3.0, 0.7, 1.5])
    beta = ffnn.tensor(b, requires_grad=True)
    D.Beta(ffnn.tensor(a), beta).entropy().sum().backward()
    mpmath.mp.dps = 50
    exact = [float(-(y - 1) * mpmath.polygamma(1, y) + (x + y - 2) * mpmath.polygamma(1, x + y))
             for x, y in zip(a, b)]
    np.testing.assert_allclose(beta.grad.numpy(), exact, rtol=1e-13)


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("moment", ["mean", "variance", "stddev", "mode"])
def test_moments_match_torch(case, moment):
    make, params, _ = CASES[case]
    _compare(make, params, lambda d, lib: getattr(d, moment))


@pytest.mark.parametrize("case", CONTINUOUS_CDF)
def test_cdf_and_icdf_match_torch(case):
    make, params, value = CASES[case]
    quantiles = RNG.uniform(0.01, 0.99, np.shape(value))
    _compare(make, params, lambda d, lib: d.cdf(_value(value, lib)))
    _compare(make, params, lambda d, lib: d.icdf(_value(quantiles, lib)))


def test_icdf_inverts_cdf():
    d = D.Normal(ffnn.tensor([0.5, -1.0], dtype=ffnn.float64),
                 ffnn.tensor([2.0, 0.3], dtype=ffnn.float64))
    x = ffnn.tensor([[1.5, -1.2], [-3.0, 0.0]], dtype=ffnn.float64)
    assert_close(d.icdf(d.cdf(x)).numpy(), x.numpy(), rtol=1e-9)


@pytest.mark.parametrize("scipy", [True, False])
def test_erfinv_matches_torch_with_and_without_scipy(monkeypatch, scipy):
    if scipy and not ffnn.ops.special.use_scipy:
        pytest.skip("SciPy is not installed")
    monkeypatch.setattr(ffnn.ops.special, "use_scipy", scipy)
    x = np.concatenate([np.linspace(-1, 1, 4001),
                        [1 - 1e-12, -1 + 1e-15, 1e-300, 0.0, 1 - 2**-52]])
    leaf, t_leaf = ffnn.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ours, theirs = leaf.erfinv(), torch.erfinv(t_leaf)
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-12,
                               atol=1e-300)
    assert np.isinf(ours.detach().numpy()[[0, 4000]]).all()
    ours.backward(ffnn.ones_like(ours))
    theirs.backward(torch.ones_like(theirs))
    inside = np.abs(x) < 1
    np.testing.assert_allclose(leaf.grad.numpy()[inside], t_leaf.grad.numpy()[inside],
                               rtol=1e-9)


# ----- KL divergence ----------------------------------------------------------------------
def _kl_case(make, params_p: dict, params_q: dict):
    """A make/params pair for _compare whose fn computes KL(p ‖ q)."""
    names_p = {f"p_{k}": v for k, v in params_p.items()}
    names_q = {f"q_{k}": v for k, v in params_q.items()}

    def make_both(lib, **leaves):
        p = make(lib, **{k[2:]: v for k, v in leaves.items() if k.startswith("p_")})
        q = make(lib, **{k[2:]: v for k, v in leaves.items() if k.startswith("q_")})
        return p, q

    return make_both, {**names_p, **names_q}


def _kl(pq, lib):
    return _lib_d(lib).kl_divergence(*pq)


R2 = np.random.default_rng(11)
KL_Q = {  # the second distribution of each pair: same shapes, other values
    "normal": {"a": R2.standard_normal(3), "b": R2.uniform(0.5, 2, 3)},
    "laplace": {"a": R2.standard_normal(3), "b": R2.uniform(0.5, 2, 3)},
    "exponential": {"r": R2.uniform(0.5, 2, (2, 3))},
    "bernoulli_probs": {"p": R2.uniform(0.05, 0.95, (2, 3))},
    "bernoulli_logits": {"z": R2.standard_normal((2, 3))},
    "categorical_probs": {"p": R2.uniform(0.1, 1, (2, 4))},
    "categorical_logits": {"z": R2.standard_normal((2, 4))},
    "one_hot": {"z": R2.standard_normal((2, 4))},
    "mvn_scale_tril": {"m": R2.standard_normal(3), "s": _lower(3, (2,))},
    "mvn_covariance": {"m": R2.standard_normal((2, 3)), "c": _spd(3)},
    "mvn_precision": {"m": R2.standard_normal(3), "c": _spd(3)},
    "independent": {"a": R2.standard_normal((2, 3)), "b": R2.uniform(0.5, 2, (2, 3))},
}


@pytest.mark.parametrize("case", sorted(KL_Q))
def test_kl_divergence_matches_torch(case):
    make, params, _ = CASES[case]
    make_both, both = _kl_case(make, params, KL_Q[case])
    _compare(make_both, both, _kl)


def test_kl_uniform_matches_torch_inside_and_inf_outside():
    make = CASES["uniform"][0]
    inner = {"a": np.array([-1.0, -1.0, 0.0]), "b": np.array([1.0, 1.0, 3.0])}
    outer = {"a": np.array([-2.0, -0.5, -1.0]), "b": np.array([2.0, 1.5, 2.0])}
    make_both, both = _kl_case(make, inner, outer)
    _compare(make_both, both, _kl)
    kl = D.kl_divergence(D.Uniform(ffnn.tensor(inner["a"]), ffnn.tensor(inner["b"])),
                         D.Uniform(ffnn.tensor(outer["a"]), ffnn.tensor(outer["b"])))
    assert np.isinf(kl.numpy()).tolist() == [False, True, True]


def test_kl_with_zero_probabilities_is_inf_or_finite_as_torch():
    p = np.array([[0.0, 0.5, 0.5], [0.2, 0.3, 0.5]])
    q = np.array([[0.1, 0.9, 0.0], [0.3, 0.3, 0.4]])

    def kls(lib):
        d, tp, tq = _lib_d(lib), _value(p, lib), _value(q, lib)
        return [d.kl_divergence(d.Categorical(probs=tp), d.Categorical(probs=tq)),
                d.kl_divergence(d.Categorical(probs=tq), d.Categorical(probs=tp)),
                d.kl_divergence(d.Bernoulli(probs=tp), d.Bernoulli(probs=tq))]

    ours, theirs = kls(ffnn), kls(torch)
    for what, a, b in zip(["categorical", "reversed", "bernoulli"], ours, theirs):
        _assert_same(a.numpy(), b.numpy(), what)
    assert np.isinf(ours[0].numpy()[0]) and np.isfinite(ours[0].numpy()[1])
    assert np.isinf(ours[2].numpy()).any()


def test_kl_registry_dispatch_and_errors():
    normal = D.Normal(ffnn.tensor(0.0), ffnn.tensor(1.0))
    categorical = D.Categorical(logits=ffnn.zeros(3))  # a pair torch has no KL for either
    with pytest.raises(NotImplementedError, match="Normal.*Categorical"):
        D.kl_divergence(normal, categorical)

    class Wide(D.Normal):
        pass

    # a subclass uses its parent's pair until a more specific pair is registered
    wide = Wide(ffnn.tensor(1.0), ffnn.tensor(2.0))
    assert_close(D.kl_divergence(wide, normal).numpy(),
                 D.kl_divergence(D.Normal(1.0, 2.0), normal).numpy(), rtol=1e-6)
    D.register_kl(Wide, D.Normal)(lambda p, q: ffnn.tensor(-1.0))
    assert D.kl_divergence(wide, normal).item() == -1.0
    assert D.kl_divergence(normal, normal).item() == 0.0
    with pytest.raises(TypeError, match="type_p"):
        D.register_kl(int, D.Normal)


# ----- shapes ---------------------------------------------------------------------------
@pytest.mark.parametrize("case", sorted(CASES))
def test_shapes_match_torch(case):
    make, params, _ = CASES[case]
    ours, theirs = make(ffnn, **_leaves(params, ffnn)), make(torch, **_leaves(params, torch))
    assert tuple(ours.batch_shape) == tuple(theirs.batch_shape)
    assert tuple(ours.event_shape) == tuple(theirs.event_shape)
    for sample_shape in [(), (5,), (2, 3)]:
        sample = ours.sample(sample_shape)
        assert tuple(sample.shape) == tuple(theirs.sample(sample_shape).shape)
        assert sample.dtype == theirs.sample(sample_shape).numpy().dtype
        assert not sample.requires_grad
        assert tuple(ours.log_prob(sample).shape) == \
            tuple(theirs.log_prob(theirs.sample(sample_shape)).shape)
    assert ours.has_rsample == theirs.has_rsample
    if ours.has_rsample:
        assert tuple(ours.rsample((2,)).shape) == tuple(theirs.rsample((2,)).shape)
    expanded = ours.expand((5,) + tuple(ours.batch_shape))
    assert tuple(expanded.batch_shape) == (5,) + tuple(ours.batch_shape)
    sample = expanded.sample((2,)).numpy()
    assert_close(expanded.log_prob(_value(sample, ffnn)).detach().numpy(),
                 theirs.expand((5,) + tuple(theirs.batch_shape))
                 .log_prob(_value(sample, torch)).detach().numpy())


def test_scalar_parameters_give_an_empty_batch_shape():
    assert D.Normal(0.0, 1.0).batch_shape == ()
    assert D.Normal(0.0, 1.0).sample().shape == ()
    assert D.Normal(0.0, 1.0).loc.dtype == np.float32
    assert D.Bernoulli(0.3).batch_shape == ()
    assert D.Exponential(2.0).rsample((4,)).shape == (4,)
    d = D.Normal(ffnn.zeros(3, dtype=ffnn.float64), 1.0)
    assert d.scale.dtype == np.float64 and d.batch_shape == (3,)


def test_enumerate_support_matches_torch():
    for make, params in [(CASES["bernoulli_probs"][0], CASES["bernoulli_probs"][1]),
                         (CASES["categorical_logits"][0], CASES["categorical_logits"][1]),
                         (CASES["one_hot"][0], CASES["one_hot"][1])]:
        ours, theirs = make(ffnn, **_leaves(params, ffnn)), make(torch, **_leaves(params, torch))
        for expand in (True, False):
            assert_close(ours.enumerate_support(expand).numpy(),
                         theirs.enumerate_support(expand).numpy())


def test_perplexity_and_sample_n():
    d = D.Categorical(logits=ffnn.tensor([[0.0, 1.0, 2.0]], dtype=ffnn.float64))
    t = torch.distributions.Categorical(logits=torch.tensor([[0.0, 1.0, 2.0]]).double())
    assert_close(d.perplexity().numpy(), t.perplexity().numpy())
    with pytest.warns(FutureWarning, match="sample_n"):
        assert d.sample_n(4).shape == (4, 1)


# ----- reparameterised gradients -----------------------------------------------------------
def test_normal_rsample_gradient_is_the_standardized_noise():
    loc = ffnn.tensor([0.5, -1.0, 2.0], dtype=ffnn.float64, requires_grad=True)
    scale = ffnn.tensor([1.0, 0.3, 2.5], dtype=ffnn.float64, requires_grad=True)
    x = D.Normal(loc, scale).rsample((1000,))
    assert x.requires_grad
    x.sum().backward()
    eps = (x.detach().numpy() - loc.detach().numpy()) / scale.detach().numpy()
    assert_close(loc.grad.numpy(), np.full(3, 1000.0))
    assert_close(scale.grad.numpy(), eps.sum(0))
    # torch, fed the same noise, gives the same gradients
    t_loc = torch.tensor(loc.detach().numpy(), requires_grad=True)
    t_scale = torch.tensor(scale.detach().numpy(), requires_grad=True)
    (t_loc + torch.tensor(eps) * t_scale).sum().backward()
    assert_close(scale.grad.numpy(), t_scale.grad.numpy())
    # and the noise is standard normal: mean 0, variance 1 within 5 standard errors
    assert abs(eps.mean()) < 5 / math.sqrt(eps.size)
    assert abs(eps.var() - 1) < 5 * math.sqrt(2 / eps.size)


@pytest.mark.parametrize("name", ["laplace", "exponential", "uniform", "mvn"])
def test_rsample_gradients_match_torch_for_the_same_noise(name):
    rng = np.random.default_rng(5)
    a, b = rng.standard_normal(3), rng.uniform(0.5, 2, 3)
    ours = _leaves({"a": a, "b": b if name != "mvn" else _lower(3)}, ffnn)
    theirs = _leaves({"a": a, "b": b if name != "mvn" else ours["b"].detach().numpy()}, torch)
    if name == "laplace":
        x = D.Laplace(ours["a"], ours["b"]).rsample((200,))
        noise = (x.detach().numpy() - a) / b  # -sign(u)·log(1 - |u|)
        rebuilt = theirs["a"] + theirs["b"] * torch.tensor(noise)
    elif name == "exponential":
        x = D.Exponential(ours["b"]).rsample((200,))
        rebuilt = torch.tensor(x.detach().numpy() * b) / theirs["b"]
    elif name == "uniform":
        x = D.Uniform(ours["a"], ours["a"] + ours["b"]).rsample((200,))
        u = torch.tensor((x.detach().numpy() - a) / b)
        rebuilt = theirs["a"] + u * theirs["b"]
    else:
        x = D.MultivariateNormal(ours["a"], scale_tril=ours["b"]).rsample((200,))
        eps = np.linalg.solve(ours["b"].detach().numpy(), (x.detach().numpy() - a).T).T
        rebuilt = theirs["a"] + (theirs["b"] @ torch.tensor(eps).unsqueeze(-1)).squeeze(-1)
    assert_close(x.detach().numpy(), rebuilt.detach().numpy(), what="rebuilt sample")
    w = rng.standard_normal(tuple(x.shape))
    (x * ffnn.tensor(w)).sum().backward()
    (rebuilt * torch.tensor(w)).sum().backward()
    for key in ("a", "b"):
        if theirs[key].grad is not None:
            assert_close(ours[key].grad.numpy(), theirs[key].grad.numpy(), what=key)


# ----- validation ---------------------------------------------------------------------------
@pytest.mark.parametrize("make, match", [
    (lambda: D.Normal(ffnn.tensor([0.0]), ffnn.tensor([0.0])), r"scale.*GreaterThan"),
    (lambda: D.Normal(ffnn.tensor([0.0]), ffnn.tensor([-1.0])), r"scale.*GreaterThan"),
    (lambda: D.Normal(ffnn.tensor([float("nan")]), ffnn.tensor([1.0])), r"loc.*Real"),
    (lambda: D.Laplace(0.0, -2.0), r"scale"),
    (lambda: D.Exponential(ffnn.tensor([1.0, 0.0])), r"rate"),
    (lambda: D.Bernoulli(probs=ffnn.tensor([0.2, 1.5])), r"probs.*Interval"),
    (lambda: D.Bernoulli(probs=ffnn.tensor([float("nan")])), r"probs"),
    (lambda: D.Uniform(ffnn.tensor([1.0]), ffnn.tensor([1.0])), r"low.*LessThan"),
    (lambda: D.Categorical(probs=ffnn.tensor([-0.1, 1.1])), r"probs.*Simplex"),
    (lambda: D.MultivariateNormal(ffnn.zeros(2), ffnn.tensor([[1.0, 2.0], [2.0, 1.0]])),
     r"covariance_matrix.*PositiveDefinite"),
    (lambda: D.MultivariateNormal(ffnn.zeros(2), ffnn.tensor([[1.0, 2.0], [0.0, 1.0]])),
     r"covariance_matrix.*PositiveDefinite"),
    (lambda: D.MultivariateNormal(ffnn.zeros(2), scale_tril=ffnn.tensor([[1.0, 1.0],
                                                                         [0.0, 1.0]])),
     r"scale_tril.*LowerCholesky"),
])
def test_invalid_parameters_raise_naming_them(make, match):
    with pytest.raises(ValueError, match=match):
        make()


@pytest.mark.parametrize("make, value", [
    (lambda: D.Exponential(ffnn.tensor([1.0])), [-1.0]),
    (lambda: D.Bernoulli(probs=ffnn.tensor([0.3])), [0.5]),
    (lambda: D.Categorical(logits=ffnn.zeros(3)), 3),
    (lambda: D.Categorical(logits=ffnn.zeros(3)), -1),
    (lambda: D.Uniform(0.0, 1.0), 1.5),
    (lambda: D.OneHotCategorical(logits=ffnn.zeros(3)), [1.0, 1.0, 0.0]),
])
def test_log_prob_outside_the_support_raises(make, value):
    with pytest.raises(ValueError, match="support"):
        make().log_prob(ffnn.tensor(value))


def test_validation_can_be_turned_off():
    d = D.Normal(ffnn.tensor([0.0]), ffnn.tensor([-1.0]), validate_args=False)
    assert d.scale.item() == -1.0
    assert np.isinf(D.Exponential(ffnn.tensor([1.0]), validate_args=False)
                    .log_prob(ffnn.tensor([-1.0])).numpy()).tolist() == [False]
    D.Distribution.set_default_validate_args(False)
    try:
        D.Normal(0.0, -1.0)
    finally:
        D.Distribution.set_default_validate_args(True)
    with pytest.raises(ValueError):
        D.Normal(0.0, -1.0)
    with pytest.raises(ValueError):
        D.Distribution.set_default_validate_args("yes")


def test_constructor_errors():
    with pytest.raises(ValueError, match="probs.*logits"):
        D.Bernoulli(probs=ffnn.tensor(0.5), logits=ffnn.tensor(0.0))
    with pytest.raises(ValueError, match="probs.*logits"):
        D.Categorical()
    with pytest.raises(ValueError, match="one-dimensional"):
        D.Categorical(probs=ffnn.tensor(1.0))
    with pytest.raises(ValueError, match="Exactly one"):
        D.MultivariateNormal(ffnn.zeros(2))
    with pytest.raises(ValueError, match="one-dimensional"):
        D.MultivariateNormal(ffnn.tensor(0.0), ffnn.eye(1))
    with pytest.raises(ValueError, match="reinterpreted_batch_ndims"):
        D.Independent(D.Normal(ffnn.zeros(3), ffnn.ones(3)), 2)
    with pytest.raises(ValueError, match="event_shape"):
        D.MultivariateNormal(ffnn.zeros(2), ffnn.eye(2)).log_prob(ffnn.zeros(3))
    with pytest.raises(ValueError, match="broadcastable"):
        D.Normal(ffnn.zeros(3), ffnn.ones(3)).log_prob(ffnn.zeros(2))
    with pytest.raises(ValueError, match="must be a Tensor"):
        D.Normal(0.0, 1.0).log_prob(0.5)


# ----- sample statistics (large seeded samples, margins of 5 standard errors) ---------------
def _within(samples: np.ndarray, mean: float, var: float, what: str) -> None:
    n = samples.shape[0]
    assert np.all(np.abs(samples.mean(0) - mean) < 5 * np.sqrt(var / n)), what


def test_samples_follow_the_distribution():
    ffnn.manual_seed(3)
    n = 20000
    loc, scale = np.array([0.0, 3.0]), np.array([1.0, 0.5])
    _within(D.Normal(ffnn.tensor(loc), ffnn.tensor(scale)).sample((n,)).numpy(), loc,
            scale**2, "normal mean")
    _within(D.Laplace(ffnn.tensor(loc), ffnn.tensor(scale)).sample((n,)).numpy(), loc,
            2 * scale**2, "laplace mean")
    rate = np.array([0.5, 4.0])
    _within(D.Exponential(ffnn.tensor(rate)).sample((n,)).numpy(), 1 / rate, 1 / rate**2,
            "exponential mean")
    _within(D.Uniform(ffnn.tensor(loc), ffnn.tensor(loc + 2)).sample((n,)).numpy(), loc + 1,
            4 / 12, "uniform mean")
    p = np.array([0.1, 0.7])
    _within(D.Bernoulli(ffnn.tensor(p)).sample((n,)).numpy(), p, p * (1 - p), "bernoulli")
    probs = np.array([0.2, 0.0, 0.5, 0.3])
    draws = D.Categorical(probs=ffnn.tensor(probs)).sample((n,)).numpy()
    onehot = np.eye(4)[draws]
    _within(onehot, probs, probs * (1 - probs) + 1e-12, "categorical frequencies")
    assert not np.any(draws == 1)
    cov = _spd(2)
    mvn = D.MultivariateNormal(ffnn.tensor(loc), ffnn.tensor(cov)).sample((n,)).numpy()
    _within(mvn, loc, np.diag(cov), "mvn mean")
    centred = mvn - loc
    product = centred[:, 0] * centred[:, 1]  # E = Σ₀₁, Var = Σ₀₀Σ₁₁ + Σ₀₁²
    _within(product, cov[0, 1], cov[0, 0] * cov[1, 1] + 2 * cov[0, 1] ** 2, "mvn cov")


def test_samples_are_reproducible_under_manual_seed():
    def draw():
        ffnn.manual_seed(42)
        return [D.Normal(ffnn.zeros(3), ffnn.ones(3)).rsample((2,)).numpy(),
                D.Categorical(logits=ffnn.zeros(2, 5)).sample((4,)).numpy(),
                D.Bernoulli(0.5).sample((6,)).numpy(),
                D.MultivariateNormal(ffnn.zeros(2), ffnn.eye(2)).sample().numpy()]

    first, second = draw(), draw()
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)
    ffnn.manual_seed(43)
    assert not np.array_equal(D.Normal(ffnn.zeros(3), ffnn.ones(3)).rsample((2,)).numpy(),
                              first[0])


# ----- training through distributions ------------------------------------------------------
def test_vae_step_trains_through_rsample_and_kl():
    ffnn.manual_seed(0)
    nn = ffnn.nn
    x = ffnn.tensor(np.random.default_rng(0).standard_normal((64, 6)))
    encoder, decoder = nn.Linear(6, 4).double(), nn.Linear(2, 6).double()
    params = list(encoder.parameters()) + list(decoder.parameters())
    optimizer = ffnn.optim.Adam(params, lr=0.02)
    prior = D.Normal(ffnn.zeros(2, dtype=ffnn.float64), ffnn.ones(2, dtype=ffnn.float64))

    def loss_fn():
        h = encoder(x)
        mu, logvar = h[:, :2], h[:, 2:]
        posterior = D.Normal(mu, (0.5 * logvar).exp())
        z = posterior.rsample()
        reconstruction = ((decoder(z) - x) ** 2).sum(-1).mean()
        return reconstruction + D.kl_divergence(posterior, prior).sum(-1).mean()

    ffnn.manual_seed(1)
    first = np.mean([loss_fn().item() for _ in range(20)])
    for _ in range(150):
        optimizer.zero_grad()
        loss = loss_fn()
        loss.backward()
        assert all(p.grad is not None for p in params)
        optimizer.step()
    last = np.mean([loss_fn().item() for _ in range(20)])
    assert last < 0.9 * first, (first, last)


def test_reinforce_gradient_matches_torch_for_the_same_actions():
    ffnn.manual_seed(0)
    policy = ffnn.nn.Linear(5, 3).double()
    t_policy = torch.nn.Linear(5, 3).double()
    t_policy.load_state_dict({k: torch.tensor(v.numpy()) for k, v in
                              policy.state_dict().items()})
    states = np.random.default_rng(1).standard_normal((32, 5))
    returns = np.random.default_rng(2).standard_normal(32)

    dist = D.Categorical(logits=policy(ffnn.tensor(states)))
    actions = dist.sample()
    assert actions.dtype == np.int64 and actions.shape == (32,)
    loss = -(dist.log_prob(actions) * ffnn.tensor(returns)).mean()
    loss.backward()

    t_dist = torch.distributions.Categorical(logits=t_policy(torch.tensor(states)))
    t_loss = -(t_dist.log_prob(torch.tensor(actions.numpy())) * torch.tensor(returns)).mean()
    t_loss.backward()
    assert_close(loss.item(), t_loss.item())
    assert_close(policy.weight.grad.numpy(), t_policy.weight.grad.numpy())
    assert_close(policy.bias.grad.numpy(), t_policy.bias.grad.numpy())


def test_lazy_parameters_and_repr():
    logits = ffnn.tensor([0.3, -1.0], dtype=ffnn.float64, requires_grad=True)
    d = D.Bernoulli(logits=logits)
    assert "probs" not in d.__dict__
    assert_close(d.probs.detach().numpy(), 1 / (1 + np.exp(-logits.detach().numpy())))
    assert "probs" in d.__dict__ and d.probs.requires_grad
    assert repr(D.Normal(0.0, 1.0)).startswith("Normal(loc: ")
    assert "Independent(Normal" in repr(D.Independent(D.Normal(ffnn.zeros(2),
                                                               ffnn.ones(2)), 1))


REPRS = {
    "numbers": lambda lib: lib.distributions.Normal(0.0, 1.0),
    "one-element tensors": lambda lib: lib.distributions.Normal(lib.tensor([0.5]), 2.0),
    "a batch": lambda lib: lib.distributions.Normal(lib.zeros(2), 1.0),
    "0-d logits": lambda lib: lib.distributions.Bernoulli(logits=lib.tensor(0.3)),
    "probs": lambda lib: lib.distributions.Categorical(lib.tensor([0.2, 0.8])),
    "uniform": lambda lib: lib.distributions.Uniform(0.0, 2.0),
    "beta": lambda lib: lib.distributions.Beta(2.0, 3.0),
    "independent": lambda lib: lib.distributions.Independent(
        lib.distributions.Laplace(lib.zeros(2, 3), 1.0), 1),
}


@pytest.mark.parametrize("make", REPRS.values(), ids=list(REPRS))
def test_a_distribution_prints_as_torchs(make):
    """A one-value parameter formatted (``Normal(loc: 0.0, scale: 1.0)``, not
    ``tensor(0.)``), others by shape; ``Beta()`` lists none, as torch's."""
    assert repr(make(ffnn)) == repr(make(torch))


def test_a_custom_distribution_without_constraints_warns_as_torch():
    class Coin(D.Distribution):
        def __init__(self):
            super().__init__(())

        def log_prob(self, value):
            self._validate_sample(value)
            return value * 0

    with pytest.warns(UserWarning, match="arg_constraints"):
        coin = Coin()
    with pytest.warns(UserWarning, match="support"):
        assert coin.log_prob(ffnn.tensor(1.0)).item() == 0.0
    with pytest.raises(NotImplementedError):
        coin.expand((2,))


def test_beta_samples_have_its_moments():
    """20,000 draws of Beta(2, 5) and Beta(0.5, 0.5) (mixup's λ): their means and variances
    within 5 standard errors of αβ's formulas."""
    ffnn.manual_seed(0)
    a, b = np.array([2.0, 0.5]), np.array([5.0, 0.5])
    draws = D.Beta(ffnn.tensor(a), ffnn.tensor(b)).sample((20000,)).numpy()
    mean, var = a / (a + b), a * b / ((a + b) ** 2 * (a + b + 1))
    assert ((draws >= 0) & (draws <= 1)).all()
    np.testing.assert_array_less(np.abs(draws.mean(0) - mean), 5 * np.sqrt(var / 20000))
    np.testing.assert_allclose(draws.var(0), var, rtol=0.05)
