"""C entry points compiled when first asked for, not when their module is imported.

A ``numba.cfunc`` compiles as its decorator runs, with everything it calls: a module that
declares a float32 and a float64 entry point for each of its loops compiles both at import,
whether or not the program ever runs them (on an empty cache, a norm's parts of rows took
~10 s of the first ``ffnn demo``, whose network has no norm and is float32). A module instead
lists its entry points' Python functions and sets ``__getattr__ = on_first_use(...)``: reading
``module.part_f32`` compiles (or loads from numba's cache) that one entry point and keeps it in
the module, so later reads are plain attribute lookups.
"""

from __future__ import annotations

from collections.abc import Callable

import numba
import numpy as np
from numba import types

PART = types.void(*[types.int64] * 8)
"""The signature of the entry points ``blas_split`` and ``row_parts`` run on a part: eight
64-bit integers (a count, six addresses, the scalars' address)."""


def on_first_use(namespace: dict, functions: dict[str, Callable], signature=PART) -> Callable:
    """A module ``__getattr__`` for the module whose globals are ``namespace``: the name of a
    function of ``functions`` gives it compiled as a cfunc of ``signature`` (numba's disk cache
    on), stored in ``namespace`` under that name; any other name raises AttributeError."""

    def __getattr__(name: str):
        function = functions.get(name)
        if function is None:
            raise AttributeError(f"module {namespace['__name__']!r} has no attribute {name!r}")
        entry = namespace[name] = numba.cfunc(signature, cache=True)(function)
        return entry

    return __getattr__


def entry_point(module, name: str, dtype) -> int:
    """The address of ``module``'s entry point ``name`` for ``dtype``: ``{name}_f32`` for
    float32, ``{name}_f64`` for float64 (compiled on first use)."""
    return getattr(module, f"{name}_{'f64' if np.dtype(dtype).char == 'd' else 'f32'}").address
