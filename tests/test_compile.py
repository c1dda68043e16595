"""ffnn.compile (replay mode): bit for bit the eager step, and the eager step itself, with a
one-line reason, for what it cannot capture."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import ffnn
from ffnn import accel, nn, optim
from tests._fast_steps import eager_step

ACTIVATIONS = {"tanh": nn.Tanh, "relu": nn.ReLU, "sigmoid": nn.Sigmoid, "gelu": nn.GELU,
               "gelu_tanh": lambda: nn.GELU("tanh"), "silu": nn.SiLU,
               "leaky_relu": lambda: nn.LeakyReLU(0.1), "elu": lambda: nn.ELU(0.5),
               "selu": nn.SELU, "softplus": lambda: nn.Softplus(beta=2.0, threshold=1.0),
               "relu6": nn.ReLU6, "hardtanh": lambda: nn.Hardtanh(-0.5, 0.5),
               "hardsigmoid": nn.Hardsigmoid, "hardswish": nn.Hardswish, "mish": nn.Mish}
OPTIMIZERS = {
    "sgd": lambda p: optim.SGD(p, lr=0.1),
    "momentum": lambda p: optim.SGD(p, lr=0.05, momentum=0.9, dampening=0.1, weight_decay=1e-3),
    "nesterov": lambda p: optim.SGD(p, lr=0.05, momentum=0.9, nesterov=True),
    "adam": lambda p: optim.Adam(p, lr=1e-2),
    "adam_decay_amsgrad": lambda p: optim.Adam(p, lr=1e-2, weight_decay=1e-2, amsgrad=True),
    "adamw": lambda p: optim.AdamW(p, lr=1e-2),
    "rmsprop": lambda p: optim.RMSprop(p, lr=1e-2, momentum=0.5),
    "adagrad": lambda p: optim.Adagrad(p, lr=1e-1),
}
LOSSES = ("mse", "cross_entropy", "bce_with_logits")


def _model(sizes, activation="tanh", dtype=np.float32, seed=0):
    ffnn.manual_seed(seed)
    layers = []
    for i in range(len(sizes) - 1):
        layers += [nn.Linear(sizes[i], sizes[i + 1]), ACTIVATIONS[activation]()]
    model = nn.Sequential(*layers[:-1])
    return model.double() if dtype == np.float64 else model


def _loss_and_targets(loss: str, n: int, width: int, dtype, rng, steps: int):
    if loss == "mse":
        return nn.MSELoss(), [rng.standard_normal((n, width)).astype(dtype) for _ in range(steps)]
    if loss == "cross_entropy":
        return nn.CrossEntropyLoss(), [rng.integers(0, width, n) for _ in range(steps)]
    return nn.BCEWithLogitsLoss(reduction="sum"), [
        (rng.random((n, width)) > 0.5).astype(dtype) for _ in range(steps)]


def _state_arrays(optimizer) -> list:
    state = optimizer.state_dict()["state"]
    return [(i, k, np.asarray(v)) for i in sorted(state) for k, v in sorted(state[i].items())]


def _assert_same(model_a, model_b, opt_a, opt_b) -> None:
    for (name, a), (_, b) in zip(model_a.named_parameters(), model_b.named_parameters()):
        assert np.array_equal(a._data, b._data), name
        assert np.array_equal(a._grad, b._grad), name
    state_a, state_b = _state_arrays(opt_a), _state_arrays(opt_b)
    assert len(state_a) == len(state_b)
    for (i, k, a), (j, m, b) in zip(state_a, state_b):
        assert (i, k) == (j, m) and np.array_equal(a, b), (i, k)


def _run_both(sizes, activation, optimizer, loss, dtype, rng, steps=4, n=8):
    eager_model, compiled_model = (_model(sizes, activation, dtype) for _ in range(2))
    opt_e, opt_c = (OPTIMIZERS[optimizer](m.parameters()) for m in (eager_model,
                                                                       compiled_model))
    loss_fn, targets = _loss_and_targets(loss, n, sizes[-1], dtype, rng, steps)
    step = ffnn.compile(compiled_model, loss_fn, opt_c)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a fallback would warn
        for y in targets:
            x = ffnn.tensor(rng.standard_normal((n, sizes[0])).astype(dtype))
            expected = eager_step(eager_model, loss_fn, opt_e, x, ffnn.tensor(y))
            assert step(x, ffnn.tensor(y)) == expected
            assert step.compiled and step.reason is None
    _assert_same(eager_model, compiled_model, opt_e, opt_c)
    return eager_model


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
def test_each_optimizer_bit_for_bit(optimizer, dtype, rng):
    _run_both([5, 7, 6, 3], "tanh", optimizer, "mse", dtype, rng)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_each_activation_bit_for_bit(activation, dtype, rng):
    _run_both([4, 9, 5], activation, "adam", "cross_entropy", dtype, rng)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("loss", LOSSES)
def test_each_loss_bit_for_bit(loss, dtype, rng):
    _run_both([3, 6, 4], "relu", "momentum", loss, dtype, rng)


@pytest.mark.parametrize("use_accel", [False, True])
def test_bit_for_bit_with_and_without_the_compiled_kernels(use_accel, monkeypatch, rng):
    """Layers large enough for ffnn.accel's kernels (ReLU, GELU, cross-entropy, Adam)."""
    monkeypatch.setattr(accel, "enabled", use_accel and accel.available)
    _run_both([64, 128, 96, 10], "relu", "adam", "cross_entropy", np.float32, rng, n=64)
    _run_both([64, 128, 10], "gelu", "adamw", "cross_entropy", np.float32, rng, n=64)


def test_trains_a_real_problem(rng):
    """The compiled step learns XOR (the loss falls below a level no linear model reaches)."""
    model = _model([2, 8, 1], "tanh", np.float64, seed=3)
    step = ffnn.compile(model, nn.MSELoss(), optim.Adam(model.parameters(), lr=0.05))
    x = ffnn.tensor(np.array([[0, 0], [0, 1], [1, 0], [1, 1]], np.float64))
    y = ffnn.tensor(np.array([[0], [1], [1], [0]], np.float64))
    losses = [step(x, y) for _ in range(400)]
    assert losses[-1] < 0.01 < 0.2 < losses[0]


def test_batch_size_changes_and_untouched_extra_parameters(rng):
    """A last smaller batch; a parameter of the optimizer outside the model keeps grad None."""
    eager_model, compiled_model = _model([3, 5, 2]), _model([3, 5, 2])
    extra_e, extra_c = (ffnn.zeros(4, requires_grad=True) for _ in range(2))
    extra_c.grad = ffnn.ones(4)
    opt_e = optim.SGD([*eager_model.parameters(), extra_e], lr=0.1, momentum=0.9)
    opt_c = optim.SGD([*compiled_model.parameters(), extra_c], lr=0.1, momentum=0.9)
    step = ffnn.compile(compiled_model, nn.MSELoss(), opt_c)
    for n in (8, 8, 3, 8):
        x = ffnn.tensor(rng.standard_normal((n, 3)).astype(np.float32))
        y = ffnn.tensor(rng.standard_normal((n, 2)).astype(np.float32))
        assert step(x, y) == eager_step(eager_model, nn.MSELoss(), opt_e, x, y)
    _assert_same(eager_model, compiled_model, opt_e, opt_c)
    assert extra_c.grad is None and np.array_equal(extra_c._data, np.zeros(4))


def test_sees_parameters_changed_in_place_and_replaced(rng):
    """The user edits a weight in place, then assigns new data, between steps."""
    eager_model, compiled_model = _model([3, 4, 2]), _model([3, 4, 2])
    opt_e = optim.Adam(eager_model.parameters(), lr=0.01)
    opt_c = optim.Adam(compiled_model.parameters(), lr=0.01)
    step = ffnn.compile(compiled_model, nn.MSELoss(), opt_c)
    edits = [lambda m: m[0].weight.data.mul_(0.5),
             lambda m: setattr(m[2].bias, "data", ffnn.tensor(np.ones(2, np.float32))),
             lambda m: m[2].weight.data.zero_()]
    for edit in [None, *edits]:
        if edit is not None:
            with ffnn.no_grad():
                edit(eager_model)
                edit(compiled_model)
        x = ffnn.tensor(rng.standard_normal((6, 3)).astype(np.float32))
        y = ffnn.tensor(rng.standard_normal((6, 2)).astype(np.float32))
        assert step(x, y) == eager_step(eager_model, nn.MSELoss(), opt_e, x, y)
    _assert_same(eager_model, compiled_model, opt_e, opt_c)


def test_a_replaced_parameter_or_layer_is_captured_again(rng):
    eager_model, compiled_model = _model([3, 4, 2]), _model([3, 4, 2])
    opt_e = optim.SGD(eager_model.parameters(), lr=0.1)
    opt_c = optim.SGD(compiled_model.parameters(), lr=0.1)
    step = ffnn.compile(compiled_model, nn.MSELoss(), opt_c)

    def new_bias(model):
        model[0].bias = nn.Parameter(ffnn.tensor(np.full(4, 0.5, np.float32)))
        opt = optim.SGD(model.parameters(), lr=0.1)
        return opt

    def new_layer(model):
        ffnn.manual_seed(5)
        model[2] = nn.Linear(4, 2)
        return optim.SGD(model.parameters(), lr=0.1)

    for edit in (None, new_bias, new_layer):
        if edit is not None:
            opt_e, step.optimizer = edit(eager_model), edit(compiled_model)
        x = ffnn.tensor(rng.standard_normal((5, 3)).astype(np.float32))
        y = ffnn.tensor(rng.standard_normal((5, 2)).astype(np.float32))
        assert step(x, y) == eager_step(eager_model, nn.MSELoss(), opt_e, x, y)
        assert step.compiled
    for a, b in zip(eager_model.parameters(), compiled_model.parameters()):
        assert np.array_equal(a._data, b._data)


@pytest.mark.parametrize("mode", ["replay", "fused"])
def test_an_option_changed_after_capture_is_captured_again(mode, rng):
    """An activation's option, a norm's eps and the loss's reduction changed between steps
    reach the next step, as they reach the eager one (the fused kernel to rounding)."""
    def make():
        ffnn.manual_seed(2)
        return nn.Sequential(nn.Linear(3, 6), nn.LeakyReLU(0.01), nn.Linear(6, 6), nn.ELU(),
                             nn.Linear(6, 2)).double()

    eager_model, compiled_model = make(), make()
    loss_e, loss_c = nn.MSELoss(), nn.MSELoss()
    opt_e = optim.SGD(eager_model.parameters(), lr=0.1)
    opt_c = optim.SGD(compiled_model.parameters(), lr=0.1)
    step = ffnn.compile(compiled_model, loss_c, opt_c, mode=mode)
    captures, capture = [], step._capture
    step._capture = lambda: captures.append(1) or capture()

    def slope(model, loss):
        model[1].negative_slope = 0.4

    def alpha(model, loss):
        model[3].alpha = 2.5

    def reduction(model, loss):
        loss.reduction = "sum"

    for edit in (None, slope, alpha, reduction):
        if edit is not None:
            edit(eager_model, loss_e)
            edit(compiled_model, loss_c)
        x = ffnn.tensor(rng.standard_normal((5, 3)))
        y = ffnn.tensor(rng.standard_normal((5, 2)))
        expected = eager_step(eager_model, loss_e, opt_e, x, y)
        got = step(x, y)
        assert step.compiled
        if mode == "replay":
            assert got == expected
        else:
            assert got == pytest.approx(expected, rel=1e-12)
        step(x, y)  # nothing changed since: no capture
        eager_step(eager_model, loss_e, opt_e, x, y)
    assert len(captures) == 3  # one per edit
    for a, b in zip(eager_model.parameters(), compiled_model.parameters()):
        np.testing.assert_allclose(b._data, a._data, rtol=1e-12, atol=1e-14)


def test_requires_grad_changes_between_steps(rng):
    """Freezing and unfreezing a layer: re-captured, still the eager step."""
    eager_model, compiled_model = _model([3, 4, 4, 2]), _model([3, 4, 4, 2])
    opt_e = optim.SGD(eager_model.parameters(), lr=0.1, momentum=0.5)
    opt_c = optim.SGD(compiled_model.parameters(), lr=0.1, momentum=0.5)
    step = ffnn.compile(compiled_model, nn.MSELoss(), opt_c)
    for frozen in (False, True, True, False):
        for model in (eager_model, compiled_model):
            model[0].requires_grad_(not frozen)
        x = ffnn.tensor(rng.standard_normal((5, 3)).astype(np.float32))
        y = ffnn.tensor(rng.standard_normal((5, 2)).astype(np.float32))
        assert step(x, y) == eager_step(eager_model, nn.MSELoss(), opt_e, x, y)
        assert step.compiled
        assert (compiled_model[0].weight.grad is None) == frozen
    _assert_same(eager_model, compiled_model, opt_e, opt_c)


def _fallback(model_fn, loss_fn, edit, rng, expected_reason: str):
    """The compiled step after ``edit`` warns once with the reason and equals eager."""
    ffnn.manual_seed(0)
    eager_model = model_fn()
    ffnn.manual_seed(0)
    compiled_model = model_fn()
    opt_e = optim.SGD(eager_model.parameters(), lr=0.1)
    opt_c = optim.SGD(compiled_model.parameters(), lr=0.1)
    step = ffnn.compile(compiled_model, loss_fn, opt_c)
    calls_e, calls_c = edit(eager_model), edit(compiled_model)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(3):
            x = ffnn.tensor(rng.standard_normal((4, 3)).astype(np.float32))
            y = ffnn.tensor(rng.standard_normal((4, 2)).astype(np.float32))
            assert step(x, y) == eager_step(eager_model, loss_fn, opt_e, x, y)
    messages = [str(w.message) for w in caught if "ffnn.compile" in str(w.message)]
    assert len(messages) == 1 and "\n" not in messages[0]
    assert expected_reason in messages[0] and expected_reason in step.reason
    assert not step.compiled
    for a, b in zip(eager_model.parameters(), compiled_model.parameters()):
        assert np.array_equal(a._data, b._data)
    assert calls_e == calls_c
    return step


@pytest.mark.parametrize("mode", ["replay", "fused"])
@pytest.mark.parametrize("loss", ["cross_entropy", "mse"])
def test_a_leading_flatten_takes_image_shaped_batches(mode, loss, rng):
    """``nn.Flatten()`` before the first Linear (the usual MNIST network): batches [n, 1, 4,
    4] are captured, bit for bit the eager step (replay) or to rounding (fused), with a
    batch of another size between them."""
    def make():
        ffnn.manual_seed(0)
        return nn.Sequential(nn.Flatten(), nn.Linear(16, 8), nn.Tanh(), nn.Linear(8, 3))

    eager_model, compiled_model = make(), make()
    opt_e, opt_c = (optim.Adam(m.parameters(), lr=1e-2) for m in (eager_model, compiled_model))
    loss_fn, targets = _loss_and_targets(loss, 6, 3, np.float32, rng, 4)
    step = ffnn.compile(compiled_model, loss_fn, opt_c, mode=mode)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for i, y in enumerate(targets):
            rows = 6 if i != 2 else 5
            x = ffnn.tensor(rng.standard_normal((rows, 1, 4, 4)).astype(np.float32))
            y = ffnn.tensor(y[:rows])
            expected = eager_step(eager_model, loss_fn, opt_e, x, y)
            got = step(x, y)
            assert step.compiled and (step.fused is not None) == (mode == "fused")
            if mode == "replay":
                assert got == expected
            else:
                np.testing.assert_allclose(got, expected, rtol=1e-5)
    if mode == "replay":
        _assert_same(eager_model, compiled_model, opt_e, opt_c)
    for a, b in zip(eager_model.parameters(), compiled_model.parameters()):
        np.testing.assert_allclose(b._data, a._data, rtol=1e-4, atol=1e-6)


def test_a_flatten_it_cannot_take_runs_the_eager_step(rng):
    """A Flatten over other dims, or a batch whose rows do not hold the first Linear's
    inputs: the eager step, with its reason, or its own error."""
    def make():
        return nn.Sequential(nn.Flatten(start_dim=2), nn.Linear(4, 2))

    model = make()
    with pytest.warns(UserWarning, match=r"Flatten\(start_dim=2, end_dim=-1\) is not captured"):
        step = ffnn.compile(model, nn.MSELoss(), optim.SGD(model.parameters(), lr=0.1))
        step(ffnn.tensor(rng.standard_normal((3, 2, 2, 2)).astype(np.float32)),
             ffnn.tensor(rng.standard_normal((3, 2, 2)).astype(np.float32)))
    flat = nn.Sequential(nn.Flatten(), nn.Linear(16, 2))
    step = ffnn.compile(flat, nn.MSELoss(), optim.SGD(flat.parameters(), lr=0.1))
    with pytest.warns(UserWarning, match="the input has shape"), \
            pytest.raises(ValueError, match="got input with 32 features"):
        step(ffnn.tensor(rng.standard_normal((3, 2, 4, 4)).astype(np.float32)),
             ffnn.tensor(rng.standard_normal((3, 2)).astype(np.float32)))


def test_falls_back_for_an_unsupported_module(rng):
    _fallback(lambda: nn.Sequential(nn.Linear(3, 4), nn.PReLU(), nn.Linear(4, 2)),
              nn.MSELoss(), lambda m: None, rng, "PReLU is not supported")
    _fallback(lambda: nn.Sequential(nn.Linear(3, 4), nn.Softmax(dim=0), nn.Linear(4, 2)),
              nn.MSELoss(), lambda m: None, rng, "Softmax with these options is not captured")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("norm", ["affine", "no_bias", "plain", "frozen"])
def test_layer_norm_chains_replay_bit_for_bit(norm, dtype, rng):
    """A layer norm's parameters are taken like a Linear's: its op's own forward and
    backward, gradients accumulated, frozen ones left alone."""
    def make():
        ffnn.manual_seed(0)
        layer_norm = nn.LayerNorm(6, eps=1e-3, elementwise_affine=norm != "plain",
                                  bias=norm != "no_bias")
        model = nn.Sequential(nn.Linear(3, 6), layer_norm, nn.GELU(), nn.Linear(6, 2),
                              nn.LayerNorm(2))
        if norm == "frozen":
            layer_norm.weight.requires_grad_(False)
        return model.double() if dtype == np.float64 else model

    eager_model, compiled_model = make(), make()
    opt_e, opt_c = (optim.Adam([p for p in m.parameters() if p.requires_grad], lr=1e-2)
                    for m in (eager_model, compiled_model))
    step = ffnn.compile(compiled_model, nn.MSELoss(), opt_c)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for _ in range(3):
            x = ffnn.tensor(rng.standard_normal((5, 3)).astype(dtype))
            y = ffnn.tensor(rng.standard_normal((5, 2)).astype(dtype))
            assert step(x, y) == eager_step(eager_model, nn.MSELoss(), opt_e, x, y)
            assert step.compiled
    if norm == "frozen":
        assert compiled_model[1].weight.grad is None
    _assert_same(eager_model, compiled_model, opt_e, opt_c)


def test_a_layer_norm_of_another_width_runs_eagerly_and_raises(rng):
    model = nn.Sequential(nn.Linear(3, 4), nn.LayerNorm(5), nn.Linear(5, 2))
    with pytest.warns(UserWarning, match=r"LayerNorm has parameters of shapes \[\(5,\)\] "
                                         r"after a layer of 4 features"):
        step = ffnn.compile(model, nn.MSELoss(), optim.SGD(model.parameters(), lr=0.1))
        with pytest.raises(ValueError, match="does not end with normalized_shape"):
            step(ffnn.randn(2, 3), ffnn.randn(2, 2))


def test_falls_back_for_a_custom_forward_that_is_not_a_chain(rng):
    class Residual(nn.Module):
        def __init__(self):
            super().__init__()
            self.a, self.b = nn.Linear(3, 3), nn.Linear(3, 2)

        def forward(self, x):
            return self.b(x + self.a(x))

    _fallback(Residual, nn.MSELoss(), lambda m: None, rng,
              "Residual.forward is not one chain of layers (the input of Add is not the "
              "previous op's output)")


def test_falls_back_for_an_unsupported_loss(rng):
    _fallback(lambda: _model([3, 4, 2]), nn.PoissonNLLLoss(), lambda m: None, rng,
              "PoissonNLLLoss is not supported")


REGRESSION_LOSSES = {
    "l1": nn.L1Loss, "l1_sum": lambda: nn.L1Loss(reduction="sum"),
    "huber": lambda: nn.HuberLoss(delta=0.7), "smooth_l1": lambda: nn.SmoothL1Loss(beta=0.4),
    "smooth_l1_beta0": lambda: nn.SmoothL1Loss(beta=0.0),
    "smooth_l1_sum": lambda: nn.SmoothL1Loss(reduction="sum", beta=1.5),
    "bce": nn.BCELoss, "bce_sum": lambda: nn.BCELoss(reduction="sum")}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", sorted(REGRESSION_LOSSES))
def test_l1_huber_smooth_l1_and_bce_replay_bit_for_bit(name, dtype, rng):
    """The Trainer's losses beyond MSE and cross-entropy (BCE after a Sigmoid, on
    probabilities): replayed with their functional forms' ops, bit for bit."""
    def make():
        model = _model([4, 6, 3], "tanh", dtype)
        return nn.Sequential(model, nn.Sigmoid()) if name.startswith("bce") else model

    eager_model, compiled_model = make(), make()
    opt_e, opt_c = (optim.Adam(m.parameters(), lr=0.05) for m in (eager_model, compiled_model))
    loss_fn = REGRESSION_LOSSES[name]()
    step = ffnn.compile(compiled_model, loss_fn, opt_c)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for _ in range(4):
            x = ffnn.tensor(rng.standard_normal((7, 4)).astype(dtype))
            y = ffnn.tensor(rng.random((7, 3)).astype(dtype) * (1 if "bce" in name else 3))
            assert step(x, y) == eager_step(eager_model, loss_fn, opt_e, x, y)
            assert step.compiled
    _assert_same(eager_model, compiled_model, opt_e, opt_c)


@pytest.mark.parametrize("loss", [nn.NLLLoss(), nn.NLLLoss(reduction="sum", ignore_index=1)],
                         ids=["mean", "sum ignore 1"])
def test_log_softmax_and_nll_loss_replay_bit_for_bit(loss, rng):
    """The tutorials' classifier head, LogSoftmax(dim=1) then NLLLoss: replayed bit for bit
    (the fused mode fuses it: ``test_compile_fused``); a label out of range runs the eager
    step, which raises the loss's error."""
    def make():
        return nn.Sequential(_model([5, 8, 4], "relu", np.float64), nn.LogSoftmax(dim=1))

    eager_model, compiled_model = make(), make()
    opt_e, opt_c = (optim.SGD(m.parameters(), lr=0.1, momentum=0.9)
                    for m in (eager_model, compiled_model))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        step = ffnn.compile(compiled_model, loss, opt_c)
        for _ in range(3):
            x = ffnn.tensor(rng.standard_normal((6, 5)))
            y = ffnn.tensor(rng.integers(0, 4, 6))
            assert step(x, y) == eager_step(eager_model, loss, opt_e, x, y)
            assert step.compiled
    assert not caught
    _assert_same(eager_model, compiled_model, opt_e, opt_c)
    with pytest.warns(UserWarning, match="class label is out of range"), \
            pytest.raises(ValueError, match="out of range|Target"):
        step(ffnn.randn(3, 5).double(), ffnn.tensor(np.array([0, 4, 1])))


WEIGHTED_LOSSES = {
    "cross_entropy class weights": (lambda: nn.CrossEntropyLoss(weight=ffnn.tensor(
        [0.5, 2.0, 1.0, 3.0])), "labels", False),
    "cross_entropy weights sum smoothing": (lambda: nn.CrossEntropyLoss(
        weight=ffnn.tensor([0.5, 2.0, 1.0, 3.0]), reduction="sum", label_smoothing=0.1),
        "labels", False),
    "nll class weights": (lambda: nn.NLLLoss(weight=ffnn.tensor([1.0, 0.2, 4.0, 1.5])),
                          "labels", "log_softmax"),
    "bce_with_logits pos_weight": (lambda: nn.BCEWithLogitsLoss(
        pos_weight=ffnn.tensor([3.0, 0.5, 1.0, 2.0])), "bits", False),
    "bce_with_logits weight per row": (lambda: nn.BCEWithLogitsLoss(
        weight=ffnn.tensor(np.linspace(0.5, 2.0, 6)[:, None]), reduction="sum"), "bits", False),
    "bce weight per column": (lambda: nn.BCELoss(weight=ffnn.tensor([1.0, 2.0, 0.5, 1.0])),
                              "bits", "sigmoid"),
}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", sorted(WEIGHTED_LOSSES))
def test_weighted_losses_replay_bit_for_bit(name, dtype, rng):
    """Class weights, ``pos_weight`` and element weights (a class-imbalanced problem's
    losses) are read as their functional forms read them (cast to the output's dtype), and
    replayed with the same ops: bit for bit, without falling back."""
    make_loss, target, head = WEIGHTED_LOSSES[name]

    def make():
        model = _model([5, 8, 4], "tanh", dtype)
        if head == "log_softmax":
            return nn.Sequential(model, nn.LogSoftmax(dim=1))
        return nn.Sequential(model, nn.Sigmoid()) if head == "sigmoid" else model

    eager_model, compiled_model = make(), make()
    opt_e, opt_c = (optim.Adam(m.parameters(), lr=0.05) for m in (eager_model, compiled_model))
    loss_fn = make_loss()
    step = ffnn.compile(compiled_model, loss_fn, opt_c)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a fallback would warn
        for _ in range(3):
            x = ffnn.tensor(rng.standard_normal((6, 5)).astype(dtype))
            y = ffnn.tensor(rng.integers(0, 4, 6) if target == "labels" else
                            (rng.random((6, 4)) > 0.5).astype(dtype))
            assert step(x, y) == eager_step(eager_model, loss_fn, opt_e, x, y)
            assert step.compiled
    _assert_same(eager_model, compiled_model, opt_e, opt_c)


@pytest.mark.parametrize("loss, message", [
    (nn.CrossEntropyLoss(weight=ffnn.ones(3)), "one entry per class"),
    (nn.BCEWithLogitsLoss(pos_weight=ffnn.ones(3)), "does not broadcast")])
def test_a_weight_of_the_wrong_shape_is_the_eager_steps_error(loss, message, rng):
    """Class weights for 3 classes on 2 outputs: the replay declines, the eager step raises
    the functional form's error."""
    model = _model([3, 4, 2])
    step = ffnn.compile(model, loss, optim.SGD(model.parameters(), lr=0.1))
    y = ffnn.tensor(np.array([0, 1, 1, 0, 1])) if isinstance(loss, nn.CrossEntropyLoss) \
        else ffnn.rand(5, 2)
    with pytest.warns(UserWarning, match="running the eager step"), \
            pytest.raises(ValueError, match=message):
        step(ffnn.randn(5, 3), y)


def test_a_chain_whose_leading_layers_are_native_replays_bit_for_bit(rng, monkeypatch):
    """A Sequential whose leading blocks make a native chain and whose later layers do not
    (a layer norm after the activation, a batch norm and dropout further on, a log softmax
    last): the eager node and the replay both run the leading blocks natively and the rest
    one by one, the same bits, dropout's masks and the running statistics included."""
    from ffnn.compiler import native_chain

    def make():
        ffnn.manual_seed(4)
        return nn.Sequential(nn.Linear(5, 8), nn.Tanh(), nn.LayerNorm(8), nn.Linear(8, 8),
                             nn.BatchNorm1d(8), nn.ReLU(), nn.Dropout(0.3), nn.Linear(8, 4),
                             nn.LogSoftmax(dim=1))

    counts = []
    forward = native_chain.NativeChain.forward
    monkeypatch.setattr(native_chain.NativeChain, "forward",
                        lambda self, *a: counts.append(self.count) or forward(self, *a))
    eager_model, compiled_model = make(), make()
    opt_e, opt_c = (optim.Adam(m.parameters(), lr=0.01) for m in (eager_model, compiled_model))
    loss = nn.NLLLoss()
    step = ffnn.compile(compiled_model, loss, opt_c)
    for _ in range(3):
        x = ffnn.tensor(rng.standard_normal((6, 5)).astype(np.float32))
        y = ffnn.tensor(rng.integers(0, 4, 6))
        ffnn.manual_seed(9)
        expected = eager_step(eager_model, loss, opt_e, x, y)
        ffnn.manual_seed(9)
        assert step(x, y) == expected
        assert step.compiled
    assert counts == ([2] * 6 if accel.enabled else [])  # Linear, Tanh: each step of both
    _assert_same(eager_model, compiled_model, opt_e, opt_c)
    for mine, theirs in zip(eager_model.buffers(), compiled_model.buffers()):
        np.testing.assert_array_equal(mine.numpy(), theirs.numpy())


@pytest.mark.parametrize("loss, message", [
    (nn.BCELoss(), "all elements of input should be between 0 and 1"),
    (nn.HuberLoss(delta=0.0), "delta must be positive")])
def test_what_the_functional_loss_refuses_is_refused_by_the_eager_step(loss, message, rng):
    """Logits given to BCELoss, a Huber delta of 0: the replay declines, the eager step raises
    the functional form's error."""
    step = ffnn.compile(_model([3, 4, 2]), loss, optim.SGD(_model([3, 4, 2]).parameters(),
                                                           lr=0.1))
    x, y = ffnn.randn(5, 3) * 10, ffnn.rand(5, 2)
    with pytest.warns(UserWarning, match="running the eager step"), \
            pytest.raises(ValueError, match=message):
        step(x, y)


def test_falls_back_when_a_forward_hook_is_added_after_compiling(rng):
    def edit(model):
        seen = []
        model[1].register_forward_hook(lambda module, args, out: seen.append(out.shape))
        return seen

    _fallback(lambda: _model([3, 4, 2]), nn.MSELoss(), edit, rng, "has forward hooks")


def test_falls_back_when_the_loss_gets_a_forward_hook_after_compiling(rng):
    """The hook runs (the eager step) and doubles the loss the step returns."""
    model = _model([3, 4, 2])
    loss_fn = nn.MSELoss()
    step = ffnn.compile(model, loss_fn, optim.SGD(model.parameters(), lr=0.1))
    x = ffnn.tensor(rng.standard_normal((4, 3)).astype(np.float32))
    y = ffnn.tensor(rng.standard_normal((4, 2)).astype(np.float32))
    step(x, y)
    assert step.compiled
    with ffnn.no_grad():
        plain = float(loss_fn(model(x), y)._data)
    loss_fn.register_forward_hook(lambda module, args, out: out * 2.0)
    with pytest.warns(UserWarning, match="MSELoss has forward hooks"):
        assert step(x, y) == 2 * plain
    assert not step.compiled and "MSELoss has forward hooks" in step.reason


@pytest.mark.parametrize("mode", ["replay", "fused"])
def test_in_place_activations_after_a_linear_are_captured(mode, rng, monkeypatch):
    """``ReLU(inplace=True)`` as torch programs write it: captured (computed out of place),
    replay bit for bit the eager step (one node of the graph), and both, like the fused
    step, to rounding what the per-layer graph computes in place."""
    from ffnn.nn import chain_call

    def make():
        ffnn.manual_seed(0)
        return nn.Sequential(nn.Linear(3, 16), nn.ReLU(inplace=True), nn.Linear(16, 16),
                             nn.LeakyReLU(0.1, inplace=True), nn.Linear(16, 2))

    eager_model, compiled_model, in_place_model = make(), make(), make()
    opt_e, opt_c, opt_p = (optim.Adam(m.parameters(), lr=0.01)
                           for m in (eager_model, compiled_model, in_place_model))
    step = ffnn.compile(compiled_model, nn.MSELoss(), opt_c, mode=mode)
    for _ in range(3):
        x = ffnn.tensor(rng.standard_normal((8, 3)).astype(np.float32))
        y = ffnn.tensor(rng.standard_normal((8, 2)).astype(np.float32))
        expected = eager_step(eager_model, nn.MSELoss(), opt_e, x, y)
        with monkeypatch.context() as patch:
            patch.setattr(chain_call, "call", lambda *args: None)  # each layer in place
            in_place = eager_step(in_place_model, nn.MSELoss(), opt_p, x, y)
        value = step(x, y)
        assert step.compiled and (step.fused is not None) == (mode == "fused")
        if mode == "replay":
            assert value == expected
        assert value == pytest.approx(in_place, rel=1e-5)
        assert expected == pytest.approx(in_place, rel=1e-5)
    if mode == "replay":
        _assert_same(eager_model, compiled_model, opt_e, opt_c)
    for a, b in zip(in_place_model.parameters(), compiled_model.parameters()):
        np.testing.assert_allclose(a._data, b._data, rtol=1e-5, atol=1e-6)


def test_nested_sequentials_are_replayed_bit_for_bit(rng):
    def make():
        ffnn.manual_seed(0)
        return nn.Sequential(nn.Sequential(nn.Linear(3, 5), nn.SiLU()), nn.Linear(5, 2))

    eager_model, compiled_model = make(), make()
    opt_e, opt_c = (optim.Adam(m.parameters(), lr=0.01) for m in (eager_model, compiled_model))
    step = ffnn.compile(compiled_model, nn.MSELoss(), opt_c)
    for _ in range(3):
        x = ffnn.tensor(rng.standard_normal((4, 3)).astype(np.float32))
        y = ffnn.tensor(rng.standard_normal((4, 2)).astype(np.float32))
        assert step(x, y) == eager_step(eager_model, nn.MSELoss(), opt_e, x, y)
        assert step.compiled
    _assert_same(eager_model, compiled_model, opt_e, opt_c)


def test_falls_back_for_a_gradient_hook(rng):
    def edit(model):
        seen = []
        model[0].weight.register_hook(lambda g: seen.append(g.shape) or g * 2)
        return seen

    _fallback(lambda: _model([3, 4, 2]), nn.MSELoss(), edit, rng, "gradient hooks")


def test_falls_back_for_an_input_that_requires_grad(rng):
    model = _model([3, 4, 2])
    step = ffnn.compile(model, nn.MSELoss(), optim.SGD(model.parameters(), lr=0.1))
    x = ffnn.tensor(rng.standard_normal((4, 3)).astype(np.float32), requires_grad=True)
    with pytest.warns(UserWarning, match="the input requires a gradient"):
        step(x, ffnn.zeros(4, 2))
    assert x.grad is not None and not step.compiled
    step(x.detach(), ffnn.zeros(4, 2))
    assert step.compiled and step.reason is None


def test_under_no_grad_it_is_the_eager_step_that_raises(rng):
    model = _model([3, 4, 2])
    step = ffnn.compile(model, nn.MSELoss(), optim.SGD(model.parameters(), lr=0.1))
    before = [p._data.copy() for p in model.parameters()]
    with ffnn.no_grad(), pytest.warns(UserWarning, match="gradients are disabled"), \
            pytest.raises(RuntimeError, match="does not require grad"):
        step(ffnn.tensor(rng.standard_normal((4, 3)).astype(np.float32)), ffnn.zeros(4, 2))
    assert all(np.array_equal(a, p._data) for a, p in zip(before, model.parameters()))


def test_bad_target_raises_the_eager_error(rng):
    model = _model([3, 4, 5])
    step = ffnn.compile(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1))
    x = ffnn.tensor(rng.standard_normal((2, 3)).astype(np.float32))
    with pytest.warns(UserWarning, match="out of range"), \
            pytest.raises(ValueError, match="class labels must be in"):
        step(x, ffnn.tensor(np.array([0, 7])))


@pytest.mark.parametrize("args, message", [
    (("model", nn.MSELoss(), None), "model must be an ffnn.nn.Module"),
    ((None, 3, None), "loss_fn must be callable"),
    ((None, nn.MSELoss(), "sgd"), "optimizer must be an ffnn.optim optimizer"),
])
def test_bad_arguments(args, message):
    model = _model([2, 2])
    model_arg, loss_arg, opt_arg = args
    with pytest.raises(TypeError, match=message):
        ffnn.compile(model if model_arg is None else model_arg, loss_arg,
                     optim.SGD(model.parameters(), lr=0.1) if opt_arg is None else opt_arg)
    with pytest.raises(ValueError, match="mode must be one of"):
        ffnn.compile(model, nn.MSELoss(), optim.SGD(model.parameters(), lr=0.1), mode="jit")


def test_torch_compile_model_form_returns_the_model():
    """`model = torch.compile(model)` and `@torch.compile` in PyTorch programs run unchanged."""
    model = _model([2, 3])
    assert ffnn.compile(model) is model
    assert ffnn.compile(model, mode="reduce-overhead", fullgraph=True) is model

    @ffnn.compile
    def double(x):
        return 2 * x

    assert double(3) == 6
    assert ffnn.compile()(double) is double
    with pytest.raises(TypeError, match=r"unexpected keyword arguments \['fullgraph'\]"):
        ffnn.compile(model, nn.MSELoss(), optim.SGD(model.parameters(), lr=0.1),
                     fullgraph=True)


def test_the_compiler_imports_without_the_training_package():
    """One direction only: ffnn.train uses ffnn.compiler's chain step, never the reverse."""
    import os
    import subprocess
    import sys

    code = ("import sys\n"
            "sys.modules['ffnn.train'] = None\n"
            "import ffnn.compiler, ffnn.compiler.chain, ffnn.compiler.watch, ffnn.compiler.fused\n"
            "print('ok')\n")
    root = os.path.dirname(os.path.dirname(ffnn.__file__))
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": root}, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


@pytest.mark.parametrize("generator", [False, True])
def test_dropout_chains_replay_bit_for_bit(generator, rng):
    """Dropout is replayed with its options read at each call, as ``nn.Dropout.forward``
    reads them: the same masks from the same stream (its generator's, else the global one),
    the identity in eval mode or at p = 0, all zeros at p = 1."""
    def model(seed):
        ffnn.manual_seed(seed)
        drop = nn.Dropout(0.3, generator=ffnn.Generator().manual_seed(7) if generator else None)
        return nn.Sequential(nn.Linear(5, 9), nn.ReLU(), drop, nn.Linear(9, 3), nn.Dropout(0.2))

    eager_model, compiled_model = model(0), model(0)
    opt_e, opt_c = (optim.Adam(m.parameters(), lr=1e-2) for m in (eager_model, compiled_model))
    loss_fn = nn.MSELoss()
    step = ffnn.compile(compiled_model, loss_fn, opt_c)
    edits = {2: lambda m: m.eval(), 3: lambda m: m.train(), 4: lambda m: setattr(m[2], "p", 0.0),
             5: lambda m: setattr(m[2], "p", 1.0), 6: lambda m: setattr(m[2], "p", 0.6)}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for i in range(8):
            for m in (eager_model, compiled_model):
                edits.get(i, lambda m: None)(m)
            x = ffnn.tensor(rng.standard_normal((6, 5)).astype(np.float32))
            y = ffnn.tensor(rng.standard_normal((6, 3)).astype(np.float32))
            ffnn.manual_seed(100 + i)  # the global stream, as each side meets it
            expected = eager_step(eager_model, loss_fn, opt_e, x, y)
            ffnn.manual_seed(100 + i)
            assert step(x, y) == expected, i
            assert step.compiled and step.reason is None
    _assert_same(eager_model, compiled_model, opt_e, opt_c)


def test_an_inplace_dropout_after_an_activation_runs_eagerly(rng):
    # p = 0: the eager steps compared draw no masks (they would draw different ones)
    _fallback(lambda: nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Dropout(0.0, inplace=True),
                                    nn.Linear(4, 2)),
              nn.MSELoss(), lambda m: None, rng,
              "Dropout(inplace=True) is captured only after a Linear or a norm")


@pytest.mark.parametrize("options", [{}, {"momentum": None}, {"affine": False},
                                     {"track_running_stats": False}, {"bias": False}])
def test_batch_norm_chains_replay_bit_for_bit(options, rng):
    """Batch norm in training mode is replayed with its module's options read at each call
    (the running statistics and count updated as its forward updates them); in eval mode,
    where its forward uses the running statistics, the step runs eagerly."""
    def model():
        ffnn.manual_seed(0)
        return nn.Sequential(nn.Linear(5, 9), nn.BatchNorm1d(9, **options), nn.ReLU(),
                             nn.Linear(9, 3))

    eager_model, compiled_model = model(), model()
    opt_e, opt_c = (optim.Adam(m.parameters(), lr=1e-2) for m in (eager_model, compiled_model))
    loss_fn = nn.CrossEntropyLoss()
    step = ffnn.compile(compiled_model, loss_fn, opt_c)
    ran = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # eval mode: "running the eager step: ..."
        for i in range(6):
            for m in (eager_model, compiled_model):
                (m.eval if i == 3 else m.train)()
            x = ffnn.tensor(rng.standard_normal((7, 5)).astype(np.float32))
            y = ffnn.tensor(rng.integers(0, 3, 7))
            assert step(x, y) == eager_step(eager_model, loss_fn, opt_e, x, y), i
            ran.append(step.compiled)
    tracking = options.get("track_running_stats", True)  # without: batch statistics always
    assert ran == [True, True, True, not tracking, True, True]
    for a, b in zip(eager_model.state_dict().values(), compiled_model.state_dict().values()):
        np.testing.assert_array_equal(a._data, b._data)


@pytest.mark.parametrize("when", ["before", "after"])
def test_a_forward_set_on_an_instance_runs(when, rng):
    """A layer whose ``forward`` is set on the instance (as ``ffnn.utils.profile`` times
    layers) runs it, whether set before the capture or after."""
    model = _model([3, 4, 2])
    calls = []
    original = model[1].forward
    step = None
    if when == "after":
        step = ffnn.compile(model, nn.MSELoss(), optim.SGD(model.parameters(), lr=0.1))
        step(ffnn.tensor(rng.standard_normal((5, 3)).astype(np.float32)),
             ffnn.tensor(rng.standard_normal((5, 2)).astype(np.float32)))
        assert step.compiled
    model[1].forward = lambda x: calls.append(1) or original(x)
    if step is None:
        step = ffnn.compile(model, nn.MSELoss(), optim.SGD(model.parameters(), lr=0.1))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        step(ffnn.tensor(rng.standard_normal((5, 3)).astype(np.float32)),
             ffnn.tensor(rng.standard_normal((5, 2)).astype(np.float32)))
    assert calls == [1] and not step.compiled
