"""Discriminative learning rates and gradual unfreezing."""

from __future__ import annotations

import numpy as np
import pytest

import ffnn
from ffnn import nn
from ffnn.finetune import GradualUnfreezing, freeze, layerwise_lr_groups
from ffnn.train import Trainer


def _model():
    return nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 8),
                         nn.ReLU(), nn.Linear(8, 3))


def test_layerwise_lr_groups():
    model = _model()
    groups = layerwise_lr_groups(model, base_lr=1e-2, decay=0.5)
    assert [g["lr"] for g in groups] == [2.5e-3, 5e-3, 1e-2]
    assert [len(g["params"]) for g in groups] == [4, 2, 2]  # BatchNorm joins layer 0
    assert groups[0]["params"][2] is model[1].weight
    optimizer = ffnn.optim.SGD(groups, lr=1.0)
    before = [p.numpy().copy() for p in model.parameters()]
    model(ffnn.randn(6, 4)).sum().backward()
    grads = [p.grad.numpy().copy() for p in model.parameters()]
    optimizer.step()
    lrs = [2.5e-3] * 4 + [5e-3] * 2 + [1e-2] * 2
    for b, g, p, lr in zip(before, grads, model.parameters(), lrs):
        np.testing.assert_allclose(p.data, b - lr * g, rtol=1e-6, atol=1e-7)
    freeze(model, 0)
    assert [len(g["params"]) for g in layerwise_lr_groups(model, 1e-2, trainable_only=True)] \
        == [2, 2, 2]
    with pytest.raises(ValueError, match=r"decay must be a number in \(0, 1\]. Received: "
                                         "decay=2"):
        layerwise_lr_groups(model, 1e-2, decay=2)
    with pytest.raises(ValueError, match="base_lr must be a number > 0. Received: base_lr=0"):
        layerwise_lr_groups(model, 0)


def test_gradual_unfreezing_with_trainer():
    model = _model()
    seen = []

    class Spy(GradualUnfreezing):
        def on_epoch_begin(self, epoch, logs=None):
            super().on_epoch_begin(epoch, logs)
            seen.append([p.requires_grad for p in model.parameters()])

    optimizer = ffnn.optim.Adam(layerwise_lr_groups(model, 1e-2), lr=1e-2)
    first = model[0].weight.numpy().copy()
    X = np.random.default_rng(0).normal(size=(24, 4)).astype(np.float32)
    y = np.arange(24) % 3
    Trainer(model, "cross_entropy", optimizer, callbacks=[Spy(epochs_per_layer=2)],
            seed=0).fit((X, y), epochs=5, verbose=0)
    assert seen[0] == [False] * 6 + [True] * 2
    assert seen[2] == [False] * 4 + [True] * 4
    assert seen[4] == [True] * 8
    assert not np.array_equal(first, model[0].weight.data)  # trained in the last epoch
    with pytest.raises(ValueError, match="epochs_per_layer must be an integer >= 1"):
        GradualUnfreezing(epochs_per_layer=0)
