"""``torch.autograd.forward_ad``: tangents carried by "dual" tensors.

Inside ``with dual_level():``, ``make_dual(x, v)`` gives a tensor equal to x that carries
the tangent v; any function of such tensors then has a tangent, which ``unpack_dual(y)``
returns: ∂y = Σᵢ (∂y/∂xᵢ) vᵢ, the Jacobian-vector product over every dual y depends on.

ffnn computes it in reverse mode, by the double-backward identity: g(u) = (∂y/∂x)ᵀ u is
linear in u, so ∂⟨g(u), v⟩/∂u = (∂y/∂x) v. A dual is a tensor that records the graph
(``requires_grad``: here the output of a function of duals reports ``requires_grad=True``
where torch's would not), and ``unpack_dual`` runs the two backward passes through what was
recorded; so every op with a tensor-form backward (``create_graph``) has a tangent, at the
cost of two backward passes per ``unpack_dual``.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ffnn import autograd
from ffnn.tensor import Tensor

__all__ = ["dual_level", "enter_dual_level", "exit_dual_level", "make_dual", "unpack_dual",
           "UnpackedDualTensor"]

_levels: list[dict[int, tuple[Tensor, Tensor]]] = []
"""One registry per open level: id(dual) → (dual, tangent)."""


class UnpackedDualTensor(NamedTuple):
    """``unpack_dual``'s result: the primal and its tangent (None for a tensor that is not a
    function of any dual)."""

    primal: Tensor
    tangent: Tensor | None


def enter_dual_level() -> int:
    """Open a level (torch allows one at a time) and return its number."""
    if _levels:
        raise RuntimeError("Nested forward mode AD is not supported at the moment")
    _levels.append({})
    return len(_levels) - 1


def exit_dual_level(*, level: int | None = None) -> None:
    """Close the level: its duals' tangents are forgotten."""
    if not _levels:
        raise RuntimeError("Trying to exit a forward AD level that was not entered")
    _levels.pop()


class dual_level:  # noqa: N801 - torch's name
    """``with dual_level():`` — the scope in which dual tensors carry tangents."""

    def __enter__(self) -> int:
        return enter_dual_level()

    def __exit__(self, *exc) -> None:
        exit_dual_level()


def _registry(level: int | None) -> dict:
    if not _levels:
        raise RuntimeError("make_dual and unpack_dual need an open dual level: use them "
                           "inside `with forward_ad.dual_level():`")
    return _levels[-1]


def make_dual(tensor: Tensor, tangent: Tensor, *, level: int | None = None) -> Tensor:
    """A tensor equal to ``tensor`` carrying ``tangent`` (same shape; a floating dtype)."""
    registry = _registry(level)
    if not isinstance(tensor, Tensor) or not isinstance(tangent, Tensor):
        raise TypeError(f"make_dual expects two tensors. Received: {type(tensor).__name__} "
                        f"and {type(tangent).__name__}")
    if tuple(tangent.shape) != tuple(tensor.shape):
        raise RuntimeError(f"Trying to set a forward gradient that has a different size than "
                           f"that of the original Tensor, this is not supported. Tensor is of "
                           f"size {list(tensor.shape)} while the given forward gradient is of "
                           f"size {list(tangent.shape)}.")
    if tensor.dtype.kind != "f":
        raise ValueError(f"Expected primal to be floating point, but got: {tensor.dtype}")
    with autograd.enable_grad():
        dual = tensor.view_as(tensor) if tensor.requires_grad else \
            tensor.detach().requires_grad_(True)
    registry[id(dual)] = (dual, tangent.detach().to(tensor.dtype))
    return dual


def unpack_dual(tensor: Tensor, *, level: int | None = None) -> UnpackedDualTensor:
    """(the primal, ∂tensor = Σᵢ (∂tensor/∂dualᵢ) tangentᵢ, or None where ``tensor`` is no
    function of the level's duals)."""
    registry = _registry(level)
    if id(tensor) in registry:
        return UnpackedDualTensor(tensor.detach(), registry[id(tensor)][1])
    duals = [entry for entry in registry.values()]
    if not duals or not tensor.requires_grad or tensor.dtype.kind != "f":
        return UnpackedDualTensor(tensor, None)
    with autograd.enable_grad():
        u = Tensor._of(np.zeros(tensor.shape, tensor.dtype), requires_grad=True)
        pulled = autograd.grad(tensor, [d for d, _ in duals], u, create_graph=True,
                               allow_unused=True)
        used = [(g, v) for g, (_, v) in zip(pulled, duals) if g is not None]
        if not used:
            return UnpackedDualTensor(tensor.detach(), None)
        total = sum((g * v).sum() for g, v in used)
        if not total.requires_grad:  # the pull-back does not depend on u: a zero tangent
            return UnpackedDualTensor(tensor.detach(), Tensor._of(np.zeros_like(tensor._data)))
        (tangent,) = autograd.grad(total, [u], allow_unused=True)
    tangent = Tensor._of(np.zeros_like(tensor._data)) if tangent is None else tangent.detach()
    return UnpackedDualTensor(tensor.detach(), tangent)
