"""``Buffer`` (torch 2.5+'s ``nn.Buffer``): a tensor marked to be registered as a buffer when it
is assigned to a module attribute (``self.running = nn.Buffer(x)``), as ``register_buffer``
does. It imports nothing from ``Module`` so that ``Module.__setattr__`` can test for it."""

from __future__ import annotations

import numpy as np

from ffnn import dtypes
from ffnn.tensor import Tensor


class _BufferMeta(type):
    """``isinstance(t, Buffer)`` is True for any tensor that ``Buffer(...)`` marked (torch's
    trick: ``Buffer(x)`` returns a plain tensor, not an instance of the class)."""

    def __instancecheck__(cls, instance) -> bool:
        if cls is Buffer:
            return isinstance(instance, Tensor) and getattr(instance, "_is_buffer", False)
        return super().__instancecheck__(instance)


class Buffer(Tensor, metaclass=_BufferMeta):
    """``Buffer(data, persistent=True)``: ``data`` detached (sharing its memory, keeping its
    ``requires_grad``), marked as a buffer; ``persistent=False`` keeps it out of
    ``state_dict``. Array-likes are accepted too (read as ``ffnn.tensor`` reads them).
    Returns a ``Tensor``, as torch's."""

    def __new__(cls, data=None, *, persistent: bool = True) -> Tensor:
        if data is None:
            data = Tensor._of(np.empty(0, dtype=dtypes.get_default_dtype()))
        elif not isinstance(data, Tensor):
            from ffnn.creation import tensor as as_tensor  # (ffnn.tensor's rules for lists)

            data = as_tensor(data)
        tensor = data.detach()
        if data.requires_grad:
            tensor.requires_grad_(True)
        tensor.persistent = bool(persistent)
        tensor._is_buffer = True
        return tensor
