"""A subclassed model's forward read as a chain, from the ops one eager call applies.

PyTorch programs write their networks as ``class Net(nn.Module)`` with a ``forward`` of
their own (``x = F.relu(self.fc1(x)); return self.fc2(x)``), which ``ffnn.compiler.chain``
cannot read from the modules alone. One eager call of the model, with every op recorded
(``autograd.recording``), shows what that ``forward`` computes: where it is a chain of the
ops a ``Sequential`` chain replays, ``chain_of`` gives its layers as ``ChainStep`` takes
them.

Each op must take the previous op's output as its input and the last give the model's
output: anything else (a skip connection, a value read, an op outside the chain, a custom
``autograd.Function``) breaks the chain and gives a reason instead. An op applied by a
library layer (an ``nn.Linear``, ``nn.Dropout``, ``nn.BatchNorm1d``, an activation module)
takes that layer's options as a ``Sequential`` of it would, read at each call; an
activation called as a function (``F.relu(x)``, ``F.leaky_relu(x, 0.2)``) keeps the options
it was called with, and ``F.dropout`` on the global stream is an ``nn.Dropout``. Before the
first layer, a reshape of the input to [n, features] is a ``Flatten()`` and a cast to a
floating dtype (``x.float()``) the step's own cast of x (``ChainStep.cast``); a reshape of
the [n, 1] output to [n] last (``.squeeze(1)``, ``.view(-1)``) is ``ChainStep.squeezes``.
The forward's Python runs once per capture: the caller captures again when a module's
attribute changes (``Watch``) or an input of another shape arrives.
"""

from __future__ import annotations

import contextlib
import functools
import math
import sys

from ffnn import autograd, nn, random
from ffnn.compiler.chain import ChainStep, changed_call_reason, layers_reason, walk
from ffnn.compiler.guards import ForwardGuards, seeding, side_effects
from ffnn.compiler.watch import Watch
from ffnn.nn import chain_call, traits
from ffnn.nn.chain_layers import layer_of
from ffnn.ops import dropout, matrix, norms
from ffnn.ops.elementwise import Cast
from ffnn.ops.shape import FlattenFeatures, Reshape
from ffnn.tensor import Tensor


def traceable(model) -> bool:
    """Whether ``model`` is a module whose class writes its own ``forward`` (not a library
    layer or container, which the chain reads from the modules), or holds one (a
    ``Sequential`` with a block of the program's own)."""
    if not isinstance(model, nn.Module):
        return False
    if type(model) is nn.Sequential:
        return any(not type(m).__module__.startswith("ffnn.") for m in model.modules())
    declared = traits.of(model)
    return declared is None or type(model).forward is not traits.declared_forward(
        declared.cls)


VALUE_READS = ("__array__", "item", "tolist", "numpy", "__float__", "__int__", "__bool__",
               "__index__")
"""The Tensor methods that hand a tensor's values to Python: a forward calling one may take
another path for other values, so it is not read as a chain."""


class Recorder:
    """The ops one forward applies: (op class, inputs, options, output, the innermost module
    whose ``forward`` applied it) each, in order; ``value_read``: the first of
    ``VALUE_READS`` called meanwhile, if any; ``without_grad``: an op applied under
    ``no_grad``, if any (its inputs get no gradient through it: not the chain's step)."""

    def __init__(self):
        self.records: list[tuple] = []
        self.made_by: list = []  # each record's output's op as it was made (``_same_value``)
        self.value_read: str | None = None
        self.without_grad: type | None = None  # an op applied under no_grad

    def __call__(self, op, inputs, options, out) -> None:
        if not autograd.is_grad_enabled():
            self.without_grad = op
        self.records.append((op, inputs, options, out, _calling_module()))
        self.made_by.append(out._ctx)

    @contextlib.contextmanager
    def watching_values(self):
        """Inside, a call of a ``VALUE_READS`` method of any Tensor is noted (and runs)."""
        originals = {name: getattr(Tensor, name) for name in VALUE_READS}

        def noting(name, method):
            @functools.wraps(method)
            def noted(*args, **kwargs):
                if self.value_read is None:
                    self.value_read = name
                return method(*args, **kwargs)
            return noted

        for name, method in originals.items():
            setattr(Tensor, name, noting(name, method))
        try:
            yield
        finally:
            for name, method in originals.items():
                setattr(Tensor, name, method)


def _calling_module():
    """The module whose ``forward`` is the innermost on the stack (None: none is)."""
    frame = sys._getframe(2)  # past this function and the recorder
    while frame is not None:
        if frame.f_code.co_name == "forward":
            module = frame.f_locals.get("self")
            if isinstance(module, nn.Module):
                return module
        frame = frame.f_back
    return None


class ForwardReading:
    """``reading(x)`` is ``model(x)``, recorded; after the eager step it belongs to,
    ``step()`` gives the chain step read from it, or the reason there is none."""

    def __init__(self, model, loss, optimizer):
        self.model, self.loss, self.optimizer = model, loss, optimizer
        self.before = Watch(model, loss, optimizer, [vars(m) for m in model.modules()])

    def __call__(self, x):
        self.x = x
        self.guards = ForwardGuards.read(self.model)  # what the forward's code reads, now
        before = side_effects(self.model)
        with seeding() as seeds:
            self.out, self.recorder = record(self.model, x)
        after = side_effects(self.model)
        self.draws = before[:3] != after[:3] or bool(seeds)
        self.changes = before[3] != after[3] or isinstance(self.guards, ForwardGuards) and \
            not self.guards.values_hold()  # a global counter, a list it appends to
        return self.out

    def step(self) -> tuple[ChainStep | None, str | None]:
        found = chain_of(self.model, self.x, self.out, self.recorder)
        if isinstance(found, str):
            return None, found
        name = type(self.model).__name__
        if self.draws:  # another call takes another path (a layer dropped at random)
            return None, f"{name}.forward draws random numbers or seeds a generator"
        if isinstance(self.guards, str):
            return None, self.guards
        chain, reason = ChainStep.from_trace(self.model, self.loss, *found)
        if reason is None and (self.changes or not self.before.unchanged(self.optimizer)):
            return None, f"{name}.forward changes the model's attributes or what it reads"
        if reason is None:  # what the path may depend on besides the modules
            batch = self.x._data
            self.guards.keys.add((batch.shape[0], batch.dtype))
            chain.guards = self.guards
        return chain, reason


def record(model, x):
    """(``model(x)``, the ``Recorder`` of the ops it applied): the eager forward itself."""
    recorder = Recorder()
    with autograd.recording(recorder), recorder.watching_values():
        out = model(x)
    return out, recorder


def chain_of(model, x, out, recorder: Recorder) -> tuple | str:
    """(the modules, the layers as ``ChainStep`` takes them, the ``Sequential`` whose
    chain received the input or None, x's shape after the batch dimension, whether a closing
    reshape drops the output's one column, the floating dtype a leading cast gives x or None)
    of the forward that computed ``out`` from ``x`` applying ``recorder``'s ops
    (``ChainStep.from_trace``'s arguments after the loss), or the reason it is not a chain."""
    records = recorder.records
    for module in model.modules():  # what the eager call runs and a replay would not
        reason = changed_call_reason(module)
        if reason is not None:
            return reason
    if recorder.value_read is not None:
        return (f"{model.__class__.__name__}.forward reads a tensor's values "
                f"(Tensor.{recorder.value_read})")
    if recorder.without_grad is not None:
        return (f"{model.__class__.__name__}.forward applies {recorder.without_grad.__name__} "
                "without gradients (no_grad)")
    if not records:
        return "the forward applies no op"
    holders = _parameter_holders(model)
    layers, leading, source, squeezes, cast = [], None, x, False, None
    made_by = None  # the op that made ``source`` (None: the input)
    for index, (op, inputs, options, output, module) in enumerate(records):
        if not inputs or not _same_value(inputs[0], source, made_by):
            return (f"{model.__class__.__name__}.forward is not one chain of layers (the "
                    f"input of {op.__name__} is not the previous op's output)")
        if output._data is inputs[0]._data and op is not Reshape:
            return f"{op.__name__} writes in place"
        if index == len(records) - 1 and index > 0 and _squeezes(op, inputs[0], output):
            squeezes, source = True, output
            break
        if op is Cast and output._data.dtype.kind == "f" and all(
                layer[0] is FlattenFeatures for layer in layers):
            cast, source = output._data.dtype, output  # x.float() first: the step casts x
            made_by = recorder.made_by[index]
            continue
        found = _layers_of(op, inputs, options, output, module, holders, layers)
        if isinstance(found, str):
            return found
        if op is chain_call.SequentialChain and not layers:
            leading = module
        layers += found
        source, made_by = output, recorder.made_by[index]
    if out is not source:
        return f"the output of {model.__class__.__name__}.forward is not its last op's"
    reason = layers_reason(layers)
    if reason is not None:
        return reason
    return list(model.modules()), layers, leading, x._data.shape[1:], squeezes, cast


def _same_value(given, source, made_by) -> bool:
    """Whether an op's input is the previous op's output: that tensor, or a copy of it as
    ``made_by`` (the op that made it) left it (an in-place activation,
    ``F.relu(h, inplace=True)``, computes from a copy of h, then writes into h)."""
    return given is source or (made_by is not None and given._ctx is made_by)


def _squeezes(op, source, output) -> bool:
    """Whether the op reshapes the chain's [n, 1] output to [n] (``.squeeze(1)``,
    ``.view(-1)``, ``.flatten()``: a regression's output against targets of shape [n])."""
    rows = source._data.shape[0]
    return op is Reshape and source._data.shape == (rows, 1) and output._data.shape == (rows,)


def _layers_of(op, inputs, options, output, module, holders, layers) -> list | str:
    """The chain layers one recorded op stands for, or why it is none."""
    if op is Reshape or op is FlattenFeatures:
        shape = inputs[0]._data.shape
        if not layers and output._data.shape == (shape[0], math.prod(shape[1:])):
            return [] if len(shape) == 2 else [(FlattenFeatures, None, {})]
        return "a reshape other than [n, ...] → [n, features] first is not captured"
    if op is chain_call.SequentialChain:  # a Sequential of plain layers, run as one node
        walked = walk(module)
        return walked if isinstance(walked, str) else walked[1]
    params = [p for p in inputs[1:] if p is not None]
    if any(id(p) not in holders for p in params):
        return f"{op.__name__} takes a tensor that is not a parameter of the model"
    own = layer_of(module, layers[-1][0] if layers else None) if module is not None and \
        type(module).__module__.startswith("ffnn.") else None
    if isinstance(own, tuple) and own[0] is op:
        return [own]  # applied by its library layer: its options read as a Sequential reads
    if op is dropout.Dropout:
        return _functional_dropout(options, layers)
    if op is norms.BatchNorm:  # its running statistics and count: only its module gives them
        return "BatchNorm is captured only from its module (nn.BatchNorm1d)"
    holder = holders.get(id(params[0])) if params else None
    if holder is not None:
        found = layer_of(holder, layers[-1][0] if layers else None)
        if not isinstance(found, tuple) or found[0] is not op or not _same_parameters(
                holder, inputs[1:]) or not _same_options(found[2], options):
            return f"{op.__name__} on parameters of {type(holder).__name__} is not captured"
        return [found]
    if op not in _chain_ops() or params:
        return f"{op.__name__} is not captured"
    return [(op, None, dict(options))]


def _functional_dropout(options: dict, layers: list) -> list | str:
    """``F.dropout(x, p)`` drawing from the global stream: the layer of an ``nn.Dropout(p)``
    in training mode, which draws its masks from that stream at each call as the function
    does (a forward passing ``training=self.training`` is read again when the flag
    changes)."""
    if options.get("rng") is not random.rng(None):
        return "F.dropout with a generator of its own is not captured (use nn.Dropout)"
    return [layer_of(nn.Dropout(options["p"]), layers[-1][0] if layers else None)]


def _parameter_holders(model) -> dict:
    """id(parameter) → the module holding it."""
    return {id(p): m for m in model.modules() for p in vars(m)["_parameters"].values()
            if p is not None}


def _same_parameters(module, given) -> bool:
    """Whether ``given`` are ``module``'s weight and bias, in that order."""
    registry = vars(module)["_parameters"]
    expected = (registry.get("weight"), registry.get("bias"))
    return len(given) == 2 and all(a is b for a, b in zip(given, expected))


def _same_options(read: dict, given: dict) -> bool:
    """Whether the options a layer reads from its module are those the op was given."""
    try:
        return read.keys() == given.keys() and all(
            bool(read[k] == given[k]) for k in read)
    except (TypeError, ValueError):  # arrays of other shapes, values without ==
        return False


def _chain_ops() -> set:
    """The ops of the library's parameterless chain layers (activations)."""
    return {t.op for t in traits.all_traits() if t.op is not None} - {matrix.Linear}
