"""What a traced ``forward``'s Python depends on besides its modules, checked before a replay.

``ffnn.compiler.trace`` reads a model's own ``forward`` as a chain from one eager call, and
the replay then skips that Python. The call may have taken its path for reasons no module
holds: the batch size (``if x.size(0) > 4``), a global flag, a list on the module, Python's
or NumPy's random numbers (a layer dropped at random). As ``torch.compile``'s guards,
:class:`ForwardGuards` notes those facts at the traced call and ``holds`` checks them before
each replay (a few C-level ``map`` calls):

- the batch size: one the forward was read at (``rows``; ``ffnn.compile`` reads the forward
  again for another, and keeps the chain where the path is the same);
- each global the forward's code reads (and the code of the functions and methods it names,
  not the library's), and each attribute of its module it reads that is not a layer or a
  parameter: the very object it was for values that cannot change in place (numbers,
  strings, tuples of them, dtypes, devices, functions, layers); for lists, dicts and sets of
  such values, an equal copy; anything else that could change in place is a reason not to
  trace.

``side_effects`` snapshots what a forward must leave as it found: Python's and NumPy's
random states (a forward drawing from them takes another path at each call) and the
contents of the lists, dicts and sets among its modules' attributes.
"""

from __future__ import annotations

import copy
import dis
import enum
import os
import random
import sysconfig
import types
from operator import eq, is_

import numpy as np

from ffnn import nn
from ffnn.device import device
from ffnn.tensor import Tensor

_CONTAINERS = (list, dict, set)
"""Values guarded by their contents: a copy, compared with ``==``."""
_FIXED = (bool, int, float, complex, str, bytes, type(None), frozenset, range, np.dtype,
          np.generic, device, enum.Enum, nn.Module, Tensor, np.ndarray)
"""Values guarded by identity: they cannot change in place, or what can change in them (a
layer's options, a tensor's values) is the replay's own business, as the model's is."""
_SKIPPED = (types.ModuleType, type, types.BuiltinFunctionType, types.MethodType,
            types.MethodWrapperType, property, staticmethod, classmethod)
"""What the code may name without deciding anything by its value: modules, classes,
built-ins, bound methods (their functions are read where they are a program's own)."""
_NOT_READ = (os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep,
             os.path.dirname(os.path.abspath(np.__file__)) + os.sep,
             sysconfig.get_paths()["stdlib"] + os.sep)
"""Where the code of functions not read lies: this library, NumPy, Python's own."""
_MISSING = object()


def _fixed(value) -> bool:
    """Whether ``value`` cannot change in place (a tuple: none of its items can)."""
    if isinstance(value, tuple):
        return all(map(_fixed, value))
    return isinstance(value, _FIXED) or isinstance(value, types.FunctionType)


def _plain(value) -> bool:
    """Whether ``value`` is a list, dict or set of fixed values or of such containers (a
    copy of it compares with ``==`` as it does)."""
    if isinstance(value, dict):
        return all(map(_fixed, value)) and all(map(_plain_item, value.values()))
    return isinstance(value, _CONTAINERS) and all(map(_plain_item, value))


def _plain_item(value) -> bool:
    return _plain(value) if isinstance(value, _CONTAINERS) else \
        _fixed(value) and not isinstance(value, (Tensor, np.ndarray))


def _program_code(function) -> bool:
    """Whether ``function`` is a program's own Python function (not this library's,
    NumPy's or the standard library's), whose code is read for the names it uses."""
    return isinstance(function, types.FunctionType) and \
        not function.__code__.co_filename.startswith(_NOT_READ)


def _names(code: types.CodeType) -> tuple[set, set]:
    """(the globals ``code`` reads, the attributes it reads of its first argument), with
    the globals of the code nested in it (comprehensions, lambdas)."""
    globals_read, attributes, first, previous = set(), set(), code.co_varnames[:1], None
    for instruction in dis.get_instructions(code):
        if instruction.opname == "LOAD_GLOBAL":
            globals_read.add(instruction.argval)
        elif instruction.opname in ("LOAD_ATTR", "LOAD_METHOD") and previous is not None \
                and previous.opname == "LOAD_FAST" and (previous.argval,) == first:
            attributes.add(instruction.argval)
        previous = instruction
    for constant in code.co_consts:
        if isinstance(constant, types.CodeType):
            globals_read |= _names(constant)[0]
    return globals_read, attributes


class ForwardGuards:
    """The facts a traced forward's path may depend on (see the module), from ``read``."""

    def __init__(self, rows: int):
        self.rows = {rows}
        self._fixed: list[tuple[dict, str, object]] = []  # (namespace, name, the object)
        self._plain: list[tuple[dict, str, object]] = []  # (namespace, name, a copy)
        self._columns: tuple = ([], [], [], [], [], [])
        self._none = True  # nothing guarded but the rows

    @classmethod
    def read(cls, model, rows: int) -> ForwardGuards | str:
        """The guards of ``model``'s forwards (those of its modules whose class writes its
        own) read at a call of ``rows`` rows, or the reason the path cannot be guarded."""
        guards, seen = cls(rows), set()
        for module in model.modules():
            forward = vars(module).get("forward", type(module).forward)
            if _program_code(forward):
                reason = guards._read_code(forward, module, seen)
                if reason is not None:
                    return reason
        fixed, plain = guards._fixed, guards._plain
        guards._columns = tuple([row[i] for row in rows] for rows in (fixed, plain)
                                for i in range(3))
        guards._none = not fixed and not plain
        return guards

    def _read_code(self, function, module, seen: set) -> str | None:
        """Guards for what ``function`` (a method of ``module``, or a function it calls)
        reads, and for the functions and methods of the program's it names, each once."""
        if function.__code__ in seen:
            return None
        seen.add(function.__code__)
        globals_read, attributes = _names(function.__code__)
        for name in sorted(globals_read):
            reason = self._guard(function.__globals__, name, module, seen, "the global")
            if reason is not None:
                return reason
        for name in sorted(attributes):
            if name in vars(module):
                reason = self._guard(vars(module), name, module, seen, "the attribute")
            else:  # a method, or a layer, parameter or buffer (the replay's own)
                method = getattr(type(module), name, None)
                reason = self._read_code(method, module, seen) if _program_code(method) \
                    else None
            if reason is not None:
                return reason
        return None

    def _guard(self, namespace: dict, name: str, module, seen: set, kind: str) -> str | None:
        """Guard the value ``name`` has in ``namespace``, or say why it cannot be."""
        value = namespace.get(name, _MISSING)
        if value is _MISSING or isinstance(value, _SKIPPED):
            return None  # a built-in, a module, a class: its name decides nothing by value
        if _fixed(value) or callable(value) and not isinstance(value, _CONTAINERS):
            self._fixed.append((namespace, name, value))
            return self._read_code(value, module, seen) if _program_code(value) else None
        if _plain(value):
            self._plain.append((namespace, name, copy.deepcopy(value)))
            return None
        return (f"{type(module).__name__}.forward reads {kind} {name!r}, a "
                f"{type(value).__name__} that can change without being assigned again")

    def values_hold(self) -> bool:
        """Whether every guarded name holds the object it held (a container: an equal
        one)."""
        spaces, names, values, plain_spaces, plain_names, copies = self._columns
        return (all(map(is_, map(dict.get, spaces, names), values))
                and all(map(eq, map(dict.get, plain_spaces, plain_names), copies)))

    def holds(self, rows: int) -> bool:
        """Whether a replay of ``rows`` rows takes the path the forward took when read."""
        return rows in self.rows and (self._none or self.values_hold())

    def same_values(self, other: ForwardGuards) -> bool:
        """Whether ``other`` guards the same names with the same values (another reading of
        the same forward, at another batch size)."""
        mine, theirs = self._columns, other._columns
        return all(len(a) == len(b) for a, b in zip(mine, theirs)) and \
            all(map(is_, mine[0] + mine[2], theirs[0] + theirs[2])) and \
            mine[1] == theirs[1] and mine[4] == theirs[4] and mine[5] == theirs[5] and \
            all(map(is_, mine[3], theirs[3]))


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
