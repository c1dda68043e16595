"""Tensor methods of the element-wise mathematical functions beyond the common ones
(``ffnn.functions_math`` has their function forms)."""

from __future__ import annotations


class MathTensorMethods:
    """Mixed into ``ffnn.Tensor``."""
