"""Functions of a whole matrix, as ops with hand-written backwards: the pseudo-inverse A⁺
and the exponential exp(A). Matrices are in the last two dimensions, a batch in the others;
each ``backward_graph`` calls the op again, so higher derivatives follow."""

from __future__ import annotations

import numpy as np

from ffnn.autograd import Op
from ffnn.backend import xp
from ffnn.ops.shape import Concatenate
from ffnn.ops.triangular import mT

PADE13 = (64764752532480000.0, 32382376266240000.0, 7771770303897600.0, 1187353796428800.0,
          129060195264000.0, 10559470521600.0, 670442572800.0, 33522128640.0, 1323241920.0,
          40840800.0, 960960.0, 16380.0, 182.0, 1.0)
"""The coefficients of the [13/13] Padé approximant of exp (Higham, 2005)."""
THETA13 = 5.371920351148152
"""The largest 1-norm at which that approximant is exact to double precision."""


def pinv_array(a, atol, rtol, hermitian: bool = False):
    """A⁺ = V·diag(1/sᵢ)·Uᵀ from the SVD A = U·diag(s)·Vᵀ, the sᵢ ≤ max(atol, rtol·s_max)
    taken as zero (from the eigendecomposition and |λᵢ| when ``hermitian``). ``atol`` and
    ``rtol`` broadcast against the batch."""
    m = xp(a)
    if min(a.shape[-2:]) == 0:
        return m.zeros(a.shape[:-2] + (a.shape[-1], a.shape[-2]), dtype=a.dtype)
    if hermitian:
        values, vectors = m.linalg.eigh(a)
        magnitudes, left, right = m.abs(values), vectors, mT(vectors)
    else:
        left, values, right = m.linalg.svd(a, full_matrices=False)
        magnitudes = values
    top = magnitudes.max(axis=-1, keepdims=True)
    tolerance = m.maximum(m.asarray(atol)[..., None], m.asarray(rtol)[..., None] * top)
    kept = magnitudes > tolerance
    inverse = m.where(kept, 1 / m.where(kept, values, 1), 0).astype(a.dtype)
    return (mT(right) * inverse[..., None, :]) @ mT(left)


def pinv_backward(grad, pinv, a, transpose):
    """dL/dA for A⁺ (see ``Pinv``), on arrays or tensors (``transpose`` swaps the last two
    axes of either)."""
    pinv_t, grad_t = transpose(pinv), transpose(grad)
    first = -(pinv_t @ grad @ pinv_t)
    second = (grad_t - a @ (pinv @ grad_t)) @ (pinv @ pinv_t)
    third = (pinv_t @ pinv) @ (grad_t - (grad_t @ pinv) @ a)
    return first + second + third


class Pinv(Op):
    """A⁺ for A (..., m, n) (``pinv_array``).

    dL/dA = −A⁺ᵀ·G·A⁺ᵀ + (I − A·A⁺)·Gᵀ·A⁺·A⁺ᵀ + A⁺ᵀ·A⁺·Gᵀ·(I − A⁺·A), G = dL/dA⁺ (Golub and
    Pereyra, 1973; torch's pinv_backward): exact where the rank stays constant."""

    def forward(self, a, atol=0.0, rtol=0.0, hermitian=False):
        self.a, self.pinv = a, pinv_array(a, atol, rtol, hermitian)
        return self.pinv

    def backward(self, grad):
        return (pinv_backward(grad, self.pinv, self.a, mT),)

    def backward_graph(self, grad, a):
        pinv = Pinv.apply(a, **self.options)
        return (pinv_backward(grad, pinv, a, lambda t: t.mT),)


def matrix_exp_array(a):
    """exp(A) by scaling and squaring: A/2ˢ with ‖A/2ˢ‖₁ ≤ θ₁₃, the [13/13] Padé approximant
    r = (V − U)⁻¹·(V + U), then r squared s times (s per matrix)."""
    m, n = xp(a), a.shape[-1]
    if n == 0:
        return a.copy()
    norms = m.abs(a).sum(axis=-2).max(axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        squarings = m.ceil(m.log2(norms / THETA13))
    squarings = m.where(m.isfinite(squarings) & (squarings > 0), squarings, 0).astype(np.int64)
    scaled = a / (2.0 ** squarings)[..., None, None].astype(a.dtype)
    b, identity = PADE13, m.eye(n, dtype=a.dtype)
    a2 = scaled @ scaled
    a4 = a2 @ a2
    a6 = a4 @ a2
    u = scaled @ (a6 @ (b[13] * a6 + b[11] * a4 + b[9] * a2) + b[7] * a6 + b[5] * a4
                  + b[3] * a2 + b[1] * identity)
    v = a6 @ (b[12] * a6 + b[10] * a4 + b[8] * a2) + b[6] * a6 + b[4] * a4 + b[2] * a2 \
        + b[0] * identity
    out = m.linalg.solve(v - u, v + u)
    for step in range(int(squarings.max(initial=0))):
        out = m.where((squarings > step)[..., None, None], out @ out, out)
    return out


class MatrixExp(Op):
    """exp(A) = Σₖ Aᵏ/k! for A (..., n, n) (``matrix_exp_array``).

    dL/dA = the upper-right block of exp([[Aᵀ, G], [0, Aᵀ]]), G = dL/dexp(A): the Fréchet
    derivative of exp at Aᵀ in the direction G (Mathias, 1996)."""

    def forward(self, a):
        self.a = a
        return matrix_exp_array(a)

    def backward(self, grad):
        m, n = xp(grad), grad.shape[-1]
        a_t = mT(self.a)
        top = m.concatenate([a_t, grad], axis=-1)
        bottom = m.concatenate([m.zeros_like(a_t), a_t], axis=-1)
        block = m.concatenate([top, bottom], axis=-2)
        return (matrix_exp_array(block)[..., :n, n:],)

    def backward_graph(self, grad, a):
        n, a_t = grad.shape[-1], a.mT
        top = Concatenate.apply(a_t, grad, dim=-1)
        bottom = Concatenate.apply(a_t * 0, a_t, dim=-1)
        block = Concatenate.apply(top, bottom, dim=-2)
        return (MatrixExp.apply(block)[..., :n, n:],)
