"""Helpers shared by the fast-step and compile tests: counting the batches the graph-free
fast step trained, one step of it against the graph, and the eager training step."""

from __future__ import annotations

import numpy as np

import ffnn
from ffnn.compiler.chain import ChainStep


def count_fast_steps(monkeypatch) -> list:
    """A list that gains one entry per batch whose fast backward ran to the end."""
    calls = []
    original = ChainStep.backward

    def counted(self, *args):
        value = original(self, *args)
        if value is not None:
            calls.append(1)
        return value

    monkeypatch.setattr(ChainStep, "backward", counted)
    return calls


def chain_against_graph(step: ChainStep, model, loss, x, target) -> tuple:
    """One forward and backward of ``step`` on (x, target), then of the graph: returns (the
    step's output, its loss, its gradients, the graph's loss tensor); the model's ``.grad``
    is left as the graph computed it."""
    out, done = step.forward(x)
    value = step.backward(out, done, target)
    fast = [p.grad.numpy().copy() for p in model.parameters()]
    model.zero_grad()
    graph_loss = loss(model(ffnn.tensor(x)), ffnn.tensor(target))
    graph_loss.backward()
    return out, value, fast, graph_loss


def assert_grads_equal(grads: list, model) -> None:
    """Each array of ``grads`` equals the model's parameter gradients, bit for bit."""
    for got, p in zip(grads, model.parameters()):
        np.testing.assert_array_equal(got, p.grad.numpy())


def eager_step(model, loss_fn, optimizer, x, y) -> float:
    """``loss_fn(model(x), y)``, backward and the optimizer's step, as a user writes it."""
    loss = loss_fn(model(x), y)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return float(loss._data)


def without_fused_step(monkeypatch) -> None:
    """Trainers built from here on train with the bit-exact fast step where they would use
    the fused one (``compile='auto'``: the scikit-learn estimators)."""
    from ffnn import accel

    if accel.available:
        from ffnn.compiler.fused import FusedStep

        monkeypatch.setattr(FusedStep, "build",
                            classmethod(lambda cls, *args: (None, "off in this test")))


def count_fused_steps(monkeypatch) -> list:
    """A list that gains one entry per batch the fused step trained."""
    from ffnn.compiler.fused import FusedStep

    calls = []
    original = FusedStep.__call__

    def counted(self, *args, **options):
        value, why = original(self, *args, **options)
        if why is None:
            calls.append(1)
        return value, why

    monkeypatch.setattr(FusedStep, "__call__", counted)
    return calls
