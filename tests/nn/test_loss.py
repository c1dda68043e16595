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
    with pytest.raises(ValueError, match=r"probabilities in \[0, 1\].*BCEWithLogitsLoss"):
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
