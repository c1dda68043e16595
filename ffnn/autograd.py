"""The computational graph: ``Function`` (one differentiable op) and the backward pass.

Every op is a :class:`Function` subclass with ``forward(*arrays, **options) -> array`` and
``backward(grad_output) -> tuple of input gradients`` written right under it. Calling
``SomeOp.apply(*tensors)`` runs the forward on the tensors' arrays and, when any input needs a
gradient and grad mode is on, records the op instance as the output's ``_ctx`` so that
:func:`run_backward` can walk the graph later.
"""

from __future__ import annotations

import functools
from contextlib import contextmanager

_grad_enabled = True


def is_grad_enabled() -> bool:
    return _grad_enabled


class set_grad_enabled:
    """Turn graph recording on or off, as a context manager or a plain call."""

    def __init__(self, mode: bool):
        global _grad_enabled
        self.prev = _grad_enabled
        _grad_enabled = bool(mode)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        global _grad_enabled
        _grad_enabled = self.prev


class no_grad:
    """Context manager (and decorator) that records no graph: outputs need no gradient."""

    def __enter__(self):
        global _grad_enabled
        self.prev = _grad_enabled
        _grad_enabled = False

    def __exit__(self, *exc):
        global _grad_enabled
        _grad_enabled = self.prev

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with no_grad():
                return fn(*args, **kwargs)

        return wrapper


@contextmanager
def enable_grad():
    global _grad_enabled
    prev, _grad_enabled = _grad_enabled, True
    try:
        yield
    finally:
        _grad_enabled = prev


class Function:
    """One differentiable op. Subclasses define ``forward`` and ``backward`` side by side.

    In ``forward`` an op saves on ``self`` what its backward needs; ``self.needs_input_grad``
    (one bool per positional input) lets the backward skip gradients nobody asked for.
    ``backward(grad_output)`` returns one gradient (or None) per positional input, each of
    that input's shape. It must not modify ``grad_output`` in place.
    """

    freed = False
    parents: tuple = ()

    def forward(self, *arrays, **options):  # pragma: no cover - abstract
        raise NotImplementedError

    def backward(self, grad_output):  # pragma: no cover - abstract
        raise NotImplementedError

    @classmethod
    def apply(cls, *inputs, **options):
        """Run the op on tensors (``None`` allowed for absent optional inputs)."""
        fn = cls()
        # under no_grad nothing needs a gradient, so forward saves nothing for a backward
        needs = tuple([_grad_enabled and t is not None and t.requires_grad for t in inputs])
        fn.needs_input_grad = needs
        data = fn.forward(*[None if t is None else t.data for t in inputs], **options)
        requires_grad = any(needs)
        if requires_grad:
            fn.parents = inputs
            return _tensor.Tensor._make(data, True, fn)
        return _tensor.Tensor._make(data, False, None)

    def free(self) -> None:
        """Drop saved arrays and graph edges; a later backward through here raises."""
        self.__dict__.clear()
        self.freed = True

    @property
    def name(self) -> str:
        return type(self).__name__


def _topological_order(root) -> list:
    """Non-leaf nodes reachable from ``root``, parents before children (iterative DFS)."""
    order, visited, stack = [], set(), [(root, False)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        if id(node) in visited:
            continue
        visited.add(id(node))
        fn = node._ctx
        if fn is None:
            continue
        if fn.freed:
            raise RuntimeError(
                "Trying to backward through the graph a second time: its saved values were "
                "freed by the first backward(). Call backward(retain_graph=True) the first "
                "time if you need to backward twice."
            )
        stack.append((node, True))
        for parent in fn.parents:
            if parent is not None and parent._ctx is not None and id(parent) not in visited:
                stack.append((parent, False))
    return order


def run_backward(root, gradient, retain_graph: bool = False) -> None:
    """Accumulate d(root)/d(leaf) · gradient into ``leaf.grad`` for every leaf that needs it.

    Walks the graph once in reverse topological order; an intermediate's gradient is the
    sum over its uses (so reused intermediates and diamonds are right) and is dropped as
    soon as it has been passed on. Unless ``retain_graph``, each op's saved arrays are freed.
    """
    leaf_grads: dict[int, list] = {}
    if root._ctx is None:  # backward on a leaf: its gradient is the given one
        leaf_grads[id(root)] = [root, gradient]
        order = []
    else:
        order = _topological_order(root)
    grads = {id(root): gradient}
    for node in reversed(order):
        grad = grads.pop(id(node), None)
        fn = node._ctx
        if grad is not None and node.retains_grad:
            node.grad = grad.copy() if node.grad is None else node.grad + grad
        if grad is not None:
            input_grads = fn.backward(grad)
            if not isinstance(input_grads, tuple):
                input_grads = (input_grads,)
            for parent, input_grad in zip(fn.parents, input_grads):
                if input_grad is None or parent is None or not parent.requires_grad:
                    continue
                key = id(parent)
                if parent._ctx is None:
                    entry = leaf_grads.get(key)
                    if entry is None:
                        leaf_grads[key] = [parent, input_grad]
                    else:
                        entry[1] = entry[1] + input_grad
                elif key in grads:
                    grads[key] = grads[key] + input_grad
                else:
                    grads[key] = input_grad
        if not retain_graph:
            fn.free()
    _store_leaf_grads(leaf_grads.values(), gradient)


def _store_leaf_grads(entries, root_gradient) -> None:
    """Add each leaf's gradient to ``leaf.grad``; every ``.grad`` owns its own memory."""
    handed_out = {id(root_gradient)}
    for leaf, grad in entries:
        if grad.dtype != leaf.data.dtype:
            grad = grad.astype(leaf.data.dtype)
        if grad.shape != leaf.data.shape:
            grad = grad.reshape(leaf.data.shape)
        if leaf.grad is None:
            if grad.base is not None or id(grad) in handed_out or not grad.flags.writeable:
                grad = grad.copy()
            handed_out.add(id(grad))
            leaf.grad = grad
        else:
            leaf.grad += grad


from ffnn import tensor as _tensor  # noqa: E402 - Tensor is defined there and imports this module


def Variable(data, requires_grad: bool = False, volatile: bool = False):  # noqa: N802
    """torch's pre-0.4 wrapper, kept for old programs: ``Variable(t)`` is the tensor ``t``
    itself (now a Variable is a Tensor); ``requires_grad=True`` turns gradients on for it."""
    tensor = data if isinstance(data, _tensor.Tensor) else _tensor.Tensor(data)
    if requires_grad:
        tensor.requires_grad_(True)
    return tensor
