"""``Embedding``: a lookup table of learned vectors, one row per category or token."""

from __future__ import annotations

import numpy as np

from ffnn import dtypes
from ffnn.nn import init
from ffnn.nn.linear import _check_positive_int
from ffnn.nn.module import Module
from ffnn.nn.parameter import Parameter
from ffnn.nn.traits import declare
from ffnn.tensor import Tensor


class Embedding(Module):
    """y = W[idx]: idx of any shape (integers) → [*idx.shape, embedding_dim].

    W [num_embeddings, embedding_dim] is initialised N(0, 1) as torch does; the row
    ``padding_idx`` (if given) starts at zero and gets no gradient. ``max_norm``: each row
    looked up is first rescaled in place to a ``norm_type``-norm of at most ``max_norm``
    (torch's ``embedding_renorm_``: by max_norm / (norm + 1e-7)). ``sparse=True`` (torch's
    sparse gradient) gives the same gradient, dense.
    """

    def __init__(self, num_embeddings: int, embedding_dim: int, padding_idx: int | None = None,
                 max_norm: float | None = None, norm_type: float = 2.0,
                 scale_grad_by_freq: bool = False, sparse: bool = False, dtype=None,
                 generator=None, device=None, _weight=None):
        super().__init__()
        if scale_grad_by_freq:
            raise NotImplementedError("Embedding: scale_grad_by_freq=True (gradients divided by "
                                      "each index's count in the batch) is not provided")
        self.max_norm, self.norm_type, self.sparse = max_norm, float(norm_type), bool(sparse)
        self.scale_grad_by_freq = False
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
        from ffnn.nn.functional import embedding  # noqa: PLC0415 - functional imports us

        return embedding(input, self.weight, self.padding_idx, self.max_norm, self.norm_type)

    @classmethod
    def from_pretrained(cls, embeddings, freeze: bool = True, padding_idx: int | None = None,
                        max_norm: float | None = None, norm_type: float = 2.0,
                        scale_grad_by_freq: bool = False, sparse: bool = False):
        """An Embedding holding ``embeddings`` [num, dim]; frozen unless ``freeze=False``."""
        weights = np.asarray(embeddings)
        if weights.ndim != 2:
            raise ValueError(
                "Embedding.from_pretrained: embeddings must be 2-D. "
                f"Received: shape={weights.shape}"
            )
        module = cls(*weights.shape, padding_idx=padding_idx, max_norm=max_norm,
                     norm_type=norm_type, scale_grad_by_freq=scale_grad_by_freq, sparse=sparse,
                     dtype=weights.dtype, _weight=weights)
        module.weight.requires_grad_(not freeze)
        return module

    def extra_repr(self) -> str:
        text = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            text += f", padding_idx={self.padding_idx}"
        if self.max_norm is not None:
            text += f", max_norm={self.max_norm}"
        if self.norm_type != 2:
            text += f", norm_type={self.norm_type}"
        return text + (", sparse=True" if self.sparse else "")


def _renorm_rows(weight: np.ndarray, indices: np.ndarray, max_norm: float,
                 norm_type: float) -> None:
    """Rescale in place each row of ``weight`` that ``indices`` names whose norm exceeds
    ``max_norm`` by max_norm / (norm + 1e-7), as torch's ``embedding_renorm_`` (outside the
    graph)."""
    rows = np.unique(indices.reshape(-1))
    norms = np.linalg.norm(weight[rows].astype(np.float64), ord=norm_type, axis=1)
    over = norms > max_norm
    scale = (max_norm / (norms[over] + 1e-7)).astype(weight.dtype)
    weight[rows[over]] *= scale[:, None]


declare(Embedding, config=("num_embeddings", "embedding_dim", "padding_idx", "max_norm",
                           "norm_type"),
        shapes=lambda c: {"weight": (c["num_embeddings"], c["embedding_dim"])})
