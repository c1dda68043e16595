"""``BertModel`` for inference without padding: the tokens of a batch are packed as rows
[T, E] (T = the number of real tokens), every per-token step (the projections, GELU, the
LayerNorms) runs on those rows only, and attention runs per group of similar-length sequences
(``ffnn.ops.fast_inference``). Same math as the modules' forward: each real token's hidden
state equals theirs to float32 round-off; padded positions are never computed.

The query, key and value projections run as one product with [W_q; W_k; W_v] [3E, E],
concatenated when the plan is made (a plan lives for one call: no cache to go stale).
A site whose module is not the plain one (a LoRA-wrapped Linear, another activation or norm)
is run through the module itself, so wrapped models stay correct; a model whose structure is
not BERT's own, one in training mode, with forward hooks or with weights outside NumPy (CuPy)
gets no plan (``None``) and the caller falls back to the modules' forward.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from ffnn.nn.activation import GELU
from ffnn.nn.bert import (
    BertAttention,
    BertEmbeddings,
    BertEncoder,
    BertIntermediate,
    BertLayer,
    BertModel,
    BertSelfAttention,
    BertSelfOutput,
)
from ffnn.nn.linear import Linear
from ffnn.nn.module import Module
from ffnn.nn.normalization import Dropout, LayerNorm
from ffnn.ops.fast_inference import Packing, add_layer_norm_, gelu_, packed_attention
from ffnn.tensor import Tensor

Site = Callable[[np.ndarray], np.ndarray]


def _run_module(module: Module) -> Site:
    """The module itself on rows; its output in memory of its own (the plan writes in place)."""

    def run(x: np.ndarray) -> np.ndarray:
        y = module(Tensor._of(x)).numpy()
        return y.copy() if np.may_share_memory(x, y) else y

    return run


def _product(weight: np.ndarray, bias: np.ndarray | None) -> Site:
    """y = x Wᵀ + b on rows [T, in] → [T, out]."""

    def run(x: np.ndarray) -> np.ndarray:
        y = x @ weight.T
        if bias is not None:
            y += bias
        return y

    return run


def _linear(module: Module) -> Site:
    if type(module) is not Linear:
        return _run_module(module)
    return _product(module.weight.numpy(), None if module.bias is None else module.bias.numpy())


def _qkv(attention: BertSelfAttention) -> Site:
    """[Q | K | V] [T, 3E] from rows [T, E]: one product with [W_q; W_k; W_v] when all three
    are plain Linears with biases alike, else three sites side by side."""
    parts = (attention.query, attention.key, attention.value)
    if all(type(p) is Linear for p in parts) and len({p.bias is None for p in parts}) == 1:
        weight = np.concatenate([p.weight.numpy() for p in parts])
        bias = None if parts[0].bias is None else np.concatenate([p.bias.numpy() for p in parts])
        return _product(weight, bias)
    sites = [_linear(p) for p in parts]
    return lambda x: np.concatenate([site(x) for site in sites], axis=1)


def _add_norm(norm: Module, width: int) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    """(x, residual) → LayerNorm(x + residual), in x's memory when the norm is the plain one."""
    if type(norm) is LayerNorm and norm.normalized_shape == (width,):
        weight = None if norm.weight is None else norm.weight.numpy()
        bias = None if norm.bias is None else norm.bias.numpy()
        return lambda x, residual: add_layer_norm_(x, residual, weight, bias, norm.eps)
    return lambda x, residual: norm(Tensor._of(x + residual)).numpy()


def _activation(module: Module) -> Site:
    if type(module) is GELU and module.approximate == "none":
        return gelu_
    return _run_module(module)


def _embed(module: Module) -> Callable[[np.ndarray], np.ndarray]:
    """Rows of the table for integer ids (through the module: its index checks)."""
    return lambda ids: module(Tensor._of(ids)).numpy()


_STRUCTURE = {"embeddings": BertEmbeddings, "encoder": BertEncoder}
_LAYER = {"": BertLayer, "attention": BertAttention, "attention.self": BertSelfAttention,
          "attention.output": BertSelfOutput, "intermediate": BertIntermediate,
          "output": BertSelfOutput, "attention.output.dropout": Dropout,
          "output.dropout": Dropout}


def _plannable(model: BertModel) -> bool:
    if not isinstance(model, BertModel):
        return False
    if any(type(model.get_submodule(name)) is not cls for name, cls in _STRUCTURE.items()):
        return False
    for layer in model.encoder.layer:
        for name, cls in _LAYER.items():
            if type(layer.get_submodule(name) if name else layer) is not cls:
                return False
    for module in model.modules():
        if module.training or module.__dict__.get("_forward_hooks") or module.__dict__.get(
                "_forward_pre_hooks"):
            return False
    return all(type(p.numpy()) is np.ndarray for p in model.parameters())


class PackedBert:
    """A plan for running ``model`` on packed tokens: ``PackedBert.of(model)`` (None when the
    model cannot be planned), then ``hidden(input_ids, lengths)``. Build it where no gradient
    is recorded (``ffnn.no_grad``) and after the last change to the weights."""

    def __init__(self, model: BertModel):
        embeddings = model.embeddings
        self.width = model.config["hidden_size"]
        self.heads = model.config["num_attention_heads"]
        self.scale = 1.0 / math.sqrt(self.width // self.heads)
        self.word = _embed(embeddings.word_embeddings)
        self.position = _embed(embeddings.position_embeddings)
        self.token_type = _embed(embeddings.token_type_embeddings)
        self.embed_norm = _add_norm(embeddings.LayerNorm, self.width)
        self.layers = []
        for layer in model.encoder.layer:
            attention = layer.attention
            self.layers.append((
                _qkv(attention.get_submodule("self")),
                _linear(attention.output.dense),
                _add_norm(attention.output.LayerNorm, self.width),
                _linear(layer.intermediate.dense),
                _activation(layer.intermediate.intermediate_act_fn),
                _linear(layer.output.dense),
                _add_norm(layer.output.LayerNorm, self.width),
            ))

    @classmethod
    def of(cls, model: BertModel) -> PackedBert | None:
        """The plan, or None for a model in training mode, with forward hooks, or whose
        modules are not BERT's own."""
        return cls(model) if _plannable(model) else None

    def hidden(self, input_ids: np.ndarray, lengths: np.ndarray,
               token_type_ids: np.ndarray | None = None) -> tuple[np.ndarray, Packing]:
        """The last hidden states of the real tokens, packed [T, E], and their ``Packing``.

        input_ids [N, L] (integers); sequence i holds tokens 0 … lengths[i]-1 of its row (the
        rest is padding, never read); token_type_ids [N, L] or None (all 0)."""
        packing = Packing(lengths)
        rows = np.repeat(np.arange(len(packing.lengths)), packing.lengths)
        positions = np.arange(packing.total) - np.repeat(packing.starts, packing.lengths)
        types = (np.zeros(packing.total, dtype=np.int64) if token_type_ids is None
                 else token_type_ids[rows, positions])
        x = self.word(input_ids[rows, positions]) + self.position(positions)
        x = self.embed_norm(x, self.token_type(types))
        for qkv, dense, norm1, up, act, down, norm2 in self.layers:
            context = packed_attention(qkv(x), packing, self.heads, self.scale)
            attended = norm1(dense(context), x)
            x = norm2(down(act(up(attended))), attended)
        return x, packing
