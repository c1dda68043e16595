"""Reductions over axes (``keepdim`` as in torch): sum, mean, variance, max, min, p-norms."""

from __future__ import annotations

import numpy as np

from ffnn import accel
from ffnn.autograd import Op
from ffnn.backend import xp
from ffnn.ops.elementwise import Where, constant_like, quiet


def normalize_dim(dim: int, ndim: int, extra: int = 0) -> int:
    """``dim`` as a non-negative axis of an ``ndim``-d tensor (``extra=1``: of the result of
    inserting one axis); out of range is torch's IndexError, never a silent wrap-around."""
    size = max(ndim + extra, 1)
    if not -size <= dim < size:
        raise IndexError(
            f"Dimension out of range (expected to be in range of [{-size}, {size - 1}], but "
            f"got {dim})"
        )
    return dim % size


def reduction_axes(dim, ndim: int) -> tuple | None:
    """NumPy's axes of ``dim`` (None, or an empty list or tuple: all, as torch's ``dim=[]``);
    a 0-d tensor's dim 0 or -1 is the whole of it, as torch takes it."""
    if dim is None:
        return None
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    if not dims:
        return None
    axes = tuple(normalize_dim(d, ndim) for d in dims)
    return axes if ndim else None


def _expand_back(grad, shape, axes, keepdim):
    """Re-insert reduced axes so ``grad`` broadcasts against the input's ``shape``."""
    if axes is None:
        return grad.reshape((1,) * len(shape))
    if not keepdim:
        grad = xp(grad).expand_dims(grad, axes)
    return grad


def _expanded_back(grad, shape: tuple, axes, keepdim: bool):
    """``_expand_back`` then broadcast to ``shape``, on a gradient tensor, recorded."""
    kept = tuple(1 if axes is None or i in axes else n for i, n in enumerate(shape))
    return grad.reshape(kept).expand(*shape)


class Sum(Op):
    """y = Σ_axes x (of integers or bools: int64, as torch's);  dL/dx = dL/dy broadcast
    back over the summed axes."""

    may_save_nothing = True

    def forward(self, x, dim=None, keepdim=False):
        self.shape, self.axes, self.keepdim = x.shape, reduction_axes(dim, x.ndim), keepdim
        if x.dtype.kind in "bu":  # NumPy's sum of uint8 is uint64 (then s - 5 wraps)
            return x.sum(axis=self.axes, keepdims=keepdim, dtype=np.int64)
        return x.sum(axis=self.axes, keepdims=keepdim)

    def backward(self, grad):
        g = _expand_back(grad, self.shape, self.axes, self.keepdim)
        return (xp(g).broadcast_to(g, self.shape),)

    def backward_graph(self, grad, x):
        return (_expanded_back(grad, tuple(x.shape), self.axes, self.keepdim),)


class Mean(Op):
    """y = (1/n) Σ_axes x;  dL/dx = dL/dy / n broadcast back."""

    may_save_nothing = True

    def forward(self, x, dim=None, keepdim=False):
        self.shape, self.axes, self.keepdim = x.shape, reduction_axes(dim, x.ndim), keepdim
        out = x.mean(axis=self.axes, keepdims=keepdim)
        self.count = x.size // max(out.size, 1) if x.size else 0
        return out.astype(x.dtype, copy=False)

    def backward(self, grad):
        g = _expand_back(grad, self.shape, self.axes, self.keepdim) / self.count
        return (xp(g).broadcast_to(g, self.shape),)

    def backward_graph(self, grad, x):
        return (_expanded_back(grad / self.count, tuple(x.shape), self.axes, self.keepdim),)


class Var(Op):
    """y = Σ (x - x̄)² / max(n - c, 0);  dL/dx = dL/dy · 2 (x - x̄) / max(n - c, 0) (inf and
    nan where n ≤ c, as torch's).

    float16 and float32 are summed in float64, as torch's CPU kernel accumulates them (NumPy's
    float32 sums down a column add row by row: a column's std could be off by 1e-5 of it)."""

    @quiet
    def forward(self, x, dim=None, keepdim=False, correction=1):
        self.shape, self.axes, self.keepdim = x.shape, reduction_axes(dim, x.ndim), keepdim
        wide = x.astype(np.float64) if x.dtype.kind == "f" and x.dtype.itemsize < 8 else x
        centered = wide - wide.mean(axis=self.axes, keepdims=True)
        n = x.size if self.axes is None else int(xp(x).prod([x.shape[a] for a in self.axes]))
        self.denominator = np.float64(max(n - correction, 0))  # 0: inf or nan, no exception
        squares = (centered**2).sum(axis=self.axes, keepdims=keepdim)
        self.centered = centered.astype(x.dtype, copy=False)
        return (squares / self.denominator).astype(x.dtype, copy=False)

    @quiet
    def backward(self, grad):
        g = _expand_back(grad, self.shape, self.axes, self.keepdim)
        return (g * (2.0 / self.denominator).astype(g.dtype) * self.centered,)

    def backward_graph(self, grad, x):
        scale = _expanded_back(grad, tuple(x.shape), self.axes, self.keepdim)
        return (scale * (x - x.mean(dim=self.axes, keepdim=True))
                * float(2.0 / self.denominator),)


class Std(Op):
    """y = √var (``Var``);  dL/dx = dL/dy · (x - x̄) / (max(n - c, 0) · y), and 0 where y = 0
    (a constant slice), as torch's (the square root's own 1/(2y) would give nan there)."""

    @quiet
    def forward(self, x, dim=None, keepdim=False, correction=1):
        self.var = Var()
        self.out = xp(x).sqrt(self.var.forward(x, dim, keepdim, correction))
        return self.out

    @quiet
    def backward(self, grad):
        v = self.var
        out = _expand_back(self.out, v.shape, v.axes, v.keepdim)
        g = _expand_back(grad, v.shape, v.axes, v.keepdim)
        scale = xp(out).where(out == 0, 0, g / (out * v.denominator.astype(out.dtype)))
        return (scale * v.centered,)

    def backward_graph(self, grad, x):
        v, zero = self.var, self.out == 0
        s = Std.apply(x, **self.options)  # recorded: the second derivative goes through it
        safe = Where.apply(constant_like(s, 1), s, condition=zero)  # 1 where y = 0
        scale = grad / (safe * float(v.denominator)) * constant_like(s, ~zero)
        scale = _expanded_back(scale, tuple(x.shape), v.axes, v.keepdim)
        return (scale * (x - x.mean(dim=v.axes, keepdim=True)),)


class Extremum(Op):
    """y = max (or min) over axes;  dL/dx = dL/dy at the extreme entries, split evenly on ties
    for a full reduction, several axes or ``split_ties`` (amax/amin), at the first extreme
    index along one ``dim`` otherwise (max(dim)/min(dim)) — torch's rules."""

    def forward(self, x, dim=None, keepdim=False, largest=True, split_ties=False, index=None):
        m = xp(x)
        self.shape, self.axes, self.keepdim = x.shape, reduction_axes(dim, x.ndim), keepdim
        self.index, self.split_ties = None, split_ties
        if self.axes is None or split_ties or len(self.axes) > 1:
            out = (m.max if largest else m.min)(x, axis=self.axes, keepdims=True)
            hits = x == out
            if not split_ties and x.dtype.kind == "f" and m.isnan(out).any():
                hits |= m.isnan(x) & m.isnan(out)  # max(): the NaNs share it (amax: NaN)
            with np.errstate(invalid="ignore"):  # amax's NaN: no hit, 0/0, quietly
                self.weights = hits / hits.sum(axis=self.axes, keepdims=True)
        else:  # the values at the first extreme index (``index``: it, computed by the caller)
            (self.axis,) = self.axes
            self.index = arg_extremum(x, self.axis, largest) if index is None else index
            out = m.take_along_axis(x, self.index, axis=self.axis)
        if keepdim:
            return out
        return out.reshape(()) if self.axes is None else out.squeeze(axis=self.axes)

    def backward(self, grad):
        grad = _expand_back(grad, self.shape, self.axes, self.keepdim)
        if self.index is None:
            with np.errstate(invalid="ignore"):  # inf · 0, written over below
                out = grad * self.weights
            if not self.split_ties:  # max() / min(): torch writes its share into zeros (+0.)
                out[self.weights == 0] = 0
            return (out,)
        m = xp(grad)
        out = m.zeros(self.shape, dtype=grad.dtype)
        m.put_along_axis(out, self.index, grad, axis=self.axis)
        return (out,)

    def backward_graph(self, grad, x):
        """dL/dy broadcast back times a constant: the ties' shares, or 1 at the index."""
        if self.index is None:
            share = self.weights
        else:
            m = xp(x._data)
            share = m.zeros(self.shape, dtype=x.dtype)
            m.put_along_axis(share, self.index, 1, axis=self.axis)
        return (_expanded_back(grad, self.shape, self.axes, self.keepdim)
                * constant_like(x, share),)


def arg_extremum(x, axis: int, largest: bool):
    """``np.argmax(x, axis, keepdims=True)`` (``argmin`` unless ``largest``): the first extreme
    index, NaN counting as the extreme; compiled down an axis other than the last."""
    found = accel.arg_extremum(x, axis, largest)
    if found is None:
        found = (xp(x).argmax if largest else xp(x).argmin)(x, axis=axis, keepdims=True)
    return found



def _running_sum(x, axis: int, reverse: bool, wide: bool):
    """Cumulative sums of ``x`` along ``axis`` (from the end when ``reverse``) in ``x``'s
    dtype; ``wide``: a float32 ``x`` summed in float64, each running sum rounded to float32
    (torch's CPU kernel accumulates float32 in double: 10,000 times 0.1 is 1000., not the
    float32 additions' 999.9)."""
    work = x.astype(np.float64) if wide and x.dtype == np.float32 else x
    found = accel.cumulative_sum(work, axis, reverse=reverse)
    if found is None:
        m = xp(work)
        found = m.flip(m.cumsum(m.flip(work, axis=axis), axis=axis), axis=axis) if reverse \
            else m.cumsum(work, axis=axis)
    return found.astype(x.dtype, copy=False)


class Cumsum(Op):
    """yᵢ = Σ_{j ≤ i} xⱼ along ``dim``;  dL/dxⱼ = Σ_{i ≥ j} dL/dyᵢ (a reversed cumulative sum).
    float32 is accumulated in float64 (torch's CPU accumulation type), unless ``wide`` is
    False (float16 summed in float32, as torch's)."""

    def forward(self, x, dim=0, wide=True):
        self.dim, self.wide = dim % max(x.ndim, 1), wide
        return _running_sum(x, self.dim, False, wide)

    def backward(self, grad):
        return (_running_sum(grad, self.dim, True, self.wide),)

    def backward_graph(self, grad, x):
        return (grad.flip(self.dim).cumsum(self.dim).flip(self.dim),)


class Prod(Op):
    """y = Πᵢ xᵢ over ``dim`` (all elements when None);  dL/dxⱼ = dL/dy · Π_{i≠j} xᵢ, the
    product of the entries before j times those after it (exact when some xᵢ are 0)."""

    def forward(self, x, dim=None, keepdim=False):
        m = xp(x)
        self.shape, self.keepdim = x.shape, keepdim and dim is not None
        self.x = x.reshape(-1) if dim is None else x
        self.axis = 0 if dim is None else normalize_dim(dim, x.ndim)
        if self.x.ndim == 0:
            self.x, self.axis = self.x.reshape(1), 0
        out = m.prod(self.x, axis=self.axis, keepdims=self.keepdim)
        return out.reshape(()) if dim is None else out.astype(x.dtype, copy=False)

    def backward(self, grad):
        m, x, axis = xp(grad), self.x, self.axis
        ones = m.ones_like(m.take(x, [0], axis=axis))
        before = m.concatenate([ones, m.cumprod(x, axis=axis)], axis=axis)
        reversed_x = m.flip(x, axis=axis)
        after = m.flip(m.concatenate([ones, m.cumprod(reversed_x, axis=axis)], axis=axis), axis)
        size = x.shape[axis]
        others = (m.take(before, range(size), axis=axis)
                  * m.take(after, range(1, size + 1), axis=axis))
        if not self.keepdim and grad.ndim < x.ndim:
            grad = m.expand_dims(grad, axis)
        return ((grad * others).reshape(self.shape),)

    def backward_graph(self, grad, x):
        """``backward``'s products of the entries before and after each one, as recorded
        cumulative products (exact where some entries are 0)."""
        from ffnn import creation  # noqa: PLC0415 - it imports the ops

        axis = self.axis
        flat = x.reshape(self.x.shape)
        size = flat.shape[axis]
        reverse = (slice(None),) * axis + (slice(None, None, -1),)
        ones = constant_like(flat, xp(flat._data).ones(
            tuple(1 if a == axis else n for a, n in enumerate(flat.shape)), flat.dtype))
        before = creation.cat([ones, flat.cumprod(axis)], axis)
        after = creation.cat([ones, flat[reverse].cumprod(axis)], axis)[reverse]
        pick = (slice(None),) * axis
        others = before[pick + (slice(0, size),)] * after[pick + (slice(1, size + 1),)]
        if not self.keepdim and grad.ndim < flat.ndim:
            grad = grad.unsqueeze(axis)
        return ((grad * others).reshape(self.shape),)


class Norm(Op):
    """y = (Σ_axes |x|ᵖ)^(1/p) for a finite p ≠ 0 (p = 2: √Σ x², p = 1: Σ |x|);
    dL/dx = dL/dy · x |x|^(p-2) / y^(p-1) (p = 2: x / y, p = 1: sign x; p < 2: written
    sign x · |x|^(p-1) / y^(p-1), 0 where x = 0 for p < 1), and 0 where y = 0: torch's
    subgradient at a zero vector, where the formula's 0/0 would give NaN."""

    def forward(self, x, p=2.0, dim=None, keepdim=False):
        m = xp(x)
        self.shape, self.axes, self.keepdim = x.shape, reduction_axes(dim, x.ndim), keepdim
        self.p, self.x = p, x
        if p == 2:
            y = m.sqrt((x * x).sum(axis=self.axes, keepdims=keepdim))
        elif p == 1:
            y = m.abs(x).sum(axis=self.axes, keepdims=keepdim)
        else:
            y = (m.abs(x) ** p).sum(axis=self.axes, keepdims=keepdim) ** (1.0 / p)
        self.y = y
        return y.astype(x.dtype, copy=False)

    def backward(self, grad):
        m, x, p = xp(grad), self.x, self.p
        g = _expand_back(grad, self.shape, self.axes, self.keepdim)
        if p == 1:
            return ((m.sign(x) * g).astype(x.dtype, copy=False),)
        y = _expand_back(self.y, self.shape, self.axes, self.keepdim)
        with m.errstate(divide="ignore", invalid="ignore"):
            if p == 2:
                scale = x / y
            elif p < 1:
                scale = m.where(x == 0, 0, m.sign(x) * m.abs(x) ** (p - 1)) * y ** (1 - p)
            elif p < 2:  # x·|x|^(p-2) would be 0·∞ at x = 0
                scale = m.sign(x) * m.abs(x) ** (p - 1) / y ** (p - 1)
            else:
                scale = x * m.abs(x) ** (p - 2) / y ** (p - 1)
        return ((g * m.where(y == 0, 0, scale)).astype(x.dtype, copy=False),)

    def backward_graph(self, grad, x):
        if self.p != 2:
            return Op.backward_graph(self, grad, x)
        y = Norm.apply(x, p=2.0, dim=self.axes, keepdim=True)
        zero = y._data == 0  # torch's subgradient 0 at a zero vector
        safe = y + constant_like(y, zero)
        scale = _expanded_back(grad, tuple(x.shape), self.axes, self.keepdim)
        return (scale * x / safe * constant_like(y, ~zero),)


class LogSumExp(Op):
    """y = m + log Σ_axes e^{x - m}, m the maximum (0 where it is ±inf);
    dL/dx = dL/dy · e^{x - y}: torch's, NaN over a slice of -inf only or one holding +inf."""

    def forward(self, x, dim=None, keepdim=False):
        m = xp(x)
        self.axes, self.keepdim = reduction_axes(dim, x.ndim), keepdim
        top = x.max(axis=self.axes, keepdims=True, initial=-np.inf)
        shift = m.where(m.isfinite(top), top, 0).astype(x.dtype)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            out = m.log(m.exp(x - shift).sum(axis=self.axes, keepdims=True)) + shift
        self.x, self.out = x, out
        if keepdim:
            return out
        return out.reshape(()) if self.axes is None else m.squeeze(out, axis=self.axes)

    def backward(self, grad):
        g = _expand_back(grad, self.x.shape, self.axes, self.keepdim)
        with np.errstate(invalid="ignore", over="ignore"):
            return (g * xp(g).exp(self.x - self.out),)

    def backward_graph(self, grad, x):
        kept = tuple(1 if self.axes is None or i in self.axes else n
                     for i, n in enumerate(x.shape))
        out = LogSumExp.apply(x, dim=self.options.get("dim"), keepdim=True)
        return (grad.reshape(kept) * (x - out).exp(),)
