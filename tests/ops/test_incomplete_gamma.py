"""torch.igamma / igammac and special.gammainc / gammaincc: values against mpmath (50
digits) and torch, the edges of the domain as torch's, the gradient in x against torch's, and
torch's error for the gradient in a."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ffnn

RNG = np.random.default_rng(71)


def _grid():
    a = np.exp(RNG.uniform(-5, 7, 3000))
    x = a * np.exp(RNG.uniform(-4, 2, 3000))
    x[:500] = a[:500] * RNG.uniform(0.8, 1.2, 500)  # a ≈ x, where torch uses Temme's series
    return a, x


def test_values_match_mpmath():
    """To ~1e-12 relative: for a ~ 1000 the prefactor xᵃe⁻ˣ/Γ(a), computed by logs, loses
    the digits of a·log x - x - lgamma a that cancel (torch's Temme series does worse there)."""
    mpmath = pytest.importorskip("mpmath")
    mpmath.mp.dps = 50
    a, x = _grid()
    pick = RNG.choice(a.size, 150, replace=False)
    a, x = a[pick], x[pick]
    lower = ffnn.special.gammainc(ffnn.tensor(a), ffnn.tensor(x)).numpy()
    upper = ffnn.special.gammaincc(ffnn.tensor(a), ffnn.tensor(x)).numpy()
    exact_lower = [float(mpmath.gammainc(u, 0, v, regularized=True)) for u, v in zip(a, x)]
    exact_upper = [float(mpmath.gammainc(u, v, mpmath.inf, regularized=True))
                   for u, v in zip(a, x)]
    np.testing.assert_allclose(lower, exact_lower, rtol=1e-11, atol=1e-300)
    np.testing.assert_allclose(upper, exact_upper, rtol=1e-11, atol=1e-300)


@pytest.mark.parametrize("name", ["igamma", "igammac"])
def test_values_and_gradients_match_torch(name):
    """torch's asymptotic series (a > 20, |x - a| < 0.3a) is good to ~2e-9 only (against
    mpmath), hence the tolerance; elsewhere they agree to ~1e-14."""
    a, x = _grid()
    a = np.concatenate([a, [0.0, 0.0, 1.0, 2.0, np.inf, 1.0, -1.0, 1.0]])
    x = np.concatenate([x, [1.0, 0.0, 0.0, np.inf, 3.0, np.nan, 1.0, -1.0]])
    ours_x, theirs_x = ffnn.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ours = getattr(ffnn, name)(ffnn.tensor(a), ours_x)
    theirs = getattr(torch, name)(torch.tensor(a), theirs_x)
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=5e-9,
                               atol=1e-300)
    w = RNG.standard_normal(a.shape)
    ours.backward(ffnn.tensor(w))
    theirs.backward(torch.tensor(w))
    np.testing.assert_allclose(ours_x.grad.numpy(), theirs_x.grad.numpy(), rtol=1e-12,
                               atol=1e-300)


def test_errors_match_torch():
    for lib in (torch, ffnn):
        a = lib.tensor([2.0, 3.0], dtype=lib.float64, requires_grad=True)
        y = lib.igamma(a, lib.tensor([1.0, 2.0], dtype=lib.float64)).sum()
        with pytest.raises((RuntimeError, NotImplementedError), match="not implemented"):
            y.backward()
        with pytest.raises(RuntimeError, match="igamma_cpu.*not implemented for 'Long'"):
            lib.igamma(lib.tensor([1, 2]), lib.tensor([1, 2]))
    assert ffnn.igamma(ffnn.tensor([2.0]), ffnn.tensor([1.0])).dtype == np.float32
