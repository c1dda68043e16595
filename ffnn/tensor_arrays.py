"""Tensor methods that rearrange, select from or summarise arrays beyond the common ones
(``ffnn.functions_arrays`` has their function forms)."""

from __future__ import annotations


class ArrayTensorMethods:
    """Mixed into ``ffnn.Tensor``."""
