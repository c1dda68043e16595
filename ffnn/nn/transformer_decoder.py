"""``TransformerDecoderLayer``, ``TransformerDecoder`` and ``Transformer`` with torch's names,
so that torch's state_dicts load unchanged (``decoder.layers.0.multihead_attn.in_proj_weight``,
``encoder.norm.weight`` …). They compose ``MultiheadAttention``, ``Linear``, ``LayerNorm`` and
``Dropout``; gradients come from those ops."""

from __future__ import annotations

import copy
from collections.abc import Callable

import numpy as np

from ffnn import dtypes
from ffnn.nn import init
from ffnn.nn.attention import MultiheadAttention
from ffnn.nn.container import ModuleList
from ffnn.nn.linear import Linear, _check_positive_int
from ffnn.nn.module import Module
from ffnn.nn.normalization import Dropout, LayerNorm
from ffnn.nn.traits import declare, restore
from ffnn.nn.transformer import (
    TransformerEncoder,
    TransformerEncoderLayer,
    layer_activation,
    layer_config,
    restore_layer,
)
from ffnn.tensor import Tensor


def _as_tensor(x) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor._of(np.asarray(x))


def _batched_padding(mask, unbatched: bool):
    """torch's key_padding_mask [S] of an unbatched input as [1, S] (MultiheadAttention's
    form); other masks unchanged."""
    if mask is None or not unbatched:
        return mask
    array = mask.numpy() if isinstance(mask, Tensor) else np.asarray(mask)
    return array.reshape(1, -1) if array.ndim == 1 else array


def _check_batches(tgt: Tensor, memory: Tensor, batch_first: bool, what: str) -> None:
    if tgt.ndim == 3 and memory.ndim == 3:
        axis = 0 if batch_first else 1
        if tgt.shape[axis] != memory.shape[axis]:
            raise RuntimeError(f"the batch number of {what} must be equal. Received: shapes "
                               f"{tuple(tgt.shape)} and {tuple(memory.shape)}")


class TransformerDecoderLayer(Module):
    """Post-norm: x = norm1(x + SA(x)); x = norm2(x + CA(x, m)); x = norm3(x + FF(x)), with
    SA = dropout1 ∘ self_attn, CA = dropout2 ∘ multihead_attn (queries x, keys and values the
    memory m), FF = dropout3 ∘ linear2 ∘ dropout ∘ activation ∘ linear1. ``norm_first``:
    x = x + SA(norm1(x)); x = x + CA(norm2(x), m); x = x + FF(norm3(x)).

    tgt [T, N, E] (or [N, T, E] with ``batch_first``, or unbatched [T, E]), memory [S, N, E]
    likewise; ``tgt_mask`` [T, T] / ``memory_mask`` [T, S] (or [N·H, …]) and the key padding
    masks [N, T] / [N, S] as ``MultiheadAttention``'s: bool True = may not attend, float added.
    ValueError when d_model is not divisible by nhead (MultiheadAttention's check).
    """

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int = 2048,
                 dropout: float = 0.1, activation: str | Module | Callable = "relu",
                 layer_norm_eps: float = 1e-5, batch_first: bool = False,
                 norm_first: bool = False, bias: bool = True, device=None, dtype=None,
                 generator=None):
        super().__init__()
        _check_positive_int("TransformerDecoderLayer", d_model=d_model, nhead=nhead,
                            dim_feedforward=dim_feedforward)
        attention = dict(dropout=dropout, bias=bias, batch_first=batch_first, dtype=dtype,
                         generator=generator)
        self.self_attn = MultiheadAttention(d_model, nhead, **attention)
        self.multihead_attn = MultiheadAttention(d_model, nhead, **attention)
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, dtype=dtype,
                              generator=generator)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, dtype=dtype,
                              generator=generator)
        self.norm_first = norm_first
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.norm3 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
        self.dropout3 = Dropout(dropout)
        self.activation = layer_activation(activation, "TransformerDecoderLayer")

    def forward(self, tgt: Tensor, memory: Tensor, tgt_mask=None, memory_mask=None,
                tgt_key_padding_mask=None, memory_key_padding_mask=None,
                tgt_is_causal: bool = False, memory_is_causal: bool = False) -> Tensor:
        """The output, shaped like ``tgt``. RuntimeError when tgt and memory differ in batch
        size; ValueError (MultiheadAttention's) for a feature size other than d_model."""
        x, memory = _as_tensor(tgt), _as_tensor(memory)
        _check_batches(x, memory, self.self_attn.batch_first, "tgt and memory")
        unbatched = x.ndim == 2
        tgt_pad = _batched_padding(tgt_key_padding_mask, unbatched)
        memory_pad = _batched_padding(memory_key_padding_mask, unbatched)
        self_block = (tgt_mask, tgt_pad, tgt_is_causal)
        cross_block = (memory, memory_mask, memory_pad, memory_is_causal)
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), *self_block)
            x = x + self._mha_block(self.norm2(x), *cross_block)
            return x + self._ff_block(self.norm3(x))
        x = self.norm1(x + self._sa_block(x, *self_block))
        x = self.norm2(x + self._mha_block(x, *cross_block))
        return self.norm3(x + self._ff_block(x))

    def _sa_block(self, x, attn_mask, key_padding_mask, is_causal) -> Tensor:
        out, _ = self.self_attn(x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask,
                                need_weights=False, is_causal=bool(is_causal))
        return self.dropout1(out)

    def _mha_block(self, x, memory, attn_mask, key_padding_mask, is_causal) -> Tensor:
        out, _ = self.multihead_attn(x, memory, memory, attn_mask=attn_mask,
                                     key_padding_mask=key_padding_mask, need_weights=False,
                                     is_causal=bool(is_causal))
        return self.dropout2(out)

    def _ff_block(self, x) -> Tensor:
        return self.dropout3(self.linear2(self.dropout(self.activation(self.linear1(x)))))


declare(TransformerDecoderLayer, config=layer_config,
        from_config=restore_layer(TransformerDecoderLayer))


class TransformerDecoder(Module):
    """``num_layers`` deep copies of ``decoder_layer`` (each its own parameters, all starting
    equal, as torch's), applied in turn to (output, memory), then ``norm`` if given. The masks
    and causal hints go to every layer. ValueError for num_layers < 1."""

    def __init__(self, decoder_layer: Module, num_layers: int, norm: Module | None = None):
        super().__init__()
        _check_positive_int("TransformerDecoder", num_layers=num_layers)
        if not isinstance(decoder_layer, Module):
            raise TypeError(f"TransformerDecoder: decoder_layer must be a Module. Received: "
                            f"{type(decoder_layer).__name__}")
        self.layers = ModuleList([copy.deepcopy(decoder_layer) for _ in range(num_layers)])
        self.num_layers = num_layers
        self.norm = norm

    def forward(self, tgt: Tensor, memory: Tensor, tgt_mask=None, memory_mask=None,
                tgt_key_padding_mask=None, memory_key_padding_mask=None,
                tgt_is_causal: bool | None = None, memory_is_causal: bool = False) -> Tensor:
        output = tgt
        for layer in self.layers:
            output = layer(output, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                           tgt_key_padding_mask=tgt_key_padding_mask,
                           memory_key_padding_mask=memory_key_padding_mask,
                           tgt_is_causal=bool(tgt_is_causal),
                           memory_is_causal=bool(memory_is_causal))
        return output if self.norm is None else self.norm(output)


def _decoder_config(m: TransformerDecoder) -> dict:
    """Its layer count; ``norm=None`` where it has no final norm (a norm is a child)."""
    return {"num_layers": m.num_layers, **({} if "norm" in m._modules else {"norm": None})}


declare(TransformerDecoder, config=_decoder_config, from_config=restore(TransformerDecoder))


class Transformer(Module):
    """Encoder-decoder: memory = encoder(src), output = decoder(tgt, memory), as torch's
    ``nn.Transformer``: ``num_encoder_layers`` ``TransformerEncoderLayer`` and
    ``num_decoder_layers`` ``TransformerDecoderLayer``, each stack with a final LayerNorm
    (or ``custom_encoder`` / ``custom_decoder``). Every parameter with more than one dimension
    is then re-drawn xavier-uniform, as torch does.

    src [S, N, E], tgt [T, N, E] (batch first with ``batch_first``; or unbatched [S, E],
    [T, E]) → output like tgt. Masks: ``src_mask`` [S, S], ``tgt_mask`` [T, T],
    ``memory_mask`` [T, S], key padding masks [N, S] / [N, T] / [N, S]; see
    ``generate_square_subsequent_mask`` for the causal ``tgt_mask``.
    """

    def __init__(self, d_model: int = 512, nhead: int = 8, num_encoder_layers: int = 6,
                 num_decoder_layers: int = 6, dim_feedforward: int = 2048,
                 dropout: float = 0.1, activation: str | Module | Callable = "relu",
                 custom_encoder: Module | None = None, custom_decoder: Module | None = None,
                 layer_norm_eps: float = 1e-5, batch_first: bool = False,
                 norm_first: bool = False, bias: bool = True, device=None, dtype=None,
                 generator=None):
        super().__init__()
        _check_positive_int("Transformer", d_model=d_model, nhead=nhead)
        activation = layer_activation(activation, "Transformer")
        layer = dict(dim_feedforward=dim_feedforward, dropout=dropout, activation=activation,
                     layer_norm_eps=layer_norm_eps, batch_first=batch_first,
                     norm_first=norm_first, bias=bias, dtype=dtype, generator=generator)
        if custom_encoder is not None:
            self.encoder = custom_encoder
        else:
            self.encoder = TransformerEncoder(
                TransformerEncoderLayer(d_model, nhead, **layer), num_encoder_layers,
                LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype))
        if custom_decoder is not None:
            self.decoder = custom_decoder
        else:
            self.decoder = TransformerDecoder(
                TransformerDecoderLayer(d_model, nhead, **layer), num_decoder_layers,
                LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype))
        self._reset_parameters(generator)
        self.d_model, self.nhead, self.batch_first = d_model, nhead, batch_first

    def _reset_parameters(self, generator=None) -> None:
        for p in self.parameters():
            if p.ndim > 1:
                init.xavier_uniform_(p, generator=generator)

    def forward(self, src: Tensor, tgt: Tensor, src_mask=None, tgt_mask=None, memory_mask=None,
                src_key_padding_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, src_is_causal: bool | None = None,
                tgt_is_causal: bool | None = None, memory_is_causal: bool = False) -> Tensor:
        """decoder(tgt, encoder(src)). RuntimeError (torch's messages) when src and tgt differ
        in batch size or their feature size is not d_model."""
        src, tgt = _as_tensor(src), _as_tensor(tgt)
        if src.ndim == 3:
            _check_batches(src, tgt, self.batch_first, "src and tgt")
        if src.shape[-1] != self.d_model or tgt.shape[-1] != self.d_model:
            raise RuntimeError(f"the feature number of src and tgt must be equal to d_model "
                               f"({self.d_model}). Received: shapes {tuple(src.shape)} and "
                               f"{tuple(tgt.shape)}")
        memory = self.encoder(src, mask=src_mask, is_causal=src_is_causal,
                              src_key_padding_mask=_batched_padding(src_key_padding_mask,
                                                                    src.ndim == 2))
        return self.decoder(tgt, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                            tgt_key_padding_mask=tgt_key_padding_mask,
                            memory_key_padding_mask=memory_key_padding_mask,
                            tgt_is_causal=tgt_is_causal, memory_is_causal=memory_is_causal)

    @staticmethod
    def generate_square_subsequent_mask(sz: int, device=None, dtype=None) -> Tensor:
        """The causal mask [sz, sz]: 0 on and below the diagonal, -inf above; of ``dtype``,
        by default the default float dtype (as torch)."""
        dtype = dtypes.get_default_dtype() if dtype is None else dtypes.to_dtype(dtype)
        return Tensor._of(np.triu(np.full((sz, sz), -np.inf, dtype=dtype), 1))


declare(Transformer, config=("d_model", "nhead", "batch_first"),
        from_config=restore(Transformer))
