"""Trainer(compile=...): the compiled step inside fit gives the eager run's history and
weights (bit for bit with compile=True)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import ffnn
from ffnn import accel, nn, optim
from ffnn.train import Trainer


def _fit(compile, loss, X, y, **options):
    ffnn.manual_seed(0)
    width = 3 if loss == "cross_entropy" else 1
    model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, width)).double()
    trainer = Trainer(model, loss, optim.Adam(model.parameters(), lr=0.01),
                      metrics=["accuracy"] if loss == "cross_entropy" else ["mse"], seed=1,
                      compile=compile, **options)
    history = trainer.fit((X, y), validation_split=0.2, epochs=3, batch_size=16, verbose=0)
    return history.history, [p._data.copy() for p in model.parameters()]


@pytest.mark.parametrize("loss", ["cross_entropy", "mse"])
def test_compiled_fit_equals_eager_fit(loss, rng):
    X = rng.standard_normal((90, 4))  # 72 training rows: a last batch of 8
    y = rng.integers(0, 3, 90) if loss == "cross_entropy" else X @ rng.standard_normal(4)
    eager_history, eager_params = _fit(False, loss, X, y)
    compiled_history, compiled_params = _fit(True, loss, X, y)
    assert compiled_history == eager_history
    for a, b in zip(eager_params, compiled_params):
        assert np.array_equal(a, b)
    if accel.available:
        fused_history, fused_params = _fit("fused", loss, X, y)
        for key, values in eager_history.items():
            np.testing.assert_allclose(fused_history[key], values, rtol=1e-9, atol=1e-12)
        for a, b in zip(eager_params, fused_params):
            np.testing.assert_allclose(b, a, rtol=1e-9, atol=1e-12)


def test_images_through_a_leading_flatten_take_the_compiled_step(rng):
    """A Dataset of [1, 2, 2] images and ``nn.Flatten()`` first: the fast step (bit for bit
    the graph's run) and the fused one (to rounding) take every batch."""
    from ffnn.utils.data import TensorDataset

    X, y = rng.standard_normal((90, 1, 2, 2)), rng.integers(0, 3, 90)

    def fit(compile):
        ffnn.manual_seed(0)
        model = nn.Sequential(nn.Flatten(), nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 3))
        trainer = Trainer(model.double(), "cross_entropy",
                          optim.Adam(model.parameters(), lr=0.01), seed=1, compile=compile)
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # compile='fused' warns where it cannot
            history = trainer.fit(TensorDataset(ffnn.tensor(X), ffnn.tensor(y)), epochs=3,
                                  batch_size=16, verbose=0)
        return history.history, [p._data.copy() for p in model.parameters()], trainer

    eager_history, eager_params, _ = fit(False)
    compiled_history, compiled_params, trainer = fit(True)
    assert compiled_history == eager_history and trainer._chain is not None
    for a, b in zip(eager_params, compiled_params):
        assert np.array_equal(a, b)
    if accel.available:
        fused_history, fused_params, trainer = fit("fused")
        assert trainer._fused_capture[1] is not None
        np.testing.assert_allclose(fused_history["loss"], eager_history["loss"], rtol=1e-9)
        for a, b in zip(eager_params, fused_params):
            np.testing.assert_allclose(b, a, rtol=1e-9, atol=1e-12)


def test_compile_is_off_with_gradient_clipping(rng):
    X, y = rng.standard_normal((20, 4)), rng.integers(0, 3, 20)
    with pytest.warns(UserWarning, match="compile='fused' is off with grad_clip"):
        clipped_history, _ = _fit("fused", "cross_entropy", X, y, grad_clip=1.0)
    assert clipped_history == _fit(False, "cross_entropy", X, y, grad_clip=1.0)[0]
    assert _fit(True, "cross_entropy", X, y, grad_clip=1.0)[0] == clipped_history


def test_bad_compile_value():
    model = nn.Linear(2, 1)
    with pytest.raises(ValueError, match="compile must be True, False, 'replay', 'fused' or "
                                         "'auto'. Received: compile='yes'"):
        Trainer(model, "mse", optim.SGD(model.parameters(), lr=0.1), compile="yes")


def test_cli_train_compile_gives_the_eager_run(tmp_path):
    """`ffnn train` with train.compile=replay writes the metrics of the eager run."""
    from ffnn.cli import main

    logs = {}
    for mode in ("off", "replay"):
        config = tmp_path / f"{mode}.toml"
        config.write_text(f'seed = 2\nout = "{(tmp_path / mode).as_posix()}"\n\n[data]\n'
                          'name = "iris"\n\n[model]\nhidden_sizes = [8]\nactivation = "tanh"\n'
                          f'\n[train]\nepochs = 3\nbatch_size = 16\ncompile = "{mode}"\n')
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert main(["train", str(config), "-q"]) == 0
        table = np.genfromtxt(tmp_path / mode / "metrics.csv", delimiter=",", names=True)
        logs[mode] = {name: table[name] for name in table.dtype.names if "time" not in name}
    assert logs["off"].keys() == logs["replay"].keys() and "loss" in logs["off"]
    for name, values in logs["off"].items():
        assert np.array_equal(values, logs["replay"][name]), name


class _WeightL2:
    """``½ λ Σ‖W‖² / Σw`` over the Linear weights, as a Trainer penalty that declares it."""

    def __init__(self, model, lam: float):
        self.weights = [m.weight for m in model.modules() if isinstance(m, nn.Linear)]
        self.lam = lam

    def weight_l2(self, weight_sum: float) -> float:
        return self.lam / weight_sum

    def __call__(self, weight_sum: float) -> float:
        c = self.lam / weight_sum
        for w in self.weights:
            w._grad += c * w._data
        return 0.5 * c * sum(float((w._data ** 2).sum()) for w in self.weights)


@pytest.mark.skipif(not accel.available, reason="numba is not installed")
@pytest.mark.parametrize("compile", ["fused", "auto"])
def test_fused_fit_computes_a_declared_l2_penalty(compile, rng, monkeypatch):
    from tests._fast_steps import count_fused_steps

    X, y = rng.standard_normal((90, 4)), rng.integers(0, 3, 90)
    monkeypatch.setattr(accel, "enabled", True)  # 'auto' fuses with the kernels on

    def fit(mode, lam=0.5):
        ffnn.manual_seed(0)
        model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 3)).double()
        trainer = Trainer(model, "cross_entropy", optim.Adam(model.parameters(), lr=0.01),
                          seed=1, compile=mode, penalty=_WeightL2(model, lam))
        history = trainer.fit((X, y), epochs=3, batch_size=16, verbose=0)
        return history.history["loss"], [p._data.copy() for p in model.parameters()]

    eager_loss, eager_params = fit(False)
    calls = count_fused_steps(monkeypatch)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fused_loss, fused_params = fit(compile)
    assert len(calls) == 3 * 6
    np.testing.assert_allclose(fused_loss, eager_loss, rtol=1e-10)
    for a, b in zip(eager_params, fused_params):
        np.testing.assert_allclose(b, a, rtol=1e-9, atol=1e-12)
    assert not np.allclose(fit(compile, lam=0.0)[0], fused_loss)  # the penalty counts


def test_auto_falls_back_to_the_fast_step_silently(rng):
    X, y = rng.standard_normal((20, 4)), rng.integers(0, 3, 20)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        auto_history, auto_params = _fit("auto", "cross_entropy", X, y, grad_clip=1.0)
    replay_history, replay_params = _fit(True, "cross_entropy", X, y, grad_clip=1.0)
    assert auto_history == replay_history
    for a, b in zip(auto_params, replay_params):
        assert np.array_equal(a, b)


def test_a_target_the_fast_step_declines_after_dropout_draws_the_graphs_masks(rng):
    """Class probabilities as targets: the fast step runs the chain's forward (dropout draws
    its masks), then its cross-entropy declines them and the graph trains the batch. The
    streams are put back first, so the graph draws the masks the graph alone would: the run
    equals one without the fast step, bit for bit."""
    X = rng.standard_normal((40, 4))
    Y = rng.dirichlet(np.ones(3), 40)

    def fit(fast_step):
        ffnn.manual_seed(0)
        model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Dropout(0.4),
                              nn.Linear(8, 3)).double()
        trainer = Trainer(model, "cross_entropy", optim.SGD(model.parameters(), lr=0.1),
                          seed=1, fast_step=fast_step)
        history = trainer.fit((X, Y), epochs=2, batch_size=8, verbose=0)
        return history.history["loss"], [p._data.copy() for p in model.parameters()]

    graph_loss, graph_params = fit(False)
    fast_loss, fast_params = fit(True)
    assert fast_loss == graph_loss
    for a, b in zip(graph_params, fast_params):
        assert np.array_equal(a, b)


def test_a_target_the_fast_step_declines_leaves_batch_norm_as_the_graph_finds_it(rng):
    """As above with batch norm: its running statistics, updated by the fast step's forward,
    are put back before the graph trains the batch (else they would move twice)."""
    X = rng.standard_normal((40, 4))
    Y = rng.dirichlet(np.ones(3), 40)

    def fit(fast_step):
        ffnn.manual_seed(0)
        model = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(),
                              nn.Linear(8, 3)).double()
        trainer = Trainer(model, "cross_entropy", optim.SGD(model.parameters(), lr=0.1),
                          seed=1, fast_step=fast_step)
        trainer.fit((X, Y), epochs=2, batch_size=8, verbose=0)
        return [a._data.copy() for a in model.state_dict().values()]

    for a, b in zip(fit(False), fit(True)):
        assert np.array_equal(a, b)


@pytest.mark.skipif(not accel.available, reason="numba is not installed")
def test_fused_fit_with_batch_and_layer_norm_follows_the_eager_fit(rng, monkeypatch):
    """Norms are fused: every training batch takes the fused step, the validation passes in
    eval mode use the running statistics it kept, and history and state match eager."""
    from tests._fast_steps import count_fused_steps

    X, y = rng.standard_normal((90, 4)), rng.integers(0, 3, 90)

    def fit(mode):
        ffnn.manual_seed(0)
        model = nn.Sequential(nn.Linear(4, 8, bias=False), nn.BatchNorm1d(8), nn.ReLU(),
                              nn.Linear(8, 6), nn.LayerNorm(6), nn.Tanh(),
                              nn.Linear(6, 3)).double()
        trainer = Trainer(model, "cross_entropy", optim.SGD(model.parameters(), lr=0.05,
                                                            momentum=0.9),
                          metrics=["accuracy"], seed=1, compile=mode)
        history = trainer.fit((X, y), validation_split=0.2, epochs=3, batch_size=16, verbose=0)
        return history.history, model.state_dict()

    eager_history, eager_state = fit(False)
    calls = count_fused_steps(monkeypatch)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fused_history, fused_state = fit("fused")
    assert len(calls) == 3 * 5  # 72 training rows, batches of 16
    for key, values in eager_history.items():
        np.testing.assert_allclose(fused_history[key], values, rtol=1e-9, atol=1e-12)
    for name, value in eager_state.items():
        np.testing.assert_allclose(fused_state[name]._data, value._data, rtol=1e-9, atol=1e-12,
                                   err_msg=name)
