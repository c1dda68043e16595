"""``MultiheadAttention`` with torch's names, layouts and masks. The attention itself is the
fused op in ``ffnn.ops.attention``; this module projects, splits heads and merges them, so
nothing here re-derives a gradient."""

from __future__ import annotations

import math

import numpy as np

from ffnn import dtypes, ops
from ffnn.nn import functional as F
from ffnn.nn import init
from ffnn.nn.linear import NonDynamicallyQuantizableLinear, _check_positive_int
from ffnn.nn.module import Module
from ffnn.nn.parameter import Parameter
from ffnn.nn.traits import declare
from ffnn.ops.attention import scaled_dot_product_attention
from ffnn.tensor import Tensor


def split_heads(x: Tensor, num_heads: int) -> Tensor:
    """[N, L, H·d] → [N, H, L, d]."""
    n, length, width = x.shape
    return ops.permute(ops.reshape(x, (n, length, num_heads, width // num_heads)), (0, 2, 1, 3))


def merge_heads(x: Tensor) -> Tensor:
    """[N, H, L, d] → [N, L, H·d]."""
    n, heads, length, d = x.shape
    return ops.reshape(ops.permute(x, (0, 2, 1, 3)), (n, length, heads * d))


def padding_bias(key_padding_mask, batch: int, source: int, dtype,
                 where: str = "MultiheadAttention") -> np.ndarray:
    """[N, S] mask (bool: True = padding, ignored; float: added) → bias [N, 1, 1, S]."""
    mask = (key_padding_mask.numpy() if isinstance(key_padding_mask, Tensor)
            else np.asarray(key_padding_mask))
    if mask.shape != (batch, source):
        raise ValueError(f"{where}: key_padding_mask must have shape [N, S] = {(batch, source)}. "
                         f"Received: shape {mask.shape}")
    return _as_bias(mask, dtype, where, "key_padding_mask").reshape(batch, 1, 1, source)


def _as_bias(mask: np.ndarray, dtype, where: str, name: str) -> np.ndarray:
    if mask.dtype == bool:
        bias = np.zeros(mask.shape, dtype=dtype)
        bias[mask] = -np.inf
        return bias
    if mask.dtype.kind != "f":
        raise TypeError(f"{where}: {name} must be boolean or floating. "
                        f"Received: dtype={mask.dtype}")
    return mask.astype(dtype, copy=False)


class MultiheadAttention(Module):
    """softmax(Q Kᵀ/√d + mask) V over ``num_heads`` heads of width d = embed_dim/num_heads.

    Q, K, V = x W_qᵀ + b_q, … with [W_q; W_k; W_v] = ``in_proj_weight`` [3E, E] and
    ``in_proj_bias`` [3E]; the heads' outputs are concatenated and go through ``out_proj``
    (Linear(E, E), torch's ``NonDynamicallyQuantizableLinear``). Inputs are [L, N, E] (or
    [N, L, E] with ``batch_first``), or unbatched [L, E]. Initialisation as torch:
    xavier-uniform projections, zero biases. Printed as torch's: no options line.
    """

    def __init__(self, embed_dim: int, num_heads: int, dropout: float = 0.0, bias: bool = True,
                 add_bias_kv: bool = False, add_zero_attn: bool = False, kdim=None, vdim=None,
                 batch_first: bool = False, device=None, dtype=None, generator=None):
        super().__init__()
        _check_positive_int("MultiheadAttention", embed_dim=embed_dim, num_heads=num_heads)
        if embed_dim % num_heads:
            raise ValueError(f"MultiheadAttention: embed_dim must be divisible by num_heads. "
                             f"Received: embed_dim={embed_dim}, num_heads={num_heads}")
        if add_bias_kv or add_zero_attn or kdim not in (None, embed_dim) or vdim not in (
                None, embed_dim):
            raise ValueError("MultiheadAttention: add_bias_kv, add_zero_attn and kdim/vdim "
                             "other than embed_dim are not supported. Received: "
                             f"add_bias_kv={add_bias_kv}, add_zero_attn={add_zero_attn}, "
                             f"kdim={kdim}, vdim={vdim}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"MultiheadAttention: dropout must be in [0, 1). "
                             f"Received: dropout={dropout!r}")
        dtype = dtypes.to_dtype(dtype)
        self.embed_dim, self.num_heads = int(embed_dim), int(num_heads)
        self.head_dim = self.embed_dim // self.num_heads
        self.dropout, self.batch_first, self.generator = float(dropout), batch_first, generator
        self.in_proj_weight = Parameter(np.empty((3 * embed_dim, embed_dim), dtype=dtype))
        if bias:
            self.in_proj_bias = Parameter(np.zeros(3 * embed_dim, dtype=dtype))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = NonDynamicallyQuantizableLinear(embed_dim, embed_dim, bias=bias,
                                                        dtype=dtype, generator=generator)
        self.reset_parameters(generator)

    def reset_parameters(self, generator=None) -> None:
        init.xavier_uniform_(self.in_proj_weight, generator=generator)
        if self.in_proj_bias is not None:
            init.zeros_(self.in_proj_bias)
            init.zeros_(self.out_proj.bias)

    def forward(self, query: Tensor, key: Tensor, value: Tensor, key_padding_mask=None,
                need_weights: bool = True, attn_mask=None, average_attn_weights: bool = True,
                is_causal: bool = False) -> tuple[Tensor, Tensor | None]:
        """(attn_output, attn_weights): output like ``query``; weights [N, L, S] averaged over
        heads (or [N, H, L, S]), None unless ``need_weights``. ``key_padding_mask`` [N, S] and
        boolean ``attn_mask`` [L, S] or [N·H, L, S] mark with True what may NOT be attended;
        float masks are added to the scores."""
        batched = query.ndim == 3
        q, k, v = (self._batch_major(t, name, batched) for t, name in
                   ((query, "query"), (key, "key"), (value, "value")))
        n, length, _ = q.shape
        source = k.shape[1]
        q, k, v = self._project(q, k, v, query is key and key is value)
        dtype = q.numpy().dtype
        bias = self._bias(key_padding_mask, attn_mask, is_causal, n, length, source, dtype)
        p = self.dropout if self.training else 0.0
        if need_weights:
            out, weights = self._attention_with_weights(q, k, v, bias, p)
            if average_attn_weights:
                weights = ops.mean(weights, dim=1)
            if not batched:
                weights = ops.squeeze(weights, 0)
        else:
            out = scaled_dot_product_attention(q, k, v, attn_mask=bias, dropout_p=p,
                                               generator=self.generator)
            weights = None
        out = self.out_proj(merge_heads(out))
        if not batched:
            return ops.squeeze(out, 0), weights
        if not self.batch_first:
            out = ops.transpose(out, 0, 1)
        return out, weights

    def _batch_major(self, x: Tensor, name: str, batched: bool) -> Tensor:
        if not isinstance(x, Tensor):
            x = Tensor._of(np.asarray(x))
        if x.ndim != (3 if batched else 2) or x.shape[-1] != self.embed_dim:
            raise ValueError(
                f"MultiheadAttention(embed_dim={self.embed_dim}) expects {name} of shape "
                f"{'[N, L, E]' if self.batch_first else '[L, N, E]'} or [L, E] with "
                f"E={self.embed_dim} (and all three inputs batched alike). Received: shape "
                f"{tuple(x.shape)}")
        if not batched:
            return ops.unsqueeze(x, 0)
        return x if self.batch_first else ops.transpose(x, 0, 1)

    def _project(self, q: Tensor, k: Tensor, v: Tensor, same: bool):
        w, b, e, h = self.in_proj_weight, self.in_proj_bias, self.embed_dim, self.num_heads
        if same:
            qkv = ops.linear(q, w, b)
            q, k, v = (qkv[..., i * e:(i + 1) * e] for i in range(3))
        else:
            q, k, v = (ops.linear(x, w[i * e:(i + 1) * e], None if b is None else
                                  b[i * e:(i + 1) * e]) for i, x in enumerate((q, k, v)))
        return split_heads(q, h), split_heads(k, h), split_heads(v, h)

    def _bias(self, key_padding_mask, attn_mask, is_causal, n, length, source, dtype):
        bias = None
        if key_padding_mask is not None:
            bias = padding_bias(key_padding_mask, n, source, dtype)
        if attn_mask is not None:
            mask = attn_mask.numpy() if isinstance(attn_mask, Tensor) else np.asarray(attn_mask)
            if mask.shape == (n * self.num_heads, length, source):
                mask = mask.reshape(n, self.num_heads, length, source)
            elif mask.shape != (length, source):
                raise ValueError(
                    f"MultiheadAttention: attn_mask must have shape [L, S] = {(length, source)} "
                    f"or [N·H, L, S] = {(n * self.num_heads, length, source)}. Received: shape "
                    f"{mask.shape}")
            mask = _as_bias(mask, dtype, "MultiheadAttention", "attn_mask")
            bias = mask if bias is None else bias + mask
        elif is_causal:
            raise ValueError("MultiheadAttention: is_causal=True needs the causal attn_mask "
                             "too (as torch). Received: attn_mask=None")
        return bias

    def _attention_with_weights(self, q, k, v, bias, p):
        scores = ops.mul(ops.matmul(q, ops.transpose(k, -1, -2)), 1.0 / math.sqrt(self.head_dim))
        if bias is not None:
            scores = ops.add(scores, Tensor._of(bias))
        weights = ops.softmax(scores, dim=-1)
        dropped = F.dropout(weights, p, training=p > 0.0, generator=self.generator)
        return ops.matmul(dropped, v), dropped


declare(MultiheadAttention,
        config=lambda m: {"embed_dim": m.embed_dim, "num_heads": m.num_heads,
                          "dropout": m.dropout, "bias": m.in_proj_bias is not None,
                          "batch_first": m.batch_first},
        shapes=lambda c: {"in_proj_weight": (3 * c["embed_dim"], c["embed_dim"]),
                          **({"in_proj_bias": (3 * c["embed_dim"],)} if c["bias"] else {})})
