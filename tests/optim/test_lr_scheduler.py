"""Every scheduler gives torch.optim.lr_scheduler's learning rates (and momenta), step by step,
and resumes from a JSON-able state_dict exactly where it stopped."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

import ffnn

from .reference import assert_same, initial_arrays, make_params, set_grads

LR_RTOL = 1e-12


def make_optimizer(lib, kind: str = "SGD"):
    """Two groups with different learning rates, for ffnn or torch."""
    params = make_params(lib, [np.ones((2, 2)), np.ones(3)])
    groups = [{"params": params[:1]}, {"params": params[1:], "lr": 0.05}]
    if kind == "SGD":
        return lib.optim.SGD(groups, lr=0.1, momentum=0.9)
    if kind == "Adam":
        return lib.optim.Adam(groups, lr=0.1, betas=(0.9, 0.99))
    return lib.optim.Adagrad(groups, lr=0.1)


def snapshot(optimizer) -> list[float]:
    """Every group's lr, and its momentum or beta1."""
    values = []
    for group in optimizer.param_groups:
        values.append(float(group["lr"]))
        if "momentum" in group:
            values.append(float(group["momentum"]))
        if "betas" in group:
            values += [float(b) for b in group["betas"]]
    return values


def sequences(build, steps: int, kind: str = "SGD", metrics=None):
    """Run ``build(lr_scheduler_module, optimizer)`` in both libraries for ``steps`` steps."""
    out = []
    for lib in (ffnn, torch):
        optimizer = make_optimizer(lib, kind)
        scheduler = build(lib.optim.lr_scheduler, optimizer)
        seen = [snapshot(optimizer)]
        for step in range(steps):
            optimizer.step()
            scheduler.step(*([metrics[step]] if metrics is not None else []))
            seen.append(snapshot(optimizer))
            assert scheduler.get_last_lr() == [g["lr"] for g in optimizer.param_groups]
        out.append(np.array(seen))
    return out


SCHEDULES = {
    "StepLR": (lambda s, o: s.StepLR(o, step_size=7, gamma=0.5), 40),
    "MultiStepLR": (lambda s, o: s.MultiStepLR(o, milestones=[12, 5, 12, 30], gamma=0.3), 40),
    "ExponentialLR": (lambda s, o: s.ExponentialLR(o, gamma=0.93), 50),
    "CosineAnnealingLR": (lambda s, o: s.CosineAnnealingLR(o, T_max=20, eta_min=0.001), 100),
    "CosineAnnealingLR_default": (lambda s, o: s.CosineAnnealingLR(o, T_max=10), 45),
    "LinearLR_warmup": (lambda s, o: s.LinearLR(o, start_factor=0.1, total_iters=10), 30),
    "LinearLR_decay": (lambda s, o: s.LinearLR(o, 0.5, end_factor=0.2, total_iters=8), 30),
    "LambdaLR": (lambda s, o: s.LambdaLR(o, lambda epoch: 0.95**epoch), 30),
    "LambdaLR_per_group": (
        lambda s, o: s.LambdaLR(o, [lambda e: 1 / (1 + e), lambda e: 0.5 ** (e // 3)]), 30),
    "OneCycleLR_cos": (lambda s, o: s.OneCycleLR(o, max_lr=[1.0, 0.5], total_steps=60), 60),
    "OneCycleLR_linear": (lambda s, o: s.OneCycleLR(
        o, max_lr=0.8, epochs=6, steps_per_epoch=10, anneal_strategy="linear",
        pct_start=0.25, base_momentum=0.8, max_momentum=[0.9, 0.95]), 60),
    "OneCycleLR_three_phase": (lambda s, o: s.OneCycleLR(
        o, max_lr=1.0, total_steps=50, three_phase=True, div_factor=10.0,
        final_div_factor=100.0), 50),
    "OneCycleLR_no_momentum": (
        lambda s, o: s.OneCycleLR(o, max_lr=1.0, total_steps=40, cycle_momentum=False), 40),
    "SequentialLR_warmup_cosine": (lambda s, o: s.SequentialLR(
        o, [s.LinearLR(o, start_factor=0.01, total_iters=5), s.CosineAnnealingLR(o, T_max=30)],
        milestones=[5]), 60),
    "SequentialLR_three": (lambda s, o: s.SequentialLR(
        o, [s.ExponentialLR(o, gamma=0.9), s.StepLR(o, step_size=4, gamma=0.5),
            s.LinearLR(o, start_factor=0.2, total_iters=6)], milestones=[10, 25]), 50),
    "SequentialLR_warmup_polynomial": (lambda s, o: s.SequentialLR(  # from the base lr
        o, [s.LinearLR(o, start_factor=1 / 3, total_iters=5),
            s.PolynomialLR(o, total_iters=10, power=2.0)], milestones=[3]), 20),
    "StepLR_float_step_size": (lambda s, o: s.StepLR(o, 1.5, gamma=0.5), 14),  # torchtext's
    "SequentialLR_then_constant": (lambda s, o: s.SequentialLR(
        o, [s.ExponentialLR(o, gamma=0.8), s.ConstantLR(o, factor=0.5, total_iters=3)],
        milestones=[4]), 12),
    "ChainedScheduler": (lambda s, o: s.ChainedScheduler(  # torch's docstring example
        [s.ConstantLR(o, factor=0.1, total_iters=20), s.ExponentialLR(o, gamma=0.9)],
        optimizer=o), 30),
    "ChainedScheduler_warmup_steps": (lambda s, o: s.ChainedScheduler(
        [s.LinearLR(o, start_factor=0.1, total_iters=5), s.StepLR(o, step_size=7, gamma=0.5),
         s.MultiplicativeLR(o, lambda e: 0.98)]), 40),
    "MultiplicativeLR": (lambda s, o: s.MultiplicativeLR(o, lambda e: 0.9 if e % 2 else 0.97),
                         30),
    "ConstantLR": (lambda s, o: s.ConstantLR(o, factor=0.25, total_iters=6), 20),
    "PolynomialLR": (lambda s, o: s.PolynomialLR(o, total_iters=15, power=2.0), 25),
    "CosineAnnealingWarmRestarts": (
        lambda s, o: s.CosineAnnealingWarmRestarts(o, T_0=5, eta_min=0.001), 30),
    "CosineAnnealingWarmRestarts_mult": (
        lambda s, o: s.CosineAnnealingWarmRestarts(o, T_0=3, T_mult=2), 40),
    "CyclicLR_triangular": (lambda s, o: s.CyclicLR(o, 0.01, [0.1, 0.2], step_size_up=4), 30),
    "CyclicLR_triangular2": (lambda s, o: s.CyclicLR(
        o, 0.01, 0.1, step_size_up=3, step_size_down=5, mode="triangular2"), 40),
    "CyclicLR_exp_range": (lambda s, o: s.CyclicLR(
        o, [0.01, 0.02], 0.1, step_size_up=4, mode="exp_range", gamma=0.95,
        base_momentum=0.85, max_momentum=0.95), 40),
    "CyclicLR_custom_scale": (lambda s, o: s.CyclicLR(
        o, 0.01, 0.1, step_size_up=2, scale_fn=lambda x: 1 / x, cycle_momentum=False), 20),
}


@pytest.mark.parametrize("name", list(SCHEDULES))
def test_schedule_matches_torch(name):
    build, steps = SCHEDULES[name]
    ours, theirs = sequences(build, steps)
    changes = 2 if name == "ConstantLR" else 4
    assert len(np.unique(theirs[:, 0])) >= changes, "the schedule should change the lr"
    np.testing.assert_allclose(ours, theirs, rtol=LR_RTOL, atol=0)


def test_one_cycle_cycles_adams_beta1_like_torch():
    build = SCHEDULES["OneCycleLR_cos"][0]
    ours, theirs = sequences(build, 60, kind="Adam")
    np.testing.assert_allclose(ours, theirs, rtol=LR_RTOL, atol=0)
    assert ours[:, 1].min() == pytest.approx(0.85) and ours[0, 1] == pytest.approx(0.95)
    np.testing.assert_array_equal(ours[:, 2], 0.99)


def test_cyclic_lr_cycles_adams_beta1_like_torch():
    ours, theirs = sequences(lambda s, o: s.CyclicLR(o, 0.01, 0.1, step_size_up=3), 20, "Adam")
    np.testing.assert_allclose(ours, theirs, rtol=LR_RTOL, atol=0)


def test_warm_restarts_jump_to_fractional_epochs_like_torch():
    values = []
    for lib in (ffnn, torch):
        optimizer = make_optimizer(lib)
        scheduler = lib.optim.lr_scheduler.CosineAnnealingWarmRestarts(optimizer, 4, T_mult=2)
        seen = []
        for epoch in (0.5, 1.25, 3.9, 4.0, 7.5, 12.0, 13.3, 30.0):
            scheduler.step(epoch)
            seen.append(snapshot(optimizer))
        values.append(np.array(seen))
    np.testing.assert_allclose(values[0], values[1], rtol=LR_RTOL, atol=0)
    assert ffnn.optim.lr_scheduler._LRScheduler is ffnn.optim.lr_scheduler.LRScheduler


def test_one_cycle_refuses_to_step_past_total_steps():
    optimizer = make_optimizer(ffnn)
    scheduler = ffnn.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=1.0, total_steps=3)
    for _ in range(3):
        scheduler.step()
    with pytest.raises(ValueError, match="Tried to step 4 times. The specified number of total "
                                         "steps is 3"):
        scheduler.step()


PLATEAU = {
    "min_rel": dict(patience=2),
    "min_abs_cooldown": dict(threshold=0.05, threshold_mode="abs", patience=1, cooldown=2),
    "max_rel": dict(mode="max", factor=0.5, patience=1, min_lr=[0.01, 0.02]),
    "max_abs": dict(mode="max", threshold=0.01, threshold_mode="abs", patience=0, eps=1e-3),
}


@pytest.mark.parametrize("name", list(PLATEAU))
def test_reduce_lr_on_plateau_matches_torch(name):
    rng = np.random.default_rng(3)
    metrics = list(1.0 / (1 + np.arange(60)) + 0.05 * rng.random(60))
    metrics[20:40] = [0.5] * 20
    ours, theirs = sequences(
        lambda s, o: s.ReduceLROnPlateau(o, **PLATEAU[name]), 60, metrics=metrics)
    assert len(np.unique(theirs[:, 0])) > 1
    np.testing.assert_allclose(ours, theirs, rtol=LR_RTOL, atol=0)


def test_plateau_state_dict_lists_torchs_keys_in_torchs_order():
    """``print(scheduler.state_dict())`` shows torch's text: its keys in its order."""
    def keys(lib):
        optimizer = lib.optim.SGD([lib.nn.Parameter(lib.ones(1))], lr=0.1)
        return list(lib.optim.lr_scheduler.ReduceLROnPlateau(optimizer, mode="max")
                    .state_dict())

    assert keys(ffnn) == keys(torch)


RESUMABLE = [name for name in SCHEDULES if not name.startswith("LambdaLR")] + ["Plateau"]


def _build_resumable(name):
    if name == "Plateau":
        return lambda s, o: s.ReduceLROnPlateau(o, patience=1, cooldown=1)
    return SCHEDULES[name][0]


@pytest.mark.parametrize("name", RESUMABLE)
def test_state_dict_round_trip_continues_like_an_uninterrupted_run(name):
    build = _build_resumable(name)
    steps = 40
    metrics = [1.0 / (1 + i % 7) for i in range(steps)] if name == "Plateau" else None
    call = (lambda s, i: s.step(metrics[i])) if metrics else (lambda s, i: s.step())

    optimizer = make_optimizer(ffnn)
    scheduler = build(ffnn.optim.lr_scheduler, optimizer)
    for i in range(steps // 2):
        call(scheduler, i)
    saved_scheduler = json.loads(json.dumps(scheduler.state_dict()))
    saved_optimizer = json.loads(json.dumps(optimizer.state_dict()))

    fresh = make_optimizer(ffnn)
    resumed = build(ffnn.optim.lr_scheduler, fresh)
    fresh.load_state_dict(saved_optimizer)
    resumed.load_state_dict(saved_scheduler)
    for i in range(steps // 2, steps):
        call(scheduler, i)
        call(resumed, i)
        assert snapshot(fresh) == snapshot(optimizer), f"step {i}"
        assert resumed.get_last_lr() == scheduler.get_last_lr()


def test_lambda_lr_saves_callable_objects_but_not_functions():
    class Decay:
        def __init__(self):
            self.rate = 0.5

        def __call__(self, epoch):
            return self.rate**epoch

    optimizer = make_optimizer(ffnn)
    decay = Decay()
    scheduler = ffnn.optim.lr_scheduler.LambdaLR(optimizer, [decay, lambda e: 1.0])
    state = json.loads(json.dumps(scheduler.state_dict()))
    assert state["lr_lambdas"] == [{"rate": 0.5}, None]
    other = Decay()
    other.rate = 0.9
    restored = ffnn.optim.lr_scheduler.LambdaLR(make_optimizer(ffnn), [other, lambda e: 1.0])
    restored.load_state_dict(state)
    assert other.rate == 0.5


def test_scheduled_sgd_follows_torchs_trajectory():
    """The optimizer reads group["lr"] on every step, so the schedule shapes the updates."""
    values, targets = initial_arrays()
    trajectories = []
    for lib in (ffnn, torch):
        params = make_params(lib, values)
        optimizer = lib.optim.SGD(params, lr=0.2, momentum=0.9)
        scheduler = lib.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=25)
        for _ in range(30):
            set_grads(params, targets)
            optimizer.step()
            scheduler.step()
        trajectories.append(params)
    assert_same(*trajectories)


def test_scheduler_sets_initial_lr_and_base_lrs():
    optimizer = make_optimizer(ffnn)
    scheduler = ffnn.optim.lr_scheduler.StepLR(optimizer, step_size=2)
    assert [g["initial_lr"] for g in optimizer.param_groups] == [0.1, 0.05]
    assert scheduler.base_lrs == [0.1, 0.05] and scheduler.last_epoch == 0


@pytest.mark.parametrize(
    "build, error, message",
    [
        (lambda s, o: s.StepLR(o, step_size=0), ValueError,
         "step_size must be a positive number. Received: step_size=0"),
        (lambda s, o: s.CosineAnnealingLR(o, T_max=-3), ValueError, "T_max=-3"),
        (lambda s, o: s.LinearLR(o, start_factor=0.0), ValueError,
         "Starting multiplicative factor expected to be greater than 0"),
        (lambda s, o: s.LinearLR(o, end_factor=1.5), ValueError,
         "Ending multiplicative factor expected to be between 0 and 1"),
        (lambda s, o: s.OneCycleLR(o, max_lr=1.0), ValueError,
         r"You must define either total_steps OR \(epochs AND steps_per_epoch\)"),
        (lambda s, o: s.OneCycleLR(o, max_lr=1.0, total_steps=0), ValueError,
         "Expected positive integer total_steps, but got 0"),
        (lambda s, o: s.OneCycleLR(o, max_lr=1.0, total_steps=9, pct_start=1.5), ValueError,
         "Expected float between 0 and 1 pct_start, but got 1.5"),
        (lambda s, o: s.OneCycleLR(o, max_lr=1.0, total_steps=9, anneal_strategy="exp"),
         ValueError, "anneal_strategy must be one of 'cos' or 'linear'"),
        (lambda s, o: s.OneCycleLR(o, max_lr=[1.0], total_steps=9), ValueError,
         "expected 2 values for max_lr, got 1"),
        (lambda s, o: s.ReduceLROnPlateau(o, factor=1.0), ValueError, "Factor should be < 1.0"),
        (lambda s, o: s.ReduceLROnPlateau(o, mode="up"), ValueError, "mode 'up' is unknown"),
        (lambda s, o: s.ReduceLROnPlateau(o, threshold_mode="x"), ValueError,
         "threshold mode 'x' is unknown"),
        (lambda s, o: s.ReduceLROnPlateau(o, min_lr=[0.1]), ValueError,
         "expected 2 values for min_lr, got 1"),
        (lambda s, o: s.SequentialLR(o, [s.StepLR(o, 2), s.StepLR(o, 3)], milestones=[]),
         ValueError, "expects number of schedulers provided to be one more than the number"),
        (lambda s, o: s.SequentialLR(o, [s.ReduceLROnPlateau(o)], milestones=[]), ValueError,
         "does not support `ReduceLROnPlateau`"),
        (lambda s, o: s.SequentialLR(o, [], milestones=[]), ValueError,
         "expects at least one scheduler"),
        (lambda s, o: s.ChainedScheduler([]), ValueError,
         "expects at least one scheduler to be chained"),
        (lambda s, o: s.ChainedScheduler([s.StepLR(o, 2), s.ReduceLROnPlateau(o)]), ValueError,
         "does not support `ReduceLROnPlateau`"),
        (lambda s, o: s.ChainedScheduler([s.StepLR(o, 2), object()]), TypeError,
         "at index 1 should have `optimizer`"),
        (lambda s, o: s.StepLR("sgd", step_size=2), TypeError,
         "optimizer must be an ffnn.optim.Optimizer. Received: str is not an Optimizer"),
        (lambda s, o: s.StepLR(o, step_size=2, last_epoch=4), KeyError,
         r"param 'initial_lr' is not specified in param_groups\[0\]"),
    ],
)
def test_bad_scheduler_arguments_are_rejected(build, error, message):
    with pytest.raises(error, match=message):
        build(ffnn.optim.lr_scheduler, make_optimizer(ffnn))


def test_sequential_lr_rejects_a_scheduler_of_another_optimizer():
    s = ffnn.optim.lr_scheduler
    mine, other = make_optimizer(ffnn), make_optimizer(ffnn)
    with pytest.raises(ValueError, match="belong to the same optimizer"):
        s.SequentialLR(mine, [s.StepLR(mine, 2), s.StepLR(other, 2)], milestones=[3])
    with pytest.raises(ValueError, match="belong to the same optimizer"):
        s.ChainedScheduler([s.StepLR(mine, 2), s.StepLR(other, 2)])


def test_one_cycle_needs_momentum_or_betas():
    with pytest.raises(ValueError, match="optimizer must support momentum or beta1"):
        ffnn.optim.lr_scheduler.OneCycleLR(make_optimizer(ffnn, "Adagrad"), 1.0, total_steps=5)


def test_plateau_accepts_a_tensor_metric_and_counts_epochs():
    optimizer = make_optimizer(ffnn)
    scheduler = ffnn.optim.lr_scheduler.ReduceLROnPlateau(optimizer, patience=0)
    scheduler.step(ffnn.tensor(1.0))
    scheduler.step(ffnn.tensor(2.0))
    assert scheduler.last_epoch == 2 and math.isclose(optimizer.param_groups[0]["lr"], 0.01)


@pytest.mark.parametrize("make", [
    lambda opt: ffnn.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=-0.5),
    lambda opt: ffnn.optim.lr_scheduler.ExponentialLR(opt, gamma=-1.0),
    lambda opt: ffnn.optim.lr_scheduler.MultiStepLR(opt, milestones=[2], gamma=float("inf")),
])
def test_a_negative_or_infinite_gamma_is_refused(make):
    """A negative gamma would make lr negative (the optimizer would climb the loss)."""
    opt = ffnn.optim.SGD([ffnn.nn.Parameter(np.zeros(2))], lr=0.1)
    with pytest.raises(ValueError, match=r"gamma must be a finite number >= 0. Received: gamma="):
        make(opt)
    assert opt.param_groups[0]["lr"] == 0.1


@pytest.mark.parametrize("key", ["patience", "cooldown"])
def test_plateau_counts_must_be_non_negative_integers(key):
    opt = ffnn.optim.SGD([ffnn.nn.Parameter(np.zeros(2))], lr=0.1)
    with pytest.raises(ValueError, match=rf"{key} must be an integer >= 0. Received: {key}=-1"):
        ffnn.optim.lr_scheduler.ReduceLROnPlateau(opt, **{key: -1})
