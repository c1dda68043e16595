"""``ffnn.autograd.Function``: a user-defined op written as PyTorch writes one.

    class Exp(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            y = x.exp()
            ctx.save_for_backward(y)
            return y

        @staticmethod
        def backward(ctx, grad_output):
            (y,) = ctx.saved_tensors
            return grad_output * y

    z = Exp.apply(x)

``forward`` runs on tensors with the graph off; ``apply`` then records one graph node whose
backward calls the user's ``backward`` (also with the graph off) on the output gradients and
hands one gradient per ``forward`` argument back to the engine. The torch 2 style, a
``forward`` without ``ctx`` plus ``setup_context(ctx, inputs, output)``, works too.
"""

from __future__ import annotations

import numpy as np

from ffnn import autograd
from ffnn.ops.elementwise import unbroadcast
from ffnn.tensor import Tensor


class FunctionCtx:
    """What ``forward`` hands to ``backward``: saved tensors, ``needs_input_grad`` and any
    attribute the user sets (``ctx.alpha = 0.1``)."""

    needs_input_grad: tuple = ()
    materialize_grads = True

    def __init__(self):
        self._saved: tuple = ()
        self._non_differentiable: set = set()
        self._dirty: tuple = ()

    def save_for_backward(self, *tensors) -> None:
        """Keep tensors for ``backward``; changing one in place afterwards makes it raise."""
        self._saved = tensors

    @property
    def saved_tensors(self) -> tuple:
        return self._saved

    saved_variables = saved_tensors

    def mark_dirty(self, *tensors) -> None:
        """The inputs ``forward`` changed in place (and returns): ``apply`` bumps their
        versions and makes each the output, its gradient through ``backward`` (torch's)."""
        self._dirty = tensors

    def mark_non_differentiable(self, *tensors) -> None:
        self._non_differentiable.update(id(t) for t in tensors)

    def set_materialize_grads(self, value: bool) -> None:
        self.materialize_grads = bool(value)


class Function:
    """Base class of a user-defined differentiable op (see the module docstring)."""

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError("a Function subclass must define forward(ctx, *args)")

    @staticmethod
    def setup_context(ctx, inputs, output):
        raise NotImplementedError

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError("a Function subclass must define backward(ctx, *grads)")

    vjp = backward

    @classmethod
    def apply(cls, *args, **kwargs):
        if kwargs or cls.setup_context is not Function.setup_context:
            args, kwargs = _bound(cls, args, kwargs)
        ctx = FunctionCtx()
        grad_mode = autograd.is_grad_enabled()
        ctx.needs_input_grad = tuple(
            grad_mode and isinstance(a, Tensor) and a.requires_grad for a in args)
        with autograd.no_grad():
            if cls.setup_context is not Function.setup_context:
                output = cls.forward(*args, **kwargs)
                cls.setup_context(ctx, args, output)
            else:
                output = cls.forward(ctx, *args, **kwargs)
        _check_dirty(ctx, args)
        if not any(ctx.needs_input_grad):
            return output
        single = isinstance(output, Tensor)
        outputs = (output,) if single else tuple(output)
        node = _UserOp()
        node.function, node.ctx, node.nargs = cls, ctx, len(args)
        node.needs_input_grad = ctx.needs_input_grad
        node.parents = tuple(a if isinstance(a, Tensor) else None for a in args)
        node.input_ctxs = tuple(None if p is None else p._ctx for p in node.parents)
        node.tick, node.received = autograd._clock[0], set()
        differentiable = [i for i, o in enumerate(outputs) if isinstance(o, Tensor)
                          and o.dtype.kind == "f" and id(o) not in ctx._non_differentiable]
        if single and differentiable:
            return _attach(output, args, node)
        return _attach_many(outputs, differentiable, args, node)


class _UserOp(autograd.Op):
    """The graph node of a user ``Function``: its backward is the user's."""

    def free(self) -> None:
        """Freed after a backward when ``ctx.save_for_backward`` kept tensors; otherwise kept
        whole, so that another backward runs through it (torch frees saved tensors only)."""
        if "ctx" in self.__dict__ and not self.ctx._saved:
            return
        autograd.Op.free(self)

    def changed_saved_tensors(self) -> list:
        """The tensors of ``ctx.save_for_backward`` changed in place after forward."""
        return [(t._version_box, t._data) for t in self.ctx.saved_tensors
                if isinstance(t, Tensor) and t._version_box[1] > self.tick]

    def backward(self, grad):
        grads = [None if g is None else Tensor._make(g, False, None) for g in self.split(grad)]
        with autograd.no_grad():
            result = self.function.backward(self.ctx, *grads)
        result = result if isinstance(result, tuple) else (result,)
        if len(result) < self.nargs or any(r is not None for r in result[self.nargs:]):
            raise RuntimeError(
                f"function {self.function.__name__}.backward returned an incorrect number of "
                f"gradients (expected {self.nargs}, got {len(result)})"
            )
        out = []
        for i, (parent, g) in enumerate(zip(self.parents, result[:self.nargs])):
            if g is None or parent is None or not self.needs_input_grad[i]:
                out.append(None)
                continue
            array = np.asarray(g._data if isinstance(g, Tensor) else g, dtype=parent.dtype)
            if array.shape != parent.shape:
                try:
                    array = unbroadcast(np.broadcast_to(array, parent.shape), parent.shape)
                except ValueError:
                    raise RuntimeError(
                        f"function {self.function.__name__}.backward returned an invalid "
                        f"gradient at index {i} - got {list(array.shape)} but expected shape "
                        f"compatible with {list(parent.shape)}"
                    ) from None
            out.append(array)
        return tuple(out)

    def split(self, grad) -> list:
        return [grad]


def _bound(cls, args: tuple, kwargs: dict) -> tuple[tuple, dict]:
    """torch's binding of ``apply``'s arguments to ``forward``'s parameters: a keyword
    argument becomes the input in its parameter's place (so a tensor passed as ``x=`` takes a
    gradient); with ``setup_context`` the defaults are filled in too."""
    import inspect

    setup = cls.setup_context is not Function.setup_context
    try:
        signature = inspect.signature(cls.forward)
        bound = signature.bind(*((() if setup else (None,)) + args), **kwargs)
    except (TypeError, ValueError):  # forward(ctx, *args, **kwargs) or a builtin: as given
        return args, kwargs
    if setup:
        bound.apply_defaults()
    return (bound.args if setup else bound.args[1:]), bound.kwargs


def _check_dirty(ctx: FunctionCtx, args: tuple) -> None:
    """torch's rules for ``ctx.mark_dirty``: only an input changes in place, never a leaf
    that requires grad; each one's version is bumped."""
    for tensor in ctx._dirty:
        if not any(tensor is a for a in args):
            raise RuntimeError("mark_dirty: only inputs of forward can be marked dirty (a "
                               "tensor forward changed in place)")
        if tensor.requires_grad and tensor._ctx is None and autograd.is_grad_enabled():
            raise RuntimeError("a leaf Variable that requires grad has been used in an "
                               "in-place operation.")
        autograd.bump_version(tensor)


def _attach(output: Tensor, args: tuple, node: _UserOp) -> Tensor:
    """Make ``output`` the node's result: an input marked dirty itself (its graph now runs
    through the node, as torch rebases it), a fresh tensor for another input."""
    if any(output is t for t in node.ctx._dirty):
        output._ctx, output.requires_grad = node, True
        return output
    if any(output is a for a in args) or output.requires_grad:
        output = Tensor._make(output._data, True, node)
    output._ctx, output.requires_grad = node, True
    return output


class _Unpack(autograd.Op):
    """One output of a multi-output ``Function`` taken from their packed, flat concatenation;
    dL/dpacked = dL/dy placed in this output's segment, zeros elsewhere."""

    def forward(self, packed, start, shape):
        self.size, self.start = packed.shape[0], start
        return packed[start:start + int(np.prod(shape, dtype=np.int64))].reshape(shape)

    def backward(self, grad):
        if "received" in self.__dict__:  # tell the node this output got a gradient
            self.received.add(self.start)
        out = np.zeros(self.size, dtype=grad.dtype)
        out[self.start:self.start + grad.size] = grad.reshape(-1)
        return (out,)


def _attach_many(outputs: tuple, differentiable: list, args: tuple, node: _UserOp) -> tuple:
    """Several outputs: one packed node, and each differentiable output unpacked from it."""
    if not differentiable:
        return outputs if len(outputs) != 1 else outputs[0]
    dtype = np.result_type(*[outputs[i].dtype for i in differentiable])
    shapes = [outputs[i].shape for i in differentiable]
    starts = np.cumsum([0] + [int(np.prod(s, dtype=np.int64)) for s in shapes])
    packed = Tensor._make(
        np.concatenate([outputs[i]._data.reshape(-1).astype(dtype) for i in differentiable]),
        True, node)

    def split(grad):
        """One gradient per output, as torch hands them to ``backward``: a differentiable
        output's segment, zeros for another tensor (an index, one marked
        non-differentiable), None for a Python value; with ``ctx.set_materialize_grads(False)``
        None for every output that received no gradient."""
        materialize = node.ctx.materialize_grads
        grads = [np.zeros(o.shape, o.dtype) if isinstance(o, Tensor) and materialize else None
                 for o in outputs]
        for i, a, b, s in zip(differentiable, starts[:-1], starts[1:], shapes):
            if materialize or int(a) in node.received:
                grads[i] = grad[a:b].reshape(s).astype(outputs[i].dtype, copy=False)
        node.received.clear()
        return grads

    node.split = split
    result = list(outputs)
    for i, start, shape in zip(differentiable, starts[:-1], shapes):
        result[i] = _Unpack.apply(packed, start=int(start), shape=shape)
        if result[i]._ctx is not None:
            result[i]._ctx.received = node.received
    return tuple(result)
