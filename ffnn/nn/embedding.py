"""``Embedding``: a lookup table of learned vectors, one row per category or token."""

from __future__ import annotations

import numpy as np

from ffnn import dtypes, ops
from ffnn.nn import init
from ffnn.nn.linear import _check_positive_int
from ffnn.nn.module import Module
from ffnn.nn.parameter import Parameter
from ffnn.nn.traits import declare
from ffnn.tensor import Tensor


class Embedding(Module):
    """y = W[idx]: idx of any shape (integers) → [*idx.shape, embedding_dim].

    W [num_embeddings, embedding_dim] is initialised N(0, 1) as torch does; the row
    ``padding_idx`` (if given) starts at zero and gets no gradient.
    """

    def __init__(self, num_embeddings: int, embedding_dim: int, padding_idx: int | None = None,
                 dtype=None, generator=None, device=None, _weight=None):
        super().__init__()
        _check_positive_int("Embedding", num_embeddings=num_embeddings,
                            embedding_dim=embedding_dim)
        if padding_idx is not None:
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise ValueError(
                    f"Embedding: padding_idx must be within num_embeddings={num_embeddings}. "
                    f"Received: padding_idx={padding_idx}"
                )
            padding_idx = padding_idx % num_embeddings
        self.num_embeddings, self.embedding_dim = int(num_embeddings), int(embedding_dim)
        self.padding_idx = padding_idx
        dtype = dtypes.to_dtype(dtype)
        self.weight = Parameter(np.empty((num_embeddings, embedding_dim), dtype=dtype))
        if _weight is not None:
            self.weight._data[...] = np.asarray(_weight)
        else:
            self.reset_parameters(generator)

    def reset_parameters(self, generator=None) -> None:
        init.normal_(self.weight, generator=generator)
        if self.padding_idx is not None:
            self.weight._data[self.padding_idx] = 0

    def forward(self, input: Tensor) -> Tensor:
        if not isinstance(input, Tensor):
            input = Tensor._of(np.asarray(input))
        return ops.embedding(input, self.weight, self.padding_idx)

    @classmethod
    def from_pretrained(cls, embeddings, freeze: bool = True, padding_idx: int | None = None):
        """An Embedding holding ``embeddings`` [num, dim]; frozen unless ``freeze=False``."""
        weights = np.asarray(embeddings)
        if weights.ndim != 2:
            raise ValueError(
                "Embedding.from_pretrained: embeddings must be 2-D. "
                f"Received: shape={weights.shape}"
            )
        module = cls(*weights.shape, padding_idx=padding_idx, dtype=weights.dtype,
                     _weight=weights)
        module.weight.requires_grad_(not freeze)
        return module

    def extra_repr(self) -> str:
        pad = f", padding_idx={self.padding_idx}" if self.padding_idx is not None else ""
        return f"{self.num_embeddings}, {self.embedding_dim}{pad}"


declare(Embedding, config=("num_embeddings", "embedding_dim", "padding_idx"),
        shapes=lambda c: {"weight": (c["num_embeddings"], c["embedding_dim"])})
