"""biject_to / transform_to against torch's: for each constraint the same transform (its
values, inverse and log|det J| with gradients, float64), values inside the constraint, and
torch's errors for unknown constraints and bad registrations."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ffnn
import ffnn.distributions as D
from tests.test_distributions import _compare

RNG = np.random.default_rng(61)
CONSTRAINTS = {
    "real": lambda c: c.real, "real_vector": lambda c: c.real_vector,
    "positive": lambda c: c.positive, "nonnegative": lambda c: c.nonnegative,
    "greater_than": lambda c: c.greater_than(2.0), "less_than": lambda c: c.less_than(-1.0),
    "unit_interval": lambda c: c.unit_interval, "interval": lambda c: c.interval(-1.0, 3.0),
    "half_open_interval": lambda c: c.half_open_interval(0.5, 1.5),
    "simplex": lambda c: c.simplex,
    "cat": lambda c: c.cat([c.positive, c.real, c.interval(-1.0, 1.0)], 1, [2, 1, 1]),
    "stack": lambda c: c.stack([c.positive, c.real, c.unit_interval], 0),
}


def _lib_d(lib):
    return torch.distributions if lib is torch else D


@pytest.mark.parametrize("registry", ["biject_to", "transform_to"])
@pytest.mark.parametrize("name", sorted(CONSTRAINTS))
def test_registry_gives_torchs_transform(registry, name):
    x = RNG.standard_normal((3, 4))

    def transform(lib):
        d = _lib_d(lib)
        return getattr(d, registry)(CONSTRAINTS[name](d.constraints))

    ours, theirs = transform(ffnn), transform(torch)
    assert type(ours).__name__ == type(theirs).__name__
    _compare(lambda lib, x: x, {"x": x}, lambda x, lib: transform(lib)(x) * 1.5)
    if theirs.bijective:  # softmax onto the simplex has no log|det J|
        _compare(lambda lib, x: x, {"x": x},
                 lambda x, lib: transform(lib).log_abs_det_jacobian(x, transform(lib)(x)))
    y = ours(ffnn.tensor(x))
    assert bool(CONSTRAINTS[name](D.constraints).check(y).all())
    _compare(lambda lib, y: y, {"y": y.numpy()}, lambda y, lib: transform(lib).inv(y))


@pytest.mark.parametrize("registry", ["biject_to", "transform_to"])
def test_corr_cholesky_and_positive_definite_match_torch(registry):
    x = RNG.standard_normal((2, 6))
    def transform(lib):
        return getattr(_lib_d(lib), registry)(_lib_d(lib).constraints.corr_cholesky)

    _compare(lambda lib, x: x, {"x": x}, lambda x, lib: transform(lib)(x))
    y = getattr(D, registry)(D.constraints.corr_cholesky)(ffnn.tensor(x))
    assert bool(D.constraints.corr_cholesky.check(y).all())
    assert not bool(D.constraints.corr_cholesky.check(2 * y).any())
    if registry == "transform_to":
        m = RNG.standard_normal((2, 3, 3))
        _compare(lambda lib, m: m, {"m": m}, lambda m, lib: _lib_d(lib).transform_to(
            _lib_d(lib).constraints.positive_definite)(m))


def test_lower_cholesky_and_errors_match_torch():
    x = RNG.standard_normal((2, 3, 3))
    _compare(lambda lib, x: x, {"x": x},
             lambda x, lib: _lib_d(lib).transform_to(_lib_d(lib).constraints.lower_cholesky)(x))
    for d in (D, torch.distributions):
        with pytest.raises(NotImplementedError, match="Cannot transform _Boolean"):
            d.biject_to(d.constraints.boolean)
        with pytest.raises(TypeError, match="Constraint subclass or instance"):
            d.biject_to.register(int, lambda c: None)
