"""Hooks around an optimizer's step (``ffnn.optim.step_hooks``), against torch's, and under
the compiled training step."""

from __future__ import annotations

import importlib
import warnings

import numpy as np
import pytest
import torch

import ffnn
from ffnn import nn, optim
from tests._fast_steps import eager_step


def _hook_log(lib) -> list:
    """The calls a program's hooks see over two steps of SGD, one hook removed between."""
    log = []
    param = lib.nn.Parameter(lib.tensor(np.ones(3)))
    opt = lib.optim.SGD([param], lr=0.1)
    module = importlib.import_module(f"{lib.__name__}.optim.optimizer")
    handles = [
        module.register_optimizer_step_pre_hook(
            lambda o, args, kwargs: log.append(("global pre", len(args), args[0] is o))),
        opt.register_step_pre_hook(lambda o, args, kwargs: log.append(("pre", sorted(kwargs)))),
        opt.register_step_post_hook(lambda o, args, kwargs: log.append("post")),
        module.register_optimizer_step_post_hook(lambda o, args, kwargs: log.append("global post")),
    ]
    for step in range(2):
        param.grad = lib.tensor(np.full(3, 0.5))
        opt.step()
        log.append(float(param.detach().numpy()[0]))
        if step == 0:
            handles[1].remove()
    for handle in handles:
        handle.remove()
    opt.step()  # no hook left
    return log


def test_step_hooks_run_as_torchs():
    assert _hook_log(ffnn) == _hook_log(torch)


def test_a_pre_hook_replaces_the_arguments_and_a_bad_result_is_refused():
    param = nn.Parameter(ffnn.tensor(np.array([3.0])))
    opt = optim.SGD([param], lr=0.1)
    calls = []

    def closure():
        calls.append(1)
        return ffnn.tensor(1.5)

    handle = opt.register_step_pre_hook(lambda o, args, kwargs: (args, {"closure": closure}))
    param.grad = ffnn.tensor(np.array([1.0]))
    assert float(opt.step()) == 1.5 and calls == [1]
    handle.remove()
    opt.register_step_pre_hook(lambda o, args, kwargs: "not a tuple")
    with pytest.raises(RuntimeError, match="must return None or a tuple"):
        opt.step()
    with pytest.raises(TypeError, match="hook must be callable"):
        opt.register_step_post_hook(3)


def test_a_subclass_calling_its_parents_step_runs_the_hooks_once():
    class Clipped(optim.SGD):
        def step(self, closure=None):
            for group in self.param_groups:
                for p in group["params"]:
                    np.clip(p._grad, -1, 1, out=p._grad)
            return super().step(closure)

    param = nn.Parameter(ffnn.tensor(np.array([0.0])))
    opt = Clipped([param], lr=1.0)
    calls = []
    opt.register_step_post_hook(lambda o, args, kwargs: calls.append(1))
    param.grad = ffnn.tensor(np.array([5.0]))
    opt.step()
    assert calls == [1] and float(param.detach().numpy()[0]) == -1.0


@pytest.mark.parametrize("mode", ["replay", "fused"])
@pytest.mark.parametrize("make", [lambda p: optim.SGD(p, lr=0.05, momentum=0.9),
                                  lambda p: optim.Adam(p, lr=1e-2),
                                  lambda p: optim.RMSprop(p, lr=1e-2)])
def test_the_compiled_step_runs_the_hooks(mode, make, rng):
    """A post-hook keeping an average of the weights (an EMA, as programs write one): the
    compiled step calls it at every step, with the same weights as the eager step."""
    results = []
    for compiled in (False, True):
        ffnn.manual_seed(0)
        model = nn.Sequential(nn.Linear(5, 8), nn.Tanh(), nn.Linear(8, 3)).double()
        opt = make(model.parameters())
        average = [np.zeros_like(p._data) for p in model.parameters()]

        def keep_average(o, args, kwargs, model=model, average=average):
            for a, p in zip(average, model.parameters()):
                a += 0.1 * (p._data - a)

        opt.register_step_post_hook(keep_average)
        step = ffnn.compile(model, nn.MSELoss(), opt, mode=mode) if compiled else None
        data = np.random.default_rng(0)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            for _ in range(4):
                x, y = (ffnn.tensor(data.standard_normal((8, k))) for k in (5, 3))
                if step is None:
                    eager_step(model, nn.MSELoss(), opt, x, y)
                else:
                    step(x, y)
                    assert step.compiled
        results.append((average, [p._data.copy() for p in model.parameters()]))
    for a, b in zip(results[0][0] + results[0][1], results[1][0] + results[1][1], strict=True):
        np.testing.assert_allclose(b, a, rtol=1e-12, atol=1e-14)
        assert np.abs(a).max() > 0
