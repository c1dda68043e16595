"""torch's function forms of random sampling (their methods: ``ffnn.tensor_sampling``)."""

from __future__ import annotations

__all__: list[str] = []
