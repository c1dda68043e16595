"""``optim.swa_utils`` against torch's: SWA's running mean and EMAs of a model's weights over
a sequence of weights (float64 and float32), buffers copied or averaged, ``SWALR``'s
learning rates, ``update_bn``'s running statistics, a whole SWA training run, the errors."""

import numpy as np
import pytest
import torch

import ffnn
from tests.helpers import assert_close


def _net(lib, dtype):
    nn = lib.nn
    return nn.Sequential(nn.Linear(3, 5), nn.BatchNorm1d(5), nn.Tanh(), nn.Linear(5, 2)).to(dtype)


def _set(lib, model, rng) -> None:
    """New random weights, and buffers as a training step would leave them."""
    with lib.no_grad():
        for tensor in [*model.parameters(), *list(model.buffers())[:2]]:
            tensor.copy_(lib.tensor(rng.standard_normal(tuple(tensor.shape))))


AVERAGES = {
    "swa": lambda lib: {},
    "ema_multi": lambda lib: {"multi_avg_fn": lib.optim.swa_utils.get_ema_multi_avg_fn(0.9)},
    "ema_single": lambda lib: {"avg_fn": lib.optim.swa_utils.get_ema_avg_fn(0.75)},
    "swa_multi": lambda lib: {"multi_avg_fn": lib.optim.swa_utils.get_swa_multi_avg_fn()},
    "custom": lambda lib: {"avg_fn": lambda avg, new, n: 0.5 * avg + 0.5 * new.abs()},
}


def _averaged(lib, kind: str, use_buffers: bool, dtype_name: str):
    dtype = getattr(lib, dtype_name)
    rng = np.random.default_rng(1)
    model = _net(lib, dtype)
    averaged = lib.optim.swa_utils.AveragedModel(model, use_buffers=use_buffers,
                                                 **AVERAGES[kind](lib))
    for _ in range(6):
        _set(lib, model, rng)
        averaged.update_parameters(model)
    state = averaged.state_dict()
    return {name: np.asarray(value.detach().numpy()) for name, value in state.items()}


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("use_buffers", [False, True], ids=["buffers_copied", "buffers_averaged"])
@pytest.mark.parametrize("kind", AVERAGES)
def test_averaged_weights_match_torch(kind, use_buffers, dtype):
    if kind == "swa_multi" and use_buffers:  # an integer buffer (num_batches_tracked)
        for lib in (ffnn, torch):
            with pytest.raises(RuntimeError):
                _averaged(lib, kind, use_buffers, dtype)
        return
    ours, theirs = _averaged(ffnn, kind, use_buffers, dtype), \
        _averaged(torch, kind, use_buffers, dtype)
    assert list(ours) == list(theirs)  # the same names, n_averaged last, in torch's order
    for name in theirs:
        assert ours[name].dtype == theirs[name].dtype, name
        if dtype == "float64":
            assert_close(ours[name], theirs[name], what=name)
        else:
            np.testing.assert_allclose(ours[name], theirs[name], rtol=2e-6, atol=1e-6,
                                       err_msg=name)
    assert int(ours["n_averaged"]) == 6


def test_the_first_update_copies_and_swa_is_the_mean_of_the_weights_seen():
    rng = np.random.default_rng(2)
    model = _net(ffnn, ffnn.float64)
    averaged = ffnn.optim.swa_utils.AveragedModel(model)
    seen = []
    for _ in range(4):
        _set(ffnn, model, rng)
        seen.append(model[0].weight.detach().numpy().copy())
        averaged.update_parameters(model)
        np.testing.assert_allclose(averaged.module[0].weight.detach().numpy(),
                                   np.mean(seen, axis=0), rtol=1e-13)
    x = ffnn.tensor(rng.standard_normal((4, 3)))
    averaged.eval(), model.eval()
    assert averaged(x).shape == (4, 2)
    assert averaged.module is not model and averaged.module[0].weight is not model[0].weight


def _swalr(lib, strategy: str, anneal_epochs: int, steps: int = 14) -> list:
    weight = lib.nn.Parameter(lib.zeros(2))
    other = lib.nn.Parameter(lib.zeros(3))
    optimizer = lib.optim.SGD([{"params": [weight]}, {"params": [other], "lr": 0.3}], lr=0.1)
    schedule = lib.optim.swa_utils.SWALR(optimizer, swa_lr=[0.02, 0.05],
                                         anneal_epochs=anneal_epochs, anneal_strategy=strategy)
    found = [schedule.get_last_lr()]
    for _ in range(steps):
        optimizer.step()
        schedule.step()
        found.append(schedule.get_last_lr())
    return found


@pytest.mark.parametrize("anneal_epochs", [0, 1, 5, 10])
@pytest.mark.parametrize("strategy", ["cos", "linear"])
def test_swalr_gives_torchs_learning_rates(strategy, anneal_epochs):
    ours, theirs = _swalr(ffnn, strategy, anneal_epochs), _swalr(torch, strategy, anneal_epochs)
    np.testing.assert_allclose(ours, theirs, rtol=1e-13)
    np.testing.assert_allclose(ours[-1], [0.02, 0.05], rtol=1e-12)  # held at swa_lr


def _update_bn(lib):
    rng = np.random.default_rng(3)
    model = _net(lib, lib.float64)
    _set(lib, model, rng)
    model.eval()
    data = rng.standard_normal((5, 8, 3)) * 2 + 1
    loader = [(lib.tensor(batch), lib.tensor(np.zeros(8))) for batch in data[:3]] + \
        [lib.tensor(batch) for batch in data[3:]]
    lib.optim.swa_utils.update_bn(loader, model)
    norm = model[1]
    return (norm.running_mean.numpy(), norm.running_var.numpy(),
            int(norm.num_batches_tracked), norm.momentum, model.training)


def test_update_bn_recomputes_torchs_running_statistics_and_restores_the_model():
    ours, theirs = _update_bn(ffnn), _update_bn(torch)
    assert_close(ours[0], theirs[0], what="running_mean")
    assert_close(ours[1], theirs[1], what="running_var")
    assert ours[2:] == theirs[2:] == (5, 0.1, False)


def _swa_training(lib):
    """SGD, then SWA from epoch 3 with SWALR, update_bn at the end: the averaged model's
    predictions."""
    rng = np.random.default_rng(4)
    x = rng.standard_normal((64, 3))
    y = (x @ np.array([[1.0, -1.0], [0.5, 2.0], [-1.5, 0.3]])).argmax(1)
    model = _net(lib, lib.float64)
    with lib.no_grad():
        for p in model.parameters():
            p.copy_(lib.tensor(np.linspace(-0.6, 0.6, p.numel()).reshape(tuple(p.shape))))
    swa_model = lib.optim.swa_utils.AveragedModel(model)
    optimizer = lib.optim.SGD(model.parameters(), lr=0.2, momentum=0.9)
    swa_schedule = lib.optim.swa_utils.SWALR(optimizer, swa_lr=0.05, anneal_epochs=2)
    batches = [(lib.tensor(x[i:i + 16]), lib.tensor(y[i:i + 16])) for i in range(0, 64, 16)]
    for epoch in range(8):
        for xb, yb in batches:
            optimizer.zero_grad()
            lib.nn.functional.cross_entropy(model(xb), yb).backward()
            optimizer.step()
        if epoch >= 3:
            swa_model.update_parameters(model)
            swa_schedule.step()
    lib.optim.swa_utils.update_bn(batches, swa_model)
    swa_model.eval()
    with lib.no_grad():
        return swa_model(lib.tensor(x)).numpy()


def test_an_swa_training_run_gives_torchs_averaged_model():
    assert_close(_swa_training(ffnn), _swa_training(torch), what="SWA model's outputs")


def test_lerp_takes_torchs_form_on_each_side_of_one_half():
    rng = np.random.default_rng(5)
    a, b = rng.standard_normal(1000), rng.standard_normal(1000)
    for weight in (0.001, 0.3, 0.7, 1.0, 1.4, -0.2):
        ours = ffnn.tensor(a).lerp(ffnn.tensor(b), weight).numpy()
        assert_close(ours, torch.tensor(a).lerp(torch.tensor(b), weight).numpy(),
                     what=f"lerp w={weight}")
    assert np.array_equal(ffnn.tensor(a).lerp(ffnn.tensor(b), 1.0).numpy(), b)  # exact at 1
    weights = rng.uniform(-0.5, 1.5, 1000)
    assert_close(ffnn.tensor(a).lerp(ffnn.tensor(b), ffnn.tensor(weights)).numpy(),
                 torch.tensor(a).lerp(torch.tensor(b), torch.tensor(weights)).numpy(),
                 what="lerp with a tensor of weights")


def test_bad_arguments_raise_torchs_errors():
    swa = ffnn.optim.swa_utils
    model = _net(ffnn, ffnn.float32)
    with pytest.raises(AssertionError, match="Only one of avg_fn and multi_avg_fn"):
        swa.AveragedModel(model, avg_fn=swa.get_swa_avg_fn(),
                          multi_avg_fn=swa.get_swa_multi_avg_fn())
    with pytest.raises(TypeError, match="model must be an ffnn.nn.Module"):
        swa.AveragedModel([model])
    with pytest.raises(ValueError, match="Invalid decay value 1.5"):
        swa.get_ema_multi_avg_fn(1.5)
    optimizer = ffnn.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="anneal_strategy must be one of 'cos' or 'linear'"):
        swa.SWALR(optimizer, swa_lr=0.01, anneal_strategy="exp")
    with pytest.raises(ValueError, match="anneal_epochs must be equal or greater than 0"):
        swa.SWALR(optimizer, swa_lr=0.01, anneal_epochs=-1)
    with pytest.raises(ValueError, match="expected 1 values for swa_lr"):
        swa.SWALR(optimizer, swa_lr=[0.01, 0.02])
