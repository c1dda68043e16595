"""Small data sets and models for the trainer tests."""

from __future__ import annotations

import numpy as np
import pytest

import ffnn
from ffnn import nn, optim


@pytest.fixture
def blobs():
    """Three separable Gaussian blobs in 4-D: X [120, 4] float32, y [120] int64."""
    rng = np.random.default_rng(0)
    centers = rng.normal(scale=3.0, size=(3, 4))
    y = np.repeat(np.arange(3), 40)
    X = (centers[y] + rng.normal(size=(120, 4))).astype(np.float32)
    order = rng.permutation(120)
    return X[order], y[order]


def make_model(dropout: float = 0.0, seed: int = 0) -> nn.Module:
    ffnn.manual_seed(seed)
    return nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Dropout(dropout), nn.Linear(16, 3))


def make_trainer(model=None, lr: float = 0.01, **kwargs):
    from ffnn.train import Trainer

    model = model or make_model()
    return Trainer(model, nn.CrossEntropyLoss(), optim.Adam(model.parameters(), lr=lr), **kwargs)
