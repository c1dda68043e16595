"""The rest of torch's in-place tensor methods: each is its out-of-place method written back
into the tensor (``x.log1p_()`` is ``x ← x.log1p()``, ``x.eq_(y)`` writes 1 or 0 in x's
dtype), through ``InPlaceMethods._inplace``, so the graph, the version counter and a leaf's
refusal are those of every in-place op; ``unsqueeze_``, ``squeeze_``, ``t_`` and
``transpose_`` change the tensor's shape (its memory is kept); ``fill_diagonal_`` writes a
value on the main diagonal; ``resize_`` / ``resize_as_`` give the tensor another shape over
the same flat memory (torch's storage), from where the tensor starts in it.
"""

from __future__ import annotations

import numpy as np

from ffnn import autograd


def _ops_shape():
    from ffnn.ops import shape  # noqa: PLC0415 - ops import the Tensor, which imports this

    return shape


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


def storage_root(array: np.ndarray) -> np.ndarray:
    """The array that owns the memory ``array`` looks into (torch's storage): the last
    ndarray down its chain of ``base``s (``array`` itself when it owns its memory)."""
    root = array
    while isinstance(root.base, np.ndarray):
        root = root.base
    return root


def _resized(array: np.ndarray, shape: tuple) -> np.ndarray:
    """``array``'s memory read as a C-contiguous array of ``shape``, from ``array``'s first
    element on: the same memory while the storage holds numel(shape) elements from there,
    else new memory (zeros after the old elements; torch's are uninitialised) with the
    storage's elements from there copied to its start, as torch grows a storage."""
    count = int(np.prod(shape, dtype=np.int64))
    root = storage_root(array)
    offset = array.__array_interface__["data"][0] - root.__array_interface__["data"][0]
    if root.flags.c_contiguous and 0 <= offset <= root.nbytes:
        held = (root.nbytes - offset) // array.itemsize
        if count <= held:
            return np.ndarray(shape, array.dtype, buffer=root, offset=offset)
        kept = np.ndarray((held,), array.dtype, buffer=root, offset=offset)
    else:
        kept = array.reshape(-1)
    grown = np.zeros(count, array.dtype)
    grown[:min(count, kept.size)] = kept[:count]
    return grown.reshape(shape)


def _byte_offsets(array: np.ndarray, origin: int) -> np.ndarray:
    """Where each element of ``array`` lies, in bytes past the address ``origin``."""
    offsets = np.full(array.shape, array.__array_interface__["data"][0] - origin, np.int64)
    for axis, (n, stride) in enumerate(zip(array.shape, array.strides)):
        offsets += np.arange(n).reshape((n,) + (1,) * (array.ndim - axis - 1)) * stride
    return offsets


def _index_in(base: np.ndarray, view: np.ndarray):
    """The advanced index (one int array per axis of ``base``) that picks each element of
    ``view`` from ``base`` where ``view``'s memory lies on ``base``'s elements, else None."""
    origin = base.__array_interface__["data"][0]
    offsets = _byte_offsets(base, origin).reshape(-1)
    wanted = _byte_offsets(view, origin)
    order = np.argsort(offsets, kind="stable")
    ordered = offsets[order]
    where = np.minimum(np.searchsorted(ordered, wanted), max(ordered.size - 1, 0))
    if ordered.size == 0 or np.any(ordered[where] != wanted):
        return None
    return np.unravel_index(order[where], base.shape)


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

    def resize_(self, *sizes, size=None, memory_format=None):
        """This tensor takes the shape ``sizes`` over its flat memory from its first element
        on (C-contiguous): shrinking keeps the first numel(sizes) elements of that memory,
        growing past it moves the tensor to new memory whose new elements are zeros (torch
        leaves them uninitialised). The same shape changes nothing. RuntimeError for a tensor
        that requires grad, as torch's; a view stays a view of its base."""
        from ffnn.creation import _sizes  # noqa: PLC0415 - creation imports the Tensor

        shape = _sizes(sizes, size)
        if self.requires_grad:
            raise RuntimeError("cannot resize variables that require grad")
        if shape == self._data.shape:
            return self
        self._data = _resized(self._data, shape)
        autograd.bump_version(self)
        if self._view_of is not None:
            self._keep_view_after_resize()
        return self

    def resize_as_(self, the_template, memory_format=None):
        """``self.resize_(the_template.shape)`` (this tensor keeps its dtype)."""
        if not isinstance(the_template, type(self)):
            raise TypeError("resize_as_(): argument 'the_template' (position 1) must be Tensor, "
                            f"not {type(the_template).__name__}")
        return self.resize_(the_template.shape)

    def _keep_view_after_resize(self) -> None:
        """After ``resize_``, a view's link to its base (which in-place changes in the graph
        follow) as the elements of the base it now covers; a view that reaches past its
        base's elements is cut from it (it shares the memory as ``detach()`` does)."""
        base = self._view_of[0]
        index = _index_in(base._data, self._data)
        if index is None:
            self._view_of = self._view_made = None
            return
        self._view_of = (base, index)
        self._view_made = (_ops_shape().GetItem, {"index": index})
        self._view_seen = self._version_box[0]

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
