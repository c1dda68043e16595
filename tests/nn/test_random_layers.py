"""RReLU and AlphaDropout (modules and functions) against torch: eval exactly, training by
the values and gradients torch's formulas give for the mask or slopes drawn."""

import math

import numpy as np
import pytest
import torch

import ffnn
import ffnn.nn as nn
import ffnn.nn.functional as F


@pytest.mark.parametrize("lower, upper", [(1 / 8, 1 / 3), (0.1, 0.3)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_rrelu_in_eval_is_torchs(lower, upper, dtype, rng):
    values = rng.standard_normal((6, 7)).astype(dtype)
    upstream = rng.standard_normal((6, 7)).astype(dtype)
    results = []
    for lib in (ffnn, torch):
        x = lib.tensor(values, requires_grad=True)
        module = lib.nn.RReLU(lower, upper).eval()
        y = module(x)
        y.backward(lib.tensor(upstream))
        results.append((y.detach().numpy(), x.grad.numpy(), repr(module),
                        lib.nn.functional.rrelu(lib.tensor(values), lower, upper).numpy()))
    for ours, theirs in zip(results[0][:2] + results[0][3:], results[1][:2] + results[1][3:]):
        np.testing.assert_array_equal(ours, theirs)
    assert results[0][2] == results[1][2]


def test_rrelu_in_training_draws_a_slope_per_negative_element(rng):
    values = rng.standard_normal((400, 250))
    values[0, :3] = [0.0, -0.0, 2.0]
    x = ffnn.tensor(values, requires_grad=True)
    module = nn.RReLU(0.1, 0.3, generator=ffnn.Generator().manual_seed(3))
    y = module(x)
    y.sum().backward()
    out, grad = y.detach().numpy(), x.grad.numpy()
    positive = values > 0
    np.testing.assert_array_equal(out[positive], values[positive])
    np.testing.assert_array_equal(grad[positive], 1.0)
    negative = values < 0
    slopes = out[negative] / values[negative]
    assert slopes.min() >= 0.1 and slopes.max() <= 0.3
    np.testing.assert_allclose(grad[negative], slopes, rtol=1e-12)
    assert abs(slopes.mean() - 0.2) < 0.005  # U(0.1, 0.3) over ~50,000 draws: σ ≈ 0.0003
    assert out[0, 0] == 0.0
    again = nn.RReLU(0.1, 0.3, generator=ffnn.Generator().manual_seed(3))(x).detach().numpy()
    np.testing.assert_array_equal(again, out)
    assert not np.array_equal(module(x).detach().numpy(), out)


def test_rrelu_checks_its_bounds_when_training_as_torch_does():
    module = nn.RReLU(0.5, 0.1).eval()
    assert module(ffnn.tensor([-1.0])).item() == pytest.approx(-0.3)
    with pytest.raises(ValueError, match="lower must not exceed upper"):
        module.train()(ffnn.tensor([-1.0]))


def _torch_constants(p: float) -> tuple[float, float, float]:
    """(a, the value of a dropped element, b) read from torch's AlphaDropout (p < 0.5, so most
    elements are kept): on zeros a kept element is b, a dropped one the other value; on ones
    a kept element is a + b."""
    torch.manual_seed(0)
    layer = torch.nn.AlphaDropout(p).train()
    values, counts = np.unique(layer(torch.zeros(10_000, dtype=torch.float64)).numpy(),
                               return_counts=True)
    shift, dropped = values[np.argsort(-counts)]
    values, counts = np.unique(layer(torch.ones(10_000, dtype=torch.float64)).numpy(),
                               return_counts=True)
    return values[np.argmax(counts)] - shift, dropped, shift


@pytest.mark.parametrize("p", [0.1, 0.3])
def test_alpha_dropout_in_training_is_torchs_affine_map(p, rng):
    a, dropped, shift = _torch_constants(p)
    values = rng.standard_normal(20_000)
    x = ffnn.tensor(values, requires_grad=True)
    y = nn.AlphaDropout(p, generator=ffnn.Generator().manual_seed(1))(x)
    y.backward(ffnn.ones_like(y))
    out, grad = y.detach().numpy(), x.grad.numpy()
    kept = grad != 0
    np.testing.assert_allclose(grad[kept], a, rtol=1e-14)
    np.testing.assert_allclose(out[kept], values[kept] * a + shift, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(out[~kept], dropped, rtol=1e-12)
    assert abs((~kept).mean() - p) < 0.02  # ~20,000 draws: σ ≈ 0.003


def test_alpha_dropout_keeps_a_selu_networks_mean_and_variance(rng):
    """SELU's fixed point (mean 0, variance 1) survives the layer: the point of it."""
    x = nn.SELU()(ffnn.tensor(rng.standard_normal(400_000)))
    y = nn.AlphaDropout(0.2, generator=ffnn.Generator().manual_seed(2))(x).numpy()
    before = x.numpy()
    assert abs(y.mean() - before.mean()) < 0.01 and abs(y.std() - before.std()) < 0.01


def test_alpha_dropout_in_eval_and_its_edges():
    x = ffnn.tensor([[-1.5, 0.0, 2.0]])
    assert F.alpha_dropout(x, 0.5) is x  # torch's default: training=False
    assert nn.AlphaDropout(0.5).eval()(x) is x
    assert nn.AlphaDropout(0.0)(x) is x
    np.testing.assert_array_equal(F.alpha_dropout(x, 1.0, True).numpy(), 0.0)
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.AlphaDropout(1.5)
    assert repr(nn.AlphaDropout(0.2)) == repr(torch.nn.AlphaDropout(0.2))
    assert nn.AlphaDropout(0.2).state_dict() == {} and nn.RReLU().state_dict() == {}


def test_alpha_dropout_formula_constants():
    """a = ((1 - p)(1 + p λ²α²))^{-1/2} from SELU's constants, as the module docstring says."""
    p, saturation = 0.25, 1.6732632423543772 * 1.0507009873554805
    a, _, _ = _torch_constants(p)
    assert a == pytest.approx(1 / math.sqrt((1 - p) * (1 + p * saturation ** 2)), rel=1e-12)


@pytest.mark.parametrize("call", [lambda x: F.rrelu(x), lambda x: F.rrelu(x, training=True),
                                  lambda x: F.alpha_dropout(x, 0.5, True)])
def test_integer_input_is_refused_with_its_dtype(call):
    with pytest.raises(TypeError, match="floating-point Tensor. Received: .*int64"):
        call(ffnn.tensor([1, 2]))
