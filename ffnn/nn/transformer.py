"""``TransformerEncoderLayer`` with torch's names: self-attention and a feed-forward block,
each with its residual connection and LayerNorm (post-norm by default, as BERT; pre-norm with
``norm_first``); ``TransformerEncoder``, a stack of copies of one. Gradients come from the
ops they compose."""

from __future__ import annotations

import copy
import warnings
from collections.abc import Callable

import numpy as np

from ffnn.autograd import is_grad_enabled
from ffnn.nn import functional as F
from ffnn.nn.activation import GELU, ReLU
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

    torch's nested-tensor fast path, as torch takes it (``enable_nested_tensor`` and a layer
    it can run: post-norm, ``batch_first``, relu/gelu, an even head count; in eval mode, a
    right-padded ``src_key_padding_mask`` and no ``mask``, without gradients): the padded
    positions of the layers' output are zeros (before ``norm``), every real one as without
    it. ``enable_nested_tensor`` with a layer it cannot take warns as torch's does."""

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
        self.enable_nested_tensor = self.use_nested_tensor = enable_nested_tensor
        self.mask_check = mask_check
        why_not = _why_no_nested_tensor(encoder_layer)
        if enable_nested_tensor and why_not:
            warnings.warn(f"enable_nested_tensor is True, but self.use_nested_tensor is False "
                          f"because {why_not}", stacklevel=2)
            self.use_nested_tensor = False

    def forward(self, src: Tensor, mask=None, src_key_padding_mask=None,
                is_causal: bool | None = None) -> Tensor:
        output = src
        for layer in self.layers:
            output = layer(output, src_mask=mask, src_key_padding_mask=src_key_padding_mask,
                           is_causal=bool(is_causal))
        if self._takes_nested_path(src, mask, src_key_padding_mask):
            output = output.masked_fill(~_kept(src_key_padding_mask).unsqueeze(-1), 0.0)
        return output if self.norm is None else self.norm(output)

    def _takes_nested_path(self, src, mask, padding_mask) -> bool:
        """torch's conditions for converting ``src`` to a nested tensor (its forward's)."""
        first = self.layers[0]
        if (not getattr(self, "use_nested_tensor", False) or first.training or padding_mask is None
                or mask is not None or not isinstance(src, Tensor) or src.dim() != 3):
            return False
        kept = _kept(padding_mask).numpy()
        right_padded = not np.any(kept[:, 1:] & ~kept[:, :-1])
        if getattr(self, "mask_check", True) and not right_padded:
            return False
        attn = first.self_attn
        tensors = (src, attn.in_proj_weight, attn.in_proj_bias, attn.out_proj.weight,
                   attn.out_proj.bias, first.norm1.weight, first.norm1.bias, first.norm2.weight,
                   first.norm2.bias, first.linear1.weight, first.linear1.bias,
                   first.linear2.weight, first.linear2.bias)
        return not (is_grad_enabled()
                    and any(t is not None and t.requires_grad for t in tensors))


def _kept(padding_mask) -> Tensor:
    """The positions a key-padding mask keeps: False in a bool mask, 0 in a float one."""
    mask = padding_mask if isinstance(padding_mask, Tensor) else Tensor._of(
        np.asarray(padding_mask))
    return ~mask if mask.dtype == bool else mask == 0


def _why_no_nested_tensor(layer: Module) -> str:
    """torch's reason why an encoder of copies of ``layer`` cannot take the nested-tensor
    path ('' when it can)."""
    where = "encoder_layer"
    if not isinstance(layer, TransformerEncoderLayer):
        return f"{where} was not TransformerEncoderLayer"
    attn, activation = layer.self_attn, layer.activation
    reasons = (
        (layer.norm_first, f"{where}.norm_first was True"),
        (not attn.batch_first, f"{where}.self_attn.batch_first was not True(use batch_first "
                               "for better inference performance)"),
        (attn.in_proj_bias is None, f"{where}.self_attn was passed bias=False"),
        (not (activation in (F.relu, F.gelu) or isinstance(activation, (ReLU, GELU))),
         f"{where}.activation_relu_or_gelu was not True"),
        (layer.norm1.eps != layer.norm2.eps,
         f"{where}.norm1.eps was not equal to {where}.norm2.eps"),
        (attn.num_heads % 2 == 1, f"{where}.self_attn.num_heads is odd"))
    return next((reason for failed, reason in reasons if failed), "")


def _encoder_config(m: TransformerEncoder) -> dict:
    """Its layer count and nested-tensor settings; ``norm=None`` where it has no final norm
    (a norm is a child, saved with the spec)."""
    nested = {key: m.__dict__[key] for key in ("enable_nested_tensor", "use_nested_tensor",
                                                "mask_check") if key in m.__dict__}
    return {"num_layers": m.num_layers, **nested,
            **({} if "norm" in m._modules else {"norm": None})}


declare(TransformerEncoder, config=_encoder_config, from_config=restore(TransformerEncoder))
