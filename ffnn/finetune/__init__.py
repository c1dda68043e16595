"""Fine-tuning: freezing, layer surgery (new head, insert/remove, Net2Net), LoRA, per-layer
learning rates and gradual unfreezing."""

from ffnn.finetune.freeze import (
    count_parameters,
    freeze,
    is_frozen_batchnorm,
    trainable_parameters,
    unfreeze,
)
from ffnn.finetune.lora import (
    LoRALinear,
    apply_lora,
    lora_config,
    lora_state_dict,
    merge_lora,
)
from ffnn.finetune.net2net import deepen, widen
from ffnn.finetune.schedule import GradualUnfreezing, layerwise_lr_groups, model_layers
from ffnn.finetune.surgery import (
    ModelSummary,
    insert_layer,
    remove_layer,
    replace_head,
    summary,
)

__all__ = [
    "freeze", "unfreeze", "is_frozen_batchnorm", "trainable_parameters", "count_parameters",
    "LoRALinear", "apply_lora", "merge_lora", "lora_state_dict", "lora_config",
    "replace_head", "insert_layer", "remove_layer", "summary", "ModelSummary", "widen",
    "deepen", "layerwise_lr_groups", "model_layers", "GradualUnfreezing",
]
