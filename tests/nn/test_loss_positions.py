"""Cross-entropy and NLL over positions ([N, C, d1, …], a sequence model's logits against
[N, d1, …] labels) and over labels all ignored (padded batches), against torch."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ffnn

RNG = np.random.default_rng(0)
LOGITS = RNG.standard_normal((2, 3, 4, 2))
LABELS = RNG.integers(0, 3, (2, 4, 2))
LABELS[0, 1, 0] = LABELS[1, 3, 1] = -100
PROBABILITIES = RNG.random((2, 3, 4, 2))
SEQUENCE_LOGITS = RNG.standard_normal((2, 5, 3))  # [N, L, C], as a sequence model gives them
SEQUENCE_LABELS = RNG.integers(0, 3, (2, 5))

CASES = {
    "cross_entropy weights smoothing": lambda lib, x, r: lib.nn.CrossEntropyLoss(
        reduction=r, label_smoothing=0.1,
        weight=lib.tensor([1.0, 2.0, 0.5], dtype=lib.float64))(x, lib.tensor(LABELS)),
    "nll": lambda lib, x, r: lib.nn.NLLLoss(reduction=r)(x.log_softmax(1), lib.tensor(LABELS)),
    "cross_entropy probabilities": lambda lib, x, r: lib.nn.functional.cross_entropy(
        x, lib.tensor(PROBABILITIES), reduction=r),
}


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_losses_over_positions_match_torch(name, reduction):
    results = []
    for lib in (ffnn, torch):
        x = lib.tensor(LOGITS, requires_grad=True)
        out = CASES[name](lib, x, reduction)
        (out * lib.tensor(np.linspace(0.5, 2.0, out.numel()).reshape(tuple(out.shape)))
         ).sum().backward()
        results.append((out.detach().numpy(), x.grad.numpy()))
    for ours, theirs in zip(*results, strict=True):
        assert ours.shape == theirs.shape
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-14)


def test_a_sequence_models_transposed_logits_match_torch():
    """``loss(logits.transpose(1, 2), labels)``: logits [N, L, C] as [N, C, L]."""
    results = []
    for lib in (ffnn, torch):
        x = lib.tensor(SEQUENCE_LOGITS, requires_grad=True)
        loss = lib.nn.functional.cross_entropy(x.transpose(1, 2), lib.tensor(SEQUENCE_LABELS))
        loss.backward()
        results.append((loss.item(), x.grad.numpy()))
    assert results[0][0] == pytest.approx(results[1][0], rel=1e-12)
    np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-10, atol=1e-14)


def test_a_target_of_the_wrong_shape_names_both_shapes():
    with pytest.raises(ValueError, match=r"target must have shape \(2, 4, 2\)"):
        ffnn.nn.functional.cross_entropy(ffnn.tensor(LOGITS), ffnn.tensor(LABELS[:, :2]))


IGNORED = {
    "cross_entropy": lambda lib, x: lib.nn.CrossEntropyLoss()(x, lib.tensor([-100, -100])),
    "smoothing": lambda lib, x: lib.nn.CrossEntropyLoss(label_smoothing=0.1)(
        x, lib.tensor([-100, -100])),
    "nll": lambda lib, x: lib.nn.NLLLoss()(x.log_softmax(1), lib.tensor([-100, -100])),
    "nll ignore 1": lambda lib, x: lib.nn.NLLLoss(ignore_index=1)(x.log_softmax(1),
                                                                  lib.tensor([1, 1])),
}


@pytest.mark.parametrize("loss", sorted(IGNORED))
def test_labels_all_ignored_give_a_nan_loss_and_no_gradient_as_torch(loss):
    """A padded batch without one label: the mean is nan, and the logits get no gradient
    (an optimizer step leaves the weights as they were), as torch's."""
    values = np.array([[1.0, 2.0, 3.0], [0.0, 1.0, 0.0]])
    results = []
    for lib in (ffnn, torch):
        x = lib.tensor(values, requires_grad=True)
        out = IGNORED[loss](lib, x)
        out.backward()
        results.append((out.item(), x.grad.numpy()))
    assert np.isnan(results[0][0]) and np.isnan(results[1][0])
    np.testing.assert_array_equal(results[0][1], results[1][1])
    assert not np.isnan(results[0][1]).any()


@pytest.mark.parametrize("shapes", [((1, 1), (1,)), ((1,), ()), ((3, 1), (1, 3, 1))])
@pytest.mark.parametrize("loss", ["mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss"])
def test_shapes_paired_one_to_one_broadcast_with_torchs_warning(loss, shapes):
    """A critic's [1, 1] value against a [1] return: torch pairs them one to one (with its
    warning), and so does ffnn; [4, 1] against [4] (every input with every target in torch)
    stays ffnn's error."""
    values = []
    for lib in (ffnn, torch):
        x = lib.tensor(np.linspace(0.1, 0.9, int(np.prod(shapes[0]))).reshape(shapes[0]),
                       requires_grad=True)
        target = lib.tensor(np.linspace(1.0, 2.0, int(np.prod(shapes[1]))).reshape(shapes[1]))
        with pytest.warns(UserWarning, match="Using a target size"):
            out = getattr(lib.nn.functional, loss)(x, target)
        out.backward()
        values.append((out.item(), x.grad.numpy()))
    assert values[0][0] == pytest.approx(values[1][0], rel=1e-6)
    np.testing.assert_allclose(values[0][1], values[1][1], rtol=1e-6)
    with pytest.raises(ValueError, match="does not broadcast them silently"):
        getattr(ffnn.nn.functional, loss)(ffnn.zeros(4, 1), ffnn.ones(4))
