"""The training step of a plain chain without building the graph: an engine optimisation.

A ``Sequential`` of ``Linear`` layers and element-wise activations, trained with a plain
loss, is a fixed chain, so its backward order is known before the step. :class:`ChainStep`
runs the very ``ffnn.ops`` Functions the graph would record, their own ``forward`` and
``backward`` (where the derivatives are written), in that order, and skips what only a
general graph needs (a Tensor per output, the topological sort, the leaf bookkeeping).
Each parameter's ``.grad`` receives what ``backward()`` would give it, bit for bit.

:meth:`ChainStep.build` says None, and the caller uses the graph, for anything else: a
subclassed or hooked module or loss, dropout, normalisation, frozen or shared parameters,
an unsupported loss option. :meth:`ChainStep.usable` re-checks per batch what may change
between batches (``requires_grad``, hooks, grad mode, the input's dtype and shape); the loss
declines targets it does not take (out-of-range labels, other shapes), so the graph raises
its own error. The :class:`~ffnn.train.Trainer` uses it whenever it applies.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ffnn import autograd, nn
from ffnn.nn import traits
from ffnn.ops import losses, matrix

LossStep = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]
"""out [n, k] → (the loss as a 0-d array, d loss / d out)."""

LOSSES: dict[type, Callable] = {}
"""Loss class → ``make(loss, target) -> LossStep | None`` (None: this target needs the graph)."""


def register_loss(cls: type, make: Callable) -> None:
    """Let the fast step train with losses of exactly class ``cls``: ``make(loss, target)``
    returns a :data:`LossStep` computing what ``loss(out, target)`` and its backward compute,
    with the same ops, or None for a target it does not take."""
    LOSSES[cls] = make


def loss_backward(fn, out: np.ndarray, *args, scale=None, **options) -> tuple:
    """``fn().forward(out, *args, **options)`` and its backward from a seed of 1 (or of
    ``scale``, multiplying the value: the graph's product by a constant); (value, dL/dout)."""
    op = fn()
    op.needs_input_grad = (True,) + (False,) * len(args)
    value = op.forward(out, *args, **options)
    seed = np.ones((), out.dtype) if scale is None else np.asarray(scale, out.dtype)
    if scale is not None:
        value = value * seed
    return value, op.backward(seed)[0]


def _cross_entropy(loss, target: np.ndarray) -> LossStep | None:
    """``nn.CrossEntropyLoss()`` with class indices in range: ``F.cross_entropy``'s op."""
    if (loss.weight is not None or loss.label_smoothing or loss.reduction != "mean"
            or target.ndim != 1 or target.dtype.kind not in "iu"):
        return None

    def step(out: np.ndarray):
        if (out.ndim != 2 or target.shape[0] != out.shape[0] or target.size == 0
                or target.min() < 0 or target.max() >= out.shape[1]):
            return None
        return loss_backward(losses.CrossEntropyIndices, out, target,
                             ignore_index=loss.ignore_index, reduction="mean")

    return step


def _mse(loss, target: np.ndarray) -> LossStep | None:
    """``nn.MSELoss()`` against a float target of the output's shape: ``F.mse_loss``'s op."""
    if loss.reduction != "mean" or target.dtype.kind != "f":
        return None

    def step(out: np.ndarray):
        if target.shape != out.shape:
            return None
        return loss_backward(losses.MSELoss, out, target.astype(out.dtype, copy=False),
                             reduction="mean")

    return step


register_loss(nn.CrossEntropyLoss, _cross_entropy)
register_loss(nn.MSELoss, _mse)

class ChainStep:
    """Forward and backward of ``model`` (a chain of ``Linear`` and activation modules) and
    ``loss``, accumulating into each parameter's ``.grad`` as ``backward()`` does."""

    def __init__(self, model, loss, layers: list[tuple[type, object, dict]]):
        self.model, self.loss = model, loss
        self.layers = layers  # (Function class, the nn.Linear or None, options)
        self.module_dicts = [vars(m) for m in (model, loss, *model)]
        self.params = [p for _, linear, _ in layers if linear is not None
                       for p in (linear.weight, linear.bias) if p is not None]

    @classmethod
    def build(cls, model, loss) -> ChainStep | None:
        """The step for ``model`` and ``loss``, or None when they are not a plain chain of
        ``nn.Linear`` and activations declaring their ``op`` (``ffnn.nn.traits``; ``nn.Identity``
        skipped)
        ending in a loss of :data:`LOSSES`."""
        if type(model) is not nn.Sequential or type(loss) not in LOSSES:
            return None
        layers, seen = [], set()
        for module in model:
            kind = type(module)
            if kind is nn.Linear:
                layers.append((matrix.Linear, module, {}))
            elif (declared := traits.of(module)) is not None and declared.op is not None \
                    and not getattr(module, "inplace", False):
                options = declared.op_options(module) if declared.op_options else {}
                layers.append((declared.op, None, options))
            elif kind is not nn.Identity:
                return None
            if id(module) in seen:
                return None
            seen.add(id(module))
        step = cls(model, loss, layers)
        if not layers or layers[0][0] is not matrix.Linear or \
                len(step.params) != len(list(model.parameters())):
            return None
        return step if step.usable_dtype() is not None else None

    def usable_dtype(self) -> np.dtype | None:
        """The parameters' one floating dtype, or None."""
        dtypes = {p._data.dtype for p in self.params}
        dtype = dtypes.pop() if len(dtypes) == 1 else None
        return dtype if dtype is not None and dtype.kind == "f" else None

    def usable(self, x: np.ndarray) -> bool:
        """Whether this batch can take the step: grad mode on, every parameter trainable and
        without a gradient hook, no module hooks, ``x`` [n, in_features] of the weights' dtype."""
        first = self.layers[0][1]
        if (not autograd.is_grad_enabled() or x.ndim != 2 or x.shape[1] != first.in_features
                or x.dtype != first.weight._data.dtype):
            return False
        for attributes in self.module_dicts:  # as Module.__call__ checks for hooks
            if "_forward_hooks" in attributes or "_forward_pre_hooks" in attributes:
                return False
        for param in self.params:
            if not param.requires_grad or "_grad_hooks" in param.__dict__:
                return False
        return True

    def forward(self, x: np.ndarray) -> tuple[np.ndarray, list]:
        """The chain's output for ``x`` and the Functions that computed it (for backward)."""
        done, out = [], x
        for op, linear, options in self.layers:
            fn = op()
            if linear is not None:
                bias = linear.bias
                fn.needs_input_grad = (bool(done), True, bias is not None)
                out = fn.forward(out, linear.weight._data, None if bias is None else bias._data)
            else:
                fn.needs_input_grad = (True,)
                out = fn.forward(out, **options)
            done.append((fn, linear))
        return out, done

    def backward(self, out: np.ndarray, done: list, target: np.ndarray) -> np.ndarray | None:
        """The loss of ``out`` against ``target`` (0-d) after accumulating every parameter's
        gradient; None, touching nothing, when the loss does not take this target."""
        make = LOSSES[type(self.loss)](self.loss, target)
        result = make(out) if make is not None else None
        if result is None:
            return None
        value, grad = result
        for fn, linear in reversed(done):
            grads = fn.backward(grad)
            if not isinstance(grads, tuple):
                grads = (grads,)
            grad = grads[0]
            if linear is not None:
                _accumulate(linear.weight, grads[1])
                if linear.bias is not None:
                    _accumulate(linear.bias, grads[2])
        return value


def _accumulate(param, grad: np.ndarray) -> None:
    """``param.grad += grad``, or ``grad`` itself when there is none (owning its memory)."""
    if param._grad is None:
        param._grad = grad.copy() if grad.base is not None or not grad.flags.writeable else grad
    else:
        param._grad += grad
