"""``ParameterList`` and ``ParameterDict``: parameters held in a list or a dict and registered
with the module (so ``parameters()``, optimizers and ``state_dict`` see them, under the keys
"0", "1", … or the dict's keys). Tensors put in are wrapped as Parameters, as torch does."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping

from ffnn.nn.module import Module
from ffnn.nn.parameter import Parameter
from ffnn.tensor import Tensor

_TYPE_NAMES = {"float32": "FloatTensor", "float64": "DoubleTensor", "float16": "HalfTensor",
               "int64": "LongTensor", "int32": "IntTensor", "int16": "ShortTensor",
               "int8": "CharTensor", "uint8": "ByteTensor", "bool": "BoolTensor"}


def _as_parameter(value):
    return Parameter(value) if isinstance(value, Tensor) and not isinstance(
        value, Parameter) else value


def _describe(value, type_name: str) -> str:
    if not isinstance(value, Tensor):
        return f"Object of type: {type(value).__name__}"
    size = "x".join(str(n) for n in value.shape)
    kind = "Parameter" if isinstance(value, Parameter) else "Tensor"
    return f"{kind} containing: [{type_name} of size {size}]"


class ParameterList(Module):
    """A list of parameters: ``append``, ``extend``, ``+=``, indexing, ``len``, iteration."""

    def __init__(self, values: Iterable | None = None):
        super().__init__()
        object.__setattr__(self, "_size", 0)
        if values is not None:
            self.extend(values)

    def _index(self, index: int) -> int:
        index = int(index)
        if not -len(self) <= index < len(self):
            raise IndexError(f"index {index} is out of range")
        return index % len(self)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return ParameterList([self[i] for i in range(len(self))[index]])
        return getattr(self, str(self._index(index)))

    def __setitem__(self, index: int, value) -> None:
        setattr(self, str(self._index(index)), _as_parameter(value))

    def __len__(self) -> int:
        return self._size

    def __iter__(self) -> Iterator:
        return (self[i] for i in range(len(self)))

    def __iadd__(self, values: Iterable) -> ParameterList:
        return self.extend(values)

    def __dir__(self):
        return [key for key in super().__dir__() if not key.isdigit()]

    def append(self, value) -> ParameterList:
        object.__setattr__(self, "_size", self._size + 1)
        self[self._size - 1] = value
        return self

    def extend(self, values: Iterable) -> ParameterList:
        for value in values:
            self.append(value)
        return self

    def extra_repr(self) -> str:
        return "\n".join(f"  ({i}): " + _describe(p, f"torch.{p.dtype}" if isinstance(
            p, Tensor) else "") for i, p in enumerate(self))


class ParameterDict(Module):
    """A dict of parameters: ``pd[key]``, ``pd[key] = p``, ``keys/items/values``, ``update``,
    ``get``, ``pop``, ``setdefault``, ``popitem``, ``copy``, ``clear``, ``fromkeys``, ``|``,
    ``in``, ``len``, iteration over the keys (in insertion order; a plain dict given to the
    constructor or ``update`` is taken in its keys' sorted order, as torch takes it)."""

    def __init__(self, parameters: Mapping | Iterable | None = None):
        super().__init__()
        object.__setattr__(self, "_keys", {})
        if parameters is not None:
            self.update(parameters)

    def __getitem__(self, key: str):
        return getattr(self, key)

    def __setitem__(self, key: str, value) -> None:
        self._keys[key] = None
        setattr(self, key, _as_parameter(value))

    def __delitem__(self, key: str) -> None:
        del self._keys[key]
        delattr(self, key)

    def __contains__(self, key) -> bool:
        return key in self._keys

    def __len__(self) -> int:
        return len(self._keys)

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._keys))

    def keys(self):
        return list(self._keys)

    def items(self):
        return [(key, self[key]) for key in self._keys]

    def values(self):
        return [self[key] for key in self._keys]

    def get(self, key: str, default=None):
        return self[key] if key in self else default

    def pop(self, key: str):
        value = self[key]
        del self[key]
        return value

    def setdefault(self, key: str, default=None):
        """``self[key]``, set to ``default`` first when absent."""
        if key not in self:
            self[key] = default
        return self[key]

    def popitem(self) -> tuple:
        """Take out and return the last (key, parameter) pair."""
        key = next(reversed(self._keys))
        return key, self.pop(key)

    def clear(self) -> None:
        for key in list(self._keys):
            del self[key]

    def copy(self) -> ParameterDict:
        """A new ParameterDict holding the same parameters."""
        return ParameterDict(OrderedDict(self.items()))

    def fromkeys(self, keys: Iterable[str], default=None) -> ParameterDict:
        """A new ParameterDict of ``keys``, each holding ``default``."""
        return ParameterDict(OrderedDict((key, default) for key in keys))

    def __or__(self, other: ParameterDict) -> ParameterDict:
        merged = self.copy()
        merged.update(other)
        return merged

    def update(self, parameters: Mapping | Iterable) -> None:
        """Add or replace entries: from an OrderedDict, a ParameterDict or pairs in their
        order, from another mapping in its keys' sorted order (torch's)."""
        if isinstance(parameters, (OrderedDict, ParameterDict)):
            pairs = parameters.items()
        elif isinstance(parameters, Mapping):
            pairs = sorted(parameters.items())
        else:
            pairs = parameters
        for key, value in pairs:
            self[key] = value

    def extra_repr(self) -> str:
        lines = []
        for key, value in self.items():
            name = f"torch.{_TYPE_NAMES.get(str(value.dtype), 'Tensor')}" if isinstance(
                value, Tensor) else ""
            lines.append(f"  ({key}): " + _describe(value, name))
        return "\n".join(lines)
