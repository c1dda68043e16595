"""Forward hooks and forward pre-hooks on modules, as torch's (order, replacement, removal)."""

import numpy as np
import pytest
import torch

import ffnn
import ffnn.nn as nn


def _pair():
    ours = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    theirs = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.ReLU(), torch.nn.Linear(3, 1))
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    return ours, theirs


def test_forward_hooks_see_and_replace_as_torch():
    x = np.random.default_rng(0).standard_normal((4, 2)).astype(np.float32)
    results = []
    for lib, model in zip((ffnn, torch), _pair()):
        seen = {}

        def record(module, args, output, seen=seen):
            seen["relu"] = output.detach().numpy()  # returns None: the output stays

        handle = model[1].register_forward_hook(record)
        model[2].register_forward_pre_hook(lambda m, args: (args[0] * 2,))
        model[2].register_forward_hook(lambda m, args, out: out + 1)
        first = model(lib.tensor(x)).detach().numpy()
        assert seen["relu"].shape == (4, 3)
        handle.remove()
        seen.clear()
        model(lib.tensor(x))
        results.append((first, seen))
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-6)
    assert results[0][1] == {} == results[1][1]


def test_hook_order_prepend_and_handle_as_context_manager():
    model = nn.Linear(2, 2)
    calls = []
    model.register_forward_hook(lambda m, a, o: calls.append("first"))
    model.register_forward_hook(lambda m, a, o: calls.append("zeroth"), prepend=True)
    with model.register_forward_pre_hook(lambda m, a: calls.append("pre")):
        model(ffnn.ones(1, 2))
    model(ffnn.ones(1, 2))
    assert calls == ["pre", "zeroth", "first", "zeroth", "first"]
    with pytest.raises(TypeError, match="hook must be callable"):
        model.register_forward_hook(3)


def test_gradients_flow_through_a_replaced_output():
    model = nn.Linear(3, 1)
    model.register_forward_hook(lambda m, a, o: o * 3)
    model(ffnn.ones(2, 3)).sum().backward()
    np.testing.assert_allclose(np.asarray(model.bias.grad), [6.0])


def test_hooks_with_keyword_arguments_and_always_called_follow_torch():
    def build(lib):
        class Scaled(lib.nn.Module):
            def forward(self, x, *, scale=1.0):
                if scale < 0:
                    raise ValueError("negative scale")
                return x * scale

        return Scaled()

    results = []
    for lib in (ffnn, torch):
        module, seen = build(lib), []
        module.register_forward_pre_hook(
            lambda m, args, kwargs: (args, {**kwargs, "scale": kwargs.get("scale", 1.0) * 2}),
            with_kwargs=True)
        module.register_forward_hook(
            lambda m, args, kwargs, out, seen=seen: seen.append(("kw", kwargs["scale"])),
            with_kwargs=True)
        module.register_forward_hook(
            lambda m, args, out, seen=seen: seen.append(("always", out is None)),
            always_call=True)
        out = module(lib.tensor([1.0, 2.0]), scale=1.5)
        with pytest.raises(ValueError, match="negative scale"):
            module(lib.tensor([1.0]), scale=-1.0)
        results.append((np.asarray(out).tolist(), seen))
    assert results[0] == results[1]
    with pytest.raises(TypeError):
        ffnn.nn.Linear(1, 1).register_forward_hook(3, with_kwargs=True)
