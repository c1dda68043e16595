"""``TransformerEncoderLayer`` with torch's names: self-attention and a feed-forward block,
each with its residual connection and LayerNorm (post-norm by default, as BERT; pre-norm with
``norm_first``); ``TransformerEncoder``, a stack of copies of one. Gradients come from the
ops they compose."""

from __future__ import annotations

import copy
from collections.abc import Callable

import numpy as np

from ffnn.nn import functional as F
from ffnn.nn.attention import MultiheadAttention
from ffnn.nn.container import ModuleList
from ffnn.nn.ffn import make_activation
from ffnn.nn.linear import Linear, _check_positive_int
from ffnn.nn.module import Module
from ffnn.nn.normalization import Dropout, LayerNorm
from ffnn.nn.traits import declare, restore
from ffnn.tensor import Tensor

TORCH_FUNCTIONS = ("relu", "gelu")
"""The activation names torch's transformer layers take; they keep the function ``F.<name>``."""


def layer_activation(activation, where: str) -> Callable[[Tensor], Tensor]:
    """What a transformer layer keeps for torch's ``activation`` argument, as torch does:
    "relu" / "gelu" → the function ``F.relu`` / ``F.gelu`` (no child module, so it is not
    printed); a Module (a child, printed last) or any other function as given; ffnn also
    takes another declared activation name ("silu" …) as its Module. RuntimeError for an
    unknown name (torch's type)."""
    if isinstance(activation, str) and activation in TORCH_FUNCTIONS:
        return getattr(F, activation)
    if callable(activation):
        return activation
    try:
        return make_activation(activation, where)
    except ValueError as error:
        raise RuntimeError(str(error)) from None


def layer_config(layer: Module) -> dict:
    """A transformer layer's spec config: ``norm_first``, and the name of an activation kept
    as a function (a Module activation is a child of its own). SpecError (no spec is saved)
    for a function with no name ffnn can rebuild."""
    config = {"norm_first": layer.norm_first}
    if "activation" not in layer._modules:
        names = [n for n in TORCH_FUNCTIONS if layer.activation is getattr(F, n)]
        if not names:
            from ffnn.io.spec import SpecError  # noqa: PLC0415 - io builds on nn

            raise SpecError(f"the activation of {type(layer).__name__} is the function "
                            f"{layer.activation!r}, which a checkpoint cannot name (give "
                            f"activation as {' or '.join(TORCH_FUNCTIONS)} or a Module)")
        config["activation"] = names[0]
    return config


def restore_layer(cls: type) -> Callable[[dict], Module]:
    """``from_config`` of a transformer layer: ``restore``'s, with a named activation made
    the function again."""
    rebuild = restore(cls)

    def from_config(config: dict) -> Module:
        config = dict(config)
        name = config.pop("activation", None)
        layer = rebuild(config)
        if name is not None:
            if name not in TORCH_FUNCTIONS:
                raise ValueError(f"{cls.__name__}: activation must be one of "
                                 f"{list(TORCH_FUNCTIONS)}. Received: activation={name!r}")
            layer.activation = getattr(F, name)
        return layer

    return from_config


class TransformerEncoderLayer(Module):
    """Post-norm: x = norm1(x + SA(x)); x = norm2(x + FF(x)), with
    SA = dropout1 ∘ self_attn and FF = dropout2 ∘ linear2 ∘ dropout ∘ activation ∘ linear1.
    ``norm_first``: x = x + SA(norm1(x)); x = x + FF(norm2(x)).

    Input [S, N, E] (or [N, S, E] with ``batch_first``, or unbatched [S, E]); ``src_mask`` and
    ``src_key_padding_mask`` as ``MultiheadAttention``'s ``attn_mask`` / ``key_padding_mask``.
    """

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int = 2048,
                 dropout: float = 0.1, activation: str | Module | Callable = "relu",
                 layer_norm_eps: float = 1e-5, batch_first: bool = False,
                 norm_first: bool = False, bias: bool = True, device=None, dtype=None,
                 generator=None):
        super().__init__()
        _check_positive_int("TransformerEncoderLayer", d_model=d_model, nhead=nhead,
                            dim_feedforward=dim_feedforward)
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias,
                                            batch_first=batch_first, dtype=dtype,
                                            generator=generator)
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, dtype=dtype,
                              generator=generator)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, dtype=dtype,
                              generator=generator)
        self.norm_first = norm_first
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
        self.activation = layer_activation(activation, "TransformerEncoderLayer")

    def forward(self, src: Tensor, src_mask=None, src_key_padding_mask=None,
                is_causal: bool = False) -> Tensor:
        x = src if isinstance(src, Tensor) else Tensor._of(np.asarray(src))
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), src_mask, src_key_padding_mask, is_causal)
            return x + self._ff_block(self.norm2(x))
        x = self.norm1(x + self._sa_block(x, src_mask, src_key_padding_mask, is_causal))
        return self.norm2(x + self._ff_block(x))

    def _sa_block(self, x, attn_mask, key_padding_mask, is_causal) -> Tensor:
        out, _ = self.self_attn(x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask,
                                need_weights=False, is_causal=is_causal)
        return self.dropout1(out)

    def _ff_block(self, x) -> Tensor:
        return self.dropout2(self.linear2(self.dropout(self.activation(self.linear1(x)))))


declare(TransformerEncoderLayer, config=layer_config,
        from_config=restore_layer(TransformerEncoderLayer))


class TransformerEncoder(Module):
    """``num_layers`` copies of ``encoder_layer`` (deep copies: each its own parameters, all
    starting equal, as torch's), applied in turn, then ``norm`` if given. ``mask``,
    ``src_key_padding_mask`` and ``is_causal`` go to every layer.

    torch's nested-tensor fast path (eval mode, ``enable_nested_tensor``, a padding mask) writes
    zeros at padded positions; here they keep the layers' values (every real position the
    same). ``enable_nested_tensor`` and ``mask_check`` are accepted and change nothing."""

    def __init__(self, encoder_layer: Module, num_layers: int, norm: Module | None = None,
                 enable_nested_tensor: bool = True, mask_check: bool = True):
        super().__init__()
        _check_positive_int("TransformerEncoder", num_layers=num_layers)
        if not isinstance(encoder_layer, Module):
            raise TypeError(f"TransformerEncoder: encoder_layer must be a Module. Received: "
                            f"{type(encoder_layer).__name__}")
        self.layers = ModuleList([copy.deepcopy(encoder_layer) for _ in range(num_layers)])
        self.num_layers = num_layers
        self.norm = norm

    def forward(self, src: Tensor, mask=None, src_key_padding_mask=None,
                is_causal: bool | None = None) -> Tensor:
        output = src
        for layer in self.layers:
            output = layer(output, src_mask=mask, src_key_padding_mask=src_key_padding_mask,
                           is_causal=bool(is_causal))
        return output if self.norm is None else self.norm(output)


def _encoder_config(m: TransformerEncoder) -> dict:
    """Its layer count; ``norm=None`` where it has no final norm (a norm is a child, saved
    with the spec)."""
    return {"num_layers": m.num_layers, **({} if "norm" in m._modules else {"norm": None})}


declare(TransformerEncoder, config=_encoder_config, from_config=restore(TransformerEncoder))
