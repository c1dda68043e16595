"""The decompositions with several outputs, as ops with hand-written backwards: the
symmetric eigendecomposition, the SVD and the QR factorisation.

An op has one output, so each returns its factors packed flat, one after the other, and
``unpack`` cuts them out as tensors (slices, so each factor's gradient lands in its segment
of the packed gradient; a factor nobody used gets zeros). Matrices are in the last two
dimensions, a batch in the others.
"""

from __future__ import annotations

from ffnn.autograd import Op
from ffnn.backend import xp
from ffnn.ops.triangular import mT, solve_triangular_arrays


def pack(*arrays):
    """The arrays raveled and concatenated into one flat array."""
    m = xp(arrays[0])
    return m.concatenate([m.reshape(a, -1) for a in arrays])


def unpack(packed, shapes: list) -> list:
    """The factors from ``packed`` (an array, or a packed op's output tensor: then tensors in
    its graph), given their shapes."""
    out, start = [], 0
    for shape in shapes:
        size = 1
        for n in shape:
            size *= n
        out.append(packed[start:start + size].reshape(tuple(shape)))
        start += size
    return out


def _diag_embed(v):
    """Each last-axis vector of ``v`` on the diagonal of a square matrix."""
    m, n = xp(v), v.shape[-1]
    out = m.zeros(v.shape + (n,), dtype=v.dtype)
    steps = m.arange(n)
    out[..., steps, steps] = v
    return out


def _off_diagonal(numerator, denominator):
    """numerator / denominator off the diagonal, 0 on it (where the denominator is 0)."""
    m, n = xp(numerator), numerator.shape[-1]
    steps = m.arange(n)
    denominator = denominator.copy()
    denominator[..., steps, steps] = 1
    out = numerator / denominator
    out[..., steps, steps] = 0
    return out


class Eigh(Op):
    """A = V·diag(λ)·Vᵀ for a symmetric A (..., n, n) (its ``UPLO`` triangle is read), λ
    ascending; packed as (V, λ) (``shapes``).

    dL/dA = V·(F ∘ ½(Vᵀ·dL/dV − (dL/dV)ᵀ·V) + diag(dL/dλ))·Vᵀ with Fᵢⱼ = 1/(λⱼ − λᵢ) off the
    diagonal (torch's formula; only the eigenvalues' term when dL/dV is 0)."""

    @staticmethod
    def shapes(a_shape: tuple) -> list:
        return [a_shape, a_shape[:-1]]

    def forward(self, a, uplo="L"):
        self.values, self.vectors = xp(a).linalg.eigh(a, UPLO=uplo)
        return pack(self.vectors, self.values)

    def backward(self, grad):
        vectors = self.vectors
        grad_vectors, grad_values = unpack(grad, self.shapes(vectors.shape))
        inner = _diag_embed(grad_values)
        if grad_vectors.any():
            projected = mT(vectors) @ grad_vectors
            gaps = self.values[..., None, :] - self.values[..., :, None]
            inner = inner + _off_diagonal(0.5 * (projected - mT(projected)), gaps)
        return (vectors @ inner @ mT(vectors),)


class Svd(Op):
    """A = U·diag(S)·Vh for A (..., m, n), S descending; packed as (U, S, Vh), U (..., m, k)
    and Vh (..., k, n) with k = min(m, n), or square when ``full_matrices``.

    With E_ij = sⱼ² − sᵢ², J = Uᵀ·dL/dU − (dL/dU)ᵀ·U, K = Vh·dL/dVhᵀ − dL/dVh·Vhᵀ:
    dL/dA = U·(J·S/E + S·K/E + diag(dL/dS))·Vh + (I − U·Uᵀ)·dL/dU·S⁻¹·Vh
    + U·S⁻¹·dL/dVh·(I − Vhᵀ·Vh) (torch's svd_backward, real case). As torch, the columns
    past k of a full U or Vh carry no gradient."""

    @staticmethod
    def shapes(a_shape: tuple, full_matrices: bool = False) -> list:
        *batch, m, n = a_shape
        k = min(m, n)
        u_cols, vh_rows = (m, n) if full_matrices else (k, k)
        return [(*batch, m, u_cols), (*batch, k), (*batch, vh_rows, n)]

    def forward(self, a, full_matrices=False):
        self.u, self.s, self.vh = xp(a).linalg.svd(a, full_matrices=full_matrices)
        self.full = full_matrices
        return pack(self.u, self.s, self.vh)

    def backward(self, grad):
        full_shapes = self.shapes(self.u.shape[:-2] + (self.u.shape[-2], self.vh.shape[-1]),
                                  self.full)
        grad_u, grad_s, grad_vh = unpack(grad, full_shapes)
        k = self.s.shape[-1]
        u, vh = self.u[..., :k], self.vh[..., :k, :]
        return (svd_backward(grad_u[..., :k], grad_s, grad_vh[..., :k, :], u, self.s, vh),)


def svd_backward(grad_u, grad_s, grad_vh, u, s, vh):
    """dL/dA of the reduced SVD A = U·diag(S)·Vh (see ``Svd``)."""
    m, n = u.shape[-2], vh.shape[-1]
    if not grad_u.any() and not grad_vh.any():  # the singular values only: U·diag(gS)·Vh
        return (u * grad_s[..., None, :]) @ vh
    j, k = mT(u) @ grad_u, vh @ mT(grad_vh)
    j, k = j - mT(j), k - mT(k)
    squares = s * s
    gaps = squares[..., None, :] - squares[..., :, None]
    inner = _off_diagonal(j * s[..., None, :] + s[..., :, None] * k, gaps)
    inner = inner + _diag_embed(grad_s)
    if m > n:
        scaled = grad_u / s[..., None, :]
        return (u @ inner + scaled - u @ (mT(u) @ scaled)) @ vh
    if m < n:
        scaled = grad_vh / s[..., :, None]
        return u @ (inner @ vh + scaled - (scaled @ mT(vh)) @ vh)
    return u @ inner @ vh


class Qr(Op):
    """A = Q·R for A (..., m, n), Q with orthonormal columns, R upper-triangular (LAPACK's
    Householder signs, as torch); packed as (Q, R); ``mode`` 'reduced' (k = min(m, n)
    columns of Q) or 'complete' (Q square).

    m ≥ n: dL/dA = (dL/dQ + Q·copyltu(M))·R⁻ᵀ, M = R·dL/dRᵀ − dL/dQᵀ·Q, copyltu(M) =
    tril(M) + tril(M, −1)ᵀ. m < n, A = [X | Y], R = [U | V]: dL/dY = Q·dL/dV and dL/dX
    the square case's with dL/dQ + Y·dL/dVᵀ, dL/dU."""

    @staticmethod
    def shapes(a_shape: tuple, mode: str = "reduced") -> list:
        *batch, m, n = a_shape
        k = m if mode == "complete" else min(m, n)
        return [(*batch, m, k), (*batch, k, n)]

    def forward(self, a, mode="reduced"):
        self.q, self.r = xp(a).linalg.qr(a, mode=mode)
        self.a_right = a[..., a.shape[-2]:]  # Y, the columns past the m-th of a wide A
        return pack(self.q, self.r)

    def backward(self, grad):
        q, r = self.q, self.r
        m, n = q.shape[-2], r.shape[-1]
        if q.shape[-1] > n:
            raise RuntimeError("The QR decomposition is not differentiable when "
                               "mode='complete' and nrows > ncols.")
        grad_q, grad_r = unpack(grad, [q.shape, r.shape])
        if m >= n:
            return (_qr_backward_tall(grad_q, grad_r, q, r),)
        y, grad_v = self.a_right, grad_r[..., m:]
        grad_x = _qr_backward_tall(grad_q + y @ mT(grad_v), grad_r[..., :m], q, r[..., :m])
        return (xp(grad).concatenate([grad_x, q @ grad_v], axis=-1),)


def _qr_backward_tall(grad_q, grad_r, q, r):
    """dL/dA of A = Q·R with m ≥ n (see ``Qr``)."""
    middle = r @ mT(grad_r) - mT(grad_q) @ q
    tril = xp(middle).tril
    copied = tril(middle) + mT(tril(middle, -1))  # copyltu(M)
    return solve_triangular_arrays(r, grad_q + q @ copied, True, left=False, transpose=True)
