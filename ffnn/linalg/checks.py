"""The argument checks and result tuples the ``torch.linalg`` functions share."""

from __future__ import annotations

import numpy as np

from ffnn.out_argument import write_out
from ffnn.return_types import result_type
from ffnn.tensor import Tensor
from ffnn.tensor_inplace import _torch_name

SlogdetResult = result_type("linalg_slogdet", ["sign", "logabsdet"])
EighResult = result_type("linalg_eigh", ["eigenvalues", "eigenvectors"])
SvdResult = result_type("linalg_svd", ["U", "S", "Vh"])
QrResult = result_type("linalg_qr", ["Q", "R"])
LstsqResult = result_type("linalg_lstsq", ["solution", "residuals", "rank", "singular_values"])
InvExResult = result_type("linalg_inv_ex", ["inverse", "info"])
CholeskyExResult = result_type("linalg_cholesky_ex", ["L", "info"])
SolveExResult = result_type("linalg_solve_ex", ["result", "info"])


def _plain(array) -> Tensor:
    """A tensor of ``array`` outside any graph."""
    return Tensor._make(np.asarray(array), False, None)


def check_matrices(name: str, A, square: bool = True, arg: str = "A") -> None:
    """torch's errors for an argument that is not a float tensor of (square) matrices."""
    if not isinstance(A, Tensor):
        raise TypeError(f"{name}: argument '{arg}' must be a Tensor, not {type(A).__name__}")
    if A.ndim < 2:
        raise RuntimeError(f"{name}: The input tensor {arg} must have at least 2 dimensions.")
    if A._data.dtype.char not in "fd":
        what = "Low precision dtypes not supported." if A._data.dtype.kind == "f" else \
            "Expected a floating point or complex tensor as input."
        raise RuntimeError(f"{name}: {what} Got {_torch_name(A._data.dtype)}")
    if square and A.shape[-1] != A.shape[-2]:
        raise RuntimeError(f"{name}: A must be batches of square matrices, but they are "
                           f"{A.shape[-2]} by {A.shape[-1]} matrices")


def _check_same_dtype(name: str, A: Tensor, B) -> None:
    if not isinstance(B, Tensor):
        raise TypeError(f"{name}: argument 'B' must be a Tensor, not {type(B).__name__}")
    if B.dtype != A.dtype:
        raise RuntimeError(f"{name}: Expected A and B to have the same dtype, but found A of "
                           f"type {_torch_name(A.dtype)} and B of type {_torch_name(B.dtype)} "
                           "instead")


def _check_batches(name: str, A: Tensor, B: Tensor) -> None:
    try:
        np.broadcast_shapes(tuple(A.shape[:-2]), tuple(B.shape[:-2]))
    except ValueError:
        raise RuntimeError(f"{name}: the batch dimensions of A {list(A.shape[:-2])} and B "
                           f"{list(B.shape[:-2])} cannot be broadcast together") from None


def _out(result: Tensor, out, name: str) -> Tensor:
    """``result``, or ``result`` written into ``out`` as torch's ``out=``."""
    return result if out is None else write_out(out, result, name)
