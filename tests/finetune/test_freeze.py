"""freeze / unfreeze: no gradients, no updates, BatchNorm on running statistics."""

from __future__ import annotations

import numpy as np
import pytest

import ffnn
from ffnn import nn
from ffnn.finetune import count_parameters, freeze, is_frozen_batchnorm, summary, unfreeze


def _model():
    return nn.Sequential(nn.Linear(4, 6), nn.BatchNorm1d(6), nn.ReLU(), nn.Linear(6, 3))


def test_frozen_parameters_get_no_gradient_and_no_update():
    model = _model()
    freeze(model, 0)
    before = {n: p.numpy().copy() for n, p in model.named_parameters()}
    optimizer = ffnn.optim.AdamW(model.parameters(), lr=0.1, weight_decay=0.5)
    model(ffnn.randn(8, 4)).sum().backward()
    optimizer.step()
    assert model[0].weight.grad is None and model[0].bias.grad is None
    assert model[3].weight.grad is not None
    for name, param in model.named_parameters():
        changed = not np.array_equal(before[name], param.data)
        assert changed == (not name.startswith("0.")), name


def test_frozen_batchnorm_uses_running_statistics_in_train_mode():
    model = _model()
    bn = model[1]
    bn.running_mean[...] = np.linspace(-1, 1, 6)
    bn.running_var[...] = np.linspace(0.5, 2, 6)
    freeze(model, 1)
    assert is_frozen_batchnorm(bn)
    model.train()
    x = ffnn.randn(8, 4)
    mean = bn.running_mean.copy()
    out_train = model(x).data
    assert np.array_equal(bn.running_mean, mean) and int(bn.num_batches_tracked) == 0
    model.eval()
    np.testing.assert_array_equal(out_train, model(x).data)
    assert model.train().training and bn.training  # the flag itself is untouched
    unfreeze(model, 1)
    model(x)
    assert not is_frozen_batchnorm(bn) and int(bn.num_batches_tracked) == 1


def test_targets_by_pattern_slice_and_module():
    model = _model()
    freeze(model, "*.bias")
    assert [n for n, p in model.named_parameters() if not p.requires_grad] == \
        ["0.bias", "1.bias", "3.bias"]
    assert not is_frozen_batchnorm(model[1])  # only part of its parameters
    unfreeze(model)
    freeze(model, slice(0, 2))
    assert count_parameters(model, trainable_only=True) == 6 * 3 + 3
    assert is_frozen_batchnorm(model[1])
    unfreeze(model, model[1])
    assert model[1].weight.requires_grad and not is_frozen_batchnorm(model[1])
    freeze(model)
    assert count_parameters(model, trainable_only=True) == 0
    assert count_parameters(model) == 4 * 6 + 6 + 12 + 6 * 3 + 3


def test_summary_counts():
    model = _model()
    freeze(model, 0)
    report = summary(model)
    assert report.total_params == 63 and report.trainable_params == 63 - 30
    assert ("0", "Linear", 30, 0) in report.rows and ("3", "Linear", 21, 21) in report.rows
    text = str(report)
    assert "Trainable params: 33" in text and "Total params: 63" in text


def test_bad_targets_are_reported():
    model = _model()
    with pytest.raises(ValueError, match="pattern 'head' matches no module"):
        freeze(model, "head")
    with pytest.raises(TypeError, match="Received: 1.5 of type float"):
        freeze(model, 1.5)
    with pytest.raises(ValueError, match="not part of model"):
        freeze(model, nn.Linear(2, 2))
    with pytest.raises(TypeError, match="index target needs a Sequential"):
        freeze(nn.Linear(2, 2), 0)
    with pytest.raises(TypeError, match="model must be an ffnn.nn.Module. Received: list"):
        unfreeze([1])
