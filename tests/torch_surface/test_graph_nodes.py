"""Graph nodes as torch shows them: ``grad_fn.name()`` and the ``grad_fn=<…>`` of a tensor's
printout (``MulBackward0``), and ``next_functions``, the edges an autograd tutorial walks
from the loss down to the leaves' ``AccumulateGrad`` nodes."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch

import ffnn

EXPRESSIONS = {
    "add": lambda lib, a, b: a + b, "scalar add": lambda lib, a, b: a + 1,
    "sub": lambda lib, a, b: a - b, "mul": lambda lib, a, b: a * b,
    "div": lambda lib, a, b: a / (b + 2), "neg": lambda lib, a, b: -a,
    "pow": lambda lib, a, b: a ** 2, "exp": lambda lib, a, b: a.exp(),
    "tanh": lambda lib, a, b: lib.tanh(a), "sigmoid": lambda lib, a, b: lib.sigmoid(a),
    "relu": lambda lib, a, b: lib.relu(a), "gelu": lambda lib, a, b: lib.nn.functional.gelu(a),
    "silu": lambda lib, a, b: lib.nn.functional.silu(a),
    "leaky relu": lambda lib, a, b: lib.nn.functional.leaky_relu(a),
    "sum": lambda lib, a, b: a.sum(), "sum over a dim": lambda lib, a, b: a.sum(1),
    "mean": lambda lib, a, b: a.mean(), "mean over a dim": lambda lib, a, b: a.mean(0),
    "max": lambda lib, a, b: a.max(), "max over a dim": lambda lib, a, b: a.max(1)[0],
    "matrix product": lambda lib, a, b: a @ b.T, "matrix-vector": lambda lib, a, b: a @ b[0],
    "dot": lambda lib, a, b: a[0] @ b[0],
    "linear": lambda lib, a, b: lib.nn.functional.linear(a, b, b[0, :2]),
    "linear without bias": lambda lib, a, b: lib.nn.functional.linear(a, b),
    "view": lambda lib, a, b: a.view(-1), "reshape": lambda lib, a, b: a.reshape(3, 2),
    "permute": lambda lib, a, b: a.permute(1, 0), "slice": lambda lib, a, b: a[1:],
    "select": lambda lib, a, b: a[1], "index": lambda lib, a, b: a[lib.tensor([0, 1])],
    "cat": lambda lib, a, b: lib.cat([a, b]), "stack": lambda lib, a, b: lib.stack([a, b]),
    "softmax": lambda lib, a, b: lib.softmax(a, 1),
    "log_softmax": lambda lib, a, b: lib.log_softmax(a, 1),
    "cross_entropy": lambda lib, a, b: lib.nn.functional.cross_entropy(a, lib.tensor([0, 2])),
    "mse_loss": lambda lib, a, b: lib.nn.functional.mse_loss(a, b),
    "bce_with_logits": lambda lib, a, b: lib.nn.functional.binary_cross_entropy_with_logits(a, b),
    "binary_cross_entropy": lambda lib, a, b: lib.nn.functional.binary_cross_entropy(
        lib.sigmoid(a), lib.sigmoid(b)),
    "layer_norm": lambda lib, a, b: lib.nn.functional.layer_norm(a, (3,)),
    "clone": lambda lib, a, b: a.clone(), "to float64": lambda lib, a, b: a.double(),
    "Linear module": lambda lib, a, b: _seeded(lib, lambda: lib.nn.Linear(3, 2))(a),
    "Sequential ending in ReLU": lambda lib, a, b: _seeded(lib, lambda: lib.nn.Sequential(
        lib.nn.Linear(3, 4), lib.nn.ReLU()))(a.detach()),
    "Sequential ending in Linear": lambda lib, a, b: _seeded(lib, lambda: lib.nn.Sequential(
        lib.nn.Linear(3, 4), lib.nn.Tanh(), lib.nn.Linear(4, 1)))(a.detach()),
}


def _seeded(lib, make):
    lib.manual_seed(0)
    return make()


def _pair(lib):
    rng = np.random.default_rng(0)
    return [lib.tensor(rng.uniform(0.1, 0.9, (2, 3)), dtype=lib.float32, requires_grad=True)
            for _ in range(2)]


def _without_addresses(text: str) -> str:
    return re.sub(r"0x[0-9a-f]+", "0x", text)


@pytest.mark.parametrize("name", EXPRESSIONS)
def test_node_names_and_printouts_are_torchs(name):
    ours, theirs = (EXPRESSIONS[name](lib, *_pair(lib)) for lib in (ffnn, torch))
    assert ours.grad_fn.name() == theirs.grad_fn.name()
    assert repr(ours).split("grad_fn=")[1] == repr(theirs).split("grad_fn=")[1]
    assert _without_addresses(repr(ours.grad_fn)) == _without_addresses(repr(theirs.grad_fn))


def _walk(lib) -> list:
    """The autograd tutorial's walk: each node's name and its edges' names, from the loss."""
    x = lib.ones(2, 3)
    w = lib.tensor(np.linspace(-1, 1, 12).reshape(3, 4), dtype=lib.float32, requires_grad=True)
    b = lib.zeros(4, requires_grad=True)
    loss = lib.relu(x @ w + b).mean()
    walked, node = [], loss.grad_fn
    while node is not None:
        edges = [None if n is None else n.name() for n, _ in node.next_functions]
        walked.append((node.name(), edges))
        node = next((n for n, _ in node.next_functions if n is not None and n.next_functions),
                    None)
    return walked


def test_next_functions_walk_to_the_leaves_as_torchs():
    assert _walk(ffnn) == _walk(torch)


def test_accumulate_grad_holds_its_leaf_and_edges_end_there():
    w = ffnn.ones(3, requires_grad=True)
    y = w * 2
    (node, index), (constant, _) = y.grad_fn.next_functions
    assert node.variable is w and index == 0 and constant is None
    assert node.name() == "torch::autograd::AccumulateGrad" and node.next_functions == ()
    assert repr(node).startswith("<AccumulateGrad object at 0x")
    data = ffnn.ones(3)
    assert (w * data).grad_fn.next_functions[1] == (None, 0)


def test_a_custom_function_node_is_named_as_torchs():
    class Square(ffnn.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return 2 * x * grad

    y = Square.apply(ffnn.ones(2, requires_grad=True))
    assert y.grad_fn.name() == "SquareBackward"


def _sort_with_index(lib):
    class SortWithIndex(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            values, idx = x.sort(dim=-1)
            ctx.mark_non_differentiable(idx)
            ctx.save_for_backward(idx)
            return values, idx, values * 2

        @staticmethod
        def backward(ctx, grad_values, grad_idx, grad_doubled):
            (idx,) = ctx.saved_tensors
            grad = grad_values + 2 * grad_doubled
            return lib.zeros_like(grad).scatter_(-1, idx, grad)

    x = lib.tensor([[3.0, -1.0, 2.0]], requires_grad=True)
    return SortWithIndex.apply(x)


def test_each_output_of_a_multi_output_function_shows_its_node():
    """Every differentiable output of a custom Function has the Function's node as its
    grad_fn (torch's ``SortWithIndexBackward``), whose edges are the Function's inputs."""
    for lib in (torch, ffnn):
        values, order, doubled = _sort_with_index(lib)
        assert values.grad_fn.name() == doubled.grad_fn.name() == "SortWithIndexBackward"
        assert "grad_fn=<SortWithIndexBackward>" in repr(doubled)
        assert order.grad_fn is None
        (edge, index), = values.grad_fn.next_functions
        assert edge.name() == "torch::autograd::AccumulateGrad" and index == 0
