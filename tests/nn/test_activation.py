"""Activation modules: the layer helper against torch's modules, and their reprs."""

from __future__ import annotations

import pytest
import torch

from ffnn import nn
from tests.helpers import check_layer

PAIRS = {
    "ReLU": (nn.ReLU, torch.nn.ReLU),
    "LeakyReLU": (lambda: nn.LeakyReLU(0.1), lambda: torch.nn.LeakyReLU(0.1)),
    "Sigmoid": (nn.Sigmoid, torch.nn.Sigmoid),
    "Tanh": (nn.Tanh, torch.nn.Tanh),
    "GELU": (nn.GELU, torch.nn.GELU),
    "GELU_tanh": (lambda: nn.GELU("tanh"), lambda: torch.nn.GELU("tanh")),
    "SiLU": (nn.SiLU, torch.nn.SiLU),
    "Softmax": (lambda: nn.Softmax(dim=1), lambda: torch.nn.Softmax(dim=1)),
    "LogSoftmax": (lambda: nn.LogSoftmax(dim=-1), lambda: torch.nn.LogSoftmax(dim=-1)),
}


@pytest.mark.parametrize("name", list(PAIRS))
def test_activation_layer(name):
    ours, theirs = PAIRS[name]
    check_layer(ours, (4, 5), (4, 5), theirs)
    assert repr(ours()) == repr(theirs())


def test_gelu_layer_rejects_unknown_approximation():
    with pytest.raises(ValueError, match="approximate must be 'none' or 'tanh'. Received: 'x'"):
        nn.GELU("x")
