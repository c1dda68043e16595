"""torch's other names for arithmetic (subtract, multiply, divide with rounding modes,
negative), the bitwise and integer functions (bitwise_*, shifts, gcd, lcm), sign and
infinity tests, unique_consecutive, histogram, unfold, and the memory-layout queries
(stride, storage_offset, data_ptr, nbytes, itemsize); ``ffnn.functions_aliases`` has the
function forms. The integer and test functions have no gradient, as in torch; the arithmetic
and unfold compose the differentiable ops."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from ffnn.tensor import Tensor

from ffnn import return_types
from ffnn.tensor_arrays import _along, _array, _dim, _ops, _plain, _tensor_cls
from ffnn.tensor_inplace import _torch_name
from ffnn.tensor_inplace_more import storage_root


def _result_dtype(a, b) -> np.dtype:
    from ffnn.type_promotion import result_dtype

    return result_dtype(a, b if isinstance(b, (_tensor_cls(), bool, int, float)) else
                        _plain(np.asarray(b)))


def _integer_arrays(a, b, kernel: str, bool_ok: bool = True) -> tuple:
    """a and b as arrays of their promoted dtype, which must be integer (or bool if
    ``bool_ok``): torch's NotImplementedError for the kernel otherwise."""
    dtype = _result_dtype(a, b)
    if dtype.kind not in ("iub" if bool_ok else "iu"):
        raise NotImplementedError(f'"{kernel}" not implemented for \'{_torch_name(dtype)}\'')
    return _array(a).astype(dtype, copy=False), np.asarray(_array(b)).astype(dtype, copy=False)


def _shift(a, b, left: bool) -> np.ndarray:
    """a << b or a >> b (arithmetic), as torch: shifting by a negative amount or by the width
    or more gives 0 (or -1 for a negative number shifted right)."""
    x, s = _integer_arrays(a, b, "lshift_cpu" if left else "rshift_cpu", bool_ok=False)
    too_far = (s < 0) | (s >= 8 * x.dtype.itemsize)
    s = np.where(too_far, 0, s).astype(x.dtype)
    if left:
        return np.where(too_far, 0, np.left_shift(x, s)).astype(x.dtype)
    return np.where(too_far, np.where(x < 0, -1, 0), np.right_shift(x, s)).astype(x.dtype)


def _check_alpha(dtype: np.dtype, alpha) -> None:
    if dtype.kind in "iub" and isinstance(alpha, float):
        raise RuntimeError("For integral input tensors, argument alpha must not be a floating "
                           "point number.")


def _check_not_both_bool(a, b) -> None:
    if _array(a).dtype.kind == "b" and np.asarray(_array(b)).dtype.kind == "b":
        raise RuntimeError("Subtraction, the `-` operator, with two bool tensors is not "
                           "supported. Use the `^` or `logical_xor()` operator instead.")


def rsub(input: Tensor, other, alpha=1) -> Tensor:  # noqa: A002 - torch's names
    """other − alpha · input (``torch.rsub``)."""
    _check_not_both_bool(input, other)
    _check_alpha(_result_dtype(input, other), alpha)
    return (input if alpha == 1 else input * alpha).__rsub__(other)


def _windows(length: int, size: int, step: int, axis: int) -> np.ndarray:
    """The positions of the sliding windows along an axis: [window, offset]."""
    if size < 0:
        raise RuntimeError(f"size is {size} but must be >= 0")
    if size > length:
        raise RuntimeError(f"maximum size for tensor at dimension {axis} is {length} but size "
                           f"is {size}")
    if step <= 0:
        raise RuntimeError(f"step is {step} but must be > 0")
    count = (length - size) // step + 1
    return np.arange(count)[:, None] * step + np.arange(size)[None, :]


def _consecutive_starts(rows: np.ndarray) -> np.ndarray:
    """True where a row of the 2-d ``rows`` differs from the one before it (NaN differing
    from everything)."""
    starts = np.ones(rows.shape[0], bool)
    starts[1:] = (rows[1:] != rows[:-1]).any(1)
    return starts


def _bin_edges(array: np.ndarray, bins, range_) -> np.ndarray:
    """histogram's edges: the given 1-d tensor, or ``bins`` + 1 evenly spaced over ``range_``
    (the data's range by default; 0 to 1 for no data; ±0.5 around a single value)."""
    from ffnn.creation import linspace

    if isinstance(bins, _tensor_cls()):
        if bins.dtype != array.dtype:
            raise RuntimeError(f"torch.histogramdd: input tensor and bins tensors should have "
                               f"the same dtype, but got input with dtype {array.dtype} and "
                               f"bins for dimension 0 with dtype {bins.dtype}")
        return bins.numpy().reshape(-1)
    if not isinstance(bins, (int, np.integer)):
        raise TypeError(f"histogram(): bins must be an int or a 1-d Tensor of bin edges, not "
                        f"{type(bins).__name__}")
    if bins <= 0:
        raise RuntimeError(f"torch.histogram(): bins must be > 0, but got {bins} for "
                           "dimension 0")
    low, high = range_ if range_ is not None else (
        (array.min(), array.max()) if array.size else (0.0, 1.0))
    low, high = float(low), float(high)
    if low > high:
        raise RuntimeError(f"torch.histogramdd: min should not exceed max, but got min {low:g} "
                           f"max {high:g} for dimension 0")
    if not (np.isfinite(low) and np.isfinite(high)):
        raise RuntimeError(f"torch.histogramdd: dimension 0's range [{low:g}, {high:g}] is not "
                           "finite")
    if low == high:
        low, high = low - 0.5, high + 0.5
    return linspace(low, high, bins + 1, dtype=array.dtype).numpy()


def _histogram(array: np.ndarray, edges: np.ndarray, weight, density: bool) -> np.ndarray:
    """Counts (or summed weights) of the entries in [edges[i], edges[i+1]) (the last bin
    closed); with ``density``, divided by their total times the bin widths."""
    flat = array.reshape(-1)
    if weight is not None:
        weight = _array(weight)
        if weight.shape != array.shape:
            raise RuntimeError(f"torch.histogramdd: if weight tensor is provided it should have "
                               f"the same shape as the input tensor excluding its innermost "
                               f"dimension, but got input with shape {list(array.shape) + [1]} "
                               f"and weight with shape {list(weight.shape)}")
        weight = weight.reshape(-1)
    inside = (flat >= edges[0]) & (flat <= edges[-1])
    count = len(edges) - 1
    position = np.minimum(np.searchsorted(edges, flat[inside], "right") - 1, count - 1)
    hist = np.bincount(position, None if weight is None else weight[inside], count)
    hist = hist.astype(array.dtype)
    if density:
        hist = hist / (hist.sum() * np.diff(edges))
    return hist


class AliasTensorMethods:
    """Mixed into ``ffnn.Tensor``; ``self`` is a Tensor."""

    # ----- arithmetic under torch's other names ----------------------------------------
    def subtract(self, other, *, alpha=1) -> Tensor:
        """self − alpha · other."""
        _check_not_both_bool(self, other)
        _check_alpha(_result_dtype(self, other), alpha)
        return _ops().sub(self, other if alpha == 1 else other * alpha)

    def multiply(self, other) -> Tensor:
        return _ops().mul(self, other)

    def divide(self, other, *, rounding_mode: str | None = None) -> Tensor:
        """self / other (a float result); with rounding_mode 'trunc' or 'floor' the quotient
        rounded towards zero or down, in the promoted dtype, with gradient 0 (torch.div)."""
        from ffnn.ops.rounded_division import RoundedDivision

        if rounding_mode is None:
            return _ops().div(self, other)
        if rounding_mode not in ("trunc", "floor"):
            raise RuntimeError(f"div expected rounding_mode to be one of None, 'trunc', or "
                               f"'floor' but found '{rounding_mode}'")
        dtype = _result_dtype(self, other)
        if dtype.kind == "b":
            raise NotImplementedError(f'"div_{rounding_mode}_cpu" not implemented for \'Bool\'')
        a = self if self.dtype == dtype else self.to(dtype)
        b = other.to(dtype) if isinstance(other, _tensor_cls()) else _plain(other, dtype)
        return RoundedDivision.apply(a, b, mode=rounding_mode)

    def negative(self) -> Tensor:
        if self.dtype.kind == "b":
            raise RuntimeError("Negation, the `-` operator, on a bool tensor is not supported. "
                               "If you are trying to invert a mask, use the `~` or "
                               "`logical_not()` operator instead.")
        return _ops().neg(self)

    def subtract_(self, other, *, alpha=1) -> Tensor:
        return self._inplace(lambda t, o: t.subtract(o, alpha=alpha), other)

    def multiply_(self, other) -> Tensor:
        return self.mul_(other)

    def divide_(self, other, *, rounding_mode: str | None = None) -> Tensor:
        return self._inplace(lambda t, o: t.divide(o, rounding_mode=rounding_mode), other)

    def negative_(self) -> Tensor:
        return self._inplace(lambda t: t.negative())

    # ----- bits and integers (no gradient) ----------------------------------------------
    def bitwise_and(self, other) -> Tensor:
        """a & b of integer or bool tensors (promoted as torch promotes)."""
        return _plain(np.bitwise_and(*_integer_arrays(self, other, "bitwise_and_cpu")))

    def bitwise_or(self, other) -> Tensor:
        return _plain(np.bitwise_or(*_integer_arrays(self, other, "bitwise_or_cpu")))

    def bitwise_xor(self, other) -> Tensor:
        return _plain(np.bitwise_xor(*_integer_arrays(self, other, "bitwise_xor_cpu")))

    def bitwise_not(self) -> Tensor:
        """~a: every bit flipped (logical not for bool)."""
        return _plain(np.invert(_integer_arrays(self, False, "bitwise_not_cpu")[0]))

    def bitwise_left_shift(self, other) -> Tensor:
        """a · 2ᵇ in a's integer width (bits shifted out are lost)."""
        return _plain(_shift(self, other, left=True))

    def bitwise_right_shift(self, other) -> Tensor:
        """⌊a / 2ᵇ⌋ (arithmetic shift)."""
        return _plain(_shift(self, other, left=False))

    def gcd(self, other) -> Tensor:
        """The greatest common divisor of integer tensors, ≥ 0 (gcd(0, 0) = 0)."""
        if not isinstance(other, _tensor_cls()):
            raise TypeError(f"gcd(): argument 'other' (position 2) must be Tensor, not "
                            f"{type(other).__name__}")
        return _plain(np.gcd(*_integer_arrays(self, other, "gcd_cpu", bool_ok=False)))

    def lcm(self, other) -> Tensor:
        """The least common multiple of integer tensors, ≥ 0 (0 if either is 0)."""
        if not isinstance(other, _tensor_cls()):
            raise TypeError(f"lcm(): argument 'other' (position 2) must be Tensor, not "
                            f"{type(other).__name__}")
        return _plain(np.lcm(*_integer_arrays(self, other, "lcm_cpu", bool_ok=False)))

    def bitwise_and_(self, other) -> Tensor:
        return self._inplace(lambda t, o: t.bitwise_and(o), other)

    def bitwise_or_(self, other) -> Tensor:
        return self._inplace(lambda t, o: t.bitwise_or(o), other)

    def bitwise_xor_(self, other) -> Tensor:
        return self._inplace(lambda t, o: t.bitwise_xor(o), other)

    def bitwise_not_(self) -> Tensor:
        return self._inplace(lambda t: t.bitwise_not())

    def bitwise_left_shift_(self, other) -> Tensor:
        return self._inplace(lambda t, o: t.bitwise_left_shift(o), other)

    def bitwise_right_shift_(self, other) -> Tensor:
        return self._inplace(lambda t, o: t.bitwise_right_shift(o), other)

    def gcd_(self, other) -> Tensor:
        return self._inplace(lambda t, o: t.gcd(o), other)

    def lcm_(self, other) -> Tensor:
        return self._inplace(lambda t, o: t.lcm(o), other)

    def __xor__(self, other) -> Tensor:
        return self.bitwise_xor(other)

    def __rxor__(self, other) -> Tensor:
        return self.bitwise_xor(other)

    def __rand__(self, other) -> Tensor:
        return self.bitwise_and(other)

    def __ror__(self, other) -> Tensor:
        return self.bitwise_or(other)

    def __lshift__(self, other) -> Tensor:
        return self.bitwise_left_shift(other)

    def __rshift__(self, other) -> Tensor:
        return self.bitwise_right_shift(other)

    def __rlshift__(self, other) -> Tensor:
        return _plain(_shift(other, self, left=True))

    def __rrshift__(self, other) -> Tensor:
        return _plain(_shift(other, self, left=False))

    __iand__, __ior__, __ixor__ = bitwise_and_, bitwise_or_, bitwise_xor_
    __ilshift__, __irshift__ = bitwise_left_shift_, bitwise_right_shift_

    # ----- tests (bool results) ---------------------------------------------------------
    def signbit(self) -> Tensor:
        """True where the sign bit is set (−0.0 and negative numbers)."""
        array = self.numpy()
        return _plain(np.signbit(array) if array.dtype.kind == "f" else array < 0)

    def isneginf(self) -> Tensor:
        return _plain(np.isneginf(self.numpy()) if self.dtype.kind == "f"
                      else np.zeros(self.shape, bool))

    def isposinf(self) -> Tensor:
        return _plain(np.isposinf(self.numpy()) if self.dtype.kind == "f"
                      else np.zeros(self.shape, bool))

    def isreal(self) -> Tensor:
        """True everywhere: ffnn's tensors are real."""
        return _plain(np.ones(self.shape, bool))

    # ----- summaries --------------------------------------------------------------------
    def unique_consecutive(self, return_inverse: bool = False, return_counts: bool = False,
                           dim: int | None = None):
        """Each run of equal consecutive entries (of the flattened tensor, or of slices along
        ``dim``) kept once; with the run index of every entry (``return_inverse``: self's
        shape, or [size of dim]) and each run's length (``return_counts``)."""
        array = self.numpy()
        if dim is None:
            rows, inverse_shape = array.reshape(-1, 1), array.shape
        else:
            axis = _dim(dim, self.ndim)
            moved = np.moveaxis(array, axis, 0)
            rows = moved.reshape(moved.shape[0], int(np.prod(moved.shape[1:])))
            inverse_shape = (array.shape[axis],)
        starts = _consecutive_starts(rows)
        kept = np.nonzero(starts)[0]
        values = array.reshape(-1)[kept] if dim is None else np.take(array, kept, axis)
        out = [_plain(values)]
        if return_inverse:
            out.append(_plain((np.cumsum(starts) - 1).reshape(inverse_shape), np.int64))
        if return_counts:
            out.append(_plain(np.diff(np.append(kept, len(starts))), np.int64))
        return out[0] if len(out) == 1 else tuple(out)

    def histogram(self, bins=100, *, range=None, weight=None,  # noqa: A002 - torch's names
                  density: bool = False) -> histogram:
        """(hist, bin_edges): how many entries (or how much ``weight``) fall in each bin
        [eᵢ, eᵢ₊₁), the last closed; ``bins`` a count of equal bins over ``range`` (the data's
        range by default) or a 1-d tensor of edges. ``density``: hist / (Σ hist · widths)."""
        array = self.numpy()
        if array.dtype.kind != "f":
            raise NotImplementedError(f'"histogramdd" not implemented for '
                                      f"'{_torch_name(array.dtype)}'")
        if weight is not None and _array(weight).dtype != array.dtype:
            raise RuntimeError("torch.histogramdd: if weight tensor is provided, it should have "
                               "the same dtype as the input tensor")
        edges = _bin_edges(array, bins, range)
        return return_types.histogram(_plain(_histogram(array, edges, weight, density)),
                         _plain(edges.copy()))

    def bincount(self, weights=None, minlength: int = 0) -> Tensor:
        """Counts of each value 0…max (``ffnn.bincount``)."""
        from ffnn.functions_more import bincount

        return bincount(self, weights, minlength)

    # ----- windows ----------------------------------------------------------------------
    def unfold(self, dimension: int, size: int, step: int) -> Tensor:
        """The windows x[…, i·step : i·step + size, …] along ``dimension``, for every i that
        fits, as a new last axis of length ``size``: [..., (n − size) // step + 1, ..., size]
        (a copy, where torch's is a view; the gradient adds up over overlapping windows)."""
        if self.ndim == 0:
            return self.reshape(1).unfold(_dim(dimension, 1), size, step).reshape(size)
        axis = _dim(dimension, self.ndim)
        index = _windows(self.shape[axis], size, step, axis)
        return self[_along(self.ndim, axis, index)].movedim(axis + 1, -1)

    # ----- memory -----------------------------------------------------------------------
    def new_empty(self, *args, size=None, dtype=None, device=None,
                  requires_grad: bool = False) -> Tensor:
        """A tensor of ``size`` with this one's dtype (zeros: NumPy has no cheaper fill)."""
        return self.new_zeros(*args, size=size, dtype=dtype, device=device,
                              requires_grad=requires_grad)

    def stride(self, dim: int | None = None):
        """The steps, in elements, between neighbours along each axis of the array (one axis
        when ``dim`` is given): (n₁·n₂…, …, 1) for a contiguous tensor, 0 along expanded axes."""
        array = self.numpy()
        steps = tuple(s // array.itemsize for s in array.strides)
        return steps if dim is None else steps[_dim(dim, self.ndim)]

    def storage_offset(self) -> int:
        """How many elements this tensor's first entry lies past the start of the memory it
        shares (0 unless it is a view into another array)."""
        array = self.numpy()
        root = storage_root(array)
        start = array.__array_interface__["data"][0]
        return (start - root.__array_interface__["data"][0]) // array.itemsize

    def data_ptr(self) -> int:
        """The address of the first entry (equal for tensors that share memory from there)."""
        return self.numpy().__array_interface__["data"][0]

    @property
    def nbytes(self) -> int:
        """numel · itemsize."""
        return self.numel() * self.numpy().itemsize

    @property
    def itemsize(self) -> int:
        """Bytes per entry."""
        return self.numpy().itemsize

    # ----- comparisons and rounding under their other names ---------------------------
    def greater(self, other) -> Tensor:
        """self > other (``gt``)."""
        return self > other

    def greater_equal(self, other) -> Tensor:
        """self ≥ other (``ge``)."""
        return self >= other

    def less(self, other) -> Tensor:
        """self < other (``lt``)."""
        return self < other

    def less_equal(self, other) -> Tensor:
        """self ≤ other (``le``)."""
        return self <= other

    def not_equal(self, other) -> Tensor:
        """self ≠ other (``ne``)."""
        return self != other

    def fix(self) -> Tensor:
        """Rounded towards zero (``trunc``)."""
        return self.trunc()

    def floor_divide(self, other) -> Tensor:
        """⌊self / other⌋ (``//``; not differentiable)."""
        return self // other

    # ----- real tensors: the complex queries' answers --------------------------------
    def conj(self) -> Tensor:
        """The complex conjugate: a real tensor itself (ffnn has no complex dtypes)."""
        return self

    resolve_conj = resolve_neg = conj_physical = conj

    def is_conj(self) -> bool:
        return False

    def is_neg(self) -> bool:
        return False

    @property
    def real(self) -> Tensor:
        """The real part: a real tensor itself."""
        return self

    @property
    def imag(self) -> Tensor:
        raise RuntimeError("imag is not implemented for tensors with non-complex dtypes.")

    # ----- queries -------------------------------------------------------------------
    def is_signed(self) -> bool:
        """Whether the dtype holds negative numbers (floats and signed integers)."""
        return self.numpy().dtype.kind in "fi"

    def is_same_size(self, other: Tensor) -> bool:
        return tuple(self.shape) == tuple(other.shape)

    @property
    def is_cpu(self) -> bool:
        """Always True: ffnn computes on the CPU."""
        return True
