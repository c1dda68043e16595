"""Counting the batches the graph-free fast step trained (shared by the Trainer's and the
estimators' fast-step tests)."""

from __future__ import annotations

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
