"""``CatTransform`` and ``StackTransform``: a sequence of transforms applied to the pieces of
a tensor along ``dim`` (blocks of ``lengths``, or single slices) and joined again, as torch's;
re-exported by ``transforms``."""

from __future__ import annotations

from collections.abc import Sequence

from ffnn import creation
from ffnn.distributions import constraints
from ffnn.distributions.transform import Transform
from ffnn.distributions.utils import lazy_property, sum_rightmost
from ffnn.tensor import Tensor

__all__ = ["CatTransform", "StackTransform"]


def _cached(tseq, cache_size: int) -> list[Transform]:
    if not all(isinstance(t, Transform) for t in tseq):
        raise AssertionError("All elements of tseq must be Transform instances")
    return [t.with_cache(cache_size) for t in tseq] if cache_size else list(tseq)


def _check(t: Tensor, dim: int, size: int, what: tuple[str, str], name: str) -> None:
    if not -t.dim() <= dim < t.dim():
        raise AssertionError(f"dim {dim} out of range for {name} with {t.dim()} dimensions")
    if t.shape[dim] != size:
        raise AssertionError(f"{what[0]}.size({dim}) = {t.shape[dim]} must equal {what[1]} "
                             f"{size}")


class CatTransform(Transform):
    """``tseq[i]`` on the i-th block of ``lengths[i]`` entries along ``dim``, the results
    concatenated; log|det| likewise (summed over event dims where a part's are fewer)."""

    def __init__(self, tseq: Sequence[Transform], dim: int = 0, lengths=None,
                 cache_size: int = 0) -> None:
        tseq = _cached(tseq, cache_size)
        super().__init__(cache_size=cache_size)
        self.transforms = tseq
        self.lengths = list(lengths) if lengths is not None else [1] * len(tseq)
        if len(self.lengths) != len(self.transforms):
            raise AssertionError(f"lengths ({len(self.lengths)}) must match transforms "
                                 f"({len(self.transforms)})")
        self.dim = dim

    @lazy_property
    def event_dim(self) -> int:
        return max(t.event_dim for t in self.transforms)

    @lazy_property
    def length(self) -> int:
        return sum(self.lengths)

    def with_cache(self, cache_size: int = 1) -> Transform:
        if self._cache_size == cache_size:
            return self
        return CatTransform(self.transforms, self.dim, self.lengths, cache_size)

    def _pieces(self, t: Tensor):
        start = 0
        for trans, length in zip(self.transforms, self.lengths):
            yield trans, t.narrow(self.dim, start, length)
            start += length

    def _call(self, x: Tensor) -> Tensor:
        _check(x, self.dim, self.length, ("x", "length"), "tensor")
        return creation.cat([trans(piece) for trans, piece in self._pieces(x)], dim=self.dim)

    def _inverse(self, y: Tensor) -> Tensor:
        _check(y, self.dim, self.length, ("y", "length"), "tensor")
        return creation.cat([trans.inv(piece) for trans, piece in self._pieces(y)],
                            dim=self.dim)

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:
        _check(x, self.dim, self.length, ("x", "length"), "x")
        _check(y, self.dim, self.length, ("y", "length"), "y")
        terms = []
        for (trans, xs), (_, ys) in zip(self._pieces(x), self._pieces(y)):
            term = trans.log_abs_det_jacobian(xs, ys)
            terms.append(sum_rightmost(term, self.event_dim - trans.event_dim))
        dim = (self.dim - x.dim() if self.dim >= 0 else self.dim) + self.event_dim
        return creation.cat(terms, dim=dim) if dim < 0 else sum(terms)

    @property
    def bijective(self) -> bool:  # type: ignore[override]
        return all(t.bijective for t in self.transforms)

    @constraints.dependent_property
    def domain(self):
        return constraints.cat([t.domain for t in self.transforms], self.dim, self.lengths)

    @constraints.dependent_property
    def codomain(self):
        return constraints.cat([t.codomain for t in self.transforms], self.dim, self.lengths)


class StackTransform(Transform):
    """``tseq[i]`` on the i-th slice along ``dim``, the results stacked (log|det| too)."""

    def __init__(self, tseq: Sequence[Transform], dim: int = 0, cache_size: int = 0) -> None:
        tseq = _cached(tseq, cache_size)
        super().__init__(cache_size=cache_size)
        self.transforms, self.dim = tseq, dim

    def with_cache(self, cache_size: int = 1) -> Transform:
        if self._cache_size == cache_size:
            return self
        return StackTransform(self.transforms, self.dim, cache_size)

    def _slices(self, t: Tensor, name: str) -> list[Tensor]:
        _check(t, self.dim, len(self.transforms), (name, "len(transforms)"), "tensor")
        return [t.select(self.dim, i) for i in range(t.shape[self.dim])]

    def _call(self, x: Tensor) -> Tensor:
        return creation.stack([trans(s) for s, trans in zip(self._slices(x, "x"),
                                                              self.transforms)], dim=self.dim)

    def _inverse(self, y: Tensor) -> Tensor:
        return creation.stack([trans.inv(s) for s, trans in zip(self._slices(y, "y"),
                                                                  self.transforms)],
                              dim=self.dim)

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:
        terms = [trans.log_abs_det_jacobian(xs, ys) for xs, ys, trans in
                 zip(self._slices(x, "x"), self._slices(y, "y"), self.transforms)]
        return creation.stack(terms, dim=self.dim)

    @property
    def bijective(self) -> bool:  # type: ignore[override]
        return all(t.bijective for t in self.transforms)

    @constraints.dependent_property
    def domain(self):
        return constraints.stack([t.domain for t in self.transforms], self.dim)

    @constraints.dependent_property
    def codomain(self):
        return constraints.stack([t.codomain for t in self.transforms], self.dim)
