"""The Optimizer base: state_dict round trip (torch's layout), zero_grad, frozen parameters,
in-place float32 updates without per-step allocations, and argument errors."""

from __future__ import annotations

import json
import tracemalloc

import numpy as np
import pytest
import torch

import ffnn
from ffnn.nn.parameter import Parameter

from .reference import assert_same, initial_arrays, make_params, numpy_of, run_both, set_grads

BUILDERS = {
    "SGD": lambda lib, ps: lib.optim.SGD(ps, lr=0.02, momentum=0.9, nesterov=True),
    "Adam": lambda lib, ps: lib.optim.Adam(
        [{"params": ps[:2]}, {"params": ps[2:], "amsgrad": True, "lr": 0.01}], lr=0.05),
    "AdamW": lambda lib, ps: lib.optim.AdamW(ps, lr=0.05, amsgrad=True),
    "RMSprop": lambda lib, ps: lib.optim.RMSprop(ps, lr=0.01, momentum=0.5, centered=True),
    "Adagrad": lambda lib, ps: lib.optim.Adagrad(ps, lr=0.1, lr_decay=0.01),
}


def through_checkpoint(state_dict: dict) -> dict:
    """What a checkpoint gives back: arrays kept aside, everything else through JSON."""
    arrays = {}
    for index, values in state_dict["state"].items():
        for name, value in values.items():
            if isinstance(value, np.ndarray):
                arrays[f"{index}.{name}"] = value
    plain = {
        "state": {index: {name: None if isinstance(v, np.ndarray) else v
                          for name, v in values.items()}
                  for index, values in state_dict["state"].items()},
        "param_groups": state_dict["param_groups"],
    }
    loaded = json.loads(json.dumps(plain))
    for index, values in loaded["state"].items():
        for name in values:
            if f"{index}.{name}" in arrays:
                values[name] = arrays[f"{index}.{name}"]
    return loaded


@pytest.mark.parametrize("name", list(BUILDERS))
def test_state_dict_round_trip_continues_like_an_uninterrupted_run(name):
    build = BUILDERS[name]
    values, targets = initial_arrays()
    params = make_params(ffnn, values)
    opt = build(ffnn, params)
    for _ in range(20):
        set_grads(params, targets)
        opt.step()
    saved = through_checkpoint(opt.state_dict())
    resumed_params = make_params(ffnn, [p.numpy().copy() for p in params])
    resumed = build(ffnn, resumed_params)
    resumed.load_state_dict(saved)
    for _ in range(20):
        set_grads(params, targets)
        set_grads(resumed_params, targets)
        opt.step()
        resumed.step()
    for a, b in zip(params, resumed_params):
        np.testing.assert_array_equal(a.data, b.data)


@pytest.mark.parametrize("name", list(BUILDERS))
def test_state_dict_has_torchs_layout_and_values(name):
    ours, theirs = run_both(BUILDERS[name], steps=10)
    mine, reference = ours.state_dict(), theirs.state_dict()
    assert sorted(mine["state"]) == sorted(reference["state"])
    for index, values in reference["state"].items():
        assert sorted(mine["state"][index]) == sorted(values)
        for key, value in values.items():
            expected = value.item() if value.ndim == 0 else value.numpy()
            np.testing.assert_allclose(mine["state"][index][key], expected, rtol=1e-9, atol=1e-12)
    for group, ref_group in zip(mine["param_groups"], reference["param_groups"]):
        assert group["params"] == ref_group["params"]
        for key in set(group) & set(ref_group):
            assert group[key] == ref_group[key], key


def test_state_dict_is_a_snapshot_and_json_able():
    values, targets = initial_arrays()
    params = make_params(ffnn, values)
    opt = ffnn.optim.Adam(params, lr=0.1)
    set_grads(params, targets)
    opt.step()
    saved = opt.state_dict()
    exp_avg = saved["state"][0]["exp_avg"].copy()
    set_grads(params, targets)
    opt.step()
    np.testing.assert_array_equal(saved["state"][0]["exp_avg"], exp_avg)
    assert saved["state"][0]["step"] == 1
    json.dumps(saved["param_groups"])
    assert saved["param_groups"][0]["betas"] == (0.9, 0.999)


def test_load_state_dict_restores_group_options_and_tuple_betas():
    params = make_params(ffnn, initial_arrays()[0])
    opt = ffnn.optim.Adam(params, lr=0.1)
    saved = json.loads(json.dumps(ffnn.optim.Adam(params, lr=0.3, betas=(0.5, 0.6)).state_dict()))
    opt.load_state_dict(saved)
    assert opt.param_groups[0]["lr"] == 0.3 and opt.param_groups[0]["betas"] == (0.5, 0.6)
    assert all(a is b for a, b in zip(opt.param_groups[0]["params"], params))


def test_load_state_dict_casts_arrays_to_the_parameter_dtype():
    values, targets = initial_arrays()
    params64 = make_params(ffnn, values)
    opt64 = ffnn.optim.Adam(params64, lr=0.1)
    set_grads(params64, targets)
    opt64.step()
    params32 = make_params(ffnn, values, dtype=np.float32)
    opt32 = ffnn.optim.Adam(params32, lr=0.1)
    opt32.load_state_dict(opt64.state_dict())
    assert opt32.state[params32[0]]["exp_avg"].dtype == np.float32


def test_load_state_dict_rejects_mismatched_groups_and_shapes():
    values, targets = initial_arrays()
    params = make_params(ffnn, values)
    opt = ffnn.optim.Adam(params)
    set_grads(params, targets)
    opt.step()
    saved = opt.state_dict()
    two_groups = ffnn.optim.Adam([{"params": params[:2]}, {"params": params[2:]}])
    with pytest.raises(ValueError, match="different number of parameter groups"):
        two_groups.load_state_dict(saved)
    with pytest.raises(ValueError, match="doesn't match the size of optimizer's group"):
        ffnn.optim.Adam(params[:3]).load_state_dict(saved)
    swapped = make_params(ffnn, [values[1], values[0], values[2], values[3]])
    with pytest.raises(ValueError, match=r"'exp_avg' of shape \(3, 4\), expected .* \(4,\)"):
        ffnn.optim.Adam(swapped).load_state_dict(saved)
    with pytest.raises(ValueError, match="keys 'state' and 'param_groups'"):
        opt.load_state_dict({"state": {}})


@pytest.mark.parametrize("set_to_none", [True, False])
def test_zero_grad(set_to_none):
    params = make_params(ffnn, initial_arrays()[0])
    set_grads(params, initial_arrays()[1])
    grads = [p.grad.numpy() for p in params]
    ffnn.optim.SGD(params, lr=0.1).zero_grad(set_to_none=set_to_none)
    for param, grad in zip(params, grads):
        if set_to_none:
            assert param.grad is None
        else:
            assert param.grad.numpy() is grad and not grad.any()


def test_frozen_parameters_and_missing_gradients_are_not_updated():
    values, targets = initial_arrays()
    params = make_params(ffnn, values)
    params[0].requires_grad_(False)
    set_grads(params, targets)
    params[1].grad = None
    opt = ffnn.optim.AdamW(params, lr=0.1, weight_decay=0.5)
    opt.step()
    np.testing.assert_array_equal(params[0].data, values[0])
    np.testing.assert_array_equal(params[1].data, values[1])
    assert not opt.state.get(params[0]) and not opt.state.get(params[1])
    assert not np.array_equal(params[2].data, values[2])


@pytest.mark.parametrize("name", list(BUILDERS))
def test_updates_are_in_place_float32_and_reuse_state_arrays(name):
    values, targets = initial_arrays()
    params = make_params(ffnn, values, dtype=np.float32)
    opt = BUILDERS[name](ffnn, params)
    datas = [p.numpy() for p in params]
    set_grads(params, targets)
    opt.step()
    states = {id(p): {k: v for k, v in opt.state[p].items() if isinstance(v, np.ndarray)}
              for p in params}
    assert any(states.values()), "these optimizers keep state arrays"
    for _ in range(3):
        set_grads(params, targets)
        opt.step()
    for param, data in zip(params, datas):
        assert param.numpy() is data and param.dtype == np.float32
        for key, array in states[id(param)].items():
            assert opt.state[param][key] is array, key
            assert array.dtype == np.float32, key
    assert not np.array_equal(params[0].data, values[0].astype(np.float32))


@pytest.mark.parametrize("name", list(BUILDERS))
def test_a_step_allocates_no_memory_that_grows_with_the_model(name):
    rng = np.random.default_rng(0)
    params = [Parameter(rng.standard_normal(200_000).astype(np.float32)) for _ in range(3)]
    opt = BUILDERS[name](ffnn, params)
    for param in params:
        param.grad = rng.standard_normal(200_000).astype(np.float32)
    for _ in range(2):  # the first steps make the state, then the multi-tensor step's plan
        opt.step()
    tracemalloc.start()
    try:
        opt.step()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 50_000, f"a step allocated {peak} bytes (a parameter is 800,000)"


def test_float32_trajectory_stays_close_to_torch_float32():
    values, targets = initial_arrays()
    ours = make_params(ffnn, values, dtype=np.float32)
    theirs = make_params(torch, values, dtype=np.float32)
    opt_ours = ffnn.optim.Adam(ours, lr=0.05, weight_decay=0.1)
    opt_theirs = torch.optim.Adam(theirs, lr=0.05, weight_decay=0.1)
    for _ in range(20):
        set_grads(ours, targets)
        set_grads(theirs, targets)
        opt_ours.step()
        opt_theirs.step()
    assert_same(ours, theirs, rtol=1e-4)
    assert all(numpy_of(p).dtype == np.float32 for p in ours)


def test_step_calls_the_closure_and_returns_its_loss():
    params = make_params(ffnn, initial_arrays()[0])
    opt = ffnn.optim.SGD(params, lr=0.1)

    def closure():
        for p in params:
            p.grad = np.ones_like(p.data)
        return 1.5

    before = params[0].numpy().copy()
    assert opt.step(closure) == 1.5
    np.testing.assert_allclose(params[0].data, before - 0.1)


def test_add_param_group_fills_defaults_and_updates_the_new_parameters():
    params = make_params(ffnn, initial_arrays()[0])
    opt = ffnn.optim.SGD(params[:2], lr=0.1, momentum=0.9)
    opt.add_param_group({"params": params[2], "lr": 0.5})
    assert opt.param_groups[1]["momentum"] == 0.9 and opt.param_groups[1]["lr"] == 0.5
    params[2].grad = np.ones_like(params[2].data)
    before = params[2].numpy().copy()
    opt.step()
    np.testing.assert_allclose(params[2].data, before - 0.5)


def test_duplicate_and_bad_parameters_are_rejected():
    p, q = make_params(ffnn, initial_arrays()[0][:2])
    with pytest.raises(ValueError, match="some parameters appear in more than one parameter group"):
        ffnn.optim.SGD([{"params": [p, q]}, {"params": [q]}], lr=0.1)
    with pytest.raises(ValueError, match="duplicate parameters"):
        ffnn.optim.SGD([p, p], lr=0.1)
    opt = ffnn.optim.SGD([p], lr=0.1)
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [p]})
    with pytest.raises(ValueError, match="optimizer got an empty parameter list"):
        ffnn.optim.SGD([], lr=0.1)
    with pytest.raises(TypeError, match="optimizer can only optimize Tensors, but one of the "
                                        "params is ndarray"):
        ffnn.optim.SGD([np.zeros(3)], lr=0.1)
    with pytest.raises(TypeError, match="iterable of Tensors or dicts. Received: params of type"):
        ffnn.optim.SGD(p, lr=0.1)
    with pytest.raises(TypeError, match="ordered collections"):
        ffnn.optim.SGD([{"params": {p}}], lr=0.1)
    with pytest.raises(ValueError, match="can't optimize a non-leaf Tensor"):
        ffnn.optim.SGD([p * 2], lr=0.1)


def test_a_gradient_of_the_wrong_shape_is_reported():
    p = Parameter(np.zeros((2, 3)))
    with pytest.raises(RuntimeError, match=r"different size: \[3\] for a tensor of shape \[2, 3\]"):
        p.grad = np.zeros(3)  # refused where it is assigned, as torch does
    p._grad = np.zeros(3)  # an internal writer that got it wrong is caught by the step
    with pytest.raises(RuntimeError, match=r"gradient shape \(3,\) does not match .* \(2, 3\)"):
        ffnn.optim.SGD([p], lr=0.1).step()


@pytest.mark.parametrize("name, options", [
    ("SGD", dict(lr=0.1, momentum=0.9)), ("Adam", {}), ("AdamW", dict(lr=1e-3)),
    ("RMSprop", {}), ("Adagrad", {}), ("Adadelta", {}), ("Adamax", {}), ("NAdam", {}),
    ("RAdam", {}), ("Rprop", {}), ("ASGD", {}), ("LBFGS", {}),
    ("Adam", dict(foreach=False, capturable=True)), ("SGD", dict(lr=0.1, fused=False))])
def test_groups_and_printout_are_torchs(name, options):
    """The same keys, in the same order (foreach, fused, differentiable, capturable
    included), and ``print(optimizer)`` prints the same text."""
    ours = getattr(ffnn.optim, name)([Parameter(np.zeros(3))], **options)
    theirs = getattr(torch.optim, name)([torch.nn.Parameter(torch.zeros(3))], **options)
    assert list(ours.param_groups[0]) == list(theirs.param_groups[0])
    assert list(ours.defaults) == list(theirs.defaults)
    assert repr(ours) == repr(theirs)


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta"])
@pytest.mark.parametrize("lr", [float("inf"), float("-inf"), float("nan"), -0.1])
def test_a_learning_rate_that_is_not_finite_and_positive_is_refused(name, lr):
    """torch's message (``Invalid learning rate: inf``), also for infinities, which would
    otherwise turn every weight into NaN at the first step."""
    with pytest.raises(ValueError, match=f"^Invalid learning rate: {lr}"):
        getattr(ffnn.optim, name)([Parameter(np.zeros(3))], lr=lr)


OPTIMIZER_NAMES = ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "Adamax", "NAdam",
                   "RAdam", "ASGD", "Rprop", "LBFGS"]


@pytest.mark.parametrize("name", OPTIMIZER_NAMES)
def test_every_keyword_of_torchs_optimizer_is_taken(name):
    """A program's ``torch.optim.Adam(params, fused=True)`` runs with only its import
    changed: every argument torch's constructor takes, ffnn's takes."""
    import inspect

    ours = inspect.signature(getattr(ffnn.optim, name).__init__).parameters
    theirs = inspect.signature(getattr(torch.optim, name).__init__).parameters
    assert sorted(set(theirs) - set(ours)) == []


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "Adagrad"])
def test_torchs_implementation_choices_give_the_same_step(name):
    """``foreach`` and ``fused`` choose how torch computes the update, not what: ffnn's
    step with them is its step without them."""
    results = []
    for options in ({}, {"foreach": True, "fused": False}, {"foreach": False, "fused": True}):
        param = Parameter(ffnn.tensor(np.linspace(-1.0, 1.0, 7)))
        opt = getattr(ffnn.optim, name)([param], lr=0.1, **options)
        for _ in range(3):
            param.grad = ffnn.tensor(np.cos(np.arange(7.0)) + param.detach().numpy())
            opt.step()
        results.append(param.detach().numpy().copy())
    assert all(np.array_equal(results[0], r) for r in results[1:])


@pytest.mark.parametrize("name", [n for n in OPTIMIZER_NAMES if n != "LBFGS"])
def test_a_differentiable_step_is_refused(name):
    param = Parameter(ffnn.zeros(3))
    with pytest.raises(NotImplementedError, match=f"{name}: differentiable=True"):
        getattr(ffnn.optim, name)([param], differentiable=True)


def _scalar_resumed(lib, make) -> float:
    """A learnable scalar (a temperature) trained 4 steps, the optimizer saved after the
    second and a fresh one loaded from it."""
    b = lib.tensor(0.5, dtype=lib.float64, requires_grad=True)
    opt = make(lib, [b])
    for i in range(4):
        opt.zero_grad()
        (b * b + b).backward()
        opt.step()
        if i == 1:
            state = opt.state_dict()
            opt = make(lib, [b])
            opt.load_state_dict(state)
    return b.item()


@pytest.mark.parametrize("make", [
    lambda lib, p: lib.optim.SGD(p, lr=0.1, momentum=0.9),
    lambda lib, p: lib.optim.Adam(p, lr=0.1), lambda lib, p: lib.optim.Adamax(p, lr=0.1),
    lambda lib, p: lib.optim.Rprop(p, lr=0.1), lambda lib, p: lib.optim.ASGD(p, lr=0.1),
    lambda lib, p: lib.optim.RMSprop(p, lr=0.01, momentum=0.5)], ids=lambda make: "")
def test_a_zero_d_parameters_state_resumes_as_torch(make):
    """Its momentum and moments are 0-d arrays, kept arrays through state_dict (a number
    would never be updated again)."""
    assert _scalar_resumed(ffnn, make) == pytest.approx(_scalar_resumed(torch, make),
                                                        rel=1e-12)


def test_adagrad_starts_every_group_from_the_constructors_accumulator_as_torch():
    """torch fills each sum with the constructor's initial_accumulator_value, whatever a
    group says."""
    run_both(lambda lib, ps: lib.optim.Adagrad(
        [{"params": ps[:2]}, {"params": ps[2:], "initial_accumulator_value": 0.5}], lr=0.1,
        initial_accumulator_value=0.1), steps=10)


def _lbfgs_resumed(lib) -> list:
    """Two parameters (LBFGS's flat vectors span both) fitted by 5 iterations, the optimizer
    saved, a fresh one loaded from it and stepped again."""
    a = lib.tensor([1.5, -0.5], dtype=lib.float64, requires_grad=True)
    b = lib.tensor([[0.3, 0.2]], dtype=lib.float64, requires_grad=True)
    opt = None

    def closure():
        opt.zero_grad()
        loss = ((a - 1) ** 4).sum() + (a ** 2).sum() + ((b - a) ** 2).sum()
        loss.backward()
        return loss

    opt = lib.optim.LBFGS([a, b], lr=0.5, history_size=4, max_iter=5)
    opt.step(closure)
    state = opt.state_dict()
    opt = lib.optim.LBFGS([a, b], lr=0.5, history_size=4, max_iter=5)
    opt.load_state_dict(state)
    opt.step(closure)
    return a.tolist() + b.flatten().tolist()


def test_lbfgs_resumes_from_its_state_dict_as_torch():
    np.testing.assert_allclose(_lbfgs_resumed(ffnn), _lbfgs_resumed(torch), rtol=1e-12)
