"""``torch.linalg`` for ffnn: inverses, solves, determinants, factorisations (Cholesky, QR,
symmetric eigendecomposition, SVD), the pseudo-inverse and least squares, matrix functions
and norms, with torch's names, signatures, result tuples and errors.

Matrices are the last two dimensions of a tensor and the others a batch; float32 and
float64 keep their dtype. The differentiable primitives, each with its derivative beside
its forward, are in ``ffnn.ops.decompositions``, ``ffnn.ops.spectral`` and
``ffnn.ops.matrix_functions``; the rest here is composed from them, so gradients follow.
A singular or non-positive-definite input raises ``LinAlgError`` (a RuntimeError) with
torch's message.

vector_norm(x, ord) = (Σ |xᵢ|^ord)^(1/ord) over ``dim`` (all elements when None);
ord=inf is max |xᵢ|, ord=-inf is min |xᵢ|, ord=0 counts the non-zero entries. A finite ord
is one op (``ops.reductions.Norm``: at a zero vector its gradient is torch's 0, not 0/0).
"""

from ffnn.linalg.checks import (  # noqa: F401 - the result tuples and checks
    CholeskyExResult,
    EighResult,
    InvExResult,
    LstsqResult,
    QrResult,
    SlogdetResult,
    SolveExResult,
    SvdResult,
    check_matrices,
    result_type,
)
from ffnn.linalg.factorizations import (
    cholesky,
    cholesky_ex,
    eigh,
    eigvalsh,
    lstsq,
    matrix_rank,
    pinv,
    qr,
    svd,
    svdvals,
)
from ffnn.linalg.matrix_functions import (
    cross,
    diagonal,
    matmul,
    matrix_exp,
    matrix_power,
    multi_dot,
    tensorinv,
    tensorsolve,
    vander,
    vecdot,
)
from ffnn.linalg.norms import cond, matrix_norm, norm, vector_norm
from ffnn.linalg.solves import det, inv, inv_ex, slogdet, solve, solve_ex, solve_triangular
from ffnn.ops.decompositions import LinAlgError

__all__ = [
    "LinAlgError", "cholesky", "cholesky_ex", "cond", "cross", "det", "diagonal", "eigh",
    "eigvalsh", "inv", "inv_ex", "lstsq", "matmul", "matrix_exp", "matrix_norm",
    "matrix_power", "matrix_rank", "multi_dot", "norm", "pinv", "qr", "slogdet", "solve",
    "solve_ex", "solve_triangular", "svd", "svdvals", "tensorinv", "tensorsolve", "vander",
    "vecdot", "vector_norm",
]
