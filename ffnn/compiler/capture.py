"""What ``ffnn.compile`` can capture: a chain of layers, each mapped to the op its module runs.

A model is captured when it is a chain (a ``Sequential``, nested ones flattened, or one
supported layer) of modules whose ``forward`` is exactly one op on the previous output:
``Linear`` and the element-wise activations. Each link records the op class and the options
the module passes to it, so that a replay calls the very ``forward``/``backward`` the eager
step calls, in the same order, on the same arrays. Anything else gives a reason (a one-line
string) instead of a plan.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ffnn.nn import activation as _act
from ffnn.nn import container as _container
from ffnn.nn import linear as _linear
from ffnn.nn import loss as _loss
from ffnn.ops import activations as _act_ops
from ffnn.ops import losses as _loss_ops
from ffnn.ops import matrix as _matrix


@dataclass
class Link:
    """One op of the chain: ``op`` run on the previous output (and ``params``), with
    ``options`` as keywords; ``kind`` is 'linear' or the activation's name."""

    kind: str
    op: type
    module: Any
    params: tuple = ()
    options: dict = field(default_factory=dict)


def _linear_link(module) -> Link | str:
    """The dense op; its parameters must have the shapes the module checks inputs against."""
    shape = (module.out_features, module.in_features)
    if module.weight._data.shape != shape or (
            module.bias is not None and module.bias._data.shape != shape[:1]):
        return f"a Linear{shape[::-1]} has parameters of other shapes"
    return Link("linear", _matrix.Linear, module, (module.weight, module.bias))


def _plain(kind: str, op: type) -> Callable:
    def make(module) -> Link | str:
        if getattr(module, "inplace", False):
            return f"{type(module).__name__}(inplace=True) is not captured"
        return Link(kind, op, module)
    return make


def _leaky(module) -> Link:
    return Link("leaky_relu", _act_ops.LeakyReLU, module,
                options={"negative_slope": module.negative_slope})


def _gelu(module) -> Link:
    return Link("gelu", _act_ops.GELU, module, options={"approximate": module.approximate})


LAYERS: dict[type, Callable] = {
    _linear.Linear: _linear_link,
    _act.Tanh: _plain("tanh", _act_ops.Tanh),
    _act.ReLU: _plain("relu", _act_ops.ReLU),
    _act.Sigmoid: _plain("sigmoid", _act_ops.Sigmoid),
    _act.SiLU: _plain("silu", _act_ops.SiLU),
    _act.LeakyReLU: _leaky,
    _act.GELU: _gelu,
}
"""Module class (exact type: a subclass may override ``forward``) → its link."""


def capture_chain(model) -> tuple[list[Link] | None, str | None]:
    """(links, None) for a capturable model, else (None, the reason)."""
    links: list[Link] = []
    stack = [model]
    while stack:
        module = stack.pop()
        if "_forward_hooks" in module.__dict__ or "_forward_pre_hooks" in module.__dict__:
            return None, f"{type(module).__name__} has forward hooks"
        if type(module) is _container.Sequential:
            stack.extend(reversed([m for m in module._modules.values() if m is not None]))
            continue
        if type(module) is _linear.Identity:
            continue
        make = LAYERS.get(type(module))
        if make is None:
            return None, f"module {type(module).__name__} is not supported"
        link = make(module)
        if isinstance(link, str):
            return None, link
        links.append(link)
    if not links:
        return None, "the model has no layer to capture"
    seen: set[int] = set()
    for link in links:
        for param in link.params:
            if param is not None and id(param) in seen:
                return None, "a parameter is used by two layers (shared weights)"
            if param is not None:
                seen.add(id(param))
    return links, None


@dataclass
class LossSpec:
    """The loss op and its options; ``target``: 'float' (same shape, cast to the output's
    dtype) or 'indices' (int64 class indices [N])."""

    op: type
    options: dict
    target: str
    ignore_index: int | None = None


def capture_loss(loss_fn) -> tuple[LossSpec | None, str | None]:
    """(spec, None) for a supported loss module, else (None, the reason)."""
    kind = type(loss_fn)
    if getattr(loss_fn, "reduction", "mean") not in ("mean", "sum"):
        return None, f"{kind.__name__}(reduction={loss_fn.reduction!r}) gives no scalar loss"
    if "_forward_hooks" in getattr(loss_fn, "__dict__", {}) or \
            "_forward_pre_hooks" in getattr(loss_fn, "__dict__", {}):
        return None, f"{kind.__name__} has forward hooks"
    if kind is _loss.MSELoss:
        return LossSpec(_loss_ops.MSELoss, {"reduction": loss_fn.reduction}, "float"), None
    if kind is _loss.BCEWithLogitsLoss:
        if loss_fn.weight is not None or loss_fn.pos_weight is not None:
            return None, "BCEWithLogitsLoss with weight or pos_weight is not captured"
        return LossSpec(_loss_ops.BCEWithLogitsLoss, {"reduction": loss_fn.reduction},
                        "float"), None
    if kind is _loss.CrossEntropyLoss:
        if loss_fn.weight is not None:
            return None, "CrossEntropyLoss with class weights is not captured"
        options = {"weight": None, "ignore_index": loss_fn.ignore_index,
                   "reduction": loss_fn.reduction, "label_smoothing": loss_fn.label_smoothing}
        return LossSpec(_loss_ops.CrossEntropyIndices, options, "indices",
                        loss_fn.ignore_index), None
    return None, f"loss {getattr(kind, '__name__', kind)} is not supported"
