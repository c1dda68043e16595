"""``ffnn.compile(model, loss_fn, optimizer)``: a training step captured once and replayed.

The step is ``optimizer.zero_grad(); loss = loss_fn(model(x), y); loss.backward();
optimizer.step()``. Captured (a chain of ``Linear``, element-wise activations, layer norm,
batch norm in training mode and dropout, after an optional ``Flatten()``, a mean/sum
MSE, cross-entropy or BCE-with-logits loss, NLL after a closing LogSoftmax or BCE after a
closing Sigmoid, or in replay also L1, Huber, smooth L1 and BCE or NLL elsewhere: one
capture, ``ffnn.compiler.chain.ChainStep``, the engine's fast step the Trainer uses too), it
replays the ops without the graph:

- ``mode="replay"`` (default): the chain step's forward/backward (the ops' own, or the
  native chain where the eager step runs one: ``ffnn.compiler.native_chain``) and the
  optimizer's own ``zero_grad``/``step``; bit for bit the eager step.
- ``mode="fused"``: the whole step as one compiled numba function on preallocated buffers
  (``ffnn.compiler.fused``); its small products are loops and its bias gradients are summed
  in another order, so it agrees with the eager step to rounding, not bit for bit.

A model with a ``forward`` of its own (``class Net(nn.Module)``) is read from its first call
(``ffnn.compiler.trace``: that call is the eager step, its ops recorded) where its ops make
such a chain; it is read again when a module's attribute changes or an input of another shape
arrives.

Anything it cannot capture runs the eager step, with a one-line warning giving the reason
(``step.compiled`` is then False and ``step.reason`` says why). Parameters are read and
written in place (``p._data``) at every call, so changes the user makes between steps are
seen; a change of structure (hooks, ``requires_grad``, a layer or parameter replaced) is
detected and the step is captured again.
"""

from __future__ import annotations

import warnings

import numpy as np

from ffnn import accel, nn
from ffnn.autograd import is_grad_enabled, no_grad
from ffnn.compiler import trace
from ffnn.compiler.chain import ChainStep
from ffnn.compiler.watch import Watch
from ffnn.ops import losses
from ffnn.tensor import Tensor

MODES = ("replay", "fused")


class CompiledStep:
    """``step(x, y) -> float``: one training step (see the module docstring).

    Attributes: ``compiled`` (True when the last call ran the captured plan), ``reason``
    (why it did not, else None), ``mode`` (as asked), ``fused`` (the fused function in
    use, else None), ``output`` (the model's output array of the last call; a fused
    step overwrites it at the next call).
    """

    def __init__(self, model, loss_fn, optimizer, mode: str = "replay"):
        if mode not in MODES:
            raise ValueError(f"compile: mode must be one of {list(MODES)}. "
                             f"Received: mode={mode!r}")
        if not callable(model) or not hasattr(model, "parameters"):
            raise TypeError("compile: model must be an ffnn.nn.Module. "
                            f"Received: model of type {type(model).__name__}")
        if not callable(loss_fn):
            raise TypeError("compile: loss_fn must be callable, e.g. nn.MSELoss(). "
                            f"Received: loss_fn of type {type(loss_fn).__name__}")
        if not hasattr(optimizer, "param_groups") or not hasattr(optimizer, "step"):
            raise TypeError("compile: optimizer must be an ffnn.optim optimizer. "
                            f"Received: optimizer of type {type(optimizer).__name__}")
        self.model, self.loss_fn, self.optimizer, self.mode = model, loss_fn, optimizer, mode
        self.output = None
        self._warned: set[str] = set()
        self._capture()

    # ----- capture --------------------------------------------------------------------
    def _capture(self) -> None:
        chain, reason = ChainStep.capture(self.model, self.loss_fn)
        self._traces = reason is not None and trace.traceable(self.model)
        self._install(chain, reason)

    def _install(self, chain: ChainStep | None, reason: str | None) -> None:
        """Use ``chain``, or run eagerly for ``reason``."""
        self.chain = self.fused = None
        if reason is None and self.mode == "fused":
            self.fused, why = fuse(chain, self.optimizer)
            if why is not None:
                self._warn(f"mode='fused' cannot take this step ({why}); replaying")
        self.chain, self._plan_reason = chain, reason
        self.reason, self.compiled = reason, reason is None
        linears = [m for _, m, _ in chain.layers if type(m) is nn.Linear] if chain \
            else []
        self._in_features = linears[0].in_features if linears else None
        self._out_features = linears[-1].out_features if linears else None
        self._last_weight = linears[-1].weight if linears else None
        self._watch = Watch(self.model, self.loss_fn, self.optimizer,
                            chain.option_tables if chain is not None else ())

    # ----- the step -------------------------------------------------------------------
    def __call__(self, x, y) -> float:
        if not self._watch.unchanged(self.optimizer):
            self._capture()  # a layer, hook, parameter or option changed since
        if self._traces and (self._plan_reason is not None or not self.chain.trace_holds(
                x._data if isinstance(x, Tensor) else np.asarray(x))):
            return self._traced_step(x, y)
        if self._plan_reason is not None:
            return self._eager(x, y, self._plan_reason)
        xa = x._data if isinstance(x, Tensor) else Tensor._of(x)._data
        if self.chain.cast is not None:  # the forward's x.float() first
            xa = xa.astype(self.chain.cast, copy=False)
        if self.chain.flattens and xa.ndim > 2:  # [n, ...] → [n, features], as the Flatten
            xa = xa.reshape(xa.shape[0], -1)
        reason = self._input_reason(x, xa, y)
        if reason is None and self.fused is not None:
            value = self._fused_step(xa, y)
            if value is not None:
                return value
        ya = None
        if reason is None:
            ya, reason = self._target(y, xa)
        if reason is not None:
            return self._eager(x, y, reason)
        return self._replay(x, y, xa, ya)

    def _fused_step(self, xa, y) -> float | None:
        """The fused step's loss, or None (with its one-line warning) when it cannot take
        this batch; it checks the target itself."""
        ya = y._data if isinstance(y, Tensor) else y
        if not hasattr(ya, "dtype"):
            return None
        value, why = self.fused(xa, ya, self.optimizer)
        if why is not None:
            self._warn(f"mode='fused' cannot take this batch ({why}); replaying")
            return None
        self.output, self.compiled, self.reason = self.fused.output, True, None
        return value

    def _replay(self, x, y, xa, ya) -> float:
        """The chain step's forward and backward between the optimizer's ``zero_grad`` and
        ``step``; the eager step when the loss declines this target."""
        out, done = self.chain.forward(xa)
        self.optimizer.zero_grad()
        value = self.chain.backward(out, done, ya)
        if value is None:
            return self._eager(x, y, f"{type(self.loss_fn).__name__} does not take this target")
        self.optimizer.step()
        self.output, self.compiled, self.reason = out, True, None
        return float(value)

    def _input_reason(self, x, xa, y) -> str | None:
        if isinstance(x, Tensor) and x.requires_grad:
            return "the input requires a gradient"
        if isinstance(y, Tensor) and y.requires_grad:  # eager: the loss's gradient reaches it
            return "the target requires a gradient"
        if not is_grad_enabled():
            return "gradients are disabled (no_grad)"
        if xa.dtype.kind != "f":
            return f"the input has dtype {xa.dtype}, not a floating-point one"
        if xa.ndim < 1 + self.chain.flattens or (self._in_features is not None and
                                                 xa.shape[-1] != self._in_features):
            return f"the input has shape {xa.shape}, not [..., {self._in_features}]"
        return self.chain.rows_reason(xa.shape[0]) if self.chain is not None else None

    def _target(self, y, xa):
        """The target array as the eager loss would use it, or a reason to run eagerly
        (the eager loss then raises its own error for a bad target)."""
        ya = y._data if isinstance(y, Tensor) else y
        if not hasattr(ya, "dtype"):
            return None, "the target is not an array"
        width = xa.shape[-1] if self._out_features is None else self._out_features
        if type(self.loss_fn) in (nn.CrossEntropyLoss, nn.NLLLoss):
            if ya.dtype.kind not in "iu" or xa.ndim != 2 or ya.shape != xa.shape[:1]:
                return None, "the target is not a vector of class indices, one per row"
            if not losses.labels_in_range(ya, width, self.loss_fn.ignore_index):
                return None, "a class label is out of range"
            return ya, None
        shape = xa.shape[:1] if self.chain.squeezes else (*xa.shape[:-1], width)
        if ya.dtype.kind != "f" or ya.shape != shape:
            return None, "the target is not a floating-point array shaped like the output"
        return ya, None

    def output_like(self, x) -> np.ndarray:
        """A read-only array with the shape and dtype of ``model(x)`` (no memory of that
        size), to shape targets before the step: from the plan, else a forward of one row."""
        xa = x._data if isinstance(x, Tensor) else np.asarray(x)
        if self._plan_reason is None and self._out_features is not None and xa.ndim >= 1:
            dtype = np.result_type(xa.dtype, self._last_weight._data.dtype)
            rows = xa.shape[:1] if self.chain.flattens else xa.shape[:-1]
            shape = rows if self.chain.squeezes else (*rows, self._out_features)
            return np.broadcast_to(np.zeros((), dtype), shape)
        with no_grad():
            out = self.model(Tensor._make(xa[:1], False, None))._data
        return np.broadcast_to(np.zeros((), out.dtype), (xa.shape[0], *out.shape[1:]))

    def _warn(self, message: str) -> None:
        """One warning per distinct message, on one line."""
        if message not in self._warned:
            self._warned.add(message)
            warnings.warn(f"ffnn.compile: {message}", stacklevel=4)

    def _traced_step(self, x, y) -> float:
        """The eager step, its forward recorded (``ffnn.compiler.trace``): a model with a
        ``forward`` of its own whose ops make a chain is captured from it, for the next
        calls with inputs of this shape (any batch size)."""
        tx = x if isinstance(x, Tensor) else Tensor._of(x)
        if tx.requires_grad or not is_grad_enabled():
            return self._eager(x, y, "the input requires a gradient" if tx.requires_grad
                               else "gradients are disabled (no_grad)")
        reading = trace.ForwardReading(self.model, self.loss_fn, self.optimizer)
        value = self._finish_eager(reading(tx), y)
        chain, reason = reading.step()
        current = self.chain if self._plan_reason is None else None
        if reason is None and current is not None and current.guards is not None and \
                chain.same_path(current) and chain.guards.same_values(current.guards):
            current.guards.keys |= chain.guards.keys  # another batch, the same path
            self.compiled, self.reason = False, None
            return value
        self._traces = reason is None  # traced again when the model changes (Watch)
        self._install(chain, reason)
        if reason is not None:
            self._warn(f"running the eager step: {reason}")
        self.compiled, self.reason = False, reason
        return value

    def _eager(self, x, y, reason: str) -> float:
        self._warn(f"running the eager step: {reason}")
        self.compiled, self.reason = False, reason
        return self._finish_eager(self.model(x), y)

    def _finish_eager(self, out, y) -> float:
        """The eager step's loss, backward and update after its forward gave ``out``."""
        loss = self.loss_fn(out, y)
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        self.output = getattr(out, "_data", out)  # a forward's tuple or dict as it is
        return float(loss._data)

    def __repr__(self) -> str:
        mode = "fused" if self.fused is not None else "replay"
        state = f"mode={mode!r}" if self.compiled else f"eager: {self.reason}"
        return f"CompiledStep({state})"


def fuse(chain: ChainStep, optimizer):
    """(``chain``'s fused step with ``optimizer``, None) or (None, why it cannot be fused):
    ``ffnn.compiler.fused.FusedStep``, whose module (numba) is imported only here."""
    if not accel.available:
        return None, "mode='fused' needs numba (pip install numba)"
    from ffnn.compiler.fused import FusedStep

    return FusedStep.build(chain, optimizer)


def compile(model=None, loss_fn=None, optimizer=None, *, mode: str | None = None,  # noqa: A001
            **torch_options):
    """A training step ``step(x, y) -> float`` for ``model``, ``loss_fn`` and ``optimizer``:
    ``optimizer.zero_grad(); loss_fn(model(x), y).backward(); optimizer.step()``, captured
    once and replayed (``mode``: 'replay', the default, bit for bit the eager step, or
    'fused', one numba function for small networks). Falls back to the eager step, with a
    one-line warning, for what it cannot capture. Raises TypeError/ValueError for bad
    arguments.

    PyTorch's form ``torch.compile(model, **options)`` (no loss, no optimizer; also as a
    decorator) returns ``model`` itself: ffnn runs it eagerly, so PyTorch programs that
    compile their model run unchanged.
    """
    if loss_fn is None and optimizer is None:
        return model if model is not None else (lambda fn: fn)
    if torch_options:
        raise TypeError(f"compile: unexpected keyword arguments {sorted(torch_options)} for a "
                        "training step (they belong to torch.compile's model form)")
    return CompiledStep(model, loss_fn, optimizer, "replay" if mode is None else mode)


__all__ = ["MODES", "CompiledStep", "compile", "fuse"]
