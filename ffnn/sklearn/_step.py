"""The estimators' training step without building the graph, for a plain MLP.

A network from ``build_mlp`` without dropout or batch norm is a fixed chain
Linear → activation → … → Linear, so the order of its backward pass is known before the
step. :class:`ChainStep` runs the very ``ffnn.ops`` Functions that the graph would record —
their own ``forward`` and ``backward``, where the derivatives are written — in that order,
and skips what only a general graph needs (a Tensor per output, the topological sort, the
leaf bookkeeping): ~22 µs of a ~127 µs step on digits. Its gradients are the graph's, bit
for bit (``tests/sklearn/test_chain_step.py``).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ffnn import nn
from ffnn.nn import traits
from ffnn.ops import matrix

LossFn = Callable[[np.ndarray], tuple[float, np.ndarray]]
"""out [n, k] → (the batch loss, d loss / d out)."""


class ChainStep:
    """Forward and backward of a chain of ``Linear`` and activation modules, writing each
    parameter's gradient into the array given for it (its slice of a flat buffer)."""

    def __init__(self, layers: list[tuple[type, tuple, dict]]):
        self.layers = layers  # (Function class, (weight, bias, dW, db) or (), options)

    @classmethod
    def build(cls, model: nn.Module, grad_of: dict[int, np.ndarray]) -> ChainStep | None:
        """The step for ``model`` (a Sequential), or None when it is not a plain chain of
        ``nn.Linear`` (with bias) and activations declaring their ``op`` (``ffnn.nn.traits``).
        ``grad_of``: id(parameter) → the array its gradient goes to."""
        if type(model) is not nn.Sequential:
            return None
        layers = []
        for module in model:
            kind = type(module)
            if kind is nn.Linear and module.bias is not None:
                w, b = module.weight, module.bias
                if id(w) not in grad_of or id(b) not in grad_of:
                    return None
                layers.append((matrix.Linear, (w, b, grad_of[id(w)], grad_of[id(b)]), {}))
            elif (declared := traits.of(module)) is not None and declared.op is not None:
                options = declared.op_options(module) if declared.op_options else {}
                layers.append((declared.op, (), options))
            elif kind is not nn.Identity:
                return None
        return cls(layers) if layers and layers[0][0] is matrix.Linear else None

    def __call__(self, x: np.ndarray, loss: LossFn) -> float:
        """One forward and backward pass on the batch ``x``; returns the loss."""
        done = []
        out, first = x, True
        for op, params, options in self.layers:
            fn = op()
            if params:
                fn.needs_input_grad = (not first, True, True)
                out = fn.forward(out, params[0]._data, params[1]._data)
                first = False
            else:
                fn.needs_input_grad = (True,)
                out = fn.forward(out, **options)
            done.append((fn, params))
        value, grad = loss(out)
        for fn, params in reversed(done):
            grads = fn.backward(grad)
            grad = grads[0]
            if params:
                np.copyto(params[2], grads[1])
                np.copyto(params[3], grads[2])
            if grad is None:  # the first Linear: its input needs no gradient
                break
        return value
