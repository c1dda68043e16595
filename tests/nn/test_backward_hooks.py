"""Module backward hooks against torch's (float64): what each hook receives, in which order,
what a returned value replaces, modules whose inputs need no gradient, several inputs and
outputs, and removal (a module whose hooks are gone is called as one that never had any)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ffnn
from tests.helpers import assert_close


def _values(grads) -> list:
    return [None if g is None else np.asarray(g.detach()) for g in grads]


def _model(lib):
    rng = np.random.default_rng(0)
    model = lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.Tanh(), lib.nn.Linear(4, 2)).double()
    with lib.no_grad():
        for p in model.parameters():
            p.copy_(lib.tensor(rng.standard_normal(tuple(p.shape))))
    return model


def _run(lib, x_requires_grad: bool):
    model, seen = _model(lib), []

    def full(module, grad_input, grad_output):
        seen.append(("full", type(module).__name__, _values(grad_input), _values(grad_output)))
        return tuple(None if g is None else 2 * g for g in grad_input)

    def pre(module, grad_output):
        seen.append(("pre", type(module).__name__, _values(grad_output)))
        return tuple(3 * g for g in grad_output)

    model[0].register_full_backward_hook(full)
    model[2].register_full_backward_pre_hook(pre)
    model[2].register_full_backward_hook(full)
    model.register_full_backward_hook(lambda m, gi, go: seen.append(("model", _values(gi))))
    x = lib.tensor(np.random.default_rng(1).standard_normal((5, 3)),
                   requires_grad=x_requires_grad)
    (model(x) ** 2).sum().backward()
    grads = [np.asarray(p.grad) for p in model.parameters()]
    return seen, grads, None if x.grad is None else np.asarray(x.grad)


def _same(a, b) -> None:
    if isinstance(a, (list, tuple)):
        assert type(a) is type(b) and len(a) == len(b), (a, b)
        for u, v in zip(a, b):
            _same(u, v)
    elif isinstance(a, np.ndarray):
        assert_close(a, b)
    else:
        assert a == b


@pytest.mark.parametrize("x_requires_grad", [True, False])
def test_hooks_see_and_replace_what_torchs_do(x_requires_grad):
    ours, theirs = _run(ffnn, x_requires_grad), _run(torch, x_requires_grad)
    assert [s[0] for s in ours[0]] == [s[0] for s in theirs[0]]
    _same(ours[0], theirs[0])
    _same(ours[1], theirs[1])
    if x_requires_grad:
        assert_close(ours[2], theirs[2])


def test_several_inputs_and_outputs_and_arguments_that_are_not_tensors():
    def build(lib):
        class Split(lib.nn.Module):
            def forward(self, a, scale, b):
                return a * scale + b, a * b

        return Split()

    results = []
    for lib in (ffnn, torch):
        seen, module = [], build(lib)
        module.register_full_backward_hook(
            lambda m, gi, go, seen=seen: seen.append((_values(gi), _values(go))))
        a = lib.tensor([1.0, -2.0], requires_grad=True, dtype=lib.float64)
        b = lib.tensor([0.5, 3.0], requires_grad=True, dtype=lib.float64)
        first, second = module(a, 2.0, b)
        (first.sum() + (second ** 2).sum()).backward()
        results.append((seen, np.asarray(a.grad), np.asarray(b.grad)))
    _same(results[0], results[1])


def test_no_input_needing_a_gradient_calls_the_hook_with_none_and_refuses_a_result():
    for lib in (ffnn, torch):
        layer = lib.nn.Linear(2, 1)
        layer.register_full_backward_hook(lambda m, gi, go, lib=lib: (lib.ones(3, 2),))
        with pytest.raises(RuntimeError, match="no input requires gradient"):
            layer(lib.ones(3, 2)).sum().backward()


def test_removed_hooks_leave_the_module_as_it_was():
    layer = ffnn.nn.Linear(2, 2)
    before = set(vars(layer))
    handles = [layer.register_full_backward_hook(lambda m, gi, go: None),
               layer.register_full_backward_pre_hook(lambda m, go: None)]
    assert "_forward_hooks" in vars(layer)
    for handle in handles:
        handle.remove()
    assert set(vars(layer)) == before


def test_the_deprecated_form_warns_and_calls_the_hook_with_the_inputs_gradients():
    layer, seen = ffnn.nn.Linear(2, 1), []
    with pytest.warns(FutureWarning, match="register_full_backward_hook"):
        layer.register_backward_hook(lambda m, gi, go: seen.append(gi))
    x = ffnn.ones(3, 2, requires_grad=True)
    layer(x).sum().backward()
    assert_close(seen[0][0].numpy(), x.grad.numpy())
