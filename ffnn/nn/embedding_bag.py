"""``nn.EmbeddingBag`` and ``F.embedding_bag`` with torch's arguments and checks: bags given
as the rows of a 2-D input, or as a 1-D input cut at ``offsets`` (``include_last_offset``:
``offsets`` has one more entry, the input's length, as in the CSR format); ``mode`` sum, mean
or max; ``per_sample_weights`` with sum; ``padding_idx`` entries left out of their bag. The
op: ``ffnn.ops.embedding_bag``."""

from __future__ import annotations

import numpy as np

from ffnn import dtypes
from ffnn.nn import init
from ffnn.nn.linear import _check_positive_int
from ffnn.nn.module import Module
from ffnn.nn.parameter import Parameter
from ffnn.nn.traits import declare
from ffnn.ops.embedding_bag import MODES
from ffnn.ops.embedding_bag import EmbeddingBag as _EmbeddingBagOp
from ffnn.tensor import Tensor


def _integers(value, name: str) -> np.ndarray:
    array = value._data if isinstance(value, Tensor) else np.asarray(value)
    if array.dtype.kind not in "iu":
        raise TypeError(f"embedding_bag: {name} must be integers (a LongTensor). Received: "
                        f"dtype={array.dtype}")
    return array.astype(np.int64, copy=False)


def _bags(input, offsets, include_last_offset: bool) -> tuple[np.ndarray, np.ndarray]:
    """(flat indices, each bag's first entry), checked as torch checks them."""
    indices = _integers(input, "input")
    if indices.ndim == 2:
        if offsets is not None:
            raise ValueError("embedding_bag: if input is 2D, then offsets has to be None, as "
                             "input is treated as a mini-batch of fixed length sequences. "
                             f"Received: offsets of type {type(offsets).__name__}")
        rows, length = indices.shape
        return indices.reshape(-1), np.arange(rows, dtype=np.int64) * length
    if indices.ndim != 1:
        raise ValueError(f"embedding_bag: input has to be 1D or 2D. Received: shape "
                         f"{indices.shape}")
    if offsets is None:
        raise ValueError("embedding_bag: offsets has to be a 1D Tensor for a 1D input. "
                         "Received: None")
    starts = _integers(offsets, "offsets")
    if starts.ndim != 1 or not starts.size:
        raise ValueError(f"embedding_bag: offsets has to be a non-empty 1D Tensor. "
                         f"Received: shape {starts.shape}")
    if starts[0] != 0:
        raise ValueError(f"embedding_bag: offsets[0] has to be 0, i.e. the first bag starts "
                         f"at position 0. Received: {int(starts[0])}")
    if np.any(np.diff(starts) < 0) or starts[-1] > len(indices):
        raise ValueError(f"embedding_bag: offsets must be non-decreasing and at most the "
                         f"input's length {len(indices)}. Received: {starts.tolist()}")
    if include_last_offset:  # the last offset marks the end; the last bag ends at the input's,
        starts = starts[:-1]  # as torch's kernel ends it whatever that offset says
    return indices, starts


def embedding_bag(input, weight: Tensor, offsets=None, max_norm=None, norm_type: float = 2,
                  scale_grad_by_freq: bool = False, mode: str = "mean", sparse: bool = False,
                  per_sample_weights=None, include_last_offset: bool = False,
                  padding_idx: int | None = None) -> Tensor:
    """[bags, dim]: each bag of rows of ``weight`` reduced by ``mode`` (module docstring).
    ``sparse`` gives the same (dense) gradient; ``max_norm`` and ``scale_grad_by_freq`` are
    refused rather than ignored."""
    if mode not in MODES:
        raise ValueError(f"embedding_bag: mode must be one of {MODES}. Received: {mode!r}")
    if max_norm is not None or scale_grad_by_freq:
        raise NotImplementedError("embedding_bag: max_norm and scale_grad_by_freq are not "
                                  "supported")
    if per_sample_weights is not None and mode != "sum":
        raise ValueError(f"embedding_bag: per_sample_weights is only supported for "
                         f"mode='sum'. Received: mode={mode!r}")
    indices, starts = _bags(input, offsets, include_last_offset)
    num = weight.shape[0]
    if indices.size and (indices.min() < 0 or indices.max() >= num):
        bad = int(indices.max() if indices.max() >= num else indices.min())
        raise IndexError(f"embedding_bag: index {bad} is out of range for num_embeddings={num}"
                         f" (valid: 0..{num - 1})")
    if per_sample_weights is not None:
        per_sample_weights = per_sample_weights if isinstance(per_sample_weights, Tensor) \
            else Tensor._of(np.asarray(per_sample_weights, weight.dtype))
        if per_sample_weights.numel() != len(_integers(input, "input").reshape(-1)):
            raise ValueError(f"embedding_bag: per_sample_weights must have the input's shape "
                             f"{tuple(np.shape(_integers(input, 'input')))}. Received: "
                             f"{tuple(per_sample_weights.shape)}")
        per_sample_weights = per_sample_weights.reshape(-1)
    if padding_idx is not None:
        padding_idx %= num
    return _EmbeddingBagOp.apply(weight, per_sample_weights, indices=indices, starts=starts,
                                 mode=mode, padding_idx=padding_idx)


class EmbeddingBag(Module):
    """Sums, means or maxima of bags of embedding rows (``embedding_bag``); W
    [num_embeddings, embedding_dim] initialised N(0, 1) as torch's, the row ``padding_idx``
    zero."""

    def __init__(self, num_embeddings: int, embedding_dim: int, max_norm=None,
                 norm_type: float = 2.0, scale_grad_by_freq: bool = False, mode: str = "mean",
                 sparse: bool = False, _weight=None, include_last_offset: bool = False,
                 padding_idx: int | None = None, device=None, dtype=None, generator=None):
        super().__init__()
        _check_positive_int("EmbeddingBag", num_embeddings=num_embeddings,
                            embedding_dim=embedding_dim)
        if mode not in MODES:
            raise ValueError(f"EmbeddingBag: mode must be one of {MODES}. Received: {mode!r}")
        if padding_idx is not None:
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise ValueError(f"EmbeddingBag: padding_idx must be within num_embeddings="
                                 f"{num_embeddings}. Received: padding_idx={padding_idx}")
            padding_idx %= num_embeddings
        self.num_embeddings, self.embedding_dim = int(num_embeddings), int(embedding_dim)
        self.max_norm, self.norm_type, self.scale_grad_by_freq = max_norm, norm_type, \
            scale_grad_by_freq
        self.mode, self.sparse, self.include_last_offset = mode, sparse, include_last_offset
        self.padding_idx = padding_idx
        self.weight = Parameter(np.empty((num_embeddings, embedding_dim),
                                         dtypes.to_dtype(dtype)))
        if _weight is not None:
            self.weight._data[...] = np.asarray(_weight)
        else:
            self.reset_parameters(generator)

    def reset_parameters(self, generator=None) -> None:
        """N(0, 1) rows, the ``padding_idx`` row zeros (torch's)."""
        init.normal_(self.weight, generator=generator)
        if self.padding_idx is not None:
            self.weight._data[self.padding_idx] = 0

    def forward(self, input, offsets=None, per_sample_weights=None) -> Tensor:
        return embedding_bag(input, self.weight, offsets, self.max_norm, self.norm_type,
                             self.scale_grad_by_freq, self.mode, self.sparse,
                             per_sample_weights, self.include_last_offset, self.padding_idx)

    @classmethod
    def from_pretrained(cls, embeddings, freeze: bool = True, max_norm=None,
                        norm_type: float = 2.0, scale_grad_by_freq: bool = False,
                        mode: str = "mean", sparse: bool = False,
                        include_last_offset: bool = False, padding_idx: int | None = None):
        """An EmbeddingBag holding ``embeddings`` [num, dim]; frozen unless ``freeze=False``."""
        weights = embeddings._data if isinstance(embeddings, Tensor) else np.asarray(embeddings)
        if weights.ndim != 2:
            raise ValueError(f"EmbeddingBag.from_pretrained: embeddings must be 2-D. "
                             f"Received: shape={weights.shape}")
        module = cls(*weights.shape, max_norm, norm_type, scale_grad_by_freq, mode, sparse,
                     weights, include_last_offset, padding_idx, dtype=weights.dtype)
        module.weight.requires_grad_(not freeze)
        return module

    def extra_repr(self) -> str:
        text = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.max_norm is not None:
            text += f", max_norm={self.max_norm}"
        if self.norm_type != 2:
            text += f", norm_type={self.norm_type}"
        if self.scale_grad_by_freq:
            text += ", scale_grad_by_freq=True"
        text += f", mode={self.mode!r}"
        if self.padding_idx is not None:
            text += f", padding_idx={self.padding_idx}"
        return text


declare(EmbeddingBag, config=("num_embeddings", "embedding_dim", "mode", "include_last_offset",
                              "padding_idx"),
        shapes=lambda c: {"weight": (c["num_embeddings"], c["embedding_dim"])},
        torch="EmbeddingBag")
