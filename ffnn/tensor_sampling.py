"""Tensor methods that draw random samples (``ffnn.functions_sampling`` has their function
forms)."""

from __future__ import annotations


class SamplingTensorMethods:
    """Mixed into ``ffnn.Tensor``."""
