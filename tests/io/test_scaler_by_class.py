"""A checkpoint finds a scaler's kind by its class, not its name: a subclass of
StandardScaler is saved and rebuilt as a StandardScaler with its statistics."""

from __future__ import annotations

import numpy as np

import ffnn
from ffnn import nn
from ffnn.data import StandardScaler


class MyScaler(StandardScaler):
    pass


def test_a_scaler_subclass_is_rebuilt_as_its_scaler(tmp_path):
    X = np.random.default_rng(0).standard_normal((20, 3)) * 5 + 2
    scaler = MyScaler().fit(X)
    ffnn.save(tmp_path / "m.safetensors", nn.Linear(3, 1), scaler=scaler)
    rebuilt = ffnn.load(tmp_path / "m.safetensors").scaler
    assert type(rebuilt) is StandardScaler
    np.testing.assert_allclose(rebuilt.transform(X), scaler.transform(X), rtol=1e-12)
