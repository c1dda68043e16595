"""Tensor methods that summarise arrays: median, nanmedian, kthvalue, mode, msort, cummax,
cummin, aminmax, quantile, nanquantile, nansum, nanmean, histc, dist.

An order statistic finds its indices in NumPy and then picks the values by indexing, so the
gradient flows to the picked entries (split over ties where torch splits it); indices come
back as int64 tensors outside the graph.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from ffnn.tensor import Tensor

from ffnn.tensor_arrays import _dim, _ops, _plain, _take, _tensor_cls


def _sort_keys(array: np.ndarray) -> np.ndarray:
    return array.astype(np.int64) if array.dtype.kind in "ub" else array


def _nan_mask(array: np.ndarray) -> np.ndarray:
    return np.isnan(array) if array.dtype.kind == "f" else np.zeros(array.shape, bool)


# ----- how an order statistic picks its entry: (array, axis) -> int64 index, keepdims -----
def _pick_kth(array: np.ndarray, axis: int, k: int) -> np.ndarray:
    """The k-th smallest entry's index (NaN last): the stable sort's, and where the k-th value
    occurs more than once in a row, the one torch's quickselect ends on
    (``_torch_quickselect``), so that its index and gradient are torch's."""
    order = np.argsort(_sort_keys(array), axis=axis, kind="stable")
    index = np.take(order, [k - 1], axis=axis)
    rows = np.moveaxis(array, axis, -1).reshape(-1, array.shape[axis])
    picked = np.moveaxis(index, axis, -1).reshape(-1).copy()
    kth = rows[np.arange(len(rows)), picked][:, None]
    nan = _nan_mask(rows)
    same = (rows == kth) | (nan & nan[np.arange(len(rows)), picked][:, None])
    for row in np.flatnonzero(same.sum(axis=1) > 1):
        picked[row] = _torch_quickselect(rows[row].tolist(), k - 1)
    shape = np.moveaxis(index, axis, -1).shape
    return np.moveaxis(picked.reshape(shape), -1, axis)


def _greater_or_nan(x, y) -> bool:
    return (x != x and y == y) or x > y  # NaN above every number


def _torch_quickselect(values: list, k: int) -> int:
    """The original position of the k-th (from 0) smallest of ``values`` as torch's CPU
    kthvalue finds it: quickselect with a median-of-three pivot, partitioning values and
    positions together, NaN largest."""
    position = list(range(len(values)))

    def swap(i: int, j: int) -> None:
        values[i], values[j] = values[j], values[i]
        position[i], position[j] = position[j], position[i]

    low, high = 0, len(values) - 1
    while high > low + 1:
        middle = low + (high - low) // 2
        swap(middle, low + 1)
        for a, b in ((low + 1, high), (low, high), (low + 1, low)):
            if _greater_or_nan(values[a], values[b]):
                swap(a, b)
        i, j, pivot = low + 1, high, values[low]
        while True:
            i += 1
            while _greater_or_nan(pivot, values[i]):
                i += 1
            j -= 1
            while _greater_or_nan(values[j], pivot):
                j -= 1
            if j < i:
                break
            swap(i, j)
        swap(low, j)
        if j <= k:
            low = i
        if j >= k:
            high = j - 1
    if high == low + 1 and _greater_or_nan(values[low], values[high]):
        swap(low, high)
    return position[k]


def _pick_median(array: np.ndarray, axis: int, ignore_nan: bool) -> np.ndarray:
    """The lower median's index: the ⌊(n − 1)/2⌋-th in a stable sort (NaN last); a row with
    NaN gives its first NaN (median) or the median of the rest (nanmedian)."""
    order = np.argsort(_sort_keys(array), axis=axis, kind="stable")
    nan = _nan_mask(array)
    if ignore_nan:
        count = (~nan).sum(axis=axis, keepdims=True)
        return np.take_along_axis(order, np.maximum((count - 1) // 2, 0), axis)
    index = np.take(order, [(array.shape[axis] - 1) // 2], axis=axis)
    first_nan = np.argmax(nan, axis=axis, keepdims=True)
    return np.where(nan.any(axis=axis, keepdims=True), first_nan, index)


def _pick_mode(array: np.ndarray, axis: int) -> np.ndarray:
    """The last index of the most frequent value (the smallest of equally frequent ones)."""
    rows = np.moveaxis(array, axis, -1).reshape(-1, array.shape[axis])
    ordered = np.sort(rows, axis=1)
    starts = np.ones(ordered.shape, bool)
    starts[:, 1:] = ordered[:, 1:] != ordered[:, :-1]
    runs = np.cumsum(starts.reshape(-1)) - 1  # rows never share a run: each starts one
    counts = np.bincount(runs)[runs].reshape(ordered.shape)
    value = np.take_along_axis(ordered, counts.argmax(axis=1)[:, None], 1)
    last = rows.shape[1] - 1 - np.argmax((rows == value)[:, ::-1], axis=1)
    shape = np.moveaxis(array, axis, -1).shape[:-1] + (1,)
    return np.moveaxis(last.reshape(shape), -1, axis)


def _cumulative_index(array: np.ndarray, axis: int, largest: bool) -> np.ndarray:
    """Index of the running max (min) along ``axis``: the latest of ties, and from the first
    NaN on, the latest NaN (torch's cummax/cummin)."""
    running = (np.maximum if largest else np.minimum).accumulate(array, axis=axis)
    hits = (array == running) | _nan_mask(array)
    steps = np.arange(array.shape[axis]).reshape((-1,) + (1,) * (array.ndim - axis - 1))
    return np.maximum.accumulate(np.where(hits, steps, 0), axis=axis).astype(np.int64)


def _quantile_q(q, x, name: str) -> tuple[np.ndarray, bool]:
    """(q as a 1-d array in x's dtype, whether q was a scalar), checked as torch checks it."""
    if x.dtype.kind != "f":
        raise RuntimeError(f"{name}() input tensor must be either float or double dtype")
    if isinstance(q, _tensor_cls()):
        if q.dtype != x.dtype:
            raise RuntimeError(f"{name}() q tensor must be same dtype as the input tensor")
        if q.ndim > 1:
            raise RuntimeError(f"{name}() q must be a scalar or 1D tensor")
        values = q.numpy()
        if ((values < 0) | (values > 1)).any():
            raise RuntimeError(f"{name}() q values must be in the range [0, 1]")
        return values.reshape(-1), q.ndim == 0
    if not 0 <= q <= 1:
        raise RuntimeError(f"{name}() q must be in the range [0, 1] but got {q}")
    return np.asarray([q], x.dtype), True


def _lp_norm(difference, p: float, dim=-1):
    """(Σ |dᵢ|ᵖ)^(1/p) over ``dim`` (all entries when None): ``linalg.vector_norm``, whose
    gradient is torch's distance gradient (0 where the norm is 0, and where dᵢ = 0 for p < 2);
    p = 0 counts the non-zero dᵢ, p = ∞ takes the largest |dᵢ|."""
    from ffnn import linalg

    return linalg.vector_norm(difference, p, dim)


_INTERPOLATIONS = ("linear", "lower", "higher", "midpoint", "nearest")


def _quantile_ranks(ordered: np.ndarray, q: np.ndarray, ignore_nan: bool,
                    interpolation: str) -> np.ndarray:
    """The fractional positions in each sorted row (last axis) of each q, shape
    (len(q), …, 1), in the row's dtype: q·(n − 1), n counting only non-NaN entries for
    nanquantile; a row with NaN takes its last (NaN) entry for quantile."""
    dtype, n = ordered.dtype, ordered.shape[-1]
    q = q.reshape((-1,) + (1,) * ordered.ndim)
    nan = np.isnan(ordered)
    if ignore_nan:
        count = (~nan).sum(axis=-1, keepdims=True).astype(dtype)
        ranks = np.maximum(q * (count - 1), 0)
    else:
        ranks = np.where(nan.any(axis=-1, keepdims=True), dtype.type(n - 1), q * dtype.type(n - 1))
    rounding = {"lower": np.floor, "higher": np.ceil, "nearest": np.round}.get(interpolation)
    return ranks if rounding is None else rounding(ranks)



class StatisticsTensorMethods:
    """Mixed into ``ffnn.Tensor``; ``self`` is a Tensor."""

    def _select(self, dim: int, keepdim: bool, pick, result: type):
        """``result(values, indices)`` of the entry ``pick(array, axis)`` chooses along
        ``dim`` (int64 indices, keepdims); the values by indexing, so dL/dx is dL/dy at the
        chosen entries."""
        x = self.reshape(1) if self.ndim == 0 else self
        axis = _dim(dim, x.ndim)
        if x.shape[axis] == 0:
            raise IndexError(f"{result.__name__}(): Expected reduction dim {axis} to have "
                             "non-zero size.")
        index = pick(x.numpy(), axis).astype(np.int64)
        values = _take(x, index, axis)
        if self.ndim == 0:
            return result(values.reshape(()), _plain(index.reshape(())))
        if not keepdim:
            values, index = values.squeeze(axis), index.squeeze(axis)
        return result(values, _plain(index))

    def _spread(self, value: np.ndarray):
        """``value`` (one of self's entries), with dL/dx split evenly over the entries equal to
        it (NaN: over the NaNs): value + Σ_hits (x − value) / hits, torch's rule for a full
        median."""
        if self.dtype.kind != "f":
            return _plain(value)
        array = self.numpy()
        hits = np.isnan(array) if np.isnan(value) else array == value
        constant = _plain(value, self.dtype)
        return constant + (self[hits] - constant).sum() / max(int(hits.sum()), 1)

    def _whole_median(self, ignore_nan: bool):
        flat = self.reshape(-1)
        if flat.shape[0] == 0:
            return _plain(np.nan if self.dtype.kind == "f" else 0, self.dtype)
        index = _pick_median(flat.numpy(), 0, ignore_nan)
        return self._spread(flat.numpy()[index[0]])

    def median(self, dim=None, keepdim: bool = False) -> Tensor | tuple:
        """The lower median, the ⌊(n − 1)/2⌋-th smallest entry (NaN if any is NaN): of all
        entries (dL/dx split over the entries equal to it), or (values, indices) along
        ``dim`` (dL/dx at the index)."""
        from ffnn import return_types

        if dim is None:
            return self._whole_median(ignore_nan=False)
        return self._select(dim, keepdim, lambda a, ax: _pick_median(a, ax, False),
                            return_types.median)

    def nanmedian(self, dim=None, keepdim: bool = False) -> Tensor | tuple:
        """median ignoring NaN entries (NaN only where all are NaN)."""
        from ffnn import return_types

        if dim is None:
            return self._whole_median(ignore_nan=True)
        return self._select(dim, keepdim, lambda a, ax: _pick_median(a, ax, True),
                            return_types.nanmedian)

    def kthvalue(self, k: int, dim: int = -1, keepdim: bool = False) -> tuple:
        """(values, indices) of the k-th smallest entry along ``dim`` (k from 1; NaN sorts
        last)."""
        from ffnn import return_types

        size = self.shape[dim] if self.ndim else 1
        if not 1 <= k <= size:
            raise RuntimeError(f"kthvalue(): selected number k out of range for dimension "
                               f"{dim}")

        return self._select(dim, keepdim, lambda a, axis: _pick_kth(a, axis, k),
                            return_types.kthvalue)

    def mode(self, dim: int = -1, keepdim: bool = False) -> tuple:
        """(values, indices): the most frequent value along ``dim`` (the smallest of equally
        frequent ones) and the last index where it occurs."""
        from ffnn import return_types

        return self._select(dim, keepdim, _pick_mode, return_types.mode)

    def msort(self) -> Tensor:
        """Sorted along the first axis (values only)."""
        return self.sort(0)[0]

    def _cumulative(self, dim: int, largest: bool, result: type):
        x = self.reshape(1) if self.ndim == 0 else self
        axis = _dim(dim, x.ndim)
        index = _cumulative_index(x.numpy(), axis, largest)
        values = _take(x, index, axis)
        if self.ndim == 0:
            return result(values.reshape(()), _plain(index.reshape(())))
        return result(values, _plain(index))

    def cummax(self, dim: int) -> tuple:
        """(values, indices) of the running maximum along ``dim``; dL/dx adds dL/dy at each
        running maximum's index."""
        from ffnn import return_types

        return self._cumulative(dim, True, return_types.cummax)

    def cummin(self, dim: int) -> tuple:
        """(values, indices) of the running minimum along ``dim``."""
        from ffnn import return_types

        return self._cumulative(dim, False, return_types.cummin)

    def aminmax(self, *, dim=None, keepdim: bool = False) -> tuple:
        """(min, max) over ``dim`` (all entries when None), as amin and amax."""
        from ffnn import return_types

        if dim is None and keepdim:
            ones = (1,) * self.ndim
            return return_types.aminmax(self.amin().reshape(ones), self.amax().reshape(ones))
        if dim is None:
            return return_types.aminmax(self.amin(), self.amax())
        return return_types.aminmax(self.amin(dim, keepdim), self.amax(dim, keepdim))

    def _quantile(self, q, dim, keepdim: bool, interpolation: str, ignore_nan: bool):
        name = "nanquantile" if ignore_nan else "quantile"
        qs, scalar = _quantile_q(q, self, name)
        if interpolation not in _INTERPOLATIONS:
            raise RuntimeError(f"{name}() interpolation must be one of linear, lower, higher, "
                               f"midpoint or nearest, but got {interpolation}")
        if self.numel() == 0:
            raise RuntimeError(f"{name}() input tensor must be non-empty")
        rows = self.reshape(-1) if dim is None else (
            self.reshape(1) if self.ndim == 0 else self).moveaxis(dim, -1)
        order = np.argsort(rows.numpy(), axis=-1, kind="stable")
        ordered = _take(rows, order)
        ranks = _quantile_ranks(ordered.numpy(), qs, ignore_nan, interpolation)
        below = ranks.astype(np.int64)
        out = _take(ordered, below)
        if interpolation in ("linear", "midpoint"):
            weight = np.full_like(ranks, 0.5) if interpolation == "midpoint" else \
                (ranks - below).astype(ranks.dtype)  # int64 made it float64
            out = out.lerp(_take(ordered, np.ceil(ranks).astype(np.int64)), _plain(weight))
        if not keepdim or self.ndim == 0:
            out = out.squeeze(-1)
        elif dim is None:
            out = out.reshape((len(qs),) + (1,) * self.ndim)
        else:
            out = out.moveaxis(-1, _dim(dim, self.ndim) + 1)
        return out.reshape(tuple(out.shape[1:])) if scalar else out

    def quantile(self, q, dim=None, keepdim: bool = False, *,
                 interpolation: str = "linear") -> Tensor:
        """The q-th quantiles along ``dim`` (all entries when None): at the fractional
        position r = q·(n − 1) of the sorted entries, x₍⌊r⌋₎ + (r − ⌊r⌋)(x₍⌈r⌉₎ − x₍⌊r⌋₎)
        ('linear'; 'lower', 'higher', 'nearest' round r, 'midpoint' takes the mean of the
        two); NaN where a NaN is present. A 1-d q adds a leading axis."""
        return self._quantile(q, dim, keepdim, interpolation, ignore_nan=False)

    def nanquantile(self, q, dim=None, keepdim: bool = False, *,
                    interpolation: str = "linear") -> Tensor:
        """quantile ignoring NaN entries (NaN only where all are NaN)."""
        return self._quantile(q, dim, keepdim, interpolation, ignore_nan=True)

    # ----- sums with NaN, histograms, distances ------------------------------------------
    def nansum(self, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
        """Σ of the entries, NaN counted as 0 (dL/dx = 0 there)."""
        x = self if dtype is None else self.to(dtype)
        if x.dtype.kind == "f":
            x = _ops().where(_plain(np.isnan(x.numpy())), 0, x)
        if dim is None and keepdim:
            return x.sum(dtype=dtype).reshape((1,) * x.ndim)
        return x.sum(dim, keepdim, dtype=dtype)

    def nanmean(self, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
        """The mean of the non-NaN entries: nansum / their count."""
        x = self if dtype is None else self.to(dtype)
        if x.dtype.kind != "f":
            raise RuntimeError(f"nanmean(): expected input to have floating point or complex "
                               f"dtype but got {x.dtype}")
        from ffnn.ops.reductions import reduction_axes

        axes = reduction_axes(dim, x.ndim)
        count = (~np.isnan(x.numpy())).sum(axis=axes, keepdims=keepdim)
        return x.nansum(axes, keepdim) / _plain(count, x.dtype)

    def histc(self, bins: int = 100, min=0, max=0) -> Tensor:  # noqa: A002 - torch's names
        """Counts of the entries in ``bins`` equal bins over [min, max] (the data's range when
        min = max = 0); entries outside are not counted, max falls in the last bin."""
        array = self.numpy()
        if array.dtype.kind != "f":
            raise NotImplementedError(f'"histogram_cpu" not implemented for {array.dtype}')
        if bins <= 0:
            raise RuntimeError(f"torch.histogram(): bins must be > 0, but got {bins} for "
                               "dimension 0")
        low, high = array.dtype.type(min), array.dtype.type(max)
        if low == high and array.size:
            low, high = array.min(), array.max()
        if low == high:
            low, high = low - 1, high + 1
        if not (np.isfinite(low) and np.isfinite(high)):
            raise RuntimeError(f"torch.histc: range of [{low}, {high}] is not finite")
        if low > high:
            raise RuntimeError("torch.histc: max must be larger than min")
        inside = array[(array >= low) & (array <= high)]
        position = ((inside - low) * array.dtype.type(bins) / (high - low)).astype(np.int64)
        counts = np.bincount(np.minimum(position, bins - 1), minlength=bins)
        return _plain(counts, array.dtype)

    def dist(self, other, p: float = 2) -> Tensor:
        """‖self − other‖ₚ over all entries (broadcast)."""
        difference = self - other
        if difference.dtype.kind != "f":
            raise RuntimeError(f"norm(): input dtype should be either floating point or "
                               f"complex. Got {difference.dtype} instead.")
        return _lp_norm(difference, p, None)
