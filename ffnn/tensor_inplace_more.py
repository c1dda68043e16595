"""The rest of torch's in-place tensor methods: each is its out-of-place method written back
into the tensor (``x.log1p_()`` is ``x ← x.log1p()``, ``x.eq_(y)`` writes 1 or 0 in x's
dtype), through ``InPlaceMethods._inplace``, so the graph, the version counter and a leaf's
refusal are those of every in-place op; ``unsqueeze_``, ``squeeze_``, ``t_`` and
``transpose_`` change the tensor's shape (its memory is kept); ``fill_diagonal_`` writes a
value on the main diagonal.
"""

from __future__ import annotations

import numpy as np

from ffnn import autograd


def _written_back(name: str):
    """``self.<name>_(*args, **kwargs)``: ``self ← self.<name>(*args, **kwargs)``."""

    def method(self, *args, **kwargs):
        return self._inplace(lambda t, *a: getattr(t, name)(*a, **kwargs), *args)

    method.__name__ = method.__qualname__ = f"{name}_"
    method.__doc__ = f"``self.{name}(...)`` written into this tensor (in place)."
    return method


def _reshaped(name: str):
    """``self.<name>_(*args)``: this tensor takes the shape of ``self.<name>(*args)`` (a view
    of the same memory)."""

    def method(self, *args, **kwargs):
        if autograd.is_grad_enabled() and self.requires_grad:
            self._check_may_change()
            old = type(self)._make(self._data, True, self._ctx)  # the op's input, not self
            result = getattr(old, name)(*args, **kwargs)
            self._data, self._ctx = result._data, result._ctx
            return self
        with autograd.no_grad():
            self._data = getattr(self, name)(*args, **kwargs)._data
        return self

    method.__name__ = method.__qualname__ = f"{name}_"
    method.__doc__ = f"This tensor takes the shape ``self.{name}(...)`` has (in place)."
    return method


class MoreInPlaceMethods:
    """In-place forms of element-wise, comparison, triangle, product and shape methods."""

    log1p_, log2_, log10_, expm1_ = map(_written_back, ("log1p", "log2", "log10", "expm1"))
    erf_, erfc_, rsqrt_, reciprocal_ = map(_written_back, ("erf", "erfc", "rsqrt", "reciprocal"))
    sign_, sgn_, sinh_, cosh_ = map(_written_back, ("sign", "sgn", "sinh", "cosh"))
    trunc_, fix_, frac_, logit_ = map(_written_back, ("trunc", "fix", "frac", "logit"))
    nan_to_num_, cumsum_, renorm_ = map(_written_back, ("nan_to_num", "cumsum", "renorm"))
    tril_, triu_ = map(_written_back, ("tril", "triu"))
    eq_, ne_, ge_, gt_, le_, lt_ = map(_written_back, ("eq", "ne", "ge", "gt", "le", "lt"))
    greater_, greater_equal_, less_, less_equal_, not_equal_ = map(
        _written_back, ("greater", "greater_equal", "less", "less_equal", "not_equal"))
    fmod_, remainder_, floor_divide_ = map(_written_back, ("fmod", "remainder", "floor_divide"))
    logical_and_, logical_or_, logical_xor_, logical_not_ = map(
        _written_back, ("logical_and", "logical_or", "logical_xor", "logical_not"))
    addmm_, addmv_, addr_, addbmm_, baddbmm_ = map(
        _written_back, ("addmm", "addmv", "addr", "addbmm", "baddbmm"))
    unsqueeze_, squeeze_, t_, transpose_ = map(_reshaped, ("unsqueeze", "squeeze", "t",
                                                          "transpose"))
    swapaxes_ = swapdims_ = transpose_

    def fill_diagonal_(self, fill_value, wrap: bool = False):
        """Write ``fill_value`` on the main diagonal (of a 2-D tensor, or one whose dims are
        all equal); ``wrap``: a tall matrix's diagonal starts again every ``columns + 1``
        rows, as torch's."""
        if self.ndim < 2 or (self.ndim > 2 and len(set(self.shape)) != 1):
            raise RuntimeError("fill_diagonal_: the tensor must be 2-D or have all its "
                               f"dimensions of equal length. Received: shape {list(self.shape)}")
        on_diagonal = np.zeros(self.shape, bool)
        np.fill_diagonal(on_diagonal, True, wrap=wrap)
        return self.masked_fill_(on_diagonal, fill_value)
