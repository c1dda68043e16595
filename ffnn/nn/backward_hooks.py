"""Module backward hooks, as torch's.

``register_full_backward_pre_hook(hook)`` calls ``hook(module, grad_output)`` once the
gradients of the module's outputs are known (a non-None result replaces them);
``register_full_backward_hook(hook)`` calls ``hook(module, grad_input, grad_output)`` once
the gradients of its positional inputs are (a non-None result replaces ``grad_input``; where
no input needs a gradient, it is called with ``grad_input`` all None when ``grad_output`` is
known, and must return None).

Both work through a pair of forward hooks (``Gates``), registered with the first backward
hook: before the forward, the tensor arguments pass through one identity node; after it,
the outputs through another. Their backwards run the user's hooks, so every path that honours
forward hooks (the eager call; the fused chains, which step aside for a hooked module)
honours these too, and a module without backward hooks pays nothing.
"""

from __future__ import annotations

from ffnn import autograd
from ffnn.custom_function import Function
from ffnn.tensor import Tensor

REGISTRIES = ("_backward_hooks", "_backward_pre_hooks")


class _Gate(Function):
    """The identity on several tensors; its backward hands their gradients to
    ``on_backward``, which returns the gradients to pass on."""

    @staticmethod
    def forward(ctx, on_backward, *tensors):
        ctx.on_backward = on_backward
        return tuple(t.detach() for t in tensors)

    @staticmethod
    def backward(ctx, *grads):
        return (None, *ctx.on_backward(grads))


def _hooks(module, name: str) -> list:
    return list(module.__dict__.get(name, {}).values())


def _tensors(value) -> list:
    """The tensors of an output: itself, or the entries of a tuple or list."""
    if isinstance(value, Tensor):
        return [value]
    return [v for v in value if isinstance(v, Tensor)] if isinstance(value, (tuple, list)) \
        else []


class _Call:
    """One forward of a hooked module: which arguments were gated, and ``grad_output`` once
    the output gate's backward has run."""

    def __init__(self, module, args: tuple):
        self.module, self.count = module, len(args)
        self.positions = [i for i, a in enumerate(args) if isinstance(a, Tensor)
                          and a.requires_grad]
        self.grad_output: tuple | None = None

    def outputs_known(self, grads: tuple) -> tuple:
        for hook in _hooks(self.module, "_backward_pre_hooks"):
            result = hook(self.module, grads)
            if result is not None:
                grads = tuple(result) if isinstance(result, (tuple, list)) else (result,)
        self.grad_output = grads
        if not self.positions:  # no input gate will run: the hooks are called now
            for hook in _hooks(self.module, "_backward_hooks"):
                result = hook(self.module, (None,) * self.count, grads)
                if result is not None and any(g is not None for g in result):
                    raise RuntimeError("Backward hook for Modules where no input requires "
                                       "gradient should always return None or None for all "
                                       "gradients.")
        return grads

    def inputs_known(self, grads: tuple) -> tuple:
        grad_input = [None] * self.count
        for position, grad in zip(self.positions, grads):
            grad_input[position] = grad
        grad_input = tuple(grad_input)
        for hook in _hooks(self.module, "_backward_hooks"):
            result = hook(self.module, grad_input, self.grad_output)
            if result is not None:
                if len(result) != self.count:
                    raise RuntimeError(f"Backward hook returned an invalid number of grad_input,"
                                       f" got {len(result)}, but expected {self.count}")
                grad_input = tuple(result)
        return tuple(grad_input[position] for position in self.positions)


class Gates:
    """The forward pre-hook and forward hook that put the identity nodes around a call."""

    def __init__(self):
        self.calls: list[_Call] = []

    def before(self, module, args: tuple):
        call = _Call(module, args)
        self.calls.append(call)
        if not call.positions or not autograd.is_grad_enabled():
            return None
        gated = _Gate.apply(call.inputs_known, *[args[i] for i in call.positions])
        args = list(args)
        for position, tensor in zip(call.positions, gated):
            args[position] = tensor
        return tuple(args)

    def after(self, module, args: tuple, output):
        call = self.calls.pop()
        tensors = [t for t in _tensors(output) if t.requires_grad]
        if not tensors or not autograd.is_grad_enabled():
            return None
        gated = iter(_Gate.apply(call.outputs_known, *tensors))
        if isinstance(output, Tensor):
            return next(gated)
        return type(output)(next(gated) if isinstance(v, Tensor) and v.requires_grad else v
                            for v in output)


def register(module, name: str, hook, prepend: bool):
    """Add a backward hook (``name``: one of ``REGISTRIES``), with the gates on first use;
    the gates go when the last backward hook does (``hooks.drop``)."""
    from ffnn.nn import hooks

    if "_backward_gates" not in module.__dict__:
        gates = Gates()
        handles = (module.register_forward_pre_hook(gates.before),
                   module.register_forward_hook(gates.after))
        object.__setattr__(module, "_backward_gates", handles)
    return hooks.register(module, name, hook, prepend)


def drop_gates_if_unused(module) -> None:
    """Remove the gates of a module that has no backward hook left."""
    handles = module.__dict__.get("_backward_gates")
    if handles is not None and not any(name in module.__dict__ for name in REGISTRIES):
        object.__delattr__(module, "_backward_gates")
        for handle in handles:
            handle.remove()
