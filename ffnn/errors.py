"""Exceptions of two types at once, where torch raises one type and ffnn (or NumPy under it)
raised another: a program's ``except RuntimeError`` (torch's) and an older
``except ValueError`` (ffnn's) both catch them."""

from __future__ import annotations


class RuntimeValueError(RuntimeError, ValueError):
    """torch's RuntimeError for a size or value mismatch (matmul, broadcasting, ``cat``,
    ``item()`` of many elements, a loss's target), a ValueError in ffnn's terms."""


class IndexValueError(IndexError, ValueError):
    """torch's IndexError for a class label out of range, a ValueError in ffnn's terms."""


class RuntimeIndexError(RuntimeError, IndexError):
    """torch's RuntimeError for an index out of range in ``gather``, an IndexError in
    NumPy's terms."""


class RuntimeTypeError(RuntimeError, TypeError):
    """torch's RuntimeError for an argument of the wrong dtype (an embedding's float
    indices), a TypeError in ffnn's terms."""
