"""``torch.autograd.function``'s names: ``Function``, ``FunctionCtx`` and the
``once_differentiable`` decorator of a ``backward``."""

from __future__ import annotations

import functools

from ffnn.custom_function import Function, FunctionCtx

__all__ = ["Function", "FunctionCtx", "once_differentiable"]


def once_differentiable(backward):
    """torch's decorator for a ``backward`` that is not differentiable itself: ffnn runs
    every user ``backward`` with the graph off already, so it is ``backward`` unchanged."""
    @functools.wraps(backward)
    def wrapper(ctx, *grads):
        return backward(ctx, *grads)

    return wrapper
