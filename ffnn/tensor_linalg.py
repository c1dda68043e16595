"""The linear-algebra methods of a tensor (``t.inverse()``, ``t.det()``, ``t.svd()`` …), as
torch's: each is the function of the same name in ``ffnn.functions_linalg`` on ``self``."""

from __future__ import annotations


def _functions():
    from ffnn import functions_linalg

    return functions_linalg


class LinalgTensorMethods:
    """Mixed into ``Tensor``: ``self`` is the matrix (or batch of matrices) A."""

    def inverse(self):
        """A⁻¹."""
        return _functions().inverse(self)

    def det(self):
        """det A."""
        return _functions().det(self)

    def logdet(self):
        """log det A (NaN where det A < 0)."""
        return _functions().logdet(self)

    def slogdet(self):
        """(sign, logabsdet) with det A = sign · exp(logabsdet)."""
        return _functions().slogdet(self)

    def pinverse(self, rcond: float = 1e-15):
        """A⁺, singular values ≤ rcond·σ_max taken as zero."""
        return _functions().pinverse(self, rcond)

    def matrix_power(self, n: int):
        """Aⁿ (n < 0 through A⁻¹)."""
        return _functions().matrix_power(self, n)

    def matrix_exp(self):
        """exp(A)."""
        return _functions().matrix_exp(self)

    def cholesky(self, upper: bool = False):
        """The Cholesky factor L (A = L·Lᵀ), or U (A = Uᵀ·U) when ``upper``."""
        return _functions().cholesky(self, upper)

    def cholesky_solve(self, input2, upper: bool = False):
        """A⁻¹·self for A given by its Cholesky factor ``input2``."""
        return _functions().cholesky_solve(self, input2, upper)

    def cholesky_inverse(self, upper: bool = False):
        """A⁻¹ for A given by its Cholesky factor ``self``."""
        return _functions().cholesky_inverse(self, upper)

    def svd(self, some: bool = True, compute_uv: bool = True):
        """(U, S, V) with A = U·diag(S)·Vᵀ."""
        return _functions().svd(self, some, compute_uv)

    def qr(self, some: bool = True):
        """(Q, R) with A = Q·R."""
        return _functions().qr(self, some)

    def triangular_solve(self, A, upper: bool = True, transpose: bool = False,  # noqa: N803
                         unitriangular: bool = False):
        """(X, A) with op(A)·X = self for a triangular A."""
        return _functions().triangular_solve(self, A, upper, transpose, unitriangular)
