"""The base of ``torch.nn.utils.prune`` (``ffnn.nn.utils.prune``): a pruning method computes a
mask M ∈ {0, 1} of a tensor's shape, and ``apply`` reparametrizes ``module.<name>`` as
W = W_orig ⊙ M.

After ``apply`` the module holds the parameter ``<name>_orig``, the buffer ``<name>_mask`` and
the plain attribute ``<name>``, which the method (a forward pre-hook) recomputes before each
forward; so dL/dW_orig = M ⊙ dL/dW. A second pruning of the same tensor joins the first in a
``PruningContainer``, which prunes only what is left: the unpruned entries (unstructured), the
unpruned channels along ``dim`` (structured) or everything (global).

Methods take and give ffnn tensors, as torch's do, so a program's own subclass works
unchanged; the built-in ones compute on the arrays, outside the graph.
"""

from __future__ import annotations

import numbers
from abc import ABC, abstractmethod
from typing import TYPE_CHECKING

from ffnn.autograd import no_grad
from ffnn.backend import xp
from ffnn.nn.module import _as_array
from ffnn.tensor import Tensor

if TYPE_CHECKING:
    from ffnn.nn.module import Module


def wrap(array) -> Tensor:
    """An array as a tensor outside the graph."""
    return Tensor._make(array, False, None)


as_array = _as_array
"""The array of a tensor (ffnn's or torch's) or of anything array-like (the module's own
conversion, as ``load_state_dict`` reads values)."""


def pruning_hooks(module: Module) -> dict:
    """The module's forward pre-hooks (an empty dict where it has none yet)."""
    return module.__dict__.get("_forward_pre_hooks", {})


class BasePruningMethod(ABC):
    """A way to prune one tensor: subclasses set ``PRUNING_TYPE`` (``'unstructured'``,
    ``'structured'`` with a ``dim`` attribute, or ``'global'``) and define ``compute_mask``."""

    PRUNING_TYPE: str
    _tensor_name: str

    def __call__(self, module: Module, inputs) -> None:
        """The forward pre-hook: ``module.<name>`` = W_orig ⊙ M."""
        setattr(module, self._tensor_name, self.apply_mask(module))

    @abstractmethod
    def compute_mask(self, t: Tensor, default_mask: Tensor) -> Tensor:
        """The mask for scores ``t``, zero wherever ``default_mask`` (the earlier mask, ones
        before any pruning; ``t``'s shape) is zero."""

    def apply_mask(self, module: Module) -> Tensor:
        """W_orig ⊙ M from the module's ``<name>_orig`` and ``<name>_mask`` (differentiable in
        W_orig)."""
        if self._tensor_name is None:
            raise AssertionError(f"Module {module} has to be pruned")
        mask = getattr(module, self._tensor_name + "_mask")
        orig = getattr(module, self._tensor_name + "_orig")
        return mask.to(dtype=orig.dtype) * orig

    @classmethod
    def apply(cls, module: Module, name: str, *args, importance_scores=None, **kwargs):
        """Prune ``module.<name>`` with ``cls(*args, **kwargs)``, scored by
        ``importance_scores`` (the tensor itself where None); returns the method now hooked
        (a ``PruningContainer`` where the tensor was pruned before). AssertionError where
        ``importance_scores`` has another shape than the tensor."""
        hooks = pruning_hooks(module)
        keys = [key for key, hook in hooks.items()
                if isinstance(hook, BasePruningMethod) and hook._tensor_name == name]
        if len(keys) > 1:
            raise AssertionError(f"Avoid adding multiple pruning hooks to the same tensor {name} "
                                 f"of module {module}. Use a PruningContainer.")
        method = cls(*args, **kwargs)
        method._tensor_name = name
        old = hooks[keys[0]] if keys else None
        if old is not None:
            container = old if isinstance(old, PruningContainer) else PruningContainer(old)
            container.add_pruning_method(method)
            method = container
        try:
            _reparametrize(method, module, name, importance_scores, first=old is None)
        except Exception:
            if old is not None and method is old:  # the old container, as it was
                old._pruning_methods = old._pruning_methods[:-1]
            raise
        for key in keys:
            del hooks[key]
        module.register_forward_pre_hook(method)
        return method

    def prune(self, t: Tensor, default_mask: Tensor | None = None,
              importance_scores: Tensor | None = None) -> Tensor:
        """t ⊙ M, M computed from ``importance_scores`` (``t`` where None) on top of
        ``default_mask`` (ones where None)."""
        if importance_scores is not None and \
                tuple(importance_scores.shape) != tuple(t.shape):
            raise AssertionError("importance_scores should have the same shape as tensor t, "
                                 f"got {tuple(importance_scores.shape)} vs {tuple(t.shape)}")
        scores = t if importance_scores is None else importance_scores
        if default_mask is None:
            default_mask = wrap(xp(as_array(t)).ones_like(as_array(t)))
        return t * self.compute_mask(scores, default_mask=default_mask)

    def remove(self, module: Module) -> None:
        """Make the pruning permanent: the parameter ``<name>`` again (the ``<name>_orig``
        object, now holding W_orig ⊙ M); ``<name>_orig`` and ``<name>_mask`` go."""
        if self._tensor_name is None:
            raise AssertionError(f"Module {module} has to be pruned before pruning can be "
                                 "removed")
        name = self._tensor_name
        weight = self.apply_mask(module)
        if name in module.__dict__:
            delattr(module, name)
        orig = module._parameters.pop(name + "_orig")
        with no_grad():
            orig.data.copy_(weight.detach())
        del module._buffers[name + "_mask"]
        setattr(module, name, orig)


def _reparametrize(method: BasePruningMethod, module: Module, name: str, importance_scores,
                   first: bool) -> None:
    """Move W to ``<name>_orig`` (``first``), store M = ``method.compute_mask`` as
    ``<name>_mask`` and set ``module.<name>`` = W_orig ⊙ M; undone where that fails."""
    tensor = getattr(module, name)  # after a first pruning, W_orig ⊙ M, as torch scores it
    scores = tensor if importance_scores is None else importance_scores
    if tuple(scores.shape) != tuple(tensor.shape):
        raise AssertionError(f"importance_scores should have the same shape as parameter {name} "
                             f"of {module}, got {tuple(scores.shape)} vs {tuple(tensor.shape)}")
    if first:
        module.register_parameter(name + "_orig", tensor)
        del module._parameters[name]
        default_mask = wrap(xp(tensor._data).ones_like(tensor._data))
    else:
        default_mask = wrap(as_array(getattr(module, name + "_mask")).copy())
    previous = module._buffers.get(name + "_mask")
    try:
        mask = method.compute_mask(scores, default_mask=default_mask)
        module.register_buffer(name + "_mask", mask)
        setattr(module, name, method.apply_mask(module))
    except Exception:
        if first:
            module._buffers.pop(name + "_mask", None)
            module.register_parameter(name, module._parameters.pop(name + "_orig"))
        else:
            module._buffers[name + "_mask"] = previous
        raise


class PruningContainer(BasePruningMethod):
    """The pruning methods applied one after another to one tensor (iterative pruning); its
    mask is the last method's, computed on what the earlier ones left."""

    def __init__(self, *args: BasePruningMethod) -> None:
        self._pruning_methods: tuple[BasePruningMethod, ...] = ()
        self._tensor_name = getattr(args[0], "_tensor_name", None) if args else None
        for method in args:
            self.add_pruning_method(method)

    def add_pruning_method(self, method: BasePruningMethod) -> None:
        """Append ``method``: TypeError for a non-method, ValueError where it prunes another
        tensor."""
        if not isinstance(method, BasePruningMethod):
            raise TypeError(f"{type(method)} is not a BasePruningMethod subclass")
        if self._tensor_name is None:
            self._tensor_name = method._tensor_name
        elif self._tensor_name != method._tensor_name:
            raise ValueError("Can only add pruning methods acting on the parameter named "
                             f"'{self._tensor_name}' to PruningContainer {self}. Found "
                             f"'{method._tensor_name}'")
        self._pruning_methods += (method,)

    def __len__(self) -> int:
        return len(self._pruning_methods)

    def __iter__(self):
        return iter(self._pruning_methods)

    def __getitem__(self, idx):
        return self._pruning_methods[idx]

    def compute_mask(self, t: Tensor, default_mask: Tensor) -> Tensor:
        """M' = M with M'[S] = last_method.compute_mask(t[S], M[S]), S the part still to prune:
        entries with M = 1 (unstructured), channels along ``dim`` with any M ≠ 0 (structured),
        all (global)."""
        method = self._pruning_methods[-1]
        scores, mask = as_array(t), as_array(default_mask)
        index = _unpruned_part(method, scores.ndim, mask)
        new_mask = mask.astype(scores.dtype, copy=True)
        part = method.compute_mask(wrap(scores[index]), default_mask=wrap(mask[index]))
        new_mask[index] = as_array(part)
        return wrap(new_mask)


def _unpruned_part(method: BasePruningMethod, ndim: int, mask):
    """The index of what ``method`` may still prune, by its ``PRUNING_TYPE``."""
    kind = method.PRUNING_TYPE
    if kind == "unstructured":
        return mask == 1
    if kind == "global":
        return (slice(None),) * ndim
    if kind != "structured":
        raise ValueError(f"Unrecognized PRUNING_TYPE {kind}")
    if not hasattr(method, "dim"):
        raise AttributeError('Pruning methods of PRUNING_TYPE "structured" need to have the '
                             "attribute `dim` defined.")
    dim = method.dim + ndim if method.dim < 0 else method.dim
    if not 0 <= dim < ndim:
        raise IndexError(f"Index is out of bounds for tensor with dimensions {ndim}. Received: "
                         f"dim={method.dim}")
    index = [slice(None)] * ndim
    index[dim] = mask.sum(axis=tuple(d for d in range(ndim) if d != dim)) != 0
    return tuple(index)


def validate_amount(amount) -> None:
    """TypeError unless ``amount`` is a real number; ValueError for a negative int or a
    float outside [0, 1]."""
    if not isinstance(amount, numbers.Real):
        raise TypeError(f"Invalid type for amount: expected an int (a count) or a float (a "
                        f"fraction). Received: amount={amount!r} of type {type(amount).__name__}")
    if isinstance(amount, numbers.Integral):
        bad = amount < 0
    else:
        bad = not 0.0 <= float(amount) <= 1.0
    if bad:
        raise ValueError("amount should either be a float in the range [0, 1] or a "
                         f"non-negative integer. Received: amount={amount}")


def count_to_prune(amount, size: int) -> int:
    """k = amount (an int) or round(amount · size) (a float); ValueError where k > size."""
    if not isinstance(amount, numbers.Integral):
        return round(amount * size)
    if amount > size:
        raise ValueError(f"amount should be at most the number of units to prune ({size}). "
                         f"Received: amount={amount}")
    return int(amount)
