"""Tensor methods a CPU library with real numbers answers simply, as torch answers them on
the CPU: where the tensor lives (``get_device() == -1``, not pinned, not shared, dense
``layout``), the conjugate transposes (``H``, ``mH``, ``adjoint()``: transposes of real
values), ``split_with_sizes``, ``vdot``, and the legacy constructor ``new``."""

from __future__ import annotations

import numpy as np


class Layout:
    """A tensor's memory layout: ffnn's are all ``strided`` (dense), as torch's default."""

    def __init__(self, name: str):
        self.name = name

    def __repr__(self) -> str:
        return f"torch.{self.name}"


strided = Layout("strided")


class ExtraTensorMethods:
    """``get_device``, ``is_pinned``, ``is_shared``, ``share_memory_``, ``is_inference``,
    ``is_sparse``, ``layout``, ``H``, ``mH``, ``adjoint``, ``split_with_sizes``, ``vdot``,
    ``new``."""

    def get_device(self) -> int:
        """-1: the CPU (torch's answer for a CPU tensor)."""
        return -1

    def is_pinned(self) -> bool:
        return False

    def is_shared(self) -> bool:
        return False

    def share_memory_(self):
        """The tensor itself (one process's memory; torch's no-op for a shared one)."""
        return self

    def is_inference(self) -> bool:
        """Whether this tensor was made inside ``inference_mode()``, as torch's."""
        return self._made_in_inference

    @property
    def is_sparse(self) -> bool:
        return False

    @property
    def layout(self) -> Layout:
        return strided

    @property
    def H(self):  # noqa: N802 - torch's name
        """The conjugate transpose of a matrix: its transpose (real values)."""
        if self.ndim > 2:
            raise RuntimeError(f"tensor.H is only supported on matrices (2-D tensors). Got "
                               f"{self.ndim}-D tensor.")
        return self.t() if self.ndim == 2 else self

    @property
    def mH(self):  # noqa: N802 - torch's name
        """The conjugate transpose of the last two dims: their transpose (real values)."""
        return self.mT

    def adjoint(self):
        return self.mT

    def split_with_sizes(self, split_sizes, dim: int = 0):
        """Pieces of the given sizes along ``dim`` (they must add up to its length)."""
        split_sizes = [int(s) for s in split_sizes]
        if sum(split_sizes) != self.shape[dim]:
            raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to "
                               f"{self.shape[dim]} (input tensor's size at dimension {dim}), "
                               f"but got split_sizes={split_sizes}")
        return self.split(split_sizes, dim)

    def vdot(self, other):
        """Σ conj(self)·other of two vectors: their dot product (real values)."""
        return self.dot(other)

    def new(self, *args, **kwargs):
        """torch's legacy constructor: ``new(2, 3)`` an uninitialised tensor of that shape,
        ``new([1, 2])`` one of those values, ``new()`` an empty one, in this tensor's dtype."""
        from ffnn import creation

        dtype = kwargs.pop("dtype", self.dtype)
        if len(args) == 1 and not isinstance(args[0], (int, np.integer)) and \
                not _is_size(args[0]):
            return creation.tensor(args[0], dtype=dtype, **kwargs)
        shape = tuple(args[0]) if len(args) == 1 and _is_size(args[0]) else args or (0,)
        return creation.empty(*shape, dtype=dtype, **kwargs)


def _is_size(value) -> bool:
    from ffnn.size import Size

    return isinstance(value, Size)
