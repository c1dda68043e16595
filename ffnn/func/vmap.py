"""``torch.func.vmap``: a function of one example applied to each example of a batch.

Here the batch is a loop: the mapped arguments are cut along their ``in_dims`` axis, the
function called once per example, and each output stacked along ``out_dims``; so any
function that torch's vmap takes gives the same values (one call per example: for
per-sample gradients of small models, as ``vmap(grad(f))`` is used, not for speed). Cuts and
stacks are tensor ops: gradients flow through them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ffnn import creation
from ffnn.func import pytree


def _dims_per_argument(in_dims, args: tuple) -> list:
    if isinstance(in_dims, (int, type(None))):
        return [in_dims] * len(args)
    if not isinstance(in_dims, (tuple, list)) or len(in_dims) != len(args):
        raise ValueError(f"vmap(f, in_dims={in_dims}, ...)(<inputs>): in_dims is not "
                         f"compatible with the structure of `inputs`: expected an int, None "
                         f"or a tuple of {len(args)} entries")
    return list(in_dims)


def _mapped(args: tuple, in_dims) -> tuple[list, int]:
    """Per argument (its leaves, structure, axis or None); the batch size."""
    plan, sizes = [], set()
    for arg, dim in zip(args, _dims_per_argument(in_dims, args)):
        leaves, spec = pytree.flatten(arg)
        if dim is not None:
            for leaf in leaves:
                if not -leaf.ndim <= dim < max(leaf.ndim, 1):
                    raise ValueError(f"vmap: in_dim={dim} is out of range for a tensor of "
                                     f"{leaf.ndim} dimensions")
                sizes.add(leaf.shape[dim])
        plan.append((arg, leaves, spec, dim))
    if not sizes:
        raise ValueError("vmap: at least one input must be mapped over (got in_dims that "
                         "are all None, or no tensor inputs)")
    if len(sizes) > 1:
        raise ValueError("vmap: Expected all tensors to have the same size in the mapped "
                         f"dimension, got sizes {sorted(sizes)} for the mapped dimension")
    return plan, sizes.pop()


def _example(plan: list, i: int) -> list:
    out = []
    for arg, leaves, spec, dim in plan:
        out.append(arg if dim is None else
                   pytree.unflatten([leaf.select(dim, i) for leaf in leaves], spec))
    return out


def _stacked(results: list, out_dims) -> Any:
    flat = [pytree.flatten(r) for r in results]
    spec = flat[0][1]
    count = len(flat[0][0])
    dims = [out_dims] * count if isinstance(out_dims, int) else list(out_dims)
    if len(dims) != count:
        raise ValueError(f"vmap: out_dims={out_dims} does not match the {count} outputs")
    stacked = [creation.stack([leaves[k] for leaves, _ in flat], dim=dims[k])
               for k in range(count)]
    return pytree.unflatten(stacked, spec)


def vmap(func: Callable, in_dims: int | tuple | None = 0, out_dims: int | tuple = 0,
         randomness: str = "error", *, chunk_size: int | None = None) -> Callable:
    """``func`` over each example of the mapped arguments (the module docstring)."""
    def wrapper(*args, **kwargs):
        plan, size = _mapped(args, in_dims)
        results = [func(*_example(plan, i), **kwargs) for i in range(size)]
        for result in results[:1]:
            leaves, _ = pytree.flatten(result)
            if not leaves:
                raise ValueError("vmap: f must return tensors (or tuples, lists or dicts of "
                                 f"them). Received: {type(result).__name__}")
        return _stacked(results, out_dims)
    return wrapper


__all__ = ["vmap"]
