"""Checks the distribution tests share: each builds a distribution with ``make(lib,
**leaves)`` in ffnn and in torch from the same float64 parameters and compares them."""

from __future__ import annotations

import numpy as np
import torch

import ffnn
import ffnn.distributions as D
from tests.test_distributions import _leaves, _value


def lib_d(lib):
    """``torch.distributions`` or ``ffnn.distributions``."""
    return torch.distributions if lib is torch else D


def check_shapes_and_expand(make, params: dict) -> None:
    """Equal batch/event shapes, support, sample shapes and dtypes; ``expand`` keeps the type
    and gives torch's shapes and log_prob."""
    ours, theirs = make(ffnn, **_leaves(params, ffnn)), make(torch, **_leaves(params, torch))
    assert (ours.batch_shape, ours.event_shape) == (theirs.batch_shape, theirs.event_shape)
    assert ours.has_rsample == theirs.has_rsample
    assert repr(ours.support) == repr(theirs.support)
    for shape in [(), (5,), (2, 3)]:
        sample = ours.sample(shape)
        assert tuple(sample.shape) == tuple(theirs.sample(shape).shape)
        assert sample.dtype == theirs.sample(shape).numpy().dtype
        assert not sample.requires_grad
    batch = (4,) + tuple(ours.batch_shape)
    expanded, t_expanded = ours.expand(batch), theirs.expand(batch)
    assert type(expanded) is type(ours)
    assert (expanded.batch_shape, expanded.event_shape) == \
        (t_expanded.batch_shape, t_expanded.event_shape)
    value = t_expanded.sample((2,)).numpy()
    np.testing.assert_allclose(expanded.log_prob(_value(value, ffnn)).detach().numpy(),
                               t_expanded.log_prob(_value(value, torch)).detach().numpy(),
                               rtol=1e-10)


def check_draws_for_the_same_seed(make, params: dict, rtol: float = 1e-13,
                                  gradients: bool = True) -> None:
    """After the same seed: torch's samples, then torch's rsample values and the gradients
    of every parameter through them (for a fixed upstream gradient). ``rtol``: the same noise
    through exp, pow or tanh may round 1 ulp apart from torch's vectorised functions."""
    ours_in, theirs_in = _leaves(params, ffnn), _leaves(params, torch)
    ours_d, theirs_d = make(ffnn, **ours_in), make(torch, **theirs_in)
    ffnn.manual_seed(13)
    torch.manual_seed(13)
    np.testing.assert_allclose(ours_d.sample((7,)).numpy(), theirs_d.sample((7,)).numpy(),
                               rtol=rtol)
    if not theirs_d.has_rsample:
        return
    ours, theirs = ours_d.rsample((3,)), theirs_d.rsample((3,))
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=rtol)
    if not gradients:
        return
    w = np.random.default_rng(3).standard_normal(tuple(theirs.shape))
    (ours * ffnn.tensor(w)).sum().backward()
    (theirs * torch.tensor(w)).sum().backward()
    for name, leaf in theirs_in.items():
        if leaf.grad is not None:
            np.testing.assert_allclose(ours_in[name].grad.numpy(), leaf.grad.numpy(),
                                       rtol=1e-10, err_msg=name)
