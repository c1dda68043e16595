"""torch's function forms that rearrange, select from or summarise arrays beyond the common
ones, and the dtype and determinism helpers (their methods: ``ffnn.tensor_arrays``)."""

from __future__ import annotations

__all__: list[str] = []
