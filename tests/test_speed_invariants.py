"""What ``ffnn`` does to be fast, checked by instrumentation (no timings): float32 kept end
to end, no gradient computed that nobody needs, optimizer state updated in place, the
blocked (cache-sized) and compiled Adam updates equal to the reference and to torch, each
named explicitly so that no path hides behind another."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ffnn
from ffnn import accel, nn, optim
from ffnn.ops import activations, matrix
from ffnn.optim import adam as adam_module


def _mlp():
    return nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 4))


def _step(model, opt, x, y):
    opt.zero_grad()
    loss = nn.CrossEntropyLoss()(model(x), y)
    loss.backward()
    opt.step()
    return loss


@pytest.mark.parametrize("make_opt", [
    lambda p: optim.Adam(p, lr=1e-2, amsgrad=True), lambda p: optim.AdamW(p),
    lambda p: optim.SGD(p, lr=0.1, momentum=0.9)])
def test_float32_end_to_end(make_opt):
    model = _mlp()
    opt = make_opt(model.parameters())
    x = ffnn.randn(5, 8)
    y = ffnn.tensor(np.array([0, 1, 2, 3, 0]))
    for _ in range(2):
        loss = _step(model, opt, x, y)
        assert loss.dtype == np.float32
    for p in model.parameters():
        assert p.data.dtype == np.float32 and p.grad.dtype == np.float32
        arrays = [v for v in opt.state[p].values() if isinstance(v, np.ndarray)]
        assert arrays and all(a.dtype == np.float32 for a in arrays)


def _record_linear_needs(monkeypatch) -> list:
    """Each Linear op's needs and whether its dL/dx is None, as its backward runs (the
    graph's own ops: no native chain, whose kernel computes no dL/dx for its first layer
    by construction)."""
    from ffnn.nn import chain_call

    monkeypatch.setattr(chain_call, "native_chain", lambda *args: None)
    seen = []
    original = matrix.Linear.backward

    def backward(self, grad):
        out = original(self, grad)
        seen.append((self.needs_input_grad, out[0] is None))
        return out

    monkeypatch.setattr(matrix.Linear, "backward", backward)
    return seen


def test_first_layer_computes_no_input_gradient(monkeypatch):
    seen = _record_linear_needs(monkeypatch)
    model = _mlp()
    _step(model, optim.SGD(model.parameters()), ffnn.randn(3, 8), ffnn.tensor(np.array([0, 1, 2])))
    # backward runs the last layer first
    assert seen == [((True, True, True), False), ((False, True, True), True)]


def test_frozen_parameters_get_no_gradient(monkeypatch):
    seen = _record_linear_needs(monkeypatch)
    model = _mlp()
    model[0].weight.requires_grad_(False)
    model[0].bias.requires_grad_(False)
    before = model[0].weight.numpy().copy()
    opt = optim.Adam([p for p in model.parameters() if p.requires_grad])
    _step(model, opt, ffnn.randn(3, 8), ffnn.tensor(np.array([0, 1, 2])))
    assert model[0].weight.grad is None and model[0].bias.grad is None
    # the frozen first layer records no graph at all; the second computes no input gradient
    assert seen == [((False, True, True), True)]
    np.testing.assert_array_equal(model[0].weight.data, before)
    assert model[2].weight.grad is not None


def test_inference_saves_nothing_for_a_backward(monkeypatch):
    seen = []
    original = activations.ReLU.forward

    def forward(self, x):
        out = original(self, x)
        seen.append((self.needs_input_grad, hasattr(self, "mask")))
        return out

    monkeypatch.setattr(activations.ReLU, "forward", forward)
    model = _mlp()
    x = ffnn.randn(4, 8)
    with ffnn.no_grad():
        y = model(x)
    assert not y.requires_grad and seen == [((False,), False)]
    # the numbers of a forward with a graph (a native chain: to rounding)
    np.testing.assert_allclose(y.data, model(x).data, rtol=1e-6, atol=1e-7)


def test_optimizer_updates_parameters_and_state_in_place():
    model = _mlp()
    opt = optim.Adam(model.parameters())
    x, y = ffnn.randn(5, 8), ffnn.tensor(np.array([0, 1, 2, 3, 0]))
    _step(model, opt, x, y)
    params = {id(p): p.numpy() for p in model.parameters()}
    state = {id(p): (opt.state[p]["exp_avg"], opt.state[p]["exp_avg_sq"])
             for p in model.parameters()}
    scratch = {k: [id(a) for a in v] for k, v in opt._scratch.items()}
    _step(model, opt, x, y)
    for p in model.parameters():
        assert p.numpy() is params[id(p)]
        assert opt.state[p]["exp_avg"] is state[id(p)][0]
        assert opt.state[p]["exp_avg_sq"] is state[id(p)][1]
        assert opt.state[p]["step"] == 2
    assert {k: [id(a) for a in v] for k, v in opt._scratch.items()} == scratch


ADAM_OPTIONS = [
    dict(weight_decay=0.0, decoupled_weight_decay=False, amsgrad=False, maximize=False),
    dict(weight_decay=0.1, decoupled_weight_decay=False, amsgrad=True, maximize=True),
    dict(weight_decay=0.05, decoupled_weight_decay=True, amsgrad=False, maximize=False)]


def _adam_run(implementation: str, options: dict, dtype, n: int):
    """Three steps of ``adam_update`` with one named implementation: (p, m, v, vmax)."""
    p = np.random.default_rng(0).standard_normal(n).astype(dtype)
    m, v, vmax = np.zeros(n, dtype), np.zeros(n, dtype), np.zeros(n, dtype)
    scratch = (np.empty(n, dtype), np.empty(n, dtype))
    grads = np.random.default_rng(1).standard_normal((3, n)).astype(dtype)
    for step, g in enumerate(grads, start=1):
        adam_module.adam_update(p, g, m, v, vmax, scratch, step=step, lr=1e-2, beta1=0.9,
                                beta2=0.99, eps=1e-8, implementation=implementation, **options)
    return p, m, v, vmax


@pytest.mark.parametrize("options", ADAM_OPTIONS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_blocked_adam_equals_the_reference_bit_for_bit(options, dtype):
    n = 3 * adam_module._CHUNK + 123  # several blocks and a partial one
    blocked = _adam_run("blocked", options, dtype, n)
    reference = _adam_run("reference", options, dtype, n)
    for a, b in zip(blocked, reference):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(blocked[0], np.random.default_rng(0).standard_normal(n)
                              .astype(dtype))  # the parameter moved


@pytest.mark.parametrize("options", ADAM_OPTIONS)
@pytest.mark.parametrize("dtype, rtol, atol", [(np.float32, 1e-5, 1e-6),
                                               (np.float64, 1e-12, 1e-14)])
def test_compiled_adam_equals_the_reference(options, dtype, rtol, atol):
    n = 5000
    if not accel.available:  # without numba the compiled kernel is refused, not faked
        with pytest.raises(ValueError, match="implementation='compiled' needs numba"):
            _adam_run("compiled", options, dtype, n)
        return
    compiled = _adam_run("compiled", options, dtype, n)
    reference = _adam_run("reference", options, dtype, n)
    for a, b in zip(compiled, reference):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)


def test_adam_picks_its_implementation(monkeypatch):
    big, small = np.zeros(adam_module._CHUNK + 1), np.zeros(10)
    monkeypatch.setattr(accel, "enabled", False)
    assert adam_module.adam_implementation((big,) * 4, (big, big)) == "blocked"
    assert adam_module.adam_implementation((small,) * 4, (small, small)) == "reference"
    strided = np.zeros(2 * adam_module._CHUNK + 2)[::2]
    assert adam_module.adam_implementation((strided,) * 4, (big, big)) == "reference"
    monkeypatch.setattr(accel, "enabled", accel.available)
    expected = "compiled" if accel.available else "reference"
    assert adam_module.adam_implementation((small,) * 4, (small, small)) == expected
    with pytest.raises(ValueError, match="implementation must be 'auto' or one of"):
        adam_module.adam_update(small, small, small, small, None, (small, small), step=1,
                                lr=0.1, beta1=0.9, beta2=0.99, eps=1e-8, weight_decay=0,
                                amsgrad=False, maximize=False, decoupled_weight_decay=False,
                                implementation="fast")


def test_blocked_adamw_matches_torch_on_a_large_parameter(monkeypatch):
    """The optimizer with the compiled kernel switched off takes the blocked path (spied) and
    follows torch."""
    monkeypatch.setattr(accel, "enabled", False)
    calls = []
    blocked = adam_module._blocked_adam
    monkeypatch.setattr(adam_module, "_blocked_adam",
                        lambda *a, **k: calls.append(1) or blocked(*a, **k))
    rng = np.random.default_rng(3)
    n = 2 * adam_module._CHUNK + 7
    start = rng.standard_normal(n)
    param = nn.Parameter(start.astype(np.float64).copy())
    ref = torch.tensor(start.copy(), dtype=torch.float64, requires_grad=True)
    ours = optim.AdamW([param], lr=1e-2, weight_decay=0.1, amsgrad=True)
    theirs = torch.optim.AdamW([ref], lr=1e-2, weight_decay=0.1, amsgrad=True)
    for step in range(4):
        g = np.random.default_rng(10 + step).standard_normal(param.numpy().shape)
        param.grad = g.copy()
        ref.grad = torch.tensor(g.copy())
        ours.step()
        theirs.step()
    assert len(calls) == 4
    np.testing.assert_allclose(param.numpy(), ref.detach().numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(ours.state[param]["exp_avg_sq"],
                               theirs.state[ref]["exp_avg_sq"].numpy(), rtol=1e-12)
