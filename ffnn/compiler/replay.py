"""The bit-exact replay: the captured chain's own ops, called on arrays.

``replay_step`` runs, for each link, the ``forward`` of the op class the module would run,
then the loss op, then each ``backward`` in reverse order, and hands the parameters'
gradients to the optimizer's own ``step``. It skips what the eager step spends its Python
time on (Tensor wrappers, the graph and its topological sort, version counters, hook
look-ups, argument checks), not the arithmetic: the same functions run on the same arrays in
the same order, so every bit of the result is the eager step's, and a change to an op's
formula reaches both at once.
"""

from __future__ import annotations

import numpy as np

from ffnn.compiler.capture import Link, LossSpec


def plan_needs(links: list[Link]) -> tuple[list[tuple], bool]:
    """Each link's ``needs_input_grad`` (as ``Op.apply`` sets it, with gradients enabled) and
    whether the loss's input needs a gradient."""
    flowing = False
    needs = []
    for link in links:
        flags = (flowing, *[p is not None and p.requires_grad for p in link.params])
        needs.append(flags)
        flowing = any(flags)
    return needs, flowing


def _store(param, grad) -> None:
    """``param.grad = grad`` after ``zero_grad``, with backward's rules: the parameter's dtype
    and shape, and memory of its own."""
    data = param._data
    if grad.dtype != data.dtype:
        grad = grad.astype(data.dtype)
    if grad.shape != data.shape:
        grad = grad.reshape(data.shape)
    if grad.base is not None or not grad.flags.writeable:
        grad = grad.copy()
    param._grad = grad


def replay_step(links: list[Link], needs: list[tuple], loss: LossSpec, optimizer, x, y):
    """One training step on arrays ``x`` (input) and ``y`` (target, already cast as the eager
    loss casts it): forward, loss, ``optimizer.zero_grad()``, backward, ``optimizer.step()``.
    Returns (the loss as a 0-d array, the model's output array)."""
    ops = []
    h = x
    for link, flags in zip(links, needs):
        op = link.op()
        op.needs_input_grad = flags
        if link.params:
            h = op.forward(h, *[None if p is None else p._data for p in link.params],
                           **link.options)
        else:
            h = op.forward(h, **link.options)
        ops.append(op if any(flags) else None)
    output = h
    if loss.target == "float" and y.dtype != output.dtype:
        y = y.astype(output.dtype)
    loss_op = loss.op()
    loss_op.needs_input_grad = (True, False)
    value = loss_op.forward(output, y, **loss.options)
    optimizer.zero_grad()
    grad = loss_op.backward(np.array(1, dtype=value.dtype).reshape(value.shape))[0]
    for link, op in zip(reversed(links), reversed(ops)):
        if op is None:
            break
        grads = op.backward(grad)
        if not isinstance(grads, tuple):
            grads = (grads,)
        for param, param_grad, needed in zip(link.params, grads[1:], op.needs_input_grad[1:]):
            if needed and param_grad is not None:
                _store(param, param_grad)
        grad = grads[0]
        if not op.needs_input_grad[0]:
            break
    optimizer.step()
    return value, output
