"""A learning rate given as a one-element tensor, as torch takes it: each optimizer's steps
equal torch's, the group keeps the very tensor (schedulers fill it in place, their lists hold
copies), a state_dict round trip copies it, and torch's errors (not one element, negative,
Adam/AdamW with foreach=True and not capturable)."""

import numpy as np
import pytest
import torch

import ffnn

OPTIMIZERS = {
    "SGD": {"momentum": 0.9, "nesterov": True}, "Adam": {"amsgrad": True}, "AdamW": {},
    "RMSprop": {"momentum": 0.5, "centered": True}, "Adagrad": {}, "Adadelta": {},
    "Adamax": {}, "NAdam": {}, "RAdam": {}, "Rprop": {}, "ASGD": {}, "LBFGS": {},
}
START = [[0.5, -1.5, 2.0], [1.0, 0.25, -0.75]]


def _trajectory(lib, name: str, options: dict, lr, schedule=None, steps: int = 4):
    weight = lib.nn.Parameter(lib.tensor(START, dtype=lib.float64))
    optimizer = getattr(lib.optim, name)([weight], lr=lr, **options)
    scheduler = None if schedule is None else schedule(lib.optim.lr_scheduler, optimizer)
    target = lib.tensor([[1.0, 2.0, -1.0], [0.0, 1.0, 3.0]], dtype=lib.float64)

    def closure():
        optimizer.zero_grad()
        loss = ((weight - target) ** 4).sum()
        loss.backward()
        return loss

    lrs = []
    for _ in range(steps):
        optimizer.step(closure)
        if scheduler is not None:
            scheduler.step()
            lrs.append([float(v) for v in scheduler.get_last_lr()])
    return weight.detach().numpy().copy(), lrs, optimizer


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_a_tensor_lr_steps_as_torch(name):
    ours, _, optimizer = _trajectory(ffnn, name, OPTIMIZERS[name], ffnn.tensor(0.01))
    theirs, _, _ = _trajectory(torch, name, OPTIMIZERS[name], torch.tensor(0.01))
    # torch computes some step sizes from a float32 lr in float32 (Adam's lr / (1 - β₁ᵗ)):
    # equal to float32's precision
    np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-9)
    plain, _, _ = _trajectory(ffnn, name, OPTIMIZERS[name], float(np.float32(0.01)))
    np.testing.assert_allclose(ours, plain, rtol=1e-6, atol=1e-9)
    assert isinstance(optimizer.param_groups[0]["lr"], ffnn.Tensor)


SCHEDULES = {
    "StepLR": lambda s, o: s.StepLR(o, 2, gamma=0.5),
    "ExponentialLR": lambda s, o: s.ExponentialLR(o, 0.9),
    "CosineAnnealingLR": lambda s, o: s.CosineAnnealingLR(o, 3, eta_min=0.001),
    "LinearLR": lambda s, o: s.LinearLR(o, 0.5, total_iters=3),
    "OneCycleLR": lambda s, o: s.OneCycleLR(o, 0.05, total_steps=6),
    "CyclicLR": lambda s, o: s.CyclicLR(o, 0.001, 0.05, 2, cycle_momentum=False),
    "CosineAnnealingWarmRestarts": lambda s, o: s.CosineAnnealingWarmRestarts(o, 2),
    "SequentialLR": lambda s, o: s.SequentialLR(
        o, [s.ConstantLR(o, 0.5, 2), s.ExponentialLR(o, 0.9)], [2]),
}


@pytest.mark.parametrize("schedule", list(SCHEDULES))
def test_schedulers_fill_the_tensor_lr_as_torch(schedule):
    make = SCHEDULES[schedule]
    ours, our_lrs, optimizer = _trajectory(ffnn, "SGD", {}, ffnn.tensor(0.01), make, 5)
    theirs, their_lrs, _ = _trajectory(torch, "SGD", {}, torch.tensor(0.01), make, 5)
    np.testing.assert_allclose(our_lrs, their_lrs, rtol=1e-6)
    np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-9)
    group = optimizer.param_groups[0]
    assert isinstance(group["lr"], ffnn.Tensor) and group["lr"].item() == \
        pytest.approx(our_lrs[-1][0])


def test_the_group_keeps_its_tensor_and_hands_out_copies():
    lr = ffnn.tensor(0.1)
    optimizer = ffnn.optim.SGD([ffnn.nn.Parameter(ffnn.ones(2))], lr=lr)
    scheduler = ffnn.optim.lr_scheduler.StepLR(optimizer, 1, gamma=0.5)
    last = scheduler.get_last_lr()[0]
    optimizer.step()
    scheduler.step()
    assert optimizer.param_groups[0]["lr"] is lr and lr.item() == pytest.approx(0.05)
    assert last.item() == pytest.approx(0.1)  # a copy, not the group's tensor
    assert optimizer.param_groups[0]["initial_lr"].item() == pytest.approx(0.1)
    assert scheduler.base_lrs[0].item() == pytest.approx(0.1)
    plateau = ffnn.optim.lr_scheduler.ReduceLROnPlateau(optimizer, patience=0, factor=0.5)
    plateau.step(1.0)
    plateau.step(2.0)
    assert optimizer.param_groups[0]["lr"] is lr and lr.item() == pytest.approx(0.025)


@pytest.mark.parametrize("lib", [ffnn, torch])
def test_state_dict_round_trip_copies_the_tensor_lr(lib):
    params = [lib.nn.Parameter(lib.ones(2))]
    first = lib.optim.Adam(params, lr=lib.tensor(0.1))
    saved = first.state_dict()
    assert saved["param_groups"][0]["lr"] is first.param_groups[0]["lr"]  # torch's alias
    second = lib.optim.Adam([lib.nn.Parameter(lib.ones(2))], lr=0.5)
    second.load_state_dict(saved)
    loaded = second.param_groups[0]["lr"]
    assert isinstance(loaded, lib.Tensor) and loaded.item() == pytest.approx(0.1)
    scheduler = lib.optim.lr_scheduler.StepLR(second, 1, gamma=0.5)
    second.step()
    scheduler.step()
    assert loaded.item() == pytest.approx(0.05)
    assert first.param_groups[0]["lr"].item() == pytest.approx(0.1)


@pytest.mark.parametrize("lib", [ffnn, torch])
def test_tensor_lr_errors_as_torch(lib):
    params = [lib.nn.Parameter(lib.ones(2))]
    with pytest.raises(ValueError, match="Tensor lr must be 1-element"):
        lib.optim.SGD(params, lr=lib.tensor([0.1, 0.2]))
    with pytest.raises(ValueError, match="Invalid learning rate: -0.5"):
        lib.optim.RMSprop(params, lr=lib.tensor(-0.5))
    for name in ("Adam", "AdamW"):
        with pytest.raises(ValueError, match="lr as a Tensor is not supported for "
                                             "capturable=False and foreach=True"):
            getattr(lib.optim, name)(params, lr=lib.tensor(0.1), foreach=True)
    lib.optim.SGD(params, lr=lib.tensor([0.1]), foreach=True)  # one element, any shape
    lib.optim.Adam(params, lr=lib.tensor(0.1), foreach=False, fused=True)
