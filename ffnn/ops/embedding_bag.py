"""EmbeddingBag: each bag of indices reduced to one row, the sum, mean or maximum of the
embedding rows it picks, without a [bags, entries, dim] tensor in between.

Bags are contiguous runs of the flat ``indices`` (one row of a 2-D input, or the entries
between two offsets); entries equal to ``padding_idx`` leave their bag (a mean divides by the
entries left); an empty bag gives zeros.

    sum:  y[b] = Σ_{e ∈ b} s_e W[i_e]          dL/dW[k] = Σ_{e: i_e = k} s_e dL/dy[b(e)]
    mean: y[b] = Σ_{e ∈ b} W[i_e] / |b|        dL/dW[k] = Σ_{e: i_e = k} dL/dy[b(e)] / |b(e)|
    max:  y[b, f] = max_{e ∈ b} W[i_e, f]      dL/dW[k, f] = Σ_{b: its max of f came from k}
                                                            dL/dy[b, f]  (the first such entry)
    dL/ds_e = dL/dy[b(e)] · W[i_e]  (s: per-sample weights, ``sum`` only; 1 without)
"""

from __future__ import annotations

import numpy as np

from ffnn.autograd import Op
from ffnn.ops import scatter

MODES = ("sum", "mean", "max")


class EmbeddingBag(Op):
    """The reduction of each bag (module docstring). ``indices`` flat int64 [n], ``starts``
    each bag's first entry [bags] (non-decreasing, the last bag ends at n)."""

    def forward(self, weight, per_sample_weights=None, *, indices, starts, mode="mean",
                padding_idx=None):
        bags, n = len(starts), len(indices)
        lengths = np.diff(np.append(starts, n))
        bag_of = np.repeat(np.arange(bags), lengths)
        kept = np.ones(n, bool) if padding_idx is None else indices != padding_idx
        self.kept, self.bag_of = kept, bag_of[kept]
        self.rows, self.mode, self.weight = indices[kept], mode, weight
        self.counts = np.bincount(self.bag_of, minlength=bags)
        self.filled = np.flatnonzero(self.counts)
        self.first = np.concatenate([[0], np.cumsum(self.counts)[:-1]])[self.filled]
        self.sample_weights = None if per_sample_weights is None else per_sample_weights[kept]
        out = np.zeros((bags, weight.shape[1]), weight.dtype)
        if not self.filled.size:
            return out
        picked = weight[self.rows]
        if self.sample_weights is not None:
            picked = picked * self.sample_weights[:, None]
        if mode == "max":
            out[self.filled] = np.maximum.reduceat(picked, self.first)
            at_max = picked == out[self.bag_of]
            entry = np.where(at_max, np.arange(len(picked))[:, None], len(picked))
            self.winners = self.rows[np.minimum.reduceat(entry, self.first)]
            return out
        out[self.filled] = np.add.reduceat(picked, self.first)
        if mode == "mean":
            out[self.filled] /= self.counts[self.filled, None].astype(weight.dtype)
        return out

    def backward(self, grad):
        weight = self.weight
        grad_weight = grad_samples = None
        if self.needs_input_grad[0]:
            grad_weight = np.zeros_like(weight)
            if self.mode == "max":
                if self.filled.size:
                    columns = np.arange(weight.shape[1])
                    flat = (self.winners * weight.shape[1] + columns).reshape(-1)
                    grad_weight.reshape(-1)[...] = np.bincount(
                        flat, grad[self.filled].reshape(-1), weight.size).astype(weight.dtype)
            else:
                spread = grad[self.bag_of]
                if self.mode == "mean":
                    spread = spread / self.counts[self.bag_of, None].astype(weight.dtype)
                if self.sample_weights is not None:
                    spread = spread * self.sample_weights[:, None]
                scatter.add_at(grad_weight, self.rows, spread)
        if len(self.needs_input_grad) > 1 and self.needs_input_grad[1]:
            grad_samples = np.zeros(len(self.kept), weight.dtype)
            grad_samples[self.kept] = (grad[self.bag_of] * weight[self.rows]).sum(axis=1)
        return grad_weight, grad_samples
