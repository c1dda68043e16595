"""Losses of an input and a target of different dtypes, against torch: the loss's dtype
(promoted for most, the target's for ``binary_cross_entropy_with_logits``, the input's for
``soft_margin_loss`` and ``huber_loss``), each gradient in its own tensor's dtype, and
torch's errors where it refuses the pair."""

import numpy as np
import pytest
import torch

import ffnn


def _pair(lib, input_dtype, target_dtype, positive=False):
    rng = np.random.default_rng(3)
    x = rng.random((4, 3)) if positive else rng.random((4, 3)) * 2 - 1
    y = rng.random((4, 3))
    return (lib.tensor(x, dtype=getattr(lib, input_dtype), requires_grad=True),
            lib.tensor(y, dtype=getattr(lib, target_dtype), requires_grad=True))


LOSSES = {
    "mse_loss": lambda F, x, y: F.mse_loss(x, y),
    "mse_loss_none": lambda F, x, y: F.mse_loss(x, y, reduction="none").sum(),
    "l1_loss": lambda F, x, y: F.l1_loss(x, y),
    "smooth_l1_loss": lambda F, x, y: F.smooth_l1_loss(x, y, beta=0.5),
    "smooth_l1_loss_beta_0": lambda F, x, y: F.smooth_l1_loss(x, y, beta=0.0),
    "binary_cross_entropy_with_logits": lambda F, x, y: F.binary_cross_entropy_with_logits(
        x, y),
    "binary_cross_entropy_with_logits_none": lambda F, x, y:
        F.binary_cross_entropy_with_logits(x, y, reduction="none").sum(),
    "binary_cross_entropy_with_logits_pos_weight": lambda F, x, y:
        F.binary_cross_entropy_with_logits(x, y, pos_weight=x.detach()[0].abs()),
    "cross_entropy_probabilities": lambda F, x, y: F.cross_entropy(x, y),
    "cross_entropy_smoothed": lambda F, x, y: F.cross_entropy(x, y, label_smoothing=0.1),
    "kl_div": lambda F, x, y: F.kl_div(x, y, reduction="batchmean"),
    "kl_div_log_target": lambda F, x, y: F.kl_div(x, y, reduction="sum", log_target=True),
}
PAIRS = [("float32", "float64"), ("float64", "float32"), ("float16", "float32")]


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_loss_dtype_and_gradients_follow_torch(name):
    for dtypes in PAIRS:
        results = []
        for lib in (ffnn, torch):
            x, y = _pair(lib, *dtypes)
            loss = LOSSES[name](lib.nn.functional, x, y)
            loss.backward()
            results.append((loss, x.grad, y.grad))
        for ours, theirs in zip(*results):
            assert str(ours.dtype).replace("torch.", "") == \
                str(theirs.dtype).replace("torch.", ""), dtypes
            tolerance = 2e-3 if "float16" in dtypes else 1e-5
            np.testing.assert_allclose(ours.detach().numpy().astype(np.float64),
                                       theirs.detach().numpy().astype(np.float64),
                                       rtol=tolerance, atol=tolerance)


def test_float64_module_losses_on_float32_outputs_are_float64():
    """A float32 network's output against float64 targets (a NumPy array made a tensor):
    torch's nn.MSELoss / L1Loss / CrossEntropyLoss give a float64 loss, the float32 output a
    float32 gradient."""
    for cls in ("MSELoss", "L1Loss", "SmoothL1Loss", "CrossEntropyLoss", "BCEWithLogitsLoss",
                "MultiLabelSoftMarginLoss"):
        for lib in (ffnn, torch):
            x, y = _pair(lib, "float32", "float64")
            loss = getattr(lib.nn, cls)()(x, y)
            loss.backward()
            assert str(loss.dtype).endswith("float64") and str(x.grad.dtype).endswith("float32")


@pytest.mark.parametrize("dtypes", [("float32", "float64"), ("float64", "float32"),
                                    ("float32", "int64"), ("float32", "bool")], ids="/".join)
def test_binary_cross_entropy_refuses_another_target_dtype(dtypes):
    for lib in (ffnn, torch):
        x, _ = _pair(lib, dtypes[0], "float32", positive=True)
        y = lib.ones(4, 3, dtype=getattr(lib, dtypes[1]))
        with pytest.raises(RuntimeError, match="Found dtype .* but expected"):
            lib.nn.functional.binary_cross_entropy(x, y)


@pytest.mark.parametrize("dtypes", [("float32", "float64"), ("float64", "float32"),
                                    ("float32", "int64")], ids="/".join)
def test_huber_loss_runs_in_the_inputs_dtype_and_its_backward_refuses(dtypes):
    for lib in (ffnn, torch):
        x, _ = _pair(lib, dtypes[0], "float32")
        y = lib.ones(4, 3, dtype=getattr(lib, dtypes[1]))
        loss = lib.nn.functional.huber_loss(x, y)
        assert str(loss.dtype).endswith(dtypes[0])
        with pytest.raises(RuntimeError, match="Found dtype .* but expected"):
            loss.backward()


@pytest.mark.parametrize("call, message", [
    (lambda F, x, y: F.kl_div(x, y.long(), reduction="sum"), "Integral inputs not supported"),
    (lambda F, x, y: F.kl_div(x, y.bool(), reduction="sum"), "Integral inputs not supported"),
    (lambda F, x, y: F.binary_cross_entropy_with_logits(x, y.long()), "can't be cast"),
    (lambda F, x, y: F.binary_cross_entropy_with_logits(x, y.bool()), "two bool tensors"),
    (lambda F, x, y: F.l1_loss(x, y.bool()), "with a bool tensor is not supported"),
    (lambda F, x, y: F.soft_margin_loss(x, y), "not differentiable with respect to argument"),
])
def test_target_dtypes_torch_refuses(call, message):
    for lib in (ffnn, torch):
        x, y = _pair(lib, "float32", "float32")
        with pytest.raises(RuntimeError, match=message):
            call(lib.nn.functional, x, y)


@pytest.mark.parametrize("dtypes", [("float32", "float64"), ("float16", "float32")],
                         ids="/".join)
def test_soft_margin_loss_keeps_the_inputs_dtype(dtypes):
    results = []
    for lib in (ffnn, torch):
        x, y = _pair(lib, *dtypes)
        loss = lib.nn.functional.soft_margin_loss(x, y.detach())
        loss.backward()
        results.append((str(loss.dtype).replace("torch.", ""), str(x.grad.dtype)))
    assert results[0][0] == results[1][0] == dtypes[0]


def test_kl_div_target_gradient_at_zero_is_torchs():
    """t log t's derivative in t, log t + 1, at t = 0: NaN in torch (its xlogy), here too."""
    grads = []
    for lib in (ffnn, torch):
        x = lib.tensor([[-1.0, -2.0, -0.5]], dtype=lib.float64, requires_grad=True)
        t = lib.tensor([[0.0, 0.3, 0.7]], dtype=lib.float64, requires_grad=True)
        lib.nn.functional.kl_div(x, t, reduction="sum").backward()
        grads.append((x.grad.numpy(), t.grad.numpy()))
    for ours, theirs in zip(*grads):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12)
