"""A ``Sequential`` of plain layers as one node of the graph.

Called with gradients on, a ``Sequential`` whose children are all plain layers
(``ffnn.nn.chain_layers``: ``Linear``, element-wise activations, layer norms, dropout, batch
norms on [n, features], a ``Flatten()`` first; no hooks or ``forward`` set on an instance, no
nested containers) records one node instead of one per layer. The node runs the very
``ffnn.ops`` Functions each layer's ``forward`` would apply, with the ``needs_input_grad``
flags ``Op.apply`` would give them, forward in order and backward in reverse; so every
value, gradient and ``.grad`` is the per-layer graph's, bit for bit, and what goes is a
Tensor, a node and a module call per layer (on a small network, a quarter of the step).
Where the input needs no gradient (a training step's), the leading blocks of Linear layers,
norms, activations and dropout run instead as a native chain
(``ffnn.compiler.native_chain``): one compiled call forward, one backward, the per-layer
graph's values to rounding (frozen parameters get no gradient there; a batch norm on its
running statistics, in eval mode or frozen by ``ffnn.finetune.freeze``, is y = a z + c
there); the layers after those blocks (a softmax last, a norm after the activation) run
one by one in the node. An array a layer saved for its backward and
changed in place since is reported as the per-layer graph reports it, under that layer's
name. A call on an input like the last one's, the layers' parameters the same tensors and
arrays and their options equal, takes the last call's resolution again (``_LastCall``)
instead of checking every layer anew: on 64-32-32-10 a forward of 45 µs took 32.
"""

from __future__ import annotations

import math
import weakref
from operator import is_

import numpy as np

from ffnn import accel, autograd
from ffnn.autograd import Op, _changed_since, _saved
from ffnn.nn import traits
from ffnn.nn.chain_layers import (
    BATCH_NORM_MODULE,
    DROPOUT_MODULE,
    any_own_call,
    batch_norm_options,
    batch_statistics,
    dropout_options,
    flatten_reason,
    layer_of,
    running_statistics,
)
from ffnn.ops import dropout, matrix, norms
from ffnn.ops.elementwise import constant_like
from ffnn.ops.shape import FlattenFeatures
from ffnn.tensor import Tensor

_plans: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
"""Sequential → its ``_Plan``."""


class SequentialChain(Op):
    """The layers of a ``Sequential`` as one node: inputs x then each layer's weight and
    bias (None where absent); ``layers``: (op class, takes parameters, options) per layer."""

    label = "Sequential"

    def forward(self, x, *params, layers, native=None):
        """The layers in order: the leading ``native.count`` as the native chain where it
        runs (x needs no gradient), the others (all of them otherwise) one by one, each op
        told which of its inputs need a gradient."""
        needs = self.needs_input_grad
        start, slot, flowing, out = 0, 0, needs[0], x
        if native is not None and not needs[0]:
            out, self.native_saved = native.forward(x, layers)
            self.native, self.label = native, native.name
            start, slot = native.count, len(native.params)
            flowing = any(needs[1:1 + slot])
        self.done, self.slots = [], len(params)
        for op, takes, options in layers[start:]:
            fn = op()
            if BATCH_NORM_MODULE in options:  # counted now, as its forward counts
                options = batch_norm_options(options[BATCH_NORM_MODULE])
            if takes:
                fn.needs_input_grad = (flowing, needs[1 + slot], needs[2 + slot])
                out = fn.forward(out, params[slot], params[slot + 1], **options)
                self.done.append((fn, slot))
                slot += 2
            else:
                fn.needs_input_grad = (flowing,)
                out = fn.forward(out, **options)
                self.done.append((fn, None))
            flowing = any(fn.needs_input_grad)
            self.label = fn.op_name
        self.out_ndim = out.ndim  # torch's name for the node (``autograd.torch_nodes``)
        return out

    def backward(self, grad):
        """Each layer's backward from the last (the native chain's for its leading ones);
        the parameters' gradients in their slots, and dL/dx when x needs one (else the walk
        stops at the first layer nobody needs)."""
        grads: list = [None] * (1 + self.slots)
        for fn, slot in reversed(self.done):
            found = fn.backward(grad)
            if not isinstance(found, tuple):
                found = (found,)
            if slot is not None:
                grads[1 + slot], grads[2 + slot] = found[1], found[2]
            if not fn.needs_input_grad[0]:
                return tuple(grads)
            grad = found[0]
        if "native" in self.__dict__:
            slots = len(self.native.params)
            grads[1:1 + slots] = self.native.backward(self.native_saved, grad,
                                                      self.needs_input_grad[1:1 + slots])
            return tuple(grads)
        grads[0] = grad
        return tuple(grads)

    @property
    def op_name(self) -> str:
        return self.__dict__.get("label", SequentialChain.label)

    def free(self) -> None:
        """``Op.free``, keeping the name (the last layer's, as the per-layer graph shows)."""
        label = self.__dict__.get("label", SequentialChain.label)
        super().free()
        self.label = label

    def changed_saved_tensors(self) -> list:
        """As ``Op.changed_saved_tensors``, over the arrays the layers saved; the node then
        takes the name of the layer that saved it (torch's message names that layer)."""
        found = []
        native = self.__dict__.get("native")
        for counter, array_id in _changed_since(self):
            kept = None if native is None else native.saved_array(self.native_saved, array_id)
            if kept is not None:
                found.append((counter, kept[0]))
                self.label = kept[1]
                continue
            for fn, _ in self.done:
                array = _saved(fn, array_id)
                if array is not None:
                    found.append((counter, array))
                    self.label = fn.op_name
                    break
        return found

    def backward_graph(self, grad, x, *params):
        """The layers again, each as its own op on the node's input tensors (a dropout with
        this call's mask), and their gradients as tensors (``ffnn.graph_backward``)."""
        from ffnn import graph_backward  # noqa: PLC0415 - only for higher-order gradients

        out, order = graph_backward.recorded(lambda: self._layers_again(x, params))
        targets = tuple(t for t, need in zip((x, *params), self.needs_input_grad) if need)
        found = graph_backward.propagate(out, grad, order=order, targets=targets)
        return tuple(None if t is None or id(t) not in found else found[id(t)][1]
                     for t in (x, *params))

    def _layers_again(self, x, params: tuple):
        """The node's layers as the per-layer graph applies them, on tensors."""
        start = self.native.count if "native" in self.__dict__ else 0
        out, slot = x, 0
        for i, (op, takes, options) in enumerate(self.options["layers"]):
            if BATCH_NORM_MODULE in options:  # the batch's statistics, counted once already
                eps = options[BATCH_NORM_MODULE].eps
                out = norms.BatchNorm.apply(out, params[slot], params[slot + 1], eps=eps)
                slot += 2
            elif op is dropout.Dropout:
                out = self._dropped_again(out, i, start)
            elif takes:
                out = op.apply(out, params[slot], params[slot + 1], **options)
                slot += 2
            else:
                out = op.apply(out, **options)
        return out

    def _dropped_again(self, out, layer: int, start: int):
        """The output of the dropout at index ``layer`` again, with this call's mask (the
        native chain's for its leading ``start`` layers)."""
        if layer < start:
            return out * constant_like(out, self.native.dropout_scale(self.native_saved, layer))
        return self.done[layer - start][0].masked(out)


class _Plan:
    """A Sequential's children as last classified (``_classify``), their attribute dicts
    (asked for hooks at each call) and their classes' ``forward`` (a class patched since is
    classified again), and the last call's resolution (``_LastCall``), with gradients and
    without (``infer``)."""

    __slots__ = ("modules", "layers", "forwards", "attributes", "last", "last_inference")

    def __init__(self, modules: tuple, forwards: tuple):
        self.modules, self.forwards = modules, forwards
        self.layers = _classify(modules)
        self.attributes = [vars(m) for m in modules if m is not None]
        self.last: _LastCall | None = None
        self.last_inference: _LastCall | None = None


def _plan_of(sequential) -> _Plan | None:
    """``sequential``'s plan when its children are a chain and none has hooks or a
    ``forward`` of its own now, else None."""
    modules = tuple(sequential._modules.values())
    plan = _plans.get(sequential)
    forwards = tuple([type(m).forward for m in modules if m is not None])
    if plan is None or not _same(plan.modules, modules) or not _same(plan.forwards, forwards):
        plan = _plans[sequential] = _Plan(modules, forwards)
    if plan.layers is None or any_own_call(plan.attributes):  # then its own call must run
        return None
    return plan


def layers_of(sequential) -> list | None:
    """The children of ``sequential`` as chain layers, (op class, the module holding its
    parameters or None, how to read its options, the module) each, Identity left out; None
    when one is not a plain layer, has hooks or a ``forward`` of its own."""
    plan = _plan_of(sequential)
    return None if plan is None else plan.layers


def _same(a: tuple, b: tuple) -> bool:
    """The same objects, in the same order."""
    return len(a) == len(b) and all(map(is_, a, b))


def _classify(modules: tuple) -> list | None:
    layers = []
    for module in modules:
        layer = None if module is None else layer_of(module, layers[-1][0] if layers else None)
        if isinstance(layer, str):
            return None
        if layer is not None:
            op, holder, options = layer
            if BATCH_NORM_MODULE in options:  # read last, in ``call``: it counts the batch
                read = None
            elif DROPOUT_MODULE in options:
                read = dropout_options
            else:
                declared = traits.of(module)
                read = declared.op_options if declared is not None else None
            layers.append((op, holder, read, module))
    return layers if layers and flatten_reason(layers) is None else None


def takes_arrays(sequential) -> bool:
    """Whether ``sequential`` is a chain of plain layers, whose first layer would take a
    NumPy array as a constant tensor: the container then makes it one first, so that an
    array and a tensor of the same values take the same path (``Sequential.forward``)."""
    return _plan_of(sequential) is not None


def call(sequential, input) -> object | None:
    """``sequential(input)`` as one node, or None where the layers must run one by one (a
    child that is not a plain layer or has hooks, an input that is not a float NumPy
    array of the layers' dtype and width: each layer then raises its own error)."""
    plan = _plan_of(sequential)
    if plan is None:
        return None
    data = getattr(input, "_data", None)
    if type(data) is not np.ndarray or data.ndim == 0 or data.dtype.char not in "fd":
        return None
    last = plan.last
    if last is None or not last.holds(data, input.requires_grad):
        last = plan.last = _resolve(sequential, plan.layers, data, input.requires_grad)
        if last is None:
            return None
    return SequentialChain.apply(input, *last.params, layers=last.layers_now(),
                                 native=last.native)


def infer(sequential, input) -> object | None:
    """``sequential(input)`` without gradients (``no_grad``, an evaluation or a prediction)
    as one native chain forward, or None where the layers must run one by one (no native
    chain for them or this input; while ``ffnn.compile`` records the ops). The layers
    compute what their own forwards compute, dropout and batch norm in training mode too
    (its running statistics updated), as the training step's forward, and a batch norm on
    its running statistics (eval mode) as y = a z + c per feature: a small network's
    evaluation in one compiled call (64-32-32-10 tanh on 32 rows: 40 µs layer by layer,
    torch 25, this path 16; 20-64-64-2 ReLU with batch norms on 64 rows, eval mode: 95, 63,
    32; 784-256-256-10 with them on one row: 152, 73, 36)."""
    if autograd._recorder is not None:
        return None
    plan = _plan_of(sequential)
    data = getattr(input, "_data", None)
    if plan is None or type(data) is not np.ndarray or data.ndim < 2 or \
            data.dtype.char not in "fd":
        return None
    last = plan.last_inference
    if last is None or not last.holds(data, False):
        last = plan.last_inference = _resolve(sequential, plan.layers, data, False)
        if last is None:
            return None
    native = last.native
    if native is None:
        return None
    layers = last.layers_now()
    if native.count == len(layers):
        return Tensor._make(native.forward(data, layers)[0], False, None)
    node = SequentialChain()  # the layers after it, one by one: the node's own forward
    node.needs_input_grad = (False,) * (1 + len(last.arrays))
    return Tensor._make(node.forward(data, *last.arrays, layers=layers, native=native), False,
                        None)


def _resolve(sequential, layers: list, data: np.ndarray, requires_grad: bool):
    """The ``_LastCall`` of ``layers`` on ``data`` (an input needing a gradient or not), or
    None where they must run one by one."""
    width, params, resolved, batch_norms, reads = data.shape[-1], [], [], [], []
    if layers[0][0] is FlattenFeatures:  # [n, ...] → [n, features]
        if data.ndim < 2:
            return None
        width = math.prod(data.shape[1:])
    rows = data.shape[0] if data.ndim == 2 or layers[0][0] is FlattenFeatures else 0
    for op, module, read, layer in layers:
        if op is norms.BatchNorm:  # the batch's statistics over [n > 1, features], or the
            # running ones, their arrays of the layers' dtype and width
            batch = batch_statistics(layer)
            if rows < 2 if batch else not (rows and _running_fit(layer, width, data.dtype)):
                return None
            batch_norms.append((len(resolved), layer, batch))
            op, options = (op if batch else norms.RunningBatchNorm), {}
        else:
            options = read(layer) if read is not None else {}  # as its forward reads them
            reads += [] if read is None else [(read, layer, options)]
        if options is None:
            if read is not dropout_options:  # an option no chain takes now (a softmax's dim)
                return None
            continue  # dropout in eval mode or with p = 0: the identity
        if module is not None:
            registry = vars(module)["_parameters"]
            weight, bias = registry.get("weight"), registry.get("bias")
            if weight is None or weight._data.dtype != data.dtype or \
                    weight._data.shape[-1] != width or op is matrix.Linear and (
                        weight._data.shape != (layer.out_features, layer.in_features) or
                        bias is not None and bias._data.shape != (layer.out_features,)):
                return None  # a Linear given parameters of other shapes raises its own error
            width = weight._data.shape[0] if op is matrix.Linear else width
            params += (weight, bias)
        resolved.append((op, module is not None, options))
    if not resolved:
        return None
    native = None
    if not requires_grad:  # a batch norm's options are the call's (``layers_now``)
        native = native_chain(sequential, resolved, [getattr(p, "_data", None)
                                                     for p in params])
        native = native if native is not None and native.takes(data) else None
    return _LastCall(data, requires_grad, layers, params, resolved, batch_norms, reads,
                     native)


def _running_fit(module, width: int, dtype: np.dtype) -> bool:
    """Whether a batch norm's running statistics are arrays the native chain reads: of
    ``dtype``, [width], C-contiguous."""
    return all(type(a) is np.ndarray and a.dtype == dtype and a.shape == (width,) and
               a.flags.c_contiguous for a in running_statistics(module))


class _LastCall:
    """What ``call`` resolved for a Sequential on an input: its parameters (weight and bias
    per layer holding them), the layers' ops with their options, the native chain (for an
    input needing no gradient). The next call on an input of the same shape, dtype, layout
    and ``requires_grad`` takes them again when each layer's parameters are the same tensors
    holding the same arrays and each option read again (dropout's, an activation's) is
    equal, and each batch norm still uses the batch's statistics, or still its running
    ones (the same arrays): the checks of ``_resolve`` stood for these very objects. Batch
    norms count their batch at every call, where they run (``layers_now``)."""

    def __init__(self, data, requires_grad, layers, params, resolved, batch_norms, reads,
                 native):
        self.key = (data.shape, data.dtype, data.flags.c_contiguous, requires_grad,
                    accel.enabled)
        self.params, self.resolved, self.native = params, resolved, native
        self.batch_norms, self.reads = batch_norms, reads
        self.running = {index: running_statistics(layer)
                        for index, layer, batch in batch_norms if not batch}
        """Each batch norm on its running statistics, with their arrays now (checked at
        each call: arrays put in their place make the call resolve again)."""
        holders = [vars(module)["_parameters"] for _, module, _, _ in layers
                   if module is not None]
        self.held = list(zip(holders, params[::2], params[1::2]))
        self.arrays = [getattr(p, "_data", None) for p in params]

    def holds(self, data: np.ndarray, requires_grad: bool) -> bool:
        """Whether this resolution stands for a call on ``data`` now."""
        if (data.shape, data.dtype, data.flags.c_contiguous, requires_grad,
                accel.enabled) != self.key:
            return False
        for registry, weight, bias in self.held:
            if registry.get("weight") is not weight or registry.get("bias") is not bias:
                return False
        arrays = [getattr(p, "_data", None) for p in self.params]
        return all(map(is_, arrays, self.arrays)) and all(
            [read(layer) == options for read, layer, options in self.reads]) and all(
            [batch_statistics(layer) == batch for _, layer, batch in self.batch_norms]) and \
            all([_same(running_statistics(layer), self.running[index])
                 for index, layer, batch in self.batch_norms if not batch])

    def layers_now(self) -> list:
        """The layers with this call's options: each batch norm on the batch's statistics
        as its module (its batch counted where it runs, in order, as the layers' forwards
        count theirs: ``SequentialChain``, the native chain), each on its running
        statistics with them."""
        resolved = list(self.resolved)
        for index, layer, batch in self.batch_norms:
            if batch:  # counted where it runs (``SequentialChain``, the native chain)
                resolved[index] = (norms.BatchNorm, True, {BATCH_NORM_MODULE: layer})
            else:  # its statistics' arrays are those held (``holds``)
                mean, var = self.running[index]
                resolved[index] = (norms.RunningBatchNorm, True, {
                    "eps": layer.eps, "running_mean": mean, "running_var": var})
        return resolved


def native_chain(owner, layers: list, params: list):
    """The ``ffnn.compiler.native_chain.NativeChain`` of ``layers`` with the arrays
    ``params`` (each layer's weight and bias, None for an absent one), made once per owner
    (a Sequential, a chain step) for these layers and arrays; None without the compiled
    kernels or where they are not such a chain."""
    if not accel.enabled:
        return None
    global _chain_for
    if _chain_for is None:
        from ffnn.compiler.native_chain import chain_for as _chain_for
    return _chain_for(owner, layers, params)


_chain_for = None
"""``ffnn.compiler.native_chain.chain_for``, imported at the first call (it loads numba)."""
