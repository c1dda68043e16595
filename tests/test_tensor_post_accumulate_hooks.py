"""Tensor.register_post_accumulate_grad_hook against torch: called with the leaf after its
.grad holds the sum, after register_hook's hooks, once per backward however often the leaf
is used; removal; backward(inputs=), create_graph and autograd.grad; the errors."""

import pytest
import torch

import ffnn


def _log(lib) -> list:
    seen = []
    a = lib.tensor([1.0, 2.0], requires_grad=True)
    a.register_hook(lambda g: seen.append(("pre", g.tolist())))
    first = a.register_post_accumulate_grad_hook(
        lambda t: seen.append(("post", t is a, t.grad.tolist())))
    a.register_post_accumulate_grad_hook(lambda t: seen.append(("second",)))
    (a * a).sum().backward()
    (a * 3 + a).sum().backward()  # used twice: one call, on the accumulated .grad
    first.remove()
    (a * 3).sum().backward()
    b = lib.tensor(2.0, requires_grad=True)  # backward from the leaf itself
    b.register_post_accumulate_grad_hook(lambda t: seen.append(("b", t.grad.item())))
    b.backward(lib.tensor(5.0))
    return seen


def test_post_accumulate_hooks_run_as_torch():
    assert _log(ffnn) == _log(torch)


def _paths(lib) -> list:
    seen = []
    d = lib.tensor(2.0, requires_grad=True)
    e = lib.tensor(3.0, requires_grad=True)
    d.register_post_accumulate_grad_hook(lambda t: seen.append(("d", t.grad.item())))
    e.register_post_accumulate_grad_hook(lambda t: seen.append(("e", t.grad.item())))
    lib.autograd.grad(d * 2, d)  # no .grad accumulated: no call
    (d * e).backward(inputs=[d])
    (d * e * d).backward(create_graph=True)
    seen.append(("e graph", e.grad.requires_grad))
    return sorted(seen, key=str)


@pytest.mark.filterwarnings("ignore:Using backward\\(\\) with create_graph=True")
def test_post_accumulate_hooks_follow_the_backward_paths_as_torch():
    assert _paths(ffnn) == _paths(torch)


def _step_in_backward(lib):
    g = lib.tensor(2.0, requires_grad=True)

    def step(t):
        with lib.no_grad():
            t -= 0.1 * t.grad
        t.grad = None

    g.register_post_accumulate_grad_hook(step)
    (g * g).backward()
    return g.item(), g.grad


def test_an_optimizer_step_in_the_hook_as_torch():
    assert _step_in_backward(ffnn) == pytest.approx(_step_in_backward(torch))


@pytest.mark.parametrize("lib", [ffnn, torch])
def test_post_accumulate_hook_errors_as_torch(lib):
    a = lib.tensor(1.0, requires_grad=True)
    with pytest.raises(RuntimeError, match="cannot be registered on non-leaf tensors"):
        (a * 2).register_post_accumulate_grad_hook(lambda t: None)
    with pytest.raises(RuntimeError, match="doesn't require gradient"):
        lib.tensor(1.0).register_post_accumulate_grad_hook(lambda t: None)
    a.register_post_accumulate_grad_hook(lambda t: lib.tensor(1.0))
    with pytest.raises(RuntimeError, match="post accumulate grad hooks should return None"):
        (a * 2).backward()


def test_a_hooked_parameter_keeps_the_fast_training_step_off():
    from ffnn.compiler.chain import ChainStep

    model = ffnn.nn.Sequential(ffnn.nn.Linear(3, 4), ffnn.nn.ReLU(), ffnn.nn.Linear(4, 1))
    loss = ffnn.nn.MSELoss()
    step, _ = ChainStep.capture(model, loss)
    assert step is not None and step.intact()
    model[0].weight.register_post_accumulate_grad_hook(lambda t: None)
    assert not step.intact()
    step, why = ChainStep.capture(model, loss)
    assert step is None and "hooks" in why
