"""The engine's graph-free training step for plain chains, as the Trainer uses it.

The capture and the step live in :mod:`ffnn.compiler.chain` (``ffnn.compile`` replays the
same :class:`ChainStep`); this module names them for the training package and for losses
that register themselves (``register_loss``). The :class:`~ffnn.train.Trainer` takes the
step whenever :meth:`ChainStep.build` gives one and :meth:`ChainStep.usable` accepts the
batch (every parameter trainable, no hooks, grad mode on, the weights' dtype), else the
graph; each parameter's ``.grad`` is the graph's, bit for bit.
"""

from ffnn.compiler.chain import LOSSES, ChainStep, LossStep, loss_backward, register_loss

__all__ = ["LOSSES", "ChainStep", "LossStep", "loss_backward", "register_loss"]
