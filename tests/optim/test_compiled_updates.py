"""Every optimizer's compiled update (generated from its one-element description) computes
what its NumPy reference computes, in float32 and float64, with every flag; both follow
torch. The compiled path is spied on, so a silent fallback to the reference would fail."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ffnn import accel, optim
from ffnn.nn.parameter import Parameter
from ffnn.optim import adadelta, adagrad, adam, rmsprop, sgd

pytestmark = pytest.mark.skipif(not accel.available, reason="numba is not installed")

SHAPE = (64, 80)  # above every update's compiled-path threshold
STEPS = 6

CASES = [
    ("SGD", sgd, "_compiled_sgd", dict(lr=0.05)),
    ("SGD", sgd, "_compiled_sgd", dict(lr=0.05, momentum=0.9, dampening=0.1, weight_decay=0.01)),
    ("SGD", sgd, "_compiled_sgd", dict(lr=0.05, momentum=0.9, nesterov=True, maximize=True)),
    ("Adam", adam, "_compiled_adam", dict(lr=0.01)),
    ("Adam", adam, "_compiled_adam", dict(lr=0.01, weight_decay=0.1, amsgrad=True,
                                          maximize=True)),
    ("AdamW", adam, "_compiled_adam", dict(lr=0.01, weight_decay=0.05, amsgrad=True)),
    ("RMSprop", rmsprop, "_compiled_rmsprop", dict(lr=0.01)),
    ("RMSprop", rmsprop, "_compiled_rmsprop", dict(lr=0.01, momentum=0.8, centered=True,
                                                   weight_decay=0.02)),
    ("RMSprop", rmsprop, "_compiled_rmsprop", dict(lr=0.01, centered=True, maximize=True)),
    ("Adagrad", adagrad, "_compiled_adagrad", dict(lr=0.05, lr_decay=0.01,
                                                   weight_decay=0.01)),
    ("Adagrad", adagrad, "_compiled_adagrad", dict(lr=0.05, maximize=True,
                                                   initial_accumulator_value=0.1)),
    ("Adadelta", adadelta, "_compiled_adadelta", dict(lr=0.5, weight_decay=0.01)),
]
IDS = [f"{name}-{'-'.join(options)}" for name, _, _, options in CASES]


def _gradient(values: np.ndarray) -> np.ndarray:
    return np.sin(3 * values) + np.tanh(values) - 0.3


def _ffnn_run(name, options, dtype, compiled: bool, module, spied: str, monkeypatch):
    monkeypatch.setattr(accel, "enabled", compiled)
    calls = []
    original = getattr(module, spied)
    monkeypatch.setattr(module, spied, lambda *a, **k: calls.append(1) or original(*a, **k))
    param = Parameter(np.random.default_rng(0).standard_normal(SHAPE).astype(dtype))
    opt = getattr(optim, name)([param], **options)
    for _ in range(STEPS):
        param.grad = _gradient(param.numpy()).astype(dtype)
        opt.step()
    assert len(calls) == (STEPS if compiled else 0)
    return param.numpy().copy(), opt.state[param]


def _torch_run(name, options):
    param = torch.tensor(np.random.default_rng(0).standard_normal(SHAPE), requires_grad=True)
    opt = getattr(torch.optim, name)([param], **options)
    for _ in range(STEPS):
        param.grad = torch.from_numpy(_gradient(param.detach().numpy()))
        opt.step()
    return param.detach().numpy()


@pytest.mark.parametrize("name, module, spied, options", CASES, ids=IDS)
def test_compiled_update_equals_the_reference_and_torch_in_float64(
        name, module, spied, options, monkeypatch):
    fast, fast_state = _ffnn_run(name, options, np.float64, True, module, spied, monkeypatch)
    ref, ref_state = _ffnn_run(name, options, np.float64, False, module, spied, monkeypatch)
    np.testing.assert_allclose(fast, ref, rtol=1e-12, atol=1e-14)
    for key, value in ref_state.items():
        np.testing.assert_allclose(fast_state[key], value, rtol=1e-12, atol=1e-14, err_msg=key)
    np.testing.assert_allclose(fast, _torch_run(name, options), rtol=1e-10, atol=1e-12)
    assert not np.allclose(fast, np.random.default_rng(0).standard_normal(SHAPE))


@pytest.mark.parametrize("name, module, spied, options", CASES, ids=IDS)
def test_compiled_update_equals_the_reference_in_float32(
        name, module, spied, options, monkeypatch):
    fast, fast_state = _ffnn_run(name, options, np.float32, True, module, spied, monkeypatch)
    ref, _ = _ffnn_run(name, options, np.float32, False, module, spied, monkeypatch)
    assert fast.dtype == np.float32
    assert all(v.dtype == np.float32 for v in fast_state.values() if hasattr(v, "dtype"))
    np.testing.assert_allclose(fast, ref, rtol=2e-5, atol=2e-6)


@pytest.mark.parametrize("update, arrays", [
    (sgd.sgd_update, 1), (adagrad.adagrad_update, 1), (rmsprop.rmsprop_update, 1)])
def test_an_unknown_or_impossible_implementation_is_named(update, arrays):
    x = np.zeros(8)
    strided = np.zeros(16)[::2]
    options = {
        sgd.sgd_update: dict(lr=0.1, momentum=0.0, dampening=0.0, weight_decay=0.0,
                             nesterov=False, maximize=False, first_step=False),
        adagrad.adagrad_update: dict(step=1, lr=0.1, lr_decay=0.0, weight_decay=0.0,
                                     eps=1e-10, maximize=False),
        rmsprop.rmsprop_update: dict(lr=0.1, alpha=0.9, eps=1e-8, weight_decay=0.0,
                                     momentum=0.0, centered=False, maximize=False),
    }[update]
    state = {sgd.sgd_update: (None,), adagrad.adagrad_update: (x.copy(),),
             rmsprop.rmsprop_update: (x.copy(), None, None)}[update]
    name = update.__name__
    with pytest.raises(ValueError, match=f"{name}: implementation must be 'auto' or one of"):
        update(x, x, *state, (x, x), implementation="fused", **options)
    with pytest.raises(ValueError, match=f"{name}: implementation='compiled' needs numba"):
        update(strided, strided, *[strided if s is not None else None for s in state],
               (x, x), implementation="compiled", **options)
