"""Softmax attention, fused: scores, mask, softmax, dropout and the weighted sum of values in
one op, with its backward written out below it.

Fused because the unfused graph would keep four [..., L, S] arrays alive (scores, masked
scores, probabilities, dropped-out probabilities); this op keeps one (the probabilities) and
computes the gradient of all four steps in three matrix products.
"""

from __future__ import annotations

import math

import numpy as np

from ffnn import random as _random
from ffnn.autograd import Op
from ffnn.backend import xp
from ffnn.ops._blas import single_blas_thread
from ffnn.ops.dropout import keep_mask
from ffnn.ops.elementwise import unbroadcast
from ffnn.tensor import Tensor


class ScaledDotProductAttention(Op):
    """O = dropout(P) V with P = softmax(s · Q Kᵀ + M) along the last axis.

    Q [..., L, E], K [..., S, E], V [..., S, Ev] → O [..., L, Ev]; M broadcasts to [..., L, S]
    (an additive bias: 0 where a key takes part, -inf where it does not); s is the scale.
    With D the dropout mask scaled by 1/(1-p) (all ones when p = 0) and G = dL/dO:

        dL/dV = (P⊙D)ᵀ G,   dL/dP = (G Vᵀ)⊙D,   dL/dZ = P ⊙ (dL/dP - Σ_S(dL/dP ⊙ P)),
        dL/dQ = s · dL/dZ K,   dL/dK = s · dL/dZᵀ Q,   for Z = s · Q Kᵀ + M.
    """

    def forward(self, query, key, value, bias=None, scale=1.0, dropout_mask=None):
        with single_blas_thread():
            return self._forward(query, key, value, bias, scale, dropout_mask)

    def _forward(self, query, key, value, bias, scale, dropout_mask):
        probs = attention_probs(query @ xp(query).swapaxes(key, -1, -2), scale, bias)
        weights = probs if dropout_mask is None else probs * dropout_mask
        self.scale, self.dropout_mask = scale, dropout_mask
        self.shapes = (query.shape, key.shape, value.shape)
        if any(self.needs_input_grad):
            self.query, self.key, self.value, self.probs = query, key, value, probs
        return weights @ value

    def backward(self, grad):
        with single_blas_thread():
            return self._backward(grad)

    def _backward(self, grad):
        m = xp(grad)
        need_q, need_k, need_v = self.needs_input_grad[:3]
        probs, mask = self.probs, self.dropout_mask
        grad_q = grad_k = grad_v = None
        if need_v:
            weights = probs if mask is None else probs * mask
            grad_v = unbroadcast(m.swapaxes(weights, -1, -2) @ grad, self.shapes[2])
        if need_q or need_k:
            grad_p = grad @ m.swapaxes(self.value, -1, -2)
            if mask is not None:
                grad_p *= mask
            grad_z = probs * (grad_p - (grad_p * probs).sum(axis=-1, keepdims=True))
            grad_z *= self.scale
            if need_q:
                grad_q = unbroadcast(grad_z @ self.key, self.shapes[0])
            if need_k:
                grad_k = unbroadcast(m.swapaxes(grad_z, -1, -2) @ self.query, self.shapes[1])
        return grad_q, grad_k, grad_v


def attention_probs(scores, scale: float, bias=None):
    """P = softmax(s · scores + M) along the last axis, computed in the array ``scores``
    [..., L, S] (which it overwrites and returns, unless M broadcasts it to a larger shape)."""
    m = xp(scores)
    scores *= scale
    if bias is not None:
        if m.broadcast_shapes(scores.shape, bias.shape) == scores.shape:
            scores += bias
        else:
            scores = scores + bias
    scores -= scores.max(axis=-1, keepdims=True)
    m.exp(scores, out=scores)
    scores /= scores.sum(axis=-1, keepdims=True)
    # probabilities below the smallest normal number are subnormal: every later product
    # with them runs many times slower on x86, and they weigh nothing; make them 0
    m.putmask(scores, scores < m.finfo(scores.dtype).tiny, 0)
    return scores


def attention_bias(attn_mask, dtype) -> np.ndarray | None:
    """An additive bias from a mask: a boolean mask (True = takes part, as torch's
    ``scaled_dot_product_attention``) becomes 0 / -inf; a float mask is used as given."""
    if attn_mask is None:
        return None
    mask = attn_mask.numpy() if isinstance(attn_mask, Tensor) else np.asarray(attn_mask)
    if mask.dtype == bool:
        bias = np.zeros(mask.shape, dtype=dtype)
        bias[~mask] = -np.inf
        return bias
    if mask.dtype.kind != "f":
        raise TypeError(
            "scaled_dot_product_attention: attn_mask must be boolean or floating. "
            f"Received: dtype={mask.dtype}"
        )
    return mask.astype(dtype, copy=False)


def scaled_dot_product_attention(query: Tensor, key: Tensor, value: Tensor, attn_mask=None,
                                 dropout_p: float = 0.0, is_causal: bool = False,
                                 scale: float | None = None, generator=None) -> Tensor:
    """softmax(Q Kᵀ · scale + mask) V, as ``torch.nn.functional.scaled_dot_product_attention``.

    query [..., L, E], key [..., S, E], value [..., S, Ev] → [..., L, Ev]; ``scale`` defaults
    to 1/√E; ``attn_mask`` (broadcast to [..., L, S]) is boolean (True: attend) or an additive
    float bias; ``is_causal`` masks keys after the query's position. Dropout with probability
    ``dropout_p`` hits the attention probabilities (masks from ``generator`` or the global seed).
    Raises ValueError on mismatched shapes or a bad dropout_p.
    """
    for name, t in (("query", query), ("key", key), ("value", value)):
        if not isinstance(t, Tensor) or t.ndim < 2:
            raise ValueError(f"scaled_dot_product_attention: {name} must be a Tensor with at "
                             f"least 2 dimensions. Received: {_describe(t)}")
    if query.shape[-1] != key.shape[-1] or key.shape[-2] != value.shape[-2]:
        raise ValueError(
            "scaled_dot_product_attention: expected query [..., L, E], key [..., S, E] and value "
            f"[..., S, Ev]. Received: query {tuple(query.shape)}, key {tuple(key.shape)}, value "
            f"{tuple(value.shape)}"
        )
    if not 0.0 <= dropout_p < 1.0:
        raise ValueError(f"scaled_dot_product_attention: dropout_p must be in [0, 1). "
                         f"Received: dropout_p={dropout_p!r}")
    dtype = query.numpy().dtype
    bias = attention_bias(attn_mask, dtype)
    if is_causal:
        length, source = query.shape[-2], key.shape[-2]
        causal = np.where(np.tril(np.ones((length, source), dtype=bool)), 0.0, -np.inf)
        bias = causal.astype(dtype) if bias is None else bias + causal.astype(dtype)
    if scale is None:
        scale = 1.0 / math.sqrt(query.shape[-1])
    dropout_mask = None
    if dropout_p > 0.0:
        shape = np.broadcast_shapes(query.shape[:-1] + (key.shape[-2],),
                                    key.shape[:-2] + (1, key.shape[-2]))
        keep = keep_mask(_random.rng(generator), shape, dropout_p)
        dropout_mask = keep.astype(dtype) / dtype.type(1.0 - dropout_p)
    return ScaledDotProductAttention.apply(query, key, value, bias=bias, scale=float(scale),
                                           dropout_mask=dropout_mask)


def _describe(value) -> str:
    if isinstance(value, Tensor):
        return f"shape {tuple(value.shape)}"
    return f"{type(value).__name__}"
