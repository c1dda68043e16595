"""Inference-only array kernels for a transformer encoder run without a graph (no backward,
nothing saved): exact GELU in place, residual + LayerNorm in place, and softmax attention over
*packed* sequences — the tokens of a batch stacked as rows [T, E] with no padding, each
sequence attending only over its own rows.

Same formulas as the ops (``ops.activations.GELU``, ``ops.norms.LayerNorm``,
``ops.attention``), to float32 round-off; the compiled kernels (numba, ``_inference_kernels``)
are used when ``ffnn.accel`` is enabled, NumPy otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ffnn import accel
from ffnn.ops._blas import single_blas_thread
from ffnn.ops.activations import GELU_IN_PLACE
from ffnn.ops.attention import attention_probs
from ffnn.ops.special import erfc

_loaded: list = []


def _kernels():
    if not _loaded:
        from ffnn.ops import _inference_kernels

        _loaded.append(_inference_kernels)
    return _loaded[0]


def _compiled(*arrays) -> bool:
    return accel.enabled and accel.compatible(*arrays)


def gelu_(x: np.ndarray) -> np.ndarray:
    """x ← x Φ(x) in place (exact GELU, Φ the normal CDF); returns x.

    With numba: the GELU op's in-place kernel (``activations.GELU_IN_PLACE``: Φ from
    ``special_float32.normal_cdf_f32`` / ``special_float64.normal_cdf_f64``) writing into x;
    otherwise Φ = ½ erfc(-x/√2) from the reference ``erfc``."""
    if _compiled(x) and x.flags.c_contiguous:
        GELU_IN_PLACE(x=x)
        return x
    x *= (0.5 * erfc(-x * np.sqrt(0.5))).astype(x.dtype, copy=False)
    return x


def add_layer_norm_(x: np.ndarray, residual: np.ndarray, weight: np.ndarray | None,
                    bias: np.ndarray | None, eps: float) -> np.ndarray:
    """x ← LayerNorm(x + residual) over the last axis, in place: x [n, E], residual [n, E],
    weight and bias [E] (None: 1 and 0). Returns x."""
    width = x.shape[-1]
    weight = np.ones(width, x.dtype) if weight is None else weight
    bias = np.zeros(width, x.dtype) if bias is None else bias
    if _compiled(x, residual, weight, bias) and x.ndim == 2:
        _kernels().add_layer_norm_(x, residual, weight, bias, float(eps))
        return x
    x += residual
    x -= x.mean(axis=-1, keepdims=True)
    rstd = 1 / np.sqrt((x * x).mean(axis=-1, keepdims=True) + eps)
    x *= rstd.astype(x.dtype, copy=False)
    x *= weight
    x += bias
    return x


@dataclass(frozen=True)
class _Group:
    """Sequences of similar length, run as one batched product padded to ``length``."""

    rows: slice | np.ndarray  # packed rows read, [count·length] (repeats stand in for padding)
    count: int
    length: int
    bias: np.ndarray | None   # [count, 1, 1, length]: 0 on a sequence's keys, -inf after
    keep: np.ndarray | None   # [count·length] bool: which of the group's rows are real
    dest: slice | np.ndarray  # packed rows written


class Packing:
    """Where each sequence's tokens sit among the packed rows, and how the sequences are
    grouped for attention. ``lengths`` [N] (each >= 1); sequence i owns rows
    ``starts[i] : starts[i] + lengths[i]``, in order. Sequences are grouped by length so that
    each pads at most ``max(length // 4, 16)`` rows."""

    def __init__(self, lengths):
        self.lengths = np.asarray(lengths, dtype=np.int64)
        if self.lengths.ndim != 1 or (self.lengths < 1).any():
            raise ValueError(f"Packing: lengths must be a 1-D array of positive integers. "
                             f"Received: {self.lengths!r}")
        self.starts = np.concatenate([[0], np.cumsum(self.lengths)[:-1]]).astype(np.int64)
        self.total = int(self.lengths.sum())
        order = np.argsort(-self.lengths, kind="stable")
        self.groups: list[_Group] = []
        begin = 0
        while begin < len(order):
            longest = int(self.lengths[order[begin]])
            end = begin + 1
            while end < len(order) and longest - self.lengths[order[end]] <= max(longest // 4,
                                                                                16):
                end += 1
            self.groups.append(self._group(order[begin:end], longest))
            begin = end

    def _group(self, members: np.ndarray, length: int) -> _Group:
        lengths, starts = self.lengths[members], self.starts[members]
        count = len(members)
        uniform = bool((lengths == length).all())
        contiguous = uniform and bool((np.diff(starts) == length).all())
        if contiguous:
            rows = slice(int(starts[0]), int(starts[0]) + count * length)
            return _Group(rows, count, length, None, None, rows)
        offsets = np.arange(length)
        valid = offsets[None, :] < lengths[:, None]
        rows = (starts[:, None] + np.minimum(offsets[None, :], lengths[:, None] - 1)).reshape(-1)
        keep = valid.reshape(-1)
        bias = None
        if not uniform:
            bias = np.where(valid, 0.0, -np.inf)[:, None, None, :]
        return _Group(rows, count, length, bias, keep, rows[keep])


def packed_attention(qkv: np.ndarray, packing: Packing, num_heads: int,
                     scale: float) -> np.ndarray:
    """Multi-head softmax(s · Q Kᵀ) V of each sequence over its own tokens.

    qkv [T, 3E] (the rows [Q | K | V] of the packed tokens, heads of width d = E/num_heads
    side by side in each) → [T, E], heads concatenated as ``merge_heads`` does."""
    total, width = qkv.shape[0], qkv.shape[1] // 3
    head = width // num_heads
    out = np.empty((total, width), dtype=qkv.dtype)
    with single_blas_thread():
        for g in packing.groups:
            block = qkv[g.rows].reshape(g.count, g.length, 3, num_heads, head)
            q, k, v = (block[:, :, i].transpose(0, 2, 1, 3) for i in range(3))
            bias = None if g.bias is None else g.bias.astype(qkv.dtype, copy=False)
            probs = attention_probs(q @ k.swapaxes(-1, -2), scale, bias)
            context = (probs @ v).transpose(0, 2, 1, 3).reshape(g.count * g.length, width)
            out[g.dest] = context if g.keep is None else context[g.keep]
    return out
