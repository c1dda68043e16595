"""ELU, SELU, Softplus, Hardtanh, ReLU6 and PReLU (modules and functions) against torch and
finite differences, the piecewise ones' gradients at their corners too; F.softmax's legacy
implicit dim; torch's keyword arguments accepted."""

import warnings

import numpy as np
import pytest
import torch

import ffnn
import ffnn.nn as nn
import ffnn.nn.functional as F
from ffnn import accel
from tests.helpers import assert_close, check_op


@pytest.fixture
def x(rng):
    values = rng.standard_normal((4, 3)) * 3
    values[0, 0] = 25.0  # the linear part of softplus
    return values


@pytest.mark.parametrize("make", [
    lambda lib: lib.nn.ELU(),
    lambda lib: lib.nn.ELU(alpha=0.5),
    lambda lib: lib.nn.SELU(),
    lambda lib: lib.nn.Softplus(),
    lambda lib: lib.nn.Softplus(beta=2.0, threshold=5.0),
    lambda lib: lib.nn.Hardtanh(-0.5, 2.0),
    lambda lib: lib.nn.ReLU6(),
], ids=["elu", "elu_alpha", "selu", "softplus", "softplus_beta", "hardtanh", "relu6"])
def test_activation_modules_match_torch(make, x):
    check_op(lambda lib, a: make(lib)(a), x)
    assert repr(make(ffnn)) == repr(make(torch))


@pytest.mark.parametrize("kwargs", [{"min_value": -0.5, "max_value": 2.0},
                                    {"min_value": -2.0}, {"max_val": 3.0, "max_value": 2.0}])
def test_hardtanh_takes_torchs_deprecated_min_value_and_max_value(kwargs, x):
    """torch's old keyword names: used in place of min_val / max_val, with its FutureWarning."""
    with pytest.warns(FutureWarning, match="deprecated and renamed to `m") as ours:
        module = nn.Hardtanh(**kwargs)
    with pytest.warns(FutureWarning) as theirs:
        reference = torch.nn.Hardtanh(**kwargs)
    assert [str(w.message) for w in ours] == [str(w.message) for w in theirs]
    assert repr(module) == repr(reference)
    check_op(lambda lib, a: (module if lib is ffnn else reference)(a), x)


@pytest.mark.parametrize("name, kwargs", [("elu", {"alpha": 0.7}), ("selu", {}),
                                          ("softplus", {"beta": 0.5}), ("relu6", {}),
                                          ("hardtanh", {"min_val": 0.0, "max_val": 1.0}),
                                          ("relu", {"inplace": False}),
                                          ("leaky_relu", {"negative_slope": 0.2})])
def test_activation_functions_match_torch(name, kwargs, x):
    check_op(lambda lib, a: getattr(lib.nn.functional, name)(a, **kwargs), x)


@pytest.mark.parametrize("name", ["hardtanh", "relu6", "hardsigmoid", "hardswish", "mish"])
def test_gradients_at_the_corners_are_torch_s(name):
    """torch's backward kernels take a one-sided derivative at each corner (Hardtanh's and
    ReLU6's 0 at both ends, Hardsigmoid's 0 at ±3, Hardswish's 0 at -3 and 1 at 3), not the
    clamp's; a few values take the NumPy path, the kernels' is tested in
    tests/ops/test_pointwise_kernels.py."""
    values = np.array([-6.0, -3.0, -1.0, -0.0, 0.0, 1.0, 3.0, 6.0, 7.0, -1.5, 2.5])
    ours = ffnn.tensor(values, requires_grad=True)
    theirs = torch.tensor(values, requires_grad=True)
    getattr(F, name)(ours).sum().backward()
    getattr(torch.nn.functional, name)(theirs).sum().backward()
    expected = theirs.grad.numpy()
    if name == "hardsigmoid":  # torch's 1/6 is rounded to float32, even in float64
        expected = np.where(expected != 0, 1 / 6, 0.0)
    np.testing.assert_allclose(ours.grad.numpy(), expected, rtol=1e-12, atol=0)


def test_relu6_in_place_writes_into_its_input():
    x = ffnn.tensor([-1.0, 3.0, 8.0]) * 1.0
    out = nn.ReLU6(inplace=True)(x)
    assert out is x and x.tolist() == [0.0, 3.0, 6.0]
    assert repr(nn.ReLU6(inplace=True)) == repr(torch.nn.ReLU6(inplace=True))


@pytest.mark.parametrize("num_parameters, shape", [(1, (4, 3)), (3, (4, 3)), (3, (2, 3, 5)),
                                                   (1, (6,)),
                                                   (3, (64, 3, 40)), (1, (5000,))])  # compiled
def test_prelu_matches_torch_with_its_gradient(num_parameters, shape, rng):
    values = rng.standard_normal(shape)
    ours, theirs = nn.PReLU(num_parameters), torch.nn.PReLU(num_parameters, dtype=torch.float64)
    ours.double()
    with torch.no_grad():
        theirs.weight.copy_(torch.linspace(0.1, 0.4, num_parameters, dtype=torch.float64))
    ours.load_state_dict({"weight": theirs.weight.detach().numpy()})
    out = ours(ffnn.tensor(values, requires_grad=True))
    expected = theirs(torch.tensor(values, requires_grad=True))
    assert_close(out.numpy(), expected.detach().numpy())
    upstream = rng.standard_normal(shape)
    out.backward(upstream)
    expected.backward(torch.tensor(upstream))
    assert_close(np.asarray(ours.weight.grad), theirs.weight.grad.numpy())
    weight = np.linspace(0.1, 0.4, num_parameters)
    check_op(lambda lib, a, w: lib.nn.functional.prelu(a, w), values, weight)
    assert repr(ours) == repr(theirs)
    with pytest.raises(ValueError, match="needs input with 3 channels"):
        nn.PReLU(3)(ffnn.zeros(2, 4))


@pytest.mark.parametrize("shape, weight, message", [
    ((2, 4), (3,), "parameter numbers = 3 and channel size = 4"),
    ((4,), (4,), "parameter numbers = 4 and channel size = 1"),
    ((2, 4), (2, 2), "to be a scalar or 1D tensor, but got: ndim = 2")])
def test_functional_prelu_refuses_slopes_that_do_not_fit_as_torch(shape, weight, message):
    for lib in (ffnn, torch):
        with pytest.raises(RuntimeError, match=message):
            lib.nn.functional.prelu(lib.ones(*shape), lib.ones(*weight))


@pytest.mark.parametrize("num_parameters, shape", [(1, (64, 128)), (128, (64, 128)),
                                                   (8, (16, 8, 40)), (1, (10, 40, 30))])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("needs_input_grad", [True, False])
def test_compiled_prelu_equals_numpys_and_torchs(num_parameters, shape, dtype,
                                                 needs_input_grad, rng, monkeypatch):
    """The compiled pass (the shared slope along the last axis, per channel on axis 1) gives
    NumPy's values and torch's bit for bit, infinities, NaN and -0.0 among them; the slope's
    gradient to the sum's rounding."""
    values = rng.standard_normal(shape).astype(dtype)
    values.reshape(-1)[:4] = [np.inf, -np.inf, -0.0, np.nan]
    values.reshape(-1)[-4:] = 0.0
    weight = rng.uniform(0.05, 0.5, num_parameters).astype(dtype)
    upstream = rng.standard_normal(shape).astype(dtype)
    finite = values.copy()
    finite.reshape(-1)[:4] = [1.5, -2.5, -0.0, 0.5]

    def run(x):
        a = ffnn.tensor(x, requires_grad=needs_input_grad)
        w = nn.Parameter(ffnn.tensor(weight))
        out = F.prelu(a, w)
        out.backward(ffnn.tensor(upstream))
        return out.numpy(), None if a.grad is None else a.grad.numpy(), w.grad.numpy()

    def torch_run(x):
        a = torch.tensor(x, requires_grad=needs_input_grad)
        w = torch.tensor(weight, requires_grad=True)
        out = torch.nn.functional.prelu(a, w)
        out.backward(torch.tensor(upstream))
        return out.detach().numpy(), None if a.grad is None else a.grad.numpy(), w.grad.numpy()

    compiled, expected = run(values), torch_run(values)
    np.testing.assert_array_equal(compiled[0], expected[0])
    if needs_input_grad:
        np.testing.assert_array_equal(compiled[1], expected[1])
    else:
        assert compiled[1] is None
    assert np.isnan(compiled[2]).any() == np.isnan(expected[2]).any()
    compiled, expected = run(finite), torch_run(finite)
    monkeypatch.setattr(accel, "enabled", False)
    reference = run(finite)
    tolerance = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(compiled[2], expected[2], rtol=tolerance, atol=tolerance)
    np.testing.assert_allclose(compiled[2], reference[2], rtol=tolerance, atol=tolerance)
    for ours, numpys in zip(compiled[:2], reference[:2]):
        np.testing.assert_array_equal(ours, numpys)


def test_softmax_without_dim_uses_torchs_legacy_choice(rng):
    for shape in [(5,), (3, 4), (2, 3, 4)]:
        values = rng.standard_normal(shape)
        with pytest.warns(UserWarning, match="Implicit dimension choice"):
            ours = F.softmax(ffnn.tensor(values))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            expected = torch.nn.functional.softmax(torch.tensor(values))
            expected_log = torch.nn.functional.log_softmax(torch.tensor(values))
        assert_close(ours.numpy(), expected.numpy())
        with pytest.warns(UserWarning):
            assert_close(F.log_softmax(ffnn.tensor(values)).numpy(), expected_log.numpy())
    check_op(lambda lib, a: lib.nn.functional.softmax(a, dim=0, dtype=lib.float64), values)


@pytest.mark.parametrize("name", ["Softmax", "LogSoftmax"])
def test_softmax_modules_default_to_torchs_implicit_dim(name, rng):
    """nn.Softmax() / nn.LogSoftmax() as torch's: dim=None, the legacy choice with its warning
    (dim 0 of a 3-d input, 1 of a 4-d one: the last axis would be another result)."""
    assert repr(getattr(nn, name)()) == repr(getattr(torch.nn, name)())
    for shape in [(5,), (3, 4), (2, 3, 4), (2, 3, 4, 5)]:
        values = rng.standard_normal(shape)
        with pytest.warns(UserWarning, match="Implicit dimension choice"):
            ours = getattr(nn, name)()(ffnn.tensor(values)).numpy()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            expected = getattr(torch.nn, name)()(torch.tensor(values)).numpy()
        assert_close(ours, expected)


def test_new_activations_round_trip_through_a_checkpoint(tmp_path):
    model = nn.Sequential(nn.Linear(3, 3), nn.PReLU(3), nn.ELU(0.3), nn.Softplus(2.0),
                          nn.Hardtanh(-2.0, 2.0), nn.ReLU6(), nn.SELU())
    ffnn.save(tmp_path / "m.ckpt", model)
    loaded = ffnn.load(tmp_path / "m.ckpt").model
    x = ffnn.randn(5, 3)
    np.testing.assert_array_equal(loaded(x).numpy(), model(x).numpy())
    assert repr(loaded) == repr(model)
