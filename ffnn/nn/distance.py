"""Similarity between two batches of vectors (torch's ``nn.modules.distance``)."""

from __future__ import annotations

from ffnn.nn import functional as F
from ffnn.nn.module import Module
from ffnn.tensor import Tensor


class CosineSimilarity(Module):
    """cos(x1, x2) = x1 · x2 / (max(‖x1‖, eps) · max(‖x2‖, eps)) along ``dim``."""

    def __init__(self, dim: int = 1, eps: float = 1e-8):
        super().__init__()
        self.dim, self.eps = dim, eps

    def forward(self, x1: Tensor, x2: Tensor) -> Tensor:
        return F.cosine_similarity(x1, x2, self.dim, self.eps)
