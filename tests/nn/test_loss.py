"""Loss modules against torch's modules, and the errors for bad targets."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ffnn
from ffnn import nn
from tests.helpers import check_op


def _module_pair(name, **kwargs):
    def fn(lib, x, t):
        opts = {k: (lib.tensor(v, dtype=x.dtype) if isinstance(v, np.ndarray) else v)
                for k, v in kwargs.items()}
        return getattr(lib.nn, name)(**opts)(x, t)

    return fn


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_loss_modules_match_torch(reduction):
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    labels = np.array([0, 2, 1, 2])
    p, q = rng.uniform(0.1, 0.9, (4, 3)), rng.uniform(0, 1, (4, 3))
    w = np.array([0.5, 1.0, 2.0])
    check_op(_module_pair("MSELoss", reduction=reduction), x, y)
    check_op(_module_pair("L1Loss", reduction=reduction), x, y)
    check_op(_module_pair("HuberLoss", reduction=reduction, delta=0.7), x, y)
    check_op(_module_pair("CrossEntropyLoss", reduction=reduction, weight=w, ignore_index=1,
                          label_smoothing=0.1), x, labels)
    check_op(_module_pair("NLLLoss", reduction=reduction, weight=w), x, labels)
    check_op(_module_pair("BCELoss", reduction=reduction), p, q)
    check_op(_module_pair("BCEWithLogitsLoss", reduction=reduction, pos_weight=w), x, q)


def test_loss_reprs_like_torch():
    assert repr(nn.MSELoss()) == repr(torch.nn.MSELoss())
    assert repr(nn.CrossEntropyLoss()) == repr(torch.nn.CrossEntropyLoss())


# ----- errors ------------------------------------------------------------------------------
def test_mse_target_shape_mismatch_explained():
    x = ffnn.zeros(8, 1, requires_grad=True)
    with pytest.raises(ValueError) as info:
        nn.MSELoss()(x, ffnn.zeros(8))
    message = str(info.value)
    assert "input shape (8, 1) and target shape (8,) differ" in message
    assert "target.view(-1, 1)" in message
    with pytest.raises(ValueError, match=r"input shape \(8,\) and target shape \(8, 1\).*"
                                         r"input.view\(-1\)"):
        nn.MSELoss()(ffnn.zeros(8), ffnn.zeros(8, 1))
    for loss in (nn.L1Loss(), nn.HuberLoss(), nn.BCEWithLogitsLoss()):
        with pytest.raises(ValueError, match="differ"):
            loss(ffnn.zeros(3, 2), ffnn.zeros(2, 3))


def test_cross_entropy_label_out_of_range():
    x = ffnn.zeros(4, 3)
    with pytest.raises(ValueError) as info:
        nn.CrossEntropyLoss()(x, ffnn.tensor([0, 3, 1, 5]))
    assert str(info.value) == (
        "cross_entropy: class labels must be in [0, 2] for 3 classes (or ignore_index=-100). "
        "Received: label 3 (2 label(s) out of range)"
    )
    with pytest.raises(ValueError, match=r"in \[0, 2\].*Received: label -1"):
        nn.CrossEntropyLoss()(x, ffnn.tensor([0, -1, 1, 2]))
    with pytest.raises(ValueError, match=r"nll_loss: class labels must be in \[0, 2\]"):
        nn.NLLLoss()(x, ffnn.tensor([0, 1, 2, 3]))


def test_cross_entropy_non_integer_labels():
    x = ffnn.zeros(4, 3)
    with pytest.raises(ValueError) as info:
        nn.CrossEntropyLoss()(x, ffnn.tensor([0.0, 1.0, 2.0, 1.0]))
    message = str(info.value)
    assert "class indices of an integer dtype with shape (4,)" in message
    assert "Received: float32 target of shape (4,)" in message and ".long()" in message
    with pytest.raises(ValueError, match=r"class-index target must have shape \(4,\).*\(4, 1\)"):
        nn.CrossEntropyLoss()(x, ffnn.tensor([[0], [1], [2], [1]]))


def test_bad_loss_options():
    with pytest.raises(ValueError, match="reduction must be 'mean', 'sum' or 'none'. Received: "
                                         "reduction='avg'"):
        nn.MSELoss(reduction="avg")
    with pytest.raises(ValueError, match="label_smoothing must be in"):
        nn.CrossEntropyLoss(label_smoothing=1.5)
    with pytest.raises(ValueError, match=r"one entry per class, shape \(3,\). Received: weight "
                                         r"of shape \(2,\)"):
        nn.CrossEntropyLoss(weight=np.ones(2))(ffnn.zeros(2, 3), ffnn.tensor([0, 1]))
    with pytest.raises(ValueError,
                       match=r"elements of input should be between 0 and 1.*BCEWithLogitsLoss"):
        nn.BCELoss()(ffnn.tensor([0.5, 1.5]), ffnn.tensor([0.0, 1.0]))
    with pytest.raises(ValueError, match="delta must be positive. Received: delta=0"):
        ffnn.nn.functional.huber_loss(ffnn.zeros(2), ffnn.zeros(2), delta=0)


@pytest.mark.parametrize("loss", [nn.MSELoss(), nn.L1Loss(), nn.HuberLoss()])
def test_regression_losses_refuse_integer_inputs_as_torch(loss):
    """(the mean of integer errors was truncated: MSE of [1, 2] vs [1, 3] gave 0, not 0.5)"""
    with pytest.raises(RuntimeError):
        getattr(torch.nn, type(loss).__name__)()(torch.tensor([1, 2]), torch.tensor([1, 3]))
    with pytest.raises(RuntimeError, match=r"input must be a floating-point tensor .*"
                                           r"Received: input of dtype int64"):
        loss(ffnn.tensor([1, 2]), ffnn.tensor([1, 3]))
    assert loss(ffnn.tensor([1.0, 2.0]), ffnn.tensor([1.0, 3.0])).item() == pytest.approx(
        getattr(torch.nn, type(loss).__name__)()(torch.tensor([1.0, 2.0]),
                                                 torch.tensor([1.0, 3.0])).item())


def test_leaky_relu_slope_must_be_a_number():
    with pytest.raises(TypeError, match=r"negative_slope must be a number. Received: "
                                        r"negative_slope='a'"):
        nn.LeakyReLU("a")


EMPTY_BATCH_LOSSES = [("MSELoss", {}, "regression"), ("L1Loss", {}, "regression"),
                      ("HuberLoss", {}, "regression"), ("SmoothL1Loss", {}, "regression"),
                      ("CrossEntropyLoss", {}, "labels"), ("NLLLoss", {}, "labels"),
                      ("CrossEntropyLoss", {"label_smoothing": 0.1}, "labels"),
                      ("BCEWithLogitsLoss", {}, "probabilities")]


@pytest.mark.parametrize("name,options,target", EMPTY_BATCH_LOSSES)
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_an_empty_batch_gives_torchs_loss_and_zero_gradients(name, options, target, reduction):
    """A batch of no rows through a network: the mean's 0/0 is nan and the sum 0, as torch's,
    without a warning or an error, and every parameter's gradient is exactly 0 (a sum of
    no terms; it read memory past the batch's end)."""
    results = {}
    for lib in (ffnn, torch):
        lib.manual_seed(0)
        model = lib.nn.Sequential(lib.nn.Linear(6, 8), lib.nn.Tanh(),
                                  lib.nn.Linear(8, 4)).double()
        x = lib.zeros((0, 6), dtype=lib.float64)
        y = lib.zeros(0, dtype=lib.int64) if target == "labels" else \
            lib.zeros((0, 4), dtype=lib.float64)
        for _ in range(3):  # fresh gradient buffers each time: garbage would show
            model.zero_grad(set_to_none=True)
            loss = getattr(lib.nn, name)(reduction=reduction, **options)(model(x), y)
            loss.backward()
            grads = [p.grad.detach().numpy().copy() for p in model.parameters()]
        results[lib.__name__] = float(loss.item()), grads
    assert np.isnan(results["ffnn"][0]) == np.isnan(results["torch"][0])
    if not np.isnan(results["torch"][0]):
        assert results["ffnn"][0] == results["torch"][0]
    for ours, theirs in zip(results["ffnn"][1], results["torch"][1]):
        assert np.array_equal(theirs, np.zeros_like(theirs))
        assert np.array_equal(ours, theirs)


def test_soft_label_cross_entropy_of_an_empty_batch_as_torch():
    """Class probabilities as targets on no rows: nan (mean) and a gradient of no rows."""
    for reduction in ("mean", "sum"):
        out = {}
        for lib in (ffnn, torch):
            x = lib.zeros((0, 3), dtype=lib.float64, requires_grad=True)
            loss = lib.nn.CrossEntropyLoss(reduction=reduction)(x, lib.zeros((0, 3),
                                                                             dtype=lib.float64))
            loss.backward()
            out[lib.__name__] = float(loss.item()), tuple(x.grad.shape)
        assert np.isnan(out["ffnn"][0]) == np.isnan(out["torch"][0])
        assert out["ffnn"][1] == out["torch"][1] == (0, 3)
