"""Text classification on a sentence encoder: a new head on the pooled embedding, LoRA on the
attention and FFN projections, and a from-scratch twin of the same architecture.

``TextClassifier`` takes token ids [N, L] (padding = the encoder's pad id) in any numeric
dtype, so the ordinary ``Trainer`` (which hands float32 arrays; ids below 2²⁴ are exact) and the
CLI train it like any other model: logits = head(dropout(pool(encoder(ids)))).
"""

from __future__ import annotations

import numpy as np

from ffnn.finetune.lora import apply_lora
from ffnn.nn.linear import Linear
from ffnn.nn.module import Module
from ffnn.nn.normalization import Dropout
from ffnn.tensor import Tensor

# The attention (query, key, value, attention output) and FFN (intermediate, output)
# projections of every BERT layer: the Linears LoRA adapts.
BERT_PROJECTIONS = ("*.attention.self.query", "*.attention.self.key", "*.attention.self.value",
                    "*.attention.output.dense", "*.intermediate.dense", "*.output.dense")


class TextClassifier(Module):
    """logits [N, num_classes] = head(dropout(e)) with e the encoder's pooled embedding
    [N, hidden] (not normalised, unless ``normalize``); children ``encoder``, ``dropout``,
    ``head``. Trailing columns that are padding in every row are cut before the encoder (the
    result is the same; the work is less)."""

    def __init__(self, encoder: Module, num_classes: int, dropout: float = 0.1,
                 normalize: bool = False, generator=None):
        super().__init__()
        if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 2:
            raise ValueError(f"TextClassifier: num_classes must be an integer >= 2. "
                             f"Received: num_classes={num_classes!r}")
        self.num_classes, self.normalize = int(num_classes), bool(normalize)
        self.pad_token_id = int(encoder.config["pad_token_id"])
        self.encoder = encoder
        self.dropout = Dropout(dropout)
        self.head = Linear(encoder.hidden_size, num_classes, dtype=encoder.embeddings.
                           word_embeddings.weight.dtype, generator=generator)

    def forward(self, input_ids) -> Tensor:
        ids = input_ids.numpy() if isinstance(input_ids, Tensor) else np.asarray(input_ids)
        if ids.ndim != 2:
            raise ValueError(f"TextClassifier expects token ids of shape [N, L]. Received: "
                             f"shape {ids.shape}")
        if ids.dtype.kind == "f":
            if not np.all(np.isfinite(ids)) or np.any(ids != np.round(ids)):
                raise ValueError("TextClassifier: token ids must be whole numbers")
        ids = ids.astype(np.int64)
        mask = ids != self.pad_token_id
        used = np.flatnonzero(mask.any(axis=0))
        length = int(used[-1]) + 1 if used.size else 1
        ids, mask = ids[:, :length], mask[:, :length]
        pooled = self.encoder(Tensor._of(ids), mask, normalize=self.normalize)
        return self.head(self.dropout(pooled))


def apply_text_lora(model: TextClassifier, r: int = 8, alpha: float = 16.0,
                    dropout: float = 0.0, generator=None) -> TextClassifier:
    """LoRA on every attention and FFN projection of ``model.encoder`` (``BERT_PROJECTIONS``);
    freezes the rest of the encoder and keeps the head trainable. Returns ``model``."""
    apply_lora(model, text_lora_targets(model), r=r, alpha=alpha, dropout=dropout,
               generator=generator)
    for p in model.head.parameters():
        p.requires_grad_(True)
    return model


def text_lora_targets(model: TextClassifier) -> list[str]:
    """The names of the encoder's attention and FFN projections (``BERT_PROJECTIONS``): the
    Linear layers ``apply_text_lora`` adapts."""
    return [name for name, m in model.named_modules() if type(m) is Linear
            and name.startswith("encoder.") and _is_projection(name)]


def _is_projection(name: str) -> bool:
    import fnmatch

    return any(fnmatch.fnmatchcase(name, pattern) for pattern in BERT_PROJECTIONS)


def tokenize_texts(encoder, texts: list[str], max_length: int | None = None) -> np.ndarray:
    """Token ids [N, L] int64 of ``texts``, truncated at ``max_length`` (default the
    encoder's max_seq_length) and padded with the pad id to the longest row."""
    limit = encoder.max_seq_length if max_length is None else int(max_length)
    if limit < 2:
        raise ValueError(f"tokenize_texts: max_length must be at least 2 ([CLS] and [SEP]). "
                         f"Received: max_length={max_length!r}")
    tokenizer = encoder.tokenizer
    previous = tokenizer.truncation
    tokenizer.enable_truncation(max_length=min(limit, encoder.max_seq_length))
    try:
        ids, _ = encoder.tokenize(texts)
    finally:
        if previous is None:
            tokenizer.no_truncation()
        else:
            tokenizer.enable_truncation(**previous)
    return ids


def init_bert_weights(model: Module, std: float = 0.02, generator=None) -> Module:
    """BERT's initialisation, for a model trained from scratch: Linear and Embedding weights
    N(0, std²), biases 0, LayerNorm γ = 1 and β = 0, padding row 0. Returns ``model``."""
    from ffnn.nn import init
    from ffnn.nn.embedding import Embedding
    from ffnn.nn.normalization import LayerNorm

    for module in model.modules():
        if isinstance(module, (Linear, Embedding)):
            init.normal_(module.weight, 0.0, std, generator=generator)
            if getattr(module, "bias", None) is not None:
                init.zeros_(module.bias)
            if isinstance(module, Embedding) and module.padding_idx is not None:
                module.weight.numpy()[module.padding_idx] = 0
        elif isinstance(module, LayerNorm):
            init.ones_(module.weight)
            init.zeros_(module.bias)
    return model
