"""Finite-difference gradient check: compare backward() with central differences in float64."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from ffnn.tensor import Tensor


def central_differences(f: Callable[[], float], value: np.ndarray,
                        eps: float = 1e-6) -> np.ndarray:
    """∂f/∂value ≈ (f(value + εeᵢ) − f(value − εeᵢ)) / 2ε for every entry i: ``f()`` is
    evaluated with ``value[i]`` moved by ±ε in place (then restored). value: a C-contiguous
    array; the result has its shape, in float64."""
    grad = np.zeros_like(value, dtype=np.float64)
    flat, gflat = value.reshape(-1), grad.reshape(-1)
    for i in range(flat.size):
        saved = flat[i]
        flat[i] = saved + eps
        plus = f()
        flat[i] = saved - eps
        minus = f()
        flat[i] = saved
        gflat[i] = (plus - minus) / (2 * eps)
    return grad


def numerical_grad(fn: Callable, inputs: Sequence[Tensor], eps: float = 1e-6) -> list:
    """∂(Σ fn(inputs) · w)/∂input by central differences, for a fixed random weight w
    (so a non-scalar output is checked in every direction at once)."""
    out = fn(*inputs)
    w = np.random.default_rng(0).standard_normal(out.shape)
    grads = []
    for t in inputs:
        if not (isinstance(t, Tensor) and t.requires_grad):
            grads.append(None)
            continue
        grads.append(central_differences(lambda: float((fn(*inputs)._data * w).sum()),
                                         t._data, eps))
    return grads


def gradcheck(fn: Callable, inputs: Sequence[Tensor], eps: float = 1e-6, atol: float = 1e-5,
              rtol: float = 1e-3, raise_exception: bool = True) -> bool:
    """Check the analytical gradients of ``fn`` at ``inputs`` against central differences.

    ``inputs`` that require grad must be float64 (finite differences need the precision).
    Returns True, or raises ``AssertionError`` naming the input and the largest mismatch.
    """
    inputs = list(inputs)
    for i, t in enumerate(inputs):
        if isinstance(t, Tensor) and t.requires_grad and t.dtype != np.float64:
            raise TypeError(
                f"gradcheck needs float64 inputs for finite differences. Received: input {i} "
                f"of dtype {t.dtype}"
            )
    for t in inputs:
        if isinstance(t, Tensor):
            t._grad = None
    out = fn(*inputs)
    w = np.random.default_rng(0).standard_normal(out.shape)
    out.backward(w)
    numeric = numerical_grad(fn, inputs, eps)
    for i, (t, expected) in enumerate(zip(inputs, numeric)):
        if expected is None:
            continue
        analytic = np.zeros_like(t._data) if t._grad is None else t._grad
        if not np.allclose(analytic, expected, atol=atol, rtol=rtol):
            worst = np.unravel_index(np.argmax(np.abs(analytic - expected)), expected.shape)
            if raise_exception:
                raise AssertionError(
                    f"gradcheck: gradient of input {i} differs from finite differences; at "
                    f"index {tuple(int(j) for j in worst)} backward gave "
                    f"{analytic[worst]:.10g}, finite differences {expected[worst]:.10g}"
                )
            return False
    return True
