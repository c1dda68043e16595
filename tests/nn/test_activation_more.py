"""LogSigmoid, Mish, Softsign, Hardswish, Hardsigmoid, Softmin, CELU, Tanhshrink, Threshold,
Hardshrink, Softshrink, GLU: functional and module forms against torch (values, gradients,
printed form)."""

import numpy as np
import pytest
import torch

import ffnn
from ffnn import accel

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


ONE_OP_CASES = [("logsigmoid", ()), ("softsign", ()), ("celu", (0.7,)), ("celu", ()),
                ("tanhshrink", ()), ("threshold", (0.2, -1.0)), ("hardshrink", (0.3,)),
                ("softshrink", (0.3,)), ("relu", ()), ("elu", (0.7,)), ("selu", ())]
SPECIAL_VALUES = [np.nan, np.inf, -np.inf, -0.0, 0.0, 0.3, -0.3, 0.2, 25.0, -25.0]


def _run(lib, function, args, values, upstream):
    x = lib.tensor(values, requires_grad=True)
    y = getattr(lib.nn.functional, function)(x, *args)
    y.backward(lib.tensor(upstream))
    return y.detach().numpy(), x.grad.numpy()


def _assert_values_close(ours, theirs, values):
    """Equal NaN and infinities; elsewhere within a few units in the last place of y or
    of x (x - tanh(x) cancels to much less than x)."""
    np.testing.assert_array_equal(np.isnan(ours), np.isnan(theirs))
    np.testing.assert_array_equal(ours[np.isinf(theirs)], theirs[np.isinf(theirs)])
    finite = np.isfinite(theirs)
    eps = np.finfo(values.dtype).eps
    bound = 4 * eps * np.maximum(np.abs(theirs), np.abs(values))[finite]
    assert np.all(np.abs(ours[finite] - theirs[finite]) <= bound)


@pytest.mark.parametrize("function, args", ONE_OP_CASES,
                         ids=[f"{c[0]}{c[1]}" for c in ONE_OP_CASES])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_one_op_activations_match_torch_with_infinities_and_nan(function, args, dtype, rng,
                                                               monkeypatch):
    """[40, 40] (the compiled loop) and [2, 5] (NumPy's reference) give torch's values: NaN
    in, NaN out, ±inf and ±0 as torch maps them (ReLU(-inf) = 0); the gradient torch's
    wherever it is finite (torch's own NaN gradients differ between its vector and scalar
    loops); the compiled loop and the reference agree."""
    results = {}
    for shape in ((40, 40), (2, 5)):
        values = (rng.standard_normal(shape) * 3).astype(dtype)
        values.reshape(-1)[:len(SPECIAL_VALUES)] = SPECIAL_VALUES
        upstream = rng.standard_normal(shape).astype(dtype)
        ours, theirs = (_run(lib, function, args, values, upstream) for lib in (ffnn, torch))
        _assert_values_close(ours[0], theirs[0], values)
        finite = np.isfinite(theirs[1]) & ~np.isnan(values)
        np.testing.assert_allclose(ours[1][finite], theirs[1][finite], atol=1e-6,
                                   rtol=1e-5 if dtype == np.float32 else 1e-7)
        results[shape] = values, upstream, ours
    values, upstream, compiled = results[(40, 40)]
    monkeypatch.setattr(accel, "enabled", False)
    reference = _run(ffnn, function, args, values, upstream)
    _assert_values_close(compiled[0], reference[0], values)
    np.testing.assert_allclose(compiled[1], reference[1], atol=1e-30,
                               rtol=2e-6 if dtype == np.float32 else 1e-14)


@pytest.mark.parametrize("dim", [-1, 0, 1])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_glu_as_one_op_matches_torch(dim, dtype, rng, monkeypatch):
    """[40, 64] (the compiled sigmoid on a copy of the half) against torch, values and
    gradient; and against NumPy's stable sigmoid with the kernels off."""
    values = (rng.standard_normal((40, 64)) * 4).astype(dtype)
    upstream = rng.standard_normal((20, 64) if dim == 0 else (40, 32)).astype(dtype)
    ours, theirs = (_run(lib, "glu", (dim,), values, upstream) for lib in (ffnn, torch))
    tolerance = dict(rtol=2e-6, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-13,
                                                                             atol=1e-15)
    for mine, expected in zip(ours, theirs):
        np.testing.assert_allclose(mine, expected, **tolerance)
    monkeypatch.setattr(accel, "enabled", False)
    for mine, numpys in zip(ours, _run(ffnn, "glu", (dim,), values, upstream)):
        np.testing.assert_allclose(mine, numpys, **tolerance)


@pytest.mark.parametrize("name, args", [("relu_", ()), ("elu_", (0.5,)), ("selu_", ()),
                                        ("celu_", (0.5,)), ("leaky_relu_", (0.2,)),
                                        ("hardtanh_", (-0.4, 0.4)), ("threshold_", (0.1, 9.0)),
                                        ("rrelu_", (0.1, 0.3))])
def test_in_place_functions_overwrite_their_input_as_torchs(name, args, rng):
    """``F.relu_(h)`` and the like: h itself, overwritten with torch's values (rrelu in eval,
    its default), and the gradient through it."""
    values, upstream = rng.standard_normal((4, 6)), rng.standard_normal((4, 6))
    results = []
    for lib in (ffnn, torch):
        x = lib.tensor(values, requires_grad=True)
        hidden = x * 2
        out = getattr(lib.nn.functional, name)(hidden, *args)
        assert out is hidden
        out.backward(lib.tensor(upstream))
        results.append((out.detach().numpy(), x.grad.numpy()))
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-15)
