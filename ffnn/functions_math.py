"""torch's function forms of the element-wise mathematical functions beyond the common ones
(their methods: ``ffnn.tensor_math``)."""

from __future__ import annotations

__all__: list[str] = []
