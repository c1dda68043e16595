"""One capture of a plain chain, and its training step without the graph.

A ``Sequential`` (nested ones flattened) of ``nn.Linear`` layers, element-wise activations and
layer norms declaring their ``op`` (``ffnn.nn.traits``), dropout and batch norm (their
modules' options read at each call, as their ``forward`` reads them: dropout's stream, batch
norm's running statistics), after an optional ``nn.Flatten()`` (which takes batches [n, ...]
as [n, features]), trained with a loss of :data:`LOSSES`, is a fixed chain, so its backward
order is known before the step.
:class:`ChainStep` runs the very ``ffnn.ops`` Functions the graph would record, their own
``forward`` and ``backward`` (where the derivatives are written), in that order, with the
``needs_input_grad`` flags ``Op.apply`` would set, and skips what only a general graph needs
(a Tensor per output, the topological sort, the leaf bookkeeping); where the eager step
runs the model's leading ``Sequential`` as a native chain (``ffnn.compiler.native_chain``),
so does the chain step. Each parameter's ``.grad`` receives what ``backward()`` would give
it, bit for bit.

:meth:`ChainStep.capture` gives a one-line reason instead of a step for anything else: a
subclassed or hooked module or loss, in-place dropout, shared parameters, an unsupported
loss. The loss declines targets it does not take (out-of-range labels, other shapes), so
the graph raises its own error (dropout's streams and batch norm's running statistics are
put back first); ``takes`` declines a batch norm in eval mode or a batch of one row. Users:
the :class:`~ffnn.train.Trainer` (its engine fast step, :meth:`ChainStep.build`),
``ffnn.compile`` (replay and fused modes).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from operator import attrgetter

import numpy as np

from ffnn import autograd, nn
from ffnn.compiler.watch import hooked
from ffnn.nn import chain_call, traits
from ffnn.nn.chain_layers import (
    BATCH_NORM_MODULE,
    DROPOUT_MODULE,
    batch_norm_buffers,
    batch_norm_options,
    batch_statistics,
    dropout_options,
    flatten_reason,
    hooked_module,
    layer_of,
)
from ffnn.ops import losses
from ffnn.ops.shape import FlattenFeatures
from ffnn.tensor import Tensor

LossStep = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]
"""out [n, k] → (the loss as a 0-d array, d loss / d out)."""

LOSSES: dict[type, Callable] = {}
"""Loss class → ``make(loss, target) -> LossStep | None`` (None: this target needs the graph)."""

FUSED_LOSSES: dict[type, Callable] = {}
"""Loss class → ``describe(loss) -> (kind, mean, factor) | None``: the loss is ``factor`` times
the ``kind`` loss ('mse', 'cross_entropy', 'bce_with_logits' or 'bce', without options), averaged
when ``mean`` else summed, so the fused step (``ffnn.compiler.fused``) computes it; None: it
cannot."""

REDUCTIONS = ("mean", "sum")
_requires_grad = attrgetter("requires_grad")


def register_loss(cls: type, make: Callable, fused: Callable | None = None) -> None:
    """Let the chain step train with losses of exactly class ``cls``: ``make(loss, target)``
    returns a :data:`LossStep` computing what ``loss(out, target)`` and its backward compute,
    with the same ops, or None for a target it does not take. ``fused``: the loss's
    description for the fused step (:data:`FUSED_LOSSES`)."""
    LOSSES[cls] = make
    if fused is not None:
        FUSED_LOSSES[cls] = fused


def _plain(kind: str, *options: str) -> Callable:
    """The fused description of a built-in loss: ``kind`` with its reduction, None when it
    has one of ``options`` set (class weights, label smoothing)."""
    def describe(loss) -> tuple | None:
        values = [getattr(loss, name, None) for name in options]
        if loss.reduction not in REDUCTIONS or \
                any(v is not None and not (isinstance(v, float) and v == 0.0) for v in values):
            return None
        return kind, loss.reduction == "mean", 1.0

    return describe


def loss_backward(fn, out: np.ndarray, *args, scale=None, **options) -> tuple:
    """``fn().forward(out, *args, **options)`` and its backward from a seed of 1 (or of
    ``scale``, multiplying the value: the graph's product by a constant); (value, dL/dout)."""
    op = fn()
    op.needs_input_grad = (True,) + (False,) * len(args)
    value = op.forward(out, *args, **options)
    seed = _unit(out.dtype) if scale is None else np.asarray(scale, out.dtype)
    if scale is not None:
        value = value * seed
    return value, op.backward(seed)[0]


def _unit(dtype: np.dtype) -> np.ndarray:
    """A read-only 0-d one of ``dtype``, the backward's seed (made once per dtype)."""
    one = _UNITS.get(dtype)
    if one is None:
        one = _UNITS[dtype] = np.ones((), dtype)
        one.flags.writeable = False
    return one


_UNITS: dict[np.dtype, np.ndarray] = {}


def _class_indices(op: type, *names: str) -> Callable:
    """A loss of [n, c] outputs against class indices in range (or ``ignore_index``): ``op``
    with the loss's class weights (``_class_weight``), ``ignore_index``, reduction and the
    attributes ``names``, as its functional form calls it."""

    def make(loss, target: np.ndarray) -> LossStep | None:
        if loss.reduction not in REDUCTIONS or target.ndim != 1 or target.dtype.kind not in "iu":
            return None

        def step(out: np.ndarray):
            if out.ndim != 2 or target.shape[0] != out.shape[0] or target.size == 0:
                return None
            if not losses.labels_in_range(target, out.shape[1], loss.ignore_index):
                return None
            weight = _weight_array(loss.weight, out, (out.shape[1],))
            if weight is _REFUSED:
                return None
            return loss_backward(op, out, target, weight=weight, ignore_index=loss.ignore_index,
                                 reduction=loss.reduction,
                                 **{name: getattr(loss, name) for name in names})

        return step

    return make


_REFUSED = object()
"""A weight the functional form would raise for (the graph then raises its own error)."""


def _weight_array(value, out: np.ndarray, shape: tuple | None = None):
    """A loss's weight as its functional form hands it to the op: None, or its array cast to
    the output's dtype, of exactly ``shape`` (class weights) or else broadcasting against
    the output (``_REFUSED`` otherwise)."""
    if value is None:
        return None
    array = np.asarray(value._data if isinstance(value, Tensor) else value,
                       dtype=out.dtype)
    if shape is not None:
        return array if array.shape == shape else _REFUSED
    try:
        np.broadcast_shapes(array.shape, out.shape)
    except ValueError:
        return _REFUSED
    return array


def _float_target(op: type, *, read: Callable | None = None, takes: Callable | None = None,
                  weights: tuple[str, ...] = ()) -> Callable:
    """A loss against a float target of the output's shape, cast to the output's dtype, with
    the loss's arrays ``weights`` (``weight``, ``pos_weight``: broadcasting against the
    output, ``_weight_array``); ``read(loss)``: the op's other options, None where the
    functional form would raise (the graph then raises); ``takes(out)``: whether the
    functional form takes this output (it raises otherwise)."""

    def make(loss, target: np.ndarray) -> LossStep | None:
        if loss.reduction not in REDUCTIONS or target.dtype.kind != "f":
            return None
        extra = {} if read is None else read(loss)
        if extra is None:
            return None

        def step(out: np.ndarray):
            if target.shape != out.shape or (takes is not None and not takes(out)):
                return None
            arrays = {name: _weight_array(getattr(loss, name), out) for name in weights}
            if any(a is _REFUSED for a in arrays.values()):
                return None
            return loss_backward(op, out, target.astype(out.dtype, copy=False),
                                 reduction=loss.reduction, **arrays, **extra)

        return step

    return make


def _huber_delta(loss) -> dict | None:
    return {"delta": loss.delta} if loss.delta > 0 else None  # F.huber_loss raises for ≤ 0


def _probabilities(out: np.ndarray) -> bool:
    """F.binary_cross_entropy's check of its input (NaN aside): every value in [0, 1]."""
    return not out.size or not (np.nanmin(out) < 0 or np.nanmax(out) > 1)


def _smooth_l1(loss, target: np.ndarray) -> LossStep | None:
    """``F.smooth_l1_loss``: the L1 loss for β = 0, else the Huber loss with δ = β divided by
    β (its graph's division: the value / β, the Huber backward seeded with 1 / β)."""
    if loss.beta == 0:
        return _float_target(losses.L1Loss)(loss, target)
    if loss.reduction not in REDUCTIONS or target.dtype.kind != "f" or loss.beta < 0:
        return None

    def step(out: np.ndarray):
        if target.shape != out.shape:
            return None
        beta = np.asarray(loss.beta, out.dtype)
        op = losses.HuberLoss()
        op.needs_input_grad = (True, False)
        value = op.forward(out, target.astype(out.dtype, copy=False), reduction=loss.reduction,
                           delta=loss.beta)
        return value / beta, op.backward(_unit(out.dtype) / beta)[0]

    return step


register_loss(nn.CrossEntropyLoss,
              _class_indices(losses.CrossEntropyIndices, "label_smoothing"),
              _plain("cross_entropy", "weight", "label_smoothing"))
register_loss(nn.MSELoss, _float_target(losses.MSELoss), _plain("mse"))
register_loss(nn.BCEWithLogitsLoss,
              _float_target(losses.BCEWithLogitsLoss, weights=("weight", "pos_weight")),
              _plain("bce_with_logits", "weight", "pos_weight"))
register_loss(nn.NLLLoss, _class_indices(losses.NLLLoss))  # after a LogSoftmax
register_loss(nn.L1Loss, _float_target(losses.L1Loss))
register_loss(nn.HuberLoss, _float_target(losses.HuberLoss, read=_huber_delta))
register_loss(nn.SmoothL1Loss, _smooth_l1)
register_loss(nn.BCELoss, _float_target(losses.BCELoss, takes=_probabilities, weights=("weight",)),
              _plain("bce", "weight"))  # fused after a closing sigmoid only


def loss_reason(loss) -> str | None:
    """Why the step cannot replay ``loss`` (not one of :data:`LOSSES`, hooked, no scalar),
    or None."""
    name = type(loss).__name__
    if type(loss) not in LOSSES:
        return f"loss {name} is not supported"
    if hooked_module(loss):
        return f"{name} has forward hooks"
    if getattr(loss, "reduction", "mean") not in REDUCTIONS:
        return f"{name}(reduction={loss.reduction!r}) gives no scalar loss"
    return None


def changed_call_reason(module) -> str | None:
    """Why calling ``module`` runs more than its class's ``forward`` (forward hooks, a
    ``forward`` set on the instance), which a replay would skip; or None."""
    if hooked_module(module):
        return f"{type(module).__name__} has forward hooks"
    if "forward" in vars(module):
        return f"{type(module).__name__} has a forward set on the instance"
    return None


def walk(model) -> tuple[list, list] | str:
    """(every module, the layers in order) of a chain, or the reason it is not one."""
    modules, layers, stack = [], [], [model]
    while stack:
        module = stack.pop()
        reason = changed_call_reason(module)
        if reason is not None:
            return reason
        if not any(module is seen for seen in modules):
            modules.append(module)
        elif vars(module)["_parameters"] or vars(module)["_buffers"]:
            return "a layer is used twice (shared weights)"  # an activation may be
        if type(module) is nn.Sequential:
            stack.extend(reversed([m for m in module._modules.values() if m is not None]))
            continue
        layer = layer_of(module, layers[-1][0] if layers else None)
        if isinstance(layer, str):
            return layer
        if layer is not None:
            layers.append(layer)
    reason = layers_reason(layers)
    return reason if reason is not None else (modules, layers)


def layers_reason(layers: list) -> str | None:
    """Why ``layers`` (``layer_of``'s, in order) are not a chain the step replays (a Flatten
    after the first layer, no Linear layer first, a layer of another width), or None."""
    reason = flatten_reason(layers)
    if reason is not None:
        return reason
    first = layers[1:2] if layers and layers[0][0] is FlattenFeatures else layers[:1]
    if not first or type(first[0][1]) is not nn.Linear:
        return "the chain does not start with a Linear layer"
    return _widths(layers)


def _widths(layers: list) -> str | None:
    """Why a layer with parameters does not take the width that reaches it (the eager step
    then raises its own error), or None."""
    width = None
    for _, module, _ in layers:
        if type(module) is nn.Linear:
            width = module.out_features
        elif type(module) is nn.BatchNorm1d and module.num_features != width:
            return f"BatchNorm1d({module.num_features}) after a layer of {width} features"
        elif module is not None:
            shapes = {p._data.shape for p in vars(module)["_parameters"].values()
                      if p is not None}
            if shapes - {(width,)}:
                return (f"{type(module).__name__} has parameters of shapes {sorted(shapes)} "
                        f"after a layer of {width} features")
    return None


class ChainStep:
    """Forward and backward of ``model`` (a chain of ``Linear``, activation and layer-norm
    modules) and ``loss``, accumulating into each parameter's ``.grad`` as ``backward()``
    does.

    ``layers``: (op class, the module holding its parameters or None, options) per op in
    order; ``needs``: each op's ``needs_input_grad`` as ``Op.apply`` sets it (from
    ``requires_grad`` at capture); ``params``: the parameters in layer order.
    """

    def __init__(self, model, loss, modules: list, layers: list[tuple[type, object, dict]]):
        self.model, self.loss, self.layers, self.modules = model, loss, layers, modules
        self.module_dicts = [vars(m) for m in (loss, *modules)]
        self.params = [p for _, linear, _ in layers if linear is not None
                       for p in (linear.weight, linear.bias) if p is not None]
        self.param_dicts = [vars(p) for p in self.params]
        self.registries = [None if linear is None else vars(linear)["_parameters"]
                           for _, linear, _ in layers]  # read live, without Module.__getattr__
        self.needs, flowing = [], False
        for _, linear, _ in layers:
            flags = (flowing,) if linear is None else (
                flowing, linear.weight is not None and linear.weight.requires_grad,
                linear.bias is not None and linear.bias.requires_grad)
            self.needs.append(flags)
            flowing = any(flags)
        self.flowing = flowing
        self.leading = model
        """The ``Sequential`` whose leading layers the eager step may run as a native chain
        (``_native_block``), or None."""
        self.traced_shape: tuple | None = None
        """A chain read from a call (``from_trace``): the input's shape after the batch
        dimension then (another may take another path through the forward)."""
        self.flattens = layers[0][0] is FlattenFeatures
        """Whether the chain starts with ``nn.Flatten()``: it takes [n, ...] inputs."""
        self.squeezes = False
        """Whether the forward ends by reshaping the [n, 1] output to [n] (``from_trace``):
        the loss then compares [n] arrays, and the gradient goes back as [n, 1]."""
        self.cast: np.dtype | None = None
        """The floating dtype the forward casts its input to first (``x.float()``, read by
        ``from_trace``), or None: ``forward`` casts x so."""
        self.guards = None
        """A chain read from a call: what its forward's path depended on then
        (``ffnn.compiler.guards.ForwardGuards``), or None."""
        self._streams: list = []  # (generator, its state before this forward's dropout)
        self.batch_norms = [o[BATCH_NORM_MODULE] for _, _, o in layers if BATCH_NORM_MODULE in o]
        self._statistics: list = []  # batch norms' running statistics before this forward
        optioned = [m for m in modules if type(m) is nn.Flatten or (
            (declared := traits.of(m)) is not None and declared.op_options
            and type(m) is not nn.BatchNorm1d)]
        self.option_tables = [vars(loss), *map(vars, optioned)]
        """The attributes of the loss and of each layer with options (an activation's slope, a
        norm's eps), as their ``forward`` reads them: ``ffnn.compile`` captures again when one
        of them is another object than at capture (``compiler.watch``)."""

    @classmethod
    def capture(cls, model, loss) -> tuple[ChainStep | None, str | None]:
        """(the step, None) for a chain and a loss of :data:`LOSSES`, else (None, why)."""
        reason = loss_reason(loss)
        if reason is not None:
            return None, reason
        if not isinstance(model, nn.Module):
            return None, f"model {type(model).__name__} is not supported"
        walked = walk(model)
        if isinstance(walked, str):
            return None, walked
        return cls(model, loss, *walked).checked()

    @classmethod
    def from_trace(cls, model, loss, modules: list, layers: list, leading, shape: tuple,
                   squeezes: bool = False,
                   cast: np.dtype | None = None) -> tuple[ChainStep | None, str | None]:
        """As ``capture``, for the layers ``ffnn.compiler.trace`` read from one call of a
        model with a ``forward`` of its own on an input of ``shape`` after its batch
        dimension (``leading``: the ``Sequential`` that got the input, whose native chain
        the eager step runs, or None; ``squeezes``: the forward's output is [n], its last
        layer's [n, 1]; ``cast``: the dtype the forward casts its input to first, as
        ``x.float()``). Every attribute of every module is then an option: its forward may
        read any of them; ``takes`` only inputs of that shape."""
        reason = loss_reason(loss)
        if reason is None and squeezes and type(loss) in (nn.CrossEntropyLoss, nn.NLLLoss):
            reason = f"{type(loss).__name__} of the [n] output of a closing squeeze"
        if reason is not None:
            return None, reason
        step = cls(model, loss, modules, layers)
        step.leading, step.traced_shape, step.squeezes = leading, tuple(shape), squeezes
        step.cast = cast
        if cast is not None and cast != step.usable_dtype():
            return None, f"the forward casts its input to {cast}, not the parameters' dtype"
        step.option_tables = [vars(loss), *map(vars, modules)]
        return step.checked()

    def checked(self) -> tuple[ChainStep | None, str | None]:
        """(self, None), or (None, why the step cannot replay the model's parameters)."""
        used = {id(p) for p in self.params}
        if len(used) != len(self.params):
            return None, "a parameter is used by two layers (shared weights)"
        if len(used) != len(list(self.model.parameters())):
            return None, "a parameter of the model is not used by its chain of layers"
        if any("_grad_hooks" in vars(p) or "_post_accumulate_grad_hooks" in vars(p)
               for p in self.params):
            return None, "a parameter has gradient hooks"
        if self.usable_dtype() is None:
            return None, "the parameters are not all of one floating dtype"
        if not self.flowing:
            return None, "no parameter requires a gradient"
        return self, None

    @classmethod
    def build(cls, model, loss) -> ChainStep | None:
        """The Trainer's engine fast step: the captured chain when every parameter is
        trainable and the loss is averaged ('mean') without label smoothing, else None (the
        Trainer's graph trains those, as its tests pin)."""
        step, _ = cls.capture(model, loss)
        return step if step is not None and step.trainer_takes() else None

    def trainer_takes(self) -> bool:
        """Whether the Trainer's engine takes this step: every parameter trainable, the loss
        averaged ('mean') without label smoothing."""
        return getattr(self.loss, "reduction", "mean") == "mean" and \
            not getattr(self.loss, "label_smoothing", 0.0) and \
            all(p.requires_grad for p in self.params)

    def train(self) -> None:
        """``model.train()`` for the captured modules (every module of the chain), without
        walking the model again."""
        for module in self.modules:
            object.__setattr__(module, "training", True)

    def usable_dtype(self) -> np.dtype | None:
        """The parameters' one floating dtype, or None."""
        dtypes = {p._data.dtype for p in self.params}
        dtype = dtypes.pop() if len(dtypes) == 1 else None
        return dtype if dtype is not None and dtype.kind == "f" else None

    def takes(self, x: np.ndarray) -> bool:
        """Grad mode on, ``x`` [n, in_features] (after a leading Flatten: [n, ...] of
        in_features values a row) of the weights' dtype, and every batch norm about to use
        the batch's statistics (training mode, n > 1: else its forward is another
        computation, or raises)."""
        if self.traced_shape is not None and not self.trace_holds(x):
            return False
        weight = self.registries[self.flattens]["weight"]._data
        features = math.prod(x.shape[1:]) if self.flattens and x.ndim > 2 else \
            x.shape[-1] if x.ndim == 2 else None
        return (autograd._grad_enabled and features == weight.shape[1]
                and (x.dtype == weight.dtype or self.cast is not None)
                and (not (self.batch_norms or self.squeezes)
                     or self.rows_reason(x.shape[0]) is None))

    def trace_holds(self, x: np.ndarray) -> bool:
        """For a chain read from a call: whether the input ``x`` takes the path the forward
        took then (its shape after the batch dimension, the guards)."""
        return x.shape[1:] == self.traced_shape and x.ndim > 0 and (
            self.guards is None or self.guards.holds(x))

    def same_path(self, other: ChainStep) -> bool:
        """Whether ``other``, another reading of the same forward, runs the same layers
        with the same options on inputs of the same shape."""
        return (self.traced_shape == other.traced_shape and self.leading is other.leading
                and self.squeezes == other.squeezes and _same_dtype(self.cast, other.cast)
                and len(self.layers) == len(other.layers)
                and all(a[0] is b[0] and a[1] is b[1] and _same_options(a[2], b[2])
                        for a, b in zip(self.layers, other.layers)))

    def rows_reason(self, n: int) -> str | None:
        """Why the chain cannot be replayed on ``n`` rows, or None: a batch norm in eval mode
        (its forward normalises with the running statistics instead) or of one row (it
        raises); one row through a closing squeeze (``.squeeze()`` would give a 0-d
        output, ``.squeeze(1)`` one of [1]: the same record)."""
        if self.squeezes and n <= 1:
            return "one row through the forward's closing squeeze"
        if not all(map(batch_statistics, self.batch_norms)):
            return "a BatchNorm1d is in eval mode"
        if self.batch_norms and n <= 1:
            return "a BatchNorm1d gets one row per channel"
        return None

    def intact(self) -> bool:
        """Every parameter trainable and without a gradient hook, no module hooks, as at
        capture. (C-level ``map``s: this can run before every batch.)"""
        return (not hooked(self.module_dicts, self.param_dicts)
                and all(map(_requires_grad, self.params)))

    def forward(self, x: np.ndarray) -> tuple[np.ndarray, list]:
        """The chain's output for ``x`` and the Functions that computed it (for backward),
        in order: first, where the eager step runs its leading ``Sequential`` as a native
        chain (``ffnn.compiler.native_chain``), (None, (that chain, what it saved, its
        parameters)); the random streams dropout drew from, as they were before
        (``_streams``)."""
        if self.cast is not None:
            x = x.astype(self.cast, copy=False)
        done, out, start = [], x, 0
        self._streams = []
        self._statistics = [(m, _running(m)) for m in self.batch_norms]
        block = self._native_block()
        if block is not None and block[0].takes(x):
            native, start, owners = block
            out, saved = native.forward(x, self._call_options(self.layers[:start]))
            done.append((None, (native, saved, owners)))
        for (op, _, options), flags, params in zip(self.layers[start:], self.needs[start:],
                                                   self.registries[start:]):
            if BATCH_NORM_MODULE in options:
                options = batch_norm_options(options[BATCH_NORM_MODULE])
            if DROPOUT_MODULE in options:
                options = dropout_options(options[DROPOUT_MODULE])
                if options is None:  # eval mode or p = 0: the identity, as F.dropout
                    continue
                rng = options["rng"]
                if all(rng is not seen for seen, _ in self._streams):
                    self._streams.append((rng, rng.bit_generator.state))
            fn = op()
            fn.needs_input_grad = flags
            if params is not None:
                weight, bias = params.get("weight"), params.get("bias")
                out = fn.forward(out, None if weight is None else weight._data,
                                 None if bias is None else bias._data, **options)
            else:
                out = fn.forward(out, **options)
            done.append((fn, params))
        return (out.reshape(out.shape[0]) if self.squeezes else out), done

    def backward(self, out: np.ndarray, done: list, target: np.ndarray) -> np.ndarray | None:
        """The loss of ``out`` against ``target`` (0-d) after accumulating every trainable
        parameter's gradient; None, touching nothing, when the loss does not take this
        target."""
        make = LOSSES[type(self.loss)](self.loss, target)
        result = make(out) if make is not None else None
        if result is None:  # the caller runs the eager step: dropout's draws and batch norm's
            for rng, state in self._streams:  # running statistics are undone first
                rng.bit_generator.state = state
            for module, saved in self._statistics:
                _restore_running(module, saved)
            return None
        value, grad = result
        if self.squeezes:  # the gradient of the [n] output, as the last layer's [n, 1]
            grad = grad.reshape(-1, 1)
        for fn, params in reversed(done):
            if fn is None:  # the leading native chain: its parameters' gradients at once
                native, saved, owners = params
                needs = tuple([p is not None and p.requires_grad for p in owners])
                for param, found in zip(owners, native.backward(saved, grad, needs)):
                    if found is not None:
                        _accumulate(param, found)
                break
            needs = fn.needs_input_grad
            grads = fn.backward(grad)
            if not isinstance(grads, tuple):
                grads = (grads,)
            if params is not None:
                if needs[1]:
                    _accumulate(params["weight"], grads[1])
                if needs[2]:
                    _accumulate(params["bias"], grads[2])
            if not needs[0]:
                break
            grad = grads[0]
        return value

    def _native_block(self) -> tuple | None:
        """(the native chain, the number of leading layers it runs, their parameters) where
        the eager step runs them as one: the model's ``Sequential`` that gets the input
        (the model itself, or its first child, nested) runs as one node of the graph
        (``chain_call``) and its layers make a native chain, the very one, so that both
        compute the same bits (frozen parameters too: no gradient computed for them, as
        there); else None."""
        first = self.leading
        while True:
            if not isinstance(first, nn.Sequential) or \
                    type(first).forward is not nn.Sequential.forward:
                return None
            leading = chain_call.layers_of(first)
            if leading is not None:
                break
            first = next(iter(first._modules.values()), None)
        count = len(leading)
        if [layer[0] for layer in self.layers[:count]] != [layer[0] for layer in leading]:
            return None
        layers, params, owners, ends = [], [], [], []
        for index, ((op, owner, options), registry) in enumerate(
                zip(self.layers[:count], self.registries)):
            if DROPOUT_MODULE in options and dropout_options(options[DROPOUT_MODULE]) is None:
                continue  # the identity now: left out, as the eager node leaves it
            layers.append((op, owner is not None, options))  # a call's options: at forward
            ends.append(index + 1)
            if registry is not None:
                weight, bias = registry.get("weight"), registry.get("bias")
                if weight is None:
                    return None
                params += [weight._data, None if bias is None else bias._data]
                owners += [weight, bias]
        native = chain_call.native_chain(self, layers, params)
        if native is None:
            return None
        # the layers after its leading ones run one by one, as in the eager node
        runs = count if native.count == len(layers) else ends[native.count - 1]
        return native, runs, owners[:len(native.params)]

    def _call_options(self, layers: list) -> list:
        """``layers`` as the eager node gives them to a native chain, with this call's
        options: each batch norm's module (the chain counts its batch and updates its
        running statistics), each active dropout's (its stream, whose state is kept in
        ``_streams``); an inactive dropout left out."""
        found = []
        for op, owner, options in layers:
            if BATCH_NORM_MODULE in options:  # counted and updated by the chain
                found.append((op, True, options))
            elif DROPOUT_MODULE in options:
                options = dropout_options(options[DROPOUT_MODULE])
                if options is None:
                    continue
                rng = options["rng"]
                if all(rng is not seen for seen, _ in self._streams):
                    self._streams.append((rng, rng.bit_generator.state))
                found.append((op, False, options))
            else:
                found.append((op, owner is not None, options))
        return found


def _running(module) -> tuple:
    """Copies of a batch norm's running statistics and count (None without them)."""
    if not module.track_running_stats:
        return None
    return tuple(a.copy() for a in batch_norm_buffers(module))


def _restore_running(module, saved) -> None:
    if saved is not None:
        for target, value in zip(batch_norm_buffers(module), saved):
            target[...] = value


def _accumulate(param, grad: np.ndarray) -> None:
    """``param.grad += grad``, or ``grad`` itself when there is none (owning its memory, in
    the parameter's dtype)."""
    if grad.dtype != param._data.dtype:
        grad = grad.astype(param._data.dtype)
    if param._grad is None:
        param._grad = grad.copy() if grad.base is not None or not grad.flags.writeable else grad
    else:
        param._grad += grad


__all__ = ["FUSED_LOSSES", "LOSSES", "ChainStep", "LossStep", "loss_backward", "register_loss"]


def _same_options(first: dict, second: dict) -> bool:
    """Whether two layers' options are the same objects or equal numbers and strings."""
    return first.keys() == second.keys() and all(
        a is b or type(a) is type(b) and isinstance(a, (int, float, str, tuple)) and a == b
        for a, b in ((first[k], second[k]) for k in first))


def _same_dtype(first: np.dtype | None, second: np.dtype | None) -> bool:
    """Whether two casts are the same (NumPy's ``dtype == None`` is True for float64)."""
    return first is second or first is not None and second is not None and first == second
