"""What a traced ``forward``'s Python depends on besides its modules, checked before a replay.

``ffnn.compiler.trace`` reads a model's own ``forward`` as a chain from one eager call, and
the replay then skips that Python. The call may have taken its path for reasons no module
holds: the batch size or dtype (``if x.size(0) > 4``), a global flag, a class attribute, a
list on the module, a variable of an enclosing function, random numbers. As
``torch.compile``'s guards, :class:`ForwardGuards` reads the code the forward runs (each
module's ``forward``, and the program's functions, methods, ``__call__``\\ s and ``super()``
methods it names, found by name in the code) for what it reads, and ``holds`` checks those
values before each replay:

- the batch: a number of rows and a dtype the forward was read at (``keys``; ``ffnn.compile``
  and the Trainer read the forward again for another, keeping the chain where the path is
  the same);
- each global, class attribute, closure variable and attribute of the program's objects the
  code reads (``self.flag``, ``Net.FLAG``, ``config.FLAG`` of a Python module): the very
  object it was, for values that cannot change in place (numbers, strings, tuples of them,
  dtypes, devices, functions, layers, frozen dataclasses), or an equal copy of a list, dict or
  set of such values; a value that could change in place otherwise (an array, a config
  object, ``os.environ``, a random generator's method) is a reason not to trace;
- a forward that changes what it reads (a global counter), draws Python's or NumPy's random
  numbers or seeds a generator (``side_effects``, ``seeding``) is not traced either.

Code it cannot follow (a function reached through a local variable) is read no further:
what such code reads is not guarded.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import dis
import enum
import functools
import os
import random
import sysconfig
import types
from operator import attrgetter, eq, is_

import numpy as np

from ffnn import nn
from ffnn import random as ffnn_random
from ffnn.device import device
from ffnn.tensor import Tensor

_CONTAINERS = (list, dict, set)
"""Values guarded by their contents: a copy, compared with ``==``."""
_FIXED = (bool, int, float, complex, str, bytes, type(None), frozenset, range, np.dtype,
          np.generic, device, enum.Enum, nn.Module, Tensor, types.FunctionType,
          types.BuiltinFunctionType, type)
"""Values guarded by identity: they cannot change in place, or what can change in them is
seen otherwise (a layer's options by ``Watch``, a tensor's values by the recorder)."""
_NOT_READ = (os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep,
             os.path.dirname(os.path.abspath(np.__file__)) + os.sep)
"""Where the code of functions not read lies: this library, NumPy (and Python's own:
``_STDLIB``, but for the packages installed there)."""
_STDLIB = sysconfig.get_paths()["stdlib"] + os.sep
_ATTRIBUTE_LOADS = ("LOAD_ATTR", "LOAD_METHOD")
_MISSING = object()


def _fixed(value) -> bool:
    """Whether ``value`` cannot change in place (a tuple: none of its items can)."""
    if isinstance(value, tuple):
        return all(map(_fixed, value))
    if isinstance(value, types.BuiltinFunctionType):  # a method of a module, not of an object
        owner = getattr(value, "__self__", None)
        return owner is None or isinstance(owner, types.ModuleType)
    return isinstance(value, _FIXED) or dataclasses.is_dataclass(value) and not isinstance(
        value, type) and type(value).__dataclass_params__.frozen and all(
        _fixed(getattr(value, f.name)) for f in dataclasses.fields(value))


def _plain(value) -> bool:
    """Whether ``value`` is a list, dict or set of fixed values or of such containers (a
    copy of it compares with ``==`` as it does)."""
    if isinstance(value, dict):
        return all(map(_fixed, value)) and all(map(_plain_item, value.values()))
    return isinstance(value, _CONTAINERS) and all(map(_plain_item, value))


def _plain_item(value) -> bool:
    return _plain(value) if isinstance(value, _CONTAINERS) else \
        _fixed(value) and not isinstance(value, Tensor)


def _program_code(function) -> bool:
    """Whether ``function`` is a program's own Python function (not this library's,
    NumPy's or the standard library's), whose code is read for the names it uses."""
    if not isinstance(function, types.FunctionType):
        return False
    file = function.__code__.co_filename
    return not file.startswith(_NOT_READ) and not (
        file.startswith(_STDLIB) and "site-packages" not in file[len(_STDLIB):])


def _reads(code: types.CodeType, first: str | None) -> tuple[set, list, set]:
    """(the globals ``code`` reads, the attribute chains it reads from a global or from
    ``first``, the attribute names it reads of anything), with those of the code nested in it
    (comprehensions, lambdas, inner functions, where ``first`` is a closure variable)."""
    globals_read, chains, names, chain = set(), [], set(), None
    for instruction in dis.get_instructions(code):
        op, value = instruction.opname, instruction.argval
        if op in _ATTRIBUTE_LOADS:
            names.add(value)
            if chain is not None:
                chain.append(value)
                continue
        elif op == "LOAD_GLOBAL":
            globals_read.add(value)
            chain = ["global", value]
            chains.append(chain)
            continue
        elif op.startswith("LOAD_FAST") or op in ("LOAD_DEREF", "LOAD_CLOSURE"):
            last = value[-1] if isinstance(value, tuple) else value
            if first is not None and last == first:
                chain = ["self"]
                chains.append(chain)
                continue
        chain = None
    for constant in code.co_consts:
        if isinstance(constant, types.CodeType):
            nested = _reads(constant, first if first in constant.co_freevars else None)
            globals_read |= nested[0]
            chains += nested[1]
            names |= nested[2]
    return globals_read, chains, names


class ForwardGuards:
    """The facts a traced forward's path may depend on (see the module), from ``read``."""

    def __init__(self):
        self.keys: set = set()  # (rows, dtype) of the batches the forward was read at
        self._entries: list[tuple[dict, str, object]] = []  # (namespace, name, the object)
        self._copies: list[tuple[dict, str, object]] = []  # (namespace, name, a copy)
        self._others: list[tuple[object, object, bool]] = []  # (a getter, value, by ==)
        self._columns: tuple = ([], [], [], [], [], [])
        self._none = True  # nothing guarded but the batches

    @classmethod
    def read(cls, model) -> ForwardGuards | str:
        """The guards of ``model``'s forwards (those of its modules whose class writes its
        own), or the reason the path cannot be guarded."""
        guards, seen = cls(), set()
        for module in model.modules():
            forward = vars(module).get("forward", type(module).forward)
            if _program_code(forward):
                reason = guards._code(forward, module, seen, bound=True)
                if reason is not None:
                    return reason
        entries, copies = guards._entries, guards._copies
        guards._columns = tuple([row[i] for row in rows] for rows in (entries, copies)
                                for i in range(3))
        guards._none = not entries and not copies and not guards._others
        return guards

    def _code(self, function, scope, seen: set, bound: bool = False) -> str | None:
        """Guards for what ``function`` reads (a method of ``scope`` where ``bound``, its
        first argument ``scope``; else a function ``scope``'s code calls), and for the
        program's functions and methods it names, each once."""
        key = (function.__code__, id(scope), bound)
        if key in seen:
            return None
        seen.add(key)
        for name, cell in zip(function.__code__.co_freevars, function.__closure__ or ()):
            try:
                contents = cell.cell_contents
            except ValueError:  # an empty cell: nothing to read yet
                continue
            reason = self._value(contents, (attrgetter("cell_contents"), cell), name, scope,
                                 seen)
            if reason is not None:
                return reason
        code = function.__code__
        globals_read, chains, names = _reads(code, code.co_varnames[0] if
                                             bound and code.co_argcount else None)
        for chain in chains:
            reason = self._chain(chain, function.__globals__, scope, seen)
            if reason is not None:
                return reason
        if "super" in globals_read and scope is not None:  # super().name: the bases' own
            for base in type(scope).__mro__[1:]:
                for name in sorted(names):
                    method = vars(base).get(name)
                    if _program_code(method) and (reason := self._code(method, scope, seen,
                                                                        bound=True)):
                        return reason
        return None

    def _chain(self, chain: list, namespace: dict, scope, seen: set) -> str | None:
        """Guard a chain of reads, ``["global", name, attr, ...]`` or ``["self", attr,
        ...]``: each step's value in its holder, as far as the holders are modules, classes
        or the program's objects."""
        if chain[0] == "global":
            holder, names = namespace, chain[1:]
        else:
            holder, names = scope, chain[1:]
        for name in names:
            found = _lookup(holder, name)
            if found is None:  # a built-in, or what an object gives through __getattr__
                return None
            value, where = found
            reason = self._value(value, where, name, holder if isinstance(
                holder, nn.Module) else scope, seen, method=not isinstance(holder, dict))
            if reason is not None or not isinstance(value, (types.ModuleType, type,
                                                            nn.Module)):
                return reason
            holder = value
        return None

    def _value(self, value, where, name: str, scope, seen: set,
               method: bool = False) -> str | None:
        """Guard ``value``, read as ``name`` from ``where`` (a dict, a class's namespace or
        a (getter, object) pair), or say why it cannot be; read the program's code it names
        (``method``: a function found on ``scope``'s class, called bound to it)."""
        if isinstance(value, types.ModuleType):
            return None  # its attributes are read one by one (``_chain``)
        if isinstance(value, (staticmethod, classmethod)):
            self._guard(where, name, value, False)
            return self._code(value.__func__, scope, seen) if _program_code(
                value.__func__) else None
        if isinstance(value, types.MethodType) and isinstance(value.__self__, nn.Module):
            self._guard(where, name, value, False)  # a bound method: each access a new one
            return self._code(value.__func__, value.__self__, seen) \
                if _program_code(value.__func__) else None
        if _fixed(value):
            self._guard(where, name, value, False)
            if _program_code(value):
                return self._code(value, scope, seen, bound=method and isinstance(
                    scope, nn.Module))
            return None
        if _plain(value):
            self._guard(where, name, copy.deepcopy(value), True)
            return None
        call = vars(type(value)).get("__call__") if hasattr(value, "__dict__") else None
        if _program_code(call):  # an object of the program's, called as a function
            self._guard(where, name, value, False)
            return self._code(call, value, seen, bound=True)
        if isinstance(value, functools.partial) and _fixed(value.func) and _fixed(
                value.args) and _plain(value.keywords):
            self._guard(where, name, value, False)
            self._others.append(((_partial_parts, value), _partial_parts(value), True))
            return None
        owner = type(scope).__name__ if scope is not None else "the model"
        return (f"{owner}.forward reads {name!r}, a {type(value).__name__} that can change "
                "without being assigned again")

    def _guard(self, where, name: str, value, by_equality: bool) -> None:
        if isinstance(where, dict):
            (self._copies if by_equality else self._entries).append((where, name, value))
        elif isinstance(where, tuple):  # (a getter, its argument)
            getter, argument = where
            self._others.append(((getter, argument), value, by_equality))
        else:  # a class's namespace (a mappingproxy)
            self._others.append(((_class_entry, (where, name)), value, by_equality))

    def values_hold(self) -> bool:
        """Whether every guarded name holds the object it held (a container: an equal
        one)."""
        spaces, names, values, copy_spaces, copy_names, copies = self._columns
        return (all(map(is_, map(dict.get, spaces, names), values))
                and all(map(eq, map(dict.get, copy_spaces, copy_names), copies))
                and all(_other_holds(getter, argument, value, by_equality)
                        for (getter, argument), value, by_equality in self._others))

    def holds(self, batch: np.ndarray) -> bool:
        """Whether a replay of ``batch`` (its rows and dtype) takes the path the forward
        took when read."""
        return (batch.shape[0], batch.dtype) in self.keys and (self._none or self.values_hold())

    def same_values(self, other: ForwardGuards) -> bool:
        """Whether ``other`` guards the same names with the same values (another reading of
        the same forward, at another batch)."""
        mine, theirs = self._columns, other._columns
        return all(len(a) == len(b) for a, b in zip(mine, theirs)) and \
            all(map(is_, mine[0] + mine[2] + mine[3], theirs[0] + theirs[2] + theirs[3])) and \
            mine[1] == theirs[1] and mine[4] == theirs[4] and mine[5] == theirs[5] and \
            len(self._others) == len(other._others) and all(
                a[0][1] is b[0][1] and (a[1] == b[1] if a[2] else a[1] is b[1])
                for a, b in zip(self._others, other._others))


def _lookup(holder, name: str) -> tuple | None:
    """(the value ``holder.name`` gives, where it lies: a dict, a class's namespace, or a
    (getter, object) pair), without running code, or None where a plain lookup cannot tell
    (built-ins, ``__getattr__`` of other objects)."""
    if isinstance(holder, dict):  # a function's globals
        if name in holder:
            return holder[name], holder
        return None  # a built-in
    if isinstance(holder, nn.Module):
        own = vars(holder)
        if name in own:
            return own[name], own
        for registry in ("_modules", "_parameters", "_buffers"):
            table = own.get(registry, {})
            if name in table:
                return table[name], table
    elif hasattr(holder, "__dict__") and name in vars(holder) and not isinstance(holder, type):
        return vars(holder)[name], vars(holder)
    cls = holder if isinstance(holder, type) else type(holder)
    for base in cls.__mro__:
        if name in vars(base):
            return vars(base)[name], base
    return None


def _class_entry(where: tuple):
    cls, name = where
    return vars(cls).get(name, _MISSING)


def _partial_parts(value: functools.partial) -> tuple:
    return value.func, value.args, dict(value.keywords)


def _other_holds(getter, argument, value, by_equality: bool) -> bool:
    try:
        found = getter(argument)
    except ValueError:  # an emptied cell
        return False
    return found == value if by_equality else found is value


def side_effects(model) -> tuple:
    """What a forward of ``model`` must leave as it found: Python's and NumPy's random
    states, and each list, dict and set among its modules' attributes (a copy where it holds
    plain values, else its items' identities)."""
    state = np.random.get_state()
    internal = set(vars(nn.Module()))
    kept = [(id(module), name, _contents(value)) for module in model.modules()
            for name, value in vars(module).items()
            if name not in internal and isinstance(value, _CONTAINERS)]
    return random.getstate(), state[1].tobytes(), state[2:], kept


def _contents(value) -> object:
    """A container's contents as ``==`` compares them: a copy of plain values, else the
    identities of its items (keys and values for a dict)."""
    if _plain(value):
        return copy.deepcopy(value)
    items = value.items() if isinstance(value, dict) else value
    return [id(item) if not isinstance(item, tuple) else tuple(map(id, item))
            for item in items]


@contextlib.contextmanager
def seeding():
    """Inside, a call that seeds or sets one of ffnn's generators is counted: the list it
    gives gains an entry per call (a forward seeding the stream its dropout draws from
    draws other masks than a replay would)."""
    calls: list = []
    cls = ffnn_random.Generator
    originals = {name: getattr(cls, name) for name in ("manual_seed", "set_state")}

    def counting(method):
        @functools.wraps(method)
        def counted(*args, **kwargs):
            calls.append(method.__name__)
            return method(*args, **kwargs)
        return counted

    for name, method in originals.items():
        setattr(cls, name, counting(method))
    try:
        yield calls
    finally:
        for name, method in originals.items():
            setattr(cls, name, method)
