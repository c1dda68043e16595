"""Dropout: an element-wise product with a random mask, kept for the backward."""

from __future__ import annotations

import numpy as np

from ffnn.autograd import Op
from ffnn.backend import xp


class Dropout(Op):
    """Inverted dropout: y = x · mask / (1 - p), mask ~ Bernoulli(1 - p);
    dL/dx = dL/dy · mask / (1 - p). The mask is drawn from the given NumPy generator."""

    def forward(self, x, p=0.5, rng=None):
        m = xp(x)
        if p >= 1:
            self.scale = m.zeros(x.shape, dtype=x.dtype)
        else:
            keep = keep_mask(rng, x.shape, p)
            self.scale = m.asarray(keep, dtype=x.dtype) * x.dtype.type(1 / (1 - p))
        return x * self.scale

    def backward(self, grad):
        return (grad * self.scale,)


def keep_mask(rng: np.random.Generator, shape: tuple, p: float) -> np.ndarray:
    """A boolean mask of ``shape``, each entry True with probability 1 - p: 32 random bits
    per entry (two per draw of ``rng``'s 64-bit generator, half the draws and ~half the
    time of one float per entry) at least ⌊p·2³²⌉."""
    n = int(np.prod(shape, dtype=np.int64))
    bits = rng.bit_generator.random_raw((n + 1) // 2).view(np.uint32)[:n]
    threshold = np.uint32(min(round(p * 2.0**32), 2**32 - 1))
    return (bits >= threshold).reshape(shape)
