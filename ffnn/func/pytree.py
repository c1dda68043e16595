"""Nested tuples, lists and dicts of tensors ("pytrees", as ``torch.utils._pytree`` reads
them): their tensors in order, and the same structure rebuilt around other values."""

from __future__ import annotations

from typing import Any

from ffnn.tensor import Tensor


def flatten(tree: Any) -> tuple[list, Any]:
    """(the tensors of ``tree`` in order, its structure); anything but a tuple, list, dict or
    tensor is a constant kept in the structure."""
    if isinstance(tree, Tensor):
        return [tree], Tensor
    if isinstance(tree, (tuple, list)):
        leaves, specs = [], []
        for item in tree:
            found, spec = flatten(item)
            leaves += found
            specs.append((spec, len(found)))
        return leaves, (type(tree), specs)
    if isinstance(tree, dict):
        leaves, specs = [], []
        for key, item in tree.items():
            found, spec = flatten(item)
            leaves += found
            specs.append((key, spec, len(found)))
        return leaves, (dict, specs)
    return [], ("constant", tree)


def unflatten(leaves: list, spec: Any) -> Any:
    """The structure ``spec`` (from ``flatten``) with ``leaves`` in its tensors' places."""
    if spec is Tensor:
        return leaves[0]
    kind, parts = spec
    if kind == "constant":
        return parts
    if kind is dict:
        out, at = {}, 0
        for key, part, count in parts:
            out[key] = unflatten(leaves[at:at + count], part)
            at += count
        return out
    items, at = [], 0
    for part, count in parts:
        items.append(unflatten(leaves[at:at + count], part))
        at += count
    return kind(items) if kind in (tuple, list) else kind(*items)
