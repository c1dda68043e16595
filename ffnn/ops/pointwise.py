"""``Pointwise``: an element-wise op's forward and backward formulas, compiled from one text.

An activation writes its formula once, on one element: the forward computes ``y`` (and the
values its backward keeps, ``saved``) from ``x``; the backward computes ``grad_input`` from
``grad`` and the saved values. ``ffnn.kernels`` generates one compiled loop from each; the
NumPy code of the op stays the reference (and what runs without numba). A forward no backward
follows (inference, ``no_grad``) runs a third loop from the same statements that writes ``y``
alone: the values kept for a backward are the loop's locals, never written to memory.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from ffnn.accel import COSTLY_SPLIT_MIN, PYTHON_SPLIT_MIN, SPLIT_MIN
from ffnn.kernels import ElementwiseKernel
from ffnn.kernels.elementwise import TRANSCENDENTALS


class Pointwise:
    """``Pointwise(name, forward=..., saved=(...), backward=..., scalars=(), dtypes={})``.

    ``saved``: names the backward reads, each ``x``, ``y`` or a value the forward assigns;
    ``dtypes``: a saved value's array dtype when not the input's (e.g. ``bool`` for a mask);
    ``inference``: the statements computing ``y`` alone where they differ from ``forward``'s
    (default: ``forward``'s, its kept values then locals).
    """

    def __init__(self, name: str, *, forward: str, saved: tuple[str, ...], backward: str,
                 scalars: tuple[str, ...] = (), dtypes: Mapping[str, type] | None = None,
                 inference: str | None = None):
        self.name, self.saved, self.scalars = name, tuple(saved), tuple(scalars)
        self.dtypes = dict(dtypes or {})
        self.kept = tuple(s for s in self.saved if s not in ("x", "y"))
        self.kept_dtypes = tuple(self.dtypes.get(s) for s in self.kept)  # None: x's dtype
        self.saved_attributes = tuple(f"saved_{s}" for s in self.saved)  # on the op
        self.forward_kernel = ElementwiseKernel(
            f"{name}_forward", reads=("x",), writes=("y", *self.kept), body=forward,
            scalars=self.scalars)
        self.backward_kernel = ElementwiseKernel(
            f"{name}_backward", reads=("grad", *self.saved), writes=("grad_input",),
            body=backward, scalars=self.scalars)
        self.inference_kernel = ElementwiseKernel(
            f"{name}_inference", reads=("x",), writes=("y",), body=inference or forward,
            scalars=self.scalars)
        self._entry_points: dict[str, tuple[int, int]] = {}
        self._inference_entries: dict[str, int] = {}
        self.forward_split_min = SPLIT_MIN if any(
            name in forward for name in TRANSCENDENTALS) else PYTHON_SPLIT_MIN
        """Elements from which the forward is split over OpenBLAS's threads: a forward with
        an exp, tanh, log1p or Φ (~1 ns an element) gains from 65,536 on (tanh on 131,072
        float32 right after a product: 125 µs whole, 77 split); ReLU's, and every backward,
        only from ``PYTHON_SPLIT_MIN``."""
        self.compiled_split_min = tuple(
            COSTLY_SPLIT_MIN if any(name in body for name in TRANSCENDENTALS) else SPLIT_MIN
            for body in (forward, backward))
        """(forward, backward): elements from which a compiled chain or fused step splits
        them (``accel.COSTLY_SPLIT_MIN`` for a formula with a transcendental)."""

    def forward(self, x: np.ndarray, **scalars: float) -> tuple[np.ndarray, tuple]:
        """(y, the saved arrays in ``saved`` order) for a C-contiguous float array ``x``."""
        y = np.empty_like(x)
        kept = [np.empty(x.shape, dtype or x.dtype) for dtype in self.kept_dtypes]
        arrays = [x.reshape(-1), y.reshape(-1), *[k.reshape(-1) for k in kept]]  # its order
        self._run(self.forward_kernel, lambda: self.entries(x.dtype)[0], arrays, scalars,
                  self.forward_split_min)
        given = dict(zip(self.kept, kept), x=x, y=y)
        return y, tuple([given[s] for s in self.saved])

    def infer(self, x: np.ndarray, **scalars: float) -> np.ndarray:
        """y alone, for a C-contiguous float array ``x`` no backward will follow: one pass
        that reads x and writes y, split over OpenBLAS's threads as ``forward`` is."""
        y = np.empty_like(x)
        self._run(self.inference_kernel, lambda: self._inference_entry(x.dtype),
                  [x.reshape(-1), y.reshape(-1)], scalars, self.forward_split_min)
        return y

    def _inference_entry(self, dtype: np.dtype) -> int:
        found = self._inference_entries.get(dtype.char)
        if found is None:
            found = self._inference_entries[dtype.char] = self.inference_kernel.entry(dtype)
        return found

    def backward(self, grad: np.ndarray, saved: Sequence[np.ndarray],
                 **scalars: float) -> np.ndarray:
        """dL/dx from dL/dy (``grad``, shaped like x) and the forward's saved arrays (in
        ``saved`` order)."""
        grad_input = np.empty_like(grad)
        arrays = [grad.reshape(-1), *[a.reshape(-1) for a in saved], grad_input.reshape(-1)]
        self._run(self.backward_kernel, lambda: self.entries(grad.dtype)[1], arrays, scalars,
                  PYTHON_SPLIT_MIN)
        return grad_input

    def _run(self, kernel: ElementwiseKernel, entry, arrays: list, scalars: Mapping,
             minimum: int) -> None:
        """``kernel``'s loop on the flat ``arrays`` (the first one read), split over
        OpenBLAS's threads from ``minimum`` elements through ``entry()``, its entry point."""
        values = [float(scalars[s]) for s in self.scalars]
        first = arrays[0]
        if first.size < minimum or not split_call(entry(), arrays, values, minimum):
            kernel.loop(first.dtype)(first.size, *arrays, *values)

    def entries(self, dtype: np.dtype) -> tuple[int, int]:
        """The forward and backward kernels' entry points for arrays of ``dtype``, each kept
        value of its own dtype (for compiled callers and split calls:
        ``ffnn.compiler.fused``, ``ffnn.kernels.blas_split``)."""
        found = self._entry_points.get(dtype.char)
        if found is None:
            kinds = {name: kind for name, kind in zip(self.kept, self.kept_dtypes)
                     if kind is not None}
            found = self._entry_points[dtype.char] = (
                self.forward_kernel.entry(dtype, kinds), self.backward_kernel.entry(dtype, kinds))
        return found


def split_call(entry: int, arrays: list, values: list, minimum: int = PYTHON_SPLIT_MIN) -> bool:
    """``ffnn.kernels.blas_split.run_arrays`` (imported here: it needs numba): a kernel's C
    entry point on flat arrays, split over OpenBLAS's threads; False, running nothing, where
    the call should run whole."""
    from ffnn.kernels import blas_split

    return blas_split.run_arrays(entry, arrays, np.array(values or [0.0]), minimum=minimum)
