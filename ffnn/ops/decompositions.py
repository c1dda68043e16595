"""Inverses, solves, determinants and the Cholesky factor, as ops with hand-written backwards.

Every op takes matrices in the last two dimensions and a batch in the others; the solves
broadcast the batches of their two operands. A matrix that cannot be inverted or factored
raises ``LinAlgError`` with torch's message, naming the first failing batch element. Each
``backward_graph`` writes the derivative with these same ops, so it can be differentiated
again (``create_graph=True``).
"""

from __future__ import annotations

from ffnn.autograd import Op
from ffnn.backend import xp
from ffnn.ops.elementwise import unbroadcast, unbroadcast_graph
from ffnn.ops.triangular import (
    cholesky_failures,
    lu_zero_pivots,
    mT,
    solve_triangular_arrays,
    triangle,
)


class LinAlgError(RuntimeError):
    """torch.linalg.LinAlgError: a matrix that a factorisation or an inversion cannot take
    (singular, not positive-definite)."""


def _prefix(info, index: int) -> str:
    """torch's "(Batch element i): " before a message about a batched input."""
    return f"(Batch element {index}): " if info.ndim else ""


def _first_failure(info) -> tuple[int, int]:
    """(flat batch index, info) of the first matrix whose ``info`` is non-zero."""
    flat = info.reshape(-1)
    index = int((flat != 0).argmax())
    return index, int(flat[index])


def singular_error(a, name: str) -> LinAlgError:
    """torch's error for an inversion of a singular matrix among ``a`` (..., n, n)."""
    info = lu_zero_pivots(a)
    index, pivot = _first_failure(info)
    return LinAlgError(f"{name}: {_prefix(info, index)}The diagonal element {max(pivot, 1)} is "
                       "zero, the inversion could not be completed because the input matrix "
                       "is singular.")


def not_positive_definite_error(a, name: str) -> LinAlgError:
    """torch's error for a Cholesky factor of a matrix among ``a`` that is not positive-
    definite."""
    info = cholesky_failures(a)
    index, order = _first_failure(info)
    return LinAlgError(f"{name}: {_prefix(info, index)}The factorization could not be completed "
                       "because the input is not positive-definite (the leading minor of order "
                       f"{max(order, 1)} is not positive-definite).")


def inverse_array(a, name: str = "linalg.inv"):
    """A⁻¹ of each matrix of ``a``, or torch's ``LinAlgError`` for a singular one."""
    m = xp(a)
    try:
        return m.linalg.inv(a)
    except m.linalg.LinAlgError:
        raise singular_error(a, name) from None


def inverse_where_regular(a):
    """A⁻¹ of each matrix of ``a``, NaN in place of the inverse of a singular one."""
    m = xp(a)
    try:
        return m.linalg.inv(a)
    except m.linalg.LinAlgError:
        regular = lu_zero_pivots(a) == 0
    out = m.full(a.shape, m.nan, dtype=a.dtype)
    out[regular] = m.linalg.inv(a[regular])
    return out


class Inverse(Op):
    """Y = A⁻¹ for A (..., n, n).

    dL/dA = −Yᵀ · dL/dY · Yᵀ."""

    def forward(self, a, name="linalg.inv"):
        self.inverse = inverse_array(a, name)
        return self.inverse

    def backward(self, grad):
        y = mT(self.inverse)
        return (-(y @ grad @ y),)

    def backward_graph(self, grad, a):
        y = Inverse.apply(a).mT
        return (-(y @ grad @ y),)


class Solve(Op):
    """X = A⁻¹ · B for A (..., n, n) and B (..., n, k), the batches broadcast.

    dL/dB = A⁻ᵀ · dL/dX,  dL/dA = −dL/dB · Xᵀ."""

    def forward(self, a, b):
        m = xp(a)
        try:
            self.x = m.linalg.solve(a, b)
        except m.linalg.LinAlgError:
            info = lu_zero_pivots(a)
            index = _first_failure(info)[0]
            raise LinAlgError(f"torch.linalg.solve: {_prefix(info, index)}The solver failed "
                              "because the input matrix is singular.") from None
        self.a, self.b_shape = a, b.shape
        return self.x

    def backward(self, grad):
        grad_b = xp(grad).linalg.solve(mT(self.a), grad)
        grad_a = unbroadcast(-(grad_b @ mT(self.x)), self.a.shape)
        return (grad_a if self.needs_input_grad[0] else None,
                unbroadcast(grad_b, self.b_shape) if self.needs_input_grad[1] else None)

    def backward_graph(self, grad, a, b):
        grad_b = Solve.apply(a.mT, grad)
        grad_a = None
        if self.needs_input_grad[0]:
            grad_a = unbroadcast_graph(-(grad_b @ Solve.apply(a, b).mT), a.shape)
        return grad_a, unbroadcast_graph(grad_b, b.shape) if self.needs_input_grad[1] else None


class SolveTriangular(Op):
    """X = A⁻¹ · B (``left``) or X = B · A⁻¹ for a triangular A (..., n, n): its ``upper`` or
    lower triangle is read, with ones on the diagonal when ``unitriangular``; batches
    broadcast. A zero on the diagonal gives inf/NaN, as LAPACK's trsm.

    left:  dL/dB = A⁻ᵀ · dL/dX,  dL/dA = −tri(dL/dB · Xᵀ);
    right: dL/dB = dL/dX · A⁻ᵀ,  dL/dA = −tri(Xᵀ · dL/dB),
    where tri keeps A's triangle (without the diagonal when ``unitriangular``)."""

    def forward(self, a, b, upper=False, left=True, unitriangular=False):
        self.a, self.b_shape = a, b.shape
        self.flags = upper, left, unitriangular
        self.x = solve_triangular_arrays(a, b, upper, left, unitriangular)
        return self.x

    def backward(self, grad):
        upper, left, unit = self.flags
        grad_b = solve_triangular_arrays(mT(self.a), grad, not upper, left, unit)
        grad_a = None
        if self.needs_input_grad[0]:
            outer = grad_b @ mT(self.x) if left else mT(self.x) @ grad_b
            grad_a = unbroadcast(-triangle(outer, upper, unit), self.a.shape)
        return grad_a, unbroadcast(grad_b, self.b_shape) if self.needs_input_grad[1] else None

    def backward_graph(self, grad, a, b):
        upper, left, unit = self.flags
        grad_b = SolveTriangular.apply(a.mT, grad, upper=not upper, left=left,
                                       unitriangular=unit)
        grad_a = None
        if self.needs_input_grad[0]:
            x = SolveTriangular.apply(a, b, upper=upper, left=left, unitriangular=unit)
            outer = grad_b @ x.mT if left else x.mT @ grad_b
            shift = int(unit)
            kept = outer.triu(shift) if upper else outer.tril(-shift)
            grad_a = unbroadcast_graph(-kept, a.shape)
        return grad_a, unbroadcast_graph(grad_b, b.shape) if self.needs_input_grad[1] else None


class Cholesky(Op):
    """A = L·Lᵀ, L lower-triangular with a positive diagonal (A's lower triangle is read).

    dL/dA = L⁻ᵀ · Φ(Lᵀ · dL/dL) · L⁻¹, Φ(P) = ½(tril(P) + tril(P, −1)ᵀ): the symmetric
    gradient torch gives (Murray, 2016)."""

    def forward(self, a, name="linalg.cholesky"):
        m = xp(a)
        try:
            self.factor = m.linalg.cholesky(a)
        except m.linalg.LinAlgError:
            raise not_positive_definite_error(a, name) from None
        return self.factor

    def backward(self, grad):
        factor, m = self.factor, xp(grad)
        p = m.tril(mT(factor) @ grad)
        phi = 0.5 * (p + mT(m.tril(p, -1)))
        left = solve_triangular_arrays(mT(factor), phi, True, True, False)  # L⁻ᵀ Φ
        return (solve_triangular_arrays(factor, left, False, False, False),)  # (L⁻ᵀ Φ) L⁻¹

    def backward_graph(self, grad, a):
        factor = Cholesky.apply(a)
        p = (factor.mT @ grad).tril()
        phi = 0.5 * (p + p.tril(-1).mT)
        left = SolveTriangular.apply(factor.mT, phi, upper=True)
        return (SolveTriangular.apply(factor, left, upper=False, left=False),)


class CholeskySolve(Op):
    """X = (L·Lᵀ)⁻¹ · B (or (Uᵀ·U)⁻¹ · B when ``upper``) from a Cholesky factor, batches
    broadcast. As torch, the factor is differentiated as a full matrix:

    dL/dB = (L·Lᵀ)⁻¹ · dL/dX,  dL/dL = −(dL/dB·Xᵀ + X·dL/dBᵀ) · L  (−U · (…) when upper)."""

    def forward(self, b, factor, upper=False):
        first = solve_triangular_arrays(factor, b, upper, True, False, transpose=upper)
        self.x = solve_triangular_arrays(factor, first, upper, True, False,
                                         transpose=not upper)
        self.factor, self.b_shape, self.upper = factor, b.shape, upper
        return self.x

    def backward(self, grad):
        grad_b = CholeskySolve().forward(grad, self.factor, self.upper)
        grad_factor = None
        if self.needs_input_grad[1]:
            common = grad_b @ mT(self.x)
            common = common + mT(common)
            product = self.factor @ common if self.upper else common @ self.factor
            grad_factor = unbroadcast(-product, self.factor.shape)
        return (unbroadcast(grad_b, self.b_shape) if self.needs_input_grad[0] else None,
                grad_factor)

    def backward_graph(self, grad, b, factor):
        upper = self.upper
        grad_b = CholeskySolve.apply(grad, factor, upper=upper)
        grad_factor = None
        if self.needs_input_grad[1]:
            common = grad_b @ CholeskySolve.apply(b, factor, upper=upper).mT
            common = common + common.mT
            grad_factor = unbroadcast_graph(-(factor @ common if upper else common @ factor),
                                            factor.shape)
        return (unbroadcast_graph(grad_b, b.shape) if self.needs_input_grad[0] else None,
                grad_factor)


class Det(Op):
    """d = det A for A (..., n, n), from its LU factorisation.

    dL/dA = dL/dd · C, C the cofactor matrix: d·A⁻ᵀ, or where d = 0, from the SVD
    A = U·S·Vᵀ, det(U)·det(V) · U · diag(Πⱼ≠ᵢ sⱼ) · Vᵀ."""

    def forward(self, a):
        self.a, self.det = a, xp(a).linalg.det(a)
        return self.det

    def backward(self, grad):
        return (grad[..., None, None] * cofactors(self.a, self.det),)

    def backward_graph(self, grad, a):
        if not (self.det != 0).all():
            raise NotImplementedError("create_graph=True: the gradient of det at a singular "
                                      "matrix cannot be differentiated again in ffnn")
        scale = (grad * Det.apply(a))[..., None, None]
        return (scale * Inverse.apply(a, name="linalg.det").mT,)


def cofactors(a, det):
    """The cofactor matrix of each matrix of ``a`` (whose determinants are ``det``):
    det·A⁻ᵀ where det ≠ 0, det(U)·det(V)·U·diag(Πⱼ≠ᵢ sⱼ)·Vᵀ from the SVD elsewhere."""
    m, n = xp(a), a.shape[-1]
    flat, dets = a.reshape(-1, n, n), m.reshape(det, -1)
    out = m.empty_like(flat)
    regular = dets != 0
    if regular.any():
        out[regular] = dets[regular, None, None] * mT(m.linalg.inv(flat[regular]))
    if not regular.all():
        u, s, vh = m.linalg.svd(flat[~regular])
        ones = m.ones_like(s[:, :1])
        before = m.cumprod(m.concatenate([ones, s[:, :-1]], axis=1), axis=1)
        after = m.cumprod(m.concatenate([ones, s[:, :0:-1]], axis=1), axis=1)[:, ::-1]
        sign = m.linalg.det(u) * m.linalg.det(vh)
        out[~regular] = sign[:, None, None] * (u * (before * after)[:, None, :]) @ vh
    return out.reshape(a.shape)


class LogAbsDet(Op):
    """y = log|det A| for A (..., n, n) (−inf at a singular matrix).

    dL/dA = dL/dy · A⁻ᵀ (NaN at a singular matrix)."""

    def forward(self, a):
        self.a = a
        return xp(a).linalg.slogdet(a)[1]

    def backward(self, grad):
        return (grad[..., None, None] * mT(inverse_where_regular(self.a)),)

    def backward_graph(self, grad, a):
        return (grad[..., None, None] * Inverse.apply(a, name="linalg.slogdet").mT,)
