"""A chain of Linear layers and activations, forward and backward as one compiled call each.

The eager chain node (``ffnn.nn.chain_call``) and the chain step (``ffnn.compiler.chain``:
``ffnn.compile``'s replay, the Trainer) give such a chain to :class:`NativeChain`: Linear
layers, each followed by at most one activation with a ``Pointwise`` formula, after an
optional ``Flatten()``, every parameter needing its gradient and the input none (data, as
in a training step). Per layer the Python work was a Function, its checks, a kernel call for
the bias and one for the activation, each way; on a small network it was most of the step.
Here the forward is one call (``_chain_kernel.forward``) writing every layer's
pre-activation, output and kept values into one workspace made per call (held by the graph
until its backward), and the backward one more, writing each parameter's gradient into
arrays of its own.

The arithmetic is the fused step's (``ffnn.compiler._fused_kernel``): NumPy's BLAS for
products from ``BLAS_MIN_PRODUCT`` multiply-adds and loops below, the activations' generated
loops, the bias gradient summed over the rows in order. So the chain agrees with the
per-layer graph to rounding, not bit for bit (its small products are BLAS's, its
activations below a few hundred elements NumPy's), and the eager step and its replay, which
both run it, compute the same bits.
"""

from __future__ import annotations

from operator import is_

import numpy as np

from ffnn import accel
from ffnn.accel import SPLIT_MIN
from ffnn.compiler import _fused_kernel as layout
from ffnn.compiler import fused
from ffnn.kernels import blas_split, native
from ffnn.ops import activations, matrix
from ffnn.ops.activations import PointwiseOp
from ffnn.ops.shape import FlattenFeatures

ALIGN = 64
"""Bytes each buffer of the workspace starts on (a cache line)."""
MAX_ELEMENTS = SPLIT_MIN
"""Rows × the widest layer below which a chain runs natively: there the per-layer Python
work is most of the step (64-32-32-10 tanh on 32 rows, Adam: 0.23 → 0.18 ms a step;
50-200-200-200-10 GELU on 64 rows, RMSprop: 0.80 → 0.62 ms). From it the layers' own ops
are as quick (their bias gradients a threaded BLAS product, their splits set per op), and
they keep the per-layer graph's bits."""
_SIZES_KEPT = 8
"""Batch sizes whose workspace layout and scratch a chain keeps (then it starts again)."""
_FORWARD_IS_FORMULA = {PointwiseOp.forward, activations.ReLU.forward,
                       activations.GELU.forward}
"""``forward`` methods that compute the op's formula when a gradient is needed (ReLU's own
differs only without one, GELU's checks its option first)."""


class NativeChain:
    """The compiled forward and backward of one chain (see the module docstring) for its
    parameters' arrays as they were when it was made: ``fits`` tells whether it still
    holds for a call, ``make`` whether a chain can be run so at all."""

    @classmethod
    def make(cls, layers: list, params: list) -> NativeChain | None:
        """The native chain of ``layers`` ((op class, takes parameters, options) each, as
        the chain node gets them) with ``params`` (each Linear's weight and bias arrays,
        None for an absent bias), or None where it is not such a chain."""
        if not layers or params[0] is None:
            return None
        dtype = params[0].dtype
        if dtype.char not in "fd" or not all(
                p is None or type(p) is np.ndarray and p.dtype == dtype and p.flags.c_contiguous
                for p in params):
            return None
        steps = layers[1:] if layers[0][0] is FlattenFeatures else layers
        activations_found, width = [], None
        for op, takes, options in steps:
            if op is matrix.Linear and takes and 2 * len(activations_found) < len(params):
                weight, bias = params[2 * len(activations_found):2 * len(activations_found) + 2]
                if weight is None or weight.ndim != 2 or width not in (None, weight.shape[1]) \
                        or bias is not None and bias.shape != weight.shape[:1]:
                    return None
                width = weight.shape[0]
                activations_found.append(None)
                continue
            found = _formula(op, options, dtype) if activations_found and \
                activations_found[-1] is None else None
            if found is None:
                return None
            activations_found[-1] = found
        if 2 * len(activations_found) != len(params):
            return None
        weights = params[0::2]
        if native.gemm_addresses() is None and \
                max(w.size for w in weights) > fused._LOOPS_ONLY_MAX:
            return None
        return cls(layers, params, activations_found)

    def __init__(self, layers: list, params: list, found: list):
        from ffnn.compiler import _chain_kernel

        self.layers, self.params = layers, list(params)
        self._forward_call, self._backward_call = _chain_kernel.forward, _chain_kernel.backward
        self._address = _chain_kernel.address
        self._output_offset = _chain_kernel.OUTPUT_OFFSET
        self.flattens = layers[0][0] is FlattenFeatures
        self.dtype = params[0].dtype
        self.activations = found
        weights = params[0::2]
        self.dims = np.array([w.shape for w in weights], np.int64)
        self.in_features, self.classes = int(self.dims[0, 1]), int(self.dims[-1, 0])
        self.widest = int(self.dims.max())
        blas = native.gemm_addresses()
        self.blas = 0 if blas is None else blas[self.dtype.char == "d"]
        self.name = layers[-1][0]().name
        self.keeps_output = found[-1] is not None and "y" in found[-1][0].for_dtype(
            self.dtype).saved
        self._entries = [fused.activation_entries(a, self.dtype, layout) for a in found]
        self._transposed = [np.empty(w.T.shape if self.blas == 0 or w.shape[1] == 1 or
                                     w.size < layout.BLAS_MIN_PRODUCT else (0, 0), self.dtype)
                            for w in weights]
        self._context = np.zeros(blas_split.CONTEXT, np.int64)
        self._template = self._make_template()
        self._grad_fields = np.array(
            [layout.FIELDS * layer + field for layer in range(len(weights))
             for field, p in ((layout.GRAD_WEIGHT, weights[layer]),
                              (layout.GRAD_BIAS, params[2 * layer + 1])) if p is not None],
            np.int64)
        self._layouts: dict[int, tuple] = {}
        self._scratch: dict[int, tuple] = {}

    def _make_template(self) -> np.ndarray:
        """The address table without the buffers of a call: each layer's parameters, its
        transposed-weight scratch, its activation's entry points and scalars."""
        table = np.zeros(layout.FIELDS * len(self.activations), np.int64)
        for layer, (entries, scratch) in enumerate(zip(self._entries, self._transposed)):
            at = layout.FIELDS * layer
            weight, bias = self.params[2 * layer], self.params[2 * layer + 1]
            table[at + layout.WEIGHT] = _address(weight)
            table[at + layout.BIAS] = 0 if bias is None else _address(bias)
            table[at + layout.TRANSPOSED] = _address(scratch) if scratch.size else 0
            table[at + layout.SCALARS] = _address(entries[0])
            table[at + layout.FORWARD:at + layout.SAVED + 4] = entries[1:]
            activation = self.activations[layer]
            if activation is not None:
                kept = activation[0].for_dtype(self.dtype).kept_dtypes
                for i, kind in enumerate(kept):
                    table[at + layout.KEPT_SIZES + i] = np.dtype(kind or self.dtype).itemsize
        return table

    def fits(self, layers: list, params: list) -> bool:
        """Whether this chain was made for these layers and these very parameter arrays."""
        return len(params) == len(self.params) and all(map(is_, params, self.params)) and \
            layers == self.layers

    def takes(self, x) -> bool:
        """Whether ``x`` is an input it runs: a C-contiguous NumPy array of its dtype, [n,
        in_features] (after a Flatten: [n, ...] of in_features values a row), 0 < n × the
        widest layer < ``MAX_ELEMENTS``."""
        if type(x) is not np.ndarray or x.dtype != self.dtype or not x.flags.c_contiguous or \
                x.ndim < 2 or not 0 < x.shape[0] * self.widest < MAX_ELEMENTS:
            return False
        if self.flattens:
            return x.size == x.shape[0] * self.in_features
        return x.ndim == 2 and x.shape[1] == self.in_features

    def _layout(self, n: int) -> tuple[np.ndarray, int]:
        """(rows of (table field, byte offset in the workspace or the output's marker), the
        workspace's size in bytes) for a batch of ``n`` rows."""
        found = self._layouts.get(n)
        if found is not None:
            return found
        rows, size, last = [], 0, len(self.activations) - 1

        def place(field: int, nbytes: int) -> int:
            nonlocal size
            rows.append((field, size))
            size += -(-nbytes // ALIGN) * ALIGN
            return size

        for layer, activation in enumerate(self.activations):
            at, elements = layout.FIELDS * layer, n * int(self.dims[layer, 0])
            outputs = [at + layout.OUTPUT] if activation is not None else \
                [at + layout.PRE, at + layout.OUTPUT]
            if activation is not None:
                place(at + layout.PRE, elements * self.dtype.itemsize)
                kept = activation[0].for_dtype(self.dtype).kept_dtypes
                for i, kind in enumerate(kept):
                    place(at + layout.KEPT + i, elements * np.dtype(kind or self.dtype).itemsize)
            if layer == last:
                rows += [(field, self._output_offset) for field in outputs]
            else:
                place(outputs[0], elements * self.dtype.itemsize)
                rows += [(field, rows[-1][1]) for field in outputs[1:]]
        if len(self._layouts) >= _SIZES_KEPT:
            self._layouts.clear()
        found = self._layouts[n] = (np.array(rows, np.int64).reshape(-1, 2), max(size, 1))
        return found

    def forward(self, x: np.ndarray) -> tuple[np.ndarray, tuple]:
        """(the output [n, classes], what ``backward`` reads) for an input it ``takes``."""
        n = x.shape[0]
        x2 = x.reshape(n, self.in_features) if self.flattens else x
        offsets, nbytes = self._layout(n)
        table, work = self._template.copy(), np.empty(nbytes, np.uint8)
        out = np.empty((n, self.classes), self.dtype)
        self._forward_call(x2, out, work, table, offsets, self.dims, self.blas,
                           blas_split.NO_SPLIT, self._context)
        return out, (x2, table, work, out, self.params)

    def backward(self, saved: tuple, grad: np.ndarray) -> list:
        """Each parameter's gradient (None for an absent bias) from dL/dout."""
        x2, table, _, out, params = saved
        grad = accel.dense(grad, out.shape, self.dtype)
        grads = [None if p is None else np.empty_like(p) for p in params]
        addresses = np.array([self._address(g) for g in grads if g is not None], np.int64)
        current, spare = self._scratch_for(x2.shape[0])
        self._backward_call(x2, grad, table, self._grad_fields, addresses, self.dims, current,
                            spare, self.blas, blas_split.NO_SPLIT, self._context)
        return grads

    def saved_array(self, saved: tuple, array_id: int) -> tuple[np.ndarray, str] | None:
        """(the array with id ``array_id`` or a view of it, the name of the layer that keeps
        it) if a layer kept it for the backward, as the per-layer graph keeps it: the input
        (the first Linear), the weights after the first (their layers' dL/dsource), the
        output (a last activation reading y)."""
        x2, _, _, out, params = saved
        kept = [(x2, "Linear")] + [(w, "Linear") for w in params[2::2]]
        if self.keeps_output:
            kept.append((out, self.name))
        for array, name in kept:
            if id(array) == array_id or array.base is not None and id(array.base) == array_id:
                return array, name
        return None

    def _scratch_for(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        """Two flat buffers of n × the widest layer (dL/dh and dL/dz in turn)."""
        found = self._scratch.get(n)
        if found is None:
            if len(self._scratch) >= _SIZES_KEPT:
                self._scratch.clear()
            found = self._scratch[n] = (np.empty(n * self.widest, self.dtype),
                                        np.empty(n * self.widest, self.dtype))
        return found


def _formula(op: type, options: dict, dtype: np.dtype):
    """(Pointwise, scalars) of an activation the chain computes by its formula, else None:
    an op with a ``Pointwise`` formula the fused step takes, whose ``forward`` computes it
    (and accepts these options: an invalid one is left to the op to raise)."""
    if not isinstance(op, type) or not issubclass(op, PointwiseOp) or \
            op.forward not in _FORWARD_IS_FORMULA:
        return None
    found = fused.activation_formula(op, options)
    if isinstance(found, str):
        return None
    probe = op()
    probe.needs_input_grad = (True,)
    try:
        probe.forward(np.zeros(1, dtype), **options)
    except (TypeError, ValueError):
        return None
    return found


def _address(array: np.ndarray) -> int:
    return array.__array_interface__["data"][0]
