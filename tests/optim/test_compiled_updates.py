"""Every optimizer's compiled update (generated from its one-element description) computes
what its NumPy reference computes, in float32 and float64, with every flag; both follow
torch. The compiled path is spied on, so a silent fallback to the reference would fail."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ffnn import accel, optim
from ffnn.nn.parameter import Parameter
from ffnn.optim import adadelta, adagrad, adam, adam_variants, multi_tensor, rmsprop, sgd

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
    ("Adamax", adam_variants, "_compiled_update", dict(lr=0.01)),
    ("Adamax", adam_variants, "_compiled_update", dict(lr=0.01, weight_decay=0.1,
                                                       maximize=True)),
    ("NAdam", adam_variants, "_compiled_update", dict(lr=0.01)),
    ("NAdam", adam_variants, "_compiled_update", dict(lr=0.01, betas=(0.8, 0.9),
                                                      momentum_decay=0.01, weight_decay=0.1,
                                                      maximize=True)),
    ("NAdam", adam_variants, "_compiled_update", dict(lr=0.01, weight_decay=0.2,
                                                      decoupled_weight_decay=True)),
    ("RAdam", adam_variants, "_compiled_update", dict(lr=0.01)),  # rectified from step 6
    ("RAdam", adam_variants, "_compiled_update", dict(lr=0.01, betas=(0.5, 0.8),
                                                      weight_decay=0.1)),  # never rectified
    ("RAdam", adam_variants, "_compiled_update", dict(lr=0.01, betas=(0.8, 0.7), eps=1e-3,
                                                      weight_decay=0.2,
                                                      decoupled_weight_decay=True,
                                                      maximize=True)),
]
IDS = [f"{name}-{'-'.join(options)}" for name, _, _, options in CASES]


def _gradient(values: np.ndarray) -> np.ndarray:
    return np.sin(3 * values) + np.tanh(values) - 0.3


def _ffnn_run(name, options, dtype, compiled: bool, module, spied: str, monkeypatch,
              together: bool = False):
    """The parameter and state after ``STEPS`` steps: the reference (``compiled=False``),
    the compiled update per parameter, or (``together``) every parameter's in one call
    (``ffnn.optim.multi_tensor``). Both compiled paths are spied on: together, each step is
    one multi-tensor call, except SGD's first with momentum (it makes the buffer)."""
    monkeypatch.setattr(accel, "enabled", compiled)
    calls, group_calls = [], []
    original = getattr(module, spied)
    monkeypatch.setattr(module, spied, lambda *a, **k: calls.append(1) or original(*a, **k))
    run = multi_tensor._run
    monkeypatch.setattr(multi_tensor, "_run",
                        lambda *a: group_calls.append(1) or run(*a))
    if not together:
        monkeypatch.setattr(multi_tensor, "step_group", lambda *a: False)
    param = Parameter(np.random.default_rng(0).standard_normal(SHAPE).astype(dtype))
    opt = getattr(optim, name)([param], **options)
    for _ in range(STEPS):
        param.grad = _gradient(param.numpy()).astype(dtype)
        opt.step()
    first_alone = int(together and options.get("momentum", 0) != 0 and name == "SGD")
    assert len(calls) == (0 if not compiled else first_alone if together else STEPS)
    assert len(group_calls) == (STEPS - first_alone if compiled and together else 0)
    monkeypatch.undo()
    return param.numpy().copy(), opt.state[param]


def _torch_run(name, options):
    param = torch.tensor(np.random.default_rng(0).standard_normal(SHAPE), requires_grad=True)
    opt = getattr(torch.optim, name)([param], **options)
    for _ in range(STEPS):
        param.grad = torch.from_numpy(_gradient(param.detach().numpy()))
        opt.step()
    return param.detach().numpy()


@pytest.mark.parametrize("together", [False, True], ids=["per-parameter", "multi-tensor"])
@pytest.mark.parametrize("name, module, spied, options", CASES, ids=IDS)
def test_compiled_update_equals_the_reference_and_torch_in_float64(
        name, module, spied, options, together, monkeypatch):
    fast, fast_state = _ffnn_run(name, options, np.float64, True, module, spied, monkeypatch,
                                 together)
    ref, ref_state = _ffnn_run(name, options, np.float64, False, module, spied, monkeypatch)
    np.testing.assert_allclose(fast, ref, rtol=1e-12, atol=1e-14)
    for key, value in ref_state.items():
        np.testing.assert_allclose(fast_state[key], value, rtol=1e-12, atol=1e-14, err_msg=key)
    np.testing.assert_allclose(fast, _torch_run(name, options), rtol=1e-10, atol=1e-12)
    assert not np.allclose(fast, np.random.default_rng(0).standard_normal(SHAPE))


@pytest.mark.parametrize("together", [False, True], ids=["per-parameter", "multi-tensor"])
@pytest.mark.parametrize("name, module, spied, options", CASES, ids=IDS)
def test_compiled_update_equals_the_reference_in_float32(
        name, module, spied, options, together, monkeypatch):
    fast, fast_state = _ffnn_run(name, options, np.float32, True, module, spied, monkeypatch,
                                 together)
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


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name, module, spied, options", CASES, ids=IDS)
def test_the_multi_tensor_step_is_the_per_parameter_kernel_bit_for_bit(
        name, module, spied, options, dtype, monkeypatch):
    alone, alone_state = _ffnn_run(name, options, dtype, True, module, spied, monkeypatch)
    together, together_state = _ffnn_run(name, options, dtype, True, module, spied,
                                         monkeypatch, together=True)
    np.testing.assert_array_equal(together, alone)
    assert together_state.keys() == alone_state.keys()
    for key, value in alone_state.items():
        np.testing.assert_array_equal(together_state[key], value, err_msg=key)


def _groups_run(name, options, together: bool, monkeypatch, compiled: bool = True):
    """Two groups (their own lr) of parameters of several sizes (small ones too, which the
    per-parameter path leaves to NumPy), one of which skips every third step: their step
    counts, and so Adam's scalars, differ from row to row."""
    monkeypatch.setattr(accel, "enabled", compiled)
    if not together:
        monkeypatch.setattr(multi_tensor, "step_group", lambda *a: False)
    rng = np.random.default_rng(1)
    params = [Parameter(rng.standard_normal(shape)) for shape in
              [(64, 80), (80,), (3, 2), (5000,), (7,)]]
    opt = getattr(optim, name)([{"params": params[:3]},
                                {"params": params[3:], "lr": options["lr"] / 3}], **options)
    for step in range(STEPS):
        for i, param in enumerate(params):
            skip = i == 1 and step % 3 == 1
            param.grad = None if skip else _gradient(param.numpy())
        opt.step()
    monkeypatch.undo()
    return [p.numpy().copy() for p in params], [dict(opt.state[p]) for p in params]


@pytest.mark.parametrize("name, module, spied, options", CASES, ids=IDS)
def test_the_multi_tensor_step_follows_each_parameter_s_own_state(
        name, module, spied, options, monkeypatch):
    together, together_states = _groups_run(name, options, True, monkeypatch)
    alone, alone_states = _groups_run(name, options, False, monkeypatch)
    reference, _ = _groups_run(name, options, True, monkeypatch, compiled=False)
    for mine, theirs, ref, mine_state, their_state in zip(
            together, alone, reference, together_states, alone_states):
        np.testing.assert_allclose(mine, ref, rtol=1e-12, atol=1e-14)
        if mine.size >= accel.MIN_SIZE:  # both compiled: the same loop
            np.testing.assert_array_equal(mine, theirs)
        assert mine_state.keys() == their_state.keys()
        assert mine_state.get("step") == their_state.get("step")


def test_an_optimizer_after_multi_tensor_steps_pickles_and_continues_alike(monkeypatch):
    import pickle

    monkeypatch.setattr(accel, "enabled", True)
    param = Parameter(np.random.default_rng(2).standard_normal(SHAPE))
    opt = optim.Adam([param], lr=0.01)
    for _ in range(3):
        param.grad = _gradient(param.numpy())
        opt.step()
    assert opt._plans, "the multi-tensor step ran"
    twin = pickle.loads(pickle.dumps(opt))
    twin_param = twin.param_groups[0]["params"][0]
    for p, o in ((param, opt), (twin_param, twin)):
        p.grad = _gradient(p.numpy())
        o.step()
    np.testing.assert_array_equal(twin_param.numpy(), param.numpy())
    assert twin.state[twin_param]["step"] == opt.state[param]["step"] == 4


@pytest.mark.parametrize("name, options", [
    ("Adam", {"lr": 0.01}), ("AdamW", {"lr": 0.01, "weight_decay": 0.1}),
    ("SGD", {"lr": 0.05, "momentum": 0.9}), ("SGD", {"lr": 0.05})])
def test_options_changed_between_steps_reach_the_multi_tensor_step(name, options,
                                                                   monkeypatch):
    """The scalars a group's parameters share are made again when an option changes (a new
    lr every step, betas set, maximize switched on, the lr set back to an old value): the
    multi-tensor step follows the NumPy path, and torch."""
    changes = [lambda g: g.update(lr=g["lr"] * 0.7), lambda g: None,
               lambda g: g.update(maximize=True),
               lambda g: g.update(betas=(0.8, 0.95)) if "betas" in g else None,
               lambda g: g.update(lr=options["lr"]), lambda g: g.update(maximize=False)]

    def run(library, compiled: bool):
        if library is optim:
            monkeypatch.setattr(accel, "enabled", compiled)
        rng = np.random.default_rng(4)
        starts = [rng.standard_normal(s) for s in [(40, 30), (30,), (5000,)]]
        if library is optim:
            params = [Parameter(s.copy()) for s in starts]
        else:
            params = [torch.tensor(s.copy(), requires_grad=True) for s in starts]
        opt = getattr(library, name)(params, **options)
        for change in changes * 2:
            change(opt.param_groups[0])
            for p in params:
                values = p.numpy() if library is optim else p.detach().numpy()
                grad = _gradient(values)
                p.grad = grad if library is optim else torch.tensor(grad)
            opt.step()
        monkeypatch.undo()
        return [p.numpy() if library is optim else p.detach().numpy() for p in params]

    together, reference = run(optim, True), run(optim, False)
    for mine, ref, theirs in zip(together, reference, run(torch.optim, False)):
        np.testing.assert_allclose(mine, ref, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(mine, theirs, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name, module, spied, options", CASES, ids=IDS)
def test_a_step_reusing_the_last_table_is_the_full_step_bit_for_bit(
        name, module, spied, options, monkeypatch):
    """Where nothing but the gradients changed since the last step, the multi-tensor step
    reuses its table (``GroupPlan.unchanged``); a parameter's array replaced, its state's
    arrays replaced, the state loaded afresh, amsgrad, momentum or Nesterov's switched, a
    parameter's step count set back, a parameter without a gradient for a step: each is
    seen, and the parameters and states stay the full step's, bit for bit."""
    changes = {2: lambda opt, params: params[0].__setattr__(
                   "data", params[0].data.clone()),
               4: lambda opt, params: [state.update({k: v.copy() for k, v in state.items()
                                                     if isinstance(v, np.ndarray)})
                                       for state in opt.state.values()],
               6: lambda opt, params: opt.load_state_dict(opt.state_dict()),
               7: lambda opt, params: opt.param_groups[0].update(
                   {"amsgrad": True} if "amsgrad" in opt.param_groups[0] else
                   {"momentum": 0.5} if name == "SGD" and not options.get("nesterov") else {}),
               9: lambda opt, params: params[1].__setattr__("grad", None),
               8: lambda opt, params: opt.state[params[2]].update(
                   step=opt.state[params[2]]["step"] - 2) if "step" in opt.state[params[2]]
               else None,
               11: lambda opt, params: opt.param_groups[0].update(
                   nesterov=False) if opt.param_groups[0].get("nesterov") else None}

    def run(reuse: bool):
        monkeypatch.setattr(accel, "enabled", True)
        reused = []
        if not reuse:
            monkeypatch.setattr(multi_tensor.GroupPlan, "unchanged", lambda *a: False)
        else:
            original = multi_tensor._step_as_before
            monkeypatch.setattr(multi_tensor, "_step_as_before",
                                lambda *a: reused.append(1) or original(*a))
        rng = np.random.default_rng(5)
        params = [Parameter(rng.standard_normal(shape)) for shape in [(64, 80), (80,), (9,)]]
        opt = getattr(optim, name)(params, **options)
        for step in range(13):
            for param in params:
                param.grad = _gradient(param.numpy())
            if step in changes:
                changes[step](opt, params)
            opt.step()
        monkeypatch.undo()
        return params, opt, len(reused)

    params, opt, reused = run(True)
    expected, expected_opt, _ = run(False)
    if name == "NAdam":  # its step advances Πμ in the state too: never reused
        assert reused == 0
    else:
        assert reused >= 3  # steps 1, 3 and 5 follow one that changed nothing
    for mine, theirs in zip(params, expected, strict=True):
        np.testing.assert_array_equal(mine.numpy(), theirs.numpy())
        state, expected_state = opt.state[mine], expected_opt.state[theirs]
        assert state.keys() == expected_state.keys()
        for key, value in expected_state.items():
            np.testing.assert_array_equal(np.asarray(state[key]), np.asarray(value),
                                          err_msg=key)


@pytest.mark.parametrize("name, module, spied, options", CASES[::3], ids=IDS[::3])
def test_a_strided_gradient_takes_the_multi_tensor_step_as_a_contiguous_one(
        name, module, spied, options, monkeypatch):
    """A gradient that is a strided view (a column slice, a transpose's copy back) is read
    through a contiguous copy: one multi-tensor call a step, and the parameters end where
    the same gradients given contiguous take them, bit for bit."""
    def run(strided: bool):
        monkeypatch.setattr(accel, "enabled", True)
        calls = []
        original = multi_tensor._run
        monkeypatch.setattr(multi_tensor, "_run", lambda *a: calls.append(1) or original(*a))
        rng = np.random.default_rng(7)
        params = [Parameter(rng.standard_normal(shape)) for shape in [(64, 80), (80,)]]
        opt = getattr(optim, name)(params, **options)
        for _ in range(STEPS):
            for param in params:
                grad = _gradient(param.numpy())
                if strided:  # the same values, every other element of a wider array
                    wide = np.zeros(grad.shape[:-1] + (2 * grad.shape[-1],))
                    wide[..., ::2] = grad
                    grad = wide[..., ::2]
                    assert not grad.flags.c_contiguous
                param.grad = grad
            opt.step()
        monkeypatch.undo()
        return [p.numpy().copy() for p in params], len(calls)

    (strided, strided_calls), (contiguous, contiguous_calls) = run(True), run(False)
    assert strided_calls == contiguous_calls >= STEPS - 1  # SGD's first with momentum: alone
    for mine, theirs in zip(strided, contiguous, strict=True):
        np.testing.assert_array_equal(mine, theirs)


def test_a_group_of_any_size_is_passed_as_a_power_of_two_tuple():
    """One compiled ``_run`` per power of two, not per group size: the gradients first, in
    order, then the first again up to the length (``_run`` reads ``sizes.size`` of them)."""
    grads = [np.full(3, float(i)) for i in range(9)]
    for count in range(1, 10):
        found = multi_tensor.padded(grads[:count])
        assert len(found) == {1: 1, 2: 2, 3: 4, 4: 4}.get(count, 8 if count <= 8 else 16)
        assert all(a is b for a, b in zip(found, grads[:count]))
        assert all(a is grads[0] for a in found[count:])
