"""A BERT encoder with Hugging Face's module names, so a ``model.safetensors`` of a BERT model
loads into ``state_dict`` unchanged (``embeddings.word_embeddings.weight``,
``encoder.layer.0.attention.self.query.weight`` …).

Each layer is post-norm, as BERT:

    a = LayerNorm(x + dropout(Wₒ · MHA(x W_qᵀ, x W_kᵀ, x W_vᵀ)))
    y = LayerNorm(a + dropout(W₂ · gelu(W₁ a)))

with separate ``query``/``key``/``value`` Linears (LoRA can target each). The attention is the
fused op ``ffnn.ops.attention``; gradients come from the ops these modules compose.
"""

from __future__ import annotations

import numpy as np

from ffnn.nn import traits
from ffnn.nn.attention import merge_heads, padding_bias, split_heads
from ffnn.nn.container import ModuleList
from ffnn.nn.embedding import Embedding
from ffnn.nn.ffn import make_activation
from ffnn.nn.linear import Linear, _check_positive_int
from ffnn.nn.module import Module
from ffnn.nn.normalization import Dropout, LayerNorm
from ffnn.ops.attention import scaled_dot_product_attention
from ffnn.tensor import Tensor


class BertEmbeddings(Module):
    """LayerNorm(word[ids] + position[0..L-1] + token_type[types]), then dropout → [N, L, E]."""

    def __init__(self, vocab_size: int, hidden_size: int, max_position_embeddings: int,
                 type_vocab_size: int, layer_norm_eps: float, dropout: float, pad_token_id: int,
                 dtype=None):
        super().__init__()
        self.word_embeddings = Embedding(vocab_size, hidden_size, padding_idx=pad_token_id,
                                         dtype=dtype)
        self.position_embeddings = Embedding(max_position_embeddings, hidden_size, dtype=dtype)
        self.token_type_embeddings = Embedding(type_vocab_size, hidden_size, dtype=dtype)
        self.LayerNorm = LayerNorm(hidden_size, eps=layer_norm_eps, dtype=dtype)
        self.dropout = Dropout(dropout)

    def forward(self, input_ids: Tensor, token_type_ids: Tensor | None = None) -> Tensor:
        n, length = input_ids.shape
        positions = Tensor._of(np.arange(length, dtype=np.int64))
        if token_type_ids is None:
            token_type_ids = Tensor._of(np.zeros((n, length), dtype=np.int64))
        x = self.word_embeddings(input_ids) + self.position_embeddings(positions)
        x = x + self.token_type_embeddings(token_type_ids)
        return self.dropout(self.LayerNorm(x))


class BertSelfAttention(Module):
    """Multi-head softmax(Q Kᵀ/√d + bias) V over [N, L, E] → [N, L, E]."""

    def __init__(self, hidden_size: int, num_heads: int, dropout: float, dtype=None):
        super().__init__()
        if hidden_size % num_heads:
            raise ValueError(f"BertSelfAttention: hidden_size must be divisible by num_heads. "
                             f"Received: hidden_size={hidden_size}, num_heads={num_heads}")
        self.num_heads, self.dropout = num_heads, float(dropout)
        self.query = Linear(hidden_size, hidden_size, dtype=dtype)
        self.key = Linear(hidden_size, hidden_size, dtype=dtype)
        self.value = Linear(hidden_size, hidden_size, dtype=dtype)

    def forward(self, x: Tensor, bias: np.ndarray | None = None) -> Tensor:
        q, k, v = (split_heads(proj(x), self.num_heads)
                   for proj in (self.query, self.key, self.value))
        p = self.dropout if self.training else 0.0
        return merge_heads(scaled_dot_product_attention(q, k, v, attn_mask=bias, dropout_p=p))


class BertSelfOutput(Module):
    """LayerNorm(residual + dropout(dense(x)))."""

    def __init__(self, in_features: int, hidden_size: int, eps: float, dropout: float,
                 dtype=None):
        super().__init__()
        self.dense = Linear(in_features, hidden_size, dtype=dtype)
        self.LayerNorm = LayerNorm(hidden_size, eps=eps, dtype=dtype)
        self.dropout = Dropout(dropout)

    def forward(self, x: Tensor, residual: Tensor) -> Tensor:
        return self.LayerNorm(residual + self.dropout(self.dense(x)))


class BertAttention(Module):
    """The attention sub-layer: children ``self`` (BertSelfAttention) and ``output``."""

    def __init__(self, hidden_size: int, num_heads: int, eps: float, hidden_dropout: float,
                 attention_dropout: float, dtype=None):
        super().__init__()
        self.add_module("self", BertSelfAttention(hidden_size, num_heads, attention_dropout,
                                                  dtype))
        self.output = BertSelfOutput(hidden_size, hidden_size, eps, hidden_dropout, dtype)

    def forward(self, x: Tensor, bias: np.ndarray | None = None) -> Tensor:
        return self.output(self._modules["self"](x, bias), x)


class BertIntermediate(Module):
    """act(dense(x)), [..., E] → [..., d_ff]."""

    def __init__(self, hidden_size: int, intermediate_size: int, hidden_act: str, dtype=None):
        super().__init__()
        self.dense = Linear(hidden_size, intermediate_size, dtype=dtype)
        self.intermediate_act_fn = make_activation(hf_activation(hidden_act), "BertIntermediate")

    def forward(self, x: Tensor) -> Tensor:
        return self.intermediate_act_fn(self.dense(x))


class BertLayer(Module):
    """One post-norm encoder layer: ``attention``, then ``intermediate`` and ``output``."""

    def __init__(self, hidden_size: int, num_heads: int, intermediate_size: int,
                 hidden_act: str, eps: float, hidden_dropout: float, attention_dropout: float,
                 dtype=None):
        super().__init__()
        self.attention = BertAttention(hidden_size, num_heads, eps, hidden_dropout,
                                       attention_dropout, dtype)
        self.intermediate = BertIntermediate(hidden_size, intermediate_size, hidden_act, dtype)
        self.output = BertSelfOutput(intermediate_size, hidden_size, eps, hidden_dropout, dtype)

    def forward(self, x: Tensor, bias: np.ndarray | None = None) -> Tensor:
        a = self.attention(x, bias)
        return self.output(self.intermediate(a), a)


class BertEncoder(Module):
    """The stack of layers, child ``layer`` (a ModuleList)."""

    def __init__(self, layers: list[BertLayer]):
        super().__init__()
        self.layer = ModuleList(layers)

    def forward(self, x: Tensor, bias: np.ndarray | None = None) -> Tensor:
        for layer in self.layer:
            x = layer(x, bias)
        return x


class BertModel(Module):
    """input_ids [N, L] (integers), attention_mask [N, L] (1: token, 0: padding) →
    last hidden state [N, L, hidden_size]. Arguments are Hugging Face's ``BertConfig`` keys."""

    def __init__(self, vocab_size: int = 30522, hidden_size: int = 768,
                 num_hidden_layers: int = 12, num_attention_heads: int = 12,
                 intermediate_size: int = 3072, hidden_act: str = "gelu",
                 hidden_dropout_prob: float = 0.1, attention_probs_dropout_prob: float = 0.1,
                 max_position_embeddings: int = 512, type_vocab_size: int = 2,
                 layer_norm_eps: float = 1e-12, pad_token_id: int = 0, dtype=None):
        super().__init__()
        _check_positive_int("BertModel", vocab_size=vocab_size, hidden_size=hidden_size,
                            num_hidden_layers=num_hidden_layers,
                            num_attention_heads=num_attention_heads,
                            intermediate_size=intermediate_size,
                            max_position_embeddings=max_position_embeddings,
                            type_vocab_size=type_vocab_size)
        self.config = {
            "vocab_size": vocab_size, "hidden_size": hidden_size,
            "num_hidden_layers": num_hidden_layers, "num_attention_heads": num_attention_heads,
            "intermediate_size": intermediate_size, "hidden_act": hidden_act,
            "hidden_dropout_prob": hidden_dropout_prob,
            "attention_probs_dropout_prob": attention_probs_dropout_prob,
            "max_position_embeddings": max_position_embeddings,
            "type_vocab_size": type_vocab_size, "layer_norm_eps": layer_norm_eps,
            "pad_token_id": pad_token_id,
        }
        self.embeddings = BertEmbeddings(vocab_size, hidden_size, max_position_embeddings,
                                         type_vocab_size, layer_norm_eps, hidden_dropout_prob,
                                         pad_token_id, dtype)
        self.encoder = BertEncoder([
            BertLayer(hidden_size, num_attention_heads, intermediate_size, hidden_act,
                      layer_norm_eps, hidden_dropout_prob, attention_probs_dropout_prob, dtype)
            for _ in range(num_hidden_layers)
        ])

    @classmethod
    def from_config(cls, config: dict, dtype=None) -> BertModel:
        """A model from a Hugging Face ``config.json`` dict (unknown keys ignored)."""
        import inspect

        names = set(inspect.signature(cls.__init__).parameters) - {"self", "dtype"}
        return cls(**{k: v for k, v in config.items() if k in names}, dtype=dtype)

    @property
    def hidden_size(self) -> int:
        return self.config["hidden_size"]

    def _check_input_ids(self, input_ids) -> Tensor:
        """``input_ids`` as an integer Tensor [N, L]; TypeError or ValueError (the shape, more
        than ``max_position_embeddings`` tokens) otherwise."""
        input_ids = _int_tensor(input_ids, "input_ids")
        if input_ids.ndim != 2:
            raise ValueError(f"BertModel: input_ids must have shape [N, L]. Received: shape "
                             f"{tuple(input_ids.shape)}")
        limit = self.config["max_position_embeddings"]
        if input_ids.shape[1] > limit:
            raise ValueError(f"BertModel: sequences may have at most max_position_embeddings="
                             f"{limit} tokens. Received: length {input_ids.shape[1]}")
        return input_ids

    def forward(self, input_ids, attention_mask=None, token_type_ids=None) -> Tensor:
        input_ids = self._check_input_ids(input_ids)
        n, length = input_ids.shape
        if token_type_ids is not None:
            token_type_ids = _int_tensor(token_type_ids, "token_type_ids")
        x = self.embeddings(input_ids, token_type_ids)
        dtype = x.numpy().dtype
        bias = None
        if attention_mask is not None:
            mask = np.asarray(attention_mask.numpy() if isinstance(attention_mask, Tensor)
                              else attention_mask)
            bias = padding_bias(mask == 0, n, length, dtype, where="BertModel")
        return self.encoder(x, bias)


def hf_activation(hidden_act: str) -> str:
    """ffnn's name for a Hugging Face ``hidden_act``: Hugging Face's names (``gelu``,
    ``gelu_new``, ``gelu_pytorch_tanh``, ``relu``, ``silu``, ``swish`` …) are the activations'
    declared names and aliases (``ffnn.nn.traits``); ValueError for one ffnn lacks."""
    if not isinstance(hidden_act, str) or traits.lookup("activation", hidden_act) is None:
        raise ValueError(f"unsupported hidden_act; expected one of "
                         f"{sorted(traits.names('activation', aliases=True))}. "
                         f"Received: hidden_act={hidden_act!r}")
    return hidden_act


def _int_tensor(value, name: str) -> Tensor:
    array = value.numpy() if isinstance(value, Tensor) else np.asarray(value)
    if array.dtype.kind not in "iu":
        raise TypeError(f"BertModel: {name} must be integers. Received: dtype={array.dtype}")
    return value if isinstance(value, Tensor) else Tensor._of(array)


__all__ = ["BertModel", "BertLayer", "BertEmbeddings", "BertSelfAttention", "hf_activation"]
