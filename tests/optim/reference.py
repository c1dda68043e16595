"""Run the same optimizer configuration in ffnn and torch on the same problem, step by step.

Gradients are a fixed non-linear function of the current parameter values, computed in NumPy
identically for both libraries: ``g = sin(3p) + tanh(p) - c`` (``c`` fixed), the gradient of
``Σ -cos(3p)/3 + log cosh(p) - c·p``: non-linear, bounded (so ascent with ``maximize`` does not
blow up). A correct optimizer follows torch's trajectory.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

import ffnn
from ffnn.nn.parameter import Parameter

SHAPES = [(3, 4), (4,), (2, 3), (5,)]
RTOL = 1e-9


def gradient(values: np.ndarray, target: np.ndarray) -> np.ndarray:
    return np.sin(3 * values) + np.tanh(values) - target


def initial_arrays(shapes=SHAPES, seed: int = 0) -> tuple[list, list]:
    rng = np.random.default_rng(seed)
    values = [rng.standard_normal(shape) for shape in shapes]
    targets = [rng.standard_normal(shape) for shape in shapes]
    return values, targets


def make_params(lib, values, dtype=np.float64) -> list:
    if lib is torch:
        return [torch.tensor(v.astype(dtype), requires_grad=True) for v in values]
    return [Parameter(v.astype(dtype)) for v in values]


def numpy_of(param) -> np.ndarray:
    return param if isinstance(param, np.ndarray) else param.detach().numpy()


def set_grads(params, targets) -> None:
    for param, target in zip(params, targets):
        values = numpy_of(param)
        grad = gradient(values, target).astype(values.dtype)
        param.grad = torch.from_numpy(grad) if isinstance(param, torch.Tensor) else grad


def assert_same(ours, theirs, what: str = "params", rtol: float = RTOL) -> None:
    for i, (a, b) in enumerate(zip(ours, theirs)):
        a, b = numpy_of(a), numpy_of(b)
        scale = 1.0 + float(np.abs(b).max())
        np.testing.assert_allclose(a, b, rtol=rtol, atol=rtol * scale, err_msg=f"{what}[{i}]")


def run_both(build: Callable, steps: int = 50, shapes=SHAPES, seed: int = 0):
    """``build(lib, params)`` makes the optimizer with ``lib.optim``; compares every step."""
    values, targets = initial_arrays(shapes, seed)
    ours, theirs = make_params(ffnn, values), make_params(torch, values)
    opt_ours, opt_theirs = build(ffnn, ours), build(torch, theirs)
    for step in range(steps):
        set_grads(ours, targets)
        set_grads(theirs, targets)
        opt_ours.step()
        opt_theirs.step()
        assert_same(ours, theirs, what=f"step {step + 1}: params")
    moved = sum(float(np.abs(numpy_of(p) - v).max()) for p, v in zip(ours, values))
    assert all(np.isfinite(numpy_of(p)).all() for p in ours), "the trajectory diverged"
    assert moved > 1e-3, "the parameters barely moved; the comparison would prove nothing"
    return opt_ours, opt_theirs
