"""Dropout: an element-wise product with a random mask, kept for the backward."""

from __future__ import annotations

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
            keep = rng.random(x.shape, dtype=m.float32) >= p
            self.scale = m.asarray(keep, dtype=x.dtype) * x.dtype.type(1 / (1 - p))
        return x * self.scale

    def backward(self, grad):
        return (grad * self.scale,)
