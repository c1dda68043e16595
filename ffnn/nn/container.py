"""Containers: ``Sequential`` (layers applied in order), ``ModuleList``, ``ModuleDict``."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Iterator

import numpy as np

from ffnn.autograd import is_grad_enabled
from ffnn.backend import xp
from ffnn.nn import chain_call
from ffnn.nn.module import Module
from ffnn.nn.traits import declare
from ffnn.nn.traits import of as traits_of
from ffnn.tensor import Tensor


class _NumberedChildren:
    """A list of child modules named ``0``, ``1``, … as torch's ``Sequential`` and
    ``ModuleList``: ``len``, iteration, ``x[i] = m``, ``del x[i]`` / ``del x[a:b]`` (the
    rest numbered again), ``insert``, ``extend``, ``pop``."""

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def _key(self, index: int) -> str:
        n = len(self)
        if not -n <= index < n:
            raise IndexError(f"index {index} is out of range for {type(self).__name__} of "
                             f"length {n}")
        return list(self._modules)[index % n]

    def __setitem__(self, index: int, module: Module) -> None:
        self.add_module(self._key(index), _check_module(module, index))

    def __delitem__(self, index) -> None:
        keys = list(self._modules)[index] if isinstance(index, slice) else [self._key(index)]
        for key in keys:
            del self._modules[key]
        if all(k.isdigit() for k in self._modules):  # renumber, as torch does
            self._renumber(list(self._modules.values()))

    def _renumber(self, items: list) -> None:
        self._modules.clear()
        for i, item in enumerate(items):
            self._modules[str(i)] = item

    def insert(self, index: int, module: Module):
        items = list(self._modules.values())
        n = len(items)
        if not -n <= index <= n:
            raise IndexError(f"index {index} is out of range for {type(self).__name__} of "
                             f"length {n}")
        items.insert(index % (n + 1) if index < 0 else index, _check_module(module, index))
        self._renumber(items)
        return self

    def extend(self, modules: Iterable[Module]):
        for module in modules:
            self.append(module)
        return self

    def pop(self, key: int):
        """Take out and return the child at ``key``."""
        found = self[key]
        del self[key]
        return found


class Sequential(_NumberedChildren, Module):
    """Apply the given modules in order: y = fₙ(…f₂(f₁(x))). Indexing, slicing, ``len``,
    ``append``, ``insert``, ``pop`` and ``del`` as in torch; children are named ``0``,
    ``1``, … (or by an OrderedDict)."""

    def __init__(self, *modules):
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], OrderedDict):
            for name, module in modules[0].items():
                self.add_module(name, _check_module(module, name))
        else:
            for index, module in enumerate(modules):
                self.add_module(str(index), _check_module(module, index))

    inference_block_rows = 4096
    """Rows per block when a large batch is run without gradients (see ``forward``)."""

    def forward(self, input):
        """Apply the modules in order. Without gradients (``no_grad``), a batch of more than
        ``inference_block_rows`` rows through row-wise modules only (each output row depends
        on its input row alone) runs in blocks of rows, written into one output: the
        intermediates then stay small, in cache and reused, instead of one fresh array of
        rows × width per layer. The result is the same row for row."""
        if type(input) is np.ndarray and input.dtype.char in "fd" and \
                chain_call.takes_arrays(self):
            input = Tensor._make(input, False, None)  # as the first layer would take it
        if (not is_grad_enabled() and isinstance(input, Tensor) and input.ndim == 2
                and input.shape[0] > 2 * self.inference_block_rows and self._row_wise()):
            return self._forward_in_blocks(input)
        if isinstance(input, Tensor):  # plain layers: one node of the graph, or one call
            out = (chain_call.call if is_grad_enabled() else chain_call.infer)(self, input)
            if out is not None:
                return out
        for module in self._modules.values():
            input = module(input)
        return input

    def _row_wise(self) -> bool:
        return all(_is_row_wise(module) for module in self._modules.values())

    def _forward_in_blocks(self, input: Tensor) -> Tensor:
        rows, step = input.shape[0], self.inference_block_rows
        out = None
        for start in range(0, rows, step):
            block = Tensor._make(input._data[start:start + step], False, None)
            for module in self._modules.values():
                block = module(block)
            if out is None:
                out = xp(block._data).empty((rows, *block.shape[1:]), dtype=block.dtype)
            out[start:start + step] = block._data
        return Tensor._make(out, False, None)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return Sequential(OrderedDict(list(self._modules.items())[index]))
        return self._modules[self._key(index)]

    def append(self, module: Module) -> Sequential:
        self.add_module(str(len(self)), _check_module(module, len(self)))
        return self


class ModuleList(_NumberedChildren, Module):
    """A list of modules whose parameters are registered (a Python list's operations, as
    torch's: ``append``, ``extend``, ``insert``, ``pop``, ``x[i] = m``, ``del x[i]``,
    ``+=``, ``+``)."""

    def __init__(self, modules: Iterable[Module] | None = None):
        super().__init__()
        for module in modules or []:
            self.append(module)

    def append(self, module: Module) -> ModuleList:
        self.add_module(str(len(self._modules)), _check_module(module, len(self._modules)))
        return self

    def __getitem__(self, index):
        values = list(self._modules.values())
        return ModuleList(values[index]) if isinstance(index, slice) else values[index]

    def __iadd__(self, modules: Iterable[Module]) -> ModuleList:
        return self.extend(modules)

    def __add__(self, other: Iterable[Module]) -> ModuleList:
        return ModuleList([*self, *other])

    def __repr__(self) -> str:
        """torch's: a run of equal children printed once, ``(2-4): 3 x Linear(...)``."""
        runs: list[list] = []  # [first index, last index, repr]
        for index, child in enumerate(self._modules.values()):
            text = repr(child)
            if runs and runs[-1][2] == text:
                runs[-1][1] = index
            else:
                runs.append([index, index, text])
        name = type(self).__name__
        if not runs:
            return f"{name}()"
        lines = [(f"({first}): " if first == last else
                  f"({first}-{last}): {last - first + 1} x ") + text.replace("\n", "\n  ")
                 for first, last, text in runs]
        return f"{name}(\n  " + "\n  ".join(lines) + "\n)"


class ModuleDict(Module):
    """A dict of modules whose parameters are registered."""

    def __init__(self, modules: dict | None = None):
        super().__init__()
        for name, module in (modules or {}).items():
            self[name] = module

    def __getitem__(self, key: str) -> Module:
        return self._modules[key]

    def __setitem__(self, key: str, module: Module) -> None:
        self.add_module(key, _check_module(module, key))

    def __contains__(self, key: str) -> bool:
        return key in self._modules

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules)

    def keys(self):
        return self._modules.keys()

    def items(self):
        return self._modules.items()

    def values(self):
        return self._modules.values()

    def __delitem__(self, key: str) -> None:
        del self._modules[key]

    def pop(self, key: str) -> Module:
        """Take out and return the module ``key``."""
        return self._modules.pop(key)

    def clear(self) -> None:
        self._modules.clear()

    def update(self, modules) -> None:
        """Add or replace modules from a mapping or an iterable of (name, module) pairs."""
        pairs = modules.items() if hasattr(modules, "items") else modules
        for pair in pairs:
            if len(pair) != 2:
                raise ValueError(f"ModuleDict update sequence element has length {len(pair)}; "
                                 "2 is required")
            self[pair[0]] = pair[1]


def _is_row_wise(module: Module) -> bool:
    """True for the modules whose output row i depends on input row i alone (in eval), as
    their traits declare (``ffnn.nn.traits``)."""
    traits = traits_of(module)
    return traits is not None and traits.is_rowwise(module)


def _check_module(module, where) -> Module:
    if not isinstance(module, Module):
        raise TypeError(
            f"expected an ffnn.nn.Module at position {where!r}. Received: {type(module).__name__}"
        )
    return module


def _onnx_sequential(g, m, x, path):
    for name, child in m._modules.items():  # every position a forward runs, shared ones too
        x = g.convert(child, x, f"{path}.{name}" if path else name)
    return x


declare(Sequential, config=(), onnx=_onnx_sequential, rowwise=Sequential._row_wise)
declare(ModuleList, config=())
declare(ModuleDict, config=())
