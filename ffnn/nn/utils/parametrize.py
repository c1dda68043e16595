"""``torch.nn.utils.parametrize``: a module's tensor computed from other tensors at each use.

``register_parametrization(module, "weight", P)`` moves the parameter into
``module.parametrizations.weight.original`` (or ``original0``, ``original1`` … where
``P.right_inverse`` gives several tensors) and makes ``module.weight`` a property that returns
``P(original)`` each time it is read (with ``cached()``: once per block), so gradients reach
the originals through ``P``'s tensor ops. Assigning ``module.weight = W`` stores
``P.right_inverse(W)``. The module's class becomes ``Parametrized<Class>`` (a subclass made
for the module), as torch's, and returns when the last parametrization is removed.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence

from ffnn.autograd import no_grad
from ffnn.nn.container import ModuleDict, ModuleList
from ffnn.nn.module import Module
from ffnn.nn.parameter import Parameter
from ffnn.tensor import Tensor

_cache_enabled = 0
_cache: dict = {}


@contextlib.contextmanager
def cached() -> Iterator[None]:
    """Within the block each parametrized tensor is computed once, at its first read."""
    global _cache_enabled
    _cache_enabled += 1
    try:
        yield
    finally:
        _cache_enabled -= 1
        if not _cache_enabled:
            _cache.clear()


def _register(module: Module, name: str, tensor: Tensor) -> None:
    """``tensor`` as a parameter of ``module`` where it is one, else as a buffer."""
    if isinstance(tensor, Parameter):
        module.register_parameter(name, tensor)
    else:
        module.register_buffer(name, tensor)


def _set_values(original: Tensor, new: Tensor) -> None:
    """``original`` holds ``new``'s values, the same object (an optimizer may hold it)."""
    with no_grad():
        if tuple(original.shape) == tuple(new.shape) and original.dtype == new.dtype:
            if new is not original:
                original.copy_(new)
        else:
            original._data = new.detach().numpy().copy()


class ParametrizationList(ModuleList):
    """The parametrizations of one tensor, applied in order, and its originals."""

    def __init__(self, modules: Sequence[Module], original: Tensor, unsafe: bool = False):
        super().__init__(modules)
        self.unsafe = unsafe
        with no_grad():
            new = original
            for module in reversed(list(self)):
                if hasattr(module, "right_inverse"):
                    new = module.right_inverse(new)
        if not isinstance(new, (Tensor, Sequence)):
            raise ValueError("'right_inverse' must return a Tensor or a Sequence of tensors "
                             f"(list, tuple...). Got {type(new).__name__}")
        self.is_tensor = isinstance(new, Tensor)
        self.ntensors = 1 if self.is_tensor else len(new)
        if self.is_tensor:
            _set_values(original, new)
            _register(self, "original", original)
            return
        for i, value in enumerate(new):
            if not isinstance(value, Tensor):
                raise ValueError(f"'right_inverse' must return a sequence of tensors. Got "
                                 f"{type(value).__name__}")
            if isinstance(original, Parameter):
                value = Parameter(value.detach().numpy().copy(), original.requires_grad)
            _register(self, f"original{i}", value)

    def right_inverse(self, value: Tensor) -> None:
        """Store the originals that give ``value`` (each parametrization's inverse)."""
        with no_grad():
            for module in reversed(list(self)):
                if hasattr(module, "right_inverse"):
                    value = module.right_inverse(value)
            if self.is_tensor:
                _set_values(self.original, value)
            else:
                for i, part in enumerate(value):
                    _set_values(getattr(self, f"original{i}"), part)

    def forward(self) -> Tensor:
        if self.is_tensor:
            x = self[0](self.original)
        else:
            x = self[0](*(getattr(self, f"original{i}") for i in range(self.ntensors)))
        for module in list(self)[1:]:
            x = module(x)
        return x


def _parametrized_class(cls: type) -> type:
    """A new ``Parametrized<cls>`` for one module (its properties are that module's)."""
    return type(f"Parametrized{cls.__name__}", (cls,), {})


def _property(name: str) -> property:
    def get(self):
        if not _cache_enabled:
            return self.parametrizations[name]()
        key = (id(self), name)
        if key not in _cache:
            _cache[key] = self.parametrizations[name]()
        return _cache[key]

    def set(self, value):
        if _cache_enabled:
            raise RuntimeError("Cannot set tensors while caching is enabled (cached())")
        self.parametrizations[name].right_inverse(value)

    return property(get, set)


def is_parametrized(module: Module, tensor_name: str | None = None) -> bool:
    """Whether ``module`` has a parametrization (on ``tensor_name``, when given)."""
    parametrizations = module._modules.get("parametrizations")
    if not isinstance(parametrizations, ModuleDict):
        return False
    return len(parametrizations) > 0 if tensor_name is None else \
        tensor_name in parametrizations._modules


def type_before_parametrizations(module: Module) -> type:
    """The module's class before it was parametrized."""
    return type(module).__bases__[0] if is_parametrized(module) else type(module)


def register_parametrization(module: Module, tensor_name: str, parametrization: Module, *,
                             unsafe: bool = False) -> Module:
    """Make ``module.<tensor_name>`` be ``parametrization(original)`` (the module
    docstring); a second one on the same tensor applies after the first."""
    parametrization.train(module.training)
    if is_parametrized(module, tensor_name):
        chain = module.parametrizations[tensor_name]
        chain.append(parametrization)
        chain.unsafe |= unsafe
        return module
    if tensor_name not in module._parameters and tensor_name not in module._buffers:
        raise ValueError(f"Module '{module}' does not have a parameter, a buffer, or a "
                         f"parametrized element with name '{tensor_name}'")
    original = getattr(module, tensor_name)
    chain = ParametrizationList([parametrization], original, unsafe=unsafe)
    delattr(module, tensor_name)
    if not is_parametrized(module):
        module.__class__ = _parametrized_class(type(module))
        module.parametrizations = ModuleDict()
    setattr(type(module), tensor_name, _property(tensor_name))
    module.parametrizations[tensor_name] = chain
    return module


def remove_parametrizations(module: Module, tensor_name: str,
                            leave_parametrized: bool = True) -> Module:
    """Undo ``register_parametrization`` on ``tensor_name``: the tensor becomes a parameter
    (or buffer) again, with its current parametrized value (``leave_parametrized``) or its
    original."""
    if not is_parametrized(module, tensor_name):
        raise ValueError(f"Module {module} does not have a parametrization on {tensor_name}")
    chain = module.parametrizations[tensor_name]
    if chain.is_tensor:
        original = chain.original
        if leave_parametrized:
            with no_grad():
                _set_values(original, getattr(module, tensor_name))
    elif leave_parametrized:
        value = getattr(module, tensor_name)
        original = Parameter(value.detach().numpy().copy(), value.requires_grad) \
            if value.requires_grad else value.detach()
    else:
        raise ValueError("Cannot leave unparametrized (`leave_parametrized=False`) a tensor "
                         "that is parametrized in terms of a sequence of tensors.")
    del module.parametrizations._modules[tensor_name]
    delattr(type(module), tensor_name)
    _register(module, tensor_name, original)
    if not is_parametrized(module):
        del module._modules["parametrizations"]
        module.__class__ = type(module).__bases__[0]
    return module
