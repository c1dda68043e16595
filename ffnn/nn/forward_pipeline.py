"""A ``Module`` subclass whose ``forward`` is a pipeline, its leading layers run as one node.

PyTorch programs write their networks as ``class Net(nn.Module)`` calling their layers in
``forward``::

    def forward(self, x):                       def forward(self, x):
        x = F.relu(self.fc1(x))                     for layer in self.layers:
        x = self.dropout(x)                             x = layer(x)
        return F.log_softmax(self.fc2(x), dim=1)    return x

Such a forward does nothing but apply one callable after another to its one input: calls of
``self.<name>``, ``self.<name>[i]``, a loop variable over ``self.<name>``, a name of its
globals or closure (``F.relu``, ``torch.tanh``), whose other arguments are constants or the
module's attributes (``training=self.training``), or a method of the value (``x.relu()``,
``x.view(x.size(0), -1)``: constants and the value's rows).
Its source is read once (``read``) into ``Step``s; at each call ``run``
resolves every callee as Python would (attributes of the module, the forward's globals and
closure, a loop over a ``ModuleList`` or ``Sequential``), then runs the leading calls that are
plain chain layers (``ffnn.nn.chain_layers``) as a ``Sequential`` of them: one node of the
graph (``ffnn.nn.chain_call``, native where it can), what a ``Sequential`` of the same layers
computes. An activation called as a function or a method counts as its module (``F.relu(x)``,
``x.relu()``: ``nn.ReLU()``; ``F.leaky_relu(x, 0.2)``: ``nn.LeakyReLU(0.2)``; ``F.dropout``
on the global stream: ``nn.Dropout``), a flatten of the rows (``torch.flatten(x, 1)``,
``x.view(x.size(0), -1)``, ``x.view(-1, 28 * 28)`` where the input has 784 values a row)
as ``nn.Flatten()``, a library ``Sequential`` as its layers. The other calls follow one by
one, as the forward makes them.

Anything else in the forward (another statement or expression, a second argument, a value
read into Python, a callee that is not found) and it runs as written. Callees are looked up
before the leading layers run rather than between the calls: library layers do not change
their owner's attributes, so nothing a forward could see differs.
"""

from __future__ import annotations

import ast
import builtins
import dataclasses
import functools
import inspect
import math
import operator
import textwrap
import weakref
from operator import is_

MIN_LAYERS = 2
"""Leading chain layers it takes to run them as one node (one runs as itself)."""
NOT_RUN = object()
"""``run``'s answer where the forward must run as written."""


@dataclasses.dataclass(frozen=True)
class Callee:
    """How one call's callable is found: ``where`` 'self' (``self.name`` then ``[index]``
    when ``index`` is not None), 'loop' (the loop variable), 'global' (``name`` in the
    forward's closure, globals or builtins, then the attributes ``path``) or 'method' (the
    value's method ``name``); ``args`` / ``kwargs``: the constants the call passes after the
    input, or the module's attributes (``Own``: ``training=self.training``; a method's may
    be ``Rows``)."""

    where: str
    name: str = ""
    index: int | None = None
    path: tuple = ()
    args: tuple = ()
    kwargs: tuple = ()
    reads_self: bool = False
    """Whether an argument is an attribute of the module (``Own``), read at each call."""


@dataclasses.dataclass(frozen=True)
class Step:
    """One statement: its calls, the outermost first (``callees``), or a loop over
    ``self.<loop>`` whose body is ``body`` (Steps)."""

    callees: tuple = ()
    loop: str | None = None
    body: tuple = ()


class _NotAPipeline(Exception):
    """The forward's source is not a pipeline."""


_plans: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
"""Module class → (its ``forward`` when read, its Steps or None)."""


def program_class(cls: type) -> bool:
    """Whether ``cls`` is defined outside ffnn's own layers: only such a class's
    ``forward`` is read."""
    return _programs(cls.__module__)


def _programs(where: str | None) -> bool:
    """Whether module ``where`` is a program's, not ffnn's (the bench's networks stand for
    a program's)."""
    where = where or ""
    return not where.startswith("ffnn.") or where.startswith("ffnn.bench.")


def plan_of(cls: type) -> tuple | None:
    """The Steps of ``cls.forward`` (read once per function), or None where it is not a
    pipeline."""
    forward = cls.forward
    found = _plans.get(cls)
    if found is None or found[0] is not forward:
        try:
            steps = read(forward)
        except Exception:  # a source this reader does not foresee: the forward as written
            steps = None
        found = _plans[cls] = (forward, steps)
    return found[1]


def read(forward) -> tuple | None:
    """``forward``'s statements as Steps, or None where it is not ``def forward(self, x)``
    applying calls to x and returning the result, or is one of ffnn's layers (they run as
    written; the bench's networks stand for a program's)."""
    if not inspect.isfunction(forward) or not _programs(forward.__module__):
        return None  # ffnn's own, inherited or set on the class
    function = _source_of(forward)
    if function is None:
        return None
    arguments = function.args
    if arguments.posonlyargs or arguments.vararg or arguments.kwonlyargs or \
            arguments.kwarg or arguments.defaults or len(arguments.args) != 2:
        return None
    own, value = arguments.args[0].arg, arguments.args[1].arg
    body = function.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]  # the docstring
    try:
        steps = _Reader(own, value, forward.__code__).statements(body, closing=True)
    except _NotAPipeline:
        return None
    calls = sum(len(step.callees) if step.loop is None else MIN_LAYERS for step in steps)
    return steps if calls >= MIN_LAYERS else None  # one call: nothing to join


def _source_of(forward) -> ast.FunctionDef | None:
    """The ``def`` of ``forward`` from its source file, or None where there is none, it has
    decorators, or the file no longer holds the code that runs (edited since: the names it
    uses differ)."""
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(forward)))
        function = tree.body[0] if len(tree.body) == 1 else None
        if not isinstance(function, ast.FunctionDef) or function.decorator_list:
            return None
        compiled = compile(ast.Module(body=[function], type_ignores=[]), "<forward>", "exec")
    except (OSError, TypeError, SyntaxError, ValueError):
        return None
    made = next(c for c in compiled.co_consts if inspect.iscode(c))
    code = forward.__code__
    if set(made.co_names) != set(code.co_names) | set(code.co_freevars) or \
            made.co_varnames != code.co_varnames:
        return None
    return function


class _Reader:
    """Reads statements in which one value flows: each applies calls to the name assigned
    last (first the input) and assigns the result to a name, or returns it."""

    def __init__(self, own: str, value: str, code):
        self.own, self.value, self.loop_name = own, value, None
        self.local_names = set(code.co_varnames) | {own}

    def statements(self, body: list, closing: bool) -> tuple:
        steps = []
        for position, statement in enumerate(body):
            last = closing and position == len(body) - 1
            if isinstance(statement, ast.Return) and last and statement.value is not None:
                steps.append(Step(callees=self.calls(statement.value)))
            elif isinstance(statement, ast.Assign) and not last and \
                    len(statement.targets) == 1 and isinstance(statement.targets[0], ast.Name):
                steps.append(Step(callees=self.calls(statement.value)))
                if self.loop_name and statement.targets[0].id != self.value:
                    raise _NotAPipeline  # a loop's body carries one name round
                self.value = statement.targets[0].id
            elif isinstance(statement, ast.For) and not last and self.loop_name is None:
                steps.append(self.loop(statement))
            else:
                raise _NotAPipeline
        return tuple(steps)

    def loop(self, statement: ast.For) -> Step:
        if statement.orelse or not isinstance(statement.target, ast.Name) or \
                not self._self_attribute(statement.iter):
            raise _NotAPipeline
        self.loop_name = statement.target.id
        if self.loop_name in (self.own, self.value):
            raise _NotAPipeline
        body = self.statements(statement.body, closing=False)
        self.loop_name = ""  # not callable after its loop
        # ``x = layer(x)``: the very object ``_EACH_ITEM``, told apart by identity per call
        return Step(loop=statement.iter.attr, body=_EACH_ITEM if body == _EACH_ITEM else body)

    def calls(self, node) -> tuple:
        """The callees applied to the current value in ``node``, the outermost first."""
        found = []
        while not self._current(node):
            if not isinstance(node, ast.Call) or \
                    any(isinstance(a, ast.Starred) for a in node.args) or \
                    any(k.arg is None for k in node.keywords):
                raise _NotAPipeline
            if isinstance(node.func, ast.Attribute) and (
                    self._current(node.func.value) or isinstance(node.func.value, ast.Call)):
                found.append(self.method(node))  # a method of the value: x.view(...)
                node = node.func.value
                continue
            if not node.args:
                raise _NotAPipeline
            args = tuple(self.argument(a) for a in node.args[1:])
            kwargs = tuple((k.arg, self.argument(k.value)) for k in node.keywords)
            found.append(self.callee(node.func, args, kwargs))
            node = node.args[0]
        return tuple(found)

    def method(self, node: ast.Call) -> Callee:
        """``value.name(args)``: constants, and the value's rows (``x.size(0)``,
        ``x.shape[0]``) where the value is the name itself."""
        receiver = node.func.value

        def argument(value):
            rows = _rows_form(value)
            if rows is not None and self._current(receiver) and self._current(rows[1]):
                return Rows(rows[0])
            return _constant(value)

        return Callee("method", node.func.attr, None, (),
                      tuple(map(argument, node.args)),
                      tuple((k.arg, argument(k.value)) for k in node.keywords))

    def _current(self, node) -> bool:
        return isinstance(node, ast.Name) and node.id == self.value

    def argument(self, node):
        """A constant, or ``self.<name>`` (``Own``)."""
        return Own(node.attr) if self._self_attribute(node) else _constant(node)

    def callee(self, node, args: tuple, kwargs: tuple) -> Callee:
        found = self._callee(node, args, kwargs)
        if any(type(a) is Own for a in (*args, *(v for _, v in kwargs))):
            found = dataclasses.replace(found, reads_self=True)
        return found

    def _callee(self, node, args: tuple, kwargs: tuple) -> Callee:
        if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant) and \
                type(node.slice.value) is int and self._self_attribute(node.value):
            return Callee("self", node.value.attr, node.slice.value, (), args, kwargs)
        if self._self_attribute(node):
            return Callee("self", node.attr, None, (), args, kwargs)
        if isinstance(node, ast.Name) and self.loop_name and node.id == self.loop_name:
            return Callee("loop", args=args, kwargs=kwargs)
        path = []
        while isinstance(node, ast.Attribute):
            path.append(node.attr)
            node = node.value
        if not isinstance(node, ast.Name) or node.id in self.local_names:
            raise _NotAPipeline
        return Callee("global", node.id, None, tuple(reversed(path)), args, kwargs)

    def _self_attribute(self, node) -> bool:
        return isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and \
            node.value.id == self.own


@dataclasses.dataclass(frozen=True)
class Own:
    """An argument that is the module's attribute ``name`` (``training=self.training``)."""

    name: str


@dataclasses.dataclass(frozen=True)
class Rows:
    """A method's argument that is its value's rows: ``x.size(0)`` (``form`` 'size') or
    ``x.shape[0]`` ('shape'), read as written when the call is made."""

    form: str

    def of(self, value):
        return value.size(0) if self.form == "size" else value.shape[0]


def _rows_form(node) -> tuple | None:
    """('size' or 'shape', the node whose rows they are) for ``v.size(0)`` / ``v.shape[0]``."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and \
            node.func.attr == "size" and len(node.args) == 1 and not node.keywords and \
            isinstance(node.args[0], ast.Constant) and node.args[0].value == 0:
        return "size", node.func.value
    if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Attribute) and \
            node.value.attr == "shape" and isinstance(node.slice, ast.Constant) and \
            node.slice.value == 0:
        return "shape", node.value.value
    return None


_FOLDED = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
           ast.FloorDiv: operator.floordiv}
"""Arithmetic on numbers read as its value (``x.view(-1, 28 * 28)``)."""


def _constant(node):
    """The value of a literal argument (a number, string, bool or None; ``-`` a number;
    ``+ - * //`` of numbers)."""
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) and \
            isinstance(node.operand, ast.Constant) and type(node.operand.value) in (int, float):
        return -node.operand.value
    if isinstance(node, ast.BinOp) and type(node.op) in _FOLDED:
        left, right = _constant(node.left), _constant(node.right)
        if type(left) in (int, float) and type(right) in (int, float):
            return _FOLDED[type(node.op)](left, right)
    if isinstance(node, ast.Constant) and type(node.value) in (int, float, str, bool,
                                                               type(None)):
        return node.value
    raise _NotAPipeline


def run(module, steps: tuple, x):
    """``module.forward(x)`` through its ``steps``: the leading chain layers as one
    ``Sequential`` of them (with gradients one node, without them one native forward:
    ``chain_call.infer``), the other calls one by one; ``NOT_RUN`` where the forward runs
    as written (x not a tensor, a ``forward`` set on the instance, a callee not found)."""
    library = _library()
    if type(x) is not library.Tensor or "forward" in vars(module):
        return NOT_RUN
    try:  # nothing has run yet: whatever goes wrong here, the forward runs as written
        calls = _resolve(module, steps)
        if calls is None:
            return NOT_RUN
        data = x._data  # its shape a plain tuple (``x.shape`` makes a torch.Size)
        row = (data.ndim, math.prod(data.shape[1:])) if data.ndim >= 2 else None
        count, sequential = _leading_sequential(module, calls, library, row)
    except Exception:
        return NOT_RUN
    if sequential is not None:
        x = sequential.forward(x)  # made here: no hooks
    for function, args, kwargs in calls[count:]:
        x = function(x, *args, **dict(kwargs))
    return x


_EACH_ITEM = (Step(callees=(Callee("loop"),)),)
"""A loop's body that calls each item on the value: ``for layer in self.layers: x = layer(x)``."""


def _resolve(module, steps: tuple) -> list | None:
    """(callable, args, kwargs) of each call the forward makes, in order; None where a
    callee is not found (the forward then raises its own error) or a loop is over something
    other than a ``ModuleList`` or ``Sequential``."""
    forward, calls = type(module).forward, []
    containers = (_library().ModuleList, _library().Sequential)
    try:
        for step in steps:
            if step.loop is None:
                calls += _calls_of(module, forward, step.callees, None)
                continue
            container = getattr(module, step.loop)
            if type(container) not in containers:
                return None
            if step.body is _EACH_ITEM:  # ``x = layer(x)``
                calls += [(item, (), ()) for item in container]
                continue
            for item in container:
                for inner in step.body:
                    calls += _calls_of(module, forward, inner.callees, item)
    except (AttributeError, KeyError, IndexError, NameError, TypeError, ValueError):
        return None
    return calls


def _calls_of(module, forward, callees: tuple, item) -> list:
    """One statement's calls, innermost first, their callables looked up outermost first
    (Python's order)."""
    found = []
    for callee in callees:
        if callee.where == "self":
            function = getattr(module, callee.name)
            if callee.index is not None:
                function = function[callee.index]
        elif callee.where == "loop":
            function = item
        elif callee.where == "method":
            function = _method(callee.name)
        else:
            function = _global(forward, callee.name)
            for name in callee.path:
                function = getattr(function, name)
        if callee.reads_self:
            found.append((function, *_own_values(module, callee.args, callee.kwargs)))
        else:
            found.append((function, callee.args, callee.kwargs))
    return found[::-1]


def _own_values(module, args: tuple, kwargs: tuple) -> tuple:
    """``args`` and ``kwargs`` with each ``Own`` read from ``module``."""
    return (tuple(getattr(module, a.name) if type(a) is Own else a for a in args),
            tuple((k, getattr(module, a.name) if type(a) is Own else a) for k, a in kwargs))


class MethodCall:
    """``value.name(*args, **kwargs)`` as a call of value: the method looked up on it, then
    its rows read (``Rows``), as Python evaluates the call."""

    def __init__(self, name: str):
        self.name = name

    def __call__(self, value, *args, **kwargs):
        bound = getattr(value, self.name)
        args = [a.of(value) if type(a) is Rows else a for a in args]
        kwargs = {k: a.of(value) if type(a) is Rows else a for k, a in kwargs.items()}
        return bound(*args, **kwargs)


@functools.lru_cache(maxsize=64)
def _method(name: str) -> MethodCall:
    return MethodCall(name)


def _global(forward, name: str):
    """``name`` as the forward's code finds it: its closure, its globals, the builtins."""
    code = forward.__code__
    if name in code.co_freevars:
        return forward.__closure__[code.co_freevars.index(name)].cell_contents
    if name in forward.__globals__:
        return forward.__globals__[name]
    return getattr(builtins, name)


def _layers_called(calls: list, library, row: tuple | None) -> list:
    """The layers each leading call runs, a tuple per call: the module called; the children
    of a library ``Sequential`` called (its call adds nothing else); the activation module
    a function or method stands for (``_functional_module``, ``_method_module``: the first
    call's knowing the input's ``row``, (ndim, values a row)); up to the first that is none."""
    groups = []
    for function, args, kwargs in calls:
        if type(function) is MethodCall:
            module = _method_module(function.name, args, kwargs, row)
            if module is None:
                break
            groups.append((module,))
        elif args or kwargs or not isinstance(function, library.Module):
            module = _functional_module(function, args, kwargs)
            if module is None:
                break
            groups.append((module,))
        elif type(function) is library.Sequential and not library.own_call(function):
            groups.append(tuple(function._modules.values()))
        else:
            groups.append((function,))
        row = None  # known for the input only
    return groups


def _holds_state(module) -> bool:
    """Whether ``module`` has parameters or buffers (an activation used twice is twice the
    same function; a Linear used twice shares its weights)."""
    return bool(vars(module)["_parameters"] or vars(module)["_buffers"])


def _leading_count(groups: list, library) -> int:
    """How many of ``groups`` lead with plain chain layers only (``chain_layers.layer_of``),
    without a call of their own, each holding parameters once, a Flatten only first: whole
    groups, as a call runs all of its layers."""
    seen, after = [], None
    for count, group in enumerate(groups):
        layers, op = list(seen), after
        for module in group:
            if module is None or library.own_call(module) or _holds_state(module) and \
                    any(module is layer for layer in layers):  # shared weights: own calls
                return count
            found = library.layer_of(module, op)
            if isinstance(found, str) or \
                    found is not None and found[0] is library.FlattenFeatures and layers:
                return count
            layers.append(module)
            op = op if found is None else found[0]
        seen, after = layers, op
    return len(groups)


def _functional_module(function, args: tuple, kwargs: tuple):
    """``_activation_module`` for ffnn's activation functions, else None."""
    try:
        known = function in _library().functional_kinds
    except TypeError:  # a callable that cannot be a key
        return None
    return _activation_module(function, args, kwargs) if known else None


@functools.lru_cache(maxsize=256)
def _activation_module(function, args: tuple, kwargs: tuple):
    """The activation module ``function(x, *args, **kwargs)`` is the forward of (``F.relu``:
    ``nn.ReLU()``; ``F.leaky_relu(x, 0.2)``: ``nn.LeakyReLU(0.2)``), or None."""
    kind = _library().functional_kinds.get(function)
    if kind is None:
        return None
    try:
        module = kind(*args, **dict(kwargs))
    except (TypeError, ValueError):
        return None
    return None if getattr(module, "inplace", False) else module


@functools.lru_cache(maxsize=64)
def _method_module(name: str, args: tuple, kwargs: tuple, row: tuple | None = None):
    """The module a method of the value is the forward of (``x.relu()``: ``nn.ReLU()``;
    ``x.flatten(1)``, ``x.view(x.size(0), -1)``: ``nn.Flatten()``; ``x.view(-1, k)`` on a
    value of ``row`` = (ndim, k): ``nn.Flatten()``, ``nn.Identity()`` where it has two
    dimensions), or None."""
    if name in ("view", "reshape") and len(args) == 2 and not kwargs:
        if type(args[0]) is Rows and args[1] == -1:
            return _library().Flatten()
        if type(args[0]) is int and args[0] == -1 and type(args[1]) is int and \
                row is not None and args[1] == row[1]:
            return _library().Identity() if row[0] == 2 else _library().Flatten()
        return None
    if name in ("relu", "tanh", "sigmoid", "flatten"):  # as torch.relu(x), torch.flatten(x)
        return _activation_module(getattr(_library().ffnn, name), args, kwargs)
    return None


_sequentials: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
"""Module → (the layers of its leading calls when last read (``_layers_called``), how many
lead as a chain, the ``Sequential`` of their layers or None where they were fewer than
``MIN_LAYERS``)."""


def _leading_sequential(module, calls: list, library, row: tuple | None) -> tuple:
    """(how many of ``calls`` lead as chain layers, the ``Sequential`` of their layers or
    None), kept for ``module`` while the leading calls run the same layers. Whether the
    Sequential runs them as one node is ``chain_call``'s to tell at each call (hooks added
    since, a mode): whatever it holds, it computes what the calls one by one compute."""
    groups = _layers_called(calls, library, row)
    found = _sequentials.get(module)
    if found is not None and _same_groups(found[0], groups):
        return found[1], found[2]
    count = _leading_count(groups, library)
    layers = [layer for group in groups[:count] for layer in group]
    if len(layers) < MIN_LAYERS:
        count, layers = 0, []
    sequential = library.Sequential(*layers) if layers else None
    _sequentials[module] = (tuple(groups), count, sequential)
    return count, sequential


def _same_groups(kept: tuple, groups: list) -> bool:
    """Whether ``groups`` are the groups ``kept``, layer for layer the same."""
    return len(groups) == len(kept) and all(
        len(a) == len(b) and all(map(is_, a, b)) for a, b in zip(kept, groups))


@functools.cache
def _library():
    """What this module needs of ffnn.nn, imported at first use (``Module`` imports this)."""
    import types

    import ffnn
    import ffnn.nn.functional as functional
    from ffnn import ops
    from ffnn.nn import (
        activation,
        activation_more,
        chain_layers,
        container,
        linear,
        module,
        normalization,
    )
    from ffnn.ops.shape import FlattenFeatures
    from ffnn.tensor import Tensor

    kinds = {}
    for name, kind in (("relu", activation.ReLU), ("leaky_relu", activation.LeakyReLU),
                       ("gelu", activation.GELU), ("silu", activation.SiLU),
                       ("tanh", activation.Tanh), ("sigmoid", activation.Sigmoid)):
        for where in (ffnn, functional, ops):
            if getattr(where, name, None) is not None:
                kinds[getattr(where, name)] = kind
    for name, kind in (("elu", activation.ELU), ("selu", activation.SELU),
                       ("softplus", activation.Softplus), ("hardtanh", activation.Hardtanh),
                       ("relu6", activation.ReLU6), ("celu", activation_more.CELU),
                       ("softsign", activation_more.Softsign), ("mish", activation_more.Mish),
                       ("logsigmoid", activation_more.LogSigmoid),
                       ("tanhshrink", activation_more.Tanhshrink),
                       ("hardswish", activation_more.Hardswish),
                       ("hardsigmoid", activation_more.Hardsigmoid),
                       ("threshold", activation_more.Threshold),
                       ("hardshrink", activation_more.Hardshrink),
                       ("softshrink", activation_more.Softshrink)):
        kinds[getattr(functional, name)] = kind  # F's only: ops' take other arguments
    kinds[ffnn.flatten] = _flatten_from(0)  # torch.flatten(x) flattens every dimension
    kinds[functional.dropout] = _dropout_as_module
    return types.SimpleNamespace(
        ffnn=ffnn, Flatten=linear.Flatten, Dropout=normalization.Dropout,
        Identity=linear.Identity,
        Tensor=Tensor, Module=module.Module, ModuleList=container.ModuleList,
        Sequential=container.Sequential, FlattenFeatures=FlattenFeatures,
        layer_of=chain_layers.layer_of, own_call=chain_layers.own_call,
        functional_kinds=kinds)


def _flatten_from(first: int):
    """``nn.Flatten`` made with the defaults of ``torch.flatten`` / ``Tensor.flatten``
    (``start_dim`` = ``first``), not the module's (1)."""

    def flatten(start_dim: int = first, end_dim: int = -1):
        return _library().Flatten(start_dim, end_dim)

    return flatten


def _dropout_as_module(p: float = 0.5, training: bool = True, inplace: bool = False):
    """``F.dropout(x, p, training)`` as the ``nn.Dropout(p)`` it is (both draw from the
    global stream), or as ``nn.Identity()`` where ``training`` is False (it returns x);
    None in place."""
    if inplace or type(training) is not bool:
        return None
    module = _library().Dropout(p)  # checks p
    return module if training else _library().Identity()
