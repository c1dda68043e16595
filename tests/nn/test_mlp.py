"""``build_mlp``: the layers it stacks, its initialisation hook and its errors."""

from __future__ import annotations

import numpy as np
import pytest

import ffnn
from ffnn import nn
from ffnn.nn.mlp import build_mlp


def _kinds(model):
    return [type(m).__name__ for m in model]


def test_layers_per_hidden_block_and_output():
    model = build_mlp(5, [8, 4], 3, nn.GELU, norm="layer", dropout=0.2)
    assert _kinds(model) == ["Linear", "LayerNorm", "GELU", "Dropout",
                             "Linear", "LayerNorm", "GELU", "Dropout", "Linear"]
    sizes = [(m.in_features, m.out_features) for m in model if isinstance(m, nn.Linear)]
    assert sizes == [(5, 8), (8, 4), (4, 3)]
    assert model(ffnn.randn(7, 5)).shape == (7, 3)


def test_no_hidden_layer_no_activation_no_norm():
    assert _kinds(build_mlp(5, [], 2, nn.ReLU, norm="batch", dropout=0.5)) == ["Linear"]
    assert _kinds(build_mlp(5, [6], 2, None)) == ["Linear", "Linear"]


def test_init_runs_on_each_linear_in_order_with_the_generator():
    seen = []

    def init(linear):
        seen.append((linear.in_features, linear.out_features))
        nn.init.constant_(linear.weight, len(seen))

    model = build_mlp(4, [6, 5], 2, nn.Tanh, norm="batch", dtype=ffnn.float64, init=init)
    assert seen == [(4, 6), (6, 5), (5, 2)]
    weights = [m.weight.numpy() for m in model if isinstance(m, nn.Linear)]
    assert [float(w[0, 0]) for w in weights] == [1.0, 2.0, 3.0]
    assert all(p.dtype == ffnn.float64 for p in model.parameters())
    a = build_mlp(4, [6], 2, nn.ReLU, generator=ffnn.Generator().manual_seed(1))
    b = build_mlp(4, [6], 2, nn.ReLU, generator=ffnn.Generator().manual_seed(1))
    c = build_mlp(4, [6], 2, nn.ReLU, generator=ffnn.Generator().manual_seed(2))
    for key, value in a.state_dict().items():
        np.testing.assert_array_equal(value.numpy(), b.state_dict()[key].numpy())
    assert not np.array_equal(a[0].weight.numpy(), c[0].weight.numpy())


def test_unknown_norm_is_named():
    with pytest.raises(ValueError, match=r"norm must be one of \['batch', 'layer'\] or None. "
                                         r"Received: norm='group'"):
        build_mlp(4, [6], 2, nn.ReLU, norm="group")
