"""ffnn.compile after the optimizer's state or the loss changes between steps (a momentum
turned on, AMSGrad switched on, a state cleared or an array replaced, a class weight set,
a target that requires a gradient): every step is the eager one, bit for bit (replay) or to
rounding (fused)."""

from __future__ import annotations

import warnings
import weakref

import numpy as np
import pytest

import ffnn
from ffnn import nn, optim
from tests._fast_steps import eager_step


def _set(key, value):
    def change(opt):
        for group in opt.param_groups:
            group[key] = value
    return change


def _clear_all(opt):
    opt.state.clear()


def _clear_each(opt):
    for group in opt.param_groups:
        for p in group["params"]:
            opt.state[p].clear()


def _zero_buffers(opt):
    for state in opt.state.values():
        state["momentum_buffer"] = np.zeros_like(state["momentum_buffer"])


CHANGES = {
    "momentum turned on": (lambda p: optim.SGD(p, lr=0.05), _set("momentum", 0.9)),
    "nesterov momentum turned on": (lambda p: optim.SGD(p, lr=0.05),
                                    lambda opt: (_set("momentum", 0.9)(opt),
                                                 _set("nesterov", True)(opt))),
    "momentum turned off": (lambda p: optim.SGD(p, lr=0.05, momentum=0.9), _set("momentum", 0)),
    "SGD state cleared": (lambda p: optim.SGD(p, lr=0.05, momentum=0.9), _clear_all),
    "momentum buffers replaced": (lambda p: optim.SGD(p, lr=0.05, momentum=0.9), _zero_buffers),
    "AMSGrad turned on": (lambda p: optim.Adam(p, lr=1e-2), _set("amsgrad", True)),
    "Adam state cleared": (lambda p: optim.Adam(p, lr=1e-2), _clear_all),
    "each Adam state cleared": (lambda p: optim.Adam(p, lr=1e-2), _clear_each),
    "AdamW state cleared": (lambda p: optim.AdamW(p, lr=1e-2, amsgrad=True), _clear_all),
}


def _twins(make_optimizer, loss_fn, mode):
    models = []
    for _ in range(2):
        ffnn.manual_seed(0)
        models.append(nn.Sequential(nn.Linear(5, 8), nn.Tanh(), nn.Linear(8, 3)).double())
    opts = [make_optimizer(m.parameters()) for m in models]
    return models, opts, ffnn.compile(models[1], loss_fn, opts[1], mode=mode)


def _batches(rng, loss: str, steps: int = 6, n: int = 8):
    for _ in range(steps):
        x = ffnn.tensor(rng.standard_normal((n, 5)))
        y = ffnn.tensor(rng.integers(0, 3, n)) if loss == "labels" else \
            ffnn.tensor((rng.random((n, 3)) > 0.5).astype(float))
        yield x, y


def _close(mode):
    return {"rtol": 0, "atol": 0} if mode == "replay" else {"rtol": 1e-10, "atol": 1e-13}


@pytest.mark.parametrize("change", sorted(CHANGES))
@pytest.mark.parametrize("mode", ["replay", "fused"])
def test_optimizer_state_changed_between_steps(change, mode, rng):
    make_optimizer, apply = CHANGES[change]
    loss_fn = nn.CrossEntropyLoss()
    (eager_model, model), (opt_e, opt), step = _twins(make_optimizer, loss_fn, mode)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a fallback would warn
        for i, (x, y) in enumerate(_batches(rng, "labels")):
            if i == 3:
                apply(opt_e)
                apply(opt)
            expected = eager_step(eager_model, loss_fn, opt_e, x, y)
            np.testing.assert_allclose(step(x, y), expected, **_close(mode))
            assert step.compiled
    for a, b in zip(eager_model.parameters(), model.parameters(), strict=True):
        np.testing.assert_allclose(b._data, a._data, **_close(mode))
    states_e, states = opt_e.state_dict()["state"], opt.state_dict()["state"]
    assert states_e.keys() == states.keys()
    for key, state in states_e.items():
        assert state.keys() == states[key].keys()
        for name, value in state.items():
            np.testing.assert_allclose(np.asarray(states[key][name]), np.asarray(value),
                                       **_close(mode))


@pytest.mark.parametrize("loss,attribute,value", [
    ("labels", "weight", np.array([0.2, 1.0, 3.0])),
    ("bits", "pos_weight", np.array([0.5, 2.0, 4.0])),
    ("bits", "weight", np.array([1.0, 0.1, 2.0]))])
@pytest.mark.parametrize("mode", ["replay", "fused"])
def test_a_loss_weight_set_after_compiling_is_used(loss, attribute, value, mode, rng):
    loss_fn = nn.CrossEntropyLoss() if loss == "labels" else nn.BCEWithLogitsLoss()
    (eager_model, model), (opt_e, opt), step = _twins(lambda p: optim.SGD(p, lr=0.1),
                                                      loss_fn, mode)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the weighted loss may run otherwise: its reason
        for i, (x, y) in enumerate(_batches(rng, loss)):
            if i == 2:
                setattr(loss_fn, attribute, ffnn.tensor(value))
            expected = eager_step(eager_model, loss_fn, opt_e, x, y)
            np.testing.assert_allclose(step(x, y), expected, **_close(mode))
    for a, b in zip(eager_model.parameters(), model.parameters(), strict=True):
        np.testing.assert_allclose(b._data, a._data, **_close(mode))


@pytest.mark.parametrize("mode", ["replay", "fused"])
def test_a_target_that_requires_a_gradient_gets_it_from_the_eager_step(mode, rng):
    """A teacher's output as the target, not detached: the eager step's backward reaches
    the teacher; the compiled step runs it so, with its reason."""
    grads = []
    for compiled in (False, True):
        ffnn.manual_seed(1)
        teacher = nn.Linear(5, 3).double()
        (student, _), (opt, _), step = _twins(lambda p: optim.SGD(p, lr=0.1), nn.MSELoss(),
                                              mode)
        x = ffnn.tensor(np.random.default_rng(0).standard_normal((8, 5)))
        if compiled:
            with pytest.warns(UserWarning, match="the target requires a gradient"):
                step.__class__(student, nn.MSELoss(), opt, mode)(x, teacher(x))
        else:
            eager_step(student, nn.MSELoss(), opt, x, teacher(x))
        grads.append(teacher.weight.grad.numpy().copy())
    assert np.array_equal(grads[0], grads[1]) and np.abs(grads[0]).max() > 0


class _TwoOutputs(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc, self.out = nn.Linear(5, 8), nn.Linear(8, 3)

    def forward(self, x):
        h = ffnn.tanh(self.fc(x))
        return self.out(h), h


@pytest.mark.parametrize("mode", ["replay", "fused"])
def test_a_forward_returning_a_tuple_runs_the_eager_step(mode, rng):
    """The loss takes one element of the forward's tuple: not a chain, so the eager step,
    with its reason (it raised AttributeError on the tuple)."""
    losses = []
    for compiled in (False, True):
        ffnn.manual_seed(0)
        model = _TwoOutputs().double()
        opt = optim.SGD(model.parameters(), lr=0.1)
        loss_fn = lambda out, y: nn.functional.mse_loss(out[0], y)  # noqa: E731
        step = ffnn.compile(model, loss_fn, opt, mode=mode) if compiled else None
        data = np.random.default_rng(0)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            for _ in range(3):
                x, y = (ffnn.tensor(data.standard_normal((8, k))) for k in (5, 3))
                losses.append(step(x, y) if step else eager_step(model, loss_fn, opt, x, y))
        if compiled:
            assert not step.compiled and caught and isinstance(step.output, tuple)
    assert losses[:3] == losses[3:]


@pytest.mark.parametrize("mode", ["replay", "fused"])
def test_a_gradient_kept_from_a_step_is_not_written_by_the_next(mode, rng):
    """``g = p.grad`` after a step stays that step's gradient, as the eager step gives each
    step its own arrays; arrays nobody kept are written again (no new memory a step)."""
    (eager_model, model), (opt_e, opt), step = _twins(lambda p: optim.SGD(p, lr=0.1),
                                                      nn.MSELoss(), mode)
    batches = list(_batches(rng, "bits", steps=3))
    eager_step(eager_model, nn.MSELoss(), opt_e, *batches[0])
    step(*batches[0])
    kept, kept_eager = model[0].weight.grad, eager_model[0].weight.grad
    first = kept.numpy().copy()
    for x, y in batches[1:]:
        eager_step(eager_model, nn.MSELoss(), opt_e, x, y)
        step(x, y)
    assert np.array_equal(kept.numpy(), first)
    np.testing.assert_allclose(kept.numpy(), kept_eager.numpy(), **_close(mode))
    del kept
    arrays = [weakref.ref(p._grad) for p in model.parameters()]  # not holding them
    step(*batches[1])
    if mode == "fused":
        assert all(a() is p._grad for a, p in zip(arrays, model.parameters(), strict=True))


@pytest.mark.parametrize("norm", [nn.BatchNorm1d, nn.LayerNorm])
def test_a_normed_networks_fused_step_writes_the_same_gradient_arrays_each_step(norm, rng):
    """A norm's γ and β gradients are not held by the fused step's address table: nobody
    keeps them, so each step writes the arrays of the step before (none is taken for a
    kept one, which would make new arrays and a new table at every step)."""
    ffnn.manual_seed(0)
    model = nn.Sequential(nn.Linear(5, 8), norm(8), nn.Tanh(), nn.Linear(8, 3)).double()
    opt = optim.Adam(model.parameters(), lr=1e-2)
    step = ffnn.compile(model, nn.MSELoss(), opt, mode="fused")
    batches = list(_batches(rng, "bits", steps=4))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a fallback would warn
        step(*batches[0])
        arrays = [weakref.ref(p._grad) for p in model.parameters()]  # not holding them
        for x, y in batches[1:]:
            step(x, y)
    assert step.compiled
    assert all(a() is p._grad for a, p in zip(arrays, model.parameters(), strict=True))


def test_the_trainer_sees_a_gradient_hook_a_step_hook_adds_within_an_epoch():
    """An optimizer's step post-hook registering a gradient hook at the second step: the
    fast and fused steps give way to the graph from the next batch, as without them."""
    from ffnn.train import Trainer

    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((64, 5)), rng.standard_normal((64, 3))
    results = []
    for options in ({"fast_step": False}, {"fast_step": True}, {"compile": "fused"}):
        ffnn.manual_seed(0)
        model = nn.Sequential(nn.Linear(5, 8), nn.Tanh(), nn.Linear(8, 3)).double()
        opt = optim.SGD(model.parameters(), lr=0.1)
        steps = []

        def freeze_first_layer(o, args, kwargs, model=model, steps=steps):
            steps.append(1)
            if len(steps) == 2:
                model[0].weight.register_hook(lambda g: g * 0.0)

        opt.register_step_post_hook(freeze_first_layer)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            Trainer(model, nn.MSELoss(), opt, terminate_on_nan=False, seed=1,
                    **options).fit((X, y), epochs=1, batch_size=16, verbose=0)
        results.append([p._data.copy() for p in model.parameters()])
    for other in results[1:]:
        for a, b in zip(results[0], other, strict=True):
            np.testing.assert_allclose(b, a, rtol=1e-12, atol=1e-14)
