"""Discriminative learning rates and gradual unfreezing (Howard & Ruder, ULMFiT, 2018).

A model's *layers* are its top-level children, grouped so that each group starts at a child
holding a Linear (LoRALinear, FeedForward …) and takes the parameter-holding children after it
(BatchNorm, LayerNorm) along. Layer ``k`` of ``L`` (0 = input side) gets
``lr_k = base_lr · decay^(L-1-k)``: the head learns fastest, the first layer slowest.
"""

from __future__ import annotations

from ffnn.finetune.freeze import set_batchnorm_frozen
from ffnn.finetune.lora import LoRALinear
from ffnn.nn.linear import Linear
from ffnn.nn.module import Module
from ffnn.nn.normalization import BatchNorm1d
from ffnn.train.callbacks import Callback


def model_layers(model: Module) -> list[list[Module]]:
    """The model's layers (lists of top-level children that hold parameters), input first."""
    if not isinstance(model, Module):
        raise TypeError(f"model must be an ffnn.nn.Module. Received: {type(model).__name__}")
    children = list(model.children()) or [model]
    layers: list[list[Module]] = []
    for child in children:
        if not any(True for _ in child.parameters()):
            continue
        starts = any(isinstance(m, (Linear, LoRALinear)) for m in child.modules())
        if starts or not layers:
            layers.append([child])
        else:
            layers[-1].append(child)
    return layers


def layerwise_lr_groups(model: Module, base_lr: float, decay: float = 0.5,
                        trainable_only: bool = False) -> list[dict]:
    """Optimizer parameter groups ``[{'params': [...], 'lr': base_lr·decay^(L-1-k)}, ...]``.

    Frozen parameters are included (optimizers skip them until they are unfrozen, as gradual
    unfreezing needs) unless ``trainable_only``. Raises ValueError for lr <= 0 or decay
    outside (0, 1].
    """
    for name, value, ok in (("base_lr", base_lr, lambda v: v > 0),
                            ("decay", decay, lambda v: 0 < v <= 1)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not ok(value):
            expected = "> 0" if name == "base_lr" else "in (0, 1]"
            raise ValueError(f"layerwise_lr_groups: {name} must be a number {expected}. "
                             f"Received: {name}={value!r}")
    layers = model_layers(model)
    groups = []
    for k, layer in enumerate(layers):
        params = [p for child in layer for p in child.parameters()
                  if p.requires_grad or not trainable_only]
        if params:
            groups.append({"params": params, "lr": base_lr * decay ** (len(layers) - 1 - k)})
    if not groups:
        raise ValueError("layerwise_lr_groups: the model has no (trainable) parameters")
    return groups


class GradualUnfreezing(Callback):
    """Train the top ``start`` layers first and unfreeze one more layer (from the top) every
    ``epochs_per_layer`` epochs. The frozen set is a function of the epoch alone, so resumed
    runs agree. Give the optimizer every parameter (e.g. ``layerwise_lr_groups(model, ...)``).
    """

    def __init__(self, epochs_per_layer: int = 1, start: int = 1):
        for name, value in (("epochs_per_layer", epochs_per_layer), ("start", start)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"GradualUnfreezing: {name} must be an integer >= 1. "
                                 f"Received: {name}={value!r}")
        self.epochs_per_layer, self.start = epochs_per_layer, start

    def trainable_layers(self, epoch: int) -> int:
        """How many layers (from the top) train during ``epoch``."""
        return self.start + epoch // self.epochs_per_layer

    def on_epoch_begin(self, epoch, logs=None):
        layers = model_layers(self.model)
        n = self.trainable_layers(epoch)
        for k, layer in enumerate(layers):
            trainable = k >= len(layers) - n
            for child in layer:
                for param in child.parameters():
                    param.requires_grad_(trainable)
                for module in child.modules():
                    if isinstance(module, BatchNorm1d):
                        set_batchnorm_frozen(module, not trainable)
