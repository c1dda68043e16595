"""``torch.func.stack_module_state``: the parameters and buffers of several models of one
architecture stacked along a new first axis, so that ``vmap`` over ``functional_call`` runs
the whole ensemble as one function (torch's model-ensembling recipe)."""

from __future__ import annotations

from collections.abc import Sequence

from ffnn import creation
from ffnn.nn.module import Module
from ffnn.tensor import Tensor


def _check_models(models: Sequence[Module]) -> None:
    if len(models) == 0:
        raise RuntimeError("stack_module_state: Expected at least one model, got 0.")
    kinds = {type(model) for model in models}
    if len(kinds) > 1:
        raise RuntimeError("stack_module_state: Expected all models to be of the same class, "
                           f"got {sorted(kind.__name__ for kind in kinds)}")
    if len({model.training for model in models}) > 1:
        raise RuntimeError("stack_module_state: Expected all models to have the same "
                           "training/eval mode.")


def _stacked_leaf(tensors: list[Tensor], name: str) -> Tensor:
    """torch.stack of one parameter of every model, as a new leaf that requires grad where
    they all do (none may where some do not)."""
    wanted = [tensor.requires_grad for tensor in tensors]
    if any(wanted) and not all(wanted):
        raise RuntimeError(f"Expected {name} from each model to have the same .requires_grad")
    stacked = creation.stack([tensor.detach() for tensor in tensors])
    return stacked.requires_grad_(True) if all(wanted) else stacked


def stack_module_state(models: Sequence[Module]) -> tuple[dict[str, Tensor],
                                                              dict[str, Tensor]]:
    """(params, buffers) of ``models`` [M of one class]: each name → [M, *shape], the
    parameters new leaves cut from the models (their gradients are the ensemble's), the
    buffers stacked."""
    models = list(models)
    _check_models(models)
    per_model = [dict(model.named_parameters()) for model in models]
    params = {name: _stacked_leaf([named[name] for named in per_model], name)
              for name in per_model[0]}
    buffers_per_model = [dict(model.named_buffers()) for model in models]
    buffers = {name: creation.stack([named[name] for named in buffers_per_model])
               for name in buffers_per_model[0]}
    return params, buffers


__all__ = ["stack_module_state"]
