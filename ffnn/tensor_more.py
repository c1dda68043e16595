"""Less common tensor methods torch programs use (flip, prod, index_select, unique, tril …),
each composed from the differentiable ops, so gradients follow as torch's do; the ones torch
does not differentiate (nonzero, unique, logical_*) return plain integer or bool tensors."""

from __future__ import annotations

import math

import numpy as np


def _tensor_cls():
    from ffnn.tensor import Tensor

    return Tensor


def _ops():
    from ffnn import ops

    return ops


def _plain(values) -> object:
    """A tensor of ``values`` outside any graph."""
    return _tensor_cls()._make(np.asarray(values), False, None)


def _along(ndim: int, dim: int, index) -> tuple:
    """An index that applies ``index`` along axis ``dim`` and takes all of the other axes."""
    from ffnn.ops.reductions import normalize_dim

    return (slice(None),) * normalize_dim(dim, ndim) + (index,)


def _array(x) -> np.ndarray:
    return x.numpy() if isinstance(x, _tensor_cls()) else np.asarray(x)


class MoreTensorMethods:
    """Mixed into Tensor; ``self`` is a Tensor."""

    # ----- reductions -----------------------------------------------------------------
    def prod(self, dim=None, keepdim: bool = False, *, dtype=None):
        """Π of the entries over ``dim`` (all when None); see ops.reductions.Prod."""
        from ffnn.tensor import in_dtype

        x = self if dtype is None else self.to(dtype)
        if x.dtype.kind in "iub":
            return in_dtype(_plain(np.prod(x.numpy(), axis=dim, keepdims=keepdim and dim
                                           is not None).astype(np.int64)), dtype)
        return _ops().prod(x, dim, keepdim)

    def count_nonzero(self, dim=None):
        """The number of non-zero entries over ``dim`` (an int, a tuple or list; all by default
        or when empty)."""
        from ffnn.ops.reductions import reduction_axes

        axes = reduction_axes(dim, self.ndim)
        return _plain(np.asarray(np.count_nonzero(self.numpy(), axis=axes), dtype=np.int64))

    def trace(self):
        """Σᵢ xᵢᵢ of a matrix."""
        return self.diag().sum()

    # ----- selecting ------------------------------------------------------------------
    def flip(self, *args, dims=None):
        """The entries in reverse order along each of ``dims``, in memory of their own (a
        copy, as torch's); a dim out of range or given twice raises, as torch's."""
        from ffnn.ops.reductions import normalize_dim
        from ffnn.tensor import _shape_args

        dims = [normalize_dim(d, self.ndim) for d in _shape_args(args, dims)]
        axes = set(dims)
        if len(axes) != len(dims):
            raise RuntimeError(f"dim {dims} appears multiple times in the list of dims")
        return self[tuple(slice(None, None, -1) if a in axes else slice(None)
                          for a in range(self.ndim))].clone()

    def index_select(self, dim: int, index):
        """The slices ``index`` (1-d ints) along ``dim``; repeated indices add gradients."""
        return self[_along(self.ndim, dim, _array(index).astype(np.int64).reshape(-1))]

    def narrow(self, dim: int, start: int, length: int):
        return self[_along(self.ndim, dim, slice(int(start), int(start) + int(length)))]

    def select(self, dim: int, index: int):
        return self[_along(self.ndim, dim, int(index))]

    def unbind(self, dim: int = 0) -> tuple:
        return tuple(self.select(dim, i) for i in range(self.shape[dim]))

    def masked_select(self, mask):
        """The entries where ``mask`` (broadcast to this shape) is true, as a 1-d tensor."""
        mask = np.broadcast_to(_array(mask).astype(bool), self.shape)
        return self[mask]

    def roll(self, shifts, dims=None):
        """Entries shifted cyclically by ``shifts`` along ``dims`` (the flattened tensor when
        None): yᵢ = x₍ᵢ₋ₛ₎ mod n."""
        if dims is None:
            return self.flatten().roll(shifts, 0).reshape(self.shape)
        shifts = (shifts,) if isinstance(shifts, int) else tuple(shifts)
        dims = (dims,) if isinstance(dims, int) else tuple(dims)
        out = self
        for shift, dim in zip(shifts, dims):
            n = self.shape[dim]
            out = out[_along(self.ndim, dim, (np.arange(n) - shift) % n)]
        return out

    def repeat_interleave(self, repeats=None, dim=None, *, output_size=None):
        """Each entry (slice along ``dim``; entry of the flattened tensor when None) repeated
        ``repeats`` times in place; ``output_size``: the result's length along ``dim`` (a
        hint to torch's GPU kernels; checked here). Without ``repeats``, this tensor holds
        the repeats of the indices 0, 1, … (``torch.repeat_interleave(counts)``)."""
        if repeats is None:
            counts = self
            self = _plain(np.arange(len(counts.numpy().reshape(-1)), dtype=np.int64))
            repeats = counts
        source = self.flatten() if dim is None else self
        axis = 0 if dim is None else dim
        counts = _array(repeats).astype(np.int64)
        index = np.repeat(np.arange(source.shape[axis]), counts)
        if output_size is not None and output_size != len(index):
            raise RuntimeError(f"allocated size does not match required size: output_size="
                               f"{output_size}, but the repeats add up to {len(index)}")
        return source[_along(source.ndim, axis, index)]

    def diag(self, diagonal: int = 0):
        """A vector's diagonal matrix, or a matrix's diagonal as a vector (offset ``diagonal``)."""
        if self.ndim == 1:
            n, steps = self.shape[0] + abs(diagonal), np.arange(self.shape[0])
            out = self.new_zeros(n, n)
            out[steps + max(-diagonal, 0), steps + max(diagonal, 0)] = self
            return out
        if self.ndim != 2:
            raise RuntimeError(f"diag(): expected a 1-d or 2-d tensor, received {self.ndim}-d")
        rows, cols = self.shape
        start_row, start_col = max(-diagonal, 0), max(diagonal, 0)
        length = max(min(rows - start_row, cols - start_col), 0)
        steps = np.arange(length)
        return self[steps + start_row, steps + start_col]

    def tril(self, diagonal: int = 0):
        """Entries on and below the ``diagonal``-th diagonal; the others 0 (False for a
        bool mask, which stays bool: a causal attention mask)."""
        keep = np.tril(np.ones(self.shape[-2:], dtype=bool), diagonal)
        return _ops().where(_plain(keep), self, _plain(np.zeros((), self._data.dtype)))

    def triu(self, diagonal: int = 0):
        """Entries on and above the ``diagonal``-th diagonal; the others 0 (False for a
        bool mask)."""
        keep = np.triu(np.ones(self.shape[-2:], dtype=bool), diagonal)
        return _ops().where(_plain(keep), self, _plain(np.zeros((), self._data.dtype)))

    def nonzero(self, *, as_tuple: bool = False):
        """The indices of the nonzero entries: an (n, ndim) int64 tensor, or one per axis (a
        0-d tensor: [1, 0] or [0, 0], and as a tuple the one index 0 or none, as torch's)."""
        if self.ndim == 0:
            hit = int(bool(self.item()))
            if as_tuple:
                return (_plain(np.zeros(hit, np.int64)),)
            return _plain(np.zeros((hit, 0), np.int64))
        found = np.nonzero(self.numpy())
        if as_tuple:
            return tuple(_plain(i.astype(np.int64)) for i in found)
        return _plain(np.stack(found, axis=1).astype(np.int64) if found else
                      np.zeros((int(bool(self.item())), 0), np.int64))

    def argwhere(self):
        return self.nonzero()

    def unique(self, sorted: bool = True, return_inverse: bool = False,  # noqa: A002
               return_counts: bool = False, dim=None):
        """The distinct values in ascending order (with the inverse map and the counts)."""
        values, inverse, counts = np.unique(self.numpy(), return_inverse=True,
                                            return_counts=True, axis=dim,
                                            equal_nan=False)  # each NaN its own, as torch's
        out = [_plain(values)]
        if return_inverse:
            out.append(_plain(inverse.reshape(self.shape if dim is None else -1)
                              .astype(np.int64)))
        if return_counts:
            out.append(_plain(counts.astype(np.int64)))
        return out[0] if len(out) == 1 else tuple(out)

    # ----- arithmetic -----------------------------------------------------------------
    def clamp_min(self, min):  # noqa: A002 - torch's name
        return self.clamp(min=min)

    def clamp_max(self, max):  # noqa: A002 - torch's name
        return self.clamp(max=max)

    def clip(self, min=None, max=None):  # noqa: A002 - torch's names
        return self.clamp(min, max)

    def reciprocal(self):
        return 1.0 / self

    def rsqrt(self):
        return 1.0 / self.sqrt()

    def log2(self):
        return self.log() / math.log(2.0)

    def log10(self):
        return self.log() / math.log(10.0)

    def erf(self):
        """The error function (integers promoted to float32, as torch)."""
        from ffnn.ops.error_function import Erf

        return Erf.apply(self if self._data.dtype.kind == "f" else self.float())

    def erfc(self):
        """1 - erf, accurate in the right tail (integers promoted to float32, as torch)."""
        from ffnn.ops.error_function import Erfc

        return Erfc.apply(self if self._data.dtype.kind == "f" else self.float())

    def sinh(self):
        return (self.exp() - (-self).exp()) / 2

    def cosh(self):
        return (self.exp() + (-self).exp()) / 2

    def diff(self, n: int = 1, dim: int = -1, prepend=None, append=None):
        """Forward differences x[i+1] − x[i] along ``dim``, ``n`` times, of the tensor with
        ``prepend`` and ``append`` joined before and after it along ``dim``."""
        pieces = [p for p in (prepend, self, append) if p is not None]
        out = _ops().concatenate(pieces, dim) if len(pieces) > 1 else self
        if out.dtype == np.bool_:  # torch's difference of bools: their exclusive or
            for _ in range(n):
                length = out.shape[dim]
                out = out.narrow(dim, 1, length - 1) ^ out.narrow(dim, 0, length - 1)
            return out
        for _ in range(n):
            length = out.shape[dim]
            out = out.narrow(dim, 1, length - 1) - out.narrow(dim, 0, length - 1)
        return out

    def addmm(self, mat1, mat2, *, beta=1, alpha=1):
        """β·self + α·(mat1 @ mat2) (β = 0: self is not read)."""
        from ffnn.tensor_compositions import scaled_sum

        return scaled_sum(self, _ops().matmul(mat1, mat2), beta, alpha)

    def movedim(self, source: int, destination: int):
        order = [d for d in range(self.ndim) if d != source % self.ndim]
        order.insert(destination % self.ndim, source % self.ndim)
        return self.permute(order)

    def broadcast_to(self, size):
        return self.expand(tuple(size))

    def nan_to_num(self, nan: float = 0.0, posinf=None, neginf=None):
        """NaN → ``nan``, ±inf → ``posinf``/``neginf`` (the dtype's extremes by default); an
        integer or bool tensor holds neither and comes back as it is (a copy), as torch's."""
        values = self.numpy()
        if values.dtype.kind in "iub":
            return self.clone()
        finfo = np.finfo(values.dtype) if values.dtype.kind == "f" else None
        posinf = finfo.max if posinf is None and finfo else posinf
        neginf = finfo.min if neginf is None and finfo else neginf
        out = _ops().where(_plain(np.isnan(values)), nan, self)
        out = _ops().where(_plain(np.isposinf(values)), posinf, out)
        return _ops().where(_plain(np.isneginf(values)), neginf, out)

    # ----- logic ----------------------------------------------------------------------
    def logical_not(self):
        return _plain(np.logical_not(self.numpy()))

    def logical_and(self, other):
        return _plain(np.logical_and(self.numpy(), _array(other)))

    def logical_or(self, other):
        return _plain(np.logical_or(self.numpy(), _array(other)))

    def logical_xor(self, other):
        return _plain(np.logical_xor(self.numpy(), _array(other)))

    def isclose(self, other, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False):
        return _plain(np.isclose(self.numpy(), _array(other), rtol, atol, equal_nan))

    # ----- comparisons, conversions and shapes ------------------------------------------
    def equal(self, other) -> bool:
        """True when ``other`` has this shape and the same values."""
        other = _array(other)
        return self.shape == other.shape and bool(np.array_equal(self.numpy(), other))

    def allclose(self, other, rtol: float = 1e-05, atol: float = 1e-08,
                 equal_nan: bool = False) -> bool:
        return bool(np.allclose(self.numpy(), _array(other), rtol, atol, equal_nan))

    def nelement(self) -> int:
        return self.numel()

    def ndimension(self) -> int:
        return self.ndim

    def is_contiguous(self, memory_format=None) -> bool:
        return bool(self.numpy().flags.c_contiguous)

    def half(self):
        return self.to(np.float16)

    def bfloat16(self):
        """Refused with the reason (``dtypes.UnheldDtype``): no NumPy dtype is bfloat16."""
        from ffnn.dtypes import bfloat16

        return self.to(bfloat16)

    def short(self):
        return self.to(np.int16)

    def byte(self):
        return self.to(np.uint8)

    def char(self):
        return self.to(np.int8)

    def type_as(self, other):
        return self.to(other.dtype)

    def reshape_as(self, other):
        return self.reshape(tuple(other.shape))

    def is_complex(self) -> bool:
        return False

    def positive(self):
        return self

    # ----- more arithmetic ------------------------------------------------------------
    def maximum(self, other):
        """The element-wise larger of self and ``other`` (torch's promotion of the two)."""
        return _ops().maximum(self, other)

    def minimum(self, other):
        """The element-wise smaller of self and ``other``."""
        return _ops().minimum(self, other)

    def sgn(self):
        return self.sign()

    def trunc(self):
        """Towards zero; gradient 0, as torch's."""
        from ffnn.tensor import _staircase

        return _staircase(self, np.trunc)

    def frac(self):
        """x − trunc(x); gradient 1."""
        return self - _plain(np.trunc(self.numpy()))

    def fmod(self, other):
        """x − trunc(x / y)·y (the sign of x, as C's fmod: -4 fmod 2 = -0), in torch's result
        dtype of the two (integers stay integers; a zero divisor of them raises torch's
        RuntimeError)."""
        from ffnn.ops import rounded_division

        a, b = _ops()._pair(self, other)
        if a._data.dtype.kind in "iub":
            return _tensor_cls()._make(rounded_division.integer_remainder(
                a._data, b._data, "trunc"), False, None)
        return rounded_division.FMod.apply(a, b)

    def lerp(self, end, weight):
        """self + w·(end − self) where |w| < 0.5, else end − (end − self)·(1 − w): torch's
        two forms, each exact at its end (w in the tensor's dtype, as torch computes it)."""
        if isinstance(weight, _tensor_cls()):
            small = weight.abs() < 0.5
            return _ops().where(small, self + (end - self) * weight,
                                end - (end - self) * (1 - weight))
        w = self._data.dtype.type(weight) if self._data.dtype.kind in "fc" else weight
        if abs(w) < 0.5:
            return self + (end - self) * w
        return end - (end - self) * (1 - w)

    def addcmul(self, tensor1, tensor2, *, value=1):
        return self + value * tensor1 * tensor2

    def addcdiv(self, tensor1, tensor2, *, value=1):
        return self + value * tensor1 / tensor2

    def outer(self, vec2):
        return self.reshape(-1, 1) * vec2.reshape(1, -1)

    def ger(self, vec2):
        return self.outer(vec2)

    def inner(self, other):
        return (self * other).sum(-1) if self.ndim <= 1 else _ops().matmul(
            self, other.transpose(-1, -2))

    def mv(self, vec):
        return _ops().matmul(self, vec)

    def logit(self, eps=None):
        """log(p / (1 − p)), p clamped to [eps, 1 − eps] when eps is given (its gradient
        torch's: ``ffnn.ops.special_more.Logit``)."""
        from ffnn.ops.special_more import Logit

        return Logit.apply(self if self.dtype.kind == "f" else self.float(), eps=eps)

    def floor_(self):
        return self._inplace(lambda t: t.floor())

    def ceil_(self):
        return self._inplace(lambda t: t.ceil())

    def round_(self, decimals: int = 0):
        return self._inplace(lambda t: t.round(decimals=decimals))

    def sin_(self):
        return self._inplace(lambda t: t.sin())

    def cos_(self):
        return self._inplace(lambda t: t.cos())

    def square_(self):
        return self._inplace(lambda t: t * t)

    def lerp_(self, end, weight):
        return self._inplace(lambda t: t.lerp(end, weight))

    def addcmul_(self, tensor1, tensor2, *, value=1):
        return self._inplace(lambda t: t.addcmul(tensor1, tensor2, value=value))

    def addcdiv_(self, tensor1, tensor2, *, value=1):
        return self._inplace(lambda t: t.addcdiv(tensor1, tensor2, value=value))
