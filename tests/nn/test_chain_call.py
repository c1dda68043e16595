"""A Sequential of plain layers recorded as one node (ffnn.nn.chain_call) computes what the
per-layer graph computes, bit for bit (where it runs the layers' own ops; the native chain,
to rounding: tests/nn/test_chain_native.py): outputs, every .grad, dL/dx, dropout's
masks, batch norms' running statistics; it steps aside for hooks, a forward set on an
instance, a batch norm that cannot use the batch's statistics on [n, features], and nested
containers; and an array changed in place after a layer saved it is reported as the
per-layer graph does."""

from __future__ import annotations

import numpy as np
import pytest

import ffnn
from ffnn import nn
from ffnn.nn import chain_call
from ffnn.nn.chain_call import SequentialChain


def _per_layer(monkeypatch):
    monkeypatch.setattr(chain_call, "call", lambda *a: None)


def _layers_own_ops(monkeypatch):
    """The one node runs each layer's own op (no native chain)."""
    monkeypatch.setattr(chain_call, "native_chain", lambda *a: None)


def _run(make, x_shape, dtype, monkeypatch, chain: bool, x_grad: bool, seed: int = 0):
    """(output, every parameter's grad, x's grad, the output's grad_fn) of one forward and
    backward of ``make()`` (built from ``seed``), with or without the one-node call."""
    if chain:
        _layers_own_ops(monkeypatch)
    else:
        _per_layer(monkeypatch)
    ffnn.manual_seed(seed)
    model = make().to(dtype)
    x = ffnn.tensor(np.random.default_rng(seed).standard_normal(x_shape).astype(dtype),
                    requires_grad=x_grad)
    out = model(x)
    weights = ffnn.tensor(np.random.default_rng(seed + 1).standard_normal(out.shape)
                          .astype(dtype))
    (out * weights).sum().backward()
    monkeypatch.undo()
    grads = [None if p.grad is None else p.grad.numpy().copy() for p in model.parameters()]
    return out.detach().numpy(), grads, None if x.grad is None else x.grad.numpy(), out.grad_fn


def _with_running_statistics(model):
    """``model`` with its batch norms' running statistics far from 0 and 1."""
    rng = np.random.default_rng(12)
    for norm in (m for m in model.modules() if isinstance(m, nn.BatchNorm1d)):
        norm.running_mean.copy_(ffnn.tensor(2 * rng.standard_normal(norm.num_features)))
        norm.running_var.copy_(ffnn.tensor(rng.uniform(0.2, 4.0, norm.num_features)))
    return model


MODELS = {
    "tanh": lambda: nn.Sequential(nn.Linear(6, 5), nn.Tanh(), nn.Linear(5, 3)),
    "every activation": lambda: nn.Sequential(
        nn.Linear(7, 8), nn.ReLU(), nn.Linear(8, 8), nn.GELU(), nn.Linear(8, 6), nn.SiLU(),
        nn.Linear(6, 6), nn.LeakyReLU(0.2), nn.Linear(6, 5), nn.Sigmoid(), nn.Linear(5, 4),
        nn.ELU(), nn.Identity(), nn.Linear(4, 2)),
    "layer norm, no bias": lambda: nn.Sequential(
        nn.Linear(6, 16, bias=False), nn.LayerNorm(16), nn.GELU(approximate="tanh"),
        nn.Linear(16, 3)),
    "dropout": lambda: nn.Sequential(nn.Linear(6, 32), nn.ReLU(), nn.Dropout(0.3),
                                     nn.Linear(32, 4), nn.Dropout(0.5)),
    "large": lambda: nn.Sequential(nn.Linear(64, 256), nn.Tanh(), nn.Linear(256, 10)),
    "flatten first": lambda: nn.Sequential(nn.Flatten(), nn.Linear(12, 8), nn.ReLU(),
                                           nn.Linear(8, 3)),
    "batch norm": lambda: nn.Sequential(
        nn.Linear(6, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 8),
        nn.BatchNorm1d(8, momentum=None), nn.Tanh(), nn.Dropout(0.2), nn.Linear(8, 3),
        nn.BatchNorm1d(3, track_running_stats=False)),
    "batch norm in eval mode": lambda: _with_running_statistics(nn.Sequential(
        nn.Linear(6, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 3))).eval(),
    "log softmax last": lambda: nn.Sequential(nn.Linear(6, 8), nn.Tanh(), nn.Linear(8, 4),
                                              nn.LogSoftmax(dim=1)),
    "softmax inside": lambda: nn.Sequential(nn.Linear(6, 8), nn.Softmax(dim=-1),
                                            nn.Linear(8, 3)),
    "in place after a Linear or a norm": lambda: nn.Sequential(
        nn.Linear(6, 8), nn.ReLU(inplace=True), nn.Linear(8, 8), nn.LayerNorm(8),
        nn.SiLU(inplace=True), nn.Linear(8, 8), nn.BatchNorm1d(8), nn.ELU(inplace=True),
        nn.Linear(8, 4), nn.Dropout(0.4, inplace=True)),
}
INPUTS = {"flatten first": (3, 4)}  # a row's shape where it is not the first Linear's width


@pytest.mark.parametrize("x_grad", [False, True], ids=["x", "x requires grad"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", list(MODELS))
def test_one_node_gives_the_per_layer_graph_s_values_bit_for_bit(name, dtype, x_grad,
                                                                 monkeypatch):
    rows = 96 if name == "large" else 5
    shape = (rows, *INPUTS[name]) if name in INPUTS else (rows, MODELS[name]()[0].in_features)
    out, grads, x_grad_value, grad_fn = _run(MODELS[name], shape, dtype, monkeypatch, True,
                                             x_grad)
    ref_out, ref_grads, ref_x_grad, ref_grad_fn = _run(MODELS[name], shape, dtype,
                                                       monkeypatch, False, x_grad)
    assert type(grad_fn) is SequentialChain and type(ref_grad_fn) is not SequentialChain
    assert grad_fn.name() == ref_grad_fn.name()  # printed as grad_fn=<AddmmBackward0>
    np.testing.assert_array_equal(out, ref_out)
    assert len(grads) == len(ref_grads)
    for mine, theirs in zip(grads, ref_grads):
        np.testing.assert_array_equal(mine, theirs)
    if x_grad:
        np.testing.assert_array_equal(x_grad_value, ref_x_grad)
    else:
        assert x_grad_value is None and ref_x_grad is None


@pytest.mark.parametrize("make", [
    lambda: nn.Sequential(nn.Linear(12, 12), nn.Flatten(), nn.Linear(36, 2)),
    lambda: nn.Sequential(nn.Flatten(2), nn.Linear(4, 2))], ids=["not first", "start_dim=2"])
def test_a_flatten_it_cannot_take_runs_layer_by_layer(make, monkeypatch):
    """A Flatten after the first layer (the shape reaching it is not known) or over other
    dims than all but the first: each layer's own call, the same values."""
    shape = (5, 3, 12) if isinstance(make()[0], nn.Linear) else (5, 3, 2, 2)
    out, grads, _, grad_fn = _run(make, shape, "float32", monkeypatch, True, False)
    ref_out, ref_grads, _, _ = _run(make, shape, "float32", monkeypatch, False, False)
    assert type(grad_fn) is not SequentialChain
    np.testing.assert_array_equal(out, ref_out)
    for mine, theirs in zip(grads, ref_grads):
        np.testing.assert_array_equal(mine, theirs)


def test_a_three_dimensional_input_and_frozen_layers(monkeypatch):
    def make():
        model = nn.Sequential(nn.Linear(4, 6), nn.Tanh(), nn.Linear(6, 6), nn.ReLU(),
                              nn.Linear(6, 2))
        model[0].requires_grad_(False)
        model[2].bias.requires_grad_(False)
        return model

    out, grads, _, grad_fn = _run(make, (3, 5, 4), "float64", monkeypatch, True, False)
    ref_out, ref_grads, _, _ = _run(make, (3, 5, 4), "float64", monkeypatch, False, False)
    assert type(grad_fn) is SequentialChain and out.shape == (3, 5, 2)
    np.testing.assert_array_equal(out, ref_out)
    assert [g is None for g in grads] == [True, True, False, True, False, False]
    for mine, theirs in zip(grads, ref_grads):
        np.testing.assert_array_equal(mine, theirs)


def test_it_agrees_with_finite_differences():
    ffnn.manual_seed(3)
    model = nn.Sequential(nn.Linear(3, 4), nn.SiLU(), nn.Linear(4, 2)).double()
    x = ffnn.tensor(np.random.default_rng(3).standard_normal((2, 3)), requires_grad=True)
    out = model(x)
    assert type(out.grad_fn) is SequentialChain
    out.pow(2).sum().backward()
    w = model[0].weight
    numeric = np.zeros(w.shape)
    for index in np.ndindex(*w.shape):
        for sign in (1, -1):
            with ffnn.no_grad():
                w.data[index] += sign * 1e-6
                numeric[index] += sign * model(x).pow(2).sum().item() / 2e-6
                w.data[index] -= sign * 1e-6
    np.testing.assert_allclose(w.grad.numpy(), numeric, rtol=1e-6, atol=1e-8)


def test_retain_graph_backward_twice_and_autograd_grad():
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1)).double()
    x = ffnn.tensor(np.ones((2, 3)), requires_grad=True)
    loss = model(x).sum()
    loss.backward(retain_graph=True)
    first = model[0].weight.grad.numpy().copy()
    loss.backward()
    np.testing.assert_array_equal(model[0].weight.grad.numpy(), 2 * first)
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        loss.backward()
    dx, dw = ffnn.autograd.grad(model(x).sum(), [x, model[0].weight])
    np.testing.assert_array_equal(dw.numpy(), first)
    assert dx.shape == (2, 3)


def test_batch_norms_running_statistics_and_counts_are_the_per_layer_graph_s(monkeypatch):
    """Three steps in training mode (momentum 0.1 and None), then one in eval mode (the
    running statistics in use, in the node too): the buffers and outputs bit for bit."""
    results = []
    for chain in (True, False):
        if chain:
            _layers_own_ops(monkeypatch)
        else:
            _per_layer(monkeypatch)
        ffnn.manual_seed(5)
        model = MODELS["batch norm"]()
        rng = np.random.default_rng(5)
        outputs = []
        for _ in range(3):
            out = model(ffnn.tensor(rng.standard_normal((7, 6)).astype(np.float32)))
            assert (type(out.grad_fn) is SequentialChain) == chain
            out.sum().backward()
            outputs.append(out.detach().numpy())
        model.eval()
        out = model(ffnn.tensor(rng.standard_normal((7, 6)).astype(np.float32)))
        assert (type(out.grad_fn) is SequentialChain) == chain
        outputs.append(out.detach().numpy())
        buffers = {name: b.numpy().copy() for name, b in model.named_buffers()}
        results.append((outputs, buffers))
        monkeypatch.undo()
    (outputs, buffers), (ref_outputs, ref_buffers) = results
    for mine, theirs in zip(outputs, ref_outputs):
        np.testing.assert_array_equal(mine, theirs)
    assert buffers.keys() == ref_buffers.keys() and buffers["1.num_batches_tracked"] == 3
    for name, value in buffers.items():
        np.testing.assert_array_equal(value, ref_buffers[name])


@pytest.mark.parametrize("when", ["forward hook", "forward pre-hook", "forward on the instance",
                                  "nested", "batch norm, no affine",
                                  "batch norm over [N, C, L]", "eval dropout only",
                                  "in place after an activation", "softmax over dim 0"])
def test_it_steps_aside_where_a_layer_must_run_itself(when):
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    seen = []
    if when == "forward hook":
        model[1].register_forward_hook(lambda m, a, out: seen.append(1))
    elif when == "forward pre-hook":
        model[2].register_forward_pre_hook(lambda m, a: seen.append(1))
    elif when == "forward on the instance":
        original = model[1].forward
        model[1].forward = lambda x: seen.append(1) or original(x)
    elif when == "nested":
        model = nn.Sequential(nn.Sequential(nn.Linear(3, 4), nn.ReLU()), nn.Linear(4, 2))
    elif when == "batch norm, no affine":
        model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4, affine=False), nn.ReLU())
    elif when == "batch norm over [N, C, L]":  # axis 1 is not the Linear's features
        model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(2), nn.Linear(4, 2))
        x = ffnn.randn(5, 2, 3)
    elif when == "softmax over dim 0":  # over the batch: the chains leave it to the layer
        model = nn.Sequential(nn.Linear(3, 4), nn.Softmax(dim=0))
    elif when == "in place after an activation":  # it would overwrite the Tanh's output
        model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.ReLU(inplace=True))
    else:
        model = nn.Sequential(nn.Dropout(0.5)).eval()
    if when != "batch norm over [N, C, L]":
        x = ffnn.randn(5, 3)
    out = model(x)
    assert type(out.grad_fn) is not SequentialChain
    if when in ("forward hook", "forward pre-hook", "forward on the instance"):
        assert seen == [1]
    if when == "in place after an activation":  # as torch: the graph reports it
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            out.sum().backward()
    if when == "nested":  # the inner Sequential is a chain of its own
        assert type(model[0](x).grad_fn) is SequentialChain


def test_a_softmax_dim_changed_after_a_call_is_left_to_the_layer():
    model = nn.Sequential(nn.Linear(3, 4), nn.LogSoftmax(dim=1))
    x = ffnn.randn(5, 3)
    assert type(model(x).grad_fn) is SequentialChain
    model[1].dim = 0
    out = model(x)
    assert type(out.grad_fn) is not SequentialChain
    np.testing.assert_allclose(np.exp(out.detach().numpy()).sum(0), 1.0, rtol=1e-6)


def test_a_batch_norm_given_one_row_raises_its_own_error():
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU())
    with pytest.raises(ValueError, match="Expected more than 1 value per channel"):
        model(ffnn.randn(1, 3))
    assert int(model[1].num_batches_tracked) == 1  # counted before the check, as torch


def test_a_wrong_width_raises_the_layer_s_own_error():
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    with pytest.raises(ValueError, match=r"Linear\(in_features=3, out_features=4\) got input "
                                         r"with 5 features"):
        model(ffnn.randn(2, 5))
    model[2] = nn.Linear(5, 2)
    with pytest.raises(ValueError, match=r"Linear\(in_features=5, out_features=2\) got input "
                                         r"with 4 features"):
        model(ffnn.randn(2, 3))


@pytest.mark.parametrize("chain", [True, False], ids=["one node", "per layer"])
def test_an_array_changed_in_place_after_a_layer_saved_it_is_reported(chain, monkeypatch):
    if not chain:
        _per_layer(monkeypatch)
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
    x = ffnn.randn(5, 3, requires_grad=True)
    out = model(x)
    assert (type(out.grad_fn) is SequentialChain) == chain
    with ffnn.no_grad():
        model[2].weight.add_(1.0)  # the second Linear kept its weight for dL/dx
    with pytest.raises(RuntimeError, match="modified by an inplace operation.*used by Linear"):
        out.sum().backward()
    out = model(x)
    with ffnn.no_grad():
        model[0].bias.add_(1.0)  # no layer kept a bias: nothing to report
    out.sum().backward()
    assert model[0].bias.grad is not None


@pytest.mark.parametrize("chain", [True, False], ids=["one node", "per layer"])
def test_no_gradient_is_computed_for_an_input_nobody_needs(chain, monkeypatch):
    """Two Linear layers: dW and db for each, dL/dx for the second's input only (three
    products in the backward, not four)."""
    from ffnn.ops import matrix

    if chain:
        _layers_own_ops(monkeypatch)
    else:
        _per_layer(monkeypatch)
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    out = model(ffnn.randn(5, 3))
    products = []
    real = matrix.product
    monkeypatch.setattr(matrix, "product", lambda a, b: products.append(1) or real(a, b))
    out.sum().backward()
    assert len(products) == 3


def test_a_layer_class_whose_forward_was_replaced_runs_itself(monkeypatch):
    seen = []
    original = nn.Tanh.forward
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
    assert type(model(ffnn.randn(2, 3)).grad_fn) is SequentialChain
    monkeypatch.setattr(nn.Tanh, "forward", lambda self, x: seen.append(1) or original(self, x))
    out = model(ffnn.randn(2, 3))
    assert seen == [1] and type(out.grad_fn) is not SequentialChain
    monkeypatch.setattr(nn.Linear, "forward", nn.Linear.forward)  # the same function: taken
    monkeypatch.undo()
    assert type(model(ffnn.randn(2, 3)).grad_fn) is SequentialChain


def test_a_layer_s_options_are_read_at_each_call(monkeypatch):
    """A changed negative slope, layer-norm eps or dropout p reaches the next call."""
    def make():
        return nn.Sequential(nn.Linear(4, 6), nn.LeakyReLU(0.01), nn.LayerNorm(6),
                             nn.Dropout(0.2), nn.Linear(6, 2))

    def change(model):
        model[1].negative_slope = 0.5
        model[2].eps = 0.3
        model[3].p = 0.6

    results = []
    for chain in (True, False):
        if not chain:
            _per_layer(monkeypatch)
        ffnn.manual_seed(4)
        model = make().double()
        x = ffnn.tensor(np.random.default_rng(4).standard_normal((8, 4)))
        first = model(x).detach().numpy()
        change(model)
        out = model(x)
        assert (type(out.grad_fn) is SequentialChain) == chain
        results.append((first, out.detach().numpy()))
        monkeypatch.undo()
    (first, second), (ref_first, ref_second) = results
    np.testing.assert_array_equal(first, ref_first)
    np.testing.assert_array_equal(second, ref_second)
    assert not np.allclose(first, second)
