"""Factorisations (``cholesky``, ``qr``, ``eigh``, ``svd``) and what is read off them
(``pinv``, ``lstsq``, ``matrix_rank``)."""

from __future__ import annotations

import numpy as np

from ffnn.backend import xp
from ffnn.linalg.checks import (
    CholeskyExResult,
    EighResult,
    LstsqResult,
    QrResult,
    SvdResult,
    _check_same_dtype,
    _out,
    _plain,
    check_matrices,
)
from ffnn.ops.decompositions import (
    Cholesky,
    LinAlgError,
)
from ffnn.ops.matrix_functions import Pinv
from ffnn.ops.spectral import Eigh, Qr, Svd, unpack
from ffnn.ops.triangular import cholesky_failures
from ffnn.tensor import Tensor
from ffnn.tensor_inplace import _torch_name


def cholesky(A: Tensor, *, upper: bool = False, out=None) -> Tensor:
    """L with A = L·Lᵀ (lower, A's lower triangle read) or U = Lᵀ with A = Uᵀ·U when
    ``upper``; ``LinAlgError`` for a matrix that is not positive-definite."""
    check_matrices("linalg.cholesky", A)
    factor = Cholesky.apply(A)
    return _out(factor.mT if upper else factor, out, "linalg.cholesky")


def cholesky_ex(A: Tensor, *, upper: bool = False, check_errors: bool = False) -> tuple:
    """(L, info): info (int32) the order of the first leading minor that is not positive-
    definite, 0 where the factor exists; NaN factors there (no error unless
    ``check_errors``)."""
    check_matrices("linalg.cholesky_ex", A)
    try:
        factor = cholesky(A, upper=upper)
    except LinAlgError:
        if check_errors:
            raise
        info = cholesky_failures(A._data)
        data = np.full(A.shape, np.nan, A._data.dtype)
        data[info == 0] = xp(A._data).linalg.cholesky(A._data[info == 0])
        factor = _plain(np.swapaxes(data, -2, -1) if upper else data)
        return CholeskyExResult(factor, _plain(info.astype(np.int32)))
    return CholeskyExResult(factor, _plain(np.zeros(A.shape[:-2], np.int32)))


def qr(A: Tensor, mode: str = "reduced") -> tuple:
    """(Q, R) with A = Q·R for A (..., m, n): Q (..., m, k) orthonormal columns, R (..., k, n)
    upper-triangular, k = min(m, n) ('reduced') or m ('complete'); 'r' gives an empty Q."""
    check_matrices("linalg.qr", A, square=False)
    if mode not in ("reduced", "complete", "r"):
        raise RuntimeError(f"qr received unrecognized mode '{mode}' but expected one of "
                           "'reduced' (default), 'r', or 'complete'")
    computed = "reduced" if mode == "r" else mode
    q, r = unpack(Qr.apply(A, mode=computed), Qr.shapes(tuple(A.shape), computed))
    if mode == "r":
        q = _plain(np.zeros(0, A._data.dtype))
    return QrResult(q, r)


def eigh(A: Tensor, UPLO: str = "L") -> tuple:  # noqa: N803 - torch's name
    """(eigenvalues, eigenvectors) of symmetric matrices A (..., n, n), reading the ``UPLO``
    triangle: eigenvalues ascending (..., n), eigenvectors the columns (each up to sign)."""
    check_matrices("linalg.eigh", A)
    if UPLO not in ("L", "U"):
        raise RuntimeError(f"Expected UPLO argument to be 'L' or 'U', but got {UPLO}")
    vectors, values = unpack(Eigh.apply(A, uplo=UPLO), Eigh.shapes(tuple(A.shape)))
    return EighResult(values, vectors)


def eigvalsh(A: Tensor, UPLO: str = "L") -> Tensor:  # noqa: N803 - torch's name
    """The eigenvalues of symmetric matrices A, ascending (``eigh``'s first output)."""
    return eigh(A, UPLO).eigenvalues


def svd(A: Tensor, full_matrices: bool = True, *, driver=None) -> tuple:
    """(U, S, Vh) with A = U·diag(S)·Vh for A (..., m, n), S descending (..., k), k = min(m,
    n); U (..., m, m) and Vh (..., n, n) when ``full_matrices``, else (..., m, k), (..., k,
    n). Singular vectors are unique up to sign."""
    check_matrices("linalg.svd", A, square=False)
    full = bool(full_matrices)
    u, s, vh = unpack(Svd.apply(A, full_matrices=full), Svd.shapes(tuple(A.shape), full))
    return SvdResult(u, s, vh)


def svdvals(A: Tensor, *, driver=None) -> Tensor:
    """The singular values of A (..., m, n), descending (..., min(m, n))."""
    check_matrices("linalg.svdvals", A, square=False)
    return svd(A, full_matrices=False).S


def _tolerances(A: Tensor, atol, rtol) -> tuple:
    """torch's (atol, rtol) for ``pinv`` and ``matrix_rank``: rtol defaults to eps·max(m, n),
    or 0 where atol > 0 is given."""
    def as_array(t):
        return None if t is None else np.asarray(t._data if isinstance(t, Tensor) else t,
                                                 dtype=A._data.dtype)

    atol, rtol = as_array(atol), as_array(rtol)
    default = np.finfo(A._data.dtype).eps * max(A.shape[-2:])
    if rtol is None:
        rtol = np.asarray(default) if atol is None else np.where(atol > 0, 0.0, default)
    return (np.asarray(0.0) if atol is None else atol), rtol


def pinv(A: Tensor, rcond=None, hermitian: bool = False, *, atol=None, rtol=None,
         out=None) -> Tensor:
    """A⁺ (..., n, m) of A (..., m, n) from its SVD (its eigendecomposition when
    ``hermitian``), singular values ≤ max(atol, rtol·σ_max) taken as zero; ``rcond`` is
    torch's older name for ``rtol``."""
    if not isinstance(A, Tensor) or A.ndim < 2 or A._data.dtype.char not in "fd":
        what = f"{_torch_name(A.dtype)}{{{list(A.shape)}}}" if isinstance(A, Tensor) else A
        raise RuntimeError(f"linalg.pinv({what}): expected a tensor with 2 or more dimensions "
                           "of float, double, cfloat or cdouble types")
    atol, rtol = _tolerances(A, atol, rcond if rtol is None else rtol)
    result = Pinv.apply(A, atol=atol, rtol=rtol, hermitian=bool(hermitian))
    return _out(result, out, "linalg.pinv")


def lstsq(A: Tensor, B: Tensor, rcond=None, *, driver=None) -> tuple:
    """The least-squares solution X = argmin ‖A·X − B‖_F for A (..., m, n) and B (..., m, k)
    or (..., m), as the minimum-norm A⁺·B (singular values ≤ rcond·σ_max dropped; rcond
    defaults to eps·max(m, n)); its gradient is A⁺'s. rank is given unless driver='gels';
    residuals ‖A·X − B‖² per column when m > n, A has full rank and driver ≠ 'gelsy';
    singular_values for 'gelsd' and 'gelss', as torch's."""
    name = "torch.linalg.lstsq"
    check_matrices(name, A, square=False, arg="input")
    _check_same_dtype(name, A, B)
    if not 0 <= A.ndim - B.ndim <= 1:
        raise RuntimeError(f"{name}: input.dim() must be greater or equal to other.dim() and "
                           "(input.dim() - other.dim()) <= 1")
    driver = "gelsy" if driver is None else driver
    if driver not in ("gels", "gelsy", "gelsd", "gelss"):
        raise RuntimeError(f"{name}: parameter `driver` should be one of (gels, gelsy, gelsd, "
                           "gelss)")
    b = B.unsqueeze(-1) if B.ndim == A.ndim - 1 else B
    if b.shape[-2] != A.shape[-2]:
        raise RuntimeError(f"{name}: input.size(-2) should match other.size(-2)")
    m, n = A.shape[-2:]
    rtol = np.finfo(A._data.dtype).eps * max(m, n) if rcond is None or rcond < 0 else rcond
    solution = Pinv.apply(A, atol=0.0, rtol=np.asarray(rtol)) @ b
    values = xp(A._data).linalg.svd(A._data, compute_uv=False)
    rank = (values > rtol * values[..., :1]).sum(-1) if min(m, n) else np.zeros(A.shape[:-2])
    empty = _plain(np.zeros(0, A._data.dtype))
    residuals = empty
    if m > n and driver != "gelsy" and (rank == n).all():
        residuals = _plain((((A @ solution - b).detach()) ** 2).sum(-2)._data)
    return LstsqResult(solution.squeeze(-1) if b is not B else solution, residuals,
                       _plain(rank.astype(np.int64) if driver != "gels" else np.zeros(0, np.int64)),
                       _plain(values) if driver in ("gelsd", "gelss") else empty)


def matrix_rank(A: Tensor, tol=None, hermitian: bool = False, *, atol=None,
                rtol=None) -> Tensor:
    """The number of singular values (|eigenvalues| when ``hermitian``) of each matrix above
    max(atol, rtol·σ_max) (int64); ``tol`` is torch's older name for ``atol``."""
    check_matrices("linalg.matrix_rank", A, square=False)
    if tol is not None:
        atol, rtol = tol, 0.0 if rtol is None else rtol
    atol, rtol = _tolerances(A, atol, rtol)
    if hermitian:
        values = np.abs(xp(A._data).linalg.eigvalsh(A._data))
    else:
        values = xp(A._data).linalg.svd(A._data, compute_uv=False)
    if values.shape[-1] == 0:
        return _plain(np.zeros(A.shape[:-2], np.int64))
    top = values.max(axis=-1, keepdims=True)
    threshold = np.maximum(atol[..., None], rtol[..., None] * top)
    return _plain((values > threshold).sum(axis=-1).astype(np.int64))
