"""Activation checkpointing, as ``torch.utils.checkpoint``: memory traded for one more forward.

``checkpoint(function, *args)`` runs ``function`` without recording the graph, so none of its
intermediate activations is kept; its output is one graph node whose backward runs
``function`` again, with grad enabled and the global generator put back where the first run
found it (a dropout inside draws the same mask), and backpropagates through that recomputed
graph. A network split into checkpointed segments (``checkpoint_sequential``) then holds the
activations of one segment at a time, for about one more forward pass.

- ``use_reentrant=True`` (torch's default when the argument is not passed, with torch's
  warning): the node's inputs are the tensor arguments; the recomputation runs on detached
  copies of them, and a backward of its own (``autograd.backward``) adds the gradients of
  the parameters it used to their ``.grad``. As torch's, the output needs a gradient only
  when a tensor argument does, and keyword arguments are refused.
- ``use_reentrant=False``: the first run notes every tensor that requires grad and reaches an
  op (arguments, keyword arguments, parameters, tensors the function closes over); the node
  takes them all as its inputs, so their gradients flow through the engine as any op's
  (``autograd.grad``, ``backward(inputs=...)``, each hook run once). The recomputation sees
  them as leaves (their own graph nodes hidden meanwhile), so it stops at them.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Callable, Iterator

from ffnn import autograd
from ffnn import random as _random
from ffnn.custom_function import Function
from ffnn.tensor import Tensor

__all__ = ["checkpoint", "checkpoint_sequential", "CheckpointError", "noop_context_fn"]

_DETERMINISM_CHECKS = ("default", "none")


class CheckpointError(RuntimeError):
    """The recomputation differed from the first run (outputs of other shapes or dtypes)."""


def noop_context_fn() -> tuple:
    """``context_fn``'s default: no context around either run."""
    return contextlib.nullcontext(), contextlib.nullcontext()


def _reentrant_warning(name: str) -> str:
    return (f"{name}: the use_reentrant parameter should be passed explicitly. Starting in "
            "PyTorch 2.9, calling checkpoint without use_reentrant will raise an exception. "
            "use_reentrant=False is recommended, but if you need to preserve the current "
            "default behavior, you can pass use_reentrant=True. Refer to docs for more "
            "details on the differences between the two variants.")


def checkpoint(function: Callable, *args, use_reentrant: bool | None = None,
               context_fn: Callable[[], tuple] = noop_context_fn,
               determinism_check: str = "default", debug: bool = False,
               early_stop: bool = True, **kwargs):
    """``function(*args, **kwargs)`` with its activations recomputed in the backward instead
    of kept (see the module docstring). ``preserve_rng_state=True`` (a keyword) replays the
    global generator for the recomputation; ``context_fn() -> (forward ctx, recompute ctx)``
    wraps the two runs; ``determinism_check='default'`` raises ``CheckpointError`` if the
    recomputed outputs' shapes or dtypes differ. Returns what ``function`` returns (a tensor
    or a tuple). Raises ``ValueError`` for keyword arguments, ``context_fn`` or ``debug``
    with ``use_reentrant=True``, as torch."""
    if use_reentrant is None:
        warnings.warn(_reentrant_warning("torch.utils.checkpoint"), stacklevel=2)
        use_reentrant = True
    preserve = kwargs.pop("preserve_rng_state", True)
    if use_reentrant:
        if kwargs:
            raise ValueError("Unexpected keyword arguments: " + ",".join(kwargs))
        if context_fn is not noop_context_fn or debug is not False:
            raise ValueError("Passing `context_fn` or `debug` is only supported when "
                             "use_reentrant=False.")
        return _Reentrant.apply(function, preserve, *args)
    if determinism_check not in _DETERMINISM_CHECKS:
        raise ValueError(f"determinism_check should be one of {list(_DETERMINISM_CHECKS)}, "
                         f"but got {determinism_check}")
    run = _Run(function, args, kwargs, preserve, determinism_check)
    return run.first(*context_fn())


def checkpoint_sequential(functions, segments: int, input: Tensor,
                          use_reentrant: bool | None = None, **kwargs) -> Tensor:
    """``functions`` (a ``Sequential`` or a list of modules / functions, each of one tensor)
    applied in order, the first ``segments - 1`` chunks of ``len(functions) // segments``
    each checkpointed and the rest run as usual, as torch splits them."""
    if use_reentrant is None:
        warnings.warn(_reentrant_warning("torch.utils.checkpoint.checkpoint_sequential"),
                      stacklevel=2)
        use_reentrant = True
    preserve = kwargs.pop("preserve_rng_state", True)
    if kwargs:
        raise ValueError("Unexpected keyword arguments: " + ",".join(kwargs))
    from ffnn.nn import Sequential  # noqa: PLC0415 - ffnn.nn is imported on first use

    if isinstance(functions, Sequential):
        functions = list(functions.children())
    functions = list(functions)
    size = len(functions) // segments
    end = 0
    for start in range(0, size * (segments - 1), size):
        end = start + size
        input = checkpoint(_chained(functions[start:end]), input,
                           use_reentrant=use_reentrant, preserve_rng_state=preserve)
    return _chained(functions[end:])(input)


def _chained(functions: list) -> Callable:
    def forward(input):
        for function in functions:
            input = function(input)
        return input

    return forward


@contextlib.contextmanager
def _generator_at(state: dict | None) -> Iterator[None]:
    """Inside, the global generator draws from ``state`` (unchanged where None); outside,
    it continues as if nothing had been drawn (torch's ``fork_rng``)."""
    if state is None:
        yield
        return
    surrounding = _random.get_rng_state()
    _random.set_rng_state(state)
    try:
        yield
    finally:
        _random.set_rng_state(surrounding)


def _as_tuple(result) -> tuple:
    return result if isinstance(result, tuple) else (result,)


def _differentiable(outputs: tuple) -> list:
    """The outputs that get a gradient (floating tensors), as ``Function`` picks them."""
    return [o for o in outputs if isinstance(o, Tensor) and o.dtype.kind == "f"]


def _grads_to(outputs: tuple, grad_outputs: tuple) -> tuple[list, list]:
    """The recomputed outputs that require grad and the gradients given for them (one per
    output, as ``Function`` hands them to ``backward``)."""
    pairs = [(o, g) for o, g in zip(outputs, grad_outputs)
             if isinstance(o, Tensor) and o.dtype.kind == "f" and o.requires_grad]
    return [o for o, _ in pairs], [g for _, g in pairs]


class _Reentrant(Function):
    """``checkpoint(use_reentrant=True)``'s node: inputs the tensor arguments."""

    @staticmethod
    def forward(ctx, function, preserve_rng_state, *args):
        if not any(isinstance(a, Tensor) and a.requires_grad for a in args):
            warnings.warn("None of the inputs have requires_grad=True. Gradients will be None",
                          stacklevel=3)
        ctx.function, ctx.arguments = function, args
        ctx.rng_state = _random.get_rng_state() if preserve_rng_state else None
        ctx.save_for_backward(*[a for a in args if isinstance(a, Tensor)])  # version checks
        return function(*args)  # Function.apply runs this without the graph

    @staticmethod
    def backward(ctx, *grad_outputs):
        """Run the function again on detached copies of the tensor arguments and
        backpropagate ``grad_outputs`` through it: the parameters' ``.grad`` are filled
        there, the arguments' gradients returned."""
        inputs = [Tensor._make(a._data, a.requires_grad, None) if isinstance(a, Tensor) else a
                  for a in ctx.arguments]
        with _generator_at(ctx.rng_state), autograd.enable_grad():
            outputs = _as_tuple(ctx.function(*inputs))
        roots, grads = _grads_to(outputs, grad_outputs)
        if not roots:
            raise RuntimeError("none of output has requires_grad=True, this checkpoint() is "
                               "not necessary")
        autograd.backward(roots, grads)
        return (None, None, *[t.grad if isinstance(t, Tensor) else None for t in inputs])


class _Run:
    """One ``checkpoint(use_reentrant=False)`` call: its first run and its recomputation."""

    def __init__(self, function: Callable, args: tuple, kwargs: dict, preserve: bool,
                 determinism_check: str):
        self.function, self.args, self.kwargs = function, args, kwargs
        self.preserve, self.check = preserve, determinism_check == "default"

    def first(self, forward_context, recompute_context):
        """The first run, without the graph: its outputs, made the outputs of one
        ``_Recomputed`` node whose inputs are the tensors it read that require grad."""
        if not autograd.is_grad_enabled():
            with forward_context:
                return self.function(*self.args, **self.kwargs)
        self.recompute_context = recompute_context
        self.rng_state = _random.get_rng_state() if self.preserve else None
        with forward_context, autograd.no_grad(), _sources_noted() as sources:
            result = self.function(*self.args, **self.kwargs)
        if not sources:
            return result
        self.metadata = [(o.shape, o.dtype) for o in _differentiable(_as_tuple(result))]
        given = {id(a) for a in (*self.args, *self.kwargs.values()) if isinstance(a, Tensor)}
        outputs = tuple(Tensor._make(o._data, False, None)  # an argument gets no graph node
                        if isinstance(o, Tensor) and id(o) in given else o
                        for o in _as_tuple(result))
        self.result = outputs if isinstance(result, tuple) else outputs[0]
        return _Recomputed.apply(self, *sources.values())

    def gradients(self, sources: tuple, grad_outputs: tuple) -> tuple:
        """d⟨outputs, grad_outputs⟩/d(source) for each source (None where unused), through
        the outputs recomputed with the graph on."""
        with _generator_at(self.rng_state), _as_leaves(sources), self.recompute_context, \
                autograd.enable_grad():
            outputs = _as_tuple(self.function(*self.args, **self.kwargs))
            if self.check:
                self._check(outputs)
            roots, grads = _grads_to(outputs, grad_outputs)
            if not roots:
                return (None,) * len(sources)
            return autograd.grad(roots, sources, grads, allow_unused=True)

    def _check(self, outputs: tuple) -> None:
        """torch's ``CheckpointError`` where a recomputed output's shape or dtype changed."""
        recomputed = [(o.shape, o.dtype) for o in _differentiable(outputs)]
        if recomputed != self.metadata:
            raise CheckpointError(
                "torch.utils.checkpoint: Recomputed values for the following tensors have "
                "different metadata than during the forward pass.\nsaved metadata: "
                f"{self.metadata}\nrecomputed metadata: {recomputed}")


class _Recomputed(Function):
    """``checkpoint(use_reentrant=False)``'s node: inputs the tensors the first run read
    (``sources``), outputs that run's outputs."""

    @staticmethod
    def forward(ctx, run, *sources):
        ctx.run = run
        ctx.save_for_backward(*sources)  # changed in place before the backward: torch's error
        result, run.result = run.result, None
        return result

    @staticmethod
    def backward(ctx, *grad_outputs):
        return (None, *ctx.run.gradients(ctx.saved_tensors, grad_outputs))


@contextlib.contextmanager
def _sources_noted() -> Iterator[dict]:
    """Inside, each tensor that requires grad and reaches an op is noted ({id: tensor}, in
    order; under ``no_grad`` an op's output never requires grad, so all come from outside).
    A recorder already on (``ffnn.compile``'s) is still called."""
    sources: dict[int, Tensor] = {}
    previous = autograd._recorder

    def note(op, inputs, options, out) -> None:
        for t in inputs:
            if t is not None and t.requires_grad:
                sources.setdefault(id(t), t)
        if previous is not None:
            previous(op, inputs, options, out)

    autograd._recorder = note
    try:
        yield sources
    finally:
        autograd._recorder = previous


@contextlib.contextmanager
def _as_leaves(tensors: tuple) -> Iterator[None]:
    """Inside, ``tensors`` are leaves to the ops applied (the graph built stops at them) and
    their hooks are off (the outer backward runs them); both come back after."""
    saved = [(t, t._ctx, t.__dict__.pop("_grad_hooks", None)) for t in tensors]
    for t in tensors:
        t._ctx = None
    try:
        yield
    finally:
        for t, ctx, hooks in saved:
            t._ctx = ctx
            if hooks is not None:
                t.__dict__["_grad_hooks"] = hooks
