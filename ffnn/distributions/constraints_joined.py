"""The constraints ``cat`` and ``stack`` (torch's ``constraints.cat`` / ``constraints.stack``):
a sequence of constraints applied to the pieces of a value along ``dim``, as ``torch.cat`` or
``torch.stack`` would join them; re-exported by ``constraints``."""

from __future__ import annotations

import numpy as np

from ffnn.distributions.constraints import Constraint, _array, _result
from ffnn.tensor import Tensor


def _check_dim(dim: int, ndim: int) -> None:
    if not -ndim <= dim < ndim:
        raise AssertionError(f"dim {dim} out of range for value with {ndim} dimensions")


class _Cat(Constraint):
    """``cseq[i]`` on the i-th block of ``lengths[i]`` entries along ``dim``."""

    def __init__(self, cseq, dim: int = 0, lengths=None):
        if not all(isinstance(c, Constraint) for c in cseq):
            raise AssertionError("All elements of cseq must be Constraint instances")
        self.cseq = list(cseq)
        self.lengths = list(lengths) if lengths is not None else [1] * len(self.cseq)
        if len(self.lengths) != len(self.cseq):
            raise AssertionError(f"lengths ({len(self.lengths)}) must match cseq "
                                 f"({len(self.cseq)})")
        self.dim = dim

    @property
    def is_discrete(self) -> bool:  # type: ignore[override]
        return any(c.is_discrete for c in self.cseq)

    @property
    def event_dim(self) -> int:  # type: ignore[override]
        return max(c.event_dim for c in self.cseq)

    def check(self, value) -> Tensor:
        array = _array(value)
        _check_dim(self.dim, array.ndim)
        bounds = np.cumsum([0] + self.lengths)
        pieces = [c.check(np.take(array, range(lo, hi), axis=self.dim)).numpy()
                  for c, lo, hi in zip(self.cseq, bounds[:-1], bounds[1:])]
        return _result(np.concatenate(pieces, self.dim))


class _Stack(Constraint):
    """``cseq[i]`` on the i-th slice along ``dim``."""

    def __init__(self, cseq, dim: int = 0):
        if not all(isinstance(c, Constraint) for c in cseq):
            raise AssertionError("All elements of cseq must be Constraint instances")
        self.cseq, self.dim = list(cseq), dim

    @property
    def is_discrete(self) -> bool:  # type: ignore[override]
        return any(c.is_discrete for c in self.cseq)

    @property
    def event_dim(self) -> int:  # type: ignore[override]
        dim = max(c.event_dim for c in self.cseq)
        return dim + 1 if self.dim + dim < 0 else dim

    def check(self, value) -> Tensor:
        array = _array(value)
        _check_dim(self.dim, array.ndim)
        pieces = [c.check(np.take(array, i, axis=self.dim)).numpy()
                  for i, c in zip(range(array.shape[self.dim]), self.cseq)]
        return _result(np.stack(pieces, self.dim))


cat = _Cat
stack = _Stack
