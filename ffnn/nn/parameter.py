"""``Parameter``: a leaf tensor that a Module registers as learnable (``requires_grad=True``)."""

from __future__ import annotations

import numpy as np

from ffnn.tensor import Tensor


class Parameter(Tensor):
    """A learnable tensor. ``._data`` is its ndarray, ``.grad`` an ndarray of the same shape
    (or None). Optimizers update ``._data`` in place, so references to it stay valid."""

    def __init__(self, data=None, requires_grad: bool = True):
        if data is None:
            data = np.empty(0, dtype=np.float32)
        self._setup(data._data if isinstance(data, Tensor) else data, None, False)  # its dtype
        self.requires_grad_(requires_grad)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()

    def __reduce_ex__(self, protocol):
        return (Parameter, (self._data, self.requires_grad))
