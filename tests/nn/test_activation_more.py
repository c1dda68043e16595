"""LogSigmoid, Mish, Softsign, Hardswish, Hardsigmoid, Softmin, CELU, Tanhshrink, Threshold,
Hardshrink, Softshrink, GLU: functional and module forms against torch (values, gradients,
printed form)."""

import numpy as np
import pytest
import torch

import ffnn

CASES = [
    ("logsigmoid", (), "LogSigmoid", ()),
    ("mish", (), "Mish", ()),
    ("softsign", (), "Softsign", ()),
    ("hardswish", (), "Hardswish", ()),
    ("hardsigmoid", (), "Hardsigmoid", ()),
    ("softmin", (1,), "Softmin", (1,)),
    ("celu", (0.7,), "CELU", (0.7,)),
    ("celu", (), "CELU", ()),
    ("tanhshrink", (), "Tanhshrink", ()),
    ("threshold", (0.2, -1.0), "Threshold", (0.2, -1.0)),
    ("hardshrink", (0.3,), "Hardshrink", (0.3,)),
    ("softshrink", (), "Softshrink", ()),
    ("glu", (), "GLU", ()),
    ("glu", (0,), "GLU", (0,)),
]


@pytest.mark.parametrize("function, args, module, module_args", CASES,
                         ids=[f"{c[0]}{c[1]}" for c in CASES])
def test_matches_torch(function, args, module, module_args, rng):
    a = rng.uniform(-4, 4, (4, 6))
    results = {}
    for lib in (torch, ffnn):
        x = lib.tensor(a, requires_grad=True)
        weights = lib.tensor(np.linspace(-1, 1, 12).reshape(-1)[: (x.numel() // 2)])
        y = getattr(lib.nn.functional, function)(x, *args)
        z = getattr(lib.nn, module)(*module_args)(x)
        (y.flatten()[: weights.numel()] * weights).sum().backward()
        results[lib.__name__] = (y.detach().numpy(), z.detach().numpy(), x.grad.numpy(),
                                 repr(getattr(lib.nn, module)(*module_args)))
    for ours, theirs in zip(results["ffnn"][:3], results["torch"][:3]):
        # torch's CELU and Hardsigmoid kernels use single-precision constants
        np.testing.assert_allclose(ours, theirs, rtol=1e-7, atol=1e-12)
    assert results["ffnn"][3] == results["torch"][3]


def test_glu_needs_an_even_dimension():
    with pytest.raises(RuntimeError, match="Halving dimension must be even"):
        ffnn.nn.functional.glu(ffnn.ones(2, 3))
